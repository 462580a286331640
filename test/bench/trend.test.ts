/** bench/trend.ts: the least-squares slope and the post-warm-up trend bench/soak.ts reports. */
import { describe, expect, it } from 'vitest';
import { leastSquaresSlope, trendAfterWarmup } from '../../bench/trend.js';

describe('memory trend', () => {
  it('fits the slope of a line, with or without noise around it', () => {
    expect(leastSquaresSlope([1, 2, 3, 4].map((x) => ({ x, y: 3 * x + 7 })))).toBeCloseTo(3, 12);
    expect(leastSquaresSlope([0, 1, 2, 3].map((x) => ({ x, y: 10 + (x % 2 ? 1 : -1) })))).toBeCloseTo(0.4, 12);
    expect(leastSquaresSlope([{ x: 1, y: 5 }])).toBe(0);
    expect(leastSquaresSlope([1, 1].map((x) => ({ x, y: x })))).toBe(0);
  });

  it('drops the warm-up and reports per minute and per 10 minutes of the mean', () => {
    // 10 minutes, one sample a minute: a steep warm-up, then +1 per minute around 100
    const samples = Array.from({ length: 11 }, (_, m) => ({ t: m * 60_000, value: m < 2 ? 1000 * m : 93 + m }));
    const t = trendAfterWarmup(samples, 0.2);
    expect(t.samples).toBe(9);
    expect(t.mean).toBe(99);
    expect(t.perMinute).toBeCloseTo(1, 12);
    expect(t.per10MinOfMean).toBeCloseTo(10 / 99, 12);
  });
});
