/**
 * Execution-layer block headers: the RLP header, its keccak hash, and strict decoding of the header
 * part of an `eth_getBlockByNumber`/`eth_getBlockByHash` result.
 *
 * Which trailing fields a header has depends on the fork, and is read from field presence, in order:
 * baseFeePerGas (London), withdrawalsRoot (Shanghai), blobGasUsed + excessBlobGas + parentBeaconBlockRoot
 * (Cancun), requestsHash (Prague). A later field without all earlier ones is refused. Alys runs Shanghai
 * from genesis and no Cancun (alys-protocol.md 5.2); the later fields are here for Ethereum RPC data.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { toHex, type Hex } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { readField, readObject, type JsonRecord } from '../json-fields.js';
import { data, parseQuantity } from './json.js';
import { encodeBytes, encodeList, encodeUint, RLP_EMPTY_LIST } from './rlp.js';

/** keccak256(rlp([])) = 0x1dcc4de8…9347: the ommers hash of every post-merge block (alys-protocol.md 5.2). */
export const EMPTY_OMMERS_HASH: Uint8Array = keccak_256(RLP_EMPTY_LIST);

/** A decoded execution block header. Hashes/roots/addresses are raw bytes; integers are bigint. */
export interface ExecutionBlockHeader {
  parentHash: Uint8Array;
  /** `sha3Uncles` in JSON-RPC */
  ommersHash: Uint8Array;
  /** `miner` in JSON-RPC, `fee_recipient` in payloads; 20 bytes */
  beneficiary: Uint8Array;
  stateRoot: Uint8Array;
  transactionsRoot: Uint8Array;
  receiptsRoot: Uint8Array;
  /** 256 bytes */
  logsBloom: Uint8Array;
  difficulty: bigint;
  number: bigint;
  gasLimit: bigint;
  gasUsed: bigint;
  timestamp: bigint;
  extraData: Uint8Array;
  /** `prev_randao` after the merge */
  mixHash: Uint8Array;
  /** 8 bytes */
  nonce: Uint8Array;
  baseFeePerGas?: bigint | undefined;
  withdrawalsRoot?: Uint8Array | undefined;
  blobGasUsed?: bigint | undefined;
  excessBlobGas?: bigint | undefined;
  parentBeaconBlockRoot?: Uint8Array | undefined;
  requestsHash?: Uint8Array | undefined;
}

/** A header decoded from JSON-RPC, with the hash the endpoint claims for it (not yet checked). */
export interface RpcBlockHeader extends ExecutionBlockHeader {
  hash: Uint8Array;
}

/**
 * Which optional trailing fields are present, in fork order; throws if a later one is present
 * without an earlier one (such a header has no valid encoding).
 */
function forkFieldCount(h: ExecutionBlockHeader): number {
  const present = [
    h.baseFeePerGas !== undefined,
    h.withdrawalsRoot !== undefined,
    h.blobGasUsed !== undefined && h.excessBlobGas !== undefined && h.parentBeaconBlockRoot !== undefined,
    h.requestsHash !== undefined,
  ];
  const cancunPartial =
    h.blobGasUsed !== undefined || h.excessBlobGas !== undefined || h.parentBeaconBlockRoot !== undefined;
  if (cancunPartial && !present[2])
    throw new RangeError('header has only some of blobGasUsed/excessBlobGas/parentBeaconBlockRoot');
  let count = 0;
  while (count < present.length && present[count]) count++;
  for (let i = count; i < present.length; i++)
    if (present[i])
      throw new RangeError(`header has a fork field without the fields of the earlier forks (group ${i})`);
  return count;
}

/** RLP of the header (the preimage of the block hash). */
export function encodeExecutionHeader(h: ExecutionBlockHeader): Uint8Array {
  const groups = forkFieldCount(h);
  const items: Uint8Array[] = [
    encodeBytes(h.parentHash),
    encodeBytes(h.ommersHash),
    encodeBytes(h.beneficiary),
    encodeBytes(h.stateRoot),
    encodeBytes(h.transactionsRoot),
    encodeBytes(h.receiptsRoot),
    encodeBytes(h.logsBloom),
    encodeUint(h.difficulty),
    encodeUint(h.number),
    encodeUint(h.gasLimit),
    encodeUint(h.gasUsed),
    encodeUint(h.timestamp),
    encodeBytes(h.extraData),
    encodeBytes(h.mixHash),
    encodeBytes(h.nonce),
  ];
  if (groups >= 1) items.push(encodeUint(h.baseFeePerGas!));
  if (groups >= 2) items.push(encodeBytes(h.withdrawalsRoot!));
  if (groups >= 3)
    items.push(encodeUint(h.blobGasUsed!), encodeUint(h.excessBlobGas!), encodeBytes(h.parentBeaconBlockRoot!));
  if (groups >= 4) items.push(encodeBytes(h.requestsHash!));
  return encodeList(items);
}

