/**
 * Byte helpers shared by the protocol code: strict hex parsing with JSON-path errors,
 * and little-endian cursor reader/writer for Bitcoin consensus encoding.
 */
import { bytesToHex, hexToBytes, concatBytes } from '@noble/hashes/utils.js';
import { DecodeError } from './errors.js';
import { readString } from './json-fields.js';

export { bytesToHex, concatBytes };

/**
 * Byte-wise equality: the one definition in the project. Not constant-time: use it only for public
 * data (hashes, roots, scripts, encodings), never to compare secrets.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const U64_MAX = (1n << 64n) - 1n;
export const U256_MAX = (1n << 256n) - 1n;

/** A `0x`-prefixed lowercase hex string (the form impl-serde and viem use). */
export type Hex = `0x${string}`;

const HEX_BODY = /^[0-9a-fA-F]*$/;

/** Parse hex (with or without `0x`, per `prefix`) into bytes; `length` in bytes if fixed. */
export function parseHex(
  value: unknown,
  path: string,
  opts: { prefix: 'required' | 'forbidden' | 'optional'; length?: number; maxLength?: number },
): Uint8Array {
  const text = readString(value, path, 'a hex string');
  const has0x = text.startsWith('0x') || text.startsWith('0X');
  if (opts.prefix === 'required' && !has0x) throw new DecodeError(path, 'expected a 0x-prefixed hex string');
  if (opts.prefix === 'forbidden' && has0x) throw new DecodeError(path, 'expected hex without a 0x prefix');
  const body = has0x ? text.slice(2) : text;
  if (body.length % 2 !== 0) throw new DecodeError(path, 'hex string has an odd number of digits');
  if (!HEX_BODY.test(body)) throw new DecodeError(path, 'hex string contains a non-hex character');
  const n = body.length / 2;
  if (opts.length !== undefined && n !== opts.length)
    throw new DecodeError(path, `expected ${opts.length} bytes, got ${n}`);
  if (opts.maxLength !== undefined && n > opts.maxLength)
    throw new DecodeError(path, `expected at most ${opts.maxLength} bytes, got ${n}`);
  return hexToBytes(body.toLowerCase());
}

/** Bytes to `0x`-prefixed lowercase hex. */
export function toHex(bytes: Uint8Array): Hex {
  return `0x${bytesToHex(bytes)}`;
}

/** Hex (with or without 0x) to bytes; throws DecodeError at path `$` on bad input. For trusted constants. */
export function fromHex(hex: string): Uint8Array {
  return parseHex(hex, '$', { prefix: 'optional' });
}

const NIBBLE = /* @__PURE__ */ (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

/**
 * `0x`-prefixed hex (either case) to bytes in one pass; null if malformed (no prefix, odd length, a
 * non-hex digit). Used for raw transactions on the block-hash hot path, where a regex test plus a
 * lower-case copy of a large string costs more than the decoding itself.
 */
export function decodePrefixedHex(hex: string): Uint8Array | null {
  const n = hex.length;
  if (n < 2 || hex.charCodeAt(0) !== 48 || (hex.charCodeAt(1) | 32) !== 120 || (n & 1) !== 0) return null;
  const out = new Uint8Array((n - 2) >> 1);
  for (let i = 2, o = 0; i < n; i += 2, o++) {
    const a = hex.charCodeAt(i);
    const b = hex.charCodeAt(i + 1);
    const hi = a < 128 ? NIBBLE[a]! : -1;
    const lo = b < 128 ? NIBBLE[b]! : -1;
    if ((hi | lo) < 0) return null;
    out[o] = (hi << 4) | lo;
  }
  return out;
}

/** A reversed copy (Bitcoin display order <-> internal order). */
export function reverse(bytes: Uint8Array): Uint8Array {
  return bytes.slice().reverse();
}

/** Cursor over bytes for consensus decoding. Every read checks bounds and throws DecodeError naming the offset. */
export class ByteReader {
  private pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly label = 'bytes',
  ) {}

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length)
      throw new DecodeError(
        `${this.label}@${this.pos}`,
        `truncated: need ${n} bytes for ${what}, have ${this.remaining}`,
      );
  }

  take(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8(what = 'u8'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }
  u16le(what = 'u16'): number {
    const b = this.take(2, what);
    return b[0]! | (b[1]! << 8);
  }
  u32le(what = 'u32'): number {
    const b = this.take(4, what);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
  i32le(what = 'i32'): number {
    return this.u32le(what) | 0;
  }
  u64le(what = 'u64'): bigint {
    const lo = BigInt(this.u32le(what));
    const hi = BigInt(this.u32le(what));
    return (hi << 32n) | lo;
  }
  /** Bitcoin CompactSize, rejecting non-canonical encodings as Bitcoin Core does. */
  compactSize(what = 'compact size'): number {
    const first = this.u8(what);
    if (first < 0xfd) return first;
    if (first === 0xfd) {
      const v = this.u16le(what);
      if (v < 0xfd) throw new DecodeError(`${this.label}@${this.pos}`, `non-canonical compact size for ${what}`);
      return v;
    }
    if (first === 0xfe) {
      const v = this.u32le(what);
      if (v <= 0xffff) throw new DecodeError(`${this.label}@${this.pos}`, `non-canonical compact size for ${what}`);
      return v;
    }
    const v = this.u64le(what);
    if (v <= 0xffffffffn) throw new DecodeError(`${this.label}@${this.pos}`, `non-canonical compact size for ${what}`);
    throw new DecodeError(`${this.label}@${this.pos}`, `compact size for ${what} is too large (${v})`);
  }
  /** Require that every byte was consumed. */
  end(): void {
    if (this.pos !== this.bytes.length)
      throw new DecodeError(`${this.label}@${this.pos}`, `${this.remaining} unexpected trailing bytes`);
  }
}

/** Growable little-endian writer for consensus encoding. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }
  u8(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  u16le(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32le(v: number): this {
    return this.u8(v)
      .u8(v >>> 8)
      .u8(v >>> 16)
      .u8(v >>> 24);
  }
  i32le(v: number): this {
    return this.u32le(v >>> 0);
  }
  u64le(v: bigint): this {
    return this.u32le(Number(v & 0xffffffffn)).u32le(Number((v >> 32n) & 0xffffffffn));
  }
  compactSize(n: number): this {
    if (n < 0xfd) return this.u8(n);
    if (n <= 0xffff) return this.u8(0xfd).u16le(n);
    if (n <= 0xffffffff) return this.u8(0xfe).u32le(n);
    return this.u8(0xff).u64le(BigInt(n));
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
