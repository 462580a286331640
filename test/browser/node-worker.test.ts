/**
 * The node in a worker (src/platform/browser/node-worker/), in real Chromium against the devnet of
 * test/setup/browser-devnet.ts: the page holds only a proxy with the LightNode API.
 *
 * - by default the node runs in a SharedWorker (no actor system on the page), events and the
 *   provider cross, and its typed errors arrive as the same classes;
 * - two connections ("tabs") to one database share one node; closing one leaves it running;
 * - without SharedWorker (forced), tabs elect a leader by Web Lock; closing the leader hands over and
 *   the next tab's worker resumes from IndexedDB;
 * - a crashed node worker is restarted by the page's supervisor and the provider keeps answering.
 */
import { describe, expect, inject, it, vi } from 'vitest';
import {
  AlysLightError,
  ConfigError,
  ConfigRestartRequiredError,
  createLightNode,
  EndpointVerificationError,
  ProviderRpcError,
  VerificationError,
  type NodeEvents,
  type NodeWorkerOptions,
  type WorkerLightNode,
} from '../../src/index.js';
import { fromWireError, toWireError } from '../../src/platform/browser/node-worker/errors-wire.js';
import { parseChainSpec } from '../../src/protocol/chainspec.js';
import { DecodeError } from '../../src/protocol/errors.js';
import { cleanUpAfterAll, devnetInfo, newRun, produce, waitFor } from './helpers.js';

const devnet = inject('devnet');
const spec = parseChainSpec(devnet.chainSpec);
const run = newRun();
const databases: string[] = [];
const nodes: WorkerLightNode[] = [];

cleanUpAfterAll(nodes, databases);

function database(label: string): string {
  const name = `alys-light-test-${run}-${label}`;
  databases.push(name);
  return name;
}

type Logged = 'head' | 'storage' | 'health';

function makeNode(databaseName: string, worker: NodeWorkerOptions = {}, chainSpec = spec) {
  const node = createLightNode({
    chainSpec,
    rpc: [devnet.consensus],
    evmRpc: [devnet.evm],
    storage: 'indexeddb',
    databaseName,
    verifierWorkers: 1,
    logLevel: 'silent',
    sync: { start: 'head', requestTimeoutMs: 5_000, backoffInitialMs: 50, backoffMaxMs: 500, followIntervalMs: 100 },
    worker,
  }) as WorkerLightNode;
  nodes.push(node);
  const events = { head: [], storage: [], health: [] } as { [K in Logged]: NodeEvents[K][] };
  for (const name of ['head', 'storage', 'health'] as const) node.on(name, (e) => (events[name] as unknown[]).push(e));
  return { node, events };
}

/** The node's verified head is the devnet's head. */
async function waitAtHead(node: WorkerLightNode) {
  return waitFor(
    async () => {
      const [s, d] = await Promise.all([node.status(), devnetInfo()]);
      return s.head?.hash === d.head.hash ? s : undefined;
    },
    async () => `devnet ${JSON.stringify(await devnetInfo())}; node ${JSON.stringify((await node.status()).head)}`,
  );
}

const blockNumber = async (node: WorkerLightNode) =>
  Number(await node.provider.request({ method: 'eth_blockNumber', params: [] }));

