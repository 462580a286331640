/**
 * A fork switch is one atomic batch (issue 13, item 7), through the StorageActor's `append` with
 * `replaceFrom` as the ChainActor sends it, on a real LevelDB (a temp dir) and on the memory store:
 * a node syncs the devnet and stops; a branch replacing the last two blocks of its store (blocks
 * re-rooted and re-linked, a snapshot naming them) is stored with the process "dying" at each
 * write of the switch in turn (that batch and every later write fail). Reopened, the store always
 * loads as the old branch or the new one: never cut back to the fork point, never corrupt. Without
 * a crash the switch is one batch and leaves the new branch.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActorSystem } from '../../src/actors/index.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { StorageActor, type StorageMsg } from '../../src/node/actors/storage.js';
import { BlockStore, type AppendBlock } from '../../src/node/storage/block-store.js';
import type { KvStore } from '../../src/node/storage/kv.js';
import { createMemoryStore } from '../../src/node/storage/memory.js';
import { decodeMeta, type StoredMeta } from '../../src/node/storage/meta.js';
import { chainDataDir } from '../../src/platform/nodejs/platform.js';
import { openLevelStore } from '../../src/platform/nodejs/storage-level.js';
import { signingRoot } from '../../src/protocol/block.js';
import { toHex } from '../../src/protocol/bytes.js';
import type { ChainVerifierSnapshot } from '../../src/protocol/chain-verifier.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../src/protocol/codec/msgpack.js';
import { specFingerprint } from '../../src/protocol/spec-fingerprint.js';
import type { SignedConsensusBlock } from '../../src/protocol/types.js';
import { blockKey, copyStore } from '../storage/damage.js';
import { Cleanup, growChain, makeNode, startDevnet, tempDir, waitSynced } from './helpers.js';

const cleanup = new Cleanup();
let devnet: Devnet;
const TIP = 40;
const MODE = 'pow-checkpoint';
/** The synced store, its meta, and a branch replacing its last two blocks. */
let synced: KvStore;
let meta: StoredMeta;
let fork: { at: number; blocks: AppendBlock[]; snapshot: ChainVerifierSnapshot };

const identity = () => ({ chainId: devnet.spec.chainId, spec: specFingerprint(devnet.spec), mode: MODE });

beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'store-fork');
  await growChain(devnet, TIP, 6);
  const dataDir = await tempDir(cleanup);
  const n = makeNode(cleanup, devnet, { mode: MODE, storage: 'level', dataDir });
  await n.node.start();
  await waitSynced(n.node, devnet);
  await n.node.stop();
  synced = createMemoryStore();
  cleanup.add(() => synced.close());
  const kv = await openLevelStore(chainDataDir(dataDir, devnet.spec, MODE));
  await copyStore(kv, synced);
  await kv.close();
  meta = decodeMeta((await synced.get('meta'))!) as StoredMeta;
  fork = await branch(synced, meta, meta.head.number - 2);
}, 60_000);
afterAll(() => cleanup.run(), 60_000);

/**
 * Blocks at+1..head again, each with another payload hash (so another root), linked to the one
 * below; and the stored snapshot with its window naming them. The store checks links, roots and
 * the snapshot's names, not signatures: that is all a branch needs to be stored and loaded.
 */
