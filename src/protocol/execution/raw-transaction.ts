/**
 * Raw EIP-2718 transactions as an execution payload carries them: strict decoding, sender recovery and
 * the values a transaction implies beside its signed fields (effective gas price, created contract).
 *
 * transactions.ts goes the other way (a JSON-RPC transaction object re-serialised to raw bytes) and
 * leaves `from` unverified; with the raw bytes of a verified block, `recoverSender` (sender.ts: its
 * own module, as it needs noble's secp256k1) recovers it, so an endpoint's claim can be checked.
 *
 * Signing hashes: legacy = keccak(rlp([nonce, gasPrice, gas, to, value, data])) or, with EIP-155
 * (v >= 35), keccak(rlp([..., chainId, 0, 0])); typed = keccak(type || rlp(fields without yParity, r, s)).
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { DecodeError } from '../errors.js';
import { decodeRlp, encodeBytes, encodeList, encodeRlp, encodeUint, rlpToUint, type RlpValue } from './rlp.js';
import {
  transactionHash,
  typedTransactionBytes,
  type AccessListEntry,
  type SetCodeAuthorization,
} from './transactions.js';

/** A decoded raw transaction (types 0-4; blob transactions in their block form, without sidecar). */
export interface DecodedTransaction {
  type: 0 | 1 | 2 | 3 | 4;
  raw: Uint8Array;
  hash: Uint8Array;
  /** undefined for a legacy transaction without EIP-155 replay protection */
  chainId: bigint | undefined;
  nonce: bigint;
  /** types 0 and 1 */
  gasPrice: bigint | undefined;
  /** types 2-4 */
  maxPriorityFeePerGas: bigint | undefined;
  /** types 2-4 */
  maxFeePerGas: bigint | undefined;
  gas: bigint;
  /** null = contract creation */
  to: Uint8Array | null;
  value: bigint;
  input: Uint8Array;
  /** types 1-4 */
  accessList: AccessListEntry[] | undefined;
  maxFeePerBlobGas: bigint | undefined;
  blobVersionedHashes: Uint8Array[] | undefined;
  authorizationList: SetCodeAuthorization[] | undefined;
  /** legacy: the v as signed (27/28 or chainId*2+35/36); typed: yParity */
  v: bigint;
  yParity: number;
  r: bigint;
  s: bigint;
  /** keccak of the signing payload */
  signingHash: Uint8Array;
}

function bytesItem(v: RlpValue | undefined, path: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new DecodeError(path, 'expected a byte string');
  if (length !== undefined && v.length !== length)
    throw new DecodeError(path, `expected ${length} bytes, got ${v.length}`);
  return v;
}

function listItem(v: RlpValue | undefined, path: string): RlpValue[] {
  if (v === undefined || v instanceof Uint8Array) throw new DecodeError(path, 'expected a list');
  return v;
}

function toField(v: RlpValue | undefined, path: string): Uint8Array | null {
  const b = bytesItem(v, path);
  if (b.length === 0) return null;
  if (b.length !== 20) throw new DecodeError(path, `expected 20 bytes or empty, got ${b.length}`);
  return b.slice();
}

function accessList(v: RlpValue | undefined, path: string): AccessListEntry[] {
  return listItem(v, path).map((e, i) => {
    const [address, keys] = listItem(e, `${path}[${i}]`);
    return {
      address: bytesItem(address, `${path}[${i}].address`, 20).slice(),
      storageKeys: listItem(keys, `${path}[${i}].storageKeys`).map((k, j) =>
        bytesItem(k, `${path}[${i}].storageKeys[${j}]`, 32).slice(),
      ),
    };
  });
}

function parity(v: RlpValue | undefined, path: string): number {
  const y = rlpToUint(v ?? new Uint8Array(0), path, 1);
  if (y > 1n) throw new DecodeError(path, 'yParity must be 0 or 1');
  return Number(y);
}

function authorization(a: RlpValue, p: string): SetCodeAuthorization {
  const f = listItem(a, p);
  if (f.length !== 6) throw new DecodeError(p, `expected 6 fields, got ${f.length}`);
  return {
    chainId: rlpToUint(f[0]!, `${p}.chainId`),
    address: bytesItem(f[1], `${p}.address`, 20).slice(),
    nonce: rlpToUint(f[2]!, `${p}.nonce`, 8),
    yParity: parity(f[3], `${p}.yParity`),
    r: rlpToUint(f[4]!, `${p}.r`),
    s: rlpToUint(f[5]!, `${p}.s`),
  };
}

/** RLP items per transaction type (signature included). */
const EXPECTED_ITEMS: Record<number, number> = { 0: 9, 1: 11, 2: 12, 3: 14, 4: 13 };

/** Reads item `i` of a transaction's RLP list as an unsigned integer of at most `max` bytes. */
type UintReader = (i: number, name: string, max?: number) => bigint;

/** The fields every type has and no type signs differently. */
function commonFields(raw: Uint8Array) {
  return {
    raw,
    hash: transactionHash(raw),
    maxFeePerBlobGas: undefined,
    blobVersionedHashes: undefined,
    authorizationList: undefined,
  };
}

