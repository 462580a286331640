/**
 * Ask timeouts without a timer per ask: a min-heap of deadlines and one armed clock timer for
 * the earliest. Settled asks are dropped lazily (and compacted away when they pile up); while no
 * ask is waiting the armed timer is unreferenced rather than cleared, so a stream of sequential
 * asks costs a flag flip each, not a timer (a timer per ask costs more than the whole in-thread
 * round trip).
 */
import type { Clock, TimerHandle } from './clock.js';
import type { MessageId } from './envelope.js';

export class Deadlines {
  private heap: Array<{ at: number; id: MessageId }> = [];
  private timer: TimerHandle | undefined;
  private armedAt = Infinity;
  private stale = 0;

  constructor(
    private readonly clock: Clock,
    /** Is the ask still waiting? */
    private readonly isLive: (id: MessageId) => boolean,
    /** How many asks are waiting. */
    private readonly liveCount: () => number,
    /** Time it out. */
    private readonly expire: (id: MessageId) => void,
  ) {}

  add(id: MessageId, timeoutMs: number): void {
    const at = this.clock.now() + timeoutMs;
    this.push({ at, id });
    if (at < this.armedAt) this.arm(at);
    else this.setRef(true);
  }

  /** Note that an ask settled (its heap entry is now stale). */
  settled(): void {
    if (++this.stale > 1024 && this.stale * 2 > this.heap.length) this.compact();
    if (this.liveCount() === 0) this.setRef(false);
  }

  private referenced = false;

  private setRef(ref: boolean): void {
    if (this.timer === undefined || this.referenced === ref) return;
    this.referenced = ref;
    this.clock.setTimerRef?.(this.timer, ref);
  }

  clear(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    this.heap = [];
    this.stale = 0;
  }

  get size(): number {
    return this.heap.length;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.armedAt = at;
    this.timer = this.clock.setTimer(() => this.fire(), Math.max(0, at - this.clock.now()));
    this.referenced = true;
    if (this.liveCount() === 0) this.setRef(false);
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const { id } = this.pop()!;
      if (this.isLive(id)) this.expire(id);
      else if (this.stale > 0) this.stale--;
    }
    // skip stale heads so the next timer is for a live ask
    while (this.heap.length > 0 && !this.isLive(this.heap[0]!.id)) {
      this.pop();
      if (this.stale > 0) this.stale--;
    }
    if (this.heap.length > 0) this.arm(this.heap[0]!.at);
  }

  private compact(): void {
    this.heap = this.heap.filter((e) => this.isLive(e.id));
    this.heap.sort((a, b) => a.at - b.at); // a sorted array is a valid min-heap
    this.stale = 0;
    if (this.heap.length === 0 && this.timer !== undefined) {
      this.clock.clearTimer(this.timer);
      this.timer = undefined;
      this.armedAt = Infinity;
    }
  }

  private push(e: { at: number; id: MessageId }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): { at: number; id: MessageId } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < (m === i ? last.at : h[m]!.at)) m = l;
        if (r < h.length && h[r]!.at < (m === i ? last.at : h[m]!.at)) m = r;
        if (m === i) break;
        h[i] = h[m]!;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}
