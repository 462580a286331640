/**
 * The KvStore conformance suite against real IndexedDB in Chromium (idb-keyval's createStore), the
 * backend browsers use; test/storage/kv.test.ts runs the same suite in Node against the other
 * backends and against fake-indexeddb. Every database made here is deleted afterwards.
 */
import { afterAll, expect, it } from 'vitest';
import type { KvStore } from '../../src/node/storage/kv.js';
import { createMemoryStore } from '../../src/node/storage/memory.js';
import { openIdbStore } from '../../src/platform/browser/storage-idb.js';
import { deleteIdbDatabase, runIdbBackendChecks, runKvConformance } from '../storage/conformance.js';
import { newRun } from './helpers.js';

const run = newRun();
const names = new WeakMap<KvStore, string>();
const created: string[] = [];
let count = 0;

afterAll(async () => {
  for (const name of created) await deleteIdbDatabase(name);
});

function newName(label: string): string {
  const name = `alys-kv-browser-${run}-${label}-${++count}`;
  created.push(name);
  return name;
}

async function openNamed(name: string): Promise<KvStore> {
  const store = await openIdbStore(name);
  names.set(store, name);
  return store;
}

it('runs on the real IndexedDB of a real browser', () => {
  expect(navigator.userAgent).toMatch(/Chrome/);
  expect(Object.prototype.toString.call(indexedDB)).toBe('[object IDBFactory]');
});

runKvConformance(
  'indexeddb (Chromium)',
  () => openNamed(newName('suite')),
  (closed) => openNamed(names.get(closed)!),
  { numRuns: 20 },
);

// The memory store is browser code too: the same suite, in the browser.
runKvConformance('memory (Chromium)', async () => createMemoryStore(), undefined, { numRuns: 50, perf: false });

runIdbBackendChecks('Chromium', newName);
