/**
 * A damaged store never takes the node down nor makes it lie (issue 13, items 6 and 8), on LevelDB
 * (a temp dir) and on the memory store, against the devnet: a node syncs the devnet chain and stops;
 * a copy of its store gets one damage of test/storage/damage.ts (flipped bytes, malformed JSON or
 * wrong types in the metadata, flipped bytes in a block record inside and below the recent window,
 * records missing, a record of another height); then a node starts on it. Each time:
 *
 * - it never crashes on load: no actor restarts and no `health` event (no restart loop);
 * - it never reports an unverified block: every head/finalized event is the devnet's, and every
 *   block the StorageActor serves - read 0..head as a peer's blocks_by_range or a provider read
 *   would - is the devnet's block or "not available";
 * - a damaged meta or window is `corrupt` then a cold start; a damaged block of the older history is
 *   a warm start, the block is not served (a `damaged` event, once) and the history starts above it;
 * - it reaches the devnet head again, and the store it leaves warm-starts cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import type { KvStore } from '../../src/node/storage/kv.js';
import { createMemoryStore } from '../../src/node/storage/memory.js';
import { otherSpecTag, type StoredHistory } from '../../src/node/actors/storage.js';
import { BlockStore } from '../../src/node/storage/block-store.js';
import { decodeMeta } from '../../src/node/storage/meta.js';
import { specFingerprint } from '../../src/protocol/spec-fingerprint.js';
import type { CreateLightNodeOptions } from '../../src/index.nodejs.js';
import { chainDataDir } from '../../src/platform/nodejs/platform.js';
import { openLevelStore } from '../../src/platform/nodejs/storage-level.js';
import { copyStore, DAMAGE_CASES, readShape, type DamageCase } from '../storage/damage.js';
import {
  actorStates,
  Cleanup,
  eventProblems,
  growChain,
  honestHash,
  makeNode,
  startDevnet,
  storedHashes,
  tempDir,
  waitFor,
  waitSynced,
  type TestNode,
} from './helpers.js';

const cleanup = new Cleanup();
let devnet: Devnet;
const TIP = 40;
const MODE = 'pow-checkpoint';

beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'store-damage');
  await growChain(devnet, TIP, 6);
}, 60_000);
afterAll(() => cleanup.run(), 60_000);

/** How a backend is opened: the node options that use a store, and raw access to it while no node runs. */
interface Backend {
  name: string;
  /** A fresh, empty store: node options for it, and raw access between runs. */
  fresh(): Promise<{ options: CreateLightNodeOptions; withKv<T>(fn: (kv: KvStore) => Promise<T>): Promise<T> }>;
}

const level: Backend = {
  name: 'LevelDB',
  async fresh() {
    const dataDir = await tempDir(cleanup);
    return {
      options: { storage: 'level', dataDir },
      async withKv(fn) {
        const kv = await openLevelStore(chainDataDir(dataDir, devnet.spec, MODE));
        try {
          return await fn(kv);
        } finally {
          await kv.close();
        }
      },
    };
  },
};

const memory: Backend = {
  name: 'memory',
  async fresh() {
    // one memory store that outlives the nodes started on it (a node's stop() closes what it opened)
    const kv = createMemoryStore();
    cleanup.add(() => kv.close());
    return {
      options: { storage: 'memory', platform: { openStore: async () => ({ ...kv, close: async () => {} }) } },
      withKv: (fn) => fn(kv),
    };
  },
};

/** Read every block 0..TIP from the StorageActor as a peer or a provider would, then its stored range. */
async function readAll(n: TestNode) {
  const hashes = await storedHashes(n.node, TIP);
  const history = (await n.node.system!.ref('/alys/storage/storage').ask({ type: 'history' } as never, {
    timeoutMs: 10_000,
  })) as StoredHistory | undefined;
  return { hashes, history };
}

function crashes(n: TestNode): unknown[] {
  return [...n.events.health, ...actorStates(n.node).filter((a) => a.state !== 'Running' || a.restarts !== 0)];
}

