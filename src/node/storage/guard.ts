/**
 * The checked shell every `KvStore` backend is wrapped in (`guardKvBackend`), so that the rules of
 * the interface hold the same way everywhere:
 *
 * - every argument is checked before a backend is touched: a wrong type is a `TypeError`, a bad
 *   `limit` a `RangeError`, and a batch with one bad operation applies nothing;
 * - values are copied on the way in (synchronously, so mutating the caller's array after the call
 *   changes nothing stored) and backends return fresh arrays on the way out;
 * - whatever a backend throws reaches the caller as a `StorageError` naming the backend and the
 *   operation (the original error is its `cause`);
 * - `close()` refuses new calls at once (`StorageError`), lets calls already running finish, then
 *   closes the backend; a second `close()` is the same promise.
 */
import { StorageError, type KvOp, type KvStore } from './kv.js';

/**
 * What a backend implements. The guard calls it only while open and only with checked input: keys
 * are strings, `batch` values are fresh copies the backend may keep, `limit` is a positive integer
 * or `Infinity`. It must return values the caller may keep and mutate (no aliasing).
 */
export interface KvBackend {
  get(key: string): Promise<Uint8Array | undefined>;
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  batch(ops: readonly KvOp[]): Promise<void>;
  keys(prefix: string, limit: number): Promise<string[]>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The smallest string above every string that starts with `prefix` (code-unit order), or
 * `undefined` when there is none (`prefix` is empty or all U+FFFF). Exclusive upper bound of a scan.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xffff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}

/** Wrap a backend in the checks and lifecycle shared by every `KvStore` (see the file header). */
export function guardKvBackend(kind: KvStore['kind'], backend: KvBackend): KvStore {
  let closing: Promise<void> | undefined;
  const running = new Set<Promise<unknown>>();

  function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (closing !== undefined) return Promise.reject(new StorageError(kind, operation, new Error(CLOSED)));
    const result = (async () => {
      try {
        return await run();
      } catch (err) {
        throw err instanceof StorageError ? err : new StorageError(kind, operation, err);
      }
    })();
    running.add(result);
    const forget = () => void running.delete(result);
    result.then(forget, forget);
    return result;
  }

  async function close(): Promise<void> {
    // Calls already running finish against the open backend; their outcome is their callers'.
    await Promise.allSettled([...running]);
    try {
      await backend.close();
    } catch (err) {
      throw new StorageError(kind, 'close', err);
    }
  }

  return {
    kind,
    get: async (key) => {
      const k = checkKey(key, 'get', 'key');
      return call('get', () => backend.get(k));
    },
    getMany: async (keys) => {
      const ks = checkKeyList(keys);
      return call('getMany', async () => (ks.length === 0 ? [] : backend.getMany(ks)));
    },
    batch: async (ops) => {
      const checked = checkBatch(ops);
      return call('batch', async () => {
        if (checked.length > 0) await backend.batch(checked);
      });
    },
    keys: async (prefix, limit) => {
      if (typeof prefix !== 'string')
        throw new TypeError(`KvStore.keys: prefix must be a string (got ${typeName(prefix)})`);
      const max = checkLimit(limit);
      return call('keys', async () => (max === 0 ? [] : backend.keys(prefix, max)));
    },
    clear: async () => call('clear', () => backend.clear()),
    close: () => (closing ??= close()),
  };
}

const CLOSED = 'the store is closed; open it again with its factory to use it';

function checkKey(key: unknown, method: string, what: string): string {
  if (typeof key !== 'string')
    throw new TypeError(`KvStore.${method}: ${what} must be a string (got ${typeName(key)})`);
  return key;
}

function checkKeyList(keys: unknown): string[] {
  if (!Array.isArray(keys))
    throw new TypeError(`KvStore.getMany: keys must be an array of strings (got ${typeName(keys)})`);
  const out = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = checkKey(keys[i], 'getMany', `keys[${i}]`);
  return out;
}

function checkLimit(limit: unknown): number {
  if (limit === undefined || limit === Infinity) return Infinity;
  if (typeof limit !== 'number') throw new TypeError(`KvStore.keys: limit must be a number (got ${typeName(limit)})`);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`KvStore.keys: limit must be a non-negative integer or undefined for no limit (got ${limit})`);
  }
  return limit;
}

/**
 * Check every operation before any is applied and copy the values (so the batch the backend sees
 * can no longer be changed by the caller). Throws a `TypeError` naming the first bad operation.
 */
function checkBatch(ops: unknown): KvOp[] {
  if (!Array.isArray(ops))
    throw new TypeError(`KvStore.batch: ops must be an array of operations (got ${typeName(ops)})`);
  const out = new Array<KvOp>(ops.length);
  for (let i = 0; i < ops.length; i++) out[i] = checkOp(ops[i], i);
  return out;
}

function checkOp(op: unknown, index: number): KvOp {
  const where = `KvStore.batch: ops[${index}]`;
  const refuse = (problem: string) => new TypeError(`${where}${problem}; nothing was written`);
  if (typeof op !== 'object' || op === null) throw refuse(` must be an operation object (got ${typeName(op)})`);
  const { type, key, value } = op as { type?: unknown; key?: unknown; value?: unknown };
  if (typeof key !== 'string') throw refuse(`.key must be a string (got ${typeName(key)})`);
  if (type === 'del') return { type: 'del', key };
  if (type !== 'put') throw refuse(`.type must be 'put' or 'del' (got ${typeName(type)})`);
  if (!isUint8Array(value)) throw refuse(`.value must be a Uint8Array (got ${typeName(value)})`);
  return { type: 'put', key, value: copyBytes(value) };
}

/** True for any Uint8Array (Buffer included), also from another realm; false for other views. */
export function isUint8Array(value: unknown): value is Uint8Array {
  if (value instanceof Uint8Array) return true;
  if (!ArrayBuffer.isView(value)) return false;
  try {
    return typedArrayName.call(value) === 'Uint8Array';
  } catch {
    return false;
  }
}

// %TypedArray%.prototype[@@toStringTag] reads the internal slot, so it cannot be spoofed.
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!
  .get as (this: unknown) => string | undefined;

/** A plain Uint8Array with its own buffer (not a Buffer, not a view into someone's larger buffer). */
function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** How a wrong argument is named in an error message: its type, and its value when that is short. */
function typeName(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}
