/**
 * The conformance suite of `KvStore` (src/node/storage/kv.ts): every backend runs exactly these
 * tests, in Node (test/storage/kv.test.ts) and in Chromium (test/browser/storage.test.ts).
 *
 * `open()` must give a new, empty store each time; `reopen(store)` (persistent backends only) opens
 * again the database behind `store`, which the suite has closed. The suite closes every store it
 * opened after each test; removing what they left behind (directories, databases) is the caller's.
 *
 * The performance report prints one JSON line per measurement (`name`, `unit`, `value`) and asserts
 * nothing about time. `runIdbBackendChecks` adds what only the IndexedDB store has (one transaction
 * per call, abort on a refused operation, the missing-store and deleted-database cases), for
 * Chromium's IndexedDB and for fake-indexeddb.
 */
import fc from 'fast-check';
import { createStore } from 'idb-keyval';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StorageError, type KvOp, type KvStore } from '../../src/node/storage/kv.js';
import { equalBytes } from '../../src/protocol/bytes.js';
import { openIdbStore, writeAll } from '../../src/platform/browser/storage-idb.js';

export interface KvConformanceOptions {
  /** fast-check runs per property (default 50; keep it modest for real IndexedDB). */
  numRuns?: number;
  /** Run the 10,000 x 10 KB performance report (default true). */
  perf?: boolean;
}

