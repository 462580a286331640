/**
 * Seeded structured mutations for the fuzz benchmark (bench/fuzz.ts): every choice is drawn from
 * `Seeded` (src/devnet/faults/seeded.ts), so a (seed, format, case) triple always yields the same input.
 *
 * - bytes: bit flips, byte insert/delete/overwrite, truncation, length-field edits (varint, msgpack and
 *   snappy length markers written over a byte), slice duplication;
 * - JSON values: removed and duplicated keys (duplicates are written into the text, as JSON.parse keeps the
 *   last), type swaps, huge and odd numbers, deep nesting, hex-string edits, array element edits, and byte
 *   mutations of the serialized text;
 * - text (TOML, JSON files): line deletion/duplication, value swaps, huge numbers, deep nesting, byte edits.
 */
import { Seeded } from '../../src/devnet/faults/seeded.js';
import { concatBytes } from '../../src/protocol/bytes.js';

/** The deterministic draws of one case. */
export class CaseRng {
  private n = 0;
  constructor(
    private readonly seeded: Seeded,
    private readonly index: number,
  ) {}

  static for(seed: string, format: string, index: number): CaseRng {
    return new CaseRng(new Seeded(seed, `fuzz/${format}`), index);
  }

  int(n: number): number {
    return this.seeded.int(this.index, `d${this.n++}`, n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(percent: number): boolean {
    return this.int(100) < percent;
  }
}

/** Bytes that mean "length follows" or "huge length" in the formats we parse (varint, msgpack, snappy, compact size). */
const LENGTH_BYTES = [
  0x00, 0x01, 0x7f, 0x80, 0xff, 0xfd, 0xfe, 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
];

export const BYTE_MUTATIONS = ['bit-flip', 'insert', 'delete', 'overwrite', 'truncate', 'length-edit', 'duplicate'];

/** One byte-level mutation of `b` (a new array). */
export function mutateBytesOnce(b: Uint8Array, rng: CaseRng): Uint8Array {
  const op = rng.pick(BYTE_MUTATIONS);
  const at = rng.int(Math.max(1, b.length));
  switch (op) {
    case 'bit-flip': {
      const m = b.slice();
      if (m.length > 0) m[at] = m[at]! ^ (1 << rng.int(8));
      return m;
    }
    case 'insert':
      return concatBytes(b.subarray(0, at), Uint8Array.of(rng.int(256)), b.subarray(at));
    case 'delete':
      return concatBytes(b.subarray(0, at), b.subarray(at + 1));
    case 'overwrite': {
      const m = b.slice();
      if (m.length > 0) m[at] = rng.int(256);
      return m;
    }
    case 'truncate':
      return b.slice(0, at);
    case 'length-edit': {
      const m = b.slice();
      if (m.length > 0) m[at] = rng.pick(LENGTH_BYTES);
      return m;
    }
    default: {
      const len = 1 + rng.int(Math.min(64, Math.max(1, b.length - at)));
      return concatBytes(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len));
    }
  }
}

/** 1-3 byte-level mutations. */
export function mutateBytes(b: Uint8Array, rng: CaseRng): Uint8Array {
  let m = b;
  for (let i = 1 + rng.int(3); i > 0; i--) m = mutateBytesOnce(m, rng);
  return m;
}

// ---------------------------------------------------------------- JSON

/** A JSON value whose text is spliced in verbatim (huge numbers, deep nesting, duplicate keys). */
class Raw {
  constructor(readonly text: string) {}
}

/** An object written with one key twice: first `first`, then the real value (JSON.parse keeps the last). */
class DupKey {
  constructor(
    readonly obj: Record<string, unknown>,
    readonly key: string,
    readonly first: unknown,
  ) {}
}

const HUGE = [
  '1e308',
  '1e400',
  '-1',
  '-0',
  '1.5',
  '18446744073709551616',
  '9007199254740993',
  '115792089237316195423570985008687907853269984665640564039457584007913129639936',
  `"0x${'f'.repeat(80)}"`,
  `"0x${'f'.repeat(64)}"`,
  '"-1"',
  '"1e3"',
  '"0x"',
  '"99999999999999999999999999999"',
  '4294967296',
];

const SWAPS: readonly unknown[] = [null, true, false, 0, 1, '', 'x', '0x', '0x0', [], {}, [null], { a: 1 }];

/** Every path (array of keys/indexes) in `v`, root included. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (out.length > 20_000) return out;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) paths(v[i], [...at, i], out);
  } else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) paths(x, [...at, k], out);
  return out;
}

function getAt(v: unknown, path: readonly (string | number)[]): unknown {
  let x = v as Record<string | number, unknown>;
  for (const k of path) x = x[k] as Record<string | number, unknown>;
  return x;
}

/** A deep copy (plain JSON values only; bigints never appear in seeds). */
function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Replace the value at `path` (root: returns the replacement). */
function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path.at(-1)!] = value;
  return root;
}

function editString(s: string, rng: CaseRng): string {
  const at = rng.int(Math.max(1, s.length));
  switch (rng.int(7)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + rng.pick(['0', 'f', 'g', 'F', ' ', '\u0000', 'é']) + s.slice(at);
    case 2:
      return s.slice(0, at) + rng.pick(['0', '1', 'a', 'f', 'F', 'x', 'z']) + s.slice(at + 1);
    case 3:
      return s.toUpperCase();
    case 4:
      return s.startsWith('0x') ? s.slice(2) : `0x${s}`;
    case 5:
      return s + s.slice(2);
    default:
      return s.slice(0, at);
  }
}

