/**
 * The store is bound to the chain spec, and a warm start re-checks what it loads (issue 12 points
 * 4 and 5), on a real LevelDB data dir and the devnet:
 *
 * - a store whose meta names another spec fingerprint is set aside (its directory renamed to
 *   `<dir>.other-spec-<fp8>`, still holding its chain), with a `storage` event naming both specs,
 *   and the node starts fresh and reaches the honest head, never reporting the stored blocks;
 * - a stored head whose aggregate signature was tampered (record checksum fixed up; the root and
 *   digests do not cover the signature) is caught by the warm start's BLS check: `corrupt`, a cold
 *   start, never a warm start;
 * - a broken hash link in the recent window (a block's parent hash changed, its root, checksum, hash
 *   index and every digest above it fixed up) is caught likewise.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import { BlockStore, type StoredMeta } from '../../src/node/storage/block-store.js';
import { decodeMeta, encodeMeta } from '../../src/node/storage/meta.js';
import type { KvStore } from '../../src/node/storage/kv.js';
import { chainDataDir } from '../../src/platform/nodejs/platform.js';
import { openLevelStore } from '../../src/platform/nodejs/storage-level.js';
import { signingRoot } from '../../src/protocol/block.js';
import { concatBytes, toHex } from '../../src/protocol/bytes.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../src/protocol/codec/msgpack.js';
import { shortSpecFingerprint, specFingerprint } from '../../src/protocol/spec-fingerprint.js';
import type { SignedConsensusBlock } from '../../src/protocol/types.js';
import { Cleanup, growChain, makeNode, startDevnet, tempDir, waitSynced } from './helpers.js';

const cleanup = new Cleanup();
let devnet: Devnet;
const TIP = 25;
const MODE = 'pow-checkpoint';

beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'store-spec');
  await growChain(devnet, TIP, 10);
}, 60_000);
afterAll(() => cleanup.run(), 60_000);

/** A data dir holding the devnet chain to TIP, synced by a node that then stopped. */
async function syncedDataDir(): Promise<string> {
  const dataDir = await tempDir(cleanup);
  const n = makeNode(cleanup, devnet, { mode: MODE, storage: 'level', dataDir });
  await n.node.start();
  await waitSynced(n.node, devnet);
  await n.node.stop();
  return dataDir;
}

/** Open the chain's LevelDB directly (the node is stopped), run `fn`, close it. */
async function withStore<T>(dataDir: string, fn: (kv: KvStore) => Promise<T>): Promise<T> {
  const kv = await openLevelStore(chainDataDir(dataDir, devnet.spec, MODE));
  try {
    return await fn(kv);
  } finally {
    await kv.close();
  }
}

const blockKey = (n: number) => `b/${String(n).padStart(12, '0')}`;
const readMeta = async (kv: KvStore) => decodeMeta((await kv.get('meta'))!) as StoredMeta;
const writeMeta = (kv: KvStore, meta: StoredMeta) => kv.batch([{ type: 'put', key: 'meta', value: encodeMeta(meta) }]);

/** A block record as the store writes it: checksum, root, msgpack block. */
function record(root: Uint8Array, block: SignedConsensusBlock): Uint8Array {
  const rest = concatBytes(root, encodeSignedBlockMsgpack(block));
  return concatBytes(sha256(rest), rest);
}
const parts = (bytes: Uint8Array): { root: Uint8Array; block: SignedConsensusBlock } => ({
  root: bytes.slice(32, 64),
  block: decodeSignedBlockMsgpack(bytes.subarray(64)),
});

/** A second start on the data dir: its storage events and first reported head. */
async function restart(dataDir: string) {
  const n = makeNode(cleanup, devnet, { mode: MODE, storage: 'level', dataDir });
  await n.node.start();
  await waitSynced(n.node, devnet);
  const status = await n.node.status();
  await n.node.stop();
  return { events: n.events, status };
}

