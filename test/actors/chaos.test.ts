/**
 * Chaos tests over a 3-level supervision tree on the deterministic test clock.
 *
 *   root (random strategy)
 *   +- 2-3 supervisors with different strategies, each with 2-4 actors
 *      (and, in most seeds, one nested supervisor with 2 actors at level 3)
 *
 * For every seed, faults are injected one at a time at random virtual times: a handler that
 * throws, an external crash() of an actor, an external crash of a supervisor, and actors whose
 * preStart fails on some of their restarts. An independent model of the supervision semantics
 * (OTP style, as documented in supervisor.ts) predicts, for each fault, exactly which actor
 * instances are created (so exactly which subtree restarts, in which order), which supervisors
 * escalate and why, which children are given up, the lifecycle state of every node afterwards,
 * and whether the whole system terminates. At the end, nothing may leak after shutdown().
 *
 * A "wild" variant of the same trees adds everything that makes timing matter (jittered backoff
 * from the runtime's seeded random, circuit-breaker recovery timers, slow handlers, tiny mailboxes
 * under every overflow policy, short stop timeouts, overlapping faults) and checks invariants only.
 * Both variants must replay the identical trace from the same seed.
 */
import { describe, expect, it } from 'vitest';
import {
  ActorStoppedError,
  AskTimeoutError,
  ActorCrashedError,
  MailboxFullError,
  MailboxTimeoutError,
  NoRouteError,
  circuitBreaker,
  createActorSystem,
  createTestClock,
  defineActor,
  exponentialBackoff,
  immediate,
  never,
  type ActorSystem,
  type ChildSpec,
  type Clock,
  type LifecycleState,
  type Mailbox,
  type RestartType,
  type Strategy,
  type SupervisionEvent,
  type SupervisorSpec,
  type TestClock,
} from '../../src/actors/index.js';

/*
 * The model does not cover a child that is given up while its group restarts (the rest of the
 * group is then started without it); the generator never makes a child that can be given up
 * (policy never, or temporary) fail its preStart. The reproduction tests at the end cover it.
 */

const SEEDS = 200;
const DETERMINISM_SEEDS = 60;
const FAULTS_PER_SEED = 30;

// ------------------------------------------------------------------------------ test PRNG

/** mulberry32: the test's own generator for trees and fault schedules (independent of the runtime's). */
function prng(seed: number): {
  next: () => number;
  int: (lo: number, hi: number) => number;
  pick: <T>(xs: readonly T[]) => T;
  chance: (p: number) => boolean;
} {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return { next, int, pick: (xs) => xs[Math.floor(next() * xs.length)]!, chance: (p) => next() < p };
}

// ------------------------------------------------------------------------------ tree description

type PolicyKind = 'immediate' | 'circuit' | 'never';
interface ActorNode {
  kind: 'actor';
  id: string;
  restart: RestartType;
  policy: PolicyKind;
  /** preStart of these instance numbers (1 = the first start) throws. */
  failOn: ReadonlySet<number>;
}
interface SupNode {
  kind: 'sup';
  id: string;
  strategy: Strategy;
  maxRestarts: number;
  periodMs: number;
  children: TreeNode[];
}
type TreeNode = ActorNode | SupNode;

const STRATEGIES: readonly Strategy[] = ['one-for-one', 'one-for-all', 'rest-for-one'];

function generateTree(seed: number): SupNode {
  const r = prng(seed * 7919 + 17);
  const actor = (id: string): ActorNode => {
    const restart = r.pick<RestartType>([
      'permanent',
      'permanent',
      'permanent',
      'permanent',
      'permanent',
      'permanent',
      'transient',
      'temporary',
    ]);
    const policy = r.pick<PolicyKind>([
      'immediate',
      'immediate',
      'immediate',
      'immediate',
      'immediate',
      'immediate',
      'circuit',
      'circuit',
      'never',
    ]);
    const failOn = new Set<number>();
    if (restart !== 'temporary' && policy !== 'never' && r.chance(0.6))
      for (let n = 2; n <= 60; n++) if (r.chance(0.15)) failOn.add(n);
    return { kind: 'actor', id, restart, policy, failOn };
  };
  const order = [...STRATEGIES].sort(() => r.next() - 0.5);
  const l2Count = r.int(2, 3);
  const l2: SupNode[] = [];
  for (let i = 0; i < l2Count; i++) {
    const children: TreeNode[] = [];
    const n = r.int(2, 4);
    for (let k = 0; k < n; k++) children.push(actor(`a${k}`));
    l2.push({
      kind: 'sup',
      id: `s${i}`,
      strategy: order[i]!,
      maxRestarts: r.int(1, 3),
      periodMs: r.int(30, 400),
      children,
    });
  }
  if (r.chance(0.7)) {
    const host = r.pick(l2);
    const nested: SupNode = {
      kind: 'sup',
      id: 'n',
      strategy: r.pick(STRATEGIES),
      maxRestarts: r.int(1, 2),
      periodMs: r.int(30, 300),
      children: [actor('b0'), actor('b1')],
    };
    host.children.splice(r.int(0, host.children.length), 0, nested);
  }
  return {
    kind: 'sup',
    id: 'system',
    strategy: r.pick(STRATEGIES),
    maxRestarts: r.int(2, 8),
    periodMs: r.int(100, 1_500),
    children: l2,
  };
}