export function runKvConformance(
  name: string,
  open: () => Promise<KvStore>,
  reopen?: (closed: KvStore) => Promise<KvStore>,
  options: KvConformanceOptions = {},
): void {
  const numRuns = options.numRuns ?? 50;
  const opened: KvStore[] = [];
  const track = (store: KvStore) => (opened.push(store), store);
  const fresh = async () => track(await open());
  const again = async (store: KvStore) => {
    await store.close();
    return track(await reopen!(store));
  };

  describe(`KvStore conformance: ${name}`, () => {
    afterEach(async () => {
      // close() is idempotent, so stores a test closed itself are closed again here; it must not fail.
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it('says which backend it is', async () => {
      const store = await fresh();
      expect(['memory', 'indexeddb', 'level', 'durable-object']).toContain(store.kind);
    });

    describe('get, put, delete', () => {
      it('an absent key reads as undefined', async () => {
        const store = await fresh();
        expect(await store.get('nothing-here')).toBeUndefined();
      });

      it('put then get returns the bytes, del removes them, a put overwrites', async () => {
        const store = await fresh();
        await store.batch([put('k', bytes(1, 2, 3))]);
        expect(await store.get('k')).toEqual(bytes(1, 2, 3));
        await store.batch([put('k', bytes(4))]);
        expect(await store.get('k')).toEqual(bytes(4));
        await store.batch([del('k')]);
        expect(await store.get('k')).toBeUndefined();
        await store.batch([del('k'), del('never-written')]);
        expect(await store.keys('')).toEqual([]);
      });

      it('an empty value is stored, and is not the same as absent', async () => {
        const store = await fresh();
        await store.batch([put('empty', new Uint8Array(0))]);
        const value = await store.get('empty');
        expect(value).toBeInstanceOf(Uint8Array);
        expect(value!.length).toBe(0);
        expect(await store.keys('')).toEqual(['empty']);
      });

      it('a 1 MiB value round trips byte for byte', async () => {
        const store = await fresh();
        const big = pseudoRandomBytes(1 << 20, 7);
        await store.batch([put('big', big), put('small', bytes(9))]);
        const [viaGet, viaMany] = [await store.get('big'), (await store.getMany(['big']))[0]];
        expect(viaGet?.length).toBe(1 << 20);
        expect(sameBytes(viaGet, big)).toBe(true);
        expect(sameBytes(viaMany, big)).toBe(true);
      });

      it('a value that is a view into a larger buffer stores only the view', async () => {
        const store = await fresh();
        const backing = pseudoRandomBytes(64, 3);
        await store.batch([put('view', backing.subarray(8, 24))]);
        const value = await store.get('view');
        expect(value?.length).toBe(16);
        expect(sameBytes(value, backing.slice(8, 24))).toBe(true);
      });

      it('values come back as plain Uint8Array (not a Buffer, not another view)', async () => {
        const store = await fresh();
        await store.batch([put('a', bytes(1)), put('b', new Uint8Array(0))]);
        for (const value of [await store.get('a'), ...(await store.getMany(['a', 'b']))]) {
          expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
        }
      });
    });

    describe('getMany', () => {
      it('returns values in the order of the keys, undefined for gaps, repeats for duplicates', async () => {
        const store = await fresh();
        await store.batch([put('a', bytes(1)), put('c', bytes(3)), put('', bytes(0xee))]);
        expect(await store.getMany(['c', 'missing', 'a', 'c', '', 'b'])).toEqual([
          bytes(3),
          undefined,
          bytes(1),
          bytes(3),
          bytes(0xee),
          undefined,
        ]);
      });

      it('an empty key list gives an empty list', async () => {
        const store = await fresh();
        expect(await store.getMany([])).toEqual([]);
      });

      it('refuses a key list that is not an array of strings with a TypeError', async () => {
        const store = await fresh();
        await expect(store.getMany('a' as never)).rejects.toThrow(TypeError);
        await expect(store.getMany(['a', 7] as never)).rejects.toThrow(/keys\[1\] must be a string/);
        await expect(store.get(undefined as never)).rejects.toThrow(TypeError);
      });
    });

    describe('values are copies', () => {
      it('mutating the passed array, during or after the batch, changes nothing stored', async () => {
        const store = await fresh();
        const value = bytes(1, 2, 3);
        const written = store.batch([put('k', value)]);
        value[0] = 99;
        await written;
        value[1] = 98;
        expect(await store.get('k')).toEqual(bytes(1, 2, 3));
      });

      it('mutating the ops array or an op after batch() changes nothing', async () => {
        const store = await fresh();
        const op: { type: 'put'; key: string; value: Uint8Array } = put('k', bytes(1));
        const ops: KvOp[] = [op];
        const written = store.batch(ops);
        op.key = 'other';
        op.value = bytes(2);
        ops.push(del('k'));
        await written;
        expect(await store.get('k')).toEqual(bytes(1));
        expect(await store.get('other')).toBeUndefined();
      });

      it('mutating a returned array changes nothing stored, and two reads share no memory', async () => {
        const store = await fresh();
        await store.batch([put('k', bytes(1, 2, 3))]);
        const first = (await store.get('k'))!;
        const [second] = (await store.getMany(['k'])) as [Uint8Array];
        first.fill(0);
        second.fill(7);
        expect(await store.get('k')).toEqual(bytes(1, 2, 3));
        expect(await store.getMany(['k', 'k'])).toEqual([bytes(1, 2, 3), bytes(1, 2, 3)]);
        const [x, y] = (await store.getMany(['k', 'k'])) as [Uint8Array, Uint8Array];
        x[0] = 42;
        expect(y[0]).toBe(1);
      });
    });

    describe('batch', () => {
      it('applies operations in order: put then del of a key leaves it absent', async () => {
        const store = await fresh();
        await store.batch([
          put('gone', bytes(1)),
          del('gone'),
          del('back'),
          put('back', bytes(2)),
          put('twice', bytes(3)),
          put('twice', bytes(4)),
        ]);
        expect(await store.getMany(['gone', 'back', 'twice'])).toEqual([undefined, bytes(2), bytes(4)]);
        expect(await store.keys('')).toEqual(['back', 'twice']);
      });

      it('an empty batch changes nothing', async () => {
        const store = await fresh();
        await store.batch([put('a', bytes(1))]);
        await store.batch([]);
        expect(await snapshot(store)).toEqual([['a', '01']]);
      });

      const invalid: [string, unknown][] = [
        ['a number key', { type: 'put', key: 7, value: bytes(1) }],
        ['a missing key', { type: 'del' }],
        ['a null key', { type: 'put', key: null, value: bytes(1) }],
        ['a string value', { type: 'put', key: 'x', value: 'abc' }],
        ['a number[] value', { type: 'put', key: 'x', value: [1, 2] }],
        ['an ArrayBuffer value', { type: 'put', key: 'x', value: new ArrayBuffer(2) }],
        ['a Uint16Array value', { type: 'put', key: 'x', value: new Uint16Array(2) }],
        ['a DataView value', { type: 'put', key: 'x', value: new DataView(new ArrayBuffer(2)) }],
        ['a missing value', { type: 'put', key: 'x' }],
        ['an unknown type', { type: 'merge', key: 'x', value: bytes(1) }],
        ['a null operation', null],
        ['a string operation', 'put'],
      ];
      for (const [what, bad] of invalid) {
        it(`a batch with ${what} throws a TypeError naming it and applies nothing`, async () => {
          const store = await fresh();
          await store.batch([put('a', bytes(1)), put('b', bytes(2))]);
          const before = await snapshot(store);
          const ops = [put('a', bytes(9)), del('b'), put('c', bytes(3)), bad] as KvOp[];
          const error = await store.batch(ops).catch((err: unknown) => err);
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).toMatch(/ops\[3\]/);
          expect(await snapshot(store)).toEqual(before);
        });
      }

      it('a bad operation in the middle applies nothing either', async () => {
        const store = await fresh();
        await expect(
          store.batch([put('a', bytes(1)), { type: 'put', key: 'b', value: 5 } as never, put('c', bytes(3))]),
        ).rejects.toThrow(/ops\[1\]\.value must be a Uint8Array/);
        expect(await store.keys('')).toEqual([]);
      });

      it('refuses a batch that is not an array with a TypeError', async () => {
        const store = await fresh();
        await expect(store.batch(put('a', bytes(1)) as never)).rejects.toThrow(TypeError);
        await expect(store.batch(undefined as never)).rejects.toThrow(TypeError);
        expect(await store.keys('')).toEqual([]);
      });
    });

    describe('keys (prefix scans)', () => {
      const scanKeys = ['b', 'b:', 'b:1', 'b:10', 'b:2', 'b;', 'b;0', 'b9', 'a:x', 'B:1', 'c:', 'b:\uffff', 'b;\u0000'];

      it('lists the keys with the prefix in ascending order, and no neighbours', async () => {
        const store = await fresh();
        await store.batch(scanKeys.map((key) => put(key, bytes(1))));
        expect(await store.keys('b:')).toEqual(['b:', 'b:1', 'b:10', 'b:2', 'b:\uffff']);
        expect(await store.keys('b;')).toEqual(['b;', 'b;\u0000', 'b;0']);
        expect(await store.keys('b:1')).toEqual(['b:1', 'b:10']);
        expect(await store.keys('b')).toEqual([
          'b',
          'b9',
          'b:',
          'b:1',
          'b:10',
          'b:2',
          'b:\uffff',
          'b;',
          'b;\u0000',
          'b;0',
        ]);
        expect(await store.keys('')).toEqual([...scanKeys].sort());
        expect(await store.keys('zzz')).toEqual([]);
        expect(await store.keys('a')).toEqual(['a:x']);
      });

      it('stops at the limit', async () => {
        const store = await fresh();
        await store.batch(scanKeys.map((key) => put(key, bytes(1))));
        expect(await store.keys('b:', 2)).toEqual(['b:', 'b:1']);
        expect(await store.keys('b:', 1)).toEqual(['b:']);
        expect(await store.keys('b:', 0)).toEqual([]);
        expect(await store.keys('b:', 100)).toEqual(['b:', 'b:1', 'b:10', 'b:2', 'b:\uffff']);
        expect(await store.keys('', 3)).toEqual([...scanKeys].sort().slice(0, 3));
      });

      it('zero-padded numbers scan in numeric order', async () => {
        const store = await fresh();
        const numbers = [0, 1, 9, 10, 99, 100, 12345, 999_999_999];
        const key = (n: number) => `h:${String(n).padStart(10, '0')}`;
        await store.batch([...numbers].reverse().map((n) => put(key(n), bytes(n & 0xff))));
        expect(await store.keys('h:')).toEqual(numbers.map(key));
        expect(await store.keys('h:', 3)).toEqual(numbers.slice(0, 3).map(key));
      });

      it('a prefix ending in U+FFFF does not leak into the next prefix', async () => {
        const store = await fresh();
        await store.batch(
          ['x\uffff', 'x\uffffa', 'x\uffff\uffff', 'y', 'x', '\uffff', '\uffff\uffffz'].map((key) =>
            put(key, bytes(1)),
          ),
        );
        expect(await store.keys('x\uffff')).toEqual(['x\uffff', 'x\uffff\uffff', 'x\uffffa'].sort());
        expect(await store.keys('\uffff')).toEqual(['\uffff', '\uffff\uffffz']);
        expect(await store.keys('\uffff\uffff')).toEqual(['\uffff\uffffz']);
      });

      it('deleted keys leave the scan', async () => {
        const store = await fresh();
        await store.batch([put('p:1', bytes(1)), put('p:2', bytes(2)), put('p:3', bytes(3))]);
        await store.batch([del('p:2')]);
        expect(await store.keys('p:')).toEqual(['p:1', 'p:3']);
      });

      it('refuses a bad prefix (TypeError) or limit (TypeError / RangeError)', async () => {
        const store = await fresh();
        await expect(store.keys(5 as never)).rejects.toThrow(TypeError);
        await expect(store.keys(undefined as never)).rejects.toThrow(/prefix must be a string/);
        await expect(store.keys('a', '3' as never)).rejects.toThrow(TypeError);
        for (const limit of [-1, 1.5, Number.NaN, -Infinity])
          await expect(store.keys('a', limit)).rejects.toThrow(RangeError);
        expect(await store.keys('a', Infinity)).toEqual([]);
      });
    });

    describe('unicode keys', () => {
      const unicodeKeys = [
        '',
        'a',
        'é', // U+00E9, precomposed
        'e\u0301', // e + combining acute: a different key (no normalisation)
        'ключ',
        '鍵',
        '🔑', // U+1F511: a surrogate pair
        '😀',
        '\ue000', // above the surrogates: UTF-16 order puts it after the pairs, UTF-8 before
        '\uffff',
        'a\u0000b',
        'tab\tkey',
        '\ud800', // lone surrogates are strings too
        '\udc00',
        '𝒳:1',
      ];

      it('distinct keys round trip without normalisation', async () => {
        const store = await fresh();
        await store.batch(unicodeKeys.map((key, i) => put(key, bytes(i))));
        expect(await store.getMany(unicodeKeys)).toEqual(unicodeKeys.map((_, i) => bytes(i)));
        for (const [i, key] of unicodeKeys.entries()) expect(await store.get(key)).toEqual(bytes(i));
      });

      it('scans order keys by UTF-16 code units', async () => {
        const store = await fresh();
        await store.batch(unicodeKeys.map((key, i) => put(key, bytes(i))));
        const expected = [...unicodeKeys].sort();
        expect(expected.indexOf('🔑')).toBeLessThan(expected.indexOf('\ue000'));
        expect(await store.keys('')).toEqual(expected);
        expect(await store.keys('e')).toEqual(['e\u0301']);
        expect(await store.keys('a')).toEqual(['a', 'a\u0000b']);
      });

      it('a prefix can end inside a surrogate pair', async () => {
        const store = await fresh();
        await store.batch(unicodeKeys.map((key, i) => put(key, bytes(i))));
        expect(await store.keys('\ud83d')).toEqual(['\ud83d\udd11', '\ud83d\ude00']); // 🔑, 😀
        expect(await store.keys('\ud835')).toEqual(['𝒳:1']);
        expect(await store.keys('\ud800')).toEqual(['\ud800']);
      });

      it('a 4 KiB key round trips and scans', async () => {
        const store = await fresh();
        const long = `long:${'ж🔑x'.repeat(1024)}`;
        await store.batch([put(long, bytes(1))]);
        expect(await store.get(long)).toEqual(bytes(1));
        expect(await store.keys('long:')).toEqual([long]);
      });
    });

    describe('clear', () => {
      it('removes everything and the store stays usable', async () => {
        const store = await fresh();
        await store.batch([put('a', bytes(1)), put('b:1', bytes(2)), put('🔑', new Uint8Array(0))]);
        await store.clear();
        expect(await store.keys('')).toEqual([]);
        expect(await store.getMany(['a', 'b:1', '🔑'])).toEqual([undefined, undefined, undefined]);
        await store.batch([put('a', bytes(3))]);
        expect(await snapshot(store)).toEqual([['a', '03']]);
      });

      it('removes the empty key, also when it is the only key', async () => {
        const store = await fresh();
        await store.batch([put('', bytes(1))]);
        await store.clear();
        expect(await store.keys('')).toEqual([]);
        expect(await store.get('')).toBeUndefined();
        await store.batch([put('', bytes(1)), put('a', bytes(2))]);
        await store.clear();
        expect(await store.keys('')).toEqual([]);
      });
    });

    describe('close', () => {
      it('every call after close rejects with a StorageError naming the backend and the operation', async () => {
        const store = await fresh();
        await store.batch([put('a', bytes(1))]);
        await store.close();
        const calls: [string, () => Promise<unknown>][] = [
          ['get', () => store.get('a')],
          ['getMany', () => store.getMany(['a'])],
          ['batch', () => store.batch([put('b', bytes(2))])],
          ['keys', () => store.keys('')],
          ['clear', () => store.clear()],
        ];
        for (const [operation, call] of calls) {
          const error = await call().then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(error, operation).toBeInstanceOf(StorageError);
          expect(error).toMatchObject({ name: 'StorageError', backend: store.kind, operation });
          expect((error as Error).message).toMatch(/closed/);
        }
      });

      it('closing twice is fine', async () => {
        const store = await fresh();
        await store.close();
        await expect(store.close()).resolves.toBeUndefined();
      });

      it('a batch started before close() completes; a call made after close() is refused', async () => {
        const store = await fresh();
        const written = store.batch([put('a', bytes(1)), put('b', pseudoRandomBytes(100_000, 1))]);
        const closed = store.close();
        const late = store.get('a').then(
          () => 'resolved',
          (err: unknown) => err,
        );
        await expect(written).resolves.toBeUndefined();
        await expect(closed).resolves.toBeUndefined();
        expect(await late).toBeInstanceOf(StorageError);
        if (reopen) {
          const back = track(await reopen(store));
          expect(await back.get('a')).toEqual(bytes(1));
        }
      });
    });

    if (reopen) {
      describe('persistence across reopen', () => {
        it('what was written before close is there after reopen', async () => {
          const store = await fresh();
          const big = pseudoRandomBytes(1 << 20, 11);
          await store.batch([
            put('big', big),
            put('empty', new Uint8Array(0)),
            put('🔑', bytes(1)),
            put('\ue000', bytes(2)),
            put('gone', bytes(3)),
          ]);
          await store.batch([del('gone'), put('p:2', bytes(4)), put('p:1', bytes(5)), del('p:2')]);
          const before = await snapshot(store);
          const back = await again(store);
          expect(await snapshot(back)).toEqual(before);
          expect(sameBytes(await back.get('big'), big)).toBe(true);
          expect((await back.get('empty'))?.length).toBe(0);
          expect(await back.keys('p:')).toEqual(['p:1']);
          expect(await back.keys('')).toEqual(['big', 'empty', 'p:1', '🔑', '\ue000']);
        });

        it('a refused batch leaves nothing behind after reopen', async () => {
          const store = await fresh();
          await store.batch([put('a', bytes(1))]);
          await expect(
            store.batch([put('b', bytes(2)), { type: 'put', key: 'c', value: 'no' } as never]),
          ).rejects.toThrow(TypeError);
          const back = await again(store);
          expect(await snapshot(back)).toEqual([['a', '01']]);
        });

        it('clear persists, and a store reopens more than once', async () => {
          const store = await fresh();
          await store.batch([put('a', bytes(1))]);
          const second = await again(store);
          await second.clear();
          await second.batch([put('b', bytes(2))]);
          const third = await again(second);
          expect(await snapshot(third)).toEqual([['b', '02']]);
        });
      });
    }

    describe('properties', () => {
      it('sequences of batches agree with a Map model (get, getMany, prefix scans)', { timeout: 180_000 }, async () => {
        const store = await fresh();
        await fc.assert(
          fc.asyncProperty(
            fc.array(batchArb, { maxLength: 8 }),
            fc.array(scanArb, { maxLength: 4 }),
            async (batches, scans) => {
              await store.clear();
              const model = new Map<string, Uint8Array>();
              for (const ops of batches) {
                await store.batch(ops);
                applyBatch(model, ops);
                expect(await store.keys('')).toEqual([...model.keys()].sort());
              }
              const probe = [...new Set([...model.keys(), ...batches.flat().map((op) => op.key), 'never'])];
              expect(await store.getMany(probe)).toEqual(probe.map((key) => model.get(key)));
              for (const key of probe.slice(0, 4)) expect(await store.get(key)).toEqual(model.get(key));
              for (const { prefix, limit } of scans) {
                const expected = [...model.keys()].filter((key) => key.startsWith(prefix)).sort();
                expect(await store.keys(prefix, limit)).toEqual(
                  limit === undefined ? expected : expected.slice(0, limit),
                );
              }
            },
          ),
          { numRuns },
        );
      });

      it('concurrent batches apply whole and never interleave; concurrent reads see whole batches', {
        timeout: 180_000,
      }, async () => {
        const store = await fresh();
        await fc.assert(
          fc.asyncProperty(
            batchArb,
            fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 4 }),
            async (initial, batches) => {
              await store.clear();
              await store.batch(initial);
              const base = new Map<string, Uint8Array>();
              applyBatch(base, initial);
              const probe = [...new Set([...base.keys(), ...batches.flat().map((op) => op.key)])];

              // Issue everything at once: a reader after each writer.
              const writes: Promise<void>[] = [];
              const reads: Promise<(Uint8Array | undefined)[]>[] = [];
              for (const ops of batches) {
                writes.push(store.batch(ops));
                reads.push(store.getMany(probe));
              }
              await Promise.all(writes);
              const seen = await Promise.all(reads);

              const finals = new Set(
                arrangements(batches.length, batches.length).map((order) => stateAfter(base, batches, order, probe)),
              );
              const partials = new Set(
                arrangements(batches.length, 0).map((order) => stateAfter(base, batches, order, probe)),
              );
              const finalValues = await store.getMany(probe);
              expect(finals).toContain(describeState(probe, finalValues));
              for (const values of seen) expect(partials).toContain(describeState(probe, values));
              // Nothing outside the probed keys, and the scan agrees with the reads.
              expect(await store.keys('')).toEqual(probe.filter((_, i) => finalValues[i] !== undefined).sort());
            },
          ),
          { numRuns },
        );
      });
    });

    if (options.perf ?? true) {
      describe('performance (reported, not asserted)', () => {
        it('put and get of 10,000 records of 10 KiB in batches of 256', { timeout: 600_000 }, async () => {
          const store = await fresh();
          const records = 10_000;
          const size = 10 * 1024;
          const batchSize = 256;
          // 256 distinct incompressible values, reused (each batch copies them).
          const pool = Array.from({ length: batchSize }, (_, i) => pseudoRandomBytes(size, i + 1));
          const key = (i: number) => `perf:${String(i).padStart(6, '0')}`;

          const putStart = performance.now();
          for (let from = 0; from < records; from += batchSize) {
            const ops: KvOp[] = [];
            for (let i = from; i < Math.min(records, from + batchSize); i++)
              ops.push(put(key(i), pool[i % batchSize]!));
            await store.batch(ops);
          }
          const putMs = performance.now() - putStart;

          const getStart = performance.now();
          let read = 0;
          for (let from = 0; from < records; from += batchSize) {
            const keys = Array.from({ length: Math.min(batchSize, records - from) }, (_, j) => key(from + j));
            const values = await store.getMany(keys);
            for (const value of values) read += value?.length ?? 0;
          }
          const getMs = performance.now() - getStart;

          const scanStart = performance.now();
          const listed = await store.keys('perf:');
          const scanMs = performance.now() - scanStart;

          const singleStart = performance.now();
          for (let i = 0; i < 1000; i++) await store.get(key((i * 7919) % records));
          const singleMs = performance.now() - singleStart;

          expect(read).toBe(records * size);
          expect(listed.length).toBe(records);
          expect(sameBytes(await store.get(key(4242)), pool[4242 % batchSize])).toBe(true);

          const mb = (records * size) / (1024 * 1024);
          const report = [
            {
              name: `kv.${name}.put.batch256`,
              unit: 'ms',
              value: putMs,
              records,
              bytes: records * size,
              mbPerSecond: mb / (putMs / 1000),
            },
            {
              name: `kv.${name}.getMany.batch256`,
              unit: 'ms',
              value: getMs,
              records,
              bytes: records * size,
              mbPerSecond: mb / (getMs / 1000),
            },
            { name: `kv.${name}.keys.prefix`, unit: 'ms', value: scanMs, records },
            { name: `kv.${name}.get.single`, unit: 'us/op', value: (singleMs * 1000) / 1000, operations: 1000 },
          ];
          for (const line of report)
            console.log(JSON.stringify(line, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v)));
        });
      });
    }
  });
}

