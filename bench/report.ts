/** One benchmark result line (see bench/run.ts). */
export interface Measurement {
  name: string;
  unit: string;
  value: number;
  baseline?: number;
  /** value / baseline */
  ratio?: number;
  /** which direction is better, so the ratio can be read against the target */
  better?: 'higher' | 'lower';
  target?: string;
  [extra: string]: unknown;
}

export function report(m: Measurement): void {
  const round = (x: number) => (Math.abs(x) >= 100 ? Math.round(x) : Number(x.toPrecision(4)));
  const out: Measurement = { ...m, value: round(m.value) };
  if (m.baseline !== undefined) {
    out.baseline = round(m.baseline);
    out.ratio = Number((m.value / m.baseline).toFixed(3));
  }
  console.log(JSON.stringify(out));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