// ------------------------------------------------------------------------------ the actor

class World {
  /** Instance numbers per address, and the creation log ("address#n") in order. */
  readonly instances = new Map<string, number>();
  readonly created: string[] = [];
}
type ChaosMsg =
  | { type: 'boom' }
  | { type: 'work'; n: number }
  | { type: 'who' }
  | { type: 'nap'; ms: number; n: number };

/** Timers the test actors set themselves (naps), so leak checks can tell them from the runtime's. */
const ownTimers = new WeakMap<Clock, number>();
function nap(clock: Clock, ms: number): Promise<void> {
  ownTimers.set(clock, (ownTimers.get(clock) ?? 0) + 1);
  return new Promise((resolve) =>
    clock.setTimer(() => {
      ownTimers.set(clock, ownTimers.get(clock)! - 1);
      resolve();
    }, ms),
  );
}
interface ChaosArgs {
  world: World;
  address: string;
  failOn: ReadonlySet<number>;
}
const Chaos = defineActor<ChaosMsg, { boom: never; work: number; who: number; nap: number }, ChaosArgs>({
  name: 'chaos',
  create(args) {
    const n = (args.world.instances.get(args.address) ?? 0) + 1;
    args.world.instances.set(args.address, n);
    args.world.created.push(`${args.address}#${n}`);
    return {
      preStart() {
        if (args.failOn.has(n)) throw new Error(`preStart of ${args.address}#${n} fails`);
      },
      handle(msg, ctx) {
        switch (msg.type) {
          case 'boom':
            throw new Error(`${args.address}#${n} throws`);
          case 'work':
            return msg.n * 2;
          case 'who':
            return n;
          case 'nap':
            return nap(ctx.clock, msg.ms).then(() => msg.n * 2);
        }
      },
    };
  },
});

function policyOf(kind: PolicyKind) {
  switch (kind) {
    case 'immediate':
      return immediate();
    case 'circuit':
      return circuitBreaker({ failureThreshold: 2, recoveryTimeoutMs: 0 }); // always restarts at once
    case 'never':
      return never();
  }
}

function buildSpec(node: SupNode, address: string, world: World): SupervisorSpec {
  return {
    strategy: node.strategy,
    intensity: { maxRestarts: node.maxRestarts, periodMs: node.periodMs },
    children: node.children.map((c): ChildSpec => {
      const addr = `${address}/${c.id}`;
      if (c.kind === 'sup') return { id: c.id, supervisor: buildSpec(c, addr, world), policy: immediate() };
      return {
        id: c.id,
        actor: Chaos,
        args: { world, address: addr, failOn: c.failOn },
        restart: c.restart,
        policy: policyOf(c.policy),
      };
    }),
  };
}

// ------------------------------------------------------------------------------ the model

type MState =
  | 'Running'
  | 'Stopped'
  | 'Failed'
  | 'Crashed'
  | 'StartFailed'
  | /** not restarted, Stopped or Failed */ 'Gone';
interface MActor {
  kind: 'actor';
  addr: string;
  spec: ActorNode;
  parent: MSup;
  state: MState;
  instances: number;
}
interface MSup {
  kind: 'sup';
  addr: string;
  spec: SupNode;
  parent: MSup | undefined;
  state: MState;
  children: MNode[];
  times: number[];
}
type MNode = MActor | MSup;

/**
 * The supervision semantics, written from the documentation (supervisor.ts header, design.md
 * section 2) and OTP: failures are handled one at a time; a temporary child or one whose policy
 * says no is given up (nothing else happens); otherwise the failure counts toward the
 * supervisor's intensity (restarts within the last periodMs, now - t < periodMs) and more than
 * maxRestarts escalates: all children stop (reverse order), the supervisor crashes and its parent
 * handles that as a child failure (the root terminates the system). Else the strategy's group is
 * stopped (reverse order) and started again in order; a child that fails to start is a new
 * failure, handled next. A supervisor (re)starting starts its children in order; if one fails, the
 * ones it started are stopped again and the supervisor itself failed to start.
 */
class Model {
  created: string[] = [];
  escalations: string[] = [];
  gaveUp: string[] = [];
  terminated = false;
  private readonly tasks: Array<[MSup, MNode]> = [];
  readonly root: MSup;
  readonly byAddr = new Map<string, MNode>();

  constructor(
    tree: SupNode,
    private readonly now: () => number,
  ) {
    const build = (spec: SupNode, addr: string, parent: MSup | undefined): MSup => {
      const sup: MSup = { kind: 'sup', addr, spec, parent, state: 'Running', children: [], times: [] };
      this.byAddr.set(addr, sup);
      for (const c of spec.children) {
        const a = `${addr}/${c.id}`;
        if (c.kind === 'sup') sup.children.push(build(c, a, sup));
        else {
          const actor: MActor = { kind: 'actor', addr: a, spec: c, parent: sup, state: 'Running', instances: 1 };
          this.byAddr.set(a, actor);
          sup.children.push(actor);
        }
      }
      return sup;
    };
    this.root = build(tree, `/${tree.id}`, undefined);
  }

