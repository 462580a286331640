/**
 * Alys difficulty retargeting (alys-protocol.md 4.6): the spec's worked examples, and the quirks
 * (banker's rounding, the min() for ratios below 1, pct truncation, U256 saturation, no pow-limit
 * clamp, u32 height difference).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, ProtocolError } from '../../../src/protocol/errors.js';
import type { RetargetParams } from '../../../src/protocol/types.js';
import { targetFromCompact } from '../../../src/protocol/bitcoin/pow.js';
import {
  calculateAlysNextWork,
  compactLossy,
  isRetargetHeight,
  nextWorkRequired,
  targetFromCompactU256,
} from '../../../src/protocol/auxpow/retarget.js';

/** Testnet/DEV retarget params from the spec (9.1/9.2): maxAdj 20, timespan 60, spacing 5 (interval 12). */
const TESTNET: RetargetParams = {
  powNoRetargeting: false,
  powLimit: 553713663,
  powLowerLimit: 439495319,
  maxPowAdjustment: 20,
  powTargetTimespan: 60,
  powTargetSpacing: 5,
};

/** Independent compact encoder (string based), for expectations not produced by the code under test. */
function refCompact(t: bigint): number {
  if (t === 0n) return 0;
  let hex = t.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let size = hex.length / 2;
  let mant = parseInt((hex + '0000').slice(0, 6), 16);
  if (mant & 0x800000) {
    mant >>>= 8;
    size += 1;
  }
  return ((size << 24) | mant) >>> 0;
}

const MAX = (1n << 256n) - 1n;

describe('Alys retarget: the worked examples of alys-protocol.md 4.6', () => {
  it('0x1d00ffff, spacing 5, maxAdj 20: diff 1..4 -> 0x1c3332ff, 5 -> 0x1d00fffe, >= 6 -> 0x1d013331', () => {
    // head 12 is a retarget height (12 % 12 == 0); last PoW block = head + 1 - diff
    for (const diff of [1, 2, 3, 4])
      expect(nextWorkRequired({ blockNumber: 13 - diff, bits: 0x1d00ffff }, 12, TESTNET)).toBe(0x1c3332ff);
    expect(nextWorkRequired({ blockNumber: 8, bits: 0x1d00ffff }, 12, TESTNET)).toBe(0x1d00fffe);
    for (const diff of [6, 7, 12, 13])
      expect(nextWorkRequired({ blockNumber: 13 - diff, bits: 0x1d00ffff }, 12, TESTNET)).toBe(0x1d013331);
    // diff > interval (12) retargets at any head height
    expect(nextWorkRequired({ blockNumber: 100, bits: 0x1d00ffff }, 150, TESTNET)).toBe(0x1d013331);
    expect(calculateAlysNextWork(1000, 0x1d00ffff, TESTNET)).toBe(0x1d013331);
  });

  it('repo test params (PREV_BITS 0x1e21ffc0, spacing 100000): diff 150000 -> 0x1e28cc7f, 50000 -> 0x1e06ccbf', () => {
    const p: RetargetParams = { ...TESTNET, powTargetSpacing: 100000, powTargetTimespan: 1_200_000 };
    expect(0x1e21ffc0).toBe(505544640);
    expect(calculateAlysNextWork(150000, 0x1e21ffc0, p)).toBe(0x1e28cc7f);
    expect(calculateAlysNextWork(50000, 0x1e21ffc0, p)).toBe(0x1e06ccbf);
    // through nextWorkRequired: diff > interval (12) triggers the retarget
    expect(nextWorkRequired({ blockNumber: 1, bits: 0x1e21ffc0 }, 150000, p)).toBe(0x1e28cc7f);
  });

  it('the independent formula agrees on the examples (floor(T/100) * pct, truncating compact)', () => {
    const T = 0xffffn << 208n;
    expect(refCompact((T / 100n) * 20n)).toBe(0x1c3332ff);
    expect(refCompact((T / 100n) * 100n)).toBe(0x1d00fffe);
    expect(refCompact((T / 100n) * 120n)).toBe(0x1d013331);
  });
});

