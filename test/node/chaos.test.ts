/**
 * Chaos tests for the light node's supervision tree, against a real in-process devnet (blocks
 * 1..60, a PoW block every 10) through the public `createLightNode`:
 *
 * 1. every actor and supervisor of the tree (the root excepted) is crashed once in the middle of a
 *    sync from genesis, in both modes: the node still ends at the devnet head and finalized block,
 *    stores and serves exactly the honest blocks, reports only honest head/finalized events, the
 *    supervisor restarted the crashed child and the siblings its strategy names, and every actor is
 *    Running again (except the metrics actor, whose policy is `never()`: it is given up, by design);
 * 2. worker placement (`verifierWorkers: 2`): a verifier's worker is crashed through the runtime and
 *    a worker thread is terminated for real mid-sync; the verifier comes back in a fresh worker and
 *    the sync completes;
 * 3. seeded random crash schedules (5 seeds x 3 crashes at random times and actors) end in the same
 *    state as an undisturbed run;
 * plus LevelDB storage: mid-sync crashes of everything that restarts the storage actor (itself, its
 * supervisor, the other top-level supervisors: the root is one-for-all) and of the chain actor
 * resume from the store, with strictly monotonic head/finalized events. Memory storage outlives
 * those crashes too, and a restarted storage actor reads the stored chain at once (the regression
 * tests at the end).
 *
 * "Mid-sync" is made deterministic by a gate: a proxy in front of the consensus RPC holds every
 * block request above GATE until the crash was injected, so the crash always lands with the node
 * below the tip (asserted).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SupervisionEvent } from '../../src/actors/index.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import type { CreateLightNodeOptions, LightNode } from '../../src/index.nodejs.js';
import {
  actorStates,
  chainBlockHashes,
  Cleanup,
  eventProblems,
  finalizedHeight,
  growChain,
  honestHash,
  makeNode,
  powBlocks,
  sleep,
  startDevnet,
  startProxy,
  storageProblems,
  storedHashes,
  tempDir,
  waitFor,
  waitSynced,
  type EventLog,
  type TestNode,
} from './helpers.js';
import type { RpcProxy } from '../helpers/rpc-proxy.js';

const shared = new Cleanup();
const cleanup = new Cleanup();
afterEach(() => cleanup.run(), 60_000);
afterAll(() => shared.run(), 60_000);

let devnet: Devnet;
const TIP = 60;
/** Block requests above this height wait until the crash was injected. */
const GATE = 40;
/** The crash is injected once a head event reaches this height. */
const CRASH_AT = 16;

beforeAll(async () => {
  devnet = await startDevnet(shared, 'chaos');
  await growChain(devnet, TIP, 10);
  expect(powBlocks(devnet).map((p) => p.number)).toEqual([10, 20, 30, 40, 50, 60]);
}, 60_000);

type Mode = 'full' | 'pow-checkpoint';
const MODES: Mode[] = ['full', 'pow-checkpoint'];

/** The tree (in registry order) with each child's parent strategy; the root is /alys (one-for-all). */
const TREE: Array<{ address: string; parent: string }> = [
  { address: '/alys/storage', parent: '/alys' },
  { address: '/alys/storage/storage', parent: '/alys/storage' },
  { address: '/alys/storage/metrics', parent: '/alys/storage' },
  { address: '/alys/events', parent: '/alys' },
  { address: '/alys/events/stream', parent: '/alys/events' },
  { address: '/alys/bridge', parent: '/alys' },
  { address: '/alys/bridge/federation', parent: '/alys/bridge' },
  { address: '/alys/bridge/bridge', parent: '/alys/bridge' },
  { address: '/alys/chain', parent: '/alys' },
  { address: '/alys/chain/chain', parent: '/alys/chain' },
  { address: '/alys/chain/auxpow', parent: '/alys/chain' },
  { address: '/alys/chain/engine-0', parent: '/alys/chain' },
  { address: '/alys/chain/engine-1', parent: '/alys/chain' },
  { address: '/alys/chain/verifiers', parent: '/alys/chain' },
  { address: '/alys/chain/verifiers/verifier-0', parent: '/alys/chain/verifiers' },
  { address: '/alys/network', parent: '/alys' },
  { address: '/alys/network/network', parent: '/alys/network' },
  { address: '/alys/network/sync', parent: '/alys/network' },
  { address: '/alys/network/backfill', parent: '/alys/network' },
];
const STRATEGY: Record<string, 'one-for-one' | 'one-for-all' | 'rest-for-one'> = {
  '/alys': 'one-for-all',
  '/alys/storage': 'one-for-one',
  '/alys/events': 'one-for-one',
  '/alys/bridge': 'one-for-one',
  '/alys/chain': 'one-for-one',
  '/alys/chain/verifiers': 'one-for-one',
  '/alys/network': 'rest-for-one',
};
/** The one actor whose restart policy is `never()`: a crash gives it up (Failed), by design. */
const NEVER_RESTARTED = '/alys/storage/metrics';

