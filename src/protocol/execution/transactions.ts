/**
 * Execution transactions as JSON-RPC returns them (`eth_getBlockBy*` with full objects,
 * `eth_getTransactionByHash`), and their re-serialisation to raw EIP-2718 bytes.
 *
 * Why re-serialise: a JSON transaction object is only trustworthy once it is tied to a block, and
 * the tie is keccak(raw) == hash and raw ∈ transactionsRoot. RPC does not return raw bytes with block
 * bodies, so the raw form is rebuilt from the fields (supported: legacy, EIP-2930, EIP-1559, EIP-4844
 * (without the blob sidecar, as in blocks), EIP-7702). Any other type (e.g. OP-stack deposits 0x7e) is a
 * DecodeError; for those, pass raw transactions to verifyRpcBlock instead.
 *
 * Fields that are not part of the signed transaction are reported but not covered by the hash:
 * `from` (would need signature recovery; NOT verified here), `gasPrice` of fee-market transactions
 * (the effective price; verifyRpcBlock checks it against the header base fee), and the position fields
 * (`blockHash`, `blockNumber`, `transactionIndex`; verifyRpcBlock checks them).
 *
 * The other direction (raw bytes to fields, and recovering `from`) is raw-transaction.ts.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { DecodeError } from '../errors.js';
import { readArray, readField, readObject, type JsonRecord } from '../json-fields.js';
import { address, data, paddedUint, parseQuantity, parseQuantityNumber } from './json.js';
import { encodeBytes, encodeList, encodeUint, RLP_EMPTY_STRING } from './rlp.js';

export interface AccessListEntry {
  address: Uint8Array;
  storageKeys: Uint8Array[];
}

/** EIP-7702 signed authorization tuple. */
export interface SetCodeAuthorization {
  chainId: bigint;
  address: Uint8Array;
  nonce: bigint;
  yParity: number;
  r: bigint;
  s: bigint;
}

interface RpcTransactionCommon {
  hash: Uint8Array;
  /** Sender as claimed by the endpoint; NOT verified (needs signature recovery). */
  from: Uint8Array;
  /** null for pending transactions */
  blockHash: Uint8Array | null;
  blockNumber: bigint | null;
  transactionIndex: number | null;
  nonce: bigint;
  /** gas limit */
  gas: bigint;
  /** null = contract creation (types 0-2 only) */
  to: Uint8Array | null;
  value: bigint;
  input: Uint8Array;
  r: bigint;
  s: bigint;
}

export interface LegacyRpcTransaction extends RpcTransactionCommon {
  type: 0;
  gasPrice: bigint;
  /** 27/28, or chainId * 2 + 35/36 (EIP-155) */
  v: bigint;
  chainId: bigint | undefined;
}

export interface AccessListRpcTransaction extends RpcTransactionCommon {
  type: 1;
  chainId: bigint;
  gasPrice: bigint;
  accessList: AccessListEntry[];
  yParity: number;
}

interface FeeMarketFields {
  chainId: bigint;
  maxPriorityFeePerGas: bigint;
  maxFeePerGas: bigint;
  accessList: AccessListEntry[];
  yParity: number;
  /** The effective gas price the endpoint reports (not signed); undefined if absent. */
  gasPrice: bigint | undefined;
}

export interface DynamicFeeRpcTransaction extends RpcTransactionCommon, FeeMarketFields {
  type: 2;
}

export interface BlobRpcTransaction extends RpcTransactionCommon, FeeMarketFields {
  type: 3;
  to: Uint8Array;
  maxFeePerBlobGas: bigint;
  blobVersionedHashes: Uint8Array[];
}

export interface SetCodeRpcTransaction extends RpcTransactionCommon, FeeMarketFields {
  type: 4;
  to: Uint8Array;
  authorizationList: SetCodeAuthorization[];
}

export type RpcTransaction =
  | LegacyRpcTransaction
  | AccessListRpcTransaction
  | DynamicFeeRpcTransaction
  | BlobRpcTransaction
  | SetCodeRpcTransaction;

const U64 = 8;

function nullable<T>(o: JsonRecord, key: string, path: string, read: (v: unknown, p: string) => T): T | null {
  const v = o[key];
  return v === undefined || v === null ? null : read(v, `${path}.${key}`);
}

