/**
 * Damage done to a stopped node's store, for the storage fault suites (test/node/store-damage.test.ts
 * on memory and LevelDB, test/browser/store-damage.test.ts on IndexedDB). Each case names what it
 * does to the raw KvStore and how the next start must treat it:
 *
 * - `cold`: the meta or the verifier's window is damaged, so the store cannot be trusted: a `corrupt`
 *   event, then a cold start;
 * - `warm`: a block of the older history is damaged: the node resumes at its stored head, the
 *   damaged block is never served (`damaged` event, once), and the stored history starts above it.
 *
 * No Node globals: the browser suite imports this too.
 */
import { decodeMeta, encodeMeta, type StoredMeta } from '../../src/node/storage/meta.js';
import type { KvStore } from '../../src/node/storage/kv.js';

export const blockKey = (n: number) => `b/${String(n).padStart(12, '0')}`;

/** Where a damage goes: the stored head, the last finalized block (the window starts there) and a block below it. */
export interface StoreShape {
  head: number;
  lastFinalized: number;
  /** A block of the older history (below the window). */
  old: number;
}

export interface DamageCase {
  name: string;
  expect: 'cold' | 'warm';
  /** For `warm`: the lowest damaged block (the stored history must end up starting above it, or be refilled). */
  damagedAt?(shape: StoreShape): number;
  apply(kv: KvStore, shape: StoreShape): Promise<void>;
}

export async function readShape(kv: KvStore): Promise<StoreShape> {
  const meta = decodeMeta((await kv.get('meta'))!) as StoredMeta;
  const lastFinalized = meta.snapshot.finality.lastFinalized.blockNumber;
  return { head: meta.head.number, lastFinalized, old: Math.floor(lastFinalized / 2) };
}

/** Copy every record of `from` into `to` (an empty store of any backend). */
export async function copyStore(from: KvStore, to: KvStore): Promise<void> {
  const keys = await from.keys('');
  const values = await from.getMany(keys);
  await to.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: values[i]! })));
}

async function flip(kv: KvStore, key: string, at: (length: number) => number): Promise<void> {
  const value = (await kv.get(key))!;
  const i = at(value.length);
  value[i]! ^= 0x01;
  await kv.batch([{ type: 'put', key, value }]);
}

const putMeta = (kv: KvStore, value: Uint8Array) => kv.batch([{ type: 'put', key: 'meta', value }]);
const text = (s: string) => new TextEncoder().encode(s);

/** The stored meta with `edit` applied, written with a valid checksum (so only the schema check can catch it). */
async function editMeta(kv: KvStore, edit: (meta: Record<string, unknown>) => void): Promise<void> {
  const meta = structuredClone(decodeMeta((await kv.get('meta'))!)) as unknown as Record<string, unknown>;
  edit(meta);
  await putMeta(kv, encodeMeta(meta as unknown as StoredMeta));
}

export const DAMAGE_CASES: DamageCase[] = [
  {
    name: 'flipped bytes in the metadata',
    expect: 'cold',
    apply: (kv) => flip(kv, 'meta', (n) => Math.floor(n / 2)),
  },
  {
    name: 'malformed JSON in the metadata',
    expect: 'cold',
    apply: async (kv) => {
      const raw = (await kv.get('meta'))!;
      await putMeta(kv, raw.subarray(0, raw.length - 7));
    },
  },
  {
    name: 'valid JSON of the wrong shape in the metadata (no checksum)',
    expect: 'cold',
    apply: (kv) => putMeta(kv, text(JSON.stringify({ format: 4, chainId: 1, head: null }))),
  },
  {
    name: 'wrong types in the metadata (head.number a string, checksum valid)',
    expect: 'cold',
    apply: (kv) =>
      editMeta(kv, (m) => {
        (m.head as Record<string, unknown>).number = String((m.head as { number: number }).number);
      }),
  },
  {
    name: 'wrong types in the metadata (snapshot.window not a list, checksum valid)',
    expect: 'cold',
    apply: (kv) =>
      editMeta(kv, (m) => {
        (m.snapshot as Record<string, unknown>).window = { length: 1e12 };
      }),
  },
  {
    name: 'out-of-bounds metadata (history.from above the head, checksum valid)',
    expect: 'cold',
    apply: (kv) =>
      editMeta(kv, (m) => {
        m.history = { from: 2 ** 53 };
      }),
  },
  {
    name: 'flipped bytes in a block record of the recent window',
    expect: 'cold',
    apply: (kv, s) => flip(kv, blockKey(s.head - 1), (n) => n - 5),
  },
  {
    name: 'flipped bytes in a block record below the recent window',
    expect: 'warm',
    damagedAt: (s) => s.old,
    apply: (kv, s) => flip(kv, blockKey(s.old), (n) => n - 5),
  },
  {
    name: 'a truncated database: records missing below the window',
    expect: 'warm',
    damagedAt: (s) => s.old,
    apply: (kv, s) =>
      kv.batch(Array.from({ length: 3 }, (_, i) => ({ type: 'del' as const, key: blockKey(s.old - i) }))),
  },
  {
    name: 'a truncated database: records missing up to the head',
    expect: 'cold',
    apply: (kv, s) =>
      kv.batch(
        Array.from({ length: s.head - s.old + 1 }, (_, i) => ({ type: 'del' as const, key: blockKey(s.old + i) })),
      ),
  },
  {
    name: 'a record from another height under a height of the older history',
    expect: 'warm',
    damagedAt: (s) => s.old,
    apply: async (kv, s) =>
      kv.batch([{ type: 'put', key: blockKey(s.old), value: (await kv.get(blockKey(s.old - 1)))! }]),
  },
  {
    name: 'a record from another height under a height of the recent window',
    expect: 'cold',
    apply: async (kv, s) =>
      kv.batch([{ type: 'put', key: blockKey(s.head), value: (await kv.get(blockKey(s.head - 1)))! }]),
  },
];
