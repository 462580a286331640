/**
 * The `blocks_by_range` server's limits (issue 13 item 3): how many requests it serves at once (all
 * peers together, and per peer), and a per-peer token bucket in blocks per second on the host's
 * {@link Clock} (so a test clock replays it). Pure bookkeeping: the server asks here and answers a
 * refused request with one `RateLimited` (139) error chunk, as Lighthouse does (alys-protocol.md 7.3).
 */
import type { Clock } from '../../actors/clock.js';

export interface ServeLimits {
  /** Requests served at once, all peers together (a relay serves many browsers). */
  maxStreams: number;
  /**
   * Requests served at once per peer. 4: our own client runs `sync.parallelism` (default 4) ranges at
   * once against one source, and an honest light node must not be refused.
   */
  maxStreamsPerPeer: number;
  /** Per peer: blocks a second its bucket refills with. */
  blocksPerSecond: number;
  /** Per peer: the bucket's size (a request costs the blocks it asks for, at most 1024). */
  burstBlocks: number;
  /** Blocks read (and held) at a time while answering one request: the memory a request costs. */
  batchBlocks: number;
  /** Time a peer has to take each chunk (the stream's send buffer draining) before the stream is aborted. */
  writeTimeoutMs: number;
}

export const SERVE_LIMITS: Readonly<ServeLimits> = {
  maxStreams: 32,
  maxStreamsPerPeer: 4,
  blocksPerSecond: 1024,
  burstBlocks: 2048,
  batchBlocks: 32,
  writeTimeoutMs: 10_000,
};

/** A stream admitted (release its slot when done) or refused (why, for the RateLimited message). */
export type Admission = { ok: true; release(): void } | { ok: false; reason: string };

export interface ServeLimiter {
  readonly limits: Readonly<ServeLimits>;
  /** A request stream from `peer` arrived: take a slot, or say why not. */
  admit(peer: string): Admission;
  /** Charge `blocks` to `peer`'s bucket: undefined when it had them, else why not. */
  charge(peer: string, blocks: number): string | undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before full ones (peers that have been quiet long enough) are forgotten. */
const MAX_BUCKETS = 1024;

/** `b` refilled up to `now` (capped at `burst`). */
function refill(b: Bucket, now: number, l: Readonly<ServeLimits>): Bucket {
  const tokens = Math.min(l.burstBlocks, b.tokens + (Math.max(0, now - b.at) * l.blocksPerSecond) / 1000);
  return { tokens, at: now };
}

export function createServeLimiter(clock: Clock, overrides: Partial<ServeLimits> = {}): ServeLimiter {
  const limits: Readonly<ServeLimits> = { ...SERVE_LIMITS, ...overrides };
  let streams = 0;
  const perPeer = new Map<string, number>();
  const buckets = new Map<string, Bucket>();

  function forgetFullBuckets(now: number): void {
    if (buckets.size < MAX_BUCKETS) return;
    for (const [peer, b] of buckets) if (refill(b, now, limits).tokens >= limits.burstBlocks) buckets.delete(peer);
  }

  return {
    limits,
    admit(peer) {
      if (streams >= limits.maxStreams)
        return { ok: false, reason: `server busy: ${limits.maxStreams} requests served` };
      const mine = perPeer.get(peer) ?? 0;
      if (mine >= limits.maxStreamsPerPeer)
        return { ok: false, reason: `rate limited: ${limits.maxStreamsPerPeer} requests in flight per peer` };
      streams++;
      perPeer.set(peer, mine + 1);
      let released = false;
      return {
        ok: true,
        release() {
          if (released) return;
          released = true;
          streams--;
          const left = (perPeer.get(peer) ?? 1) - 1;
          if (left > 0) perPeer.set(peer, left);
          else perPeer.delete(peer);
        },
      };
    },
    charge(peer, blocks) {
      const now = clock.now();
      const b = refill(buckets.get(peer) ?? { tokens: limits.burstBlocks, at: now }, now, limits);
      const cost = Math.min(Math.max(1, blocks), limits.burstBlocks);
      if (b.tokens < cost) {
        buckets.set(peer, b);
        return `rate limited: ${limits.blocksPerSecond} blocks/s per peer`;
      }
      forgetFullBuckets(now);
      buckets.set(peer, { tokens: b.tokens - cost, at: now });
      return undefined;
    },
  };
}
