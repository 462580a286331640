/**
 * The in-memory `KvStore`: tests, the devnet, a node that persists nothing. Wrapped in the same
 * checks as every backend (`guard.ts`).
 */
import type { KvOp, KvStore } from './kv.js';
import { guardKvBackend, type KvBackend } from './guard.js';

/** A `KvStore` that keeps everything in a `Map` until it is closed. */
export function createMemoryStore(): KvStore {
  return guardKvBackend('memory', memoryBackend());
}

function memoryBackend(): KvBackend {
  const data = new Map<string, Uint8Array>();
  // Keys in code-unit order, rebuilt on the first scan after a key was added or removed.
  let sorted: string[] | undefined;

  function apply(op: KvOp): void {
    if (op.type === 'put') {
      if (!data.has(op.key)) sorted = undefined;
      data.set(op.key, op.value);
    } else if (data.delete(op.key)) {
      sorted = undefined;
    }
  }

  function scan(prefix: string, limit: number): string[] {
    sorted ??= [...data.keys()].sort(compareCodeUnits);
    const out: string[] = [];
    for (let i = lowerBound(sorted, prefix); i < sorted.length && out.length < limit; i++) {
      const key = sorted[i]!;
      if (!key.startsWith(prefix)) break;
      out.push(key);
    }
    return out;
  }

  return {
    get: async (key) => data.get(key)?.slice(),
    getMany: async (keys) => keys.map((key) => data.get(key)?.slice()),
    // Synchronous from the first operation to the last: nothing can interleave with a batch.
    batch: async (ops) => ops.forEach(apply),
    keys: async (prefix, limit) => scan(prefix, limit),
    clear: async () => {
      data.clear();
      sorted = undefined;
    },
    close: async () => {
      data.clear();
      sorted = undefined;
    },
  };
}

/** String order of the interface: UTF-16 code units (what `<` and IndexedDB do). */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Index of the first element of `sorted` that is >= `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
