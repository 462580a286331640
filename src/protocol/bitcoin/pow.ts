/**
 * Compact targets ("bits"), proof of work and chain work.
 *
 * Two decoders exist on purpose, because the two programs we must match differ at the edges:
 * - {@link targetFromCompact}: rust-bitcoin 0.30.2 `Target::from_compact`, which Alys uses for the
 *   AuxPoW parent-block check (alys-protocol.md 4.4). A mantissa above 0x7fffff (sign bit set)
 *   gives target 0; for exponents <= 3 the sign bit is shifted together with the mantissa; the
 *   shift amount is taken modulo 256 (rust-bitcoin's U256 `wrapping_shl` masks it to 8 bits), so
 *   exponents >= 35 wrap around instead of overflowing. Bits shifted past 2^256 are dropped.
 * - {@link decodeCompact}: Bitcoin Core `arith_uint256::SetCompact`, with its negative and
 *   overflow flags; used for Bitcoin header-chain verification and chain work.
 * The encoder {@link encodeCompact} is Core's truncating `GetCompact` (optionally with the sign
 * bit), which is also exactly Alys's `target_to_compact_lossy` for non-negative targets.
 */
import type { BitcoinHeader } from '../types.js';
import { hashMeetsTarget } from './hash.js';
import { headerHash } from './header.js';

import { U256_MAX } from '../bytes.js';

export { U256_MAX };

/**
 * Compact bits to a target. `shiftOverflow: 'wrap'` (default) is rust-bitcoin 0.30.2's
 * `Target::from_compact` (shift taken mod 256); `'zero'` is primitive-types U256, used by Alys's
 * retarget (a shift of 256 bits or more gives 0).
 */
export function targetFromCompact(bits: number, shiftOverflow: 'wrap' | 'zero' = 'wrap'): bigint {
  const c = bits >>> 0;
  const exponent = c >>> 24;
  let mantissa: number;
  let shift: number;
  if (exponent <= 3) {
    mantissa = (c & 0xffffff) >>> (8 * (3 - exponent));
    shift = 0;
  } else {
    mantissa = c & 0xffffff;
    shift = 8 * (exponent - 3);
  }
  if (mantissa > 0x7fffff) return 0n;
  if (shift >= 256 && shiftOverflow === 'zero') return 0n;
  return (BigInt(mantissa) << BigInt(shift % 256)) & U256_MAX;
}

export interface DecodedCompact {
  target: bigint;
  /** Core's pfNegative: sign bit set with a non-zero mantissa. */
  negative: boolean;
  /** Core's pfOverflow: the value does not fit 256 bits. */
  overflow: boolean;
}

/** Bitcoin Core `arith_uint256::SetCompact`, with its negative/overflow flags. */
export function decodeCompact(bits: number): DecodedCompact {
  const c = bits >>> 0;
  const size = c >>> 24;
  let word = c & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word = word >>> (8 * (3 - size));
    target = BigInt(word);
  } else {
    target = (BigInt(word) << BigInt(8 * (size - 3))) & U256_MAX;
  }
  const negative = word !== 0 && (c & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * Bitcoin Core `arith_uint256::GetCompact(negative)`: truncating (never rounds up) compact encoding
 * of a 256-bit target. With `negative = false` this is byte-for-byte Alys's `target_to_compact_lossy`.
 */
export function encodeCompact(target: bigint, negative = false): number {
  if (target < 0n || target > U256_MAX)
    throw new RangeError(`encodeCompact: target must be in [0, 2^256), got ${target}`);
  let size = Math.ceil(bitLength(target) / 8);
  let compact =
    size <= 3
      ? Number((target << BigInt(8 * (3 - size))) & 0xffffffffn)
      : Number((target >> BigInt(8 * (size - 3))) & 0xffffffffn);
  // The mantissa is signed: if its top bit would be set, move one byte into the exponent.
  if (compact & 0x00800000) {
    compact >>>= 8;
    size += 1;
  }
  compact = (compact | (size << 24)) >>> 0;
  if (negative && (compact & 0x007fffff) !== 0) compact = (compact | 0x00800000) >>> 0;
  return compact;
}

/**
 * `hash <= target` with the hash read as a little-endian integer (rust-bitcoin `Target::is_met_by`,
 * Bitcoin Core's comparison). Accepts a header, its 80 bytes, or its 32-byte internal-order hash.
 */
export function checkProofOfWork(header: BitcoinHeader | Uint8Array, target: bigint): boolean {
  const hash = header instanceof Uint8Array && header.length === 32 ? header : headerHash(header);
  return hashMeetsTarget(hash, target);
}

/**
 * Bitcoin Core `CheckProofOfWork(hash, bits, powLimit)`: false when the compact value is negative,
 * zero, overflowing or above the proof-of-work limit, else `hash <= target`.
 */
export function checkProofOfWorkCore(hash: Uint8Array, bits: number, powLimit: bigint): boolean {
  const { target, negative, overflow } = decodeCompact(bits);
  if (negative || overflow || target === 0n || target > powLimit) return false;
  return hashMeetsTarget(hash, target);
}

/**
 * Expected work of a block with these bits (Bitcoin Core `GetBlockProof`): floor(2^256 / (target+1)),
 * 0 for negative/overflowing/zero compact values. Chain work is the sum over the chain.
 */
export function workFromBits(bits: number): bigint {
  const { target, negative, overflow } = decodeCompact(bits);
  if (negative || overflow || target === 0n) return 0n;
  return (1n << 256n) / (target + 1n);
}