describe('the light node in a worker (Chromium)', { timeout: 60_000 }, () => {
  it('runs in a SharedWorker by default: no actors on the page, events and the provider cross', async () => {
    const { node, events } = makeNode(database('shared'));
    await node.start();
    const s = await waitAtHead(node);
    expect(node.system).toBeUndefined();
    expect(s.worker).toMatchObject({ kind: 'shared', scope: 'SharedWorkerGlobalScope', restarts: 0 });
    expect(s.actors.length).toBeGreaterThan(5);
    expect(s.actors.every((a) => a.state === 'Running')).toBe(true);
    expect(events.storage[0]).toMatchObject({ kind: 'cold-start' });
    await waitFor(
      () => events.head.at(-1)?.hash === s.head!.hash,
      () => JSON.stringify(events.head.at(-1)),
    );
    expect(await blockNumber(node)).toBeGreaterThanOrEqual(s.head!.number - 1);
    expect(await node.metrics()).toContain('alys_light');

    // config updates: validated on the page, applied by the worker's node
    const updated = await node.updateConfig({ sync: { followIntervalMs: 250 } });
    expect(updated.changedKeys).toEqual(['sync.followIntervalMs']);
    expect(node.config.config.sync.followIntervalMs).toBe(250);
    const refused = await node.updateConfig({ mode: 'full' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigRestartRequiredError);
  });

  it('with p2p configured the node runs in the worker too (libp2p bridged from the page), without a warning', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const node = createLightNode({
        chainSpec: spec,
        rpc: [devnet.consensus],
        storage: 'memory',
        p2p: { bootstrap: ['/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'] },
      });
      expect('close' in node).toBe(true);
      expect(node.system).toBeUndefined();
      expect(warn).not.toHaveBeenCalled();
      void (node as WorkerLightNode).close();
      const inPage = createLightNode({
        chainSpec: spec,
        rpc: [devnet.consensus],
        storage: 'memory',
        placement: 'page',
      });
      expect('close' in inPage).toBe(false);
    } finally {
      warn.mockRestore();
    }
  });

  it('typed errors from the worker arrive as the same classes, with their fields', async () => {
    const { node } = makeNode(database('errors'));
    await node.start();
    const err = await node.provider.request({ method: 'eth_getBalance', params: ['0x12'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderRpcError);
    expect(err).toBeInstanceOf(AlysLightError);
    expect((err as ProviderRpcError).code).toBe(-32602);
    expect((err as ProviderRpcError).name).toBe('ProviderRpcError');

    // the serializer both ways: a subclass with its own fields and a cause
    const original = new EndpointVerificationError('state.proof', 'the proof does not match the state root', {
      endpoint: 'http://x',
      method: 'eth_getProof',
      cause: new ProviderRpcError(-32000, 'inner', { data: { at: 1 } }),
    });
    const back = fromWireError(structuredClone(toWireError(original)));
    expect(back).toBeInstanceOf(EndpointVerificationError);
    expect(back).toBeInstanceOf(VerificationError);
    expect(back).toMatchObject({
      code: original.code,
      check: original.check,
      endpoint: 'http://x',
      method: 'eth_getProof',
      message: original.message,
      details: original.details,
    });
    expect(back.cause).toBeInstanceOf(ProviderRpcError);
    expect((back.cause as ProviderRpcError).data).toEqual({ at: 1 });
  });

  it('two tabs on one database share one node; closing one leaves it running for the other', async () => {
    const name = database('two-tabs');
    const a = makeNode(name);
    await a.node.start();
    const sa = await waitAtHead(a.node);
    const b = makeNode(name);
    await b.node.start();
    // b joined the running node: no second start from the store, the same head at once
    const sb = await b.node.status();
    expect(sb.head?.hash).toBe(sa.head?.hash);
    expect(a.events.storage).toHaveLength(1);
    expect(b.events.storage).toEqual([]);
    await a.node.close();
    const grown = await produce(2, true);
    await waitFor(
      () => b.events.head.some((h) => h.hash === grown.head.hash),
      () => `b's head event ${grown.head.number}: ${JSON.stringify(b.events.head.at(-1))}`,
    );
    expect(await blockNumber(b.node)).toBe(grown.head.number);
    const err = await a.node.status().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'NodeWorkerError', code: 'node-worker.closed' });
  });

  it('without SharedWorker the Web Lock holder runs the node; closing it hands over, resuming from IndexedDB', async () => {
    const name = database('leader');
    const leader = makeNode(name, { shared: false });
    await leader.node.start();
    const s1 = await waitAtHead(leader.node);
    expect(s1.worker).toMatchObject({ kind: 'dedicated', role: 'leader', scope: 'DedicatedWorkerGlobalScope' });
    const follower = makeNode(name, { shared: false });
    await follower.node.start();
    const f1 = await follower.node.status();
    expect(f1.worker?.role).toBe('follower');
    expect(f1.head?.hash).toBe(s1.head?.hash);
    expect(follower.events.storage).toEqual([]); // served by the leader's node
    expect(await blockNumber(follower.node)).toBe(s1.head!.number);

    await leader.node.close();
    // the lock passes: the follower's own worker starts the node, a warm start from the database
    await waitFor(
      () => follower.events.storage.find((e) => e.kind === 'warm-start'),
      async () => `a warm start in the follower: ${JSON.stringify(follower.events.storage)}`,
    );
    const f2 = await follower.node.status();
    expect(f2.worker?.role).toBe('leader');
    const grown = await produce(2, true);
    await waitFor(
      async () => (await blockNumber(follower.node)) === grown.head.number,
      async () => `the new leader at ${grown.head.number}: ${await blockNumber(follower.node)}`,
    );
  });

  // The crash is seen by an event, not by missed heartbeats: a dedicated worker's uncaught error is its
  // `error` event; a SharedWorker's reaches no page, so it says `crashed` to every page before it closes.
  // The heartbeat timeout is long on purpose: a busy worker on a loaded machine must not look crashed.
  for (const shared of [true, false])
    it(`a crashed node worker (${shared ? 'shared' : 'dedicated'}) is restarted and the provider keeps answering`, async () => {
      const { node, events } = makeNode(database(`crash-${shared}`), {
        shared,
        heartbeatIntervalMs: 100,
        heartbeatTimeoutMs: 120_000,
      });
      await node.start();
      await waitAtHead(node);
      node.testCrashWorker();
      // a request made while the worker is down is sent again to the restarted node
      const during = node.provider.request({ method: 'eth_blockNumber', params: [] });
      await waitFor(
        () => events.health.find((h) => h.address === 'alys-light-node' && h.state === 'restarting'),
        () => `a restart: ${JSON.stringify(events.health)}`,
      );
      expect(Number(await during)).toBeGreaterThan(0);
      expect((await node.status()).worker?.restarts).toBe(1);
      expect(events.storage.map((e) => e.kind)).toEqual(['cold-start', 'warm-start']);
      const grown = await produce(2, true);
      await waitFor(
        async () => (await blockNumber(node)) === grown.head.number,
        async () => `the restarted node at ${grown.head.number}: ${await blockNumber(node)}`,
      );
    });

  it("a node that fails to start on one tab's bad config gives the tabs on it its typed error, and does not wedge the worker", async () => {
    const name = database('bad-config');
    // tab A's chain spec (no authorities) passes the page and fails in the worker's node start
    const bad = makeNode(name, {}, { ...spec, authorities: [] });
    await bad.node.status(); // A's config made the SharedWorker's node for this database
    const waiting = makeNode(name);
    await waiting.node.status(); // B (a good config) joined that node
    // B's start runs A's node: A's config's error, typed; A's own start (on a node of its config) too
    const errors = [
      await waiting.node.start().catch((e: unknown) => e),
      await bad.node.start().catch((e: unknown) => e),
    ];
    for (const err of errors) {
      expect(err).toBeInstanceOf(DecodeError);
      expect(err).toMatchObject({ code: 'decode', path: '$.authorities' });
    }
    // a later tab with a good config starts the node; B's next start joins it
    const later = makeNode(name);
    await later.node.start();
    const s = await waitAtHead(later.node);
    await waiting.node.start();
    expect((await waiting.node.status()).head?.hash).toBe(s.head?.hash);
    expect(later.events.storage).toHaveLength(1);
  });

  it('a bad subscriptionMaxLag is a ConfigError from createLightNode, in the worker and in the page alike', () => {
    for (const placement of ['worker', 'page'] as const) {
      const made = (() => {
        try {
          return createLightNode({
            chainSpec: spec,
            rpc: [devnet.consensus],
            storage: 'memory',
            subscriptionMaxLag: 0,
            placement,
          });
        } catch (e) {
          return e;
        }
      })();
      expect(made, placement).toBeInstanceOf(ConfigError);
      expect((made as ConfigError).issues[0]?.key, placement).toBe('subscriptionMaxLag');
    }
  });
});