/**
 * Crashes that restart the storage actor: itself, its supervisor, and every top-level supervisor
 * (the root is one-for-all). The store outlives each of them, memory storage too (regression below).
 */
const RESTARTS_STORAGE = new Set([
  '/alys/storage',
  '/alys/storage/storage',
  '/alys/events',
  '/alys/bridge',
  '/alys/chain',
  '/alys/network',
]);

/** The children a supervisor restarts (child-restarted events) when `address` fails, per its parent's strategy. */
function expectedRestarts(address: string): string[] {
  const parent = TREE.find((t) => t.address === address)!.parent;
  const siblings =
    parent === '/alys'
      ? TREE.filter((t) => t.parent === '/alys').map((t) => t.address)
      : TREE.filter((t) => t.parent === parent).map((t) => t.address);
  switch (STRATEGY[parent]) {
    case 'one-for-one':
      return [address];
    case 'one-for-all':
      return siblings;
    case 'rest-for-one':
      return siblings.slice(siblings.indexOf(address));
  }
  throw new Error(`no strategy for ${parent}`);
}

// ------------------------------------------------------------------------------------------ the gate

/**
 * A proxy to the consensus RPC that holds getblockbyheight(h > above) until `release()` (and lets
 * every request through from then on); `held` counts the requests it held. Closed by `c`.
 */
async function startGate(c: Cleanup, target: string, above: number): Promise<RpcProxy> {
  return startProxy(c, target, { hold: (call) => call.method === 'getblockbyheight' && Number(call.params) > above });
}

// ------------------------------------------------------------------------------------------ helpers

interface ChaosRun extends TestNode {
  supervision: SupervisionEvent[];
  /** Resolves with the head number of the first head event at or above CRASH_AT. */
  reachedCrashHeight: Promise<number>;
}

/** A node over the gate, started, recording supervision events from then on. */
async function startChaosNode(c: Cleanup, rpc: string, opts: CreateLightNodeOptions): Promise<ChaosRun> {
  const t = makeNode(c, devnet, { rpc: [rpc], ...opts });
  const supervision: SupervisionEvent[] = [];
  const reachedCrashHeight = headReached(t, CRASH_AT);
  await t.node.start();
  t.node.system!.onEvent((e) => supervision.push(e));
  return { ...t, supervision, reachedCrashHeight };
}

/** Inject a crash into the child at `address` (an actor, a worker-hosted actor or a supervisor). */
function crash(node: LightNode, address: string, why = 'chaos'): void {
  const entry = node.system!.registry.get(address);
  if (!entry) throw new Error(`no actor at ${address}`);
  entry.child.crash(new Error(`${why}: ${address}`));
}

/** Resolves with the head number once a head event at or above `height` was delivered. */
function headReached(t: TestNode, height: number): Promise<number> {
  return new Promise((resolve) => {
    const done = t.node.on('head', (h) => {
      if (h.number >= height) {
        done();
        resolve(h.number);
      }
    });
  });
}

/** The events of `log` from index `from` (inclusive) to `to` (exclusive) of `log.all`, as a log of their own. */
function sliceLog(log: EventLog, from: number, to = log.all.length): EventLog {
  const out = { all: log.all.slice(from, to) } as unknown as EventLog;
  for (const name of ['head', 'finalized', 'sync', 'source', 'fork', 'storage', 'health'] as const)
    (out as any)[name] = out.all.filter((e) => e.name === name).map((e) => e.data);
  return out;
}

