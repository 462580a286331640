/**
 * Supervisors, with OTP semantics:
 *
 * - Strategy on a child failure: `one-for-one` restarts that child; `one-for-all` stops every
 *   other child (reverse start order) and restarts all (start order); `rest-for-one` does that for
 *   the failed child and the children started after it.
 * - Restart type: `permanent` children are always restarted, `transient` ones only after a crash
 *   (not after a normal exit), `temporary` ones never.
 * - Restart policy (per child): when to restart, or to give up (child Failed, nothing escalates).
 * - Restart intensity (per supervisor): more than `maxRestarts` restarts within `periodMs` and the
 *   supervisor stops all its children and fails, which its own parent sees as a crashed child
 *   (escalation). The root supervisor failing terminates the system.
 * - Start is in child order; a child that cannot start makes the whole supervisor start fail (the
 *   ones already started are stopped again), as in OTP. Stop is in reverse order, each child
 *   within its own shutdown timeout.
 * - Failures are handled one at a time (a queue), so strategies never interleave.
 */
import type { ActorDefinition, AnyActorDefinition } from './actor.js';
import { ActorCell } from './cell.js';
import type { ChildParent, StopOptions, SupervisedChild } from './child.js';
import type { TimerHandle } from './clock.js';
import type { Envelope } from './envelope.js';
import { ChildStartError, EscalationError, errorMessage, HealthCheckFailedError } from './errors.js';

export { ChildStartError, HealthCheckFailedError };
import type { Kernel } from './kernel.js';
import { Lifecycle } from './lifecycle.js';
import type { MailboxOptions } from './mailbox.js';
import type { Placement, Registry } from './registry.js';
import { exponentialBackoff, type RestartPolicy, type RestartTracker } from './restart.js';

export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';
export type RestartType = 'permanent' | 'transient' | 'temporary';

export interface Intensity {
  maxRestarts: number;
  periodMs: number;
}

export const DEFAULT_INTENSITY: Intensity = { maxRestarts: 3, periodMs: 5_000 };

export interface HealthCheckOptions {
  intervalMs: number;
  /** Default: intervalMs. */
  timeoutMs?: number;
  /** Consecutive failed checks that count as a crash. Default 3. */
  failureThreshold?: number;
}

/** Builds the child for an actor spec: in-thread by default, or in a worker (see `workerPlacement`). */
export interface PlacementFactory {
  readonly placement: Placement;
  create(input: {
    id: string;
    address: string;
    def: AnyActorDefinition;
    args: unknown;
    kernel: Kernel;
    mailbox: Partial<MailboxOptions> | undefined;
  }): SupervisedChild & { deliver(env: Envelope): Promise<void> };
}

export const inThread: PlacementFactory = {
  placement: 'in-thread',
  create: ({ id, address, def, args, kernel, mailbox }) => new ActorCell(id, address, def, args, kernel, mailbox),
};

interface CommonChildSpec {
  /** Unique among siblings; the address is `<parent address>/<id>`. */
  id: string;
  restart?: RestartType;
  /** Default: exponential backoff with its defaults. */
  policy?: RestartPolicy;
  /** Default 5000 ms. */
  shutdownTimeoutMs?: number;
  /** Ids of earlier siblings this child needs (checked against start order; recorded in the registry). */
  dependsOn?: string[];
}

export interface ActorChildSpec<D extends AnyActorDefinition = AnyActorDefinition> extends CommonChildSpec {
  actor: D;
  args?: D extends ActorDefinition<infer _M, infer _R, infer A> ? A : never;
  placement?: PlacementFactory;
  mailbox?: Partial<MailboxOptions>;
  healthCheck?: HealthCheckOptions;
}

export interface SupervisorChildSpec extends CommonChildSpec {
  supervisor: SupervisorSpec;
}

export type ChildSpec = ActorChildSpec | SupervisorChildSpec;

export interface SupervisorSpec {
  strategy: Strategy;
  intensity?: Intensity;
  children: ChildSpec[];
}

export type SupervisionEvent =
  | { type: 'started' | 'stopped'; address: string; at: number }
  | { type: 'child-failed'; address: string; child: string; error: string; at: number }
  | { type: 'child-restarted'; address: string; child: string; at: number }
  | { type: 'child-backoff'; address: string; child: string; delayMs: number; at: number }
  | { type: 'child-gave-up'; address: string; child: string; reason: string; at: number }
  | { type: 'child-exited'; address: string; child: string; at: number }
  | { type: 'escalated'; address: string; error: string; at: number };

