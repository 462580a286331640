/**
 * Bitcoin hashing primitives and the display-order helpers.
 *
 * Bitcoin hashes (txid, block hash, merkle nodes) are kept as 32-byte `Uint8Array`s in
 * **internal** order, i.e. exactly the bytes SHA256d produced. Explorers, RPCs and JSON show them
 * byte-reversed ("display order"); only the helpers here convert between the two.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, parseHex, reverse } from '../bytes.js';

/** SHA256(SHA256(data)). */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

/**
 * SHA256d(left || right) without concatenating into a new buffer: the merkle-node hash used by
 * Bitcoin block merkle trees, BIP37 partial trees and AuxPoW branches.
 */
export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(sha256.create().update(left).update(right).digest());
}

/** Internal-order hash -> display hex (byte-reversed, lowercase, no 0x), as explorers print it. */
export function toDisplayHex(hash: Uint8Array): string {
  return bytesToHex(reverse(hash));
}

/** Display hex (64 digits, no 0x) -> internal-order bytes. Throws DecodeError naming `path`. */
export function fromDisplayHex(hex: unknown, path = '$'): Uint8Array {
  return reverse(parseHex(hex, path, { prefix: 'forbidden', length: 32 }));
}

/** Internal-order bytes read as a little-endian unsigned integer (how Bitcoin compares a hash with a target). */
export function hashToBigIntLE(hash: Uint8Array): bigint {
  // One hex round trip is far cheaper than 32 BigInt shifts.
  return hash.length === 0 ? 0n : BigInt('0x' + bytesToHex(reverse(hash)));
}
