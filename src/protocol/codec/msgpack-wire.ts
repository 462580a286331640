/**
 * Canonical MessagePack, byte-exact with rmp-serde 1.1.2 `DefaultConfig` over rmp 0.8.12
 * (alys-protocol.md 1.1 and 2.1), plus a strict, allocation-bounded reader for untrusted bytes.
 *
 * Why not @msgpack/msgpack (installed)? It would produce the same bytes for the simple cases, but:
 * - it encodes a JS value tree, so every block would first be rebuilt as nested arrays/objects only to be
 *   walked again (the block hash is recomputed on every import, ~200 txs per block); here the typed codecs
 *   write straight into one growable buffer;
 * - its byte forms are decided by JS value types (number vs bigint vs string), not by the Rust field type,
 *   which is what decides the form in rmp-serde (`write_sint` for i32, `write_uint` for u8..u64, bin only
 *   for `serialize_bytes`); an explicit writer makes each form a visible, reviewed choice;
 * - its decoder yields untyped trees, cannot key maps by bin (the PegoutSignatures map is keyed by bin32),
 *   and reports errors without the field path we want in a DecodeError.
 * It is still used in the tests as an independent cross-check of the bytes written here.
 *
 * Writer rules (rmp 0.8.12): unsigned ints use the shortest of fixint/cc/cd/ce/cf; `write_sint` (i32, i64)
 * uses the unsigned forms for non-negative values and the shortest of negative fixint/d0/d1/d2/d3 otherwise;
 * str = fixstr/d9/da/db; bin = c4/c5/c6; arrays 9x/dc/dd; maps 8x/de/df; nil c0. Floats and ext are never
 * written (no Alys type uses them).
 *
 * Reader rules: every length is checked against the bytes that remain *before* anything is allocated
 * (a string or bin needs its length in bytes, an array at least one byte per element, a map two), so a
 * hostile header cannot make us allocate more than the input size. The generic value reader and skipper
 * are depth-limited; typed decoders have a schema-bounded depth. Errors are {@link DecodeError}s whose path
 * is `<what>@<byte offset>`, e.g. `$.message.slot@57`.
 */
import { DecodeError, ProtocolError } from '../errors.js';
import type { Hex } from '../bytes.js';

const utf8Encoder = new TextEncoder();
/** fatal: reject malformed UTF-8 as Rust's `str::from_utf8` does; ignoreBOM: keep a leading BOM as data. */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const TWO_32 = 0x1_0000_0000;
const LOWER_HEX_0X = /^0x[0-9a-f]*$/;
const ANY_HEX_0X = /^0x[0-9a-fA-F]*$/;
const UPPER_HEX = /[A-F]/;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const MIN_I64 = -(1n << 63n);

/** Thrown by the writer when a model value cannot be encoded (wrong range, bad hex, wrong length). */
export function encodeError(path: string, problem: string): ProtocolError {
  return new ProtocolError('encode.invalid-value', `${path}: ${problem}`, {
    details: 'The value does not fit the Rust type it stands for; fix the value before encoding it.',
  });
}

// ------------------------------------------------------------------------------------------ writer