describe('Alys retarget: when it applies', () => {
  it('no retarget: keeps the last PoW bits (not a retarget height and diff <= interval)', () => {
    expect(nextWorkRequired({ blockNumber: 15, bits: 0x1d00ffff }, 20, TESTNET)).toBe(0x1d00ffff);
    expect(isRetargetHeight(20, 6, TESTNET)).toBe(false);
    expect(isRetargetHeight(24, 6, TESTNET)).toBe(true);
    expect(isRetargetHeight(20, 12, TESTNET)).toBe(false); // diff must exceed the interval
    expect(isRetargetHeight(20, 13, TESTNET)).toBe(true);
  });

  it('powNoRetargeting keeps the bits even at a retarget height (chain-dev.json)', () => {
    const dev: RetargetParams = {
      ...TESTNET,
      powNoRetargeting: true,
      powTargetTimespan: 12000,
      powTargetSpacing: 1000,
    };
    expect(nextWorkRequired({ blockNumber: 1, bits: 0x1e25cdf2 }, 120, dev)).toBe(0x1e25cdf2);
  });

  it('diff 0 (head + 1 == last) is treated as 1', () => {
    // head 12, last 13: diff 0 -> 1 -> ratio 0.2 -> 20%
    expect(nextWorkRequired({ blockNumber: 13, bits: 0x1d00ffff }, 12, TESTNET)).toBe(0x1c3332ff);
    expect(calculateAlysNextWork(0, 0x1d00ffff, TESTNET)).toBe(calculateAlysNextWork(1, 0x1d00ffff, TESTNET));
  });

  it('the height difference is truncated to u32 like Rust `as u32`', () => {
    // head + 1 - last = 2^32 + 3 -> diff 3; head 2^32 + 11 is not a multiple of 12? choose one that is
    const head = 4294967304; // 2^32 + 8, divisible by 12
    expect(head % 12).toBe(0);
    expect(nextWorkRequired({ blockNumber: head + 1 - (2 ** 32 + 3), bits: 0x1d00ffff }, head, TESTNET)).toBe(
      0x1c3332ff,
    );
  });

  it('a head below the last PoW block is refused (Alys would underflow)', () => {
    expect(() => nextWorkRequired({ blockNumber: 20, bits: 0x1d00ffff }, 10, TESTNET)).toThrow(ProtocolError);
  });

  it('bad parameters are DecodeErrors (Alys would divide by zero)', () => {
    expect(() => nextWorkRequired({ blockNumber: 1, bits: 1 }, 5, { ...TESTNET, powTargetSpacing: 0 })).toThrow(
      DecodeError,
    );
    expect(() => nextWorkRequired({ blockNumber: 1, bits: 1 }, 5, { ...TESTNET, powTargetTimespan: 4 })).toThrow(
      /remainder by zero/,
    );
    expect(() => nextWorkRequired({ blockNumber: 1, bits: 1 }, 5, { ...TESTNET, maxPowAdjustment: 256 })).toThrow(
      DecodeError,
    );
  });
});

