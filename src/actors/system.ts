/**
 * The actor system: the root of a supervision tree plus the services every actor shares
 * (registry, bus, dead letters, metrics, clock, reply table). Create it with
 * {@link createActorSystem}, then `start()`; `shutdown()` stops the tree in reverse order.
 */
import type { ActorDefinition, AnyActorDefinition, AskOptions, Message, RefOf, SendOptions } from './actor.js';
import { Bus, type GroupStrategy } from './bus.js';
import type { SupervisedChild } from './child.js';
import { coarseNow, realClock, type Clock, type Random } from './clock.js';
import { DeadLetterQueue } from './dead-letters.js';
import { Deadlines } from './deadlines.js';
import { IdGenerator, type Envelope, type MessageId, type Routing } from './envelope.js';
import { ActorStoppedError, AskTimeoutError, NoRouteError } from './errors.js';
import type { DirectTarget as KernelTarget, Kernel, SendOrigin } from './kernel.js';
import { MetricsRegistry } from './metrics.js';
import { createRef } from './ref.js';
import { Registry } from './registry.js';
import { Supervisor, type SupervisionEvent, type SupervisorSpec } from './supervisor.js';

export interface ActorSystemOptions {
  /** Root address segment. Default 'system'. */
  name?: string;
  root: SupervisorSpec;
  clock?: Clock;
  /** Default: Math.random (pass `createTestClock(seed).random` for replayable tests). */
  random?: Random;
  /** Default ask timeout (ms). Default 5000. */
  askTimeoutMs?: number;
  deadLetterCapacity?: number;
  metrics?: MetricsRegistry;
}

export type Termination = { reason: 'shutdown' } | { reason: 'failed'; error: unknown };

interface DirectTarget extends KernelTarget {
  routing: Routing;
  deliver: ((env: Envelope) => Promise<void>) | undefined;
  epoch: number;
}

interface PendingReply {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  to: string;
  timeoutMs: number;
}

const noop = () => {};

export class ActorSystem implements Kernel {
  readonly name: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly ids: IdGenerator;
  readonly metrics: MetricsRegistry;
  readonly deadLetters: DeadLetterQueue;
  readonly registry = new Registry();
  readonly bus: Bus;
  readonly askTimeoutMs: number;
  readonly root: Supervisor;
  /** Resolves once the system has stopped (shutdown) or its root supervisor failed. */
  readonly terminated: Promise<Termination>;

  private readonly replies = new Map<MessageId, PendingReply>();
  private readonly directs = new Map<string, DirectTarget>();
  private readonly deadlines: Deadlines;
  private readonly stamp: () => number;
  private readonly listeners = new Set<(e: SupervisionEvent) => void>();
  private terminate!: (t: Termination) => void;
  private done = false;

  constructor(opts: ActorSystemOptions) {
    this.name = opts.name ?? 'system';
    if (!/^[A-Za-z0-9_.-]+$/.test(this.name)) throw new Error(`invalid system name ${JSON.stringify(opts.name)}`);
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.askTimeoutMs = opts.askTimeoutMs ?? 5_000;
    this.stamp = coarseNow(this.clock);
    this.deadlines = new Deadlines(
      this.clock,
      (id) => this.replies.has(id),
      () => this.replies.size,
      (id) => {
        const p = this.replies.get(id)!;
        this.replies.delete(id);
        p.reject(new AskTimeoutError(p.to, p.timeoutMs));
      },
    );
    this.ids = new IdGenerator();
    this.metrics = opts.metrics ?? new MetricsRegistry();
    this.deadLetters = new DeadLetterQueue(
      opts.deadLetterCapacity ?? 1000,
      this.metrics.counter('actor_dead_letters_total', 'Messages that could not be delivered or processed, by reason', [
        'reason',
      ]),
    );
    this.bus = new Bus({
      exists: (a) => this.registry.get(a)?.deliver !== undefined,
      load: (a) => this.registry.get(a)?.child.load() ?? Infinity,
    });
    this.terminated = new Promise((r) => (this.terminate = r));
    this.root = new Supervisor(this.name, `/${this.name}`, opts.root, {
      kernel: this,
      registry: this.registry,
      emit: (e) => {
        for (const l of this.listeners) l(e);
      },
    });
    this.registry.register({
      id: this.name,
      address: this.root.address,
      placement: 'supervisor',
      child: this.root,
      parent: undefined,
    });
    this.root.onRootFailure = (error) => void this.finish({ reason: 'failed', error });
    this.registerMetrics();
  }

  // ---------------------------------------------------------------- public API

  async start(): Promise<void> {
    await this.root.start();
  }