export interface SupervisorEnv {
  kernel: Kernel;
  registry: Registry;
  emit(event: SupervisionEvent): void;
}

interface Entry {
  spec: ChildSpec;
  child: SupervisedChild;
  /** Stopped by this supervisor as part of a group restart that has not reached it yet. */
  pendingRestart: boolean;
  tracker: RestartTracker;
  restartType: RestartType;
  shutdownTimeoutMs: number;
  healthTimer?: TimerHandle;
  healthFailures: number;
}

const noop = () => {};

export class Supervisor implements SupervisedChild, ChildParent {
  readonly kind = 'supervisor' as const;
  readonly type = 'supervisor';
  readonly lifecycle: Lifecycle;
  parent: ChildParent | undefined;
  restarts = 0;
  lastError: unknown;
  /** Called when this supervisor fails and has no parent (the root). */
  onRootFailure: ((error: unknown) => void) | undefined;

  private readonly entries: Entry[] = [];
  private readonly byChild = new Map<SupervisedChild, Entry>();
  private restartTimes: number[] = [];
  private readonly timers = new Set<TimerHandle>();
  private queue: Promise<void> = Promise.resolve();
  private escalating = false;
  readonly intensity: Intensity;
  readonly strategy: Strategy;

  constructor(
    readonly id: string,
    readonly address: string,
    spec: SupervisorSpec,
    private readonly env: SupervisorEnv,
  ) {
    this.lifecycle = new Lifecycle(address);
    this.strategy = spec.strategy;
    this.intensity = spec.intensity ?? DEFAULT_INTENSITY;
    if (this.intensity.maxRestarts < 0 || this.intensity.periodMs <= 0)
      throw new RangeError(`${address}: invalid restart intensity`);
    const seen = new Set<string>();
    for (const childSpec of spec.children) {
      if (seen.has(childSpec.id)) throw new Error(`${address}: duplicate child id ${childSpec.id}`);
      for (const dep of childSpec.dependsOn ?? [])
        if (!seen.has(dep))
          throw new Error(
            `${address}: child ${childSpec.id} depends on ${dep}, which must be an earlier sibling (start order)`,
          );
      seen.add(childSpec.id);
      this.addEntry(childSpec);
    }
  }

  /** Children in start order. */
  get children(): readonly SupervisedChild[] {
    return this.entries.map((e) => e.child);
  }

  get processed(): number {
    return 0;
  }

  load(): number {
    return 0;
  }

  describeChild(id: string): Record<string, unknown> | undefined {
    return this.entries.find((e) => e.spec.id === id)?.tracker.describe();
  }

  // ---------------------------------------------------------------- children

  private addEntry(spec: ChildSpec): Entry {
    const address = `${this.address}/${spec.id}`;
    let child: SupervisedChild;
    let deliver: ((env: Envelope) => Promise<void>) | undefined;
    let placement: Placement;
    if ('supervisor' in spec) {
      child = new Supervisor(spec.id, address, spec.supervisor, this.env);
      placement = 'supervisor';
    } else {
      const factory = spec.placement ?? inThread;
      const made = factory.create({
        id: spec.id,
        address,
        def: spec.actor,
        args: spec.args,
        kernel: this.env.kernel,
        mailbox: spec.mailbox,
      });
      child = made;
      deliver = (env) => made.deliver(env);
      placement = factory.placement;
    }
    child.parent = this;
    const entry: Entry = {
      spec,
      child,
      tracker: (spec.policy ?? exponentialBackoff()).tracker(),
      restartType: spec.restart ?? 'permanent',
      shutdownTimeoutMs: spec.shutdownTimeoutMs ?? 5_000,
      healthFailures: 0,
      pendingRestart: false,
    };
    this.installTracker(entry, entry.tracker);
    this.entries.push(entry);
    this.byChild.set(child, entry);
    this.env.registry.register({
      id: spec.id,
      address,
      placement,
      child,
      parent: this.address,
      ...(deliver ? { deliver } : {}),
    });
    for (const dep of spec.dependsOn ?? []) this.env.registry.addDependency(address, `${this.address}/${dep}`);
    return entry;
  }

