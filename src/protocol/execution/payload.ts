/**
 * Recomputing an Alys `ExecutionPayloadCapella`'s EL block hash (alys-protocol.md 5.2, standard Shanghai
 * rules): the payload plus the post-merge constants (ommersHash = keccak(rlp([])), difficulty 0,
 * nonce 0, mixHash = prev_randao) make the 17-field Shanghai header; transactionsRoot and withdrawalsRoot
 * are ordered-trie roots over the raw transactions and the RLP withdrawals.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { equalBytes, decodePrefixedHex, parseHex, toHex, type Hex } from '../bytes.js';
import { DecodeError, VerificationError } from '../errors.js';
import type { ExecutionPayloadCapella, Withdrawal } from '../types.js';
import { EMPTY_OMMERS_HASH, encodeExecutionHeader, type ExecutionBlockHeader } from './header.js';
import { readArray, readField, readObject } from '../json-fields.js';
import { address, dataHex, parseQuantity } from './json.js';
import { encodeBytes, encodeList, encodeUint } from './rlp.js';
import { orderedTrieRoot } from './trie.js';

const ZERO_NONCE = new Uint8Array(8);

function hexField(value: string, path: string, length?: number, maxLength?: number): Uint8Array {
  return parseHex(value, path, {
    prefix: 'required',
    ...(length === undefined ? {} : { length }),
    ...(maxLength === undefined ? {} : { maxLength }),
  });
}

/** Raw transaction bytes from 0x hex (or as given); empty transactions are refused. */
function rawTransactionBytes(tx: Hex | Uint8Array, path: string): Uint8Array {
  // Fast path; on failure, parseHex produces the precise DecodeError.
  const bytes = typeof tx === 'string' ? (decodePrefixedHex(tx) ?? hexField(tx, path)) : tx;
  if (bytes.length === 0) throw new DecodeError(path, 'empty transaction');
  return bytes;
}

/** Root of the trie {rlp(i) -> raw EIP-2718 transaction i}. */
export function transactionsRoot(transactions: readonly (Hex | Uint8Array)[]): Uint8Array {
  const raw = new Array<Uint8Array>(transactions.length);
  for (let i = 0; i < transactions.length; i++) raw[i] = rawTransactionBytes(transactions[i]!, `transactions[${i}]`);
  return orderedTrieRoot(raw);
}

/** rlp([index, validatorIndex, address, amount]) of one withdrawal (amount in Gwei). */
export function encodeWithdrawal(w: Withdrawal, path = 'withdrawal'): Uint8Array {
  return encodeList([
    encodeUint(w.index),
    encodeUint(w.validatorIndex),
    encodeBytes(hexField(w.address, `${path}.address`, 20)),
    encodeUint(w.amount),
  ]);
}

/** Root of the trie {rlp(i) -> rlp(withdrawal i)}. */
export function withdrawalsRoot(withdrawals: readonly Withdrawal[]): Uint8Array {
  return orderedTrieRoot(withdrawals.map((w, i) => encodeWithdrawal(w, `withdrawals[${i}]`)));
}

/**
 * The Shanghai header a payload stands for. Throws DecodeError (path `payload.<field>`) if a hex
 * field has the wrong length (extraData over 32 bytes, as Lighthouse's MainnetEthSpec refuses).
 */
export function payloadToHeader(payload: ExecutionPayloadCapella): ExecutionBlockHeader {
  for (const f of ['blockNumber', 'gasLimit', 'gasUsed', 'timestamp'] as const)
    checkRange(payload[f], `payload.${f}`, 64);
  checkRange(payload.baseFeePerGas, 'payload.baseFeePerGas', 256);
  return {
    parentHash: hexField(payload.parentHash, 'payload.parentHash', 32),
    ommersHash: EMPTY_OMMERS_HASH,
    beneficiary: hexField(payload.feeRecipient, 'payload.feeRecipient', 20),
    stateRoot: hexField(payload.stateRoot, 'payload.stateRoot', 32),
    transactionsRoot: transactionsRootOfPayload(payload),
    receiptsRoot: hexField(payload.receiptsRoot, 'payload.receiptsRoot', 32),
    logsBloom: hexField(payload.logsBloom, 'payload.logsBloom', 256),
    difficulty: 0n,
    number: payload.blockNumber,
    gasLimit: payload.gasLimit,
    gasUsed: payload.gasUsed,
    timestamp: payload.timestamp,
    extraData: hexField(payload.extraData, 'payload.extraData', undefined, 32),
    mixHash: hexField(payload.prevRandao, 'payload.prevRandao', 32),
    nonce: ZERO_NONCE,
    baseFeePerGas: payload.baseFeePerGas,
    withdrawalsRoot: orderedTrieRoot(
      payload.withdrawals.map((w, i) => encodeWithdrawal(w, `payload.withdrawals[${i}]`)),
    ),
  };
}

