/**
 * The KvStore conformance suite in Node against the memory store, classic-level (in temporary
 * directories, removed afterwards) and idb-keyval over fake-indexeddb (real IndexedDB cannot exist
 * in Node; test/browser/storage.test.ts runs the same suite on Chromium's), plus what is specific
 * to each backend: how opening fails, the LevelDB key encoding, a database deleted underneath.
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError, type KvStore } from '../../src/node/storage/kv.js';
import { createMemoryStore } from '../../src/node/storage/memory.js';
import { openIdbStore } from '../../src/platform/browser/storage-idb.js';
import { decodeKey, encodeKey, openLevelStore } from '../../src/platform/nodejs/storage-level.js';
import { deleteIdbDatabase, runIdbBackendChecks, runKvConformance } from './conformance.js';

// Everything this file made goes, even when a deletion fails (that is reported as a failure).
afterAll(async () => {
  try {
    for (const name of idbCreated) await deleteIdbDatabase(name);
  } finally {
    if (levelRoot) rmSync(levelRoot, { recursive: true, force: true });
  }
});

/** fast-check runs per property; KV_NUM_RUNS overrides them all (for a longer soak). */
const numRuns = (usual: number) => Number(process.env.KV_NUM_RUNS ?? usual);

// ---- memory -----------------------------------------------------------------------------------------

runKvConformance('memory', async () => createMemoryStore(), undefined, { numRuns: numRuns(100) });

// ---- classic-level ----------------------------------------------------------------------------------

// One temporary directory for every database of this file, made on first use.
let levelRoot: string | undefined;
const levelPath = (name: string) => join((levelRoot ??= mkdtempSync(join(tmpdir(), 'alys-kv-'))), name);
const levelPaths = new WeakMap<KvStore, string>();
let levelCount = 0;

async function openLevelAt(path: string): Promise<KvStore> {
  const store = await openLevelStore(path);
  levelPaths.set(store, path);
  return store;
}

runKvConformance(
  'level',
  () => openLevelAt(levelPath(`db-${++levelCount}`)),
  (closed) => openLevelAt(levelPaths.get(closed)!),
  { numRuns: numRuns(50) },
);

describe('classic-level store specifics', () => {
  it('refuses an empty or non-string path with a TypeError', async () => {
    await expect(openLevelStore('')).rejects.toThrow(TypeError);
    await expect(openLevelStore(7 as never)).rejects.toThrow(/non-empty directory path/);
  });

  it('a database already open is refused with StorageError(open) saying so', async () => {
    const path = levelPath('locked');
    const first = await openLevelStore(path);
    try {
      const error = await openLevelStore(path).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ backend: 'level', operation: 'open' });
      expect((error as Error).message).toMatch(/already open/);
    } finally {
      await first.close();
    }
    const again = await openLevelStore(path);
    await again.close();
  });

  it('a path that is a file is refused with StorageError(open)', async () => {
    const file = levelPath('a-file');
    writeFileSync(file, 'not a directory');
    await expect(openLevelStore(file)).rejects.toMatchObject({
      name: 'StorageError',
      backend: 'level',
      operation: 'open',
    });
  });

  it('keys without surrogates are stored as plain UTF-8', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme-composite', maxLength: 20 }).filter((s) => !/[\ud800-\udfff]/.test(s)),
        (key) => {
          expect(encodeKey(key)).toEqual(new TextEncoder().encode(key));
        },
      ),
    );
    expect([...encodeKey('é🔑')]).toEqual([0xc3, 0xa9, 0xed, 0xa0, 0xbd, 0xed, 0xb4, 0x91]);
  });

  it('the key encoding round trips every string, lone surrogates included, and keeps UTF-16 order', () => {
    const anyUnits = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
      maxLength: 12,
    });
    fc.assert(
      fc.property(anyUnits, anyUnits, (a, b) => {
        expect(decodeKey(encodeKey(a))).toBe(a);
        expect(Math.sign(compareBytes(encodeKey(a), encodeKey(b)))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('a stored key in a foreign encoding is reported, not mangled', () => {
    for (const foreign of [[0xff], [0xc3], [0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xf0, 0x9f, 0x94, 0x91]]) {
      expect(() => decodeKey(Uint8Array.from(foreign))).toThrow(/not in this store's key encoding/);
    }
  });
});

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

// ---- idb-keyval over fake-indexeddb ----------------------------------------------------------------

const idbNames = new WeakMap<KvStore, string>();
const idbCreated: string[] = [];

function newIdbName(label: string): string {
  const name = `alys-kv-test-${label}-${idbCreated.length + 1}`;
  idbCreated.push(name);
  return name;
}

async function openIdbNamed(name: string): Promise<KvStore> {
  const store = await openIdbStore(name);
  idbNames.set(store, name);
  return store;
}

runKvConformance(
  'indexeddb (fake-indexeddb)',
  () => openIdbNamed(newIdbName('suite')),
  (closed) => openIdbNamed(idbNames.get(closed)!),
  { numRuns: numRuns(30) },
);

runIdbBackendChecks('fake-indexeddb', newIdbName);
