/**
 * The browser `KvStore`: IndexedDB through idb-keyval's `createStore`. Every call is one IndexedDB
 * transaction: a `batch` is one readwrite transaction (applied whole or rolled back), `getMany` one
 * readonly transaction (a consistent view), a prefix scan one `getAllKeys` over an `IDBKeyRange`.
 * Values are stored as Uint8Array; IndexedDB hands back a fresh structured clone on every read.
 *
 * Runs in windows and workers; no Node globals. idb-keyval creates the object store only when it
 * creates the database, so use one database per store (a store name the database lacks is refused
 * at open). When another connection deletes or upgrades the database, this store closes its
 * connection (so it does not block that) and its calls fail with a `StorageError` saying so.
 */
import { clear, createStore, get, getMany, type UseStore } from 'idb-keyval';
import type { KvOp, KvStore } from '../../node/storage/kv.js';
import { StorageError } from '../../node/storage/kv.js';
import { guardKvBackend, isUint8Array, prefixUpperBound, type KvBackend } from '../../node/storage/guard.js';

/** Open (creating if missing) the object store `storeName` of the IndexedDB database `dbName`. */
export async function openIdbStore(dbName: string, storeName = 'kv'): Promise<KvStore> {
  if (typeof dbName !== 'string' || dbName === '')
    throw new TypeError(`openIdbStore: dbName must be a non-empty string (got ${describe(dbName)})`);
  if (typeof storeName !== 'string' || storeName === '') {
    throw new TypeError(`openIdbStore: storeName must be a non-empty string (got ${describe(storeName)})`);
  }
  let useStore: UseStore;
  let db: IDBDatabase;
  try {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available in this environment');
    await ensureObjectStore(dbName, storeName);
    useStore = createStore(dbName, storeName);
    db = await useStore('readonly', (store) => store.transaction.db);
  } catch (err) {
    throw new StorageError('indexeddb', 'open', openProblem(dbName, storeName, err));
  }
  return guardKvBackend('indexeddb', idbBackend(useStore, db));
}

/**
 * Create the database with the store (as idb-keyval would), or check that the existing database has
 * it. Checked on a connection of our own: idb-keyval's connection would stay open (and block every
 * later delete or upgrade of the database) if its first transaction failed on a missing store.
 */
async function ensureObjectStore(dbName: string, storeName: string): Promise<void> {
  const request = indexedDB.open(dbName);
  request.addEventListener('upgradeneeded', () => request.result.createObjectStore(storeName));
  const db = await requestResult(request);
  const present = db.objectStoreNames.contains(storeName);
  db.close();
  if (!present) {
    const stores = [...db.objectStoreNames].join(', ') || 'none';
    throw new Error(
      `the database ${dbName} exists without the object store ${storeName} (it has: ${stores}); idb-keyval creates a store only with its database, so use one database per store`,
    );
  }
}

function idbBackend(useStore: UseStore, db: IDBDatabase): KvBackend {
  let lost: string | undefined;
  db.addEventListener('versionchange', () => {
    lost = `another connection is deleting or upgrading the database ${db.name}; this store closed its connection`;
    db.close();
  });
  db.addEventListener('close', () => {
    lost = `the browser closed the connection to ${db.name} (site data cleared, or storage evicted)`;
  });

  // Checks made on each call: the connection is still ours to use.
  function usable(): UseStore {
    if (lost !== undefined) throw new Error(lost);
    return useStore;
  }

  return {
    get: async (key) => storedBytes(await get(key, usable()), key),
    getMany: async (keys) =>
      (await getMany(keys as string[], usable())).map((value, i) => storedBytes(value, keys[i]!)),
    batch: (ops) => usable()('readwrite', (store) => writeAll(store, ops)),
    keys: (prefix, limit) =>
      usable()('readonly', async (store) => {
        const upper = prefixUpperBound(prefix);
        const range =
          upper === undefined ? IDBKeyRange.lowerBound(prefix) : IDBKeyRange.bound(prefix, upper, false, true);
        // getAllKeys takes count 0 as "no limit"; the guard never passes 0.
        const keys = await requestResult(store.getAllKeys(range, limit === Infinity ? undefined : limit));
        // Only strings are ours; other key types (from another program) sort after every string.
        return keys.filter((key): key is string => typeof key === 'string');
      }),
    clear: () => clear(usable()),
    close: async () => {
      lost ??= 'closed';
      db.close();
    },
  };
}

/**
 * Queue every operation in the transaction of `store` and wait for it to commit; if queueing
 * throws, abort, so nothing queued before commits. Exported for the tests, which give it an
 * operation IndexedDB itself refuses (the store's own calls never reach it with one).
 */
export function writeAll(store: IDBObjectStore, ops: readonly KvOp[]): Promise<void> {
  const tx = store.transaction;
  const done = transactionDone(tx);
  try {
    for (const op of ops) {
      if (op.type === 'put') store.put(op.value, op.key);
      else store.delete(op.key);
    }
  } catch (err) {
    // A request that throws does not abort the transaction by itself: without this the
    // operations queued before it would commit.
    try {
      tx.abort();
    } catch {
      // Already aborted or finished.
    }
    done.catch(() => {});
    throw err;
  }
  return done;
}

/** Resolves when `tx` commits; rejects with the error that aborted it. */
function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.addEventListener('complete', () => resolve());
    tx.addEventListener('abort', () => reject(tx.error ?? new Error('the transaction was aborted')));
  });
}

function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.addEventListener('success', () => resolve(request.result));
    request.addEventListener('error', () => reject(request.error ?? new Error('the request failed')));
  });
}

/** A stored value must be bytes; anything else was written by someone else. */
function storedBytes(value: unknown, key: string): Uint8Array | undefined {
  if (value === undefined || isUint8Array(value)) return value;
  throw new Error(
    `the value stored under ${JSON.stringify(key)} is not a Uint8Array (${describe(value)}); was it written by another program?`,
  );
}

function openProblem(dbName: string, storeName: string, err: unknown): Error {
  const message = (err as Error)?.message ?? String(err);
  return new Error(`could not open the object store ${storeName} of the IndexedDB database ${dbName}: ${message}`, {
    cause: err,
  });
}

function describe(value: unknown): string {
  if (value === null || value === undefined || value === '') return value === '' ? 'an empty string' : String(value);
  return typeof value === 'object' ? ((value as object).constructor?.name ?? 'an object') : typeof value;
}