  actors(): MActor[] {
    return [...this.byAddr.values()].filter((n): n is MActor => n.kind === 'actor');
  }

  crashActor(a: MActor): void {
    if (a.state !== 'Running') return;
    a.state = 'Crashed';
    this.tasks.push([a.parent, a]);
    this.drain();
  }

  crashSupervisor(s: MSup): void {
    if (s.state !== 'Running') return;
    this.escalate(s, 'injected');
    this.drain();
  }

  private drain(): void {
    while (this.tasks.length > 0) {
      const [sup, child] = this.tasks.shift()!;
      this.handleFailure(sup, child);
    }
  }

  private handleFailure(s: MSup, c: MNode): void {
    if (s.state !== 'Running') return;
    if (c.state !== 'Crashed' && c.state !== 'StartFailed') return;
    const restartType = c.kind === 'actor' ? c.spec.restart : 'permanent';
    const policySaysNo = c.kind === 'actor' && c.spec.policy === 'never';
    if (restartType === 'temporary' || policySaysNo) {
      c.state = 'Failed';
      this.gaveUp.push(c.addr);
      return;
    }
    const now = this.now();
    s.times = [...s.times.filter((t) => now - t < s.spec.periodMs), now];
    if (s.times.length > s.spec.maxRestarts) {
      this.escalate(s, 'intensity');
      return;
    }
    const i = s.children.indexOf(c);
    const group =
      s.spec.strategy === 'one-for-one'
        ? [c]
        : s.spec.strategy === 'one-for-all'
          ? [...s.children]
          : s.children.slice(i);
    for (const e of [...group].reverse()) if (e !== c) this.stop(e);
    for (const e of group) {
      if (s.state !== 'Running') return;
      let ok: boolean;
      if (e.state === 'Crashed' || e.state === 'StartFailed') ok = this.restartNode(e);
      else if (e.state === 'Stopped') {
        if (e.kind === 'actor' && e.spec.restart === 'temporary') {
          e.state = 'Gone';
          continue;
        }
        ok = this.startNode(e);
      } else continue;
      if (!ok) {
        this.tasks.push([s, e]);
        return;
      }
    }
  }

  private escalate(s: MSup, cause: 'intensity' | 'injected'): void {
    for (const c of [...s.children].reverse()) this.stop(c);
    this.escalations.push(`${s.addr}:${cause}`);
    s.state = 'Crashed';
    if (s.parent) this.tasks.push([s.parent, s]);
    else {
      this.terminated = true;
      this.stop(s);
    }
  }

  private stop(n: MNode): void {
    if (n.kind === 'sup') for (const c of [...n.children].reverse()) this.stop(c);
    if (n.state === 'Running' || n.state === 'Crashed' || n.state === 'StartFailed') n.state = 'Stopped';
  }

  private create(a: MActor): boolean {
    a.instances++;
    this.created.push(`${a.addr}#${a.instances}`);
    a.state = a.spec.failOn.has(a.instances) ? 'StartFailed' : 'Running';
    return a.state === 'Running';
  }

  /** From Crashed / StartFailed: a fresh incarnation (a supervisor starts with an empty restart history). */
  private restartNode(n: MNode): boolean {
    if (n.kind === 'actor') return this.create(n);
    n.times = [];
    return this.startAll(n);
  }

  /** From Stopped (stopped as part of a group or by an escalating parent). */
  private startNode(n: MNode): boolean {
    if (n.kind === 'actor') return this.create(n);
    n.times = []; // a supervisor started again is created anew: no restart history
    return this.startAll(n);
  }

  private startAll(s: MSup): boolean {
    const started: MNode[] = [];
    for (const c of s.children) {
      if (c.state !== 'Stopped' && c.state !== 'Failed' && c.state !== 'Gone') continue;
      const ok = c.kind === 'actor' ? this.create(c) : this.startNode(c);
      if (!ok) {
        for (const x of started.reverse()) this.stop(x);
        if ((c.state as MState) === 'StartFailed') c.state = 'Stopped';
        s.state = 'StartFailed';
        return false;
      }
      started.push(c);
    }
    s.state = 'Running';
    return true;
  }
}

// ------------------------------------------------------------------------------ running a seed

interface Trace {
  events: SupervisionEvent[];
  deadLetters: unknown[];
  created: string[];
}

function mailboxOf(sys: ActorSystem, address: string): Mailbox {
  const child = sys.child(address) as unknown as { mailbox?: Mailbox } | undefined;
  if (!child?.mailbox) throw new Error(`no mailbox at ${address}`);
  return child.mailbox;
}

function matches(actual: LifecycleState | undefined, expected: MState): boolean {
  return expected === 'Gone' ? actual === 'Stopped' || actual === 'Failed' : actual === expected;
}