export const JSON_MUTATIONS = [
  'remove-key',
  'duplicate-key',
  'type-swap',
  'huge-number',
  'deep-nesting',
  'string-edit',
  'array-edit',
  'text-bytes',
];

/** Serialize with Raw and DupKey nodes spliced in. */
export function stringify(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof DupKey) {
    const body = stringify(v.obj);
    const dup = `${JSON.stringify(v.key)}:${stringify(v.first)}`;
    return body === '{}' ? `{${dup}}` : `{${dup},${body.slice(1)}`;
  }
  if (Array.isArray(v)) return `[${v.map(stringify).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}:${stringify(x)}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** One structured mutation of a JSON value, returned as JSON text. */
export function mutateJsonText(value: unknown, rng: CaseRng): string {
  const op = rng.pick(JSON_MUTATIONS);
  if (op === 'text-bytes') {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    return new TextDecoder().decode(mutateBytes(bytes, rng));
  }
  let root: unknown = clone(value);
  const all = paths(root);
  const path = rng.pick(all);
  switch (op) {
    case 'remove-key':
    case 'duplicate-key': {
      const objects = all.filter((p) => {
        const t = getAt(root, p);
        return t !== null && typeof t === 'object' && !Array.isArray(t) && Object.keys(t).length > 0;
      });
      if (objects.length === 0) break;
      const at = rng.pick(objects);
      const obj = getAt(root, at) as Record<string, unknown>;
      const key = rng.pick(Object.keys(obj));
      if (op === 'remove-key') delete obj[key];
      else root = setAt(root, at, new DupKey(obj, key, rng.pick([...SWAPS, obj[key]])));
      break;
    }
    case 'type-swap':
      root = setAt(root, path, clone(rng.pick(SWAPS)));
      break;
    case 'huge-number':
      root = setAt(root, path, new Raw(rng.pick(HUGE)));
      break;
    case 'deep-nesting': {
      const depth = rng.pick([64, 1_000, 10_000, 100_000]);
      const [open, close] = rng.pick([
        ['[', ']'],
        ['{"a":', '}'],
      ] as const);
      root = setAt(root, path, new Raw(open.repeat(depth) + '1' + close.repeat(depth)));
      break;
    }
    case 'string-edit': {
      const strings = all.filter((p) => typeof getAt(root, p) === 'string');
      if (strings.length === 0) break;
      const at = rng.pick(strings);
      root = setAt(root, at, editString(getAt(root, at) as string, rng));
      break;
    }
    default: {
      const arrays = all.filter((p) => Array.isArray(getAt(root, p)));
      if (arrays.length === 0) break;
      const arr = getAt(root, rng.pick(arrays)) as unknown[];
      const i = rng.int(Math.max(1, arr.length));
      const k = rng.int(4);
      if (k === 0) arr.splice(i, 1);
      else if (k === 1) arr.splice(i, 0, clone(arr[i] ?? null));
      else if (k === 2 && arr.length > 1) [arr[0], arr[i]] = [arr[i], arr[0]];
      else arr.push(clone(rng.pick(SWAPS)));
    }
  }
  return stringify(root);
}

// ---------------------------------------------------------------- text (TOML / JSON files)

export const TEXT_MUTATIONS = [
  'delete-line',
  'duplicate-line',
  'swap-value',
  'huge-number',
  'deep-nesting',
  'text-bytes',
];

const TEXT_VALUES = [
  '""',
  '"x"',
  'true',
  '0',
  '-1',
  '[]',
  '{}',
  '1e400',
  '99999999999999999999',
  'inf',
  'nan',
  '0x7fffffffffffffff',
  '"\u001b[31mred"',
  '[1, "a", {}]',
];

/** One mutation of a line-oriented text file (TOML config). */
export function mutateText(text: string, rng: CaseRng): string {
  const lines = text.split('\n');
  const i = rng.int(lines.length);
  const op = rng.pick(TEXT_MUTATIONS);
  const withValue = (v: string) => {
    const eq = lines[i]!.indexOf('=');
    lines[i] = eq < 0 ? `${lines[i]} = ${v}` : `${lines[i]!.slice(0, eq + 1)} ${v}`;
  };
  switch (op) {
    case 'delete-line':
      lines.splice(i, 1);
      break;
    case 'duplicate-line':
      lines.splice(i, 0, lines[i]!);
      break;
    case 'swap-value':
      withValue(rng.pick(TEXT_VALUES));
      break;
    case 'huge-number':
      withValue(rng.pick(['1e400', '9223372036854775808', '-9223372036854775809', '1_000_000_000_000']));
      break;
    case 'deep-nesting': {
      const d = rng.pick([8, 64, 1_000, 50_000]);
      withValue(rng.chance(50) ? `${'['.repeat(d)}1${']'.repeat(d)}` : `${'{ a = '.repeat(d)}1${' }'.repeat(d)}`);
      break;
    }
    default:
      return new TextDecoder().decode(mutateBytes(new TextEncoder().encode(text), rng));
  }
  return lines.join('\n');
}
