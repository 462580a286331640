/**
 * Deterministic regtest wallets over the devnet chain, signing with @scure/btc-signer.
 *
 * Each wallet has two keys derived from its seed, SHA-256("alys-light/devnet/bitcoin-wallet/v1/"
 * || purpose || 0x00 || seed || counter) for purpose "p2wpkh" and "p2tr" (the counter skips the
 * negligible out-of-range values): a P2WPKH address (bcrt1q..., receives and takes change) and a
 * BIP86-style P2TR key-path address (bcrt1p..., output key = TapTweak(P) with no script tree).
 * Balances come from the chain's UTXO set; `send` selects coins largest first, pays the fee
 * from the actual signed size (default 2 sat/vB) and returns change above the dust limit.
 */
import { secp256k1, schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { p2tr, p2wpkh, Transaction as BtcSignerTx } from '@scure/btc-signer';
import { bytesToHex, concatBytes, reverse } from '../../protocol/bytes.js';
import type { Hex, Transaction, TxOut } from '../../protocol/types.js';
import { decodeTransaction } from '../../protocol/bitcoin/tx.js';
import { parseBitcoinAddress } from '../../protocol/bridge/btcaddress.js';
import { parsePegIn } from '../../protocol/bridge/pegin.js';
import type { BitcoinBlockInfo } from '../types.js';
import type { RegtestChain, RegtestUtxo } from './chain.js';
import { txWeight } from './block.js';
import { BitcoinChainError } from './errors.js';
import { opReturnScript } from './script.js';

/** btc-signer's network descriptor for regtest. */
export const REGTEST_NETWORK = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef } as const;

/** Core's dust threshold for a P2WPKH output at the default dust relay fee (3 sat/vB). */
export const P2WPKH_DUST = 294n;

export interface WalletOptions {
  /** sat/vB, default 2 */
  feeRate?: number;
}

export interface SendOptions {
  /** Add an `OP_RETURN <data>` output (after the payment, before change). */
  opReturn?: Uint8Array;
  /** sat/vB, overrides the wallet default */
  feeRate?: number;
}

export interface SentTransaction {
  /** internal order */
  txid: Uint8Array;
  tx: Transaction;
  raw: Uint8Array;
  fee: bigint;
  vsize: number;
}

export interface BitcoinWallet {
  readonly p2wpkh: { address: string; scriptPubkey: Uint8Array; publicKey: Uint8Array };
  readonly p2tr: { address: string; scriptPubkey: Uint8Array; internalKey: Uint8Array; outputKey: Uint8Array };
  /** Receiving and change address (the P2WPKH one). */
  readonly address: string;
  readonly scriptPubkey: Uint8Array;
  /** Coins spendable in the next block (confirmed, mature, not spent in the mempool), both addresses. */
  utxos(): RegtestUtxo[];
  /** Sum of {@link utxos}. */
  balance(): bigint;
  /** Coinbase outputs still waiting for maturity. */
  immatureBalance(): bigint;
  /** Pay `sats` to `to` (any regtest address), broadcast, and return the transaction. */
  send(to: string, sats: bigint, opts?: SendOptions): SentTransaction;
  /**
   * A peg-in as Alys expects it (spec 6.2): output 0 pays `sats` to the federation's taproot
   * address, output 1 is `OP_RETURN OP_PUSHBYTES_20 <evm address>`, then change. Refuses (unless
   * `allowUnrecognised`) when `parsePegIn` would not recognise the result, e.g. an address whose
   * 20 bytes happen to be valid UTF-8.
   */
  pegIn(
    evmAddress: Hex | string,
    sats: bigint,
    federationAddress: string,
    opts?: { feeRate?: number; allowUnrecognised?: boolean },
  ): SentTransaction;
  /** Mine `count` blocks paying this wallet. */
  mine(count: number): BitcoinBlockInfo[];
}

export interface FaucetWallet extends BitcoinWallet {
  /** Send `sats` to `address` and mine one block (paying the faucet) so it confirms. */
  fund(address: string, sats: bigint): SentTransaction;
}

const DERIVATION_TAG = 'alys-light/devnet/bitcoin-wallet/v1/';

function deriveSecretKey(seed: Uint8Array, purpose: string): Uint8Array {
  const prefix = concatBytes(new TextEncoder().encode(DERIVATION_TAG + purpose), Uint8Array.of(0), seed);
  for (let counter = 0; ; counter++) {
    const key = sha256(
      concatBytes(
        prefix,
        Uint8Array.of(counter >>> 24, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff),
      ),
    );
    if (secp256k1.utils.isValidSecretKey(key)) return key;
  }
}

function seedBytes(seed: string | Uint8Array): Uint8Array {
  const bytes = typeof seed === 'string' ? new TextEncoder().encode(seed) : seed;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0)
    throw new BitcoinChainError('createWallet: the seed must be a non-empty string or byte array');
  return bytes;
}

function checkSats(sats: bigint, what: string): void {
  if (typeof sats !== 'bigint' || sats <= 0n)
    throw new BitcoinChainError(`${what} must be a positive bigint amount of sats, got ${String(sats)}`);
}

