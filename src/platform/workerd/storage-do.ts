/**
 * The Cloudflare Durable Object `KvStore`: one SQLite table in the object's own storage
 * (`ctx.storage.sql`, a SQLite-backed class: `new_sqlite_classes` in wrangler.toml).
 *
 * Why SQL and not the object's KV API (`ctx.storage.get/put`): the KV API caps a value at 128 KiB and a
 * key at 2 KiB, lists keys in UTF-8 order and has no bound on a transaction but its 128 keys per
 * `put(entries)`; the SQL API stores a row of up to 2 MB, orders BLOBs byte by byte (so the interface's
 * UTF-16 order can be kept, lone surrogates included), and `transactionSync` makes a whole batch one
 * SQLite transaction (a fork switch, `replaceFrom`, is one batch: applied whole or not at all).
 *
 * Layout: `(k BLOB, part INTEGER, v BLOB)`, primary key `(k, part)`, WITHOUT ROWID. A key is stored as
 * its UTF-16 code units, two bytes big-endian each, so byte order is code-unit order and every string
 * round trips. A value is split into parts of `VALUE_PART_BYTES` (512 KiB), so values of any size fit
 * under the 2 MB row limit (a block record is a few KiB to a few hundred; a full payload can pass 1 MiB).
 * Every call is synchronous SQLite underneath: nothing interleaves with a batch.
 */
import { guardKvBackend, prefixUpperBound, type KvBackend } from '../../node/storage/guard.js';
import type { KvOp, KvStore } from '../../node/storage/kv.js';

/** The part of `SqlStorage` (workers-types) this store uses. */
export interface SqlStorageLike {
  exec(query: string, ...bindings: unknown[]): { toArray(): Record<string, unknown>[] };
}

/** The part of a Durable Object's `ctx.storage` this store uses. */
export interface DurableObjectStorageLike {
  readonly sql: SqlStorageLike;
  transactionSync<T>(fn: () => T): T;
}

/** Values are stored in parts of this size (SQLite rows in a Durable Object hold at most 2 MB). */
export const VALUE_PART_BYTES = 512 * 1024;

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * The store in table `table` (created if missing) of a Durable Object's SQLite storage. Several stores
 * can share one object under different table names. Throws a TypeError for a table name that is not a
 * plain SQL identifier.
 */
export function openDurableObjectStore(storage: DurableObjectStorageLike, table = 'alys_kv'): KvStore {
  if (typeof table !== 'string' || !TABLE_NAME.test(table))
    throw new TypeError(
      `openDurableObjectStore: table must be a SQL identifier ([A-Za-z_][A-Za-z0-9_]*), got ${table}`,
    );
  storage.sql.exec(
    `CREATE TABLE IF NOT EXISTS ${table} (k BLOB NOT NULL, part INTEGER NOT NULL, v BLOB NOT NULL, PRIMARY KEY (k, part)) WITHOUT ROWID`,
  );
  return guardKvBackend('durable-object', durableObjectBackend(storage, table));
}

function durableObjectBackend(storage: DurableObjectStorageLike, table: string): KvBackend {
  const { sql } = storage;
  const read = (key: string): Uint8Array | undefined =>
    joinParts(sql.exec(`SELECT v FROM ${table} WHERE k = ? ORDER BY part`, encodeKey(key)).toArray());
  const apply = (op: KvOp): void => {
    const k = encodeKey(op.key);
    sql.exec(`DELETE FROM ${table} WHERE k = ?`, k);
    if (op.type !== 'put') return;
    const parts = splitValue(op.value);
    for (let i = 0; i < parts.length; i++) sql.exec(`INSERT INTO ${table} VALUES (?, ?, ?)`, k, i, parts[i]);
  };
  return {
    get: async (key) => read(key),
    getMany: async (keys) => keys.map(read),
    batch: async (ops) => storage.transactionSync(() => ops.forEach(apply)),
    keys: async (prefix, limit) => {
      const upper = prefixUpperBound(prefix);
      const bounds = upper === undefined ? 'k >= ?' : 'k >= ? AND k < ?';
      const args: unknown[] = upper === undefined ? [encodeKey(prefix)] : [encodeKey(prefix), encodeKey(upper)];
      const rows = sql
        .exec(
          `SELECT k FROM ${table} WHERE part = 0 AND ${bounds} ORDER BY k LIMIT ?`,
          ...args,
          limit === Infinity ? -1 : limit,
        )
        .toArray();
      return rows.map((row) => decodeKey(bytesOf(row.k)));
    },
    clear: async () => void sql.exec(`DELETE FROM ${table}`),
    // the object's storage outlives this store: nothing to release
    close: async () => {},
  };
}

/** A key as bytes: its UTF-16 code units, big-endian (byte order = code-unit order). */
export function encodeKey(key: string): ArrayBuffer {
  const out = new Uint8Array(key.length * 2);
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    out[2 * i] = unit >> 8;
    out[2 * i + 1] = unit & 0xff;
  }
  return out.buffer;
}

/** Inverse of `encodeKey`. */
export function decodeKey(bytes: Uint8Array): string {
  if (bytes.length % 2 !== 0) throw new Error('a stored key is not in this store key encoding (odd length)');
  let key = '';
  const units: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    units.push((bytes[i]! << 8) | bytes[i + 1]!);
    if (units.length === 8192) key += String.fromCharCode(...units.splice(0));
  }
  return key + String.fromCharCode(...units);
}

/** The value in parts of at most VALUE_PART_BYTES (one empty part for an empty value), as ArrayBuffers. */
function splitValue(value: Uint8Array): ArrayBuffer[] {
  const parts: ArrayBuffer[] = [];
  for (let at = 0; at < value.length || parts.length === 0; at += VALUE_PART_BYTES)
    parts.push(value.slice(at, at + VALUE_PART_BYTES).buffer);
  return parts;
}

function joinParts(rows: Record<string, unknown>[]): Uint8Array | undefined {
  if (rows.length === 0) return undefined;
  if (rows.length === 1) return bytesOf(rows[0]!.v).slice();
  const parts = rows.map((row) => bytesOf(row.v));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A BLOB column as bytes (workerd returns an ArrayBuffer). */
function bytesOf(column: unknown): Uint8Array {
  if (column instanceof ArrayBuffer) return new Uint8Array(column);
  if (ArrayBuffer.isView(column)) return new Uint8Array(column.buffer, column.byteOffset, column.byteLength);
  if (column === null) return new Uint8Array(0);
  throw new Error(`a stored column is not a BLOB (${typeof column})`);
}
