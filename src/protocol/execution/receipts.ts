/**
 * Transaction receipts: consensus encoding, receiptsRoot, logs blooms, `eth_getBlockReceipts` decoding
 * and verification, and single-receipt Merkle-Patricia proofs.
 *
 * Encoding (EIP-2718): legacy = rlp([status, cumulativeGasUsed, logsBloom, logs]); typed = type byte ||
 * the same rlp list; a log is rlp([address, [topics…], data]); status 1 is the byte 0x01, status 0 the
 * empty string. receiptsRoot is the ordered trie {rlp(i) -> receipt i}.
 *
 * Supported: post-Byzantium receipts (with `status`) of transaction types 0x0-0x4. Pre-Byzantium receipts
 * (a 32-byte state root instead of the status) and other types (e.g. OP-stack deposit receipts, which
 * carry extra fields) are refused with a DecodeError.
 *
 * Not covered by receiptsRoot, so only cross-checked for consistency: per-receipt `gasUsed` (must be the
 * difference of cumulative gas), the position fields of receipts and logs. `from`, `to`,
 * `contractAddress`, `effectiveGasPrice` are decoded but cannot be verified from receipts alone.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { equalBytes, toHex, type Hex, parseHex } from '../bytes.js';
import { DecodeError, VerificationError } from '../errors.js';
import { readArray, readBoolean, readField, readObject, type JsonRecord } from '../json-fields.js';
import { address, data, parseQuantity, parseQuantityNumber } from './json.js';
import { decodeRlp, encodeBytes, encodeList, encodeUint, rlpToUint, RLP_EMPTY_STRING, type RlpValue } from './rlp.js';
import { indexKey, MerklePatriciaTrie, orderedTrieRoot, verifyMptProof } from './trie.js';

export interface Log {
  /** 20 bytes */
  address: Uint8Array;
  /** 0 to 4 topics of 32 bytes */
  topics: Uint8Array[];
  data: Uint8Array;
}

/** The consensus part of a receipt (what receiptsRoot commits to). */
export interface Receipt {
  /** transaction type 0x0-0x4 */
  type: number;
  /** 1 = success, 0 = reverted */
  status: 0 | 1;
  cumulativeGasUsed: bigint;
  /** 256 bytes */
  logsBloom: Uint8Array;
  logs: Log[];
}

export interface RpcLog extends Log {
  /** index of the log in the block */
  logIndex: number;
  transactionIndex: number;
  transactionHash: Uint8Array;
  blockHash: Uint8Array;
  blockNumber: bigint;
  removed: boolean;
}

/** A receipt as `eth_getBlockReceipts`/`eth_getTransactionReceipt` returns it. */
export interface RpcReceipt extends Receipt {
  logs: RpcLog[];
  transactionHash: Uint8Array;
  transactionIndex: number;
  blockHash: Uint8Array;
  blockNumber: bigint;
  gasUsed: bigint;
  /** claimed, not verifiable from receipts */
  from: Uint8Array | undefined;
  /** claimed, not verifiable from receipts; null for contract creation */
  to: Uint8Array | null;
  contractAddress: Uint8Array | null;
  effectiveGasPrice: bigint | undefined;
}

const MAX_TYPE = 4;
const BLOOM_BYTES = 256;

// ------------------------------------------------------------------ logs bloom

function addToBloom(bloom: Uint8Array, item: Uint8Array): void {
  const h = keccak_256(item);
  for (let i = 0; i < 6; i += 2) {
    const bit = ((h[i]! << 8) | h[i + 1]!) & 2047;
    bloom[BLOOM_BYTES - 1 - (bit >> 3)]! |= 1 << (bit & 7);
  }
}

/** The 2048-bit bloom of some logs (each log adds its address and every topic; Yellow Paper 4.3.1). */
export function logsBloom(logs: readonly Log[]): Uint8Array {
  const bloom = new Uint8Array(BLOOM_BYTES);
  for (const log of logs) {
    addToBloom(bloom, log.address);
    for (const t of log.topics) addToBloom(bloom, t);
  }
  return bloom;
}

