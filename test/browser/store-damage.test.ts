/**
 * A damaged store on real IndexedDB in Chromium (issue 13, item 8; test/node/store-damage.test.ts
 * runs the same cases on LevelDB and memory): a node syncs the browser devnet into a database and
 * stops; a copy of that database gets one damage of test/storage/damage.ts; a node starts on it.
 * It must not crash (no `health` event, no actor restarts), must report and serve only the blocks
 * the first node verified (or "not available"), must treat the damage as the case says (`corrupt`
 * and a cold start, or a warm start with the block not served and a `damaged` event), and must
 * reach the devnet head again.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLightNode, type LightNode, type NodeEvents } from '../../src/index.js';
import { BlockStore } from '../../src/node/storage/block-store.js';
import type { KvStore } from '../../src/node/storage/kv.js';
import { openIdbStore } from '../../src/platform/browser/storage-idb.js';
import { signingRoot } from '../../src/protocol/block.js';
import { toHex } from '../../src/protocol/bytes.js';
import { parseChainSpec } from '../../src/protocol/chainspec.js';
import { specFingerprint } from '../../src/protocol/spec-fingerprint.js';
import type { SignedConsensusBlock } from '../../src/protocol/types.js';
import { deleteIdbDatabase } from '../storage/conformance.js';
import { copyStore, DAMAGE_CASES, readShape } from '../storage/damage.js';
import { devnetHead, GENESIS_SYNC, newRun, waitFor } from './helpers.js';

const devnet = inject('devnet');
const spec = parseChainSpec(devnet.chainSpec);
const MODE = 'pow-checkpoint';
const run = newRun();
const databases: string[] = [];
let count = 0;

afterAll(async () => {
  for (const name of databases) await deleteIdbDatabase(name);
});

function database(): string {
  const name = `alys-light-test-${run}-damage-${++count}`;
  databases.push(name);
  return name;
}

type Logged = 'head' | 'storage' | 'health';

function makeNode(databaseName: string) {
  const node = createLightNode({
    chainSpec: spec,
    rpc: [devnet.consensus],
    evmRpc: [devnet.evm],
    mode: MODE,
    storage: 'indexeddb',
    databaseName,
    verifierWorkers: 0,
    logLevel: 'silent',
    sync: GENESIS_SYNC,
    placement: 'page', // these cases read the in-page actor system (node.system)
  });
  const events = { head: [], storage: [], health: [] } as { [K in Logged]: NodeEvents[K][] };
  for (const name of ['head', 'storage', 'health'] as const) node.on(name, (e) => (events[name] as unknown[]).push(e));
  return { node, events };
}

async function waitSynced(node: LightNode): Promise<void> {
  await waitFor(
    async () => {
      const [s, d] = await Promise.all([node.status(), devnetHead()]);
      return s.head?.number === d.number && s.head.hash === d.hash;
    },
    () => 'the devnet head',
  );
}

async function withDb<T>(name: string, fn: (kv: KvStore) => Promise<T>): Promise<T> {
  const kv = await openIdbStore(name);
  try {
    return await fn(kv);
  } finally {
    await kv.close();
  }
}

/** Hashes of the blocks 0..upTo the StorageActor serves (null: not available). */
async function served(node: LightNode, upTo: number): Promise<Array<string | null>> {
  const storage = node.system!.ref('/alys/storage/storage');
  const out: Array<string | null> = [];
  for (let n = 0; n <= upTo; n++) {
    const b = (await storage.ask({ type: 'block', number: n } as never, { timeoutMs: 10_000 })) as
      | SignedConsensusBlock
      | undefined;
    out.push(b ? toHex(signingRoot(b.message)) : null);
  }
  return out;
}

const restarted = (node: LightNode) => node.system!.registry.list().filter((a) => a.restarts !== 0);

describe('a damaged IndexedDB store', () => {
  const golden = database();
  /** The hashes the first node verified, by number. */
  let honest: string[] = [];

  beforeAll(async () => {
    const { node } = makeNode(golden);
    await node.start();
    await waitSynced(node);
    await node.stop();
    honest = await withDb(golden, async (kv) => {
      const store = new BlockStore(kv, { chainId: spec.chainId, spec: specFingerprint(spec), mode: MODE });
      const loaded = await store.load();
      if (loaded.kind !== 'ok') throw new Error(`the synced store loads as ${loaded.kind}`);
      const out: string[] = [];
      for (let n = 0; n <= loaded.meta.head.number; n++) out.push(toHex(signingRoot((await store.block(n))!.message)));
      return out;
    });
  }, 60_000);

  for (const damage of DAMAGE_CASES)
    it(`${damage.name}: ${damage.expect === 'cold' ? 'corrupt, cold start' : 'warm start, the block not served'}`, async () => {
      const name = database();
      const shape = await withDb(golden, (from) =>
        withDb(name, async (to) => {
          await copyStore(from, to);
          const s = await readShape(to);
          await damage.apply(to, s);
          return s;
        }),
      );
      const { node, events } = makeNode(name);
      await node.start();
      try {
        await waitSynced(node);
        const hashes = await served(node, honest.length - 1);
        if (damage.expect === 'warm')
          await waitFor(
            async () => events.storage.some((e) => e.kind === 'damaged'),
            () => `a damaged event: ${JSON.stringify(events.storage)}`,
          );
        expect(events.health).toEqual([]);
        expect(restarted(node)).toEqual([]);
        // only blocks the first node verified are reported or served
        expect(events.head.filter((h) => h.number < honest.length && h.hash !== honest[h.number])).toEqual([]);
        expect(hashes.filter((h, i) => h !== null && h !== honest[i])).toEqual([]);
        const kinds = events.storage.map((e) => e.kind);
        if (damage.expect === 'cold') {
          expect(kinds).toEqual(['corrupt', 'cold-start']);
          expect(hashes).toEqual(honest);
        } else {
          expect(kinds.filter((k) => k !== 'damaged')).toEqual(['warm-start']);
          const at = damage.damagedAt!(shape);
          expect(hashes.slice(at + 1)).toEqual(honest.slice(at + 1));
        }
      } finally {
        await node.stop();
      }
    });
});