function decodeLegacy(raw: Uint8Array, items: RlpValue[], u: UintReader, label: string): DecodedTransaction {
  const v = u(6, 'v');
  let chainId: bigint | undefined;
  let yParity: number;
  let signed: Uint8Array[] = items.slice(0, 6).map(encodeRlp);
  if (v === 27n || v === 28n) yParity = Number(v - 27n);
  else if (v >= 35n) {
    chainId = (v - 35n) >> 1n;
    yParity = Number((v - 35n) & 1n);
    signed = [...signed, encodeUint(chainId), encodeUint(0), encodeUint(0)];
  } else throw new DecodeError(`${label}.v`, `invalid legacy v ${v}`);
  return {
    ...commonFields(raw),
    type: 0,
    chainId,
    nonce: u(0, 'nonce', 8),
    gasPrice: u(1, 'gasPrice'),
    maxPriorityFeePerGas: undefined,
    maxFeePerGas: undefined,
    gas: u(2, 'gas', 8),
    to: toField(items[3], `${label}.to`),
    value: u(4, 'value'),
    input: bytesItem(items[5], `${label}.input`).slice(),
    accessList: undefined,
    v,
    yParity,
    r: u(7, 'r'),
    s: u(8, 's'),
    signingHash: keccak_256(encodeList(signed)),
  };
}

function decodeTyped(
  type: 1 | 2 | 3 | 4,
  raw: Uint8Array,
  items: RlpValue[],
  u: UintReader,
  label: string,
): DecodedTransaction {
  const unsignedCount = items.length - 3;
  const yParity = parity(items[unsignedCount], `${label}.yParity`);
  const base = {
    ...commonFields(raw),
    v: BigInt(yParity),
    yParity,
    r: u(unsignedCount + 1, 'r'),
    s: u(unsignedCount + 2, 's'),
    signingHash: keccak_256(typedTransactionBytes(type, items.slice(0, unsignedCount).map(encodeRlp))),
  };
  if (type === 1)
    return {
      ...base,
      type: 1,
      chainId: u(0, 'chainId'),
      nonce: u(1, 'nonce', 8),
      gasPrice: u(2, 'gasPrice'),
      maxPriorityFeePerGas: undefined,
      maxFeePerGas: undefined,
      gas: u(3, 'gas', 8),
      to: toField(items[4], `${label}.to`),
      value: u(5, 'value'),
      input: bytesItem(items[6], `${label}.input`).slice(),
      accessList: accessList(items[7], `${label}.accessList`),
    };
  const fee = {
    ...base,
    chainId: u(0, 'chainId'),
    nonce: u(1, 'nonce', 8),
    gasPrice: undefined,
    maxPriorityFeePerGas: u(2, 'maxPriorityFeePerGas'),
    maxFeePerGas: u(3, 'maxFeePerGas'),
    gas: u(4, 'gas', 8),
    to: toField(items[5], `${label}.to`),
    value: u(6, 'value'),
    input: bytesItem(items[7], `${label}.input`).slice(),
    accessList: accessList(items[8], `${label}.accessList`),
  };
  if (type === 2) return { ...fee, type: 2 };
  if (fee.to === null) throw new DecodeError(`${label}.to`, `a type ${type} transaction cannot create a contract`);
  if (type === 3)
    return {
      ...fee,
      type: 3,
      maxFeePerBlobGas: u(9, 'maxFeePerBlobGas'),
      blobVersionedHashes: listItem(items[10], `${label}.blobVersionedHashes`).map((h, i) =>
        bytesItem(h, `${label}.blobVersionedHashes[${i}]`, 32).slice(),
      ),
    };
  return {
    ...fee,
    type: 4,
    authorizationList: listItem(items[9], `${label}.authorizationList`).map((a, i) =>
      authorization(a, `${label}.authorizationList[${i}]`),
    ),
  };
}

/** Decode a raw EIP-2718 transaction (strict canonical RLP). Throws DecodeError. */
export function decodeRawTransaction(raw: Uint8Array, label = 'transaction'): DecodedTransaction {
  if (raw.length === 0) throw new DecodeError(label, 'empty transaction');
  const type = raw[0]! >= 0xc0 ? 0 : raw[0]!;
  if (type > 4) throw new DecodeError(`${label}@0`, `unsupported transaction type 0x${type.toString(16)}`);
  const items = listItem(decodeRlp(type === 0 ? raw : raw.subarray(1), label), label);
  if (items.length !== EXPECTED_ITEMS[type])
    throw new DecodeError(label, `a type ${type} transaction has ${EXPECTED_ITEMS[type]} fields, got ${items.length}`);
  const u: UintReader = (i, name, max = 32) => rlpToUint(items[i]!, `${label}.${name}`, max);
  return type === 0 ? decodeLegacy(raw, items, u, label) : decodeTyped(type as 1 | 2 | 3 | 4, raw, items, u, label);
}

/** The price per gas the sender paid in a block with this base fee (EIP-1559: min(maxFee, baseFee + tip)). */
export function effectiveGasPrice(tx: DecodedTransaction, baseFeePerGas: bigint): bigint {
  if (tx.gasPrice !== undefined) return tx.gasPrice;
  const capped = baseFeePerGas + tx.maxPriorityFeePerGas!;
  return capped < tx.maxFeePerGas! ? capped : tx.maxFeePerGas!;
}

/** CREATE address: keccak(rlp([sender, nonce]))[12..]. */
export function createdContractAddress(sender: Uint8Array, nonce: bigint): Uint8Array {
  return keccak_256(encodeList([encodeBytes(sender), encodeUint(nonce)])).slice(12);
}