/** y parity from `yParity` and/or `v` (typed transactions); both must agree when both are given. */
function readYParity(o: JsonRecord, path: string): number {
  const y = o['yParity'] === undefined ? undefined : parseQuantity(o['yParity'], `${path}.yParity`, 1);
  const v = o['v'] === undefined ? undefined : parseQuantity(o['v'], `${path}.v`, 1);
  if (y === undefined && v === undefined)
    throw new DecodeError(`${path}.yParity`, 'missing required field (neither yParity nor v given)');
  if (y !== undefined && y > 1n) throw new DecodeError(`${path}.yParity`, 'must be 0x0 or 0x1');
  if (v !== undefined && v > 1n) throw new DecodeError(`${path}.v`, 'must be 0x0 or 0x1 for a typed transaction');
  if (y !== undefined && v !== undefined && y !== v) throw new DecodeError(`${path}.v`, 'v and yParity disagree');
  return Number(y ?? v);
}

function readAccessList(value: unknown, path: string): AccessListEntry[] {
  return readArray(value, path).map((entry, i) => {
    const p = `${path}[${i}]`;
    const e = readObject(entry, p);
    return {
      address: address(readField(e, 'address', p), `${p}.address`),
      storageKeys: readArray(readField(e, 'storageKeys', p), `${p}.storageKeys`).map((k, j) =>
        data(k, `${p}.storageKeys[${j}]`, 32),
      ),
    };
  });
}

function readAuthorization(value: unknown, path: string): SetCodeAuthorization {
  const o = readObject(value, path);
  return {
    chainId: parseQuantity(readField(o, 'chainId', path), `${path}.chainId`),
    address: address(readField(o, 'address', path), `${path}.address`),
    nonce: parseQuantity(readField(o, 'nonce', path), `${path}.nonce`, U64),
    yParity: readYParity(o, path),
    r: paddedUint(readField(o, 'r', path), `${path}.r`),
    s: paddedUint(readField(o, 's', path), `${path}.s`),
  };
}

/** Strictly decode one JSON-RPC transaction object. */
export function decodeRpcTransaction(json: unknown, path = '$'): RpcTransaction {
  const o = readObject(json, path);
  const typeValue = parseQuantity(readField(o, 'type', path), `${path}.type`, 1);
  const qty = (key: string, max = 32) => parseQuantity(readField(o, key, path), `${path}.${key}`, max);
  const common: RpcTransactionCommon = {
    hash: data(readField(o, 'hash', path), `${path}.hash`, 32),
    from: address(readField(o, 'from', path), `${path}.from`),
    blockHash: nullable(o, 'blockHash', path, (v, p) => data(v, p, 32)),
    blockNumber: nullable(o, 'blockNumber', path, (v, p) => parseQuantity(v, p, U64)),
    transactionIndex: nullable(o, 'transactionIndex', path, parseQuantityNumber),
    nonce: qty('nonce', U64),
    gas: qty('gas', U64),
    to: nullable(o, 'to', path, address),
    value: qty('value'),
    input: data(readField(o, 'input', path), `${path}.input`),
    r: paddedUint(readField(o, 'r', path), `${path}.r`),
    s: paddedUint(readField(o, 's', path), `${path}.s`),
  };
  const type = Number(typeValue);
  if (type === 0) {
    const v = qty('v');
    const chainId = o['chainId'] === undefined || o['chainId'] === null ? undefined : qty('chainId');
    // EIP-155: v encodes the chain id; a contradicting chainId field would not be caught by the hash.
    if (chainId !== undefined && v >= 35n && (v - 35n) >> 1n !== chainId)
      throw new DecodeError(`${path}.chainId`, `chainId ${chainId} contradicts v ${v} (EIP-155)`);
    if (v < 35n && v !== 27n && v !== 28n)
      throw new DecodeError(`${path}.v`, `invalid legacy v ${v} (expected 27, 28 or >= 35)`);
    return { ...common, type: 0, gasPrice: qty('gasPrice'), v, chainId };
  }
  if (type === 1) {
    return {
      ...common,
      type: 1,
      chainId: qty('chainId'),
      gasPrice: qty('gasPrice'),
      accessList: readAccessList(readField(o, 'accessList', path), `${path}.accessList`),
      yParity: readYParity(o, path),
    };
  }
  if (type === 2 || type === 3 || type === 4) {
    const fee: FeeMarketFields = {
      chainId: qty('chainId'),
      maxPriorityFeePerGas: qty('maxPriorityFeePerGas'),
      maxFeePerGas: qty('maxFeePerGas'),
      accessList: readAccessList(readField(o, 'accessList', path), `${path}.accessList`),
      yParity: readYParity(o, path),
      gasPrice: o['gasPrice'] === undefined || o['gasPrice'] === null ? undefined : qty('gasPrice'),
    };
    if (type === 2) return { ...common, ...fee, type: 2 };
    if (common.to === null)
      throw new DecodeError(`${path}.to`, `a type ${type} transaction cannot create a contract (to is required)`);
    if (type === 3)
      return {
        ...common,
        ...fee,
        type: 3,
        to: common.to,
        maxFeePerBlobGas: qty('maxFeePerBlobGas'),
        blobVersionedHashes: readArray(readField(o, 'blobVersionedHashes', path), `${path}.blobVersionedHashes`).map(
          (h, i) => data(h, `${path}.blobVersionedHashes[${i}]`, 32),
        ),
      };
    return {
      ...common,
      ...fee,
      type: 4,
      to: common.to,
      authorizationList: readArray(readField(o, 'authorizationList', path), `${path}.authorizationList`).map((a, i) =>
        readAuthorization(a, `${path}.authorizationList[${i}]`),
      ),
    };
  }
  throw new DecodeError(
    `${path}.type`,
    `unsupported transaction type 0x${type.toString(16)} (supported: 0x0-0x4); verify this block with its raw transactions instead`,
  );
}

