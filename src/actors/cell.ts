/**
 * An in-thread actor: its mailbox, its current instance and lifecycle, and the loop that feeds it
 * one message at a time. The cell (and so its address, ref and mailbox) outlives restarts of the
 * instance: messages sent while it restarts wait in the mailbox under its overflow policy.
 */
import {
  asReplyError,
  type Actor,
  type ActorContext,
  type ActorDefinition,
  type ActorRef,
  type Message,
  type ReplyMap,
} from './actor.js';
import type { ChildParent, StopOptions, SupervisedChild } from './child.js';
import type { Envelope } from './envelope.js';
import { ActorCrashedError, ActorStoppedError } from './errors.js';
import type { Kernel } from './kernel.js';
import { Lifecycle } from './lifecycle.js';
import { createActorMailbox, type Mailbox, type MailboxOptions } from './mailbox.js';
import { createRef } from './ref.js';
import { withTimeout } from './timeout.js';

const RESOLVED = Promise.resolve();

/** Messages handled per turn before yielding to the host. */
const THROUGHPUT = 256;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

export class ActorCell<M extends Message = Message, A = unknown> implements SupervisedChild {
  readonly kind = 'actor' as const;
  readonly lifecycle: Lifecycle;
  readonly mailbox: Mailbox;
  readonly ref: ActorRef<M>;
  parent: ChildParent | undefined;
  /** Installed by the supervisor when the restart policy counts successes (circuit breaker). */
  onSuccess: (() => void) | undefined;
  restarts = 0;
  processed = 0;
  lastError: unknown;

  private instance: Actor<M, A> | undefined;
  private readonly ctx: ActorContext<M, A>;
  private current: Envelope<M> | undefined;
  private draining = false;
  /** Bumped when a running handler is abandoned, so its loop cannot interfere with a later one. */
  private drainGeneration = 0;
  private idleWaiters: Array<() => void> = [];
  private stopRequested = false;
  private transitioning: Promise<unknown> | undefined;

  constructor(
    readonly id: string,
    readonly address: string,
    private readonly def: ActorDefinition<M, ReplyMap<M>, A>,
    private readonly args: A,
    private readonly kernel: Kernel,
    mailbox?: Partial<MailboxOptions>,
  ) {
    this.lifecycle = new Lifecycle(address);
    this.mailbox = createActorMailbox(address, kernel, () => this.schedule(), def.mailbox, mailbox);
    this.ref = createRef<M>(address, kernel);
    this.ctx = this.makeContext();
  }

  get type(): string {
    return this.def.name;
  }

  load(): number {
    return this.mailbox.size + (this.current ? 1 : 0);
  }

  /** Deliver an envelope (already addressed to this actor). */
  deliver(env: Envelope): Promise<void> {
    return this.mailbox.offer(env);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    this.lifecycle.transition('Starting');
    this.mailbox.reopen();
    await this.guard(this.boot(undefined, 'Starting'));
  }

  async restart(reason: unknown): Promise<void> {
    this.lifecycle.transition('Restarting');
    const old = this.instance;
    this.instance = undefined;
    try {
      await old?.preRestart?.(this.ctx, reason);
    } catch {
      // the old instance is being discarded anyway; its cleanup failure must not block the restart
    }
    this.restarts++;
    await this.guard(this.boot(reason, 'Restarting'));
  }

  private async boot(reason: unknown, from: 'Starting' | 'Restarting'): Promise<void> {
    this.stopRequested = false;
    try {
      const instance = this.def.create(this.args);
      this.instance = instance;
      await instance.preStart?.(this.ctx);
      if (from === 'Restarting') await instance.postRestart?.(this.ctx, reason);
    } catch (err) {
      this.lastError = err;
      this.instance = undefined;
      this.lifecycle.transition('StartFailed');
      throw err;
    }
    this.lifecycle.transition('Running');
    try {
      await this.instance?.started?.(this.ctx);
    } catch (err) {
      this.crash(err);
      return;
    }
    this.schedule();
  }