async function branch(kv: KvStore, m: StoredMeta, at: number) {
  expect(at).toBeGreaterThanOrEqual(m.snapshot.finality.lastFinalized.blockNumber);
  expect(m.snapshot.finality.lastPow.blockNumber).toBeLessThanOrEqual(at);
  const snapshot = structuredClone(m.snapshot);
  const base = decoded(await kv.get(blockKey(at)));
  let parent = { root: toHex(signingRoot(base.message)), payload: base.message.executionPayload.blockHash };
  const blocks: AppendBlock[] = [];
  for (let n = at + 1; n <= m.head.number; n++) {
    const b = decoded(await kv.get(blockKey(n)));
    const payloadHash = toHex(sha256(new TextEncoder().encode(`fork ${n}`)));
    const signed: SignedConsensusBlock = {
      ...b,
      message: {
        ...b.message,
        parentHash: parent.root,
        executionPayload: { ...b.message.executionPayload, parentHash: parent.payload, blockHash: payloadHash },
      },
    };
    const root = toHex(signingRoot(signed.message));
    blocks.push({ number: n, hash: root, block: encodeSignedBlockMsgpack(signed) });
    for (const w of snapshot.window)
      if (w.block.number === n)
        Object.assign(w.block, { hash: root, parentHash: parent.root, payloadBlockHash: payloadHash });
    parent = { root, payload: payloadHash };
  }
  snapshot.head = structuredClone(snapshot.window.find((w) => w.block.number === m.head.number)!.block);
  return { at, blocks, snapshot };
}

const decoded = (record: Uint8Array | undefined) => decodeSignedBlockMsgpack(record!.subarray(64));

/** A store whose writes fail from the `dieAt`-th batch after `arm()` on (the process died there); reads go on. */
function dying(kv: KvStore, dieAt: number) {
  let armed = false;
  let batches = 0;
  const store: KvStore = {
    ...kv,
    batch: async (ops) => {
      if (armed && batches++ >= dieAt) throw new Error('the process died here');
      return kv.batch(ops);
    },
    close: async () => {},
  };
  return { store, arm: () => void (armed = true), batches: () => batches };
}

/** Run the fork switch through a StorageActor on `kv`, dying at batch `dieAt`; returns how many batches it wrote. */
async function switchFork(kv: KvStore, dieAt: number): Promise<number> {
  const d = dying(kv, dieAt);
  const sys = createActorSystem({
    name: 'fork-test',
    root: {
      strategy: 'one-for-one',
      children: [{ id: 'storage', actor: StorageActor, args: { open: async () => d.store, identity: identity() } }],
    },
  });
  await sys.start();
  try {
    const storage = sys.ref<typeof StorageActor>('/fork-test/storage');
    expect((await storage.ask({ type: 'load' })).kind).toBe('ok');
    d.arm();
    const msg: StorageMsg = { type: 'append', blocks: fork.blocks, snapshot: fork.snapshot, replaceFrom: fork.at };
    await storage.ask(msg).catch(() => undefined);
  } finally {
    await sys.shutdown();
  }
  return d.batches();
}

const backends: Array<{ name: string; fresh(): Promise<KvStore> }> = [
  {
    name: 'LevelDB',
    async fresh() {
      const kv = await openLevelStore(await tempDir(cleanup));
      cleanup.add(() => kv.close());
      return kv;
    },
  },
  {
    name: 'memory',
    async fresh() {
      const kv = createMemoryStore();
      cleanup.add(() => kv.close());
      return kv;
    },
  },
];

for (const backend of backends)
  describe(`a fork switch on ${backend.name}`, () => {
    it('is one batch, and a crash at any write of it leaves the old branch or the new one', async () => {
      const oldHead = meta.head.hash;
      const newHead = fork.blocks.at(-1)!.hash;
      for (let dieAt = 0; dieAt <= 2; dieAt++) {
        const kv = await backend.fresh();
        await copyStore(synced, kv);
        const batches = await switchFork(kv, dieAt);
        const loaded = await new BlockStore(kv, identity()).load();
        expect(loaded.kind, `died at write ${dieAt}`).toBe('ok');
        if (loaded.kind !== 'ok') continue;
        if (dieAt === 0) expect(loaded.meta.head.hash, 'died before the switch wrote anything').toBe(oldHead);
        else {
          // it lived: the whole switch was one write, and the store holds the new branch
          expect(batches, 'writes of the fork switch').toBe(1);
          expect(loaded.meta.head.hash).toBe(newHead);
          for (const b of fork.blocks)
            expect(toHex(signingRoot(decoded(await kv.get(blockKey(b.number))).message))).toBe(b.hash);
        }
      }
    });
  });
