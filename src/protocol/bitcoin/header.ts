/**
 * The 80-byte Bitcoin block header: consensus decode/encode and hash.
 *
 * Layout: version i32 LE || prev_blockhash[32] || merkle_root[32] || time u32 LE || bits u32 LE ||
 * nonce u32 LE. Hashes are internal byte order (see hash.ts for display conversion).
 */
import { ByteReader, type ByteWriter } from '../bytes.js';
import { DecodeError } from '../errors.js';
import type { BitcoinHeader } from '../types.js';
import { sha256d, toDisplayHex } from './hash.js';

export type { BitcoinHeader };

export const HEADER_SIZE = 80;

/** Read one header from `r` (80 bytes). */
export function readHeader(r: ByteReader): BitcoinHeader {
  const version = r.i32le('header version');
  const prevBlockhash = r.take(32, 'header prev_blockhash').slice();
  const merkleRoot = r.take(32, 'header merkle_root').slice();
  const time = r.u32le('header time');
  const bits = r.u32le('header bits');
  const nonce = r.u32le('header nonce');
  return { version, prevBlockhash, merkleRoot, time, bits, nonce };
}

/** Decode exactly 80 bytes. */
export function decodeHeader(bytes: Uint8Array, label = 'header'): BitcoinHeader {
  if (bytes.length !== HEADER_SIZE)
    throw new DecodeError(label, `a block header is ${HEADER_SIZE} bytes, got ${bytes.length}`);
  return readHeader(new ByteReader(bytes, label));
}

function checkHeaderFields(h: BitcoinHeader): void {
  if (!Number.isInteger(h.version) || h.version < -0x80000000 || h.version > 0x7fffffff)
    throw new DecodeError('header.version', `expected an i32, got ${h.version}`);
  for (const [name, v] of [
    ['time', h.time],
    ['bits', h.bits],
    ['nonce', h.nonce],
  ] as const)
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw new DecodeError(`header.${name}`, `expected a u32, got ${v}`);
  if (h.prevBlockhash.length !== 32)
    throw new DecodeError('header.prevBlockhash', `expected 32 bytes, got ${h.prevBlockhash.length}`);
  if (h.merkleRoot.length !== 32)
    throw new DecodeError('header.merkleRoot', `expected 32 bytes, got ${h.merkleRoot.length}`);
}

/** Append the 80-byte encoding of `h` to `w`. */
export function writeHeader(w: ByteWriter, h: BitcoinHeader): void {
  checkHeaderFields(h);
  w.i32le(h.version).bytes(h.prevBlockhash).bytes(h.merkleRoot).u32le(h.time).u32le(h.bits).u32le(h.nonce);
}

/** The 80-byte encoding of `h`. */
export function encodeHeader(h: BitcoinHeader): Uint8Array {
  checkHeaderFields(h);
  const out = new Uint8Array(HEADER_SIZE);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, h.version, true);
  out.set(h.prevBlockhash, 4);
  out.set(h.merkleRoot, 36);
  dv.setUint32(68, h.time, true);
  dv.setUint32(72, h.bits, true);
  dv.setUint32(76, h.nonce, true);
  return out;
}

/** Block hash, internal byte order: SHA256d of the 80-byte header (pass the raw bytes to skip re-encoding). */
export function headerHash(h: BitcoinHeader | Uint8Array): Uint8Array {
  if (h instanceof Uint8Array) {
    if (h.length !== HEADER_SIZE)
      throw new DecodeError('header', `a block header is ${HEADER_SIZE} bytes, got ${h.length}`);
    return sha256d(h);
  }
  return sha256d(encodeHeader(h));
}

/** Block hash as explorers print it (byte-reversed hex). */
export function headerHashDisplay(h: BitcoinHeader | Uint8Array): string {
  return toDisplayHex(headerHash(h));
}
