/**
 * Counters, gauges and histograms with labels, rendered in the Prometheus text exposition
 * format (version 0.0.4). Gauges may be computed at scrape time (`collect`), which keeps hot
 * paths (mailbox depth, registry sizes) free of bookkeeping.
 */

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type Labels = Record<string, string | number>;

function labelKey(names: readonly string[], labels: Labels | undefined): string {
  if (names.length === 0) return '';
  return names.map((n) => String(labels?.[n] ?? '')).join('\u0000');
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(names: readonly string[], key: string, extra?: [string, string]): string {
  const values = key === '' && names.length === 0 ? [] : key.split('\u0000');
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeHelp(h: string): string {
  return h.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME.test(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
    for (const l of labelNames)
      if (!LABEL.test(l) || l === 'le') throw new TypeError(`invalid label name ${JSON.stringify(l)} on ${name}`);
  }
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  abstract render(): string[];
  protected checkLabels(labels: Labels | undefined): void {
    if (!labels) return;
    for (const k of Object.keys(labels))
      if (!this.labelNames.includes(k)) throw new TypeError(`unknown label ${k} on ${this.name}`);
  }
}

export class Counter extends Metric {
  readonly type = 'counter';
  private readonly values = new Map<string, number>();
  private collector: (() => Iterable<[Labels, number]>) | undefined;
  /** Read the totals at scrape time from counters kept elsewhere (e.g. plain fields on a hot path). */
  collect(fn: () => Iterable<[Labels, number]>): this {
    this.collector = fn;
    return this;
  }
  inc(labels?: Labels, by = 1): void {
    if (by < 0) throw new RangeError(`counter ${this.name} cannot decrease`);
    this.checkLabels(labels);
    const k = labelKey(this.labelNames, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(this.labelNames, labels)) ?? 0;
  }
  render(): string[] {
    const values = new Map(this.values);
    if (this.collector) for (const [labels, v] of this.collector()) values.set(labelKey(this.labelNames, labels), v);
    return [...values].map(([k, v]) => `${this.name}${formatLabels(this.labelNames, k)} ${formatValue(v)}`);
  }
}

export class Gauge extends Metric {
  readonly type = 'gauge';
  private readonly values = new Map<string, number>();
  private collector: (() => Iterable<[Labels, number]>) | undefined;
  set(labels: Labels | undefined, value: number): void {
    this.checkLabels(labels);
    this.values.set(labelKey(this.labelNames, labels), value);
  }
  inc(labels?: Labels, by = 1): void {
    const k = labelKey(this.labelNames, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  dec(labels?: Labels, by = 1): void {
    this.inc(labels, -by);
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(this.labelNames, labels)) ?? 0;
  }
  /** Compute the values at scrape time instead of setting them. */
  collect(fn: () => Iterable<[Labels, number]>): this {
    this.collector = fn;
    return this;
  }
  render(): string[] {
    if (this.collector) {
      this.values.clear();
      for (const [labels, v] of this.collector()) this.set(labels, v);
    }
    return [...this.values].map(([k, v]) => `${this.name}${formatLabels(this.labelNames, k)} ${formatValue(v)}`);
  }
}

export const DEFAULT_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

export class Histogram extends Metric {
  readonly type = 'histogram';
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  readonly buckets: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = DEFAULT_BUCKETS) {
    super(name, help, labelNames);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.some((b, i) => i > 0 && b === sorted[i - 1])) throw new TypeError(`duplicate bucket on ${name}`);
    this.buckets = sorted;
  }
  observe(labels: Labels | undefined, value: number): void {
    this.checkLabels(labels);
    const k = labelKey(this.labelNames, labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  snapshot(labels?: Labels): { count: number; sum: number; buckets: Array<[number, number]> } | undefined {
    const s = this.series.get(labelKey(this.labelNames, labels));
    return s && { count: s.count, sum: s.sum, buckets: this.buckets.map((b, i) => [b, s.counts[i]!]) };
  }
  render(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      for (const [i, b] of this.buckets.entries())
        out.push(`${this.name}_bucket${formatLabels(this.labelNames, k, ['le', formatValue(b)])} ${s.counts[i]}`);
      out.push(`${this.name}_bucket${formatLabels(this.labelNames, k, ['le', '+Inf'])} ${s.count}`);
      out.push(`${this.name}_sum${formatLabels(this.labelNames, k)} ${formatValue(s.sum)}`);
      out.push(`${this.name}_count${formatLabels(this.labelNames, k)} ${s.count}`);
    }
    return out;
  }
}

/** A set of metrics with unique names. `counter()` etc. return the existing metric when called twice with the same name and type. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.getOrAdd(name, 'counter', () => new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.getOrAdd(name, 'gauge', () => new Gauge(name, help, labelNames));
  }
  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    return this.getOrAdd(name, 'histogram', () => new Histogram(name, help, labelNames, buckets));
  }

  private getOrAdd<T extends Metric>(name: string, type: Metric['type'], make: () => T): T {
    const existing = this.metrics.get(name);
    if (existing) {
      if (existing.type !== type) throw new TypeError(`metric ${name} already registered as ${existing.type}`);
      return existing as T;
    }
    const m = make();
    this.metrics.set(name, m);
    return m;
  }

  get(name: string): Metric | undefined {
    return this.metrics.get(name);
  }

  /** Prometheus text exposition format 0.0.4 (`Content-Type: text/plain; version=0.0.4`). */
  render(): string {
    const lines: string[] = [];
    for (const m of this.metrics.values()) {
      const samples = m.render();
      lines.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`, ...samples);
    }
    return lines.length ? lines.join('\n') + '\n' : '';
  }
}