/**
 * What is specific to the IndexedDB store, on whatever `indexedDB` the environment has (Chromium's,
 * or fake-indexeddb in Node). `newName(label)` gives a database name the caller deletes afterwards.
 */
export function runIdbBackendChecks(name: string, newName: (label: string) => string): void {
  describe(`IndexedDB store specifics: ${name}`, () => {
    it('refuses an empty database or store name with a TypeError', async () => {
      await expect(openIdbStore('')).rejects.toThrow(TypeError);
      await expect(openIdbStore('x', '')).rejects.toThrow(/storeName/);
    });

    it('a batch is one readwrite transaction, getMany one readonly transaction', async () => {
      const store = await openIdbStore(newName('transactions'));
      const spy = vi.spyOn(IDBDatabase.prototype, 'transaction');
      try {
        await store.batch([put('a', bytes(1)), put('b', bytes(2)), del('a'), put('c', bytes(3))]);
        expect(spy.mock.calls.map((call) => call[1])).toEqual(['readwrite']);
        spy.mockClear();
        await store.getMany(['a', 'b', 'c', 'd']);
        expect(spy.mock.calls.map((call) => call[1])).toEqual(['readonly']);
      } finally {
        spy.mockRestore();
        await store.close();
      }
    });

    it('an operation IndexedDB refuses mid-transaction aborts it: nothing queued before commits', async () => {
      const dbName = newName('refused');
      const useStore = createStore(dbName, 'kv');
      await useStore('readwrite', (raw) => writeAll(raw, [put('before', bytes(0))]));
      // An object is no IndexedDB key: put() throws DataError after 'a' and 'b' were queued.
      const ops = [put('a', bytes(1)), del('before'), { type: 'put', key: {} as string, value: bytes(2) } as KvOp];
      const error = await useStore('readwrite', (raw) => writeAll(raw, ops)).catch((err: unknown) => err);
      expect((error as Error).name).toBe('DataError');
      const db = await useStore('readonly', (raw) => raw.transaction.db);
      const store = await openIdbStore(dbName);
      try {
        expect(await snapshot(store)).toEqual([['before', '00']]);
      } finally {
        await store.close();
        db.close();
      }
    });

    it('a database that exists without the store is refused with StorageError(open), and not left open', async () => {
      const dbName = newName('two-stores');
      const first = await openIdbStore(dbName, 'one');
      await first.close();
      const error = await openIdbStore(dbName, 'two').catch((err: unknown) => err);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ backend: 'indexeddb', operation: 'open' });
      expect((error as Error).message).toMatch(/one database per store/);
      await deleteIdbDatabase(dbName); // rejects if a connection was left open
    });

    it('a database deleted under an open store: the delete is not blocked, and calls fail with StorageError', async () => {
      const dbName = newName('deleted');
      const store = await openIdbStore(dbName);
      await store.batch([put('a', bytes(1))]);
      await deleteIdbDatabase(dbName);
      for (const call of [() => store.get('a'), () => store.batch([put('b', bytes(2))]), () => store.keys('')]) {
        const error = await call().catch((err: unknown) => err);
        expect(error).toBeInstanceOf(StorageError);
        expect((error as Error).message).toMatch(/deleting or upgrading/);
      }
      await store.close();
    });
  });
}