/** Growable buffer writing rmp-serde's canonical forms. Reusable via {@link MsgpackWriter.reset}. */
export class MsgpackWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Forget the content but keep the buffer (avoids re-growing when encoding many blocks). */
  reset(): this {
    this.pos = 0;
    return this;
  }

  private reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  nil(): this {
    this.reserve(1);
    this.buf[this.pos++] = 0xc0;
    return this;
  }

  bool(value: boolean): this {
    this.reserve(1);
    this.buf[this.pos++] = value ? 0xc3 : 0xc2;
    return this;
  }

  /** rmp `write_uint` for a non-negative safe integer (u8/u16/u32/u64 fields that fit a JS number). */
  uint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0)
      throw encodeError('msgpack', `not a non-negative safe integer: ${value}`);
    this.reserve(9);
    const b = this.buf;
    if (value < 0x80) {
      b[this.pos++] = value;
    } else if (value < 0x100) {
      b[this.pos++] = 0xcc;
      b[this.pos++] = value;
    } else if (value < 0x10000) {
      b[this.pos++] = 0xcd;
      this.view.setUint16(this.pos, value);
      this.pos += 2;
    } else if (value < TWO_32) {
      b[this.pos++] = 0xce;
      this.view.setUint32(this.pos, value);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xcf;
      this.view.setUint32(this.pos, Math.floor(value / TWO_32));
      this.view.setUint32(this.pos + 4, value >>> 0);
      this.pos += 8;
    }
    return this;
  }

  /** rmp `write_uint` for a full-range u64. */
  uint64(value: bigint): this {
    if (value < 0n || value > MAX_U64) throw encodeError('msgpack', `not a u64: ${value}`);
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return this.uint(Number(value));
    this.reserve(9);
    this.buf[this.pos++] = 0xcf;
    this.view.setBigUint64(this.pos, value);
    this.pos += 8;
    return this;
  }

  /** rmp `write_sint` (what rmp-serde uses for i8..i64): non-negative values take the unsigned forms. */
  sint(value: number): this {
    if (!Number.isSafeInteger(value)) throw encodeError('msgpack', `not a safe integer: ${value}`);
    if (value >= 0) return this.uint(value);
    this.reserve(9);
    const b = this.buf;
    if (value >= -32) {
      b[this.pos++] = value & 0xff; // negative fixint e0..ff
    } else if (value >= -128) {
      b[this.pos++] = 0xd0;
      b[this.pos++] = value & 0xff;
    } else if (value >= -32768) {
      b[this.pos++] = 0xd1;
      this.view.setInt16(this.pos, value);
      this.pos += 2;
    } else if (value >= -2147483648) {
      b[this.pos++] = 0xd2;
      this.view.setInt32(this.pos, value);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xd3;
      this.view.setBigInt64(this.pos, BigInt(value));
      this.pos += 8;
    }
    return this;
  }

  /** `write_sint` for a full-range i64 given as bigint (only the generic value encoder needs this). */
  sint64(value: bigint): this {
    if (value < MIN_I64 || value > MAX_U64) throw encodeError('msgpack', `not an i64/u64: ${value}`);
    if (value >= 0n) return this.uint64(value);
    if (value >= BigInt(Number.MIN_SAFE_INTEGER)) return this.sint(Number(value));
    this.reserve(9);
    this.buf[this.pos++] = 0xd3;
    this.view.setBigInt64(this.pos, value);
    this.pos += 8;
    return this;
  }

  private strHeader(byteLength: number): void {
    const b = this.buf;
    if (byteLength < 32) {
      b[this.pos++] = 0xa0 | byteLength;
    } else if (byteLength < 0x100) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = byteLength;
    } else if (byteLength < 0x10000) {
      b[this.pos++] = 0xda;
      this.view.setUint16(this.pos, byteLength);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdb;
      this.view.setUint32(this.pos, byteLength);
      this.pos += 4;
    }
  }

  /** A UTF-8 string (fixstr/str8/16/32). ASCII is copied directly; anything else goes through TextEncoder. */
  str(value: string): this {
    const n = value.length;
    this.reserve(5 + n);
    const start = this.pos;
    this.strHeader(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        // Not ASCII: the byte length differs from n, so rewrite header and body.
        this.pos = start;
        const bytes = utf8Encoder.encode(value);
        if (bytes.length > 0xffff_ffff) throw encodeError('msgpack', 'string longer than 2^32-1 bytes');
        this.reserve(5 + bytes.length);
        this.strHeader(bytes.length);
        this.buf.set(bytes, this.pos);
        this.pos += bytes.length;
        return this;
      }
      b[p++] = c;
    }
    this.pos = p;
    return this;
  }

  /**
   * A `0x`-prefixed lowercase hex string (impl-serde / ssz_types form), validated while it is copied:
   * the model must already be canonical, because Rust would re-encode the *value* in lowercase.
   * `bytes` fixes the decoded length, `maxBytes` bounds it.
   */
  hexStr(value: string, path: string, bytes?: number, maxBytes?: number): this {
    // The regex and encodeInto are native loops: several times faster than a charCodeAt loop for the
    // ~100–300 kB of transaction hex in a busy block.
    if (typeof value !== 'string') throw encodeError(path, `expected a hex string, got ${typeof value}`);
    const n = value.length;
    if ((n & 1) !== 0 || !LOWER_HEX_0X.test(value))
      throw encodeError(path, 'expected a lowercase 0x-prefixed hex string with an even number of digits');
    const byteLen = (n - 2) / 2;
    if (bytes !== undefined && byteLen !== bytes)
      throw encodeError(path, `expected ${bytes} bytes of hex, got ${byteLen}`);
    if (maxBytes !== undefined && byteLen > maxBytes)
      throw encodeError(path, `expected at most ${maxBytes} bytes of hex, got ${byteLen}`);
    this.reserve(5 + n);
    this.strHeader(n);
    utf8Encoder.encodeInto(value, this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return this;
  }

  /** serde `serialize_bytes` → bin8/16/32. */
  bin(value: Uint8Array): this {
    const n = value.length;
    this.reserve(5 + n);
    const b = this.buf;
    if (n < 0x100) {
      b[this.pos++] = 0xc4;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = 0xc5;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    b.set(value, this.pos);
    this.pos += n;
    return this;
  }

  /** A byte slice serialised through serde's generic sequence impl (`Vec<u8>`, `[u8; N]` tuples): an array of uints. */
  byteArray(value: Uint8Array): this {
    const n = value.length;
    this.arrayHeader(n);
    this.reserve(2 * n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const v = value[i]!;
      if (v >= 0x80) b[p++] = 0xcc;
      b[p++] = v;
    }
    this.pos = p;
    return this;
  }

  arrayHeader(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw encodeError('msgpack', `bad array length ${n}`);
    this.reserve(5);
    if (n < 16) {
      this.buf[this.pos++] = 0x90 | n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xdc;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xdd;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    return this;
  }

  mapHeader(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw encodeError('msgpack', `bad map length ${n}`);
    this.reserve(5);
    if (n < 16) {
      this.buf[this.pos++] = 0x80 | n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xde;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xdf;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    return this;
  }

  /** Append already-encoded msgpack bytes. */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** A copy of the bytes written (the writer can be reset and reused afterwards). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** A view of the bytes written, valid only until the next write or reset (no copy). */
  bytesView(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

// ------------------------------------------------------------------------------------------ generic values

/**
 * A MessagePack value as plain JS: integers are `number` when safe and `bigint` otherwise, str is `string`,
 * bin is `Uint8Array`, maps are `Map` (keys may be any value, e.g. bin32 txids).
 */
export type MsgpackValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | MsgpackValue[]
  | Map<MsgpackValue, MsgpackValue>;

/**
 * Encode a generic value with rmp-serde's choice of forms for the matching Rust type: integers as
 * `write_sint`/`write_uint` (same bytes for non-negative values), strings as str, Uint8Array as bin,
 * arrays as arrays, Map as map. Non-integer numbers are refused (no Alys type uses floats).
 */
export function encodeMsgpackValue(value: MsgpackValue, w: MsgpackWriter = new MsgpackWriter()): Uint8Array {
  writeValue(w, value, 0);
  return w.finish();
}

function writeValue(w: MsgpackWriter, value: MsgpackValue, depth: number): void {
  if (depth > DEFAULT_MAX_DEPTH) throw encodeError('msgpack', `nesting deeper than ${DEFAULT_MAX_DEPTH}`);
  if (value === null) w.nil();
  else if (typeof value === 'boolean') w.bool(value);
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw encodeError('msgpack', `only safe integers can be encoded, got ${value}`);
    w.sint(value);
  } else if (typeof value === 'bigint') w.sint64(value);
  else if (typeof value === 'string') w.str(value);
  else if (value instanceof Uint8Array) w.bin(value);
  else if (Array.isArray(value)) {
    w.arrayHeader(value.length);
    for (const item of value) writeValue(w, item, depth + 1);
  } else if (value instanceof Map) {
    w.mapHeader(value.size);
    for (const [k, v] of value) {
      writeValue(w, k, depth + 1);
      writeValue(w, v, depth + 1);
    }
  } else throw encodeError('msgpack', `cannot encode ${typeof value}`);
}

/** Decode exactly one generic value (trailing bytes are an error). Depth-limited. */
export function decodeMsgpackValue(bytes: Uint8Array, options: MsgpackReaderOptions = {}): MsgpackValue {
  const r = new MsgpackReader(bytes, options);
  const value = r.readValue();
  r.end();
  return value;
}

// ------------------------------------------------------------------------------------------ reader

export const DEFAULT_MAX_DEPTH = 64;

export interface MsgpackReaderOptions {
  /** Used as the error path when a read names no field. Default `msgpack`. */
  label?: string;
  /** Maximum nesting for {@link MsgpackReader.readValue} / {@link MsgpackReader.skipValue}. Default 64. */
  maxDepth?: number;
}

/** What a marker byte introduces, for error messages. */
export function describeMarker(m: number): string {
  if (m <= 0x7f || m >= 0xe0 || (m >= 0xcc && m <= 0xd3)) return `an integer (0x${hex2(m)})`;
  if ((m >= 0x80 && m <= 0x8f) || m === 0xde || m === 0xdf) return `a map (0x${hex2(m)})`;
  if ((m >= 0x90 && m <= 0x9f) || m === 0xdc || m === 0xdd) return `an array (0x${hex2(m)})`;
  if ((m >= 0xa0 && m <= 0xbf) || (m >= 0xd9 && m <= 0xdb)) return `a string (0x${hex2(m)})`;
  if (m === 0xc0) return 'nil (0xc0)';
  if (m === 0xc2 || m === 0xc3) return `a bool (0x${hex2(m)})`;
  if (m >= 0xc4 && m <= 0xc6) return `bin (0x${hex2(m)})`;
  if (m === 0xca || m === 0xcb) return `a float (0x${hex2(m)})`;
  if ((m >= 0xc7 && m <= 0xc9) || (m >= 0xd4 && m <= 0xd8)) return `an ext value (0x${hex2(m)})`;
  return `the reserved marker 0x${hex2(m)}`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/**
 * Cursor over untrusted MessagePack. Reads are typed: each method accepts only the markers that the
 * matching Rust deserializer would sensibly accept (any integer marker for integers, with range checks).
 */
export class MsgpackReader {
  readonly bytes: Uint8Array;
  readonly label: string;
  readonly maxDepth: number;
  private readonly view: DataView;
  private pos = 0;

  constructor(bytes: Uint8Array, options: MsgpackReaderOptions = {}) {
    this.bytes = bytes;
    this.label = options.label ?? 'msgpack';
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Throw a DecodeError at `what@offset`. */
  fail(what: string | undefined, problem: string, at: number = this.pos): never {
    throw new DecodeError(`${what ?? this.label}@${at}`, problem);
  }

  private need(n: number, what: string | undefined, of: string): void {
    if (n > this.bytes.length - this.pos)
      this.fail(what, `truncated: ${of} needs ${n} more bytes, only ${this.bytes.length - this.pos} remain`);
  }

  /** The next marker byte, without consuming it. */
  peek(what?: string): number {
    this.need(1, what, 'a value');
    return this.bytes[this.pos]!;
  }

  /** True if the next value is nil (does not consume it). */
  isNil(): boolean {
    return this.pos < this.bytes.length && this.bytes[this.pos] === 0xc0;
  }

  nil(what?: string): null {
    const m = this.peek(what);
    if (m !== 0xc0) this.fail(what, `expected nil, found ${describeMarker(m)}`);
    this.pos++;
    return null;
  }

  bool(what?: string): boolean {
    const m = this.peek(what);
    if (m !== 0xc2 && m !== 0xc3) this.fail(what, `expected a bool, found ${describeMarker(m)}`);
    this.pos++;
    return m === 0xc3;
  }

  /** Any integer marker; `number` when it fits a safe integer, else `bigint`. */
  private integer(what: string | undefined): number | bigint {
    const start = this.pos;
    const m = this.peek(what);
    if (m <= 0x7f) {
      this.pos++;
      return m;
    }
    if (m >= 0xe0) {
      this.pos++;
      return m - 0x100;
    }
    const v = this.view;
    switch (m) {
      case 0xcc:
        this.need(2, what, 'a u8');
        this.pos += 2;
        return this.bytes[start + 1]!;
      case 0xcd:
        this.need(3, what, 'a u16');
        this.pos += 3;
        return v.getUint16(start + 1);
      case 0xce:
        this.need(5, what, 'a u32');
        this.pos += 5;
        return v.getUint32(start + 1);
      case 0xcf: {
        this.need(9, what, 'a u64');
        this.pos += 9;
        const big = v.getBigUint64(start + 1);
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      case 0xd0:
        this.need(2, what, 'an i8');
        this.pos += 2;
        return v.getInt8(start + 1);
      case 0xd1:
        this.need(3, what, 'an i16');
        this.pos += 3;
        return v.getInt16(start + 1);
      case 0xd2:
        this.need(5, what, 'an i32');
        this.pos += 5;
        return v.getInt32(start + 1);
      case 0xd3: {
        this.need(9, what, 'an i64');
        this.pos += 9;
        const big = v.getBigInt64(start + 1);
        return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      default:
        return this.fail(what, `expected an integer, found ${describeMarker(m)}`);
    }
  }

  /**
   * An unsigned integer in `[0, max]` (max ≤ 2^53-1). Like serde's primitive visitors, any integer marker
   * is accepted (non-minimal or signed forms included) as long as the value is in range.
   */
  uint(what?: string, max: number = Number.MAX_SAFE_INTEGER): number {
    const at = this.pos;
    const value = this.integer(what);
    if (typeof value === 'bigint' || value < 0 || value > max)
      this.fail(what, `integer ${value} is out of range 0..${max}`, at);
    return value;
  }

  /** A full-range u64 as bigint (any integer marker, value in range). */
  uint64(what?: string): bigint {
    const at = this.pos;
    const value = this.integer(what);
    const big = BigInt(value);
    if (big < 0n || big > MAX_U64) this.fail(what, `integer ${value} is out of range for u64`, at);
    return big;
  }

  /** A signed integer in `[min, max]` (e.g. i32). */
  int(what: string | undefined, min: number, max: number): number {
    const at = this.pos;
    const value = this.integer(what);
    if (typeof value === 'bigint' || value < min || value > max)
      this.fail(what, `integer ${value} is out of range ${min}..${max}`, at);
    return value;
  }

  /** Reads a str header (fixstr/str8/16/32) and returns the byte length, checked against what remains. */
  private strLength(what: string | undefined): number {
    const m = this.peek(what);
    let len: number;
    if (m >= 0xa0 && m <= 0xbf) {
      len = m & 0x1f;
      this.pos += 1;
    } else if (m === 0xd9) {
      this.need(2, what, 'a str8 header');
      len = this.bytes[this.pos + 1]!;
      this.pos += 2;
    } else if (m === 0xda) {
      this.need(3, what, 'a str16 header');
      len = this.view.getUint16(this.pos + 1);
      this.pos += 3;
    } else if (m === 0xdb) {
      this.need(5, what, 'a str32 header');
      len = this.view.getUint32(this.pos + 1);
      this.pos += 5;
    } else {
      return this.fail(what, `expected a string, found ${describeMarker(m)}`);
    }
    this.need(len, what, `a string of ${len} bytes`);
    return len;
  }

  /** A UTF-8 string of at most `maxBytes` bytes; malformed UTF-8 is rejected. */
  str(what?: string, maxBytes: number = Number.MAX_SAFE_INTEGER): string {
    const at = this.pos;
    const len = this.strLength(what);
    if (len > maxBytes) this.fail(what, `string of ${len} bytes is longer than the limit of ${maxBytes}`, at);
    const body = this.bytes.subarray(this.pos, this.pos + len);
    let s: string;
    try {
      s = utf8Decoder.decode(body);
    } catch {
      return this.fail(what, 'string is not valid UTF-8', at);
    }
    this.pos += len;
    return s;
  }

  /**
   * A `0x`-prefixed hex string (impl-serde / ssz_types serde form) of exactly `bytes` or at most `maxBytes`
   * decoded bytes. Upper-case digits are accepted (the Rust hex decoders accept them) and normalised to
   * lowercase; the `0x` prefix is required (stricter than impl-serde, which also takes unprefixed hex;
   * ssz_types requires it).
   */
  hexStr(what: string | undefined, opts: { bytes?: number; maxBytes?: number } = {}): Hex {
    const at = this.pos;
    const len = this.strLength(what);
    const b = this.bytes;
    const p = this.pos;
    if (len < 2 || b[p] !== 0x30 || b[p + 1] !== 0x78) this.fail(what, 'expected a 0x-prefixed hex string', at);
    if ((len & 1) !== 0) this.fail(what, 'hex string has an odd number of digits', at);
    const n = (len - 2) / 2;
    if (opts.bytes !== undefined && n !== opts.bytes)
      this.fail(what, `expected ${opts.bytes} bytes of hex, got ${n}`, at);
    if (opts.maxBytes !== undefined && n > opts.maxBytes)
      this.fail(what, `expected at most ${opts.maxBytes} bytes of hex, got ${n}`, at);
    let s: string;
    try {
      s = utf8Decoder.decode(b.subarray(p, p + len));
    } catch {
      return this.fail(what, 'hex string is not valid UTF-8', at);
    }
    if (!ANY_HEX_0X.test(s))
      this.fail(what, `non-hex character in ${JSON.stringify(s.length > 24 ? s.slice(0, 24) + '…' : s)}`, at);
    this.pos += len;
    return (UPPER_HEX.test(s) ? s.toLowerCase() : s) as Hex;
  }

  /** bin8/16/32 (serde `serialize_bytes`), exactly `length` or at most `maxLength` bytes. Returns a copy. */
  bin(what?: string, opts: { length?: number; maxLength?: number } = {}): Uint8Array {
    const at = this.pos;
    const m = this.peek(what);
    let len: number;
    if (m === 0xc4) {
      this.need(2, what, 'a bin8 header');
      len = this.bytes[this.pos + 1]!;
      this.pos += 2;
    } else if (m === 0xc5) {
      this.need(3, what, 'a bin16 header');
      len = this.view.getUint16(this.pos + 1);
      this.pos += 3;
    } else if (m === 0xc6) {
      this.need(5, what, 'a bin32 header');
      len = this.view.getUint32(this.pos + 1);
      this.pos += 5;
    } else {
      return this.fail(what, `expected bin, found ${describeMarker(m)}`);
    }
    if (opts.length !== undefined && len !== opts.length)
      this.fail(what, `expected ${opts.length} bytes, got ${len}`, at);
    if (opts.maxLength !== undefined && len > opts.maxLength)
      this.fail(what, `expected at most ${opts.maxLength} bytes, got ${len}`, at);
    this.need(len, what, `bin of ${len} bytes`);
    const out = this.bytes.slice(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /**
   * An array header. `length` requires an exact element count (struct arity), `max` bounds it.
   * The count is checked against the remaining bytes (each element needs at least one).
   */
  arrayHeader(what?: string, opts: { length?: number; max?: number } = {}): number {
    const at = this.pos;
    const m = this.peek(what);
    let n: number;
    if (m >= 0x90 && m <= 0x9f) {
      n = m & 0x0f;
      this.pos += 1;
    } else if (m === 0xdc) {
      this.need(3, what, 'an array16 header');
      n = this.view.getUint16(this.pos + 1);
      this.pos += 3;
    } else if (m === 0xdd) {
      this.need(5, what, 'an array32 header');
      n = this.view.getUint32(this.pos + 1);
      this.pos += 5;
    } else {
      return this.fail(what, `expected an array, found ${describeMarker(m)}`);
    }
    if (opts.length !== undefined && n !== opts.length)
      this.fail(what, `expected an array of ${opts.length} elements, got ${n}`, at);
    if (opts.max !== undefined && n > opts.max) this.fail(what, `expected at most ${opts.max} elements, got ${n}`, at);
    if (n > this.remaining)
      this.fail(what, `array of ${n} elements cannot fit in the ${this.remaining} remaining bytes`, at);
    return n;
  }

  /** A map header; the entry count is checked against the remaining bytes (two per entry at least). */
  mapHeader(what?: string, opts: { length?: number; max?: number } = {}): number {
    const at = this.pos;
    const m = this.peek(what);
    let n: number;
    if (m >= 0x80 && m <= 0x8f) {
      n = m & 0x0f;
      this.pos += 1;
    } else if (m === 0xde) {
      this.need(3, what, 'a map16 header');
      n = this.view.getUint16(this.pos + 1);
      this.pos += 3;
    } else if (m === 0xdf) {
      this.need(5, what, 'a map32 header');
      n = this.view.getUint32(this.pos + 1);
      this.pos += 5;
    } else {
      return this.fail(what, `expected a map, found ${describeMarker(m)}`);
    }
    if (opts.length !== undefined && n !== opts.length)
      this.fail(what, `expected a map of ${opts.length} entries, got ${n}`, at);
    if (opts.max !== undefined && n > opts.max) this.fail(what, `expected at most ${opts.max} entries, got ${n}`, at);
    if (2 * n > this.remaining)
      this.fail(what, `map of ${n} entries cannot fit in the ${this.remaining} remaining bytes`, at);
    return n;
  }

  /** Require that every byte was consumed. */
  end(what?: string): void {
    if (this.pos !== this.bytes.length) this.fail(what, `${this.remaining} unexpected trailing bytes`);
  }

  /** Decode any value (depth-limited). Floats are returned as numbers; ext values are refused. */
  readValue(depth = 0): MsgpackValue {
    const m = this.peek();
    if (m <= 0x7f || m >= 0xe0 || (m >= 0xcc && m <= 0xd3)) return this.integer(undefined);
    if (m === 0xc0) return this.nil();
    if (m === 0xc2 || m === 0xc3) return this.bool();
    if ((m >= 0xa0 && m <= 0xbf) || (m >= 0xd9 && m <= 0xdb)) return this.str();
    if (m >= 0xc4 && m <= 0xc6) return this.bin();
    if (m === 0xca) {
      this.need(5, undefined, 'a float32');
      const f = this.view.getFloat32(this.pos + 1);
      this.pos += 5;
      return f;
    }
    if (m === 0xcb) {
      this.need(9, undefined, 'a float64');
      const f = this.view.getFloat64(this.pos + 1);
      this.pos += 9;
      return f;
    }
    if ((m >= 0x90 && m <= 0x9f) || m === 0xdc || m === 0xdd) {
      if (depth >= this.maxDepth) this.fail(undefined, `nesting deeper than ${this.maxDepth}`);
      const n = this.arrayHeader();
      const out: MsgpackValue[] = new Array<MsgpackValue>(n);
      for (let i = 0; i < n; i++) out[i] = this.readValue(depth + 1);
      return out;
    }
    if ((m >= 0x80 && m <= 0x8f) || m === 0xde || m === 0xdf) {
      if (depth >= this.maxDepth) this.fail(undefined, `nesting deeper than ${this.maxDepth}`);
      const n = this.mapHeader();
      const out = new Map<MsgpackValue, MsgpackValue>();
      for (let i = 0; i < n; i++) {
        const k = this.readValue(depth + 1);
        out.set(k, this.readValue(depth + 1));
      }
      return out;
    }
    return this.fail(undefined, `unsupported value: ${describeMarker(m)}`);
  }

  /** Skip one value without materialising it (depth-limited, no allocation). */
  skipValue(depth = 0): void {
    const m = this.peek();
    if (m <= 0x7f || m >= 0xe0 || (m >= 0xcc && m <= 0xd3)) {
      this.integer(undefined);
    } else if (m === 0xc0 || m === 0xc2 || m === 0xc3) {
      this.pos++;
    } else if ((m >= 0xa0 && m <= 0xbf) || (m >= 0xd9 && m <= 0xdb)) {
      const len = this.strLength(undefined); // moves past the header; read before adding
      this.pos += len;
    } else if (m >= 0xc4 && m <= 0xc6) {
      const lenBytes = m === 0xc4 ? 1 : m === 0xc5 ? 2 : 4;
      this.need(1 + lenBytes, undefined, 'a bin header');
      const len =
        lenBytes === 1
          ? this.bytes[this.pos + 1]!
          : lenBytes === 2
            ? this.view.getUint16(this.pos + 1)
            : this.view.getUint32(this.pos + 1);
      this.pos += 1 + lenBytes;
      this.need(len, undefined, `bin of ${len} bytes`);
      this.pos += len;
    } else if (m === 0xca || m === 0xcb) {
      const n = m === 0xca ? 5 : 9;
      this.need(n, undefined, 'a float');
      this.pos += n;
    } else if ((m >= 0x90 && m <= 0x9f) || m === 0xdc || m === 0xdd) {
      if (depth >= this.maxDepth) this.fail(undefined, `nesting deeper than ${this.maxDepth}`);
      const n = this.arrayHeader();
      for (let i = 0; i < n; i++) this.skipValue(depth + 1);
    } else if ((m >= 0x80 && m <= 0x8f) || m === 0xde || m === 0xdf) {
      if (depth >= this.maxDepth) this.fail(undefined, `nesting deeper than ${this.maxDepth}`);
      const n = this.mapHeader();
      for (let i = 0; i < 2 * n; i++) this.skipValue(depth + 1);
    } else {
      this.fail(undefined, `unsupported value: ${describeMarker(m)}`);
    }
  }
}
