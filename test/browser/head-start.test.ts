/**
 * The head-first cold start in real Chromium (verifiers in module Web Workers, blocks in IndexedDB)
 * on the persisted 20,000-block devnet that test/setup/browser-big-chain.ts serves in the Node
 * process behind a consensus RPC proxy that counts, and can hold, the blocks it serves:
 *
 * - with the proxy serving one block and holding the rest, the node reports the verified head (the
 *   chain's head); with it serving at most about two PoW intervals of blocks, the node reaches the
 *   manifest's finalized block; then the backfill stores the 2,000 blocks below the head;
 * - a second node on the same database warm-starts and keeps that history.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLightNode, type LightNode, type NodeEvents } from '../../src/index.js';
import { parseChainSpec } from '../../src/protocol/chainspec.js';
import { deleteIdbDatabase } from '../storage/conformance.js';
import { control, newRun, waitFor } from './helpers.js';

const chain = inject('bigChain');
const spec = parseChainSpec(chain.chainSpec);
const HISTORY = 2_000;
const run = newRun();
/** This file's waits: 20 s, every 50 ms, a probe's error ends the wait. */
const WAIT = { timeoutMs: 20_000, intervalMs: 50, ignoreErrors: false };
const databaseName = `alys-light-test-${run}-head-start`;
const nodes: LightNode[] = [];

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => {});
  await deleteIdbDatabase(databaseName);
  await control('/reset', {});
});

type Logged = 'head' | 'finalized' | 'storage' | 'backfill';

function makeNode(): { node: LightNode; events: { [K in Logged]: NodeEvents[K][] } } {
  const node = createLightNode({
    chainSpec: spec,
    rpc: [chain.consensus],
    evmRpc: [chain.evm],
    storage: 'indexeddb',
    databaseName,
    verifierWorkers: 2,
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
  });
  nodes.push(node);
  const events = { head: [], finalized: [], storage: [], backfill: [] } as { [K in Logged]: NodeEvents[K][] };
  for (const name of ['head', 'finalized', 'storage', 'backfill'] as const)
    node.on(name, (e) => (events[name] as unknown[]).push(e));
  return { node, events };
}

interface Count {
  served: number;
  held: number;
  calls: Array<{ method: string; params: unknown }>;
}

describe('head-first start in Chromium (Web Workers + IndexedDB), 20,000 blocks', { timeout: 60_000 }, () => {
  const target = chain.head.number - HISTORY;
  /** Blocks the finality walk may need with the head: two PoW intervals and the walk's range overshoot. */
  const bound = 2 * (chain.powGap + 1) + 4;

  it('reports the head after one block, the finalized block within two PoW intervals, then backfills 2,000 blocks', async () => {
    await control('/reset', {});
    await control('/limit', { blocks: 1 });
    const { node, events } = makeNode();
    let atHead: Count | undefined;
    node.on('head', () => {
      if (atHead) return;
      // the proxy has served one block and holds the rest: read what it served, then let the walk go on
      void control<Count>('/count').then(async (c) => {
        atHead = c;
        await control('/limit', { blocks: bound });
      });
    });
    const started = node.start();
    await waitFor(
      () => atHead,
      async () => `the head event (proxy: ${JSON.stringify(await control('/count'))})`,
      WAIT,
    );
    expect(atHead!.served).toBe(1);
    expect(atHead!.calls).toEqual([{ method: 'getheadblock', params: [] }]);
    expect(events.head[0]).toMatchObject({ number: chain.head.number, hash: chain.head.hash });

    // the walk down to the latest PoW block's range_start fits in `bound` blocks, or the node waits here
    await waitFor(
      () => events.finalized[0],
      async () =>
        `the finalized event with at most ${bound} blocks served (proxy: ${JSON.stringify(await control('/count'))})`,
      WAIT,
    );
    await started;
    expect(events.finalized[0]!.number).toBe(chain.finalized);
    const s = await node.status();
    expect(s.head).toMatchObject({ number: chain.head.number, hash: chain.head.hash });
    expect(s.finalized).toBe(chain.finalized);
    expect(s.historyFrom).toBeGreaterThan(chain.head.number - bound);
    expect(events.storage.map((e) => e.kind)).toEqual(['cold-start']);
    // the walk asked for each block from the stored history's start to the head's parent once
    const walked = (await control<Count>('/count')).calls
      .filter((c) => c.method === 'getblockbyheight')
      .filter((c) => (c.params as number) >= s.historyFrom! && (c.params as number) < chain.head.number)
      .map((c) => c.params as number)
      .sort((a, b) => a - b);
    expect(walked).toEqual(Array.from({ length: chain.head.number - s.historyFrom! }, (_, i) => s.historyFrom! + i));

    // the backfill: hash links down to head - 2,000
    await control('/limit', { blocks: null });
    const done = await waitFor(
      () => events.backfill.find((e) => e.done),
      async () =>
        `the backfill done: ${JSON.stringify(events.backfill.at(-1))}, status ${(await node.status()).historyFrom}`,
      { ...WAIT, timeoutMs: 45_000 },
    );
    expect(done).toMatchObject({ from: target, target, done: true });
    expect((await node.status()).historyFrom).toBe(target);
    const heights = (await control<Count>('/count')).calls
      .filter((c) => c.method === 'getblockbyheight')
      .map((c) => c.params as number);
    expect(Math.min(...heights)).toBe(target);
    await node.stop();
  });

  it('a second node on the same database warm-starts with its history kept', async () => {
    await control('/reset', {});
    const { node, events } = makeNode();
    await node.start();
    expect(events.storage.map((e) => e.kind)).toEqual(['warm-start']);
    expect(events.storage[0]).toMatchObject({ head: chain.head.number });
    const s = await node.status();
    expect(s.head).toMatchObject({ number: chain.head.number, hash: chain.head.hash });
    expect(s.finalized).toBe(chain.finalized);
    expect(s.historyFrom).toBe(target);
    // nothing below the stored head is downloaded again
    const below = (await control<Count>('/count')).calls.filter(
      (c) => c.method === 'getblockbyheight' && (c.params as number) <= chain.head.number,
    );
    expect(below).toEqual([]);
    await node.stop();
  });
});
