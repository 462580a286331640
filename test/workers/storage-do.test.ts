/**
 * The KvStore conformance suite (test/storage/conformance.ts) against the Durable Object store
 * (src/platform/workerd/storage-do.ts) inside workerd: each store is a fresh object of the edge
 * Worker's SQLite-backed class (`ALYS_NODE`). workerd lets an object's storage be used only from that
 * object's own requests, so every call runs inside it (`runInDurableObject`) on the store opened there,
 * behind the same guard as every backend (`guardKvBackend`, which the tests' close/argument checks
 * reach first); a reopen opens the same object's table again.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { guardKvBackend, type KvBackend } from '../../src/node/storage/guard.js';
import type { KvStore } from '../../src/node/storage/kv.js';
import { openDurableObjectStore, VALUE_PART_BYTES } from '../../src/platform/workerd/storage-do.js';
import { runKvConformance } from '../storage/conformance.js';

let count = 0;
const objects = new WeakMap<KvStore, string>();

/** The store of object `name`, every call made inside the object. */
async function openIn(name: string): Promise<KvStore> {
  const stub = env.ALYS_NODE.get(env.ALYS_NODE.idFromName(name));
  const inside = <T>(call: (store: KvStore) => Promise<T>) =>
    runInDurableObject(stub, (_, state) => call(openDurableObjectStore(state.storage)));
  await inside(async () => {});
  const backend: KvBackend = {
    get: (key) => inside((s) => s.get(key)),
    getMany: (keys) => inside((s) => s.getMany(keys)),
    batch: (ops) => inside((s) => s.batch(ops)),
    keys: (prefix, limit) => inside((s) => s.keys(prefix, limit)),
    clear: () => inside((s) => s.clear()),
    close: async () => {},
  };
  const store = guardKvBackend('durable-object', backend);
  objects.set(store, name);
  return store;
}

runKvConformance(
  'durable-object',
  () => openIn(`kv-conformance-${++count}`),
  (closed) => openIn(objects.get(closed)!),
  { numRuns: 25, perf: false },
);

describe('Durable Object store specifics', () => {
  it('a value over several parts round trips, and a smaller put replaces every part', async () => {
    const store = await openIn('kv-parts');
    const big = new Uint8Array(VALUE_PART_BYTES * 2 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    await store.batch([{ type: 'put', key: 'big', value: big }]);
    const back = await store.get('big');
    expect(back?.length).toBe(big.length);
    expect(back!.every((b, i) => b === big[i])).toBe(true);
    await store.batch([{ type: 'put', key: 'big', value: new Uint8Array([1]) }]);
    expect(await store.get('big')).toEqual(new Uint8Array([1]));
    expect(await store.keys('')).toEqual(['big']);
    await store.close();
  });

  it('refuses a table name that is not a SQL identifier', async () => {
    const stub = env.ALYS_NODE.get(env.ALYS_NODE.idFromName('kv-names'));
    const message = await runInDurableObject(stub, (_, state) => {
      try {
        openDurableObjectStore(state.storage, 'x; DROP TABLE y');
        return 'opened';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toMatch(/^TypeError: .*SQL identifier/);
  });
});