async function runSeed(seed: number): Promise<Trace> {
  const tree = generateTree(seed);
  const r = prng(seed * 104_729 + 3);
  const clock = createTestClock(seed);
  const world = new World();
  const sys = createActorSystem({
    clock,
    random: clock.random,
    askTimeoutMs: 1_000,
    root: buildSpec(tree, '/system', world),
  });
  const events: SupervisionEvent[] = [];
  const deadLetters: unknown[] = [];
  sys.onEvent((e) => events.push(e));
  sys.deadLetters.subscribe((d) =>
    deadLetters.push({
      reason: d.reason,
      target: d.target,
      at: d.at,
      detail: d.detail,
      messageId: d.envelope.messageId,
      from: d.envelope.from,
      payload: d.envelope.payload,
    }),
  );
  let termination: string | undefined;
  void sys.terminated.then((t) => (termination = t.reason));
  await sys.start();

  const model = new Model(tree, () => clock.now());
  const actors = model.actors();
  const supervisors = [...model.byAddr.values()].filter((n): n is MSup => n.kind === 'sup' && n.parent !== undefined);
  world.created.length = 0;
  type Outcome = { label: string; status?: 'ok' | 'rejected'; value?: unknown; error?: unknown };
  const traffic: Array<Outcome & { n: number }> = [];
  const refusedBooms: Outcome[] = [];
  /** Record in `rec` how `p` settles (checked after the run; the recording itself never rejects). */
  const track = (rec: Outcome, p: Promise<unknown>): void => {
    void p.then(
      (v) => ((rec.status = 'ok'), (rec.value = v)),
      (e: unknown) => ((rec.status = 'rejected'), (rec.error = e)),
    );
  };

  for (let f = 0; f < FAULTS_PER_SEED && !model.terminated; f++) {
    await clock.advance(r.chance(0.25) ? 0 : r.int(1, 300));
    const createdBefore = world.created.length;
    const eventsBefore = events.length;
    model.created = [];
    model.escalations = [];
    model.gaveUp = [];
    const roll = r.next();
    let what: string;
    if (roll < 0.4) {
      const a = r.pick(actors);
      what = `${a.addr} throws`;
      if (a.state === 'Running') {
        void sys.ref<typeof Chaos>(a.addr).tell({ type: 'boom' });
        model.crashActor(a);
      } else if (a.state === 'Failed') {
        const rec: Outcome = { label: `boom to failed ${a.addr} (fault ${f})` };
        refusedBooms.push(rec);
        track(rec, sys.ref<typeof Chaos>(a.addr).tell({ type: 'boom' }));
      }
    } else if (roll < 0.7) {
      const a = r.pick(actors);
      what = `crash(${a.addr})`;
      sys.child(a.addr)!.crash(new Error(`injected crash of ${a.addr}`));
      model.crashActor(a);
    } else if (roll < 0.8) {
      const s = r.pick(supervisors);
      what = `crash(${s.addr})`;
      sys.child(s.addr)!.crash(new Error(`injected crash of ${s.addr}`));
      model.crashSupervisor(s);
    } else {
      what = 'traffic';
      for (let k = r.int(1, 4); k > 0; k--) {
        const a = r.pick(actors);
        const n = r.int(0, 1_000);
        const rec: Outcome & { n: number } = { label: `work ${n} -> ${a.addr} (fault ${f})`, n };
        traffic.push(rec);
        track(
          rec,
          r.chance(0.7)
            ? sys.ref<typeof Chaos>(a.addr).ask({ type: 'work', n }, { timeoutMs: r.int(10, 200) })
            : sys.ref<typeof Chaos>(a.addr).tell({ type: 'work', n }),
        );
      }
    }
    await clock.settle();

    const label = `seed ${seed}, fault ${f} at t=${clock.now()}: ${what}`;
    const newEvents = events.slice(eventsBefore);
    expect(world.created.slice(createdBefore), `${label}: instances created (the restarted subtree, in order)`).toEqual(
      model.created,
    );
    expect(
      newEvents
        .filter((e) => e.type === 'escalated')
        .map((e) => `${e.address}:${/exceeded its restart intensity/.test(e.error) ? 'intensity' : 'injected'}`),
      `${label}: escalations`,
    ).toEqual(model.escalations);
    expect(
      newEvents.filter((e) => e.type === 'child-gave-up').map((e) => e.child),
      `${label}: children given up`,
    ).toEqual(model.gaveUp);
    for (const [addr, node] of model.byAddr) {
      const actual = sys.child(addr)?.lifecycle.state;
      expect(matches(actual, node.state), `${label}: ${addr} is ${actual}, model says ${node.state}`).toBe(true);
    }
    expect(termination, `${label}: system termination`).toBe(model.terminated ? 'failed' : undefined);
  }

  // the running instance of every actor is the latest one the model predicts
  if (!model.terminated) {
    const who = actors
      .filter((a) => a.state === 'Running')
      .map((a) => ({ a, p: sys.ref<typeof Chaos>(a.addr).ask({ type: 'who' }) }));
    await clock.settle();
    for (const { a, p } of who) expect(await p, `seed ${seed}: instance answering at ${a.addr}`).toBe(a.instances);
  }

  // ---- shutdown: nothing may leak
  let atShutdown: { timers: number; asks: number } | undefined;
  const shutdown = sys
    .shutdown()
    .then(() => void (atShutdown = { timers: clock.pendingTimers(), asks: sys.pendingAsks }));
  for (let i = 0; i < 10 && !atShutdown; i++) await clock.runUntilIdle();
  await shutdown;
  await clock.settle();
  expect(atShutdown, `seed ${seed}: timers and asks pending when shutdown() resolved`).toEqual({ timers: 0, asks: 0 });
  expect(clock.pendingTimers()).toBe(0);
  expect(sys.pendingAsks).toBe(0);
  expect(termination).toBe(model.terminated ? 'failed' : 'shutdown');
  for (const info of sys.registry.list())
    expect(['Stopped', 'Failed'], `seed ${seed}: ${info.address} after shutdown`).toContain(info.state);
  for (const a of actors) {
    expect(mailboxOf(sys, a.addr).closed, `seed ${seed}: mailbox of ${a.addr} closed`).toBe(true);
    await expect(sys.ref<typeof Chaos>(a.addr).tell({ type: 'work', n: 1 }), a.addr).rejects.toBeInstanceOf(
      ActorStoppedError,
    );
    await expect(sys.ref<typeof Chaos>(a.addr).ask({ type: 'work', n: 1 }), a.addr).rejects.toBeInstanceOf(
      ActorStoppedError,
    );
  }
  await clock.settle();
  for (const rec of traffic) {
    expect(rec.status, `${rec.label} settled`).toBeDefined();
    if (rec.status === 'ok' && rec.value !== undefined) expect(rec.value, rec.label).toBe(rec.n * 2);
    if (rec.status === 'rejected')
      expect(
        [ActorStoppedError, AskTimeoutError, ActorCrashedError, NoRouteError].some((E) => rec.error instanceof E),
        `${rec.label}: ${String(rec.error)}`,
      ).toBe(true);
  }
  for (const rec of refusedBooms) expect(rec.error, rec.label).toBeInstanceOf(ActorStoppedError);
  expect(sys.pendingAsks).toBe(0);
  return { events, deadLetters, created: [...world.created] };
}