/**
 * Whether `bloom` may contain `item` (an address or a topic): false means certainly not, true means
 * maybe (blooms have false positives). A light client uses it to skip blocks without e.g. bridge logs.
 */
export function bloomMayContain(bloom: Uint8Array, item: Uint8Array): boolean {
  if (bloom.length !== BLOOM_BYTES)
    throw new DecodeError('bloom', `expected ${BLOOM_BYTES} bytes, got ${bloom.length}`);
  const h = keccak_256(item);
  for (let i = 0; i < 6; i += 2) {
    const bit = ((h[i]! << 8) | h[i + 1]!) & 2047;
    if ((bloom[BLOOM_BYTES - 1 - (bit >> 3)]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

/** Whether every bit of `logsBloom(logs)` is set in `bloom` (the logs may be covered by it). */
export function bloomCoversLogs(bloom: Uint8Array, logs: readonly Log[]): boolean {
  const need = logsBloom(logs);
  for (let i = 0; i < BLOOM_BYTES; i++) if ((bloom[i]! & need[i]!) !== need[i]) return false;
  return true;
}

// ------------------------------------------------------------------ consensus encoding

function encodeLog(log: Log): Uint8Array {
  return encodeList([encodeBytes(log.address), encodeList(log.topics.map(encodeBytes)), encodeBytes(log.data)]);
}

/** Consensus encoding of a receipt (the value stored in the receipts trie). */
export function encodeReceipt(r: Receipt): Uint8Array {
  if (!Number.isInteger(r.type) || r.type < 0 || r.type > MAX_TYPE)
    throw new RangeError(`unsupported receipt type ${r.type}`);
  const body = encodeList([
    r.status === 1 ? Uint8Array.of(1) : RLP_EMPTY_STRING,
    encodeUint(r.cumulativeGasUsed),
    encodeBytes(r.logsBloom),
    encodeList(r.logs.map(encodeLog)),
  ]);
  if (r.type === 0) return body;
  const out = new Uint8Array(body.length + 1);
  out[0] = r.type;
  out.set(body, 1);
  return out;
}

function bytesItem(v: RlpValue, path: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new DecodeError(path, 'expected a byte string, got a list');
  if (length !== undefined && v.length !== length)
    throw new DecodeError(path, `expected ${length} bytes, got ${v.length}`);
  return v;
}

function listItem(v: RlpValue, path: string, length?: number): RlpValue[] {
  if (v instanceof Uint8Array) throw new DecodeError(path, 'expected a list, got a byte string');
  if (length !== undefined && v.length !== length)
    throw new DecodeError(path, `expected a list of ${length} items, got ${v.length}`);
  return v;
}

/** Strictly decode a consensus-encoded receipt (inverse of {@link encodeReceipt}). */
export function decodeReceipt(bytes: Uint8Array, label = 'receipt'): Receipt {
  if (bytes.length === 0) throw new DecodeError(label, 'empty receipt');
  let type = 0;
  let body = bytes;
  if (bytes[0]! < 0xc0) {
    type = bytes[0]!;
    if (type === 0 || type > MAX_TYPE)
      throw new DecodeError(`${label}@0`, `unsupported receipt type byte 0x${type.toString(16)}`);
    body = bytes.subarray(1);
  }
  const fields = listItem(decodeRlp(body, label), label, 4);
  const statusBytes = bytesItem(fields[0]!, `${label}.status`);
  let status: 0 | 1;
  if (statusBytes.length === 0) status = 0;
  else if (statusBytes.length === 1 && statusBytes[0] === 1) status = 1;
  else if (statusBytes.length === 32)
    throw new DecodeError(`${label}.status`, 'pre-Byzantium receipt (state root instead of status) is not supported');
  else throw new DecodeError(`${label}.status`, 'status must be empty (0) or 0x01 (1)');
  const logs = listItem(fields[3]!, `${label}.logs`).map((l, i) => {
    const p = `${label}.logs[${i}]`;
    const [addr, topics, logData] = listItem(l, p, 3) as [RlpValue, RlpValue, RlpValue];
    const t = listItem(topics, `${p}.topics`);
    if (t.length > 4) throw new DecodeError(`${p}.topics`, 'more than 4 topics');
    return {
      address: bytesItem(addr, `${p}.address`, 20).slice(),
      topics: t.map((x, j) => bytesItem(x, `${p}.topics[${j}]`, 32).slice()),
      data: bytesItem(logData, `${p}.data`).slice(),
    };
  });
  return {
    type,
    status,
    cumulativeGasUsed: rlpToUint(fields[1]!, `${label}.cumulativeGasUsed`, 8),
    logsBloom: bytesItem(fields[2]!, `${label}.logsBloom`, BLOOM_BYTES).slice(),
    logs,
  };
}

/** Root of the receipts trie {rlp(i) -> encodeReceipt(receipts[i])}. */
export function receiptsRoot(receipts: readonly Receipt[]): Uint8Array {
  return orderedTrieRoot(receipts.map(encodeReceipt));
}

// ------------------------------------------------------------------ JSON-RPC

function optionalAddress(o: JsonRecord, key: string, path: string): Uint8Array | null {
  const v = o[key];
  return v === undefined || v === null ? null : address(v, `${path}.${key}`);
}

function decodeRpcLog(json: unknown, path: string): RpcLog {
  const o = readObject(json, path);
  const topics = readArray(readField(o, 'topics', path), `${path}.topics`).map((t, i) =>
    data(t, `${path}.topics[${i}]`, 32),
  );
  if (topics.length > 4) throw new DecodeError(`${path}.topics`, 'more than 4 topics');
  return {
    address: address(readField(o, 'address', path), `${path}.address`),
    topics,
    data: data(readField(o, 'data', path), `${path}.data`),
    logIndex: parseQuantityNumber(readField(o, 'logIndex', path), `${path}.logIndex`),
    transactionIndex: parseQuantityNumber(readField(o, 'transactionIndex', path), `${path}.transactionIndex`),
    transactionHash: data(readField(o, 'transactionHash', path), `${path}.transactionHash`, 32),
    blockHash: data(readField(o, 'blockHash', path), `${path}.blockHash`, 32),
    blockNumber: parseQuantity(readField(o, 'blockNumber', path), `${path}.blockNumber`, 8),
    removed: o['removed'] === undefined ? false : readBoolean(o['removed'], `${path}.removed`),
  };
}

/** Strictly decode one JSON-RPC receipt object. `type` and `status` are required. */
export function decodeRpcReceipt(json: unknown, path = '$'): RpcReceipt {
  const o = readObject(json, path);
  if (o['root'] !== undefined && o['status'] === undefined)
    throw new DecodeError(`${path}.root`, 'pre-Byzantium receipt (state root instead of status) is not supported');
  const type = parseQuantityNumber(readField(o, 'type', path), `${path}.type`);
  if (type > MAX_TYPE)
    throw new DecodeError(`${path}.type`, `unsupported receipt type 0x${type.toString(16)} (supported: 0x0-0x4)`);
  const status = parseQuantity(readField(o, 'status', path), `${path}.status`, 1);
  if (status > 1n) throw new DecodeError(`${path}.status`, 'must be 0x0 or 0x1');
  return {
    type,
    status: status === 1n ? 1 : 0,
    cumulativeGasUsed: parseQuantity(readField(o, 'cumulativeGasUsed', path), `${path}.cumulativeGasUsed`, 8),
    logsBloom: data(readField(o, 'logsBloom', path), `${path}.logsBloom`, BLOOM_BYTES),
    logs: readArray(readField(o, 'logs', path), `${path}.logs`).map((l, i) => decodeRpcLog(l, `${path}.logs[${i}]`)),
    transactionHash: data(readField(o, 'transactionHash', path), `${path}.transactionHash`, 32),
    transactionIndex: parseQuantityNumber(readField(o, 'transactionIndex', path), `${path}.transactionIndex`),
    blockHash: data(readField(o, 'blockHash', path), `${path}.blockHash`, 32),
    blockNumber: parseQuantity(readField(o, 'blockNumber', path), `${path}.blockNumber`, 8),
    gasUsed: parseQuantity(readField(o, 'gasUsed', path), `${path}.gasUsed`, 8),
    from: o['from'] === undefined ? undefined : address(o['from'], `${path}.from`),
    to: optionalAddress(o, 'to', path),
    contractAddress: optionalAddress(o, 'contractAddress', path),
    effectiveGasPrice:
      o['effectiveGasPrice'] === undefined
        ? undefined
        : parseQuantity(o['effectiveGasPrice'], `${path}.effectiveGasPrice`),
  };
}

/** Strictly decode an `eth_getBlockReceipts` result (an array of receipt objects). */
export function decodeRpcBlockReceipts(json: unknown, path = '$'): RpcReceipt[] {
  return readArray(json, path).map((r, i) => decodeRpcReceipt(r, `${path}[${i}]`));
}

/** What a block commits to about its receipts. A verified RpcBlockHeader satisfies it. */
export interface ReceiptsCommitment {
  receiptsRoot: Uint8Array;
  /** block hash; when given, every receipt and log must name it */
  hash?: Uint8Array;
  /** block number; when given, every receipt and log must name it */
  number?: bigint;
  /** when given, must equal the last cumulativeGasUsed */
  gasUsed?: bigint;
  /** when given, must equal the OR of the receipts' blooms */
  logsBloom?: Uint8Array;
}

function fail(check: string, problem: string): never {
  throw new VerificationError(check, problem, {
    details: 'the receipts do not belong to this block or were altered; do not use them',
  });
}

/**
 * Verify decoded block receipts against a trusted block (its receiptsRoot, and optionally hash, number,
 * gasUsed, logsBloom, and the block's transaction hashes in order).
 *
 * Checks: receipts.root, receipts.logs-bloom (each receipt's bloom is the bloom of its logs),
 * receipts.block-bloom, receipts.gas-used (per-receipt gasUsed = cumulative difference, cumulative
 * non-decreasing, last = block gasUsed), receipts.position (transactionIndex, blockHash, blockNumber),
 * receipts.log-position (block-wide logIndex 0,1,2…, and each log's transaction/block fields),
 * receipts.tx-hash.
 */
export function verifyBlockReceipts(
  block: ReceiptsCommitment,
  receipts: readonly RpcReceipt[],
  transactionHashes?: readonly Uint8Array[],
): void {
  const blockHash = block.hash ?? receipts[0]?.blockHash;
  const blockNumber = block.number ?? receipts[0]?.blockNumber;
  if (transactionHashes && transactionHashes.length !== receipts.length)
    fail('receipts.tx-hash', `${receipts.length} receipts for ${transactionHashes.length} transactions`);
  let previousCumulative = 0n;
  let logIndex = 0;
  const combined = new Uint8Array(BLOOM_BYTES);
  receipts.forEach((r, i) => {
    if (r.transactionIndex !== i)
      fail('receipts.position', `receipt at position ${i} claims transactionIndex ${r.transactionIndex}`);
    if (!equalBytes(r.blockHash, blockHash!) || r.blockNumber !== blockNumber)
      fail('receipts.position', `receipt ${i} names block ${r.blockNumber} ${toHex(r.blockHash)}, not this block`);
    if (transactionHashes && !equalBytes(r.transactionHash, transactionHashes[i]!))
      fail(
        'receipts.tx-hash',
        `receipt ${i} is for transaction ${toHex(r.transactionHash)}, the block's is ${toHex(transactionHashes[i]!)}`,
      );
    if (r.cumulativeGasUsed < previousCumulative || r.cumulativeGasUsed - previousCumulative !== r.gasUsed)
      fail(
        'receipts.gas-used',
        `receipt ${i}: gasUsed ${r.gasUsed} is not cumulativeGasUsed ${r.cumulativeGasUsed} minus the previous ${previousCumulative}`,
      );
    previousCumulative = r.cumulativeGasUsed;
    for (const log of r.logs) {
      if (log.logIndex !== logIndex)
        fail('receipts.log-position', `log of receipt ${i} has logIndex ${log.logIndex}, expected ${logIndex}`);
      logIndex++;
      if (
        log.transactionIndex !== i ||
        !equalBytes(log.transactionHash, r.transactionHash) ||
        !equalBytes(log.blockHash, r.blockHash) ||
        log.blockNumber !== r.blockNumber ||
        log.removed
      )
        fail(
          'receipts.log-position',
          `log ${log.logIndex} does not name receipt ${i}'s transaction and block (or is marked removed)`,
        );
    }
    const bloom = logsBloom(r.logs);
    if (!equalBytes(bloom, r.logsBloom))
      fail('receipts.logs-bloom', `receipt ${i}: logsBloom is not the bloom of its logs`);
    for (let b = 0; b < BLOOM_BYTES; b++) combined[b]! |= bloom[b]!;
  });
  if (block.gasUsed !== undefined && previousCumulative !== block.gasUsed)
    fail(
      'receipts.gas-used',
      `receipts use ${previousCumulative} gas in total, the block header says ${block.gasUsed}`,
    );
  if (block.logsBloom !== undefined && !equalBytes(combined, block.logsBloom))
    fail('receipts.block-bloom', 'the OR of the receipt blooms is not the block logsBloom');
  const root = receiptsRoot(receipts);
  if (!equalBytes(root, block.receiptsRoot))
    fail(
      'receipts.root',
      `receipts have root ${toHex(root)}, the block's receiptsRoot is ${toHex(block.receiptsRoot)}`,
    );
}

// ------------------------------------------------------------------ single-receipt proofs

/**
 * Proof that `receipts[index]` is in the receipts trie: the trie nodes on the path of rlp(index), root
 * first (inline nodes not repeated, like geth). Verify with {@link verifyReceiptProof}.
 */
export function receiptProof(receipts: readonly Receipt[], index: number): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= receipts.length)
    throw new RangeError(`receipt index ${index} out of range (block has ${receipts.length} receipts)`);
  const trie = new MerklePatriciaTrie();
  receipts.forEach((r, i) => {
    trie.put(indexKey(i), encodeReceipt(r));
  });
  return trie.prove(indexKey(index));
}

/**
 * Verify a single-receipt proof against a trusted receiptsRoot and return the decoded receipt (with its
 * logs). Throws VerificationError `receipts.proof` if the proof is invalid, proves absence, or the proven
 * value is not a well-formed receipt.
 */
export function verifyReceiptProof(root: Uint8Array | Hex, index: number, proof: readonly Uint8Array[]): Receipt {
  const rootBytes =
    typeof root === 'string' ? parseHex(root, 'receiptsRoot', { prefix: 'required', length: 32 }) : root;
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`invalid receipt index ${index}`);
  const value = verifyMptProof(rootBytes, indexKey(index), proof, 'receipts.proof');
  if (value === null)
    throw new VerificationError('receipts.proof', `the proof shows that the block has no receipt at index ${index}`);
  try {
    return decodeReceipt(value, `receipt[${index}]`);
  } catch (e) {
    if (e instanceof DecodeError)
      throw new VerificationError('receipts.proof', `the proven receipt ${index} is malformed (${e.message})`, {
        cause: e,
      });
    throw e;
  }
}
