/**
 * Raw transactions as the devnet EVM accepts them: decoding with geth's stateless checks (what geth
 * checks before its pool), the fee fields of any transaction type, and geth's wording for what
 * ethereumjs's runTx refuses.
 */
import { Capability, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx';
import { Address } from '@ethereumjs/util';
import type { Hex } from '../../protocol/types.js';
import { keccak256, type DevnetCommon } from './crypto.js';
import { RpcCode, RpcError } from './errors.js';
import { hex } from './hex.js';

const MAX_INITCODE_SIZE = 49_152;

/** A decoded, signature-checked transaction with its sender recovered once and its hash. */
export interface DecodedTx {
  tx: TypedTransaction;
  from: Hex;
  hash: Hex;
}

/** The price per gas a transaction pays in a block of `baseFee` (EIP-1559: base fee + tip, capped). */
export function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint): bigint {
  if (tx.supports(Capability.EIP1559FeeMarket)) {
    const t = tx as TypedTransaction & { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    const viaTip = baseFee + t.maxPriorityFeePerGas;
    return viaTip < t.maxFeePerGas ? viaTip : t.maxFeePerGas;
  }
  return (tx as TypedTransaction & { gasPrice: bigint }).gasPrice;
}

/** The fee cap: maxFeePerGas, or gasPrice for legacy and access-list transactions. */
export function maxFeeOf(tx: TypedTransaction): bigint {
  return tx.supports(Capability.EIP1559FeeMarket)
    ? (tx as unknown as { maxFeePerGas: bigint }).maxFeePerGas
    : (tx as unknown as { gasPrice: bigint }).gasPrice;
}

/** The tip cap: maxPriorityFeePerGas, or gasPrice for legacy and access-list transactions. */
export function tipCapOf(tx: TypedTransaction): bigint {
  return tx.supports(Capability.EIP1559FeeMarket)
    ? (tx as unknown as { maxPriorityFeePerGas: bigint }).maxPriorityFeePerGas
    : (tx as unknown as { gasPrice: bigint }).gasPrice;
}

/** geth's error wording for what ethereumjs's runTx refuses (the transaction is invalid, not reverted). */
export function gethTxError(e: unknown, tx: TypedTransaction | undefined, from: Hex | undefined): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/doesn't have enough funds|insufficient/i.test(msg)) {
    const have = /only has: (\d+)/.exec(msg)?.[1];
    const want = /cost is: (\d+)/.exec(msg)?.[1];
    return `insufficient funds for gas * price + value: address ${from ?? '?'} have ${have ?? '?'} want ${want ?? '?'}`;
  }
  if (/correct nonce/.test(msg)) {
    const state = /account has nonce of: (\d+)/.exec(msg)?.[1];
    const txNonce = /tx has nonce of: (\d+)/.exec(msg)?.[1];
    if (state !== undefined && txNonce !== undefined && BigInt(txNonce) < BigInt(state))
      return `nonce too low: address ${from ?? '?'}, tx: ${txNonce} state: ${state}`;
    return `nonce too high: address ${from ?? '?'}, tx: ${txNonce ?? '?'} state: ${state ?? '?'}`;
  }
  if (/INTRINSIC_GAS_TOO_LOW|lower than the minimum gas limit/.test(msg)) {
    const have = /tx gas limit (\d+)/.exec(msg)?.[1];
    const need = /minimum gas limit of (\d+)/.exec(msg)?.[1];
    return `intrinsic gas too low: gas ${have ?? tx?.gasLimit ?? '?'}, minimum needed ${need ?? '?'}`;
  }
  if (/less than the block's baseFeePerGas/.test(msg)) {
    const fee = tx === undefined ? '?' : maxFeeOf(tx).toString();
    const base = /baseFeePerGas \((\d+)\)/.exec(msg)?.[1];
    return `max fee per gas less than block base fee: address ${from ?? '?'}, maxFeePerGas: ${fee}, baseFee: ${base ?? '?'}`;
  }
  if (/not EOA/.test(msg)) return `sender not an eoa: address ${from ?? '?'}`;
  if (/higher gas limit than the remaining gas|gas limit.*block/i.test(msg)) return 'gas limit reached';
  return msg.replace(/ \(tx type=.*$/s, '');
}

/**
 * Decode and check a raw transaction on its own (no state): what geth checks before the pool.
 * `knownSender`: the sender another thread already recovered from these bytes (PayloadAttributes.senders).
 * Throws RpcError with geth's message.
 */
export function decodeRawTransaction(common: DevnetCommon, raw: Uint8Array, knownSender?: Uint8Array): DecodedTx {
  if (!(raw instanceof Uint8Array) || raw.length === 0)
    throw new RpcError(RpcCode.server, 'typed transaction too short');
  const first = raw[0]!;
  if (first <= 0x7f && first !== 1 && first !== 2) throw new RpcError(RpcCode.server, 'transaction type not supported');
  let tx: TypedTransaction;
  try {
    // Not frozen yet: the sender is computed once below and pinned on the object first.
    tx = createTxFromRLP(raw, { common, freeze: false });
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    if (/chain ID|chainId/i.test(m)) throw new RpcError(RpcCode.server, 'invalid chain id for signer');
    throw new RpcError(RpcCode.server, `rlp: ${m.replace(/ \(tx type=.*$/s, '')}`);
  }
  // @ethereumjs/rlp and the tx constructors are strict (no trailing bytes, minimal lengths, no leading
  // zeros in integers), so the raw bytes are the canonical encoding: hash them directly instead of
  // re-serialising (tx.hash() would), and build the transactions trie from them.
  if (!tx.isSigned()) throw new RpcError(RpcCode.server, 'invalid transaction v, r, s values');
  if (tx.type === 0 && !tx.supports(Capability.EIP155ReplayProtection))
    throw new RpcError(RpcCode.server, 'only replay-protected (EIP-155) transactions allowed over RPC');
  let from: Hex;
  try {
    // ethereumjs hashes the public key with noble's keccak on every getSenderAddress() call (runTx
    // calls it again); recover once, hash natively, and pin the result on the transaction.
    const sender = new Address(knownSender ?? keccak256(tx.getSenderPublicKey()).subarray(12));
    Object.defineProperty(tx, 'getSenderAddress', { value: () => sender });
    Object.freeze(tx);
    from = hex(sender.bytes);
  } catch {
    throw new RpcError(RpcCode.server, 'invalid sender');
  }
  if (tx.to === undefined && tx.data.length > MAX_INITCODE_SIZE)
    throw new RpcError(
      RpcCode.server,
      `max initcode size exceeded: code size ${tx.data.length} limit ${MAX_INITCODE_SIZE}`,
    );
  if (tx.supports(Capability.EIP1559FeeMarket) && tipCapOf(tx) > maxFeeOf(tx))
    throw new RpcError(
      RpcCode.server,
      `max priority fee per gas higher than max fee per gas: address ${from}, maxPriorityFeePerGas: ${tipCapOf(tx)}, maxFeePerGas: ${maxFeeOf(tx)}`,
    );
  return { tx, from, hash: hex(keccak256(raw)) };
}
