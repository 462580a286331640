/**
 * Byte framing of Alys's request/response protocol (alys-protocol.md 7.3, as in Ethereum consensus):
 * unsigned LEB128 varints for lengths and the Snappy *framing* format (stream identifier, compressed
 * or uncompressed chunks of at most 64 KiB each, masked CRC-32C of the uncompressed bytes).
 *
 * Pure functions; raw Snappy blocks are compressed by `snappyjs` (pure JS, runs everywhere) and decoded by
 * our own strict decoder (snappy.ts).
 * Decoding is strict and bounded: every failure is a DecodeError naming what was wrong, and no input
 * can make us allocate more than the caller's limit.
 */
import snappy from 'snappyjs';
import { concatBytes } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { snappyUncompress } from './snappy.js';

// ------------------------------------------------------------------ unsigned varint

/** Unsigned LEB128 of a safe integer (at most 8 bytes for our lengths). */
export function encodeUvarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`uvarint: ${n} is not a non-negative safe integer`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/**
 * Decode a uvarint at `offset`. Returns null when the bytes end inside it (read more first).
 * Stricter than some decoders: more than 8 bytes, or a non-minimal encoding (a trailing 0x00
 * group), is a DecodeError (the unsigned-varint crate Lighthouse uses refuses both too).
 */
export function decodeUvarint(
  bytes: Uint8Array,
  offset = 0,
  label = 'uvarint',
): { value: number; length: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (offset + i >= bytes.length) return null;
    const b = bytes[offset + i]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) throw new DecodeError(label, 'non-minimal varint encoding');
      return { value, length: i + 1 };
    }
    scale *= 0x80;
  }
  throw new DecodeError(label, 'varint longer than 8 bytes');
}

// ------------------------------------------------------------------ CRC-32C (Castagnoli)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (reflected polynomial 0x82F63B78); crc32c("123456789") = 0xE3069283. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The framing format's masked checksum: rotate right by 15, add 0xa282ead8. */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// ------------------------------------------------------------------ Snappy framing format

/** The stream identifier chunk: ff 06 00 00 "sNaPpY". */
export const SNAPPY_STREAM_IDENTIFIER = Uint8Array.of(0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59);
const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_PADDING = 0xfe;
const CHUNK_STREAM_ID = 0xff;
/** Uncompressed bytes per chunk, at most (framing format). */
const MAX_CHUNK_DATA = 65_536;

function chunkHeader(type: number, length: number): Uint8Array {
  return Uint8Array.of(type, length & 0xff, (length >>> 8) & 0xff, (length >>> 16) & 0xff);
}

function le32(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
}

/** `data` in the Snappy framing format: the identifier, then one chunk per 64 KiB (compressed unless that is larger). */
export function snappyFrameEncode(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [SNAPPY_STREAM_IDENTIFIER];
  for (let o = 0; o < data.length; o += MAX_CHUNK_DATA) {
    const piece = data.subarray(o, o + MAX_CHUNK_DATA);
    const crc = le32(maskedCrc32c(piece));
    const compressed = snappy.compress(piece) as Uint8Array;
    if (compressed.length < piece.length)
      parts.push(chunkHeader(CHUNK_COMPRESSED, compressed.length + 4), crc, compressed);
    else parts.push(chunkHeader(CHUNK_UNCOMPRESSED, piece.length + 4), crc, piece);
  }
  return concatBytes(...parts);
}

/** The most body bytes a framing chunk can need: 64 KiB of data in Snappy's worst case, its checksum, slack. */
const MAX_CHUNK_BODY = MAX_CHUNK_DATA + 4 + Math.ceil(MAX_CHUNK_DATA / 6) + 32;

/**
 * The data of one framed stream that must hold exactly `expectedLength` bytes, assembled a framing chunk
 * at a time (the shared core of {@link snappyFrameDecode} and of incremental decoders such as the
 * blocks_by_range ResponseDecoder). Each chunk's data is checked and copied into `data` once.
 */
