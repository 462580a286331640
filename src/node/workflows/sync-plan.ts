/**
 * The sync workflow's plan (pure): which height ranges to request, retries with backoff, and a
 * reorder buffer so verified batches reach the ChainActor in height order.
 */
export interface SyncPlanOptions {
  batchSize: number;
  parallelism: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface Request {
  start: number;
  count: number;
  attempt: number;
  /** sources that failed this range (prefer others) */
  avoid: string[];
}

interface Pending extends Request {
  state: 'waiting' | 'in-flight';
  notBefore: number;
}

export class SyncPlan<T> {
  private nextImport: number;
  private nextRequest: number;
  private target: number;
  private readonly pending = new Map<number, Pending>();
  private readonly ready = new Map<number, T[]>();

  constructor(
    private opts: SyncPlanOptions,
    nextHeight: number,
  ) {
    this.nextImport = nextHeight;
    this.nextRequest = nextHeight;
    this.target = nextHeight - 1;
  }

  /** Hot reload: new sizes and delays apply to requests made from now on. */
  configure(opts: SyncPlanOptions): void {
    this.opts = { ...opts };
  }

  /** The most attempts any range waiting or in flight has taken (1 = none failed). */
  get worstAttempt(): number {
    let n = 1;
    for (const p of this.pending.values()) n = Math.max(n, p.attempt);
    return n;
  }

  get importFrom(): number {
    return this.nextImport;
  }

  get targetHeight(): number {
    return this.target;
  }

  get caughtUp(): boolean {
    return this.nextImport > this.target;
  }

