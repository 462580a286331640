/**
 * Time and randomness for the runtime. Everything that waits (ask timeouts, backoff delays,
 * heartbeats, block timeouts) goes through a {@link Clock}, and everything random (jitter,
 * chaos) through a {@link Random}, so tests can swap in {@link createTestClock} and replay a
 * fault schedule exactly from a seed.
 */

export type TimerHandle = { readonly __timer: unique symbol } | number | object;

export interface Clock {
  /** Milliseconds; wall-clock epoch for the real clock, virtual time for the test clock. */
  now(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /**
   * Mark a timer as not keeping anything alive (`ref = false`) or as doing so again. Node's
   * `unref()`; the test clock's `runUntilIdle` ignores unreferenced timers. Optional for clocks.
   */
  setTimerRef?(handle: TimerHandle, ref: boolean): void;
  /**
   * Let the host run other work (I/O, timers) between batches of messages. The real clock yields
   * a macrotask; the test clock only a microtask, so replay stays deterministic.
   */
  yieldToHost(): Promise<void>;
}

/** A source of uniform doubles in [0, 1). */
export type Random = () => number;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimer: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
  setTimerRef: (h, ref) => {
    const t = h as { ref?: () => void; unref?: () => void };
    if (ref) t.ref?.();
    else t.unref?.();
  },
  yieldToHost: () => macrotask(),
};

/**
 * A cheaper `now()` for high-rate timestamps (envelope createdAt) on the real clock: one clock read
 * per event-loop turn, refreshed every 256 reads within a long synchronous burst. Reading the
 * wall clock costs ~90 ns here, a large share of an in-thread message; a stamp at most a few
 * hundred messages stale is still exact to the millisecond in practice. Any other clock is
 * returned as is (the test clock is already cheap and must stay exact).
 */
export function coarseNow(clock: Clock): () => number {
  if (clock !== realClock) return () => clock.now();
  let cached = 0;
  let valid = false;
  let reads = 0;
  const invalidate = () => {
    valid = false;
  };
  return () => {
    if (valid && (++reads & 255) !== 0) return cached;
    cached = Date.now();
    if (!valid) {
      valid = true;
      void macrotask().then(invalidate);
    }
    return cached;
  };
}

/** sfc32 seeded through splitmix32: fast, good enough for jitter and fault injection, fully reproducible. */
export function createRandom(seed: number): Random {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(),
    b = split(),
    c = split(),
    d = split();
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** Run a macrotask turn, so every pending microtask (promise continuation) has run. */
export function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  return new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      r();
    };
    ch.port2.postMessage(null);
  });
}

export interface TestClock extends Clock {
  readonly random: Random;
  /** Advance virtual time by `ms`, firing due timers in (time, creation) order and settling promises between them. */
  advance(ms: number): Promise<void>;
  /** Fire timers until no referenced timer is left or `limitMs` of virtual time has passed. */
  runUntilIdle(limitMs?: number): Promise<void>;
  /** Settle all pending promise continuations without moving time. */
  settle(): Promise<void>;
  pendingTimers(): number;
}

/**
 * A deterministic clock: virtual time that only moves when the test says so, timers ordered by
 * (due time, creation order), and a seeded {@link Random}. With no real I/O in the system under
 * test, the same seed gives the same interleaving every run.
 */
export function createTestClock(seed = 1, startMs = 0): TestClock {
  let now = startMs;
  let seq = 0;
  const timers = new Map<number, { at: number; seq: number; fn: () => void; ref: boolean }>();
  const random = createRandom(seed);

  const settle = async () => {
    // Several macrotask turns: a settled promise may schedule another continuation chain.
    for (let i = 0; i < 3; i++) await macrotask();
  };

  const nextDue = (refOnly = false) => {
    let best: { id: number; at: number; seq: number } | undefined;
    for (const [id, t] of timers) {
      if (refOnly && !t.ref) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = { id, at: t.at, seq: t.seq };
    }
    return best;
  };

  const runTo = async (target: number) => {
    await settle();
    for (;;) {
      const due = nextDue();
      if (!due || due.at > target) break;
      const t = timers.get(due.id)!;
      timers.delete(due.id);
      now = Math.max(now, t.at);
      t.fn();
      await settle();
    }
    now = Math.max(now, target);
  };

  return {
    random,
    now: () => now,
    setTimer(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), seq: id, fn, ref: true });
      return id;
    },
    clearTimer(h) {
      timers.delete(h as number);
    },
    setTimerRef(h, ref) {
      const t = timers.get(h as number);
      if (t) t.ref = ref;
    },
    yieldToHost: () => Promise.resolve(),
    advance: (ms) => runTo(now + ms),
    async runUntilIdle(limitMs = 3_600_000) {
      const end = now + limitMs;
      await settle();
      for (;;) {
        const due = nextDue(true);
        if (!due || due.at > end) break;
        await runTo(due.at);
      }
    },
    settle,
    pendingTimers: () => timers.size,
  };
}