function checkRange(value: bigint, path: string, bits: number): void {
  if (value < 0n || value >> BigInt(bits) !== 0n)
    throw new DecodeError(path, `not an unsigned ${bits}-bit integer: ${value}`);
}

function transactionsRootOfPayload(payload: ExecutionPayloadCapella): Uint8Array {
  const txs = payload.transactions;
  const raw = new Array<Uint8Array>(txs.length);
  for (let i = 0; i < txs.length; i++) raw[i] = rawTransactionBytes(txs[i]!, `payload.transactions[${i}]`);
  return orderedTrieRoot(raw);
}

/** keccak256(rlp(Shanghai header of the payload)), as 0x hex. */
export function computePayloadBlockHash(payload: ExecutionPayloadCapella): Hex {
  return toHex(keccak_256(encodeExecutionHeader(payloadToHeader(payload))));
}

/**
 * Check `payload.blockHash` against the recomputed hash. Throws VerificationError `payload.block-hash`.
 * This commits every payload field and transaction to the EL block hash; it says nothing about the
 * state root or receipts (those need execution).
 */
export function verifyPayloadBlockHash(payload: ExecutionPayloadCapella): void {
  const claimed = hexField(payload.blockHash, 'payload.blockHash', 32);
  const computed = keccak_256(encodeExecutionHeader(payloadToHeader(payload)));
  if (!equalBytes(claimed, computed))
    throw new VerificationError(
      'payload.block-hash',
      `execution payload of block ${payload.blockNumber} claims block_hash ${payload.blockHash}, but its fields hash to ${toHex(computed)}`,
      {
        details:
          'some payload field or transaction was altered, or the payload is not a Shanghai (Capella) payload; do not import it',
      },
    );
}

/**
 * Strictly decode an Engine API `ExecutionPayloadV2` JSON object (camelCase, QUANTITY hex numbers,
 * withdrawals required: a V1 payload without them is refused) into the payload model.
 */
export function decodeEnginePayloadV2(json: unknown, path = '$'): ExecutionPayloadCapella {
  const o = readObject(json, path);
  const hex = (key: string, length?: number, maxLength?: number): Hex => {
    const v = readField(o, key, path);
    if (maxLength !== undefined) return toHex(parseHex(v, `${path}.${key}`, { prefix: 'required', maxLength }));
    return dataHex(v, `${path}.${key}`, length);
  };
  const qty = (key: string, max: number) => parseQuantity(readField(o, key, path), `${path}.${key}`, max);
  const txs = readArray(readField(o, 'transactions', path), `${path}.transactions`).map((t, i) => {
    const p = `${path}.transactions[${i}]`;
    const h = dataHex(t, p);
    if (h.length === 2) throw new DecodeError(p, 'empty transaction');
    return h;
  });
  const withdrawals = readArray(readField(o, 'withdrawals', path), `${path}.withdrawals`).map((w, i) =>
    decodeRpcWithdrawal(w, `${path}.withdrawals[${i}]`),
  );
  return {
    parentHash: hex('parentHash', 32),
    feeRecipient: hex('feeRecipient', 20),
    stateRoot: hex('stateRoot', 32),
    receiptsRoot: hex('receiptsRoot', 32),
    logsBloom: hex('logsBloom', 256),
    prevRandao: hex('prevRandao', 32),
    blockNumber: qty('blockNumber', 8),
    gasLimit: qty('gasLimit', 8),
    gasUsed: qty('gasUsed', 8),
    timestamp: qty('timestamp', 8),
    extraData: hex('extraData', undefined, 32),
    baseFeePerGas: qty('baseFeePerGas', 32),
    blockHash: hex('blockHash', 32),
    transactions: txs,
    withdrawals,
  };
}

/** A JSON-RPC / Engine API withdrawal object {index, validatorIndex, address, amount} (QUANTITYs, amount in Gwei). */
export function decodeRpcWithdrawal(json: unknown, path: string): Withdrawal {
  const o = readObject(json, path);
  return {
    index: parseQuantity(readField(o, 'index', path), `${path}.index`, 8),
    validatorIndex: parseQuantity(readField(o, 'validatorIndex', path), `${path}.validatorIndex`, 8),
    address: toHex(address(readField(o, 'address', path), `${path}.address`)),
    amount: parseQuantity(readField(o, 'amount', path), `${path}.amount`, 8),
  };
}