  /** Graceful shutdown: children stop in reverse start order within their shutdown timeouts; pending asks reject. */
  async shutdown(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.done) return;
    await this.root.stop({ final: true, timeoutMs: opts.timeoutMs ?? 30_000 });
    await this.finish({ reason: 'shutdown' });
  }

  /** A ref to the actor at `address` (e.g. `/system/chain/engine`). */
  ref<D extends AnyActorDefinition = ActorDefinition>(address: string): RefOf<D> {
    return createRef(address, this) as never;
  }

  /** Listen to supervision events (failures, restarts, escalations). Returns the unsubscribe function. */
  onEvent(listener: (e: SupervisionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The supervisor at `address` (for startChild/stopChild). */
  supervisor(address: string): Supervisor | undefined {
    const child = this.registry.get(address)?.child;
    return child instanceof Supervisor ? child : undefined;
  }

  child(address: string): SupervisedChild | undefined {
    return this.registry.get(address)?.child;
  }

  subscribe(topic: string, address: string, filter?: (msg: Message, env: Envelope) => boolean): () => void {
    return this.bus.subscribe(topic, address, filter);
  }

  joinGroup(group: string, address: string, strategy?: GroupStrategy): () => void {
    return this.bus.join(group, address, strategy);
  }

  /** Send to one member of a load-balanced group. */
  tellGroup<N extends Message>(group: string, msg: N, opts?: SendOptions, origin: SendOrigin = {}): Promise<void> {
    const member = this.bus.pick(group);
    if (member === undefined)
      return this.noRoute({ kind: 'group', group, to: '' }, msg, opts, origin, `group ${group}`);
    return this.dispatch(this.envelope({ kind: 'group', group, to: member }, msg, opts, origin, false), member);
  }

  askGroup<T, N extends Message = Message>(
    group: string,
    msg: N,
    opts?: AskOptions,
    origin: SendOrigin = {},
  ): Promise<T> {
    const member = this.bus.pick(group);
    if (member === undefined) return Promise.reject(new NoRouteError(`group ${group}`));
    return this.askVia({ kind: 'group', group, to: member }, member, msg, opts, origin);
  }

  /** Pending asks (tests assert this drains to zero). */
  get pendingAsks(): number {
    return this.replies.size;
  }

  // ---------------------------------------------------------------- Kernel

  tell(to: string, msg: Message, opts: SendOptions | undefined, origin: SendOrigin): Promise<void> {
    const target = this.direct(to);
    return this.dispatch(this.envelope(target.routing, msg, opts, origin, false), to, target);
  }

  target(address: string): KernelTarget {
    return this.direct(address);
  }

  tellVia(target: KernelTarget, msg: Message, opts: SendOptions | undefined, origin: SendOrigin): Promise<void> {
    const t = target as DirectTarget;
    if (t.epoch !== this.registry.epoch) this.refresh(t);
    return this.dispatch(this.envelope(t.routing, msg, opts, origin, false), t.address, t);
  }

  ask<T>(to: string, msg: Message, opts: AskOptions | undefined, origin: SendOrigin): Promise<T> {
    return this.askVia(this.direct(to).routing, to, msg, opts, origin);
  }

  /**
   * The direct route to an address and its mailbox, cached: the route object is immutable and
   * shared by every envelope to that address, and the registry lookup is redone only when the
   * registry changed (its epoch).
   */
  private direct(to: string): DirectTarget {
    let t = this.directs.get(to);
    if (!t) {
      if (this.directs.size >= 4096) this.directs.clear();
      this.directs.set(
        to,
        (t = { address: to, routing: Object.freeze({ kind: 'direct', to }) as Routing, deliver: undefined, epoch: -1 }),
      );
    }
    if (t.epoch !== this.registry.epoch) this.refresh(t);
    return t;
  }

  private refresh(t: DirectTarget): void {
    t.deliver = this.registry.get(t.address)?.deliver;
    t.epoch = this.registry.epoch;
  }

  publish<N extends Message>(topic: string, msg: N, opts: SendOptions | undefined, origin: SendOrigin): void {
    const subs = this.bus.subscribers(topic);
    if (subs.length === 0) {
      void this.noRoute({ kind: 'topic', topic }, msg, opts, origin, `topic ${topic}`);
      return;
    }
    for (const sub of [...subs]) {
      const env = this.envelope({ kind: 'topic', topic }, msg, opts, origin, false);
      if (sub.filter && !sub.filter(msg, env)) continue;
      void this.dispatch(env, sub.address);
    }
  }

  settleReply(correlationId: MessageId, ok: boolean, value: unknown): void {
    const p = this.replies.get(correlationId);
    if (!p) return;
    this.replies.delete(correlationId);
    this.deadlines.settled();
    if (ok) p.resolve(value);
    else p.reject(value);
  }

  // ---------------------------------------------------------------- internals

  private envelope(
    routing: Routing,
    payload: Message,
    opts: SendOptions | undefined,
    origin: SendOrigin,
    isAsk: boolean,
  ): Envelope {
    const messageId = this.ids.next();
    const cause = origin.cause;
    // one object shape for every envelope keeps the hot path monomorphic
    return {
      messageId,
      correlationId: isAsk ? messageId : undefined,
      causationId: cause?.messageId,
      traceId: cause?.traceId ?? messageId,
      spanId: messageId,
      from: origin.from,
      routing,
      priority: opts?.priority ?? 'normal',
      createdAt: this.stamp(),
      enqueuedAt: undefined,
      attempt: 1,
      payload,
    };
  }

  private dispatch(env: Envelope, to: string, target: DirectTarget = this.direct(to)): Promise<void> {
    const deliver = target.deliver;
    if (!deliver) {
      this.deadLetters.add({ envelope: env, reason: 'no-route', target: to, at: this.clock.now() });
      const err = new NoRouteError(to);
      if (env.correlationId) this.settleReply(env.correlationId, false, err);
      const p = Promise.reject(err);
      p.catch(noop);
      return p;
    }
    return deliver(env);
  }

  private noRoute(
    routing: Routing,
    msg: Message,
    opts: SendOptions | undefined,
    origin: SendOrigin,
    what: string,
  ): Promise<void> {
    const env = this.envelope(routing, msg, opts, origin, false);
    this.deadLetters.add({ envelope: env, reason: 'no-route', target: what, at: this.clock.now() });
    const p = Promise.reject(new NoRouteError(what));
    p.catch(noop);
    return p;
  }

  private askVia<T>(
    routing: Routing,
    to: string,
    msg: Message,
    opts: AskOptions | undefined,
    origin: SendOrigin,
  ): Promise<T> {
    if (this.done) return Promise.reject(new ActorStoppedError(to, 'terminated'));
    const env = this.envelope(routing, msg, opts, origin, true);
    const timeoutMs = opts?.timeoutMs ?? this.askTimeoutMs;
    const id = env.correlationId!;
    const promise = new Promise<T>((resolve, reject) => {
      this.replies.set(id, { resolve: resolve as (v: unknown) => void, reject, to, timeoutMs });
    });
    this.deadlines.add(id, timeoutMs);
    // delivery failures settle the reply through settleReply; the tell promise itself is not needed
    this.dispatch(env, to).catch(noop);
    return promise;
  }

  private async finish(t: Termination): Promise<void> {
    if (this.done) return;
    if (t.reason === 'failed') await this.root.stop({ final: true, timeoutMs: 30_000 }).catch(noop);
    this.done = true;
    this.deadlines.clear();
    for (const [id, p] of [...this.replies]) {
      this.replies.delete(id);
      p.reject(new ActorStoppedError(this.root.address, 'terminated'));
    }
    this.terminate(t);
  }

  private registerMetrics(): void {
    const actors = () => this.registry.list().filter((i) => i.placement !== 'supervisor');
    this.metrics
      .counter('actor_messages_processed_total', 'Messages handled by an actor', ['address', 'type'])
      .collect(() => actors().map((i) => [{ address: i.address, type: i.type }, i.messages]));
    this.metrics
      .gauge('actor_mailbox_depth', 'Messages waiting in an actor mailbox', ['address'])
      .collect(() => actors().map((i) => [{ address: i.address }, i.queued]));
    this.metrics
      .counter('actor_restarts_total', 'Restarts of an actor or supervisor', ['address'])
      .collect(() => this.registry.list().map((i) => [{ address: i.address }, i.restarts]));
    this.metrics
      .gauge('actor_up', '1 when the actor is Running, else 0', ['address', 'state'])
      .collect(() =>
        this.registry.list().map((i) => [{ address: i.address, state: i.state }, i.state === 'Running' ? 1 : 0]),
      );
    this.metrics
      .counter('actor_mailbox_dropped_total', 'Messages refused or evicted by a full mailbox', ['address'])
      .collect(() => {
        const out: Array<[{ address: string }, number]> = [];
        for (const a of this.registry.addresses()) {
          const child = this.registry.get(a)!.child as { mailbox?: { stats: { dropped: number } } };
          if (child.mailbox) out.push([{ address: a }, child.mailbox.stats.dropped]);
        }
        return out;
      });
  }
}

export function createActorSystem(opts: ActorSystemOptions): ActorSystem {
  return new ActorSystem(opts);
}
