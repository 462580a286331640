/**
 * Source scores: every consensus source (an RPC endpoint or a libp2p peer) starts at 100; bad data
 * costs the most, unusable answers and timeouts less, good batches earn a little back. At zero a
 * source is banned for a while and then comes back on probation. Pure.
 */
/**
 * `stale`: served blocks that a fork with a verified PoW later replaced (an equivocation the source
 * chose to serve, or that it was simply behind on): cheaper than `invalid`, since the blocks were signed.
 * `busy`: the source said it is over its limits (a peer's RateLimited answer, an endpoint's HTTP 429):
 * counted but free, since honest servers do it (the range is retried later, from another source).
 */
export type SourceFault = 'invalid' | 'unusable' | 'withheld' | 'stale' | 'timeout' | 'network' | 'busy';

/** A fault a source is charged with, and why (in words a user reads). */
export interface FaultReport {
  kind: SourceFault;
  reason: string;
}

export const PENALTY: Readonly<Record<SourceFault, number>> = {
  invalid: 60,
  unusable: 30,
  withheld: 20,
  stale: 20,
  timeout: 10,
  network: 10,
  busy: 0,
};
const MAX = 100;
const PROBATION = 30;

export interface SourceScore {
  id: string;
  score: number;
  bannedUntil: number;
  faults: number;
  /** The faults by kind, so a user (and a test) can tell bad data from a slow or unreachable source. */
  faultsByKind: Partial<Record<SourceFault, number>>;
  successes: number;
}

const fresh = (id: string): SourceScore => ({
  id,
  score: MAX,
  bannedUntil: 0,
  faults: 0,
  faultsByKind: {},
  successes: 0,
});
const copy = (s: SourceScore): SourceScore => ({ ...s, faultsByKind: { ...s.faultsByKind } });

export class Scores {
  private readonly sources = new Map<string, SourceScore>();

  constructor(
    ids: readonly string[],
    private readonly banMs = 60_000,
  ) {
    for (const id of ids) this.sources.set(id, fresh(id));
  }

  /** Keep the scores of sources still listed, add new ones at full score, forget the rest. */
  setSources(ids: readonly string[]): void {
    const keep = new Set(ids);
    for (const id of [...this.sources.keys()]) if (!keep.has(id)) this.sources.delete(id);
    for (const id of ids) if (!this.sources.has(id)) this.sources.set(id, fresh(id));
  }

  all(): SourceScore[] {
    return [...this.sources.values()].map(copy);
  }

  /** Usable now: not banned (a ban that ran out puts the source on probation). */
  usable(now: number): SourceScore[] {
    const out: SourceScore[] = [];
    for (const s of this.sources.values()) {
      if (s.bannedUntil > now) continue;
      if (s.bannedUntil !== 0) {
        s.bannedUntil = 0;
        s.score = PROBATION;
      }
      out.push(copy(s));
    }
    return out.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
  }

  fault(id: string, kind: SourceFault, now: number): SourceScore | undefined {
    const s = this.sources.get(id);
    if (!s) return undefined;
    if (s.bannedUntil !== 0 && s.bannedUntil <= now) {
      // the ban ran out (whether or not usable() noticed yet): the fault counts from probation
      s.bannedUntil = 0;
      s.score = PROBATION;
    }
    s.faults++;
    s.faultsByKind[kind] = (s.faultsByKind[kind] ?? 0) + 1;
    s.score = Math.max(0, s.score - PENALTY[kind]);
    if (s.score === 0 && PENALTY[kind] > 0) s.bannedUntil = now + this.banMs;
    return copy(s);
  }

  success(id: string): void {
    const s = this.sources.get(id);
    if (!s) return;
    s.successes++;
    s.score = Math.min(MAX, s.score + 1);
  }
}