  get inFlight(): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.state === 'in-flight') n++;
    return n;
  }

  /**
   * The height to sync to (the sources' claims). It may go down (the source that claimed more was
   * banned): ranges above it are dropped and ranges across it shortened. Never below what was imported.
   */
  setTarget(height: number): void {
    const target = Math.max(height, this.nextImport - 1);
    if (target < this.target) {
      for (const [start, p] of this.pending) {
        if (start > target) this.pending.delete(start);
        else if (p.state === 'waiting') p.count = Math.min(p.count, target - start + 1);
      }
      for (const start of [...this.ready.keys()]) if (start > target) this.ready.delete(start);
      // in-flight ranges keep their length (their answers are on the way): never request inside them
      let covered = Math.max(this.nextImport, target + 1);
      for (const p of this.pending.values()) covered = Math.max(covered, p.start + p.count);
      for (const [start, items] of this.ready)
        if (start >= this.nextImport) covered = Math.max(covered, start + items.length);
      this.nextRequest = Math.min(this.nextRequest, covered);
    }
    this.target = target;
  }

  /**
   * Ranges to request now, marked in flight: at most `parallelism` in flight, and at most `max` new
   * ones (the caller's count of requests really outstanding: a rewind or a lowered target forgets
   * ranges whose requests are still on the wire).
   */
  take(now: number, max = Number.POSITIVE_INFINITY): Request[] {
    this.fillHoles();
    const out: Request[] = [];
    const room = () => Math.min(this.opts.parallelism - this.inFlight, max - out.length);
    for (const p of [...this.pending.values()].sort((a, b) => a.start - b.start)) {
      if (room() <= 0) return out;
      if (p.state === 'waiting' && p.notBefore <= now) {
        p.state = 'in-flight';
        out.push({ start: p.start, count: p.count, attempt: p.attempt, avoid: [...p.avoid] });
      }
    }
    // do not run too far ahead of the import (the reorder buffer is bounded)
    const horizon = this.nextImport + this.opts.batchSize * this.opts.parallelism * 4;
    while (room() > 0 && this.nextRequest <= this.target && this.nextRequest < horizon) {
      const count = Math.min(this.opts.batchSize, this.target - this.nextRequest + 1);
      const p: Pending = { start: this.nextRequest, count, attempt: 1, avoid: [], state: 'in-flight', notBefore: 0 };
      this.pending.set(p.start, p);
      out.push({ start: p.start, count, attempt: 1, avoid: [] });
      this.nextRequest += count;
    }
    return out;
  }

  /**
   * Plan again the heights between the import point and `nextRequest` that no range covers, so none
   * is skipped forever. Holes come from a failed range shortened while the target was below its end
   * (the target rose again past heights `nextRequest` had already passed).
   */
  private fillHoles(): void {
    const spans: Array<[number, number]> = [];
    for (const p of this.pending.values()) spans.push([p.start, p.start + p.count]);
    for (const [start, items] of this.ready) spans.push([start, start + items.length]);
    spans.sort((a, b) => a[0] - b[0]);
    const end = Math.min(this.nextRequest, this.target + 1);
    let h = this.nextImport;
    for (const [start, stop] of spans) {
      if (h >= end) return;
      if (start > h) this.planAgain(h, Math.min(start, end));
      h = Math.max(h, stop);
    }
    if (h < end) this.planAgain(h, end);
  }

  /** Waiting ranges (due now) for the heights [from, to). */
  private planAgain(from: number, to: number): void {
    for (let start = from; start < to; start += this.opts.batchSize) {
      const count = Math.min(this.opts.batchSize, to - start);
      this.pending.set(start, { start, count, attempt: 1, avoid: [], state: 'waiting', notBefore: 0 });
    }
  }

  /** When the next waiting retry may go (undefined: none waiting). */
  nextRetryAt(): number | undefined {
    let t: number | undefined;
    for (const p of this.pending.values())
      if (p.state === 'waiting') t = t === undefined ? p.notBefore : Math.min(t, p.notBefore);
    return t;
  }

  done(start: number, items: T[]): void {
    const p = this.pending.get(start);
    // a stale answer: the range was rewound, or re-planned with another length since it was asked
    if (p?.state !== 'in-flight' || items.length !== p.count) return;
    this.pending.delete(start);
    this.ready.set(start, items);
  }

  /** The range failed (bad source, timeout...): retry later with backoff, from another source. */
  failed(start: number, source: string | undefined, now: number): void {
    const p = this.pending.get(start);
    if (!p) return;
    p.attempt++;
    p.count = Math.max(1, Math.min(p.count, this.target - start + 1));
    if (source && !p.avoid.includes(source)) p.avoid.push(source);
    p.state = 'waiting';
    p.notBefore = now + Math.min(this.opts.backoffMaxMs, this.opts.backoffInitialMs * 2 ** (p.attempt - 2));
  }

  /** The next in-order batch, if it arrived (the part from the import point of one that straddles it). */
  takeReady(): { start: number; items: T[] } | undefined {
    for (const [start, items] of this.ready) {
      if (start >= this.nextImport) continue;
      this.ready.delete(start);
      // imported already, all or in part (the import advanced past it some other way)
      const rest = items.slice(this.nextImport - start);
      if (rest.length && !this.ready.has(this.nextImport)) this.ready.set(this.nextImport, rest);
    }
    const items = this.ready.get(this.nextImport);
    if (!items) return undefined;
    this.ready.delete(this.nextImport);
    return { start: this.nextImport, items };
  }

  /** `count` blocks from `importFrom` were imported. */
  imported(count: number): void {
    this.nextImport += count;
  }

  /**
   * The import stopped at `height` (its block was bad): drop everything buffered or in flight from
   * there, and request it again (from other sources: `avoid`).
   */
  rewind(height: number, avoid: string | undefined, now: number): void {
    // Everything buffered or asked for is stale: from `height` on it is to be fetched again, and below
    // it (the chain resumed above the import point) the chain has it already. A range kept from below
    // would also count as covering heights it never fills (a soak's node stopped for good that way).
    this.ready.clear();
    this.pending.clear();
    this.nextImport = height;
    this.nextRequest = height;
    const count = Math.min(this.opts.batchSize, Math.max(1, this.target - height + 1));
    this.pending.set(height, {
      start: height,
      count,
      attempt: 2,
      avoid: avoid ? [avoid] : [],
      state: 'waiting',
      notBefore: now + this.opts.backoffInitialMs,
    });
    this.nextRequest = height + count;
  }
}