/** Delete an IndexedDB database; rejects (rather than waiting) when a connection still holds it. */
export function deleteIdbDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error(`deleting ${name} is blocked by an open connection`));
  });
}

// ---- helpers ---------------------------------------------------------------------------------------

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function put(key: string, value: Uint8Array): { type: 'put'; key: string; value: Uint8Array } {
  return { type: 'put', key, value };
}

function del(key: string): KvOp {
  return { type: 'del', key };
}

/** Deterministic, incompressible bytes (xorshift32). */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equalBytes(a, b);
}

function hex(value: Uint8Array | undefined): string {
  if (value === undefined) return '-';
  let out = '';
  for (const b of value) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Every key and its value (hex), in scan order: for before/after comparisons. */
async function snapshot(store: KvStore): Promise<[string, string][]> {
  const keys = await store.keys('');
  const values = await store.getMany(keys);
  return keys.map((key, i) => [key, hex(values[i])]);
}

function applyBatch(model: Map<string, Uint8Array>, ops: readonly KvOp[]): void {
  for (const op of ops) {
    if (op.type === 'put') model.set(op.key, op.value);
    else model.delete(op.key);
  }
}

function describeState(probe: readonly string[], values: readonly (Uint8Array | undefined)[]): string {
  return probe.map((key, i) => `${JSON.stringify(key)}=${hex(values[i])}`).join(' ');
}

/** The probed state after applying `batches` in `order` to `base`. */
function stateAfter(
  base: Map<string, Uint8Array>,
  batches: readonly KvOp[][],
  order: readonly number[],
  probe: readonly string[],
): string {
  const model = new Map(base);
  for (const i of order) applyBatch(model, batches[i]!);
  return describeState(
    probe,
    probe.map((key) => model.get(key)),
  );
}

/** Every ordered selection of distinct indexes below `n` with at least `min` elements. */
function arrangements(n: number, min: number): number[][] {
  const out: number[][] = [];
  const walk = (chosen: number[]) => {
    if (chosen.length >= min) out.push(chosen);
    for (let i = 0; i < n; i++) if (!chosen.includes(i)) walk([...chosen, i]);
  };
  walk([]);
  return out;
}

// A small key space (so batches collide) with the awkward neighbours: 'b:' vs 'b;', astral vs U+E000.
const keyArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      'a',
      'b',
      'b:',
      'b:1',
      'b:2',
      'b;',
      'b;1',
      'é',
      '🔑',
      '\ue000',
      '\uffff',
      '',
      'a\u0000',
      '\udc00',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 4, unit: 'binary' }) },
);
const valueArb = fc.uint8Array({ maxLength: 8 }).map((value) => new Uint8Array(value));
const opArb: fc.Arbitrary<KvOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('put' as const), key: keyArb, value: valueArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('del' as const), key: keyArb }) },
);
const batchArb = fc.array(opArb, { maxLength: 8 });
const scanArb = fc.record({
  prefix: fc.constantFrom('', 'a', 'b', 'b:', 'b;', '\ud83d', '\uffff', 'zz'),
  limit: fc.option(fc.nat({ max: 4 }), { nil: undefined }),
});
