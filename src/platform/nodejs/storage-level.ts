/**
 * The Node `KvStore`: LevelDB through classic-level (one directory per store, one process at a time:
 * LevelDB locks it). A `batch` is one LevelDB WriteBatch, so it is applied whole or not at all, also
 * across a crash; `getMany` reads from one snapshot; prefix scans are key-range iterators.
 *
 * Values are stored as they are ('view' encoding). Keys are stored as UTF-8 of their UTF-16 code
 * units, one unit at a time (CESU-8): identical to UTF-8 for every key without surrogates, but a
 * character above U+FFFF is stored as its surrogate pair (6 bytes, not 4). Two reasons: LevelDB
 * compares bytes, and this byte order is the interface's UTF-16 order (plain UTF-8 sorts U+10000..
 * after U+E000..U+FFFF, IndexedDB and the memory store before); and a lone surrogate, which plain
 * UTF-8 turns into U+FFFD, keeps its identity instead of colliding with other keys.
 */
import { ClassicLevel } from 'classic-level';
import type { KvStore } from '../../node/storage/kv.js';
import { StorageError } from '../../node/storage/kv.js';
import { guardKvBackend, type KvBackend } from '../../node/storage/guard.js';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

const EMPTY_KEY = new Uint8Array(0);

/**
 * Open (creating if missing) the LevelDB database in the directory `path`. Fails with a
 * `StorageError` (operation 'open') when the directory is unusable or another process has it open.
 */
export async function openLevelStore(path: string): Promise<KvStore> {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(
      `openLevelStore: path must be a non-empty directory path (got ${path === '' ? 'an empty string' : typeof path})`,
    );
  }
  let db: Db;
  try {
    db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
  } catch (err) {
    throw new StorageError('level', 'open', openProblem(path, err));
  }
  return guardKvBackend('level', levelBackend(db));
}

function levelBackend(db: Db): KvBackend {
  return {
    get: async (key) => ownBytes(await db.get(encodeKey(key))),
    getMany: async (keys) => (await db.getMany(keys.map(encodeKey))).map(ownBytes),
    batch: (ops) =>
      db.batch(
        ops.map((op) =>
          op.type === 'put'
            ? { type: 'put', key: encodeKey(op.key), value: op.value }
            : { type: 'del', key: encodeKey(op.key) },
        ),
      ),
    keys: async (prefix, limit) => {
      const range = prefixRange(encodeKey(prefix));
      const keys = await db.keys({ ...range, limit: limit === Infinity ? -1 : limit }).all();
      return keys.map(decodeKey);
    },
    clear: async () => {
      await db.clear();
      // classic-level 3.0.0's clear() skips a chunk whose keys add up to 0 bytes, so it leaves the
      // empty key behind when that is the only key left: delete it explicitly.
      await db.del(EMPTY_KEY);
    },
    close: () => db.close(),
  };
}

/** Explain the two usual reasons an open fails; keep the original error as the cause. */
function openProblem(path: string, err: unknown): Error {
  const code = (err as { cause?: { code?: unknown } })?.cause?.code;
  const hint =
    code === 'LEVEL_LOCKED'
      ? `the database at ${path} is already open (in this or another process); close that store first`
      : `could not open a LevelDB database at ${path}; is the path a writable directory?`;
  return new Error(`${hint} (${(err as Error)?.message ?? String(err)})`, { cause: err });
}

/**
 * classic-level returns a fresh Node Buffer per value; hand out a plain Uint8Array over the same
 * memory (no copy), so every backend returns the same type.
 */
function ownBytes(value: Uint8Array | undefined): Uint8Array | undefined {
  if (value === undefined || Object.getPrototypeOf(value) === Uint8Array.prototype) return value;
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** `gte`/`lt` bounds of the keys that start with `prefix` (already encoded); none for ''. */
function prefixRange(prefix: Uint8Array): { gte?: Uint8Array; lt?: Uint8Array } {
  if (prefix.length === 0) return {};
  // The encoding never produces 0xff, so bumping the last byte gives the first key past the prefix.
  const lt = prefix.slice();
  lt[lt.length - 1]! += 1;
  return { gte: prefix, lt };
}

/** A key as bytes: each UTF-16 code unit in UTF-8 form (1-3 bytes), so byte order = code-unit order. */
export function encodeKey(key: string): Uint8Array {
  const out = new Uint8Array(key.length * 3);
  let n = 0;
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    if (unit < 0x80) {
      out[n++] = unit;
    } else if (unit < 0x800) {
      out[n++] = 0xc0 | (unit >> 6);
      out[n++] = 0x80 | (unit & 0x3f);
    } else {
      out[n++] = 0xe0 | (unit >> 12);
      out[n++] = 0x80 | ((unit >> 6) & 0x3f);
      out[n++] = 0x80 | (unit & 0x3f);
    }
  }
  return out.slice(0, n);
}

/** Inverse of `encodeKey`. Throws on bytes it cannot have written (a database from another program). */
export function decodeKey(bytes: Uint8Array): string {
  const units: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    const width = lead < 0x80 ? 1 : lead >= 0xc0 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : 0;
    if (width === 0 || i + width > bytes.length) throw notOurs(i);
    let unit = width === 1 ? lead : lead & (width === 2 ? 0x1f : 0x0f);
    for (let j = 1; j < width; j++) {
      const next = bytes[i + j]!;
      if ((next & 0xc0) !== 0x80) throw notOurs(i + j);
      unit = (unit << 6) | (next & 0x3f);
    }
    // Overlong forms decode, but encodeKey never writes them: refuse, or two byte strings would be one key.
    if ((width === 2 && unit < 0x80) || (width === 3 && unit < 0x800)) throw notOurs(i);
    units.push(unit);
    i += width;
  }
  let key = '';
  for (let k = 0; k < units.length; k += 8192) key += String.fromCharCode(...units.slice(k, k + 8192));
  return key;
}

function notOurs(offset: number): Error {
  return new Error(
    `a stored key is not in this store's key encoding (byte ${offset}); was the database written by another program?`,
  );
}
