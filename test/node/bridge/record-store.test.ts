/**
 * The peg tracker's KvStore through the StorageActor (bridge/node-pegs.ts `storageRecordStore`): a real
 * StorageActor over a real memory KvStore. Keys land under `x/`, scans stay under the asked prefix,
 * batches are atomic, and a malformed key, an oversized batch or a clear is refused typed without
 * touching the store or crashing the actor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createActorSystem, type ActorSystem } from '../../../src/actors/index.js';
import { MAX_SCOPED_OPS, StorageActor } from '../../../src/node/actors/storage.js';
import { storageRecordStore } from '../../../src/node/bridge/node-pegs.js';
import { createMemoryStore } from '../../../src/node/storage/memory.js';
import type { KvStore } from '../../../src/node/storage/kv.js';
import { getChainSpec } from '../../../src/protocol/chainspec.js';
import { specFingerprint } from '../../../src/protocol/spec-fingerprint.js';

const spec = getChainSpec('dev');
let sys: ActorSystem | undefined;
afterEach(async () => {
  await sys?.shutdown();
  sys = undefined;
});

async function start(kv: KvStore): Promise<KvStore> {
  sys = createActorSystem({
    name: 'records',
    root: {
      strategy: 'one-for-one',
      children: [
        {
          id: 'storage',
          actor: StorageActor,
          args: {
            open: async () => ({ ...kv, close: async () => {} }),
            identity: { chainId: spec.chainId, spec: specFingerprint(spec), mode: 'full' },
          },
        },
      ],
    },
  });
  await sys.start();
  return storageRecordStore(() => sys, '/records/storage', 'memory');
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe('the peg records through the StorageActor', () => {
  it('stores under x/, scans a prefix, reads many, applies a batch atomically', async () => {
    const kv = createMemoryStore();
    await kv.batch([{ type: 'put', key: 'b/000000000001', value: bytes('a block') }]);
    const records = await start(kv);
    await records.batch([
      { type: 'put', key: 'peg/in/aa', value: bytes('1') },
      { type: 'put', key: 'peg/meta', value: bytes('m') },
    ]);
    await sys!
      .ref<typeof StorageActor>('/records/storage')
      .ask({ type: 'record-put', name: 'pegx', value: bytes('2') });
    expect(await kv.keys('x/')).toEqual(['x/peg/in/aa', 'x/peg/meta', 'x/pegx']);
    expect(await records.keys('peg/')).toEqual(['peg/in/aa', 'peg/meta']);
    expect(await records.keys('peg/', 1)).toEqual(['peg/in/aa']);
    expect(await records.getMany(['peg/meta', 'peg/in/bb'])).toEqual([bytes('m'), undefined]);
    expect(await records.get('peg/in/aa')).toEqual(bytes('1'));
    await records.batch([
      { type: 'del', key: 'peg/in/aa' },
      { type: 'put', key: 'peg/out/cc', value: bytes('3') },
    ]);
    expect(await records.keys('peg/')).toEqual(['peg/meta', 'peg/out/cc']);
    expect(await kv.get('b/000000000001')).toEqual(bytes('a block'));
  });

  it('refuses keys outside a scoped record, oversized batches and clear, typed, and changes nothing', async () => {
    const kv = createMemoryStore();
    const records = await start(kv);
    await records.batch([{ type: 'put', key: 'peg/meta', value: bytes('m') }]);
    const before = await kv.keys('');
    for (const key of ['../meta', 'meta', 'b/000000000001', 'Peg/x', `peg/${'a'.repeat(300)}`, 'peg/a b'])
      await expect(
        records.batch([
          { type: 'put', key: 'peg/ok', value: bytes('x') },
          { type: 'put', key, value: bytes('x') },
        ]),
      ).rejects.toMatchObject({ code: 'storage.bad-record' });
    await expect(records.keys('')).rejects.toMatchObject({ code: 'storage.bad-record' });
    await expect(records.getMany(['meta'])).rejects.toMatchObject({ code: 'storage.bad-record' });
    const tooMany = Array.from({ length: MAX_SCOPED_OPS + 1 }, (_, i) => ({ type: 'del' as const, key: `peg/${i}` }));
    await expect(records.batch(tooMany)).rejects.toMatchObject({ code: 'storage.bad-record' });
    await expect(records.clear()).rejects.toMatchObject({ code: 'storage.bad-record' });
    expect(await kv.keys('')).toEqual(before);
    // the actor is still the same, running one
    expect(sys!.registry.info('/records/storage')).toMatchObject({ state: 'Running', restarts: 0 });
    expect(await records.keys('peg/')).toEqual(['peg/meta']);
  });
});
