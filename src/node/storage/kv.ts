/**
 * The one storage interface of the light node: a small key-value store with atomic batches and
 * prefix scans. Four backends implement it - in memory (`memory.ts`), IndexedDB through
 * idb-keyval in browsers (`src/platform/browser/storage-idb.ts`), classic-level (LevelDB) in Node
 * (`src/platform/nodejs/storage-level.ts`), a Durable Object's SQLite storage in Cloudflare Workers
 * (`src/platform/workerd/storage-do.ts`) - and one conformance suite runs against all of them.
 *
 * Keys are strings (compared as UTF-16 code units, which orders zero-padded numbers correctly);
 * values are bytes. Values returned are the caller's to keep (no aliasing with the store).
 */
import { AlysLightError } from '../../errors.js';

export type KvOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

export interface KvStore {
  readonly kind: 'memory' | 'indexeddb' | 'level' | 'durable-object';
  get(key: string): Promise<Uint8Array | undefined>;
  /** Values in the order of `keys` (undefined where absent). */
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /** Apply every operation or none (a crash mid-batch leaves the store as before). */
  batch(ops: readonly KvOp[]): Promise<void>;
  /** Keys starting with `prefix`, ascending, at most `limit`. */
  keys(prefix: string, limit?: number): Promise<string[]>;
  /** Remove everything. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** A backend failed (not "the key is absent"): disk full, database closed or deleted, quota (code `storage.failed`). */
export class StorageError extends AlysLightError {
  override name = 'StorageError';
  declare readonly code: 'storage.failed';
  constructor(
    readonly backend: KvStore['kind'],
    readonly operation: string,
    cause: unknown,
  ) {
    const why = (cause as Error)?.message ?? String(cause);
    super('storage.failed', `${backend} storage failed to ${operation}: ${why}`, { cause });
  }
}
