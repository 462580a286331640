/**
 * Raw EIP-2718 transactions as a verified payload carries them: decoding, sender recovery and the
 * JSON-RPC transaction object built from them.
 *
 * Why here: the protocol library ties JSON transaction objects to blocks by re-serialising them, but
 * leaves `from` unverified (it needs signature recovery). The engine has the raw transactions of every
 * verified block, so it recovers the sender (secp256k1 public-key recovery over the signing hash) and
 * derives everything an RPC reports beside the signed fields: `from`, the effective gas price,
 * a created contract's address. An endpoint's claims about those are then checked, not believed.
 *
 * Signing hashes: legacy = keccak(rlp([nonce, gasPrice, gas, to, value, data])) or, with EIP-155
 * (v >= 35), keccak(rlp([..., chainId, 0, 0])); typed = keccak(type || rlp(fields without yParity, r, s)).
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { toHex, type Hex } from '../../protocol/bytes.js';
import { DecodeError } from '../../protocol/errors.js';
import {
  decodeRlp,
  encodeBytes,
  encodeList,
  encodeRlp,
  encodeUint,
  rlpToUint,
  type RlpValue,
} from '../../protocol/execution/rlp.js';
import type { RpcTransactionJson, Quantity } from './types.js';

export interface RawAccessListEntry {
  address: Uint8Array;
  storageKeys: Uint8Array[];
}

export interface RawAuthorization {
  chainId: bigint;
  address: Uint8Array;
  nonce: bigint;
  yParity: number;
  r: bigint;
  s: bigint;
}

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
  accessList: RawAccessListEntry[] | undefined;
  maxFeePerBlobGas: bigint | undefined;
  blobVersionedHashes: Uint8Array[] | undefined;
  authorizationList: RawAuthorization[] | undefined;
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

function accessList(v: RlpValue | undefined, path: string): RawAccessListEntry[] {
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

const EXPECTED_ITEMS: Record<number, number> = { 0: 9, 1: 11, 2: 12, 3: 14, 4: 13 };

/** Decode a raw EIP-2718 transaction (strict canonical RLP). Throws DecodeError. */
export function decodeRawTransaction(raw: Uint8Array, label = 'transaction'): DecodedTransaction {
  if (raw.length === 0) throw new DecodeError(label, 'empty transaction');
  const type = raw[0]! >= 0xc0 ? 0 : raw[0]!;
  if (type > 4) throw new DecodeError(`${label}@0`, `unsupported transaction type 0x${type.toString(16)}`);
  const items = listItem(decodeRlp(type === 0 ? raw : raw.subarray(1), label), label);
  if (items.length !== EXPECTED_ITEMS[type])
    throw new DecodeError(label, `a type ${type} transaction has ${EXPECTED_ITEMS[type]} fields, got ${items.length}`);
  const u = (i: number, name: string, max = 32) => rlpToUint(items[i]!, `${label}.${name}`, max);
  const hash = keccak_256(raw);
  const base = {
    raw,
    hash,
    maxFeePerBlobGas: undefined,
    blobVersionedHashes: undefined,
    authorizationList: undefined,
  };
  if (type === 0) {
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
      ...base,
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
  const unsignedCount = items.length - 3;
  const body = encodeList(items.slice(0, unsignedCount).map(encodeRlp));
  const payload = new Uint8Array(body.length + 1);
  payload[0] = type;
  payload.set(body, 1);
  const yParity = parity(items[unsignedCount], `${label}.yParity`);
  const sig = {
    v: BigInt(yParity),
    yParity,
    r: u(unsignedCount + 1, 'r'),
    s: u(unsignedCount + 2, 's'),
    signingHash: keccak_256(payload),
  };
  if (type === 1)
    return {
      ...base,
      ...sig,
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
    ...sig,
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
    authorizationList: listItem(items[9], `${label}.authorizationList`).map((a, i) => {
      const p = `${label}.authorizationList[${i}]`;
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
    }),
  };
}

/**
 * The sender: the address of the public key recovered from (r, s, yParity) over the signing hash.
 * Throws DecodeError if the signature cannot be recovered (not possible for a transaction in a valid block).
 */
export function recoverSender(tx: DecodedTransaction): Uint8Array {
  let pub: Uint8Array;
  try {
    pub = new secp256k1.Signature(tx.r, tx.s)
      .addRecoveryBit(tx.yParity)
      .recoverPublicKey(tx.signingHash)
      .toBytes(false);
  } catch (e) {
    throw new DecodeError(
      'transaction.signature',
      `cannot recover the sender (${e instanceof Error ? e.message : String(e)})`,
      { cause: e },
    );
  }
  return keccak_256(pub.subarray(1)).slice(12);
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

export function quantity(n: bigint | number): Quantity {
  return `0x${n.toString(16)}`;
}

/** geth's transaction object for a mined transaction, built from verified raw bytes and the recovered sender. */
export function formatTransaction(
  tx: DecodedTransaction,
  from: Uint8Array,
  position: { blockHash: Hex; blockNumber: bigint; index: number; baseFeePerGas: bigint | undefined },
): RpcTransactionJson {
  const out: RpcTransactionJson = {
    blockHash: position.blockHash,
    blockNumber: quantity(position.blockNumber),
    from: toHex(from),
    gas: quantity(tx.gas),
    gasPrice: quantity(
      position.baseFeePerGas === undefined
        ? (tx.gasPrice ?? tx.maxFeePerGas!)
        : effectiveGasPrice(tx, position.baseFeePerGas),
    ),
    hash: toHex(tx.hash),
    input: toHex(tx.input),
    nonce: quantity(tx.nonce),
    to: tx.to === null ? null : toHex(tx.to),
    transactionIndex: quantity(position.index),
    value: quantity(tx.value),
    type: quantity(tx.type),
    v: quantity(tx.v),
    r: quantity(tx.r),
    s: quantity(tx.s),
  };
  if (tx.chainId !== undefined) out.chainId = quantity(tx.chainId);
  if (tx.type !== 0) out.yParity = quantity(tx.yParity);
  if (tx.maxFeePerGas !== undefined) {
    out.maxFeePerGas = quantity(tx.maxFeePerGas);
    out.maxPriorityFeePerGas = quantity(tx.maxPriorityFeePerGas!);
  }
  if (tx.accessList !== undefined)
    out.accessList = tx.accessList.map((e) => ({ address: toHex(e.address), storageKeys: e.storageKeys.map(toHex) }));
  if (tx.maxFeePerBlobGas !== undefined) out.maxFeePerBlobGas = quantity(tx.maxFeePerBlobGas);
  if (tx.blobVersionedHashes !== undefined) out.blobVersionedHashes = tx.blobVersionedHashes.map(toHex);
  if (tx.authorizationList !== undefined)
    out.authorizationList = tx.authorizationList.map((a) => ({
      chainId: quantity(a.chainId),
      address: toHex(a.address),
      nonce: quantity(a.nonce),
      yParity: quantity(a.yParity),
      r: quantity(a.r),
      s: quantity(a.s),
    }));
  return out;
}
