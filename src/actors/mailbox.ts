/**
 * A bounded mailbox with priority lanes and an overflow policy.
 *
 * - Hard bound: `size` never exceeds `capacity` (all lanes together).
 * - Lanes: system > high > normal > low; FIFO within a lane. Together with FIFO waiters this gives
 *   FIFO per (sender, receiver, priority).
 * - Overflow policies when full:
 *   - `dropOldest`: evict the oldest message of the lowest-priority lane that is not above the
 *     incoming message's priority (if every queued message outranks it, the incoming one is dropped);
 *   - `dropNewest`: drop the incoming message;
 *   - `fail`: refuse the incoming message; the sender's promise rejects with MailboxFullError;
 *   - `block`: the sender waits (FIFO) for space up to `timeoutMs`, then MailboxTimeoutError;
 *   - `backoff`: the sender retries after `initialMs * multiplier^k` (capped at `maxMs`) up to
 *     `maxAttempts` times, incrementing the envelope's `attempt`; later messages of the same sender
 *     queue behind it, so per-sender FIFO holds.
 *   Every refused or evicted message goes to dead letters with the reason; an evicted or refused
 *   `ask` rejects its asker.
 */
import type { Clock, TimerHandle } from './clock.js';
import type { DeadLetterQueue, DeadLetterReason } from './dead-letters.js';
import { LANE, type Envelope } from './envelope.js';
import { ActorStoppedError, MailboxFullError, MailboxTimeoutError } from './errors.js';
import { Fifo } from './queue.js';

export type OverflowPolicy =
  | { kind: 'dropOldest' }
  | { kind: 'dropNewest' }
  | { kind: 'fail' }
  | { kind: 'block'; timeoutMs: number }
  | { kind: 'backoff'; initialMs: number; multiplier: number; maxMs: number; maxAttempts: number };

export interface MailboxOptions {
  capacity: number;
  overflow: OverflowPolicy | OverflowPolicy['kind'];
}

export const DEFAULT_MAILBOX: MailboxOptions = { capacity: 1024, overflow: 'fail' };

export function resolvePolicy(p: MailboxOptions['overflow']): OverflowPolicy {
  if (typeof p !== 'string') return p;
  switch (p) {
    case 'block':
      return { kind: 'block', timeoutMs: 5_000 };
    case 'backoff':
      return { kind: 'backoff', initialMs: 10, multiplier: 2, maxMs: 1_000, maxAttempts: 8 };
    default:
      return { kind: p };
  }
}

export interface MailboxStats {
  enqueued: number;
  dequeued: number;
  dropped: number;
  maxDepth: number;
}

/** What the mailbox needs from its owner. */
export interface MailboxHost {
  readonly address: string;
  readonly clock: Clock;
  readonly deadLetters: DeadLetterQueue;
  /** Called after a message was enqueued, so the owner can schedule processing. */
  onEnqueued(): void;
  /** Settle a refused/evicted `ask` (the envelope has a correlationId) with an error. */
  rejectAsk(env: Envelope, error: Error): void;
}

/**
 * The mailbox of an actor cell (in-thread or worker proxy): options layered default < actor
 * definition < child spec, refused asks settled through the kernel.
 */
export function createActorMailbox(
  address: string,
  kernel: {
    clock: Clock;
    deadLetters: DeadLetterQueue;
    settleReply(id: Envelope['messageId'], ok: boolean, value: unknown): void;
  },
  onEnqueued: () => void,
  ...layers: (Partial<MailboxOptions> | undefined)[]
): Mailbox {
  return new Mailbox(
    {
      address,
      clock: kernel.clock,
      deadLetters: kernel.deadLetters,
      onEnqueued,
      rejectAsk: (env, err) => env.correlationId && kernel.settleReply(env.correlationId, false, err),
    },
    Object.assign({}, DEFAULT_MAILBOX, ...layers),
  );
}

interface Waiter {
  env: Envelope;
  resolve: () => void;
  reject: (e: Error) => void;
  timer?: TimerHandle;
}

const RESOLVED: Promise<void> = Promise.resolve();
const noop = () => {};

export class Mailbox {
  readonly capacity: number;
  readonly policy: OverflowPolicy;
  readonly stats: MailboxStats = { enqueued: 0, dequeued: 0, dropped: 0, maxDepth: 0 };
  private readonly lanes = [new Fifo<Envelope>(), new Fifo<Envelope>(), new Fifo<Envelope>(), new Fifo<Envelope>()];
  private count = 0;
  private readonly blocked = new Fifo<Waiter>();
  private readonly backoffBySender = new Map<string, Fifo<Waiter>>();
  private closedState: string | undefined;
  /** `block`/`backoff`: senders may be waiting, and a new message must not overtake them. */
  private readonly mayQueueSenders: boolean;