  /** Add and start a child at run time (OTP start_child). */
  async startChild(spec: ChildSpec): Promise<SupervisedChild> {
    if (this.entries.some((e) => e.spec.id === spec.id))
      throw new Error(`${this.address}: duplicate child id ${spec.id}`);
    const entry = this.addEntry(spec);
    await this.run(async () => {
      await entry.child.start();
      this.afterStart(entry);
    });
    return entry.child;
  }

  /** Stop a child for good and remove it (OTP terminate_child + delete_child). */
  async stopChild(id: string): Promise<void> {
    const entry = this.entries.find((e) => e.spec.id === id);
    if (!entry) return;
    await this.run(async () => {
      if (!this.entries.includes(entry)) return; // already removed by an earlier stopChild
      this.clearHealth(entry);
      await entry.child.stop({ final: true, timeoutMs: entry.shutdownTimeoutMs });
      this.entries.splice(this.entries.indexOf(entry), 1);
      this.byChild.delete(entry.child);
      this.forget(entry.child);
    });
  }

  private forget(child: SupervisedChild): void {
    if (child instanceof Supervisor) for (const c of child.children) child.forget(c);
    this.env.registry.unregister(child.address);
  }

  // ---------------------------------------------------------------- own lifecycle

  async start(): Promise<void> {
    this.lifecycle.transition('Starting');
    this.forgetHistory();
    await this.startAll('StartFailed');
    this.lifecycle.transition('Running');
    this.emit({ type: 'started', address: this.address, at: this.now() });
  }

  async restart(reason: unknown): Promise<void> {
    this.lifecycle.transition('Restarting');
    this.restarts++;
    this.forgetHistory();
    void reason;
    await this.startAll('StartFailed');
    this.lifecycle.transition('Running');
  }

  /** A (re)started supervisor is created anew, as in OTP: no restart history, fresh policy state. */
  private forgetHistory(): void {
    this.restartTimes = [];
    this.escalating = false;
    for (const e of this.entries) {
      e.pendingRestart = false;
      this.installTracker(e, (e.spec.policy ?? exponentialBackoff()).tracker());
    }
  }

  private async startAll(onFailure: 'StartFailed'): Promise<void> {
    const started: Entry[] = [];
    for (const e of this.entries) {
      if (!e.child.lifecycle.is('Uninitialized', 'Stopped', 'Failed')) continue;
      try {
        await e.child.start();
      } catch (err) {
        for (const s of started.reverse()) {
          this.clearHealth(s);
          await s.child.stop({ final: false, timeoutMs: s.shutdownTimeoutMs });
        }
        if (e.child.lifecycle.is('StartFailed')) e.child.lifecycle.transition('Stopped');
        this.lastError = new ChildStartError(this.address, e.child.address, err);
        this.lifecycle.transition(onFailure);
        throw this.lastError;
      }
      this.afterStart(e);
      started.push(e);
    }
  }

  async stop({ final, timeoutMs }: StopOptions): Promise<void> {
    const state = this.lifecycle.state;
    this.cancelTimers();
    if (state === 'Running' || state === 'Backoff') this.lifecycle.transition('Stopping');
    // wait for an in-progress failure handling step, without letting it run further
    this.escalating = true;
    await this.queue.catch(noop);
    this.escalating = false;
    this.cancelTimers(); // the step we waited for may have armed a restart timer
    const deadline = this.now() + timeoutMs;
    for (const e of [...this.entries].reverse()) {
      this.clearHealth(e);
      e.pendingRestart = false;
      // the overall deadline bounds the whole stop: once it has passed, children are abandoned at once
      const left = Math.max(0, deadline - this.now());
      await e.child.stop({ final, timeoutMs: Math.min(e.shutdownTimeoutMs, left) });
    }
    if (this.lifecycle.is('Stopping', 'Crashed', 'StartFailed')) this.lifecycle.transition('Stopped');
    this.emit({ type: 'stopped', address: this.address, at: this.now() });
  }

  giveUp(reason: unknown): void {
    this.lastError = reason;
    this.cancelTimers();
    this.lifecycle.transition('Failed');
    void (async () => {
      for (const e of [...this.entries].reverse()) await e.child.stop({ final: true, timeoutMs: e.shutdownTimeoutMs });
    })();
  }

  enterBackoff(): void {
    this.lifecycle.transition('Backoff');
  }

  async checkHealth(): Promise<boolean | undefined> {
    return undefined;
  }

