/**
 * The light node in real Chromium: verifier actors in module Web Workers, blocks in IndexedDB,
 * syncing over real HTTP (CORS) from the devnet that test/setup/browser-devnet.ts runs in the Node
 * process. Expected values come from that devnet (`inject('devnet')` and its control server).
 *
 * - a cold sync to the devnet head and its AuxPoW-finalized block, verifiers Running in workers;
 * - a warm start from IndexedDB (a "reload": a new node on the same database) resumes at the stored
 *   head without downloading it again, then follows new blocks;
 * - a verifier worker killed mid-flight is restarted by its supervisor and the node keeps following;
 * - the dashboard (web/node-page.ts) shows head, finalized, verified history (backfilled to genesis),
 *   phase and workers from a real node.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLightNode, type LightNode, type NodeEvents } from '../../src/index.js';
import { parseChainSpec } from '../../src/protocol/chainspec.js';
import { fetchPageConfig, startNodePage } from '../../web/node-page.js';
import { deleteIdbDatabase } from '../storage/conformance.js';
import { devnetInfo, GENESIS_SYNC, newRun, produce, waitFor } from './helpers.js';

const devnet = inject('devnet');
const spec = parseChainSpec(devnet.chainSpec);
const run = newRun();
const databases: string[] = [];
const nodes: LightNode[] = [];

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => {});
  for (const name of databases) await deleteIdbDatabase(name);
});

function database(label: string): string {
  const name = `alys-light-test-${run}-${label}`;
  databases.push(name);
  return name;
}

function makeNode(
  databaseName: string,
  verifierWorkers = 2,
): { node: LightNode; events: { [K in 'head' | 'finalized' | 'storage' | 'health']: NodeEvents[K][] } } {
  const node = createLightNode({
    chainSpec: spec,
    rpc: [devnet.consensus],
    evmRpc: [devnet.evm],
    storage: 'indexeddb',
    databaseName,
    verifierWorkers,
    logLevel: 'silent',
    sync: GENESIS_SYNC,
    placement: 'page', // these cases read the in-page actor system (node.system)
  });
  nodes.push(node);
  const events = { head: [], finalized: [], storage: [], health: [] } as {
    [K in 'head' | 'finalized' | 'storage' | 'health']: NodeEvents[K][];
  };
  node.on('head', (h) => events.head.push(h));
  node.on('finalized', (f) => events.finalized.push(f));
  node.on('storage', (s) => events.storage.push(s));
  node.on('health', (h) => events.health.push(h));
  return { node, events };
}

/** Wait until the node's head is the devnet's head (number and hash) and its finalized height the devnet's. */
async function waitSynced(node: LightNode) {
  return waitFor(
    async () => {
      const [s, d] = await Promise.all([node.status(), devnetInfo()]);
      return s.head?.number === d.head.number && s.head.hash === d.head.hash && s.finalized === d.finalized
        ? s
        : undefined;
    },
    async () =>
      `devnet ${JSON.stringify(await devnetInfo())}; node head ${JSON.stringify((await node.status()).head)} finalized ${(await node.status()).finalized}`,
  );
}

