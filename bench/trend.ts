/**
 * Memory trend of a long run (bench/soak.ts): the least-squares slope of samples after a warm-up,
 * in units per minute and as a fraction of the post-warm-up mean per 10 minutes. Pure functions.
 */

export interface Sample {
  /** ms since the run started */
  t: number;
  value: number;
}

export interface Trend {
  /** samples the fit used (those after the warm-up) */
  samples: number;
  mean: number;
  /** least-squares slope, units per minute */
  perMinute: number;
  /** slope x 10 minutes / mean: the growth per 10 minutes as a fraction of the mean */
  per10MinOfMean: number;
}

/** The least-squares slope dy/dx of the points; 0 with fewer than 2 distinct x. */
export function leastSquaresSlope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/** The trend of the samples taken after the first `warmup` fraction of the run (by time, 0..1). */
export function trendAfterWarmup(samples: readonly Sample[], warmup: number): Trend {
  const end = samples.length ? samples[samples.length - 1]!.t : 0;
  const kept = samples.filter((s) => s.t >= end * warmup);
  const mean = kept.length ? kept.reduce((s, p) => s + p.value, 0) / kept.length : 0;
  const perMinute = leastSquaresSlope(kept.map((s) => ({ x: s.t / 60_000, y: s.value })));
  return { samples: kept.length, mean, perMinute, per10MinOfMean: mean ? (perMinute * 10) / mean : 0 };
}
