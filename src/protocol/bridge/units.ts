/**
 * Amount conversions between Bitcoin and Alys (alys-protocol.md section 5.3).
 *
 * 1 BTC = 10^8 sats = 10^18 wei on Alys, so 1 sat = 10^10 wei = 10 Gwei. Withdrawal amounts
 * (Alys `ConsensusAmount`) are Gwei: peg-ins mint `sats × 10` Gwei (`from_satoshi`), fees are
 * converted with `floor(wei / 10^9)` (`from_wei`), and peg-out requests burn wei that the bridge
 * turns into `floor(wei / 10^10)` sats (`wei_to_sats`). All amounts are non-negative bigints.
 */
import { ProtocolError } from '../errors.js';

export const WEI_PER_SAT = 10_000_000_000n;
export const WEI_PER_GWEI = 1_000_000_000n;
export const GWEI_PER_SAT = 10n;
import { U64_MAX, U256_MAX } from '../bytes.js';

export { U64_MAX, U256_MAX };

function assertAmount(value: bigint, what: string, max: bigint): void {
  if (typeof value !== 'bigint') throw new ProtocolError('units.type', `${what} must be a bigint, got ${typeof value}`);
  if (value < 0n) throw new ProtocolError('units.range', `${what} must not be negative, got ${value}`);
  if (value > max)
    throw new ProtocolError('units.range', `${what} ${value} exceeds ${max === U64_MAX ? 'u64' : 'u256'}`);
}

/** sats → wei (× 10^10). */
export function satsToWei(sats: bigint): bigint {
  assertAmount(sats, 'satoshi amount', U64_MAX);
  return sats * WEI_PER_SAT;
}

/**
 * sats → Gwei (× 10), Alys `ConsensusAmount::from_satoshi`. Alys multiplies in u64; a result
 * above u64 would overflow there, so it is refused here (unreachable with real BTC amounts).
 */
export function satsToGwei(sats: bigint): bigint {
  assertAmount(sats, 'satoshi amount', U64_MAX);
  const gwei = sats * GWEI_PER_SAT;
  if (gwei > U64_MAX)
    throw new ProtocolError(
      'units.overflow',
      `${sats} sats is ${gwei} Gwei, which overflows Alys's u64 ConsensusAmount`,
    );
  return gwei;
}

/**
 * wei → Gwei, rounding down (Alys `ConsensusAmount::from_wei`). Alys panics when the result does
 * not fit u64; we throw instead.
 */
export function weiToGwei(wei: bigint): bigint {
  assertAmount(wei, 'wei amount', U256_MAX);
  const gwei = wei / WEI_PER_GWEI;
  if (gwei > U64_MAX)
    throw new ProtocolError('units.overflow', `${wei} wei is more Gwei than Alys's u64 ConsensusAmount holds`);
  return gwei;
}

/** Gwei → wei (× 10^9): what the EL credits for a withdrawal. */
export function gweiToWei(gwei: bigint): bigint {
  assertAmount(gwei, 'Gwei amount', U64_MAX);
  return gwei * WEI_PER_GWEI;
}

/**
 * wei → sats, rounding down (Alys `wei_to_sats`, used for peg-out requests). Alys's `as_u64()`
 * panics above u64; we throw instead.
 */
export function weiToSats(wei: bigint): bigint {
  assertAmount(wei, 'wei amount', U256_MAX);
  const sats = wei / WEI_PER_SAT;
  if (sats > U64_MAX) throw new ProtocolError('units.overflow', `${wei} wei is more sats than fit a u64`);
  return sats;
}
