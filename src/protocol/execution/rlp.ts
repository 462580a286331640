/**
 * Minimal RLP (Ethereum Yellow Paper, appendix B) over Uint8Array.
 *
 * Encoding works on already-encoded items: `encodeList` takes the encodings of its items, so a
 * trie node can embed an inline child (itself an RLP list) without re-encoding it, and every list
 * is written with one allocation. Decoding is strict: only the canonical encoding of a value is
 * accepted (a single byte < 0x80 must not be wrapped, short lengths must use the short form, long
 * lengths must not have leading zero bytes), and trailing bytes are refused.
 *
 * Written here instead of using viem's `toRlp`/`fromRlp` because those go through hex strings and
 * are lenient on decode; this sits on the block-hash hot path.
 */
import { DecodeError } from '../errors.js';

/** A decoded RLP value: a byte string, or a list of values. Byte strings are views into the input. */
export type RlpValue = Uint8Array | RlpValue[];

/** Encoded RLP of the empty string (also the integer 0). */
export const RLP_EMPTY_STRING: Uint8Array = Uint8Array.of(0x80);
/** Encoded RLP of the empty list. */
export const RLP_EMPTY_LIST: Uint8Array = Uint8Array.of(0xc0);

function lengthOfLength(n: number): number {
  let k = 0;
  while (n > 0) {
    k++;
    n = Math.floor(n / 256);
  }
  return k;
}

function writeHeader(out: Uint8Array, at: number, shortBase: number, length: number): number {
  if (length < 56) {
    out[at] = shortBase + length;
    return at + 1;
  }
  const k = lengthOfLength(length);
  out[at] = shortBase + 55 + k;
  for (let i = k; i >= 1; i--) {
    out[at + i] = length & 0xff;
    length = Math.floor(length / 256);
  }
  return at + 1 + k;
}

function headerSize(length: number): number {
  return length < 56 ? 1 : 1 + lengthOfLength(length);
}

/** RLP of a byte string. */
export function encodeBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 1 && bytes[0]! < 0x80) return Uint8Array.of(bytes[0]!);
  const out = new Uint8Array(headerSize(bytes.length) + bytes.length);
  out.set(bytes, writeHeader(out, 0, 0x80, bytes.length));
  return out;
}

/** RLP of a list whose items are given already encoded. */
export function encodeList(encodedItems: readonly Uint8Array[]): Uint8Array {
  let payload = 0;
  for (const item of encodedItems) payload += item.length;
  const out = new Uint8Array(headerSize(payload) + payload);
  let at = writeHeader(out, 0, 0xc0, payload);
  for (const item of encodedItems) {
    out.set(item, at);
    at += item.length;
  }
  return out;
}

/** Minimal big-endian bytes of a non-negative integer (0 -> empty). */
export function uintToBytes(value: bigint | number): Uint8Array {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
    if (value === 0) return new Uint8Array(0);
    const k = lengthOfLength(value);
    const out = new Uint8Array(k);
    for (let i = k - 1; i >= 0; i--) {
      out[i] = value % 256;
      value = Math.floor(value / 256);
    }
    return out;
  }
  if (value < 0n) throw new RangeError(`negative integer: ${value}`);
  if (value === 0n) return new Uint8Array(0);
  if (value <= 0x1fffffffffffffn) return uintToBytes(Number(value));
  let hex = value.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** RLP of a non-negative integer (minimal big-endian byte string). */
export function encodeUint(value: bigint | number): Uint8Array {
  if (typeof value === 'number' && value >= 0 && value < 0x80 && Number.isInteger(value))
    return value === 0 ? RLP_EMPTY_STRING : Uint8Array.of(value);
  return encodeBytes(uintToBytes(value));
}

/** RLP of a nested structure of byte strings (convenience; hot paths use encodeBytes/encodeList). */
export function encodeRlp(value: RlpValue): Uint8Array {
  if (value instanceof Uint8Array) return encodeBytes(value);
  return encodeList(value.map(encodeRlp));
}