// ------------------------------------------------------------------------------ the wild variant

/**
 * The same trees with everything that makes timing matter: jittered exponential backoff (the
 * runtime's seeded random), circuit breakers with recovery timers, slow handlers, tiny mailboxes
 * under every overflow policy, short stop timeouts, and faults that overlap in time (no waiting
 * for quiescence). No model here: invariants only (every ask settles with a typed error or the
 * right value, nothing leaks, everything ends Stopped or Failed), plus the full trace for replay.
 */
async function runWild(seed: number): Promise<Trace & { outcomes: unknown[] }> {
  const tree = generateTree(seed);
  const r = prng(seed * 15_485_863 + 11);
  const clock = createTestClock(seed);
  const world = new World();
  const mailboxes = [
    undefined,
    { capacity: 2, overflow: 'dropOldest' as const },
    { capacity: 2, overflow: 'fail' as const },
    { capacity: 2, overflow: { kind: 'block' as const, timeoutMs: r.int(1, 30) } },
    { capacity: 1, overflow: { kind: 'backoff' as const, initialMs: 2, multiplier: 2, maxMs: 16, maxAttempts: 3 } },
  ];
  const build = (node: SupNode, address: string): SupervisorSpec => ({
    strategy: node.strategy,
    intensity: { maxRestarts: node.maxRestarts, periodMs: node.periodMs },
    children: node.children.map((c): ChildSpec => {
      const addr = `${address}/${c.id}`;
      const shutdownTimeoutMs = r.int(1, 30);
      if (c.kind === 'sup')
        return {
          id: c.id,
          supervisor: build(c, addr),
          policy: exponentialBackoff({ initialMs: 5, maxMs: 100, jitter: 0.5, maxRetries: 1_000 }),
          shutdownTimeoutMs,
        };
      const policy =
        c.policy === 'never'
          ? never()
          : c.policy === 'circuit'
            ? circuitBreaker({ failureThreshold: 2, recoveryTimeoutMs: r.int(5, 50) })
            : exponentialBackoff({ initialMs: r.int(1, 20), maxMs: 200, jitter: 0.5, maxRetries: 1_000 });
      const mailbox = r.pick(mailboxes);
      return {
        id: c.id,
        actor: Chaos,
        args: { world, address: addr, failOn: c.failOn },
        restart: c.restart,
        policy,
        shutdownTimeoutMs,
        ...(mailbox ? { mailbox } : {}),
      };
    }),
  });
  const sys = createActorSystem({ clock, random: clock.random, askTimeoutMs: 300, root: build(tree, '/system') });
  const events: SupervisionEvent[] = [];
  const deadLetters: unknown[] = [];
  sys.onEvent((e) => events.push(e));
  sys.deadLetters.subscribe((d) =>
    deadLetters.push({
      reason: d.reason,
      target: d.target,
      at: d.at,
      detail: d.detail,
      messageId: d.envelope.messageId,
      attempt: d.envelope.attempt,
      payload: d.envelope.payload,
    }),
  );
  await sys.start();
  const model = new Model(tree, () => clock.now()); // only for the addresses
  const actors = model.actors().map((a) => a.addr);
  const supervisors = [...model.byAddr.values()]
    .filter((n) => n.kind === 'sup' && n.parent !== undefined)
    .map((n) => n.addr);
  const asks: Array<{
    n: number;
    label: string;
    status?: 'ok' | 'rejected';
    value?: unknown;
    error?: unknown;
    at?: number;
  }> = [];
  const outcomes: unknown[] = [];
  const tells: Array<{ label: string; settled?: boolean }> = [];

  for (let f = 0; f < FAULTS_PER_SEED; f++) {
    await clock.advance(r.chance(0.3) ? 0 : r.int(1, 60));
    const roll = r.next();
    if (roll < 0.25)
      void sys
        .ref<typeof Chaos>(r.pick(actors))
        .tell({ type: 'boom' }, { priority: r.pick(['system', 'high', 'normal', 'low'] as const) });
    else if (roll < 0.45) sys.child(r.pick(actors))?.crash(new Error('injected'));
    else if (roll < 0.5) sys.child(r.pick(supervisors))?.crash(new Error('injected'));
    else
      for (let k = r.int(1, 6); k > 0; k--) {
        const address = r.pick(actors);
        const n = r.int(0, 1_000);
        const msg: ChaosMsg = r.chance(0.5) ? { type: 'nap', ms: r.int(1, 40), n } : { type: 'work', n };
        const priority = r.pick(['system', 'high', 'normal', 'low'] as const);
        if (r.chance(0.6)) {
          const rec: (typeof asks)[number] = { n, label: `seed ${seed} fault ${f}: ${msg.type} ${n} -> ${address}` };
          asks.push(rec);
          sys
            .ref<typeof Chaos>(address)
            .ask(msg, r.chance(0.5) ? { priority, timeoutMs: r.int(1, 100) } : { priority })
            .then(
              (v) => ((rec.status = 'ok'), (rec.value = v), (rec.at = clock.now())),
              (e: unknown) => ((rec.status = 'rejected'), (rec.error = e), (rec.at = clock.now())),
            );
        } else {
          const rec: (typeof tells)[number] = { label: `seed ${seed} fault ${f}: tell ${msg.type} ${n} -> ${address}` };
          tells.push(rec);
          sys
            .ref<typeof Chaos>(address)
            .tell(msg, { priority })
            .then(
              () => ((rec.settled = true), outcomes.push(['tell ok', n, clock.now()])),
              (e: unknown) => (
                (rec.settled = true), outcomes.push(['tell rejected', n, (e as Error).name, clock.now()])
              ),
            );
        }
      }
  }
  await clock.advance(r.int(0, 50));

  let atShutdown: { timers: number; asks: number } | undefined;
  const shutdown = sys
    .shutdown({ timeoutMs: r.int(1, 200) })
    .then(
      () => void (atShutdown = { timers: clock.pendingTimers() - (ownTimers.get(clock) ?? 0), asks: sys.pendingAsks }),
    );
  for (let i = 0; i < 10 && !atShutdown; i++) await clock.runUntilIdle();
  await shutdown;
  await clock.runUntilIdle();
  expect(atShutdown?.asks, `seed ${seed}: asks pending when shutdown() resolved`).toBe(0);
  // No runtime timer may be pending when shutdown() resolves (the test actors' own naps aside).
  // While the known deviation exists (a few seeds, e.g. 4, 35, 168, hit it), only require that
  // nothing is left once virtual time has run out.
  expect(atShutdown?.timers, `seed ${seed}: runtime timers pending when shutdown() resolved`).toBe(0);
  expect(clock.pendingTimers(), `seed ${seed}: timers after shutdown`).toBe(0);
  expect(sys.pendingAsks).toBe(0);
  for (const info of sys.registry.list())
    expect(['Stopped', 'Failed'], `seed ${seed}: ${info.address} after shutdown`).toContain(info.state);
  for (const a of actors) expect(mailboxOf(sys, a).closed, `seed ${seed}: mailbox of ${a} closed`).toBe(true);
  for (const rec of tells) expect(rec.settled, `${rec.label} settled (in, or refused with a reason)`).toBe(true);
  for (const rec of asks) {
    expect(rec.status, `${rec.label} settled`).toBeDefined();
    if (rec.status === 'ok') expect(rec.value, rec.label).toBe(rec.n * 2);
    else
      expect(
        [
          ActorStoppedError,
          AskTimeoutError,
          ActorCrashedError,
          NoRouteError,
          MailboxFullError,
          MailboxTimeoutError,
        ].some((E) => rec.error instanceof E),
        `${rec.label}: ${String(rec.error)}`,
      ).toBe(true);
    outcomes.push([rec.label, rec.status, rec.status === 'ok' ? rec.value : (rec.error as Error).name, rec.at]);
  }
  return { events, deadLetters, created: [...world.created], outcomes };
}

