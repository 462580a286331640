/**
 * The parent-side proxy of an actor that runs in a worker. It owns the actor's mailbox (so the
 * bound and overflow policy hold here, and messages sent while the worker restarts wait in it),
 * streams envelopes to the worker in batches within a window, and turns every way a worker can
 * die - an uncaught error, an exit, missed heartbeats, or a handler that throws - into a crash
 * reported to the supervisor. A restart spawns a fresh worker.
 *
 * Delivery stays at-most-once: envelopes already handed to a worker that dies are not resent;
 * they are dead-lettered with reason `worker-crashed` (asks reject with ActorCrashedError).
 */
import type { AnyActorDefinition } from '../actor.js';
import type { ChildParent, StopOptions, SupervisedChild } from '../child.js';
import type { TimerHandle } from '../clock.js';
import type { Envelope } from '../envelope.js';
import {
  ActorCrashedError,
  ActorError,
  ActorStoppedError,
  deserializeError,
  HeartbeatMissedError,
  serializeError,
  WorkerExitedError,
  WorkerStartError,
  type SerializedError,
} from '../errors.js';
import type { Kernel } from '../kernel.js';
import { Lifecycle } from '../lifecycle.js';
import { createActorMailbox, type Mailbox, type MailboxOptions } from '../mailbox.js';
import { Fifo } from '../queue.js';
import { createRef } from '../ref.js';
import type { PlacementFactory } from '../supervisor.js';
import { withTimeout } from '../timeout.js';
import {
  toWire,
  type FromWorker,
  type ReplyRecord,
  type WireEnvelope,
  type WorkerEndpoint,
  type WorkerSpawner,
} from './protocol.js';

export { HeartbeatMissedError, WorkerExitedError, WorkerStartError };

export interface WorkerPlacementOptions {
  /** Envelopes in flight to the worker at most. Default 256. */
  window?: number;
  /** Default 1000 ms. */
  heartbeatIntervalMs?: number;
  /** No pong for this long is a crash. Default 3000 ms. */
  heartbeatTimeoutMs?: number;
  /** Spawn + init must finish within this. Default 10 000 ms. */
  startTimeoutMs?: number;
}

/** Place an actor in a worker spawned by `spawn` (see src/platform/{nodejs,browser}/worker.ts). */
export function workerPlacement(spawn: WorkerSpawner, opts: WorkerPlacementOptions = {}): PlacementFactory {
  return {
    placement: 'worker',
    create: ({ id, address, def, args, kernel, mailbox }) =>
      new WorkerCell(id, address, def, args, kernel, spawn, opts, mailbox),
  };
}

const noop = () => {};
const RESOLVED = Promise.resolve();

export class WorkerCell implements SupervisedChild {
  readonly kind = 'worker' as const;
  readonly lifecycle: Lifecycle;
  readonly mailbox: Mailbox;
  readonly ref;
  parent: ChildParent | undefined;
  onSuccess: (() => void) | undefined;
  restarts = 0;
  processed = 0;
  lastError: unknown;

  private worker: WorkerEndpoint | undefined;
  /** Incremented per spawned worker; events from an older worker are ignored. */
  private generation = 0;
  private readonly inFlight = new Fifo<Envelope>();
  private pumpScheduled = false;
  private heartbeat: TimerHandle | undefined;
  private lastPong = 0;
  private pingSeq = 0;
  private readonly healthWaiters = new Map<number, (ok: boolean) => void>();
  private booting: { resolve: () => void; reject: (e: unknown) => void; ready: boolean } | undefined;
  private stopping: { drained: () => void; stopped: () => void } | undefined;
  private transitioning: Promise<unknown> | undefined;
  private readonly window: number;
  private readonly heartbeatIntervalMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly startTimeoutMs: number;