  /** Injected crash: the supervisor stops its children and fails, as on escalation. */
  crash(error: unknown): void {
    if (!this.lifecycle.is('Running') || this.escalating) return;
    void this.run(() => this.escalate(error, false));
  }

  // ---------------------------------------------------------------- failure handling

  childFailed(child: SupervisedChild, error: unknown): void {
    void this.run(() => this.handleFailure(child, error, false));
  }

  childExited(child: SupervisedChild): void {
    void this.run(() => this.handleFailure(child, undefined, true));
  }

  private run(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step);
    this.queue = next.catch((err) => {
      // a bug in a strategy step must not wedge the queue; treat it as a crash of this supervisor
      if (!this.escalating && this.lifecycle.is('Running')) return this.escalate(err);
    });
    return next;
  }

  private async handleFailure(child: SupervisedChild, error: unknown, normalExit: boolean): Promise<void> {
    const entry = this.byChild.get(child);
    if (!entry || this.escalating || !this.lifecycle.is('Running')) return;
    if (normalExit) {
      if (!child.lifecycle.is('Stopped')) return;
      this.emit({ type: 'child-exited', address: this.address, child: child.address, at: this.now() });
      if (entry.restartType !== 'permanent') {
        this.clearHealth(entry);
        await child.stop({ final: true, timeoutMs: entry.shutdownTimeoutMs });
        return;
      }
    } else {
      if (!child.lifecycle.is('Crashed', 'StartFailed')) return;
      this.clearHealth(entry);
      this.emit({
        type: 'child-failed',
        address: this.address,
        child: child.address,
        error: errorMessage(error),
        at: this.now(),
      });
      if (entry.restartType === 'temporary') {
        this.giveUpOn(entry, 'temporary child is never restarted', error);
        return;
      }
    }
    const decision = entry.tracker.onFailure(this.now(), this.env.kernel.random);
    if (!decision.restart) {
      entry.pendingRestart = false;
      if (normalExit) await child.stop({ final: true, timeoutMs: entry.shutdownTimeoutMs });
      else this.giveUpOn(entry, decision.reason, error);
      // siblings stopped for a group restart that this child was part of still need to come back
      await this.restartGroup(
        this.entries.filter((e) => e.pendingRestart),
        error,
      );
      return;
    }
    if (this.intensityExceeded()) {
      await this.escalate(error ?? new Error(`child ${child.address} exited`));
      return;
    }
    const affected = this.affectedBy(entry);
    for (const e of [...affected].reverse()) {
      if (e === entry) continue;
      this.clearHealth(e);
      // temporary siblings are terminated for good, never restarted (OTP)
      const temporary = e.restartType === 'temporary';
      if (!temporary && e.child.lifecycle.is('Running', 'Backoff', 'Crashed', 'StartFailed', 'Stopped'))
        e.pendingRestart = true;
      await e.child.stop({ final: temporary, timeoutMs: e.shutdownTimeoutMs });
    }
    entry.pendingRestart = true;
    if (!this.lifecycle.is('Running') || this.escalating) return; // stopped meanwhile
    if (decision.delayMs > 0) {
      if (child.lifecycle.is('Crashed', 'StartFailed')) child.enterBackoff();
      this.emit({
        type: 'child-backoff',
        address: this.address,
        child: child.address,
        delayMs: decision.delayMs,
        at: this.now(),
      });
      const timer = this.env.kernel.clock.setTimer(() => {
        this.timers.delete(timer);
        void this.run(() => this.restartGroup(affected, error));
      }, decision.delayMs);
      this.timers.add(timer);
      return;
    }
    await this.restartGroup(affected, error);
  }

  private installTracker(entry: Entry, tracker: RestartTracker): void {
    entry.tracker = tracker;
    entry.child.onSuccess = tracker.countsSuccesses ? () => tracker.onSuccess(this.now()) : undefined;
  }

  private giveUpOn(entry: Entry, reason: string, error: unknown): void {
    entry.child.giveUp(error ?? reason);
    this.emit({ type: 'child-gave-up', address: this.address, child: entry.child.address, reason, at: this.now() });
  }

  private intensityExceeded(): boolean {
    const now = this.now();
    this.restartTimes.push(now);
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.intensity.periodMs);
    return this.restartTimes.length > this.intensity.maxRestarts;
  }

  private affectedBy(entry: Entry): Entry[] {
    switch (this.strategy) {
      case 'one-for-one':
        return [entry];
      case 'one-for-all':
        return [...this.entries];
      case 'rest-for-one':
        return this.entries.slice(this.entries.indexOf(entry));
    }
  }

  private async restartGroup(affected: Entry[], reason: unknown): Promise<void> {
    for (const e of affected) {
      if (this.escalating || !this.lifecycle.is('Running')) return;
      if (!this.byChild.has(e.child) || !e.pendingRestart) continue;
      const state = e.child.lifecycle.state;
      try {
        if (state === 'Crashed' || state === 'StartFailed' || state === 'Backoff') await e.child.restart(reason);
        else if (state === 'Stopped' || state === 'Uninitialized') await e.child.start();
        else {
          e.pendingRestart = false;
          continue;
        }
      } catch (err) {
        // the child is StartFailed now: that is a new failure, handled after this step (the
        // siblings after it stay pending and are started with it, or without it if it is given up)
        this.childFailed(e.child, err);
        return;
      }
      e.pendingRestart = false;
      this.afterStart(e);
      this.emit({ type: 'child-restarted', address: this.address, child: e.child.address, at: this.now() });
    }
  }

  /** Stop every child and fail; the parent (or the system, for the root) decides what happens next. */
  private async escalate(error: unknown, intensity = true): Promise<void> {
    if (this.escalating) return;
    this.escalating = true;
    this.cancelTimers();
    for (const e of [...this.entries].reverse()) {
      this.clearHealth(e);
      await e.child.stop({ final: false, timeoutMs: e.shutdownTimeoutMs });
    }
    const err = intensity
      ? new EscalationError(this.address, this.restartTimes.length, this.intensity.periodMs, error)
      : error;
    this.lastError = err;
    this.emit({ type: 'escalated', address: this.address, error: errorMessage(err), at: this.now() });
    this.lifecycle.transition('Crashed');
    this.escalating = false;
    if (this.parent) this.parent.childFailed(this, err);
    else this.onRootFailure?.(err);
  }

  // ---------------------------------------------------------------- health

  private afterStart(entry: Entry): void {
    entry.tracker.onRunning(this.now());
    entry.healthFailures = 0;
    if (!('supervisor' in entry.spec) && entry.spec.healthCheck) this.scheduleHealth(entry, entry.spec.healthCheck);
  }

  private scheduleHealth(entry: Entry, opts: HealthCheckOptions): void {
    entry.healthTimer = this.env.kernel.clock.setTimer(() => {
      entry.healthTimer = undefined;
      // checkHealth does not reject (a failed or timed-out check is `false`), so nothing is left unhandled
      void this.checkHealthOnce(entry, opts);
    }, opts.intervalMs);
  }

  /** One health check of a running child: record the result, crash it past the threshold, else schedule the next. */
  private async checkHealthOnce(entry: Entry, opts: HealthCheckOptions): Promise<void> {
    const registry = this.env.registry;
    if (!entry.child.lifecycle.is('Running')) return;
    const ok = await entry.child.checkHealth(opts.timeoutMs ?? opts.intervalMs);
    if (!entry.child.lifecycle.is('Running') || !this.byChild.has(entry.child)) return;
    if (ok === false) {
      entry.healthFailures++;
      registry.setHealth(entry.child.address, 'unhealthy');
      if (entry.healthFailures >= (opts.failureThreshold ?? 3)) {
        entry.child.crash(new HealthCheckFailedError(entry.child.address, entry.healthFailures));
        return;
      }
    } else if (ok === true) {
      entry.healthFailures = 0;
      registry.setHealth(entry.child.address, 'healthy');
      entry.tracker.onSuccess(this.now());
    }
    this.scheduleHealth(entry, opts);
  }

  private clearHealth(entry: Entry): void {
    if (entry.healthTimer !== undefined) this.env.kernel.clock.clearTimer(entry.healthTimer);
    entry.healthTimer = undefined;
  }

  private cancelTimers(): void {
    for (const t of this.timers) this.env.kernel.clock.clearTimer(t);
    this.timers.clear();
    for (const e of this.entries) this.clearHealth(e);
  }

  private now(): number {
    return this.env.kernel.clock.now();
  }

  private emit(event: SupervisionEvent): void {
    this.env.emit(event);
  }
}

/** Type helper to build a child spec with the actor's argument type checked. */
export function child<D extends AnyActorDefinition>(spec: ActorChildSpec<D>): ActorChildSpec<D> {
  return spec;
}
