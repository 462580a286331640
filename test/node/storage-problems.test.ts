/**
 * The suites' "storage holds exactly the honest chain, nothing above the head" check (storageProblems in
 * ./helpers.ts) can fail: a record above the head, invisible through the StorageActor's `block` query,
 * is found on the raw store, as is a stray hash index entry. A synced node's store passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import {
  Cleanup,
  growChain,
  nodeStore,
  startDevnet,
  startNode,
  storageProblems,
  storedHashes,
  waitSynced,
} from './helpers.js';

const cleanup = new Cleanup();
let devnet: Devnet;
afterAll(() => cleanup.run(), 30_000);
beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'storage-problems');
  await growChain(devnet, 6, 5);
}, 30_000);

describe('storageProblems reads the raw store', () => {
  it('passes a synced store, then reports a block record and a hash index entry above the head', async () => {
    const { node } = await startNode(cleanup, devnet);
    await waitSynced(node, devnet);
    const head = devnet.chain.height;
    expect(await storageProblems(node, devnet, head)).toEqual([]);

    const kv = nodeStore(node)!;
    const top = (await kv.keys('b/')).at(-1)!;
    expect(top).toBe(`b/${String(head).padStart(12, '0')}`);
    const strayKey = `b/${String(head + 1).padStart(12, '0')}`;
    await kv.batch([{ type: 'put', key: strayKey, value: (await kv.get(top))! }]);
    // the StorageActor's query does not show it...
    expect((await storedHashes(node, head + 1)).at(-1)).toBeNull();
    // ...the check does
    expect(await storageProblems(node, devnet, head)).toEqual([
      `a block record at ${head + 1} (head ${head}) is stored`,
      `${head + 2} block records stored for heights 0..${head}`,
    ]);

    await kv.batch([
      { type: 'del', key: strayKey },
      { type: 'put', key: `h/${'ab'.repeat(32)}`, value: new TextEncoder().encode(String(head + 1)) },
    ]);
    expect(await storageProblems(node, devnet, head)).toEqual([
      `hash index entry h/${'ab'.repeat(32)} names block ${head + 1} (head ${head})`,
      `${head + 2} hash index entries stored for heights 0..${head}`,
    ]);
  });
});