/** Length of the canonical encoding of `value`, without encoding it. */
export function encodedLength(value: RlpValue): number {
  if (value instanceof Uint8Array) {
    if (value.length === 1 && value[0]! < 0x80) return 1;
    return headerSize(value.length) + value.length;
  }
  let payload = 0;
  for (const item of value) payload += encodedLength(item);
  return headerSize(payload) + payload;
}

interface Item {
  /** start of the payload */
  start: number;
  /** end of the payload (exclusive) = end of the item */
  end: number;
  isList: boolean;
}

/** Read the item header at `pos` (bounded by `limit`) and check canonical form. */
function readItem(bytes: Uint8Array, pos: number, limit: number, label: string): Item {
  const where = `${label}@${pos}`;
  if (pos >= limit) throw new DecodeError(where, 'RLP truncated: expected an item');
  const b = bytes[pos]!;
  if (b < 0x80) return { start: pos, end: pos + 1, isList: false };
  let isList: boolean;
  let length: number;
  let start: number;
  if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
    isList = b >= 0xc0;
    length = b - (isList ? 0xc0 : 0x80);
    start = pos + 1;
  } else {
    isList = b >= 0xc0;
    const k = b - (isList ? 0xf7 : 0xb7);
    if (pos + 1 + k > limit) throw new DecodeError(where, 'RLP truncated: length bytes missing');
    if (bytes[pos + 1] === 0) throw new DecodeError(where, 'non-canonical RLP: length has a leading zero byte');
    if (k > 6) throw new DecodeError(where, 'RLP length too large');
    length = 0;
    for (let i = 1; i <= k; i++) length = length * 256 + bytes[pos + i]!;
    if (length < 56) throw new DecodeError(where, 'non-canonical RLP: long form used for a length below 56');
    start = pos + 1 + k;
  }
  const end = start + length;
  if (end > limit) throw new DecodeError(where, `RLP truncated: item needs ${length} bytes, ${limit - start} left`);
  if (!isList && length === 1 && bytes[start]! < 0x80)
    throw new DecodeError(where, 'non-canonical RLP: a single byte below 0x80 must not be wrapped');
  return { start, end, isList };
}

function decodeAt(bytes: Uint8Array, item: Item, label: string, depth: number): RlpValue {
  if (!item.isList) return bytes.subarray(item.start, item.end);
  if (depth > 64) throw new DecodeError(`${label}@${item.start}`, 'RLP nested too deeply');
  const out: RlpValue[] = [];
  let pos = item.start;
  while (pos < item.end) {
    const child = readItem(bytes, pos, item.end, label);
    out.push(decodeAt(bytes, child, label, depth + 1));
    pos = child.end;
  }
  return out;
}

/**
 * Decode exactly one canonical RLP item spanning all of `bytes`.
 * `label` prefixes the byte offset in DecodeError paths (e.g. `receipt[3]@17`).
 */
export function decodeRlp(bytes: Uint8Array, label = 'rlp'): RlpValue {
  const item = readItem(bytes, 0, bytes.length, label);
  if (item.end !== bytes.length)
    throw new DecodeError(`${label}@${item.end}`, `${bytes.length - item.end} trailing bytes after the RLP item`);
  return decodeAt(bytes, item, label, 0);
}

/** Decode a canonical RLP integer (no leading zero bytes) of at most `maxBytes` bytes. */
export function rlpToUint(value: RlpValue, path: string, maxBytes = 32): bigint {
  if (!(value instanceof Uint8Array)) throw new DecodeError(path, 'expected an RLP integer, got a list');
  if (value.length > maxBytes) throw new DecodeError(path, `integer longer than ${maxBytes} bytes`);
  if (value.length > 0 && value[0] === 0) throw new DecodeError(path, 'non-canonical RLP integer: leading zero byte');
  let n = 0n;
  for (const b of value) n = (n << 8n) | BigInt(b);
  return n;
}