/**
 * Event problems (helpers.ts eventProblems), checked separately before and after each cold start
 * when `resyncs` is set: a node whose memory store was wiped starts over from genesis, so its
 * head/finalized legitimately begin again at 0 there; every reported
 * hash must still be the devnet's.
 */
function eventProblemsOf(log: EventLog, resyncs = false): string[] {
  if (!resyncs) return eventProblems(log, devnet);
  const cuts = log.all.flatMap((e, i) =>
    e.name === 'storage' && (e.data as { kind: string }).kind === 'cold-start' ? [i] : [],
  );
  const bounds = [0, ...cuts.slice(1), log.all.length];
  return bounds.slice(0, -1).flatMap((from, i) => eventProblems(sliceLog(log, from, bounds[i + 1]), devnet));
}

/** The node is synced to the devnet, following, and holds and serves exactly the honest chain. */
async function expectHonestEnd(t: TestNode, what: string, opts: { resyncs?: boolean } = {}): Promise<void> {
  const { node, events } = t;
  const s = await waitSynced(node, devnet, 30_000);
  expect(s.head!.hash, what).toBe(honestHash(devnet, TIP));
  expect(s.finalized, what).toBe(finalizedHeight(devnet));
  await waitFor(
    async () => (await node.status()).sync?.phase === 'following',
    async () => `${what}: sync following (${JSON.stringify((await node.status()).sync)})`,
    20_000,
  );
  expect(await storageProblems(node, devnet, TIP), what).toEqual([]);
  expect(await chainBlockHashes(node, TIP), what).toEqual(
    Array.from({ length: TIP + 1 }, (_, n) => honestHash(devnet, n)),
  );
  expect(eventProblemsOf(events, opts.resyncs), what).toEqual([]);
}

/** Every actor Running, except those listed (address -> the state they must be in). */
async function expectAllRunning(node: LightNode, except: Record<string, string> = {}): Promise<void> {
  await waitFor(
    () => actorStates(node).every((a) => a.state === (except[a.address] ?? 'Running')),
    () => `every actor Running: ${JSON.stringify(actorStates(node).filter((a) => a.state !== 'Running'))}`,
    15_000,
  );
}

/** One crash of `address` once the head reaches CRASH_AT, with the gate holding the blocks above GATE. */
async function crashMidSync(
  c: Cleanup,
  mode: Mode,
  address: string,
  opts: CreateLightNodeOptions = {},
): Promise<ChaosRun & { crashedAtHead: number }> {
  const gate = await startGate(c, devnet.urls.consensus, GATE);
  const run = await startChaosNode(c, gate.url, { mode, ...opts });
  await run.reachedCrashHeight;
  // crash outside of the stream actor's handler that delivered the head event
  await sleep(0);
  const before = (await run.node.status()).head!.number;
  expect(before).toBeLessThan(TIP);
  crash(run.node, address);
  await waitFor(
    () =>
      run.supervision.some(
        (e) => (e.type === 'child-failed' && e.child === address) || (e.type === 'escalated' && e.address === address),
      ),
    () => `the failure of ${address} seen by its supervisor: ${JSON.stringify(run.supervision)}`,
    5_000,
  );
  gate.release();
  return { ...run, crashedAtHead: before };
}

// ------------------------------------------------------------------------------------------ 1. every actor

describe('the actor tree', () => {
  it('is the one the chaos cases crash (every address but the root)', async () => {
    const c = new Cleanup();
    try {
      const t = makeNode(c, devnet, {});
      await t.node.start();
      const addresses = actorStates(t.node).map((a) => a.address);
      expect(new Set(addresses)).toEqual(new Set(['/alys', ...TREE.map((x) => x.address)]));
      // parents as the registry records them
      for (const { address, parent } of TREE)
        expect(t.node.system!.registry.info(address)!.parent, address).toBe(parent);
      for (const [address, strategy] of Object.entries(STRATEGY))
        expect(t.node.system!.supervisor(address)!.strategy, address).toBe(strategy);
    } finally {
      await c.run();
    }
  });
});