for (const backend of [level, memory]) {
  describe(`a damaged store on ${backend.name}`, () => {
    let synced: Awaited<ReturnType<Backend['fresh']>>;

    beforeAll(async () => {
      synced = await backend.fresh();
      const n = makeNode(cleanup, devnet, { mode: MODE, ...synced.options });
      await n.node.start();
      await waitSynced(n.node, devnet);
      await n.node.stop();
    }, 60_000);

    /** A copy of the synced store with `damage` done to it; returns the copy and where the damage went. */
    async function damaged(damage: DamageCase) {
      const copy = await backend.fresh();
      const shape = await synced.withKv((from) => copy.withKv((to) => copyStore(from, to).then(() => readShape(to))));
      expect(shape.lastFinalized).toBeGreaterThan(shape.old + 3);
      expect(shape.head).toBeGreaterThan(shape.lastFinalized);
      await copy.withKv((kv) => damage.apply(kv, shape));
      return { copy, shape };
    }

    for (const damage of DAMAGE_CASES)
      it(`${damage.name}: ${damage.expect === 'cold' ? 'corrupt, cold start' : 'warm start, the block not served'}`, async () => {
        const { copy, shape } = await damaged(damage);
        const n = makeNode(cleanup, devnet, { mode: MODE, ...copy.options });
        await n.node.start();
        await waitSynced(n.node, devnet);
        const { hashes, history } = await readAll(n);
        // events reach listeners through the StreamActor: let a `damaged` one arrive before the stop
        if (damage.expect === 'warm')
          await waitFor(
            () => n.events.storage.some((e) => e.kind === 'damaged'),
            () => `a damaged event: ${JSON.stringify(n.events.storage)} ${JSON.stringify(hashes)}`,
          );
        const crashed = crashes(n);
        await n.node.stop();

        expect(crashed).toEqual([]);
        expect(eventProblems(n.events, devnet)).toEqual([]);
        // every block served is the devnet's, or none
        expect(hashes.filter((h, i) => h !== null && h !== honestHash(devnet, i))).toEqual([]);
        const kinds = n.events.storage.map((e) => e.kind);
        if (damage.expect === 'cold') {
          expect(kinds).toEqual(['corrupt', 'cold-start']);
          expect(hashes).toEqual(Array.from({ length: TIP + 1 }, (_, i) => honestHash(devnet, i)));
        } else {
          const at = damage.damagedAt!(shape);
          expect(kinds.filter((k) => k !== 'damaged')).toEqual(['warm-start']);
          const reports = n.events.storage.filter((e) => e.kind === 'damaged').map((e) => e.detail);
          expect(reports.length).toBeGreaterThan(0);
          expect(new Set(reports).size).toBe(reports.length);
          // the history starts above the damage (or the backfill fetched it again)
          expect(history!.from).toBeLessThanOrEqual(at + 1);
          // the intact blocks above it are served
          expect(hashes.slice(at + 1)).toEqual(
            Array.from({ length: TIP - at }, (_, i) => honestHash(devnet, at + 1 + i)),
          );
        }

        // the store it left resumes cleanly
        const again = makeNode(cleanup, devnet, { mode: MODE, ...copy.options });
        await again.node.start();
        await waitSynced(again.node, devnet);
        const crashedAgain = crashes(again);
        await again.node.stop();
        expect(again.events.storage.map((e) => e.kind)).toEqual(['warm-start']);
        expect(crashedAgain).toEqual([]);
      });
  });
}

describe('the metadata format', () => {
  it('a store of format 3 (a meta without checksum) is set aside as an older format, not read as a chain', async () => {
    const { options, withKv } = await memory.fresh();
    const n = makeNode(cleanup, devnet, { mode: MODE, ...options });
    await n.node.start();
    await waitSynced(n.node, devnet);
    await n.node.stop();
    await withKv(async (kv) => {
      const meta = decodeMeta((await kv.get('meta'))!);
      const old = new TextEncoder().encode(JSON.stringify({ ...meta, format: 3 }));
      await kv.batch([{ type: 'put', key: 'meta', value: old }]);
      const identity = { chainId: devnet.spec.chainId, spec: specFingerprint(devnet.spec), mode: MODE };
      const loaded = await new BlockStore(kv, identity).load();
      expect(loaded).toEqual({
        kind: 'other-spec',
        stored: { chainId: devnet.spec.chainId, spec: null, mode: MODE, format: 3 },
      });
      if (loaded.kind === 'other-spec') expect(otherSpecTag(loaded.stored)).toBe(`v3-chain-${devnet.spec.chainId}`);
    });
  });
});