  enterBackoff(): void {
    this.lifecycle.transition('Backoff');
  }

  giveUp(reason: unknown): void {
    this.lastError = reason;
    this.instance = undefined;
    this.lifecycle.transition('Failed');
    this.mailbox.close('Failed', 'actor-failed');
  }

  async stop({ final, timeoutMs }: StopOptions): Promise<void> {
    while (this.transitioning !== undefined) await this.transitioning.catch(() => {});
    const state = this.lifecycle.state;
    if (state === 'Running' || state === 'Backoff') {
      this.lifecycle.transition('Stopping');
      const instance = this.instance;
      const finished = await withTimeout(this.kernel.clock, timeoutMs, async () => {
        await this.idle();
        if (state === 'Running') {
          await instance?.preStop?.(this.ctx);
          await instance?.stopped?.(this.ctx);
        }
      }).catch(() => false);
      if (finished === false) this.abandonCurrent();
      this.instance = undefined;
      this.lifecycle.transition('Stopped');
    } else if (state === 'Crashed' || state === 'StartFailed') {
      this.instance = undefined;
      this.lifecycle.transition('Stopped');
    }
    if (final) this.mailbox.close(this.lifecycle.state, 'actor-stopped');
  }

  crash(error: unknown): void {
    if (!this.lifecycle.is('Running')) return;
    this.lastError = error;
    this.lifecycle.transition('Crashed');
    // A handler still running belongs to the crashed instance: abandon it, so its late result or
    // error cannot touch the replacement, and the replacement's loop is not blocked by it.
    const env = this.current;
    this.current = undefined;
    if (env?.correlationId)
      this.kernel.settleReply(env.correlationId, false, new ActorCrashedError(this.address, error));
    else if (env) this.deadLetterCrashed(env, error);
    this.drainGeneration++;
    this.draining = false;
    queueMicrotask(() => this.parent?.childFailed(this, error));
  }