describe.each(MODES)('one crash of each actor mid-sync (%s)', (mode) => {
  it.each(TREE.map((t) => t.address))('%s', async (address) => {
    const run = await crashMidSync(cleanup, mode, address);
    expect(run.crashedAtHead).toBeGreaterThanOrEqual(CRASH_AT);
    await expectHonestEnd(run, `${mode}, crash of ${address} at head ${run.crashedAtHead}`, { resyncs: false });
    // a restart comes after its backoff, which a loaded machine can finish the sync before
    if (address !== NEVER_RESTARTED)
      await waitFor(
        () =>
          expectedRestarts(address).every((a) =>
            run.supervision.some((e) => e.type === 'child-restarted' && (e as { child: string }).child === a),
          ),
        () => `the restarts after the crash of ${address}: ${JSON.stringify(run.supervision)}`,
        10_000,
      );
    const restarted = new Set(
      run.supervision.filter((e) => e.type === 'child-restarted').map((e) => (e as { child: string }).child),
    );
    const failed = run.supervision.filter((e) => e.type === 'child-failed').map((e) => (e as { child: string }).child);
    // every crash keeps the store (memory storage too: it outlives actor restarts); a restarted
    // chain actor reloads it: a warm start at the stored head, never a second cold start
    const kinds = run.events.storage.map((e) => e.kind);
    // (a top-level supervisor's crash restarts the whole tree: the root is one-for-all)
    const chainRestarted =
      address === '/alys/chain/chain' ||
      /^\/alys\/[a-z]+$/.test(address) ||
      restarted.has('/alys/chain/chain') ||
      restarted.has('/alys/chain');
    expect(kinds).toEqual(chainRestarted ? ['cold-start', 'warm-start'] : ['cold-start']);
    expect(failed).toContain(address);
    // no collateral failures
    expect(failed.filter((f) => f !== address)).toEqual([]);
    if (address === NEVER_RESTARTED) {
      // policy never(): given up, not restarted; nothing else affected
      expect(run.supervision.some((e) => e.type === 'child-gave-up' && e.child === address)).toBe(true);
      expect(restarted.has(address)).toBe(false);
      await expectAllRunning(run.node, { [address]: 'Failed' });
      expect(actorStates(run.node).find((a) => a.address === address)!.restarts).toBe(0);
    } else {
      // the supervisor restarted the crashed child and the siblings its strategy names
      for (const a of expectedRestarts(address))
        expect(restarted, `${a} restarted after the crash of ${address}: ${JSON.stringify([...restarted])}`).toContain(
          a,
        );
      expect(actorStates(run.node).find((a) => a.address === address)!.restarts).toBeGreaterThanOrEqual(1);
      await expectAllRunning(run.node);
    }
    // nothing escalated to the root: the system is still up
    expect(run.supervision.filter((e) => e.type === 'escalated' && e.address === '/alys')).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------ LevelDB

describe('LevelDB storage', () => {
  it.each([...RESTARTS_STORAGE, '/alys/chain/chain'])(
    'a crash of %s mid-sync resumes from the store and ends on the honest chain',
    async (address) => {
      const dataDir = await tempDir(cleanup);
      const run = await crashMidSync(cleanup, 'pow-checkpoint', address, { storage: 'level', dataDir });
      await expectHonestEnd(run, `level, crash of ${address}`);
      for (const a of expectedRestarts(address))
        expect([
          ...new Set(
            run.supervision.filter((e) => e.type === 'child-restarted').map((e) => (e as { child: string }).child),
          ),
        ]).toContain(a);
      await expectAllRunning(run.node);
      // the store was kept: one cold start, then at most warm starts (a restarted chain actor)
      expect(run.events.storage[0]!.kind).toBe('cold-start');
      expect(run.events.storage.slice(1).map((e) => e.kind)).toEqual(
        run.events.storage.slice(1).map(() => 'warm-start'),
      );
      if (address !== '/alys/storage/storage') expect(run.events.storage.length).toBeGreaterThan(1);
      // and a restart of the node on the same directory resumes at the tip
      await run.node.stop();
      const again = makeNode(cleanup, devnet, { storage: 'level', dataDir });
      await again.node.start();
      expect(again.events.storage).toEqual([expect.objectContaining({ kind: 'warm-start', head: TIP })]);
      await expectHonestEnd(again, 'level, after the restart');
    },
  );
});

// ------------------------------------------------------------------------------------------ 2. workers

describe('verifiers in worker_threads (verifierWorkers: 2)', () => {
  /** The parent side of a worker-placed verifier: its WorkerCell and the endpoint of its current worker. */
  const workerEndpoint = (node: LightNode, address: string) =>
    (node.system!.registry.get(address)!.child as unknown as { worker?: { terminate(): void } }).worker;

  const KILLS = [
    { how: 'crash() through the runtime', kill: (node: LightNode, address: string) => crash(node, address) },
    {
      how: 'its worker thread terminated',
      kill: (node: LightNode, address: string) => {
        const w = workerEndpoint(node, address);
        if (!w) throw new Error(`${address} has no live worker`);
        w.terminate();
      },
    },
  ];
  const CASES = KILLS.flatMap((k) => MODES.map((mode) => ({ ...k, mode })));

  it.each(CASES)(
    '$how mid-sync ($mode): the verifier restarts in a fresh worker and the sync completes',
    async ({ kill, mode }) => {
      const gate = await startGate(cleanup, devnet.urls.consensus, GATE);
      const run = await startChaosNode(cleanup, gate.url, { mode, verifierWorkers: 2 });
      const verifiers = actorStates(run.node).filter((a) => a.address.startsWith('/alys/chain/verifiers/'));
      expect(verifiers.map((v) => [v.address, v.placement])).toEqual([
        ['/alys/chain/verifiers/verifier-0', 'worker'],
        ['/alys/chain/verifiers/verifier-1', 'worker'],
      ]);
      await run.reachedCrashHeight;
      expect((await run.node.status()).head!.number).toBeLessThan(TIP);
      const target = '/alys/chain/verifiers/verifier-1';
      const before = workerEndpoint(run.node, target);
      expect(before).toBeDefined();
      kill(run.node, target);
      await waitFor(
        () => run.supervision.some((e) => e.type === 'child-restarted' && e.child === target),
        () => `${target} restarted: ${JSON.stringify(run.supervision)}`,
        10_000,
      );
      const failure = run.supervision.find((e) => e.type === 'child-failed' && e.child === target) as Extract<
        SupervisionEvent,
        { type: 'child-failed' }
      >;
      expect(failure).toBeDefined();
      const processedAtRestart = run.node.system!.registry.info(target)!.messages;
      gate.release();
      await expectHonestEnd(run, `${mode}, worker of ${target} killed`);
      const after = actorStates(run.node).find((a) => a.address === target)!;
      expect(after).toMatchObject({ state: 'Running', placement: 'worker' });
      expect(after.restarts).toBe(1);
      const fresh = workerEndpoint(run.node, target);
      expect(fresh).toBeDefined();
      expect(fresh).not.toBe(before);
      // the fresh worker took part in verifying the blocks released after the restart
      expect(run.node.system!.registry.info(target)!.messages).toBeGreaterThan(processedAtRestart);
      // the other verifier was not touched (one-for-one)
      expect(actorStates(run.node).find((a) => a.address === '/alys/chain/verifiers/verifier-0')).toMatchObject({
        state: 'Running',
        restarts: 0,
      });
      await expectAllRunning(run.node);
    },
  );
});

// ------------------------------------------------------------------------------------------ 3. random schedules

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('seeded random crash schedules', () => {
  let baseline: { head: unknown; finalized: number; chain: Array<string | null>; stored: Array<string | null> };

  beforeAll(async () => {
    const c = new Cleanup();
    try {
      const t = makeNode(c, devnet, {});
      await t.node.start();
      const s = await waitSynced(t.node, devnet, 30_000);
      baseline = {
        head: s.head,
        finalized: s.finalized,
        chain: await chainBlockHashes(t.node, TIP + 2),
        stored: await storedHashes(t.node, TIP + 2),
      };
    } finally {
      await c.run();
    }
  }, 60_000);

  it.each([1, 2, 3, 4, 5])(
    'seed %i: 3 crashes at random times and actors end in the undisturbed final state',
    async (seed) => {
      const random = prng(0xc4a05 + seed);
      const mode: Mode = random() < 0.5 ? 'full' : 'pow-checkpoint';
      // crash times within the first 300 ms of the sync, targets anywhere in the tree; the gate holds the
      // blocks above GATE until the last crash, so every crash lands mid-sync
      const schedule = Array.from({ length: 3 }, () => ({
        atMs: Math.floor(random() * 300),
        address: TREE[Math.floor(random() * TREE.length)]!.address,
      })).sort((a, b) => a.atMs - b.atMs);
      const what = `seed ${seed} (${mode}): ${schedule.map((x) => `${x.address} @${x.atMs}ms`).join(', ')}`;

      const gate = await startGate(cleanup, devnet.urls.consensus, GATE);
      const run = await startChaosNode(cleanup, gate.url, { mode });
      const t0 = Date.now();
      const injected: Array<{ address: string; wasRunning: boolean; at: number }> = [];
      for (const step of schedule) {
        await sleep(Math.max(0, step.atMs - (Date.now() - t0)));
        // a child still restarting from an earlier crash (or stopped by its group's restart) ignores crash()
        const wasRunning = run.node.system!.registry.get(step.address)!.child.lifecycle.state === 'Running';
        injected.push({ address: step.address, wasRunning, at: run.supervision.length });
        crash(run.node, step.address, `chaos seed ${seed}`);
        await sleep(0);
      }
      expect((await run.node.status()).head?.number ?? 0, what).toBeLessThan(TIP);
      gate.release();

      await expectHonestEnd(run, what, { resyncs: schedule.some((x) => RESTARTS_STORAGE.has(x.address)) });
      const s = await run.node.status();
      expect(
        {
          head: s.head,
          finalized: s.finalized,
          chain: await chainBlockHashes(run.node, TIP + 2),
          stored: await storedHashes(run.node, TIP + 2),
        },
        what,
      ).toEqual(baseline);

      // every crash of a running child reached its supervisor
      for (const i of injected.filter((x) => x.wasRunning))
        expect(
          run.supervision
            .slice(i.at)
            .some(
              (e) =>
                (e.type === 'child-failed' && e.child === i.address) ||
                (e.type === 'escalated' && e.address === i.address),
            ),
          `${what}: the crash of ${i.address} was handled`,
        ).toBe(true);
      // every crashed child came back (the metrics actor is given up by its never() policy unless a
      // later restart of its whole subtree started it again)
      const metricsFailed = actorStates(run.node).find((a) => a.address === NEVER_RESTARTED)!.state === 'Failed';
      if (metricsFailed)
        expect(
          schedule.map((x) => x.address),
          what,
        ).toContain(NEVER_RESTARTED);
      await expectAllRunning(run.node, metricsFailed ? { [NEVER_RESTARTED]: 'Failed' } : {});
      expect(
        run.supervision.filter((e) => e.type === 'escalated' && e.address === '/alys'),
        what,
      ).toEqual([]);
    },
  );
});

// ------------------------------------------------------------------------------------------ regression

/**
 * A restarted StorageActor once built a fresh BlockStore without load()ing it: it answered `block`
 * with undefined for every height and refused the next `append`, and memory storage started empty
 * on every restart. Now it loads the stored chain (src/node/actors/storage.ts) and memory storage
 * outlives actor restarts until node.stop(): a synced node still reads every stored block.
 */
describe('regression: a restarted storage actor keeps the stored chain', () => {
  it.each(['level', 'memory'] as const)(
    '%s: after a crash of the storage actor the synced node still reads every stored block',
    async (storage) => {
      const dataDir = await tempDir(cleanup);
      const run = await startChaosNode(cleanup, devnet.urls.consensus, { storage, dataDir });
      await waitSynced(run.node, devnet, 30_000);
      crash(run.node, '/alys/storage/storage');
      await waitFor(
        () => run.supervision.some((e) => e.type === 'child-restarted' && e.child === '/alys/storage/storage'),
        () => 'the storage actor restarted',
        5_000,
      );
      expect((await run.node.status()).head!.number).toBe(TIP);
      expect(await storageProblems(run.node, devnet, TIP)).toEqual([]);
    },
  );
});