function encodeAccessList(list: readonly AccessListEntry[]): Uint8Array {
  return encodeList(list.map((e) => encodeList([encodeBytes(e.address), encodeList(e.storageKeys.map(encodeBytes))])));
}

function encodeTo(to: Uint8Array | null): Uint8Array {
  return to === null ? RLP_EMPTY_STRING : encodeBytes(to);
}

/** A typed transaction's EIP-2718 bytes: the type byte, then the RLP list of `items`. */
export function typedTransactionBytes(type: number, items: Uint8Array[]): Uint8Array {
  const body = encodeList(items);
  const out = new Uint8Array(body.length + 1);
  out[0] = type;
  out.set(body, 1);
  return out;
}

/** The raw EIP-2718 bytes of a transaction (legacy: rlp list; typed: type byte || rlp list). */
export function encodeRpcTransaction(tx: RpcTransaction): Uint8Array {
  const tail = [encodeUint(tx.r), encodeUint(tx.s)];
  switch (tx.type) {
    case 0:
      return encodeList([
        encodeUint(tx.nonce),
        encodeUint(tx.gasPrice),
        encodeUint(tx.gas),
        encodeTo(tx.to),
        encodeUint(tx.value),
        encodeBytes(tx.input),
        encodeUint(tx.v),
        ...tail,
      ]);
    case 1:
      return typedTransactionBytes(1, [
        encodeUint(tx.chainId),
        encodeUint(tx.nonce),
        encodeUint(tx.gasPrice),
        encodeUint(tx.gas),
        encodeTo(tx.to),
        encodeUint(tx.value),
        encodeBytes(tx.input),
        encodeAccessList(tx.accessList),
        encodeUint(tx.yParity),
        ...tail,
      ]);
    case 2:
    case 3:
    case 4: {
      const items = [
        encodeUint(tx.chainId),
        encodeUint(tx.nonce),
        encodeUint(tx.maxPriorityFeePerGas),
        encodeUint(tx.maxFeePerGas),
        encodeUint(tx.gas),
        encodeTo(tx.to),
        encodeUint(tx.value),
        encodeBytes(tx.input),
        encodeAccessList(tx.accessList),
      ];
      if (tx.type === 3)
        items.push(encodeUint(tx.maxFeePerBlobGas), encodeList(tx.blobVersionedHashes.map(encodeBytes)));
      if (tx.type === 4)
        items.push(
          encodeList(
            tx.authorizationList.map((a) =>
              encodeList([
                encodeUint(a.chainId),
                encodeBytes(a.address),
                encodeUint(a.nonce),
                encodeUint(a.yParity),
                encodeUint(a.r),
                encodeUint(a.s),
              ]),
            ),
          ),
        );
      items.push(encodeUint(tx.yParity), ...tail);
      return typedTransactionBytes(tx.type, items);
    }
  }
}

/** keccak256 of the raw transaction: its hash. */
export function transactionHash(raw: Uint8Array): Uint8Array {
  return keccak_256(raw);
}