  async checkHealth(timeoutMs: number): Promise<boolean | undefined> {
    const instance = this.instance;
    if (!this.lifecycle.is('Running') || !instance?.healthCheck) return undefined;
    try {
      const ok = await withTimeout(this.kernel.clock, timeoutMs, async () => instance.healthCheck!(this.ctx));
      return ok === true;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- processing

  private readonly drainTask = () => this.drain();

  private schedule(): void {
    if (this.draining || this.lifecycle.state !== 'Running' || this.mailbox.size === 0) return;
    this.draining = true;
    // a resolved promise's then() is far cheaper than Node's queueMicrotask (async-context bookkeeping)
    void RESOLVED.then(this.drainTask);
  }

  /**
   * Handle queued messages one at a time. Synchronous handlers run in a plain loop (no promise per
   * message); the first handler that returns a promise hands the rest of the turn to
   * {@link drainAsync}.
   */
  private drain(): void {
    const generation = this.drainGeneration;
    let n = 0;
    while (this.lifecycle.state === 'Running' && !this.stopRequested) {
      const env = this.mailbox.shift() as Envelope<M> | undefined;
      if (!env) break;
      this.current = env;
      let result: unknown;
      try {
        result = this.instance!.handle(env.payload, this.ctx);
      } catch (err) {
        this.current = undefined;
        this.handlerCrashed(env, err);
        this.drainDone(generation);
        return;
      }
      if (isThenable(result)) {
        void this.drainAsync(env, result, generation, n);
        return;
      }
      this.handled(env, result);
      if (++n >= THROUGHPUT) {
        void this.kernel.clock.yieldToHost().then(() => this.resume(generation));
        return;
      }
    }
    this.drainDone(generation);
  }

  private async drainAsync(
    env: Envelope<M>,
    pending: PromiseLike<unknown>,
    generation: number,
    n: number,
  ): Promise<void> {
    let result: unknown;
    try {
      result = await pending;
    } catch (err) {
      if (generation !== this.drainGeneration) return; // abandoned by a stop that timed out
      this.current = undefined;
      this.handlerCrashed(env, err);
      this.drainDone(generation);
      return;
    }
    if (generation !== this.drainGeneration) return;
    this.handled(env, result);
    if (++n >= THROUGHPUT) await this.kernel.clock.yieldToHost();
    this.resume(generation);
  }

  /** Continue the drain loop after an await, unless the cell moved on meanwhile. */
  private resume(generation: number): void {
    if (generation !== this.drainGeneration) return;
    if (this.lifecycle.state === 'Running' && !this.stopRequested && this.mailbox.size > 0) this.drain();
    else this.drainDone(generation);
  }

  private handled(env: Envelope<M>, result: unknown): void {
    this.current = undefined;
    this.processed++;
    if (env.correlationId) {
      const replyErr = asReplyError(result);
      this.kernel.settleReply(env.correlationId, replyErr === undefined, replyErr ?? result);
    }
    this.onSuccess?.();
  }

  private drainDone(generation: number): void {
    if (generation !== this.drainGeneration) return; // a crash or a timed-out stop took over
    this.draining = false;
    if (this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    if (this.stopRequested && this.lifecycle.state === 'Running') void this.exitNormally();
    else this.schedule();
  }

  private handlerCrashed(env: Envelope<M>, err: unknown): void {
    if (env.correlationId) this.kernel.settleReply(env.correlationId, false, new ActorCrashedError(this.address, err));
    else this.deadLetterCrashed(env, err);
    this.crash(err);
  }

  private deadLetterCrashed(env: Envelope, err: unknown): void {
    this.kernel.deadLetters.add({
      envelope: env,
      reason: 'crashed-while-handling',
      target: this.address,
      at: this.kernel.clock.now(),
      detail: String((err as Error)?.message ?? err),
    });
  }

  private idle(): Promise<void> {
    if (!this.draining) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** A stop timed out while a handler was still running: the asker learns, the late result is ignored. */
  private abandonCurrent(): void {
    const env = this.current;
    this.current = undefined;
    if (env?.correlationId)
      this.kernel.settleReply(env.correlationId, false, new ActorStoppedError(this.address, 'Stopping'));
    this.drainGeneration++;
    this.draining = false;
  }

  private async exitNormally(): Promise<void> {
    await this.stop({ final: false, timeoutMs: Number.MAX_SAFE_INTEGER });
    this.parent?.childExited(this);
  }

  /** Track an in-progress start/restart so a concurrent stop waits for it. */
  private guard(p: Promise<void>): Promise<void> {
    this.transitioning = p;
    return p.finally(() => {
      if (this.transitioning === p) this.transitioning = undefined;
    });
  }

  private makeContext(): ActorContext<M, A> {
    const cell = this;
    const kernel = this.kernel;
    return {
      address: this.address,
      self: this.ref,
      args: this.args,
      clock: kernel.clock,
      metrics: kernel.metrics,
      get envelope() {
        return cell.current;
      },
      tell: (to, msg, opts) => kernel.tell(to, msg, opts, { from: cell.address, cause: cell.current }),
      ask: (to, msg, opts) => kernel.ask(to, msg, opts, { from: cell.address, cause: cell.current }),
      publish: (topic, msg, opts) => kernel.publish(topic, msg, opts, { from: cell.address, cause: cell.current }),
      tellGroup: (group, msg, opts) => kernel.tellGroup(group, msg, opts, { from: cell.address, cause: cell.current }),
      askGroup: (group, msg, opts) => kernel.askGroup(group, msg, opts, { from: cell.address, cause: cell.current }),
      stop: () => {
        cell.stopRequested = true;
        if (!cell.draining && cell.lifecycle.is('Running')) void cell.exitNormally();
      },
    };
  }
}