describe('Alys retarget: arithmetic quirks', () => {
  const T = 0xffffn << 208n;
  const wide: RetargetParams = { ...TESTNET, maxPowAdjustment: 200, powTargetSpacing: 8, powTargetTimespan: 96 };

  it("banker's rounding to 2 decimals (rust_decimal round_dp)", () => {
    // 9/8 = 1.125 -> 1.12 (even); 11/8 = 1.375 -> 1.38 (even); 10/8 = 1.25 exact; 13/8 = 1.625 -> 1.62
    const cases: [number, bigint][] = [
      [9, 112n],
      [11, 138n],
      [10, 125n],
      [13, 162n],
      [15, 188n], // 1.875 -> 1.88
      [7, 88n], // 0.875 -> 0.88, below 1: min(0.88, 2.00) = 0.88
    ];
    for (const [diff, pct] of cases)
      expect(calculateAlysNextWork(diff, 0x1d00ffff, wide)).toBe(refCompact((T / 100n) * pct));
    // round half up would give 1.13 for 9/8: make sure we did not
    expect(calculateAlysNextWork(9, 0x1d00ffff, wide)).not.toBe(refCompact((T / 100n) * 113n));
    // not a midpoint: 1/3 = 0.333.. -> 0.33; 2/3 -> 0.67
    const thirds: RetargetParams = { ...wide, powTargetSpacing: 3, powTargetTimespan: 36 };
    expect(calculateAlysNextWork(1, 0x1d00ffff, thirds)).toBe(refCompact((T / 100n) * 33n));
    expect(calculateAlysNextWork(2, 0x1d00ffff, thirds)).toBe(refCompact((T / 100n) * 67n));
  });

  it('the min() quirk: any ratio below 1 is capped at maxPowAdjustment/100, never raised to it', () => {
    const p: RetargetParams = { ...TESTNET, maxPowAdjustment: 50, powTargetSpacing: 10, powTargetTimespan: 120 };
    // 8/10 = 0.8 -> min(0.8, 0.5) = 0.5 (a "max" clamp would keep 0.8)
    expect(calculateAlysNextWork(8, 0x1d00ffff, p)).toBe(refCompact((T / 100n) * 50n));
    // 3/10 = 0.3 -> min(0.3, 0.5) = 0.3: a small ratio is kept, so difficulty can jump by more than 50%
    expect(calculateAlysNextWork(3, 0x1d00ffff, p)).toBe(refCompact((T / 100n) * 30n));
    // above 1: capped at 1 + maxAdj/100
    expect(calculateAlysNextWork(30, 0x1d00ffff, p)).toBe(refCompact((T / 100n) * 150n));
    // exactly 1: unchanged ratio 100 (still loses precision through floor(T/100))
    expect(calculateAlysNextWork(10, 0x1d00ffff, p)).toBe(refCompact((T / 100n) * 100n));
  });

  it('ratio rounding to 0 gives a zero target (compact 0)', () => {
    const p: RetargetParams = { ...TESTNET, powTargetSpacing: 1000, powTargetTimespan: 12000 };
    // 4/1000 = 0.004 -> 0.00 -> pct 0
    expect(calculateAlysNextWork(4, 0x1d00ffff, p)).toBe(0);
    // 5/1000 = 0.005 -> 0.00 (half to even) ; 6/1000 -> 0.01
    expect(calculateAlysNextWork(5, 0x1d00ffff, p)).toBe(0);
    expect(calculateAlysNextWork(6, 0x1d00ffff, p)).toBe(refCompact(T / 100n));
  });

  it('no pow-limit clamp; U256 multiplication saturates', () => {
    // DEV powLimit is 0x2100ffff but is never applied: from 0x2000ffff, +20% goes past nothing; from
    // 0x2100ffff, x1.2 overflows 2^256 and saturates to 2^256-1 (compact 0x2100ffff again)
    const t2000 = 0xffffn << 232n;
    expect(calculateAlysNextWork(6, 0x2000ffff, TESTNET)).toBe(refCompact((t2000 / 100n) * 120n));
    expect(calculateAlysNextWork(6, 0x2100ffff, TESTNET)).toBe(refCompact(MAX));
    expect(compactLossy(MAX)).toBe(0x2100ffff);
  });

  it('primitive-types target: shifts of 256+ bits give 0 (rust-bitcoin wraps instead)', () => {
    expect(targetFromCompactU256(0x23000001)).toBe(0n);
    expect(targetFromCompact(0x23000001)).toBe(1n);
    expect(targetFromCompactU256(0x22000001)).toBe(1n << 248n);
    expect(targetFromCompactU256(0x05800001)).toBe(0n);
    // retarget from such bits: 0 target -> compact 0
    expect(calculateAlysNextWork(6, 0x23000001, TESTNET)).toBe(0);
  });

  it('a percentage above 255 cannot be represented (Decimal::to_u8 fails): ProtocolError', () => {
    const p: RetargetParams = { ...TESTNET, maxPowAdjustment: 200, powTargetSpacing: 10, powTargetTimespan: 120 };
    expect(calculateAlysNextWork(25, 0x1d00ffff, p)).toBe(refCompact((T / 100n) * 250n));
    expect(() => calculateAlysNextWork(26, 0x1d00ffff, p)).toThrow(/does not fit a u8/);
  });

  it('property: matches the spec formula written independently', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0x04000000, max: 0x1f7fffff }),
        (diff, spacing, maxAdj, bits) => {
          const p: RetargetParams = {
            ...TESTNET,
            powTargetSpacing: spacing,
            powTargetTimespan: spacing * 12,
            maxPowAdjustment: maxAdj,
          };
          // ratio via exact rationals: round half even of diff/spacing at 2 decimals
          const num = diff * 100;
          const q = Math.floor(num / spacing);
          const r = num - q * spacing;
          let ratio = 2 * r > spacing || (2 * r === spacing && q % 2 === 1) ? q + 1 : q;
          if (ratio < 100) ratio = Math.min(ratio, maxAdj);
          else if (ratio > 100) ratio = Math.min(ratio, maxAdj + 100);
          let t = (targetFromCompactU256(bits) / 100n) * BigInt(ratio);
          if (t > MAX) t = MAX;
          expect(calculateAlysNextWork(diff, bits, p)).toBe(refCompact(t));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