  constructor(
    readonly id: string,
    readonly address: string,
    private readonly def: AnyActorDefinition,
    private readonly args: unknown,
    private readonly kernel: Kernel,
    private readonly spawn: WorkerSpawner,
    opts: WorkerPlacementOptions,
    mailbox?: Partial<MailboxOptions>,
  ) {
    this.window = opts.window ?? 256;
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 1_000;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 3_000;
    this.startTimeoutMs = opts.startTimeoutMs ?? 10_000;
    this.lifecycle = new Lifecycle(address);
    this.mailbox = createActorMailbox(address, kernel, () => this.schedulePump(), def.mailbox, mailbox);
    this.ref = createRef(address, kernel);
  }

  get type(): string {
    return this.def.name;
  }

  load(): number {
    return this.mailbox.size + this.inFlight.size;
  }

  deliver(env: Envelope): Promise<void> {
    return this.mailbox.offer(env);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    this.lifecycle.transition('Starting');
    this.mailbox.reopen();
    await this.guard(this.boot(false, undefined));
  }

  async restart(reason: unknown): Promise<void> {
    this.lifecycle.transition('Restarting');
    this.restarts++;
    await this.guard(this.boot(true, reason));
  }

  private async boot(restart: boolean, reason: unknown): Promise<void> {
    const gen = ++this.generation;
    try {
      const booted = new Promise<void>((resolve, reject) => (this.booting = { resolve, reject, ready: false }));
      const worker = this.spawn();
      this.worker = worker;
      worker.onMessage((m) => gen === this.generation && this.onMessage(m, restart, reason));
      worker.onError((e) => gen === this.generation && this.onWorkerDeath(e));
      worker.onExit((code) => gen === this.generation && this.onWorkerDeath(new WorkerExitedError(this.address, code)));
      await withTimeout(this.kernel.clock, this.startTimeoutMs, () => booted);
    } catch (err) {
      this.booting = undefined;
      this.killWorker();
      this.lastError =
        err instanceof ActorError || err instanceof Error ? err : new WorkerStartError(this.address, String(err));
      if (this.lifecycle.is('Starting', 'Restarting')) this.lifecycle.transition('StartFailed');
      throw this.lastError;
    }
    this.booting = undefined;
    this.lifecycle.transition('Running');
    this.lastPong = this.kernel.clock.now();
    this.scheduleHeartbeat();
    this.pump();
  }

  enterBackoff(): void {
    this.lifecycle.transition('Backoff');
  }

  giveUp(reason: unknown): void {
    this.lastError = reason;
    this.killWorker();
    this.lifecycle.transition('Failed');
    this.mailbox.close('Failed', 'actor-failed');
  }

  async stop({ final, timeoutMs }: StopOptions): Promise<void> {
    while (this.transitioning !== undefined) await this.transitioning.catch(noop);
    const state = this.lifecycle.state;
    if (state === 'Running') {
      this.lifecycle.transition('Stopping');
      this.stopHeartbeat();
      const drained = new Promise<void>((r) => (this.stopping = { drained: r, stopped: noop }));
      const stopped = new Promise<void>((r) => (this.stopping!.stopped = r));
      const ok = await withTimeout(this.kernel.clock, timeoutMs, async () => {
        if (this.inFlight.size > 0) await drained;
        this.worker?.post({ t: 'stop' });
        await stopped;
        return true;
      }).catch(() => false);
      this.stopping = undefined;
      this.failInFlight(ok ? undefined : new ActorStoppedError(this.address, 'Stopping'), 'actor-stopped');
      this.killWorker();
      this.lifecycle.transition('Stopped');
    } else if (state === 'Backoff') {
      this.lifecycle.transition('Stopping');
      this.lifecycle.transition('Stopped');
    } else if (state === 'Crashed' || state === 'StartFailed') {
      this.lifecycle.transition('Stopped');
    }
    if (final) this.mailbox.close(this.lifecycle.state, 'actor-stopped');
  }

  crash(error: unknown): void {
    if (!this.lifecycle.is('Running')) return;
    this.lastError = error;
    this.lifecycle.transition('Crashed');
    this.stopHeartbeat();
    this.killWorker();
    this.failInFlight(new ActorCrashedError(this.address, error), 'worker-crashed');
    queueMicrotask(() => this.parent?.childFailed(this, error));
  }

