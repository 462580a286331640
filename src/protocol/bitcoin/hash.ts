/**
 * Bitcoin hashing primitives and the display-order helpers.
 *
 * Bitcoin hashes (txid, block hash, merkle nodes) are kept as 32-byte `Uint8Array`s in
 * **internal** order, i.e. exactly the bytes SHA256d produced. Explorers, RPCs and JSON show them
 * byte-reversed ("display order"); only the helpers here convert between the two.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, parseHex, reverse } from '../bytes.js';

type Sha256 = ReturnType<typeof sha256.create>;
/** The SHA-256 initial state, never updated; `worker` is reset from it with noble's `_cloneInto`. */
const initial: Sha256 = sha256.create();
let worker: Sha256 | undefined;
const inner = new Uint8Array(32);

/**
 * SHA256(SHA256(parts...)) into a fresh 32-byte array. Header PoW, txids and merkle folds call this
 * millions of times during a sync; `sha256(x)` builds a hasher (and its views) per call, so one
 * worker is reset from the initial state and reused instead. Synchronous, so sharing is safe.
 */
function sha256dParts(a: Uint8Array, b?: Uint8Array): Uint8Array {
  worker = initial._cloneInto(worker);
  worker.update(a);
  if (b) worker.update(b);
  worker.digestInto(inner);
  worker = initial._cloneInto(worker);
  worker.update(inner);
  const out = new Uint8Array(32);
  worker.digestInto(out);
  return out;
}

/** SHA256(SHA256(data)). */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256dParts(data);
}

/**
 * SHA256d(left || right) without concatenating into a new buffer: the merkle-node hash used by
 * Bitcoin block merkle trees, BIP37 partial trees and AuxPoW branches.
 */
export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256dParts(left, right);
}

/** Internal-order hash -> display hex (byte-reversed, lowercase, no 0x), as explorers print it. */
export function toDisplayHex(hash: Uint8Array): string {
  return bytesToHex(reverse(hash));
}

/** Display hex (64 digits, no 0x) -> internal-order bytes. Throws DecodeError naming `path`. */
export function fromDisplayHex(hex: unknown, path = '$'): Uint8Array {
  return reverse(parseHex(hex, path, { prefix: 'forbidden', length: 32 }));
}

/**
 * `hash <= target`, the hash read as a little-endian 256-bit integer, without building a bigint:
 * compare bytes from the most significant (index 31) down. `target` must be in [0, 2^256).
 */
export function hashMeetsTarget(hash: Uint8Array, target: bigint): boolean {
  let t = target;
  // target bytes, least significant first, compared against hash bytes from the top
  const tb = targetBytes.get(t);
  const bytes = tb ?? new Uint8Array(32);
  if (!tb) {
    for (let i = 0; i < 32; i++) {
      bytes[i] = Number(t & 0xffn);
      t >>= 8n;
    }
    if (targetBytes.size > 64) targetBytes.clear();
    targetBytes.set(target, bytes);
  }
  for (let i = 31; i >= 0; i--) {
    const h = hash[i]!;
    const x = bytes[i]!;
    if (h !== x) return h < x;
  }
  return true;
}
/** Targets seen recently as little-endian bytes (a sync checks thousands of headers with the same bits). */
const targetBytes = new Map<bigint, Uint8Array>();

/** Internal-order bytes read as a little-endian unsigned integer (how Bitcoin compares a hash with a target). */
export function hashToBigIntLE(hash: Uint8Array): bigint {
  // One hex round trip is far cheaper than 32 BigInt shifts.
  return hash.length === 0 ? 0n : BigInt('0x' + bytesToHex(reverse(hash)));
}