function checkFeeRate(rate: number): number {
  if (typeof rate !== 'number' || !(rate >= 1) || !Number.isFinite(rate))
    throw new BitcoinChainError(`feeRate must be a number >= 1 sat/vB, got ${rate}`);
  return rate;
}

/** Upper bound of a signed input's weight: P2WPKH (72-byte DER+hashtype sig) or P2TR key path. */
function inputWeight(kind: 'p2wpkh' | 'p2tr'): number {
  const base = (32 + 4 + 1 + 4) * 4;
  return kind === 'p2wpkh' ? base + 1 + 1 + 72 + 1 + 33 : base + 1 + 1 + 64;
}

function outputWeight(script: Uint8Array): number {
  return (8 + (script.length < 0xfd ? 1 : 3) + script.length) * 4;
}

/** A wallet with keys derived from `seed` (see the module comment). */
export function createWallet(chain: RegtestChain, seed: string | Uint8Array, opts: WalletOptions = {}): BitcoinWallet {
  const seedB = seedBytes(seed);
  const defaultFeeRate = checkFeeRate(opts.feeRate ?? 2);
  const wpkhKey = deriveSecretKey(seedB, 'p2wpkh');
  const trKey = deriveSecretKey(seedB, 'p2tr');
  const wpkhPub = secp256k1.getPublicKey(wpkhKey, true);
  const trInternal = schnorr.getPublicKey(trKey);
  const wpkhPay = p2wpkh(wpkhPub, REGTEST_NETWORK);
  const trPay = p2tr(trInternal, undefined, REGTEST_NETWORK);
  const wpkhScript = Uint8Array.from(wpkhPay.script);
  const trScript = Uint8Array.from(trPay.script);

  const kindOf = (script: Uint8Array): 'p2wpkh' | 'p2tr' =>
    bytesToHex(script) === bytesToHex(wpkhScript) ? 'p2wpkh' : 'p2tr';

  function spendable(): RegtestUtxo[] {
    return [...chain.spendableUtxos(wpkhScript), ...chain.spendableUtxos(trScript)];
  }

  function immatureBalance(): bigint {
    const next = chain.tipHeight() + 1;
    let sum = 0n;
    for (const u of [...chain.utxos(wpkhScript), ...chain.utxos(trScript)])
      if (u.coinbase && next - u.height < chain.coinbaseMaturity) sum += u.output.value;
    return sum;
  }

  function sign(inputs: RegtestUtxo[], outputs: TxOut[]): { raw: Uint8Array; tx: Transaction } {
    const t = new BtcSignerTx({ allowUnknownOutputs: true, version: 2, lowR: true });
    for (const u of inputs) {
      const kind = kindOf(u.output.scriptPubkey);
      t.addInput({
        txid: reverse(u.txid),
        index: u.vout,
        witnessUtxo: { script: u.output.scriptPubkey, amount: u.output.value },
        ...(kind === 'p2tr' ? { tapInternalKey: trInternal } : {}),
      });
    }
    for (const o of outputs) t.addOutput({ script: o.scriptPubkey, amount: o.value });
    inputs.forEach((u, i) => {
      // zero aux randomness: deterministic BIP340 signatures (allowed by BIP340)
      if (kindOf(u.output.scriptPubkey) === 'p2tr') t.signIdx(trKey, i, undefined, new Uint8Array(32));
      else t.signIdx(wpkhKey, i);
    });
    t.finalize();
    const raw = t.extract();
    return { raw, tx: decodeTransaction(raw, 'wallet tx') };
  }

  function buildAndSend(payments: TxOut[], feeRate: number): SentTransaction {
    const target = payments.reduce((a, o) => a + o.value, 0n);
    const coins = spendable().sort((a, b) =>
      b.output.value > a.output.value ? 1 : b.output.value < a.output.value ? -1 : a.height - b.height,
    );
    const change: TxOut = { value: 0n, scriptPubkey: wpkhScript };
    const baseWeight = (4 + 4 + 1 + 1) * 4 + 2 + payments.reduce((a, o) => a + outputWeight(o.scriptPubkey), 0);
    const feeFor = (weight: number): bigint => BigInt(Math.ceil(Math.ceil(weight / 4) * feeRate));
    const selected: RegtestUtxo[] = [];
    let inputSum = 0n;
    let weight = baseWeight + outputWeight(wpkhScript);
    for (const coin of coins) {
      if (inputSum >= target + feeFor(weight)) break;
      selected.push(coin);
      inputSum += coin.output.value;
      weight += inputWeight(kindOf(coin.output.scriptPubkey));
    }
    if (inputSum < target + feeFor(weight)) {
      const immature = immatureBalance();
      throw new BitcoinChainError(
        `insufficient funds: need ${target} sats plus fee, the wallet can spend ${inputSum} sats now` +
          (immature > 0n ? ` (${immature} more are immature coinbase outputs: mine more blocks)` : '') +
          (chain.mempool().length > 0 ? '; unconfirmed change becomes spendable after the next block' : ''),
      );
    }
    // First pass with the estimate, then pay exactly feeRate x the signed size.
    let fee = feeFor(weight);
    let outputs = withChange(payments, change, inputSum - target - fee);
    let signed = sign(selected, outputs);
    const { vsize } = txWeight(signed.tx);
    // floor: never above the requested rate; feeRate >= 1 keeps it at or above the relay minimum
    const exact = BigInt(Math.floor(vsize * feeRate));
    if (outputs.length > payments.length && exact !== fee) {
      fee = exact;
      outputs = withChange(payments, change, inputSum - target - fee);
      signed = sign(selected, outputs);
    }
    fee = inputSum - outputs.reduce((a, o) => a + o.value, 0n);
    const sent = txWeight(signed.tx);
    const txid = chain.broadcast(signed.raw);
    return { txid, tx: signed.tx, raw: signed.raw, fee, vsize: sent.vsize };
  }

  function withChange(payments: TxOut[], change: TxOut, amount: bigint): TxOut[] {
    return amount >= P2WPKH_DUST ? [...payments, { value: amount, scriptPubkey: change.scriptPubkey }] : payments;
  }

  function scriptOf(address: string): Uint8Array {
    const parsed = typeof address === 'string' ? parseBitcoinAddress(address) : null;
    if (!parsed) throw new BitcoinChainError(`not a Bitcoin address: ${JSON.stringify(address)}`);
    const regtest = parsed.type === 'witness' ? parsed.network === 'regtest' : parsed.network === 'testnet';
    if (!regtest)
      throw new BitcoinChainError(
        `${address} is a ${parsed.network} address; the devnet chain is regtest (bcrt1..., or m/n/2 base58)`,
      );
    return parsed.scriptPubkey;
  }

  const wallet: BitcoinWallet = {
    p2wpkh: { address: wpkhPay.address!, scriptPubkey: wpkhScript, publicKey: wpkhPub },
    p2tr: {
      address: trPay.address!,
      scriptPubkey: trScript,
      internalKey: trInternal,
      outputKey: Uint8Array.from(trPay.tweakedPubkey),
    },
    address: wpkhPay.address!,
    scriptPubkey: wpkhScript,
    utxos: spendable,
    balance: () => spendable().reduce((a, u) => a + u.output.value, 0n),
    immatureBalance,
    send(to, sats, sendOpts = {}) {
      checkSats(sats, 'send amount');
      const payments: TxOut[] = [{ value: sats, scriptPubkey: scriptOf(to) }];
      if (sendOpts.opReturn !== undefined) {
        if (!(sendOpts.opReturn instanceof Uint8Array)) throw new BitcoinChainError('opReturn must be bytes');
        payments.push({ value: 0n, scriptPubkey: opReturnScript(sendOpts.opReturn) });
      }
      return buildAndSend(payments, checkFeeRate(sendOpts.feeRate ?? defaultFeeRate));
    },
    pegIn(evmAddress, sats, federationAddress, pegOpts = {}) {
      checkSats(sats, 'peg-in amount');
      if (typeof evmAddress !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(evmAddress))
        throw new BitcoinChainError(
          `pegIn: expected a 0x-prefixed 20-byte EVM address, got ${JSON.stringify(evmAddress)}`,
        );
      const fedScript = scriptOf(federationAddress);
      if (fedScript[0] !== 0x51 || fedScript.length !== 34)
        throw new BitcoinChainError(`pegIn: ${federationAddress} is not a taproot (bcrt1p...) address`);
      const addressBytes = Uint8Array.from(
        evmAddress
          .slice(2)
          .match(/../g)!
          .map((b) => parseInt(b, 16)),
      );
      const payments: TxOut[] = [
        { value: sats, scriptPubkey: fedScript },
        { value: 0n, scriptPubkey: opReturnScript(addressBytes) },
      ];
      if (!pegOpts.allowUnrecognised) {
        const probe = { version: 2, lockTime: 0, inputs: [], outputs: payments };
        const info = parsePegIn(probe, fedScript);
        if (!info || info.evmAddress !== evmAddress.toLowerCase())
          throw new BitcoinChainError(
            `pegIn: Alys would not recognise a peg-in to ${evmAddress} (its 20 bytes are valid UTF-8, which Alys's extractor rejects; spec 6.2). Pass allowUnrecognised to send it anyway.`,
          );
      }
      return buildAndSend(payments, checkFeeRate(pegOpts.feeRate ?? defaultFeeRate));
    },
    mine: (count) => chain.mine(count, wpkhScript),
  };
  return wallet;
}

/**
 * A miner wallet with spendable coins: mines `coinbaseMaturity + blocks` blocks to itself
 * (default `blocks` 10), so its first `blocks + 1` coinbases are spendable in the next block and
 * several payments can go into one block without waiting for change.
 */
export function createFaucet(
  chain: RegtestChain,
  opts: { seed?: string | Uint8Array; blocks?: number } & WalletOptions = {},
): FaucetWallet {
  const wallet = createWallet(chain, opts.seed ?? 'faucet', opts);
  wallet.mine(chain.coinbaseMaturity + (opts.blocks ?? 10));
  return {
    ...wallet,
    fund(address, sats) {
      const sent = wallet.send(address, sats);
      wallet.mine(1);
      return sent;
    },
  };
}
