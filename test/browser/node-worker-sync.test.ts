/**
 * The node worker on the persisted 20,000-block devnet of test/setup/browser-big-chain.ts (behind its
 * counting consensus RPC proxy), in real Chromium:
 *
 * - during a sync of 2,000 blocks (the head-first start, then the backfill of the 2,000 blocks below
 *   the head) no main-thread task of the page takes longer than 50 ms (PerformanceObserver
 *   `longtask`): the node's work is in the worker;
 * - a second tab on the same database joins that node: the proxy serves it no block (one sync, not two).
 *
 * Runs alone against the proxy (its counts are global): head-start.test.ts resets them too.
 */
import { describe, expect, inject, it } from 'vitest';
import { createLightNode, type NodeEvents, type WorkerLightNode } from '../../src/index.js';
import { parseChainSpec } from '../../src/protocol/chainspec.js';
import { cleanUpAfterAll, control, newRun, waitFor } from './helpers.js';

const chain = inject('bigChain');
const spec = parseChainSpec(chain.chainSpec);
const HISTORY = 2_000;
const run = newRun();
const databaseName = `alys-light-test-${run}-node-worker-sync`;
const nodes: WorkerLightNode[] = [];

cleanUpAfterAll(nodes, [databaseName]);

function makeNode() {
  const node = createLightNode({
    chainSpec: spec,
    rpc: [chain.consensus],
    evmRpc: [chain.evm],
    storage: 'indexeddb',
    databaseName,
    logLevel: 'silent',
    sync: {
      start: 'head',
      history: HISTORY,
      requestTimeoutMs: 15_000,
      retries: 5,
      backoffInitialMs: 50,
      backoffMaxMs: 500,
      followIntervalMs: 500,
    },
  }) as WorkerLightNode;
  nodes.push(node);
  const events = { storage: [], backfill: [] } as {
    storage: NodeEvents['storage'][];
    backfill: NodeEvents['backfill'][];
  };
  node.on('storage', (e) => events.storage.push(e));
  node.on('backfill', (e) => events.backfill.push(e));
  return { node, events };
}

interface Count {
  served: number;
  calls: Array<{ method: string; params: unknown }>;
}

describe('the node worker on a 20,000-block chain (Chromium)', { timeout: 60_000 }, () => {
  it('a 2,000-block sync leaves the main thread free; a second tab joins the node without a second sync', async () => {
    await control('/reset', {});
    const longTasks: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(e.duration);
    });
    observer.observe({ type: 'longtask', buffered: false });

    const a = makeNode();
    await a.node.start();
    const done = await waitFor(
      () => a.events.backfill.find((e) => e.done),
      async () => `the backfill done: ${JSON.stringify(a.events.backfill.at(-1))}`,
      { timeoutMs: 40_000, intervalMs: 50, ignoreErrors: false },
    );
    expect(done).toMatchObject({ from: chain.head.number - HISTORY, done: true });
    const s = await a.node.status();
    expect(s.head).toMatchObject({ number: chain.head.number, hash: chain.head.hash });
    expect(s.worker?.scope).toBe('SharedWorkerGlobalScope');
    const served = await control<Count>('/count');
    expect(served.served).toBeGreaterThan(HISTORY);
    // PerformanceObserver delivers in a later task: let it
    await new Promise((r) => setTimeout(r, 100));
    observer.disconnect();
    expect(longTasks.filter((ms) => ms > 50)).toEqual([]);

    const b = makeNode();
    await b.node.start();
    const sb = await b.node.status();
    expect(sb.head).toMatchObject({ number: chain.head.number, hash: chain.head.hash });
    expect(sb.historyFrom).toBe(chain.head.number - HISTORY);
    expect(b.events.storage).toEqual([]);
    // a second node would start from the store: the head again, its parents and approvals by height
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await control<Count>('/count');
    const blocksSince = after.calls.slice(served.calls.length).filter((c) => c.method !== 'getheadblock');
    expect(blocksSince).toEqual([]);
  });
});