  constructor(
    private readonly host: MailboxHost,
    options: MailboxOptions = DEFAULT_MAILBOX,
  ) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1)
      throw new RangeError(`mailbox capacity must be a positive integer, got ${options.capacity}`);
    this.capacity = options.capacity;
    this.policy = resolvePolicy(options.overflow);
    this.mayQueueSenders = this.policy.kind === 'block' || this.policy.kind === 'backoff';
  }

  get size(): number {
    return this.count;
  }

  /** Messages waiting to enter (blocked or backing-off senders). */
  get waiting(): number {
    let n = this.blocked.size;
    for (const q of this.backoffBySender.values()) n += q.size;
    return n;
  }

  get closed(): boolean {
    return this.closedState !== undefined;
  }

  /**
   * Offer a message. Resolves when it is in the mailbox; rejects (with a typed error) when it
   * will never be. The returned promise is pre-handled, so ignoring it never raises an
   * unhandled rejection; the refusal is visible in dead letters either way.
   */
  offer(env: Envelope): Promise<void> {
    if (this.closedState !== undefined) {
      return this.refuse(env, 'actor-stopped', new ActorStoppedError(this.host.address, this.closedState));
    }
    const policy = this.policy;
    if (this.mayQueueSenders) {
      if (policy.kind === 'block' && this.blocked.size > 0) return this.wait(env, policy.timeoutMs);
      if (policy.kind === 'backoff' && this.backoffBySender.has(env.from ?? '')) return this.backoff(env);
    }
    if (this.count < this.capacity) {
      // admitted at once: it entered when it was created (saves a clock read per message)
      env.enqueuedAt = env.createdAt;
      this.push(env);
      return RESOLVED;
    }
    switch (policy.kind) {
      case 'dropNewest':
        return this.refuse(env, 'mailbox-full', new MailboxFullError(this.host.address, this.capacity, 'dropNewest'));
      case 'fail':
        return this.refuse(env, 'mailbox-full', new MailboxFullError(this.host.address, this.capacity, 'fail'));
      case 'dropOldest': {
        const victim = this.evictFor(LANE[env.priority]);
        if (!victim)
          return this.refuse(env, 'mailbox-full', new MailboxFullError(this.host.address, this.capacity, 'dropOldest'));
        this.stats.dropped++;
        this.deadLetter(victim, 'mailbox-evicted');
        if (victim.correlationId)
          this.host.rejectAsk(victim, new MailboxFullError(this.host.address, this.capacity, 'dropOldest'));
        this.push(env);
        return RESOLVED;
      }
      case 'block':
        return this.wait(env, policy.timeoutMs);
      case 'backoff':
        return this.backoff(env);
    }
  }

  /** Take the next message: highest-priority lane first, FIFO within it. */
  shift(): Envelope | undefined {
    if (this.count === 0) return undefined;
    const lanes = this.lanes;
    const lane =
      lanes[2]!.size === this.count
        ? lanes[2]!
        : lanes[0]!.size > 0
          ? lanes[0]!
          : lanes[1]!.size > 0
            ? lanes[1]!
            : lanes[2]!.size > 0
              ? lanes[2]!
              : lanes[3]!;
    const env = lane.shift()!;
    this.count--;
    this.stats.dequeued++;
    if (this.mayQueueSenders && this.blocked.size > 0) this.admitBlocked();
    return env;
  }

  /**
   * Close for good (the actor stopped or failed): every queued and waiting message goes to dead
   * letters with `reason`; later offers are refused.
   */
  close(state: string, reason: DeadLetterReason): void {
    if (this.closedState !== undefined) return;
    this.closedState = state;
    const err = () => new ActorStoppedError(this.host.address, state);
    for (const lane of this.lanes) for (const env of lane.drain()) this.refuseQueued(env, reason, err());
    this.count = 0;
    for (const w of this.blocked.drain()) this.failWaiter(w, reason, err());
    for (const q of this.backoffBySender.values()) for (const w of q.drain()) this.failWaiter(w, reason, err());
    this.backoffBySender.clear();
  }

  /** Accept messages again (a parent restarted a stopped or failed child). */
  reopen(): void {
    this.closedState = undefined;
  }

  private push(env: Envelope): void {
    if (env.enqueuedAt === undefined) env.enqueuedAt = this.host.clock.now();
    (env.priority === 'normal' ? this.lanes[2]! : this.lanes[LANE[env.priority]]!).push(env);
    this.count++;
    this.stats.enqueued++;
    if (this.count > this.stats.maxDepth) this.stats.maxDepth = this.count;
    this.host.onEnqueued();
  }

  private evictFor(incomingLane: number): Envelope | undefined {
    for (let lane = this.lanes.length - 1; lane >= incomingLane; lane--) {
      const victim = this.lanes[lane]!.shift();
      if (victim) {
        this.count--;
        return victim;
      }
    }
    return undefined;
  }

  private refuse(env: Envelope, reason: DeadLetterReason, error: Error): Promise<void> {
    this.stats.dropped++;
    this.deadLetter(env, reason, error.message);
    if (env.correlationId) this.host.rejectAsk(env, error);
    const p = Promise.reject(error);
    p.catch(noop);
    return p;
  }

  private refuseQueued(env: Envelope, reason: DeadLetterReason, error: Error): void {
    this.deadLetter(env, reason, error.message);
    if (env.correlationId) this.host.rejectAsk(env, error);
  }

  private deadLetter(env: Envelope, reason: DeadLetterReason, detail?: string): void {
    const letter = { envelope: env, reason, target: this.host.address, at: this.host.clock.now() };
    this.host.deadLetters.add(detail === undefined ? letter : { ...letter, detail });
  }

  private pending(env: Envelope): { waiter: Waiter; promise: Promise<void> } {
    let waiter!: Waiter;
    const promise = new Promise<void>((resolve, reject) => {
      waiter = { env, resolve, reject };
    });
    promise.catch(noop);
    return { waiter, promise };
  }

  private failWaiter(w: Waiter, reason: DeadLetterReason, error: Error): void {
    if (w.timer !== undefined) this.host.clock.clearTimer(w.timer);
    this.stats.dropped++;
    this.deadLetter(w.env, reason, error.message);
    if (w.env.correlationId) this.host.rejectAsk(w.env, error);
    w.reject(error);
  }

  // ---- block policy

  private wait(env: Envelope, timeoutMs: number): Promise<void> {
    const { waiter, promise } = this.pending(env);
    waiter.timer = this.host.clock.setTimer(() => {
      if (this.blocked.removeFirst((w) => w === waiter)) {
        waiter.timer = undefined;
        this.failWaiter(waiter, 'mailbox-timeout', new MailboxTimeoutError(this.host.address, timeoutMs));
      }
    }, timeoutMs);
    this.blocked.push(waiter);
    return promise;
  }

  private admitBlocked(): void {
    while (this.count < this.capacity && this.blocked.size > 0) {
      const w = this.blocked.shift()!;
      if (w.timer !== undefined) this.host.clock.clearTimer(w.timer);
      w.env.enqueuedAt = undefined;
      this.push(w.env);
      w.resolve();
    }
  }

  // ---- backoff policy

  private backoff(env: Envelope): Promise<void> {
    const key = env.from ?? '';
    const { waiter, promise } = this.pending(env);
    let queue = this.backoffBySender.get(key);
    if (!queue) this.backoffBySender.set(key, (queue = new Fifo()));
    queue.push(waiter);
    if (queue.size === 1) this.scheduleRetry(key, waiter);
    return promise;
  }

  private scheduleRetry(key: string, head: Waiter): void {
    const p = this.policy as Extract<OverflowPolicy, { kind: 'backoff' }>;
    const delay = Math.min(p.maxMs, p.initialMs * p.multiplier ** (head.env.attempt - 1));
    head.timer = this.host.clock.setTimer(() => this.retry(key), delay);
  }

  private retry(key: string): void {
    const queue = this.backoffBySender.get(key);
    if (!queue) return;
    const p = this.policy as Extract<OverflowPolicy, { kind: 'backoff' }>;
    for (;;) {
      const head = queue.peek();
      if (!head) {
        this.backoffBySender.delete(key);
        return;
      }
      head.timer = undefined;
      if (this.count < this.capacity) {
        queue.shift();
        head.env.enqueuedAt = undefined;
        this.push(head.env);
        head.resolve();
        continue;
      }
      head.env.attempt++;
      if (head.env.attempt > p.maxAttempts) {
        queue.shift();
        this.failWaiter(head, 'backoff-exhausted', new MailboxFullError(this.host.address, this.capacity, 'backoff'));
        continue;
      }
      this.scheduleRetry(key, head);
      return;
    }
  }
}