  async checkHealth(timeoutMs: number): Promise<boolean | undefined> {
    if (!this.lifecycle.is('Running') || !this.worker) return undefined;
    const seq = ++this.pingSeq;
    const answer = new Promise<boolean>((r) => this.healthWaiters.set(seq, r));
    this.worker.post({ t: 'health', seq });
    try {
      return await withTimeout(this.kernel.clock, timeoutMs, () => answer);
    } catch {
      return false;
    } finally {
      this.healthWaiters.delete(seq);
    }
  }

  // ---------------------------------------------------------------- messages from the worker

  private onMessage(m: FromWorker, restart: boolean, reason: unknown): void {
    switch (m.t) {
      case 'ready':
        if (this.booting && !this.booting.ready) {
          this.booting.ready = true;
          const init = {
            t: 'init',
            actor: this.def.name,
            args: this.args,
            id: this.id,
            address: this.address,
            restart,
          } as const;
          this.worker!.post(restart && reason !== undefined ? { ...init, reason: serializeError(reason) } : init);
        }
        return;
      case 'started':
        this.booting?.resolve();
        return;
      case 'start-failed':
        this.booting?.reject(deserializeError(m.error));
        return;
      case 'done':
        this.acknowledge(m.n, m.replies);
        if (this.lifecycle.is('Running')) this.pump();
        else if (this.stopping && this.inFlight.size === 0) this.stopping.drained();
        return;
      case 'crash': {
        this.acknowledge(m.n, m.replies);
        const error = deserializeError(m.error);
        const culprit = m.culprit ? this.inFlight.shift() : undefined;
        if (culprit?.correlationId)
          this.kernel.settleReply(culprit.correlationId, false, new ActorCrashedError(this.address, error));
        else if (culprit) this.deadLetter(culprit, 'crashed-while-handling', error.message);
        this.crash(error);
        return;
      }
      case 'pong':
        this.lastPong = this.kernel.clock.now();
        return;
      case 'health':
        this.lastPong = this.kernel.clock.now();
        this.healthWaiters.get(m.seq)?.(m.ok);
        return;
      case 'send':
        this.forward(m);
        return;
      case 'exited':
        void this.exitedNormally();
        return;
      case 'stopped':
        this.stopping?.stopped();
        return;
    }
  }

  private onWorkerDeath(error: Error): void {
    if (this.booting) {
      this.booting.reject(error);
      return;
    }
    if (this.stopping) {
      this.stopping.drained();
      this.stopping.stopped();
      return;
    }
    this.crash(error);
  }

  private acknowledge(n: number, replies: ReplyRecord[]): void {
    for (let i = 0; i < n; i++) this.inFlight.shift();
    this.processed += n;
    for (const [cid, ok, value] of replies)
      this.kernel.settleReply(cid, ok, ok ? value : deserializeError(value as SerializedError));
    if (n > 0) this.onSuccess?.();
  }

  /** A send made by the actor inside the worker, routed through this side's system. */
  private forward(m: Extract<FromWorker, { t: 'send' }>): void {
    const origin = m.cause ? { from: this.address, cause: m.cause as Envelope } : { from: this.address };
    if (m.mode === 'publish') {
      this.kernel.publish(m.to, m.msg, m.opts, origin);
      return;
    }
    if (m.mode === 'tell') return void this.kernel.tell(m.to, m.msg, m.opts, origin).catch(noop);
    if (m.mode === 'tell-group') return void this.kernel.tellGroup(m.to, m.msg, m.opts, origin).catch(noop);
    const gen = this.generation;
    const asked =
      m.mode === 'ask-group'
        ? this.kernel.askGroup(m.to, m.msg, m.opts, origin)
        : this.kernel.ask(m.to, m.msg, m.opts, origin);
    asked.then(
      (value) => gen === this.generation && this.postReply(m.cid!, true, value),
      (err) => gen === this.generation && this.postReply(m.cid!, false, serializeError(err)),
    );
  }