// ------------------------------------------------------------------------------ the tests

describe('chaos: crash injection over a 3-level supervision tree', () => {
  it(`only the subtree the strategy predicts restarts, escalation exactly at the intensity, no leaks (${SEEDS} seeds)`, async () => {
    const stats = { escalations: 0, terminated: 0, created: 0, gaveUp: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const trace = await runSeed(seed);
      stats.escalations += trace.events.filter((e) => e.type === 'escalated').length;
      stats.gaveUp += trace.events.filter((e) => e.type === 'child-gave-up').length;
      stats.terminated += trace.events.some((e) => e.type === 'escalated' && e.address === '/system') ? 1 : 0;
      stats.created += trace.created.length;
    }
    if (process.env.CHAOS_STATS) console.log('chaos stats', stats);
    // the schedule must actually exercise escalation, termination and give-ups (guards against a vacuous run)
    expect(stats.escalations).toBeGreaterThan(SEEDS / 2);
    expect(stats.terminated).toBeGreaterThan(5);
    expect(stats.terminated).toBeLessThan(SEEDS);
    expect(stats.gaveUp).toBeGreaterThan(10);
  });

  it(`wild variant (jittered backoff, slow handlers, overflowing mailboxes, overlapping faults): every ask settles, nothing leaks (${SEEDS} seeds)`, async () => {
    let deadLetters = 0;
    let restarts = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const trace = await runWild(seed);
      deadLetters += trace.deadLetters.length;
      restarts += trace.events.filter((e) => e.type === 'child-restarted').length;
    }
    if (process.env.CHAOS_STATS) console.log('wild stats', { deadLetters, restarts });
    expect(deadLetters).toBeGreaterThan(SEEDS);
    expect(restarts).toBeGreaterThan(SEEDS);
  });

  it(`the same seed replays the identical trace (events, dead letters, instances, outcomes; ${DETERMINISM_SEEDS} seeds of each variant)`, async () => {
    for (let seed = 1; seed <= DETERMINISM_SEEDS; seed++) {
      for (const run of [runSeed, runWild]) {
        const first: Trace & { outcomes?: unknown[] } = await run(seed);
        const second: Trace & { outcomes?: unknown[] } = await run(seed);
        const label = `seed ${seed} (${run.name})`;
        expect(second.events, `${label}: supervision events`).toEqual(first.events);
        expect(second.deadLetters, `${label}: dead letters`).toEqual(first.deadLetters);
        expect(second.created, `${label}: instances`).toEqual(first.created);
        expect(second.outcomes, `${label}: send outcomes`).toEqual(first.outcomes);
        expect(first.events.length).toBeGreaterThan(0);
      }
    }
  });
});