export class SnappyFrameSink {
  readonly data: Uint8Array;
  private filled = 0;
  private sawIdentifier = false;
  /** Uncompressed bytes produced so far (each checksummed and copied once). */
  decoded = 0;

  constructor(
    expectedLength: number,
    private readonly label = 'snappy',
  ) {
    this.data = new Uint8Array(expectedLength);
  }

  /** True once the identifier and all the announced data were seen (the next byte is not ours). */
  get done(): boolean {
    return this.sawIdentifier && this.filled === this.data.length;
  }

  /** Take one framing chunk (its type byte and body); DecodeError on anything malformed. */
  add(type: number, body: Uint8Array): void {
    const label = this.label;
    const len = body.length;
    if (type === CHUNK_STREAM_ID) {
      if (
        len !== 6 ||
        body[0] !== 0x73 ||
        body[1] !== 0x4e ||
        body[2] !== 0x61 ||
        body[3] !== 0x50 ||
        body[4] !== 0x70 ||
        body[5] !== 0x59
      )
        throw new DecodeError(label, 'bad stream identifier chunk');
      this.sawIdentifier = true;
      return;
    }
    if (!this.sawIdentifier)
      throw new DecodeError(
        label,
        `stream does not start with the identifier chunk (chunk type 0x${type.toString(16)})`,
      );
    if (type === CHUNK_COMPRESSED || type === CHUNK_UNCOMPRESSED) {
      if (len < 4) throw new DecodeError(label, 'data chunk shorter than its checksum');
      const expectedLength = this.data.length;
      const crc = body[0]! | (body[1]! << 8) | (body[2]! << 16) | (body[3]! << 24);
      let data: Uint8Array;
      if (type === CHUNK_UNCOMPRESSED) data = body.subarray(4);
      else {
        data = snappyUncompress(
          body.subarray(4),
          Math.min(MAX_CHUNK_DATA, expectedLength - this.filled),
          `${label}.compressed`,
        );
      }
      if (data.length > MAX_CHUNK_DATA)
        throw new DecodeError(label, `chunk holds ${data.length} bytes, more than 65536`);
      if (this.filled + data.length > expectedLength)
        throw new DecodeError(label, `more data than the announced ${expectedLength} bytes`);
      this.decoded += data.length;
      if (maskedCrc32c(data) !== crc >>> 0) throw new DecodeError(label, 'chunk checksum mismatch');
      this.data.set(data, this.filled);
      this.filled += data.length;
      return;
    }
    if (type === CHUNK_PADDING || (type >= 0x80 && type <= 0xfd)) return; // skippable
    throw new DecodeError(label, `reserved unskippable chunk type 0x${type.toString(16)}`);
  }
}

/** The body length a 4-byte framing chunk header at `offset` announces. */
export function frameChunkLength(bytes: Uint8Array, offset = 0): number {
  return bytes[offset + 1]! | (bytes[offset + 2]! << 8) | (bytes[offset + 3]! << 16);
}

/**
 * Decode a framed stream that must hold exactly `expectedLength` uncompressed bytes (the length the
 * message's varint announced). Returns the data and how many framed bytes it used, or null when the
 * bytes end before the data is complete. DecodeError on anything malformed: a missing or wrong stream
 * identifier, a bad checksum, a reserved chunk type, more data than announced.
 */
export function snappyFrameDecode(
  bytes: Uint8Array,
  expectedLength: number,
  offset = 0,
  label = 'snappy',
): { data: Uint8Array; length: number } | null {
  const sink = new SnappyFrameSink(expectedLength, label);
  let o = offset;
  while (!sink.done) {
    if (o + 4 > bytes.length) return null;
    const len = frameChunkLength(bytes, o);
    if (o + 4 + len > bytes.length) {
      // a chunk can never be larger than 64 KiB of data plus Snappy's worst case: refuse early
      if (len > MAX_CHUNK_BODY)
        throw new DecodeError(label, `chunk of ${len} bytes is larger than the framing format allows`);
      return null;
    }
    sink.add(bytes[o]!, bytes.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return { data: sink.data, length: o - offset };
}
