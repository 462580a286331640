/**
 * Alys difficulty retargeting (`get_next_work_required` / `calculate_next_work_required` in
 * repo:app/src/auxpow_miner.rs at d5c6605; alys-protocol.md 4.6). Not Bitcoin's rule.
 *
 *   diff  = (headHeight + 1 - last.blockNumber) as u32          (0 becomes 1)
 *   if powNoRetargeting or not (headHeight % interval == 0 or diff > interval): keep last.bits
 *   ratio = round_half_even(diff / powTargetSpacing, 2 decimals)  (rust_decimal round_dp)
 *   lo = maxPowAdjustment / 100, hi = lo + 1
 *   ratio < 1 -> min(ratio, lo)   [sic: min, so every ratio < 1 becomes <= lo]
 *   ratio > 1 -> min(ratio, hi)
 *   pct   = trunc(ratio * 100) as u8
 *   new   = saturating( floor(T / 100) * pct ),  T = target of last.bits (primitive-types U256)
 *   bits  = compact_lossy(new)                                  (no pow-limit clamp)
 *
 * Everything is exact integer arithmetic: the ratio is kept in hundredths. rust_decimal's
 * division carries 28 significant digits before `round_dp`, far more than needed to decide a
 * half-way case exactly for any u32 `diff` (see the report note), so the result is identical.
 */
import { DecodeError, ProtocolError } from '../errors.js';
import type { RetargetParams } from '../types.js';
import { encodeCompact, targetFromCompact, U256_MAX } from '../bitcoin/pow.js';

export type { RetargetParams };

/**
 * `uint256_target_from_compact` (primitive-types U256, used by Alys's retarget): like rust-bitcoin's
 * `Target::from_compact` but a shift of 256 bits or more gives 0 instead of wrapping.
 */
export function targetFromCompactU256(bits: number): bigint {
  return targetFromCompact(bits, 'zero');
}

/** Alys `target_to_compact_lossy` (= Bitcoin Core's truncating GetCompact for non-negative targets). */
export function compactLossy(target: bigint): number {
  return encodeCompact(target);
}

function checkParams(p: RetargetParams): { spacing: bigint; interval: bigint } {
  for (const key of ['powTargetTimespan', 'powTargetSpacing', 'maxPowAdjustment'] as const) {
    const v = p[key];
    if (!Number.isSafeInteger(v) || v < 0)
      throw new DecodeError(`retargetParams.${key}`, `expected a non-negative integer, got ${v}`);
  }
  if (p.maxPowAdjustment > 255)
    throw new DecodeError('retargetParams.maxPowAdjustment', `expected a u8 percentage, got ${p.maxPowAdjustment}`);
  if (p.powTargetSpacing === 0)
    throw new DecodeError('retargetParams.powTargetSpacing', 'must be positive (Alys would divide by zero)');
  const interval = BigInt(p.powTargetTimespan) / BigInt(p.powTargetSpacing);
  if (interval === 0n)
    throw new DecodeError(
      'retargetParams.powTargetTimespan',
      'must be at least powTargetSpacing (Alys would take a remainder by zero)',
    );
  return { spacing: BigInt(p.powTargetSpacing), interval };
}

/** Whether Alys retargets for the block after `headHeight` (else it reuses the last PoW bits). */
export function isRetargetHeight(headHeight: number, heightDifference: number, params: RetargetParams): boolean {
  const { interval } = checkParams(params);
  return BigInt(headHeight) % interval === 0n || BigInt(heightDifference) > (interval & 0xffffffffn);
}

/**
 * Alys `calculate_next_work_required(diff, last_bits)`: the percentage step (4.6). `diff` is the u32
 * height difference (0 is treated as 1, as Alys does).
 */
export function calculateAlysNextWork(heightDifference: number, lastBits: number, params: RetargetParams): number {
  const { spacing } = checkParams(params);
  const diff = BigInt(heightDifference === 0 ? 1 : heightDifference);
  // ratio in hundredths, rounded half to even (rust_decimal round_dp)
  const num = diff * 100n;
  let ratio = num / spacing;
  const rem = num % spacing;
  if (rem * 2n > spacing || (rem * 2n === spacing && ratio % 2n === 1n)) ratio += 1n;
  const lo = BigInt(params.maxPowAdjustment); // maxPowAdjustment / 100, in hundredths
  const hi = lo + 100n;
  if (ratio < 100n)
    ratio = ratio < lo ? ratio : lo; // the min() quirk: never raises a small ratio
  else if (ratio > 100n) ratio = ratio < hi ? ratio : hi;
  const pct = ratio; // trunc(ratio * 100): ratio already has two decimals
  if (pct > 255n)
    throw new ProtocolError(
      'retarget.percentage-overflow',
      `retarget percentage ${pct} does not fit a u8 (Alys's Decimal::to_u8 fails here); maxPowAdjustment ${params.maxPowAdjustment} is too large`,
    );
  const target = targetFromCompactU256(lastBits);
  let adjusted = (target / 100n) * pct;
  if (adjusted > U256_MAX) adjusted = U256_MAX; // saturating_mul
  return compactLossy(adjusted);
}

/**
 * Alys `get_next_work_required`: the compact target a PoW block must meet when the chain head is at
 * `headHeight` and the most recent PoW block is `lastPow` (`bits` = its AuxPowHeader.bits; genesis
 * counts, with the chain spec's bits). A validator checking PoW block N passes `headHeight = N - 1`.
 */
export function nextWorkRequired(
  lastPow: { blockNumber: number; bits: number },
  headHeight: number,
  params: RetargetParams,
): number {
  checkParams(params);
  if (!Number.isSafeInteger(headHeight) || headHeight < 0)
    throw new DecodeError('headHeight', `expected a block number, got ${headHeight}`);
  if (!Number.isSafeInteger(lastPow.blockNumber) || lastPow.blockNumber < 0)
    throw new DecodeError('lastPow.blockNumber', `expected a block number, got ${lastPow.blockNumber}`);
  if (lastPow.blockNumber > headHeight + 1)
    throw new ProtocolError(
      'retarget.head-before-last-pow',
      `the head height ${headHeight} is below the last PoW block ${lastPow.blockNumber} (Alys's u64 subtraction would underflow)`,
    );
  // (head + 1 - last) as u32: Rust's `as` keeps the low 32 bits
  const diff = Number(BigInt(headHeight + 1 - lastPow.blockNumber) & 0xffffffffn);
  if (params.powNoRetargeting || !isRetargetHeight(headHeight, diff, params)) return lastPow.bits >>> 0;
  return calculateAlysNextWork(diff, lastPow.bits, params);
}