// ------------------------------------------------------------------------------ known runtime bugs

describe('regressions: runtime bugs found by chaos (minimal reproductions)', () => {
  const made = new Map<string, number>();
  type M = { type: 'ping' } | { type: 'slow'; ms: number; fail: boolean };
  const Probe = defineActor<M, { ping: number; slow: void }, { key: string; failOn?: number[] }>({
    name: 'probe',
    create(args) {
      const n = (made.get(args.key) ?? 0) + 1;
      made.set(args.key, n);
      return {
        preStart() {
          if (args.failOn?.includes(n)) throw new Error(`${args.key}#${n} refuses to start`);
        },
        async handle(msg, ctx) {
          if (msg.type === 'ping') return n;
          await new Promise<void>((r) => (ctx.clock as Clock).setTimer(r, msg.ms));
          if (msg.fail) throw new Error(`late failure of ${args.key}#${n}`);
        },
      };
    },
  });
  const instances = (key: string) => made.get(key) ?? 0;
  let unique = 0;
  const key = (name: string) => `${name}-${++unique}`;

  async function system(
    root: SupervisorSpec,
  ): Promise<{ sys: ActorSystem; clock: TestClock; events: SupervisionEvent[] }> {
    const clock = createTestClock(1);
    const sys = createActorSystem({ clock, random: clock.random, root });
    const events: SupervisionEvent[] = [];
    sys.onEvent((e) => events.push(e));
    await sys.start();
    return { sys, clock, events };
  }

  // An instance that crashed (external crash() while its async handler was awaiting) is replaced at
  // once; when the abandoned handler later throws, ActorCell.drainAsync still treats it as the
  // current handler (crash() does not bump drainGeneration) and crashes the NEW instance: one fault,
  // two restarts, and the new instance is blamed for the old one's error.
  it('a handler of an already crashed instance cannot crash its replacement', async () => {
    const k = key('late');
    const { sys, clock, events } = await system({
      strategy: 'one-for-one',
      intensity: { maxRestarts: 10, periodMs: 1_000 },
      children: [{ id: 'a', actor: Probe, args: { key: k }, policy: immediate() }],
    });
    void sys.ref<typeof Probe>('/system/a').tell({ type: 'slow', ms: 100, fail: true });
    await clock.settle();
    sys.child('/system/a')!.crash(new Error('external'));
    await clock.settle();
    expect(instances(k)).toBe(2);
    await clock.advance(100); // instance #1's handler throws now
    expect(events.filter((e) => e.type === 'child-failed')).toHaveLength(1);
    expect(instances(k)).toBe(2);
    await sys.shutdown();
  });

  // Same root cause: the crashed instance's handler still owns the drain loop (`draining` stays
  // true), so if it never settles, the replacement is Running but never handles another message.
  // crash() is also how the health monitor restarts a stuck actor (HealthCheckFailedError), so a
  // stuck handler can never be recovered that way.
  it("a replacement instance handles messages even if the crashed instance's handler never returns", async () => {
    const k = key('wedge');
    const { sys, clock } = await system({
      strategy: 'one-for-one',
      intensity: { maxRestarts: 10, periodMs: 1_000 },
      children: [{ id: 'a', actor: Probe, args: { key: k }, policy: immediate() }],
    });
    void sys.ref<typeof Probe>('/system/a').tell({ type: 'slow', ms: 1e12, fail: false });
    await clock.settle();
    sys.child('/system/a')!.crash(new Error('stuck'));
    await clock.settle();
    expect(sys.child('/system/a')!.lifecycle.state).toBe('Running');
    const ping = sys.ref<typeof Probe>('/system/a').ask({ type: 'ping' }, { timeoutMs: 1_000 });
    const outcome = ping.then(
      (v) => v,
      (e: unknown) => String(e),
    );
    await clock.advance(1_000);
    expect(await outcome).toBe(2);
  });

  // Supervisor.stop() cancels its timers, then waits for the failure step in progress; that step
  // (here: a one-for-all restart waiting for a busy sibling to stop) goes on to arm the backoff
  // timer AFTER the cancel. shutdown() resolves with that timer still pending.
  it('shutdown during a failure-handling step leaves no restart timer behind', async () => {
    const k = key('leak');
    const { sys, clock } = await system({
      strategy: 'one-for-all',
      children: [
        { id: 'busy', actor: Probe, args: { key: `${k}-busy` } },
        { id: 'b', actor: Probe, args: { key: `${k}-b` }, policy: exponentialBackoff({ initialMs: 500, jitter: 0 }) },
      ],
    });
    void sys.ref<typeof Probe>('/system/busy').tell({ type: 'slow', ms: 1_000, fail: false });
    await clock.settle();
    sys.child('/system/b')!.crash(new Error('external'));
    await clock.settle();
    let pendingAtShutdown = -1;
    const done = sys.shutdown().then(() => void (pendingAtShutdown = clock.pendingTimers()));
    await clock.advance(1_000);
    await done;
    expect(pendingAtShutdown).toBe(0);
  });

  // Supervisor.restart() starts with an empty restart history, but Supervisor.start() - used when
  // the parent stops and starts it again as part of a one-for-all / rest-for-one group, or when an
  // escalating parent is restarted - keeps the old one. The lifecycle doc says such a subtree is
  // "created anew", and in OTP it is a new process: the history must not survive.
  it('a supervisor started again by its parent starts with a fresh restart history', async () => {
    const k = key('hist');
    const { sys, clock, events } = await system({
      strategy: 'one-for-all',
      intensity: { maxRestarts: 100, periodMs: 1_000 },
      children: [
        {
          id: 'n',
          policy: immediate(),
          supervisor: {
            strategy: 'one-for-one',
            intensity: { maxRestarts: 1, periodMs: 1_000 },
            children: [{ id: 'x', actor: Probe, args: { key: `${k}-x` }, policy: immediate() }],
          },
        },
        { id: 'y', actor: Probe, args: { key: `${k}-y` }, policy: immediate() },
      ],
    });
    sys.child('/system/n/x')!.crash(new Error('x 1')); // n: 1 restart in its window
    await clock.settle();
    sys.child('/system/y')!.crash(new Error('y')); // root one-for-all: n is stopped and started again
    await clock.settle();
    sys.child('/system/n/x')!.crash(new Error('x 2')); // the new n has seen 1 restart: within its intensity
    await clock.settle();
    expect(events.filter((e) => e.type === 'escalated')).toEqual([]);
    await sys.shutdown();
  });

  // One-for-all: x crashes; while the group restarts, k fails to start and its policy (never) gives
  // it up. restartGroup returned at k, and the give-up step does not resume the group, so y - a
  // permanent child - stays Stopped for good with an open mailbox: asks to it just time out.
  it('giving up on a child during a group restart still restarts the rest of the group', async () => {
    const k = key('strand');
    const { sys, clock } = await system({
      strategy: 'one-for-all',
      intensity: { maxRestarts: 100, periodMs: 1_000 },
      children: [
        { id: 'x', actor: Probe, args: { key: `${k}-x` }, policy: immediate() },
        { id: 'k', actor: Probe, args: { key: `${k}-k`, failOn: [2] }, policy: never() },
        { id: 'y', actor: Probe, args: { key: `${k}-y` }, policy: immediate() },
      ],
    });
    sys.child('/system/x')!.crash(new Error('x'));
    await clock.runUntilIdle();
    expect(sys.child('/system/k')!.lifecycle.state).toBe('Failed');
    expect(sys.child('/system/y')!.lifecycle.state).toBe('Running');
    await sys.shutdown();
  });

  // supervisor.ts: "temporary ones [are] never [restarted]" (and OTP: "a temporary child is never
  // restarted, even when a sibling's death causes it to be terminated" under one_for_all /
  // rest_for_one). restartGroup starts every Stopped member of the group, temporary ones included.
  it('a temporary child is not restarted when a sibling crash restarts its group', async () => {
    const k = key('temp');
    const { sys, clock, events } = await system({
      strategy: 'one-for-all',
      intensity: { maxRestarts: 100, periodMs: 1_000 },
      children: [
        { id: 'x', actor: Probe, args: { key: `${k}-x` }, policy: immediate() },
        { id: 't', actor: Probe, args: { key: `${k}-t` }, restart: 'temporary', policy: immediate() },
      ],
    });
    sys.child('/system/x')!.crash(new Error('x'));
    await clock.runUntilIdle();
    expect(instances(`${k}-t`)).toBe(1);
    expect(
      events.filter((e) => e.type === 'child-restarted').map((e) => (e.type === 'child-restarted' ? e.child : '')),
    ).toEqual(['/system/x']);
    await sys.shutdown();
  });
});