/** keccak256(rlp(header)): the execution block hash. */
export function hashExecutionHeader(h: ExecutionBlockHeader): Uint8Array {
  return keccak_256(encodeExecutionHeader(h));
}

/** The block hash of a decoded header, as 0x hex. */
export function computeRpcBlockHash(header: ExecutionBlockHeader): Hex {
  return toHex(hashExecutionHeader(header));
}

const U64 = 8;
const U256 = 32;

function optional<T>(obj: JsonRecord, key: string, read: (v: unknown, p: string) => T, path: string): T | undefined {
  const v = obj[key];
  return v === undefined ? undefined : read(v, `${path}.${key}`);
}

/**
 * Decode the header fields of an `eth_getBlockBy*` result (the `result` object, not the JSON-RPC envelope).
 * `transactions`, `withdrawals`, `uncles`, `size`, `totalDifficulty` are not read here (see verifyRpcBlock).
 * Pending blocks (null `hash`/`number`/`nonce`) are refused. `extraData` length is not limited (the
 * 32-byte limit is a mainnet/Alys consensus rule; use the payload path for Alys blocks).
 */
export function decodeRpcBlockHeader(json: unknown, path = '$'): RpcBlockHeader {
  const o = readObject(json, path);
  const hash = (key: string) => data(readField(o, key, path), `${path}.${key}`, 32);
  const qty = (key: string, max: number) => parseQuantity(readField(o, key, path), `${path}.${key}`, max);
  const header: RpcBlockHeader = {
    hash: hash('hash'),
    parentHash: hash('parentHash'),
    ommersHash: hash('sha3Uncles'),
    beneficiary: data(readField(o, 'miner', path), `${path}.miner`, 20),
    stateRoot: hash('stateRoot'),
    transactionsRoot: hash('transactionsRoot'),
    receiptsRoot: hash('receiptsRoot'),
    logsBloom: data(readField(o, 'logsBloom', path), `${path}.logsBloom`, 256),
    difficulty: qty('difficulty', U256),
    number: qty('number', U64),
    gasLimit: qty('gasLimit', U64),
    gasUsed: qty('gasUsed', U64),
    timestamp: qty('timestamp', U64),
    extraData: data(readField(o, 'extraData', path), `${path}.extraData`),
    mixHash: hash('mixHash'),
    nonce: data(readField(o, 'nonce', path), `${path}.nonce`, 8),
    baseFeePerGas: optional(o, 'baseFeePerGas', (v, p) => parseQuantity(v, p, U256), path),
    withdrawalsRoot: optional(o, 'withdrawalsRoot', (v, p) => data(v, p, 32), path),
    blobGasUsed: optional(o, 'blobGasUsed', (v, p) => parseQuantity(v, p, U64), path),
    excessBlobGas: optional(o, 'excessBlobGas', (v, p) => parseQuantity(v, p, U64), path),
    parentBeaconBlockRoot: optional(o, 'parentBeaconBlockRoot', (v, p) => data(v, p, 32), path),
    requestsHash: optional(o, 'requestsHash', (v, p) => data(v, p, 32), path),
  };
  // Field-presence rules (see the module comment), reported with the offending field.
  const order: [string, boolean][] = [
    ['baseFeePerGas', header.baseFeePerGas !== undefined],
    ['withdrawalsRoot', header.withdrawalsRoot !== undefined],
    ['blobGasUsed', header.blobGasUsed !== undefined],
    ['excessBlobGas', header.excessBlobGas !== undefined],
    ['parentBeaconBlockRoot', header.parentBeaconBlockRoot !== undefined],
    ['requestsHash', header.requestsHash !== undefined],
  ];
  for (let i = 1; i < order.length; i++) {
    const [name, present] = order[i]!;
    if (!present) continue;
    const missing = order.slice(0, i).find(([, p]) => !p);
    if (missing) throw new DecodeError(`${path}.${missing[0]}`, `missing, but the later fork field ${name} is present`);
  }
  if (header.blobGasUsed !== undefined && header.parentBeaconBlockRoot === undefined)
    throw new DecodeError(`${path}.parentBeaconBlockRoot`, 'missing, but blobGasUsed is present (Cancun header)');
  if (header.blobGasUsed !== undefined && header.excessBlobGas === undefined)
    throw new DecodeError(`${path}.excessBlobGas`, 'missing, but blobGasUsed is present (Cancun header)');
  return header;
}