  private postReply(cid: string, ok: boolean, value: unknown): void {
    try {
      this.worker?.post({ t: 'reply', cid, ok, value });
    } catch (err) {
      this.worker?.post({ t: 'reply', cid, ok: false, value: serializeError(err) });
    }
  }

  private async exitedNormally(): Promise<void> {
    if (!this.lifecycle.is('Running')) return;
    this.lifecycle.transition('Stopping');
    this.stopHeartbeat();
    this.failInFlight(new ActorStoppedError(this.address, 'Stopping'), 'actor-stopped');
    this.killWorker();
    this.lifecycle.transition('Stopped');
    this.parent?.childExited(this);
  }

  // ---------------------------------------------------------------- sending to the worker

  private readonly pumpTask = () => {
    this.pumpScheduled = false;
    this.pump();
  };

  private schedulePump(): void {
    if (this.pumpScheduled || !this.lifecycle.is('Running')) return;
    this.pumpScheduled = true;
    void RESOLVED.then(this.pumpTask);
  }

  /** Move envelopes from the mailbox to the worker while the window has room (one postMessage per batch). */
  private pump(): void {
    const worker = this.worker;
    if (!worker || !this.lifecycle.is('Running')) return;
    let room = this.window - this.inFlight.size;
    while (room > 0 && this.mailbox.size > 0) {
      const batch: Envelope[] = [];
      const wire: WireEnvelope[] = [];
      while (batch.length < room) {
        const env = this.mailbox.shift();
        if (!env) break;
        batch.push(env);
        wire.push(toWire(env));
      }
      try {
        worker.post({ t: 'deliver', envs: wire });
        for (const env of batch) this.inFlight.push(env);
      } catch {
        // one envelope could not be cloned: send them one by one and refuse the bad ones
        for (const env of batch) {
          try {
            worker.post({ t: 'deliver', envs: [toWire(env)] });
            this.inFlight.push(env);
          } catch (err) {
            this.deadLetter(env, 'not-cloneable', String((err as Error)?.message ?? err));
            if (env.correlationId) this.kernel.settleReply(env.correlationId, false, err);
          }
        }
      }
      room = this.window - this.inFlight.size;
    }
  }

  private failInFlight(error: Error | undefined, reason: 'worker-crashed' | 'actor-stopped'): void {
    for (const env of this.inFlight.drain()) {
      if (env.correlationId)
        this.kernel.settleReply(env.correlationId, false, error ?? new ActorStoppedError(this.address, 'Stopped'));
      else this.deadLetter(env, reason, error?.message);
    }
  }

  private deadLetter(
    env: Envelope,
    reason: 'worker-crashed' | 'actor-stopped' | 'crashed-while-handling' | 'not-cloneable',
    detail?: string,
  ): void {
    const letter = { envelope: env, reason, target: this.address, at: this.kernel.clock.now() };
    this.kernel.deadLetters.add(detail === undefined ? letter : { ...letter, detail });
  }

  // ---------------------------------------------------------------- heartbeat

  private scheduleHeartbeat(): void {
    this.heartbeat = this.kernel.clock.setTimer(() => {
      this.heartbeat = undefined;
      if (!this.lifecycle.is('Running') || !this.worker) return;
      const silent = this.kernel.clock.now() - this.lastPong;
      if (silent > this.heartbeatTimeoutMs) {
        this.crash(new HeartbeatMissedError(this.address, silent));
        return;
      }
      this.worker.post({ t: 'ping', seq: ++this.pingSeq });
      this.scheduleHeartbeat();
    }, this.heartbeatIntervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) this.kernel.clock.clearTimer(this.heartbeat);
    this.heartbeat = undefined;
  }

  private killWorker(): void {
    const w = this.worker;
    this.worker = undefined;
    this.generation++;
    for (const r of this.healthWaiters.values()) r(false);
    this.healthWaiters.clear();
    if (w) {
      try {
        w.terminate();
      } catch {
        // already gone
      }
    }
  }

  private guard(p: Promise<void>): Promise<void> {
    this.transitioning = p;
    return p.finally(() => {
      if (this.transitioning === p) this.transitioning = undefined;
    });
  }
}