describe('the store is bound to the chain spec', () => {
  it('a store whose meta names another spec is set aside (renamed, intact) and the node starts fresh', async () => {
    const dataDir = await syncedDataDir();
    const dir = chainDataDir(dataDir, devnet.spec, MODE);
    const otherSpec = toHex(sha256(new TextEncoder().encode('another spec')));
    await withStore(dataDir, async (kv) => writeMeta(kv, { ...(await readMeta(kv)), spec: otherSpec }));

    const { events, status } = await restart(dataDir);
    expect(events.storage.map((e) => e.kind)).toEqual(['other-spec', 'cold-start']);
    const aside = `${dir}.other-spec-${shortSpecFingerprint(otherSpec)}`;
    const detail = events.storage[0]!.detail;
    expect(detail).toContain(`spec ${shortSpecFingerprint(otherSpec)}`);
    expect(detail).toContain(`spec ${shortSpecFingerprint(specFingerprint(devnet.spec))}`);
    expect(detail).toContain(aside);
    // the fresh start verified everything itself: the first head it reported came from the sync
    expect(events.head[0]!.number).toBeLessThan(TIP);
    expect(status.head!.number).toBe(TIP);
    expect(status.sources.every((s) => s.score === 100 && s.faults === 0)).toBe(true);
    // the store set aside still holds its chain, under the other spec
    const names = await readdir(dataDir);
    expect(names).toContain(aside.slice(dataDir.length + 1));
    const kv = await openLevelStore(aside);
    try {
      const loaded = await new BlockStore(kv, { chainId: devnet.spec.chainId, spec: otherSpec, mode: MODE }).load();
      expect(loaded).toMatchObject({ kind: 'ok', meta: { head: { number: TIP } } });
    } finally {
      await kv.close();
    }
  });
});

describe('a warm start re-checks what it loads', () => {
  it('a stored head whose approvals were tampered is caught at start (corrupt, cold start)', async () => {
    const dataDir = await syncedDataDir();
    await withStore(dataDir, async (kv) => {
      const head = (await readMeta(kv)).head.number;
      const { root, block } = parts((await kv.get(blockKey(head)))!);
      const sig = block.signature.aggregateSignature;
      // another valid-looking aggregate: the signature of block 1 (a G2 point, wrong message)
      const other = parts((await kv.get(blockKey(1)))!).block.signature.aggregateSignature;
      expect(other).not.toBe(sig);
      const tampered = { ...block, signature: { ...block.signature, aggregateSignature: other } };
      expect(toHex(signingRoot(tampered.message))).toBe(toHex(root)); // the root does not cover it
      await kv.batch([{ type: 'put', key: blockKey(head), value: record(root, tampered) }]);
      // the store's own checks pass: only the approval check can catch it
      const loaded = await new BlockStore(kv, {
        chainId: devnet.spec.chainId,
        spec: specFingerprint(devnet.spec),
        mode: MODE,
      }).load();
      expect(loaded.kind).toBe('ok');
    });
    const { events, status } = await restart(dataDir);
    expect(events.storage.map((e) => e.kind)).toEqual(['corrupt', 'cold-start']);
    expect(events.storage[0]!.detail).toMatch(/stored head 25 fails its approval check/);
    expect(events.head[0]!.number).toBeLessThan(TIP);
    expect(status.head!.number).toBe(TIP);
  });

  it('a broken hash link in the recent window is caught at start (corrupt, cold start)', async () => {
    const dataDir = await syncedDataDir();
    await withStore(dataDir, async (kv) => {
      const meta = await readMeta(kv);
      const from = meta.snapshot.finality.lastFinalized.blockNumber;
      const k = from + 1;
      expect(k).toBeLessThan(meta.head.number);
      // block k gets another parent; its root, checksum and hash index are fixed up
      const recs = await Promise.all(
        Array.from({ length: meta.head.number - k + 2 }, async (_, i) => parts((await kv.get(blockKey(k - 1 + i)))!)),
      );
      const bad = recs[1]!.block;
      bad.message.parentHash = toHex(sha256(new TextEncoder().encode('elsewhere')));
      recs[1]!.root = signingRoot(bad.message);
      const ops = [];
      for (let i = 1; i < recs.length; i++) {
        ops.push({
          type: 'put' as const,
          key: blockKey(k - 1 + i),
          value: record(recs[i]!.root, recs[i]!.block),
        });
      }
      ops.push({
        type: 'put' as const,
        key: `h/${toHex(recs[1]!.root).slice(2)}`,
        value: new TextEncoder().encode(String(k)),
      });
      await kv.batch(ops);
      await writeMeta(kv, meta);
    });
    const { events, status } = await restart(dataDir);
    expect(events.storage.map((e) => e.kind)).toEqual(['corrupt', 'cold-start']);
    expect(events.storage[0]!.detail).toMatch(/does not link to block|is not the block the snapshot expects/);
    expect(status.head!.number).toBe(TIP);
  });
});