describe('the light node in Chromium (Web Workers + IndexedDB)', { timeout: 60_000 }, () => {
  const name = database('main');

  it('syncs from genesis to the devnet head and finalized block, verifiers in Web Workers', async () => {
    const { node, events } = makeNode(name);
    await node.start();
    expect(events.storage[0]).toMatchObject({ kind: 'cold-start', head: 0 });
    const s = await waitSynced(node);
    expect(s.head!.number).toBeGreaterThanOrEqual(devnet.head.number);
    expect(s.finalized).toBeGreaterThan(0);
    const workers = s.actors.filter((a) => a.placement === 'worker');
    expect(workers).toHaveLength(2);
    expect(workers.every((a) => a.state === 'Running' && a.restarts === 0)).toBe(true);
    await waitFor(
      async () => events.finalized.at(-1)?.number === s.finalized,
      () => `finalized event ${s.finalized}: ${JSON.stringify(events.finalized.at(-1))}`,
    );
    expect(events.head.at(-1)).toMatchObject({ number: s.head!.number, hash: s.head!.hash });
    await node.stop();
  });

  it('a reload warm-starts from IndexedDB at the stored head, then follows new blocks', async () => {
    const before = await devnetInfo();
    const { node, events } = makeNode(name);
    const t0 = performance.now();
    await node.start();
    const startMs = performance.now() - t0;
    expect(events.storage).toHaveLength(1);
    expect(events.storage[0]).toMatchObject({ kind: 'warm-start', head: before.head.number });
    // the stored head is reported before anything is downloaded
    expect(events.head[0]).toMatchObject({ number: before.head.number, hash: before.head.hash });
    expect(startMs).toBeLessThan(10_000);
    const grown = await produce(4, true); // 4 blocks, then a PoW block
    expect(grown.head.number).toBe(before.head.number + 5);
    const s = await waitSynced(node);
    expect(s.head!.hash).toBe(grown.head.hash);
    expect(s.finalized).toBe(grown.finalized);
    await node.stop();
  });

  it('a killed verifier worker is restarted by its supervisor and the node keeps following', async () => {
    const { node } = makeNode(database('chaos'));
    await node.start();
    await waitSynced(node);
    const entry = node.system!.registry.get('/alys/chain/verifiers/verifier-0');
    expect(entry?.placement).toBe('worker');
    entry!.child.crash(new Error('chaos: worker killed'));
    await waitFor(
      async () =>
        node
          .system!.registry.list()
          .find((a) => a.address === '/alys/chain/verifiers/verifier-0' && a.state === 'Running' && a.restarts >= 1),
      () => JSON.stringify(node.system!.registry.list().filter((a) => a.placement === 'worker')),
    );
    const grown = await produce(3, true);
    const s = await waitSynced(node);
    expect(s.head!.hash).toBe(grown.head.hash);
    expect(s.actors.filter((a) => a.state !== 'Running')).toEqual([]);
    await node.stop();
  });

  it('the dashboard shows the verified head, finalized block, verified history, phase and running workers', async () => {
    const config = await fetchPageConfig(`${devnet.control}/devnet.json`);
    expect(config.rpc).toEqual([devnet.consensus]);
    document.body.innerHTML =
      '<div id="head"></div><div id="finalized"></div><span id="phase"></span><progress id="progress"></progress><p id="history-line"></p><table><tbody id="actors"></tbody></table><pre id="log"></pre>';
    const instance = `page-${run}`;
    databases.push(`alys-light-${spec.chainId}-pow-checkpoint-${instance}`);
    // a link may tune the page, not switch on unverified forwarding or swap the EVM endpoint
    const page = await startNodePage({
      config: { ...config, instance },
      query: 'sync-follow-interval-ms=100&pass-through=eth_call&evm-rpc=http://evil.example',
    });
    nodes.push(page.node);
    expect(page.node.config.config.sync.followIntervalMs).toBe(100);
    expect(page.node.config.config.passThrough).toEqual([]);
    expect(page.node.config.config.evmRpc).toEqual(config.evmRpc);
    expect(document.getElementById('log')!.textContent).toContain('?pass-through, ?evm-rpc ignored');
    const d = document.body.dataset;
    const info = await devnetInfo();
    await waitFor(
      async () =>
        d.head === String(info.head.number) &&
        d.finalized === String(info.finalized) &&
        d.phase === 'following' &&
        d.workers === '2' &&
        d.backfillDone === 'true',
      () => JSON.stringify({ ...d }),
    );
    // the default head-first start: history below the head backfilled to genesis (the devnet is shorter than a day)
    expect(d.historyFrom).toBe('0');
    expect(d.backfillTarget).toBe('0');
    expect(document.getElementById('history-line')!.textContent).toBe(
      'verified history from block 0 (backfill complete)',
    );
    expect(document.getElementById('finalized')!.textContent).toBe(String(info.finalized));
    expect(d.state).toBe('running');
    expect(d.headHash).toBe(info.head.hash);
    expect(document.getElementById('head')!.textContent).toBe(String(info.head.number));
    expect(document.getElementById('actors')!.querySelectorAll('tr').length).toBeGreaterThan(10);
    await page.stop();
    expect(d.state).toBe('stopped');
  });
});
