/**
 * Known answers for the canonical msgpack writer: every vector of msgpack-rmp.json (rmp-serde 1.1.2's own
 * test assertions plus the derived Alys-type encodings). Values are taken from each vector's `json_equiv`
 * or parsed from its Rust expression; the expected bytes are only ever read from the vector file.
 */
import { expect, test } from 'vitest';
import { encode as referenceEncode } from '@msgpack/msgpack';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';
import {
  MsgpackWriter,
  decodeMsgpackValue,
  encodeMsgpackValue,
  type MsgpackValue,
} from '../../../src/protocol/codec/msgpack-wire.js';

interface RmpVector {
  name: string;
  rust: string;
  hex: string;
  json_equiv?: unknown;
  value_str?: string;
  crosschecked_with_msgpack_js?: boolean;
}
interface RmpFile {
  vectors: RmpVector[];
  derived_vectors: RmpVector[];
}

const ints = (s: string): number[] => [...s.matchAll(/\b(\d+)/g)].map((m) => Number(m[1]));

/** The JS value of a `json_equiv`, typed like the Rust value (a u64 given as a decimal string becomes a bigint). */
function fromJsonEquiv(v: RmpVector): MsgpackValue {
  const value = v.json_equiv;
  if (typeof value === 'string' && /u64$/.test(v.rust)) return BigInt(value);
  return value as MsgpackValue;
}

/**
 * How each vector is written with the writer. A vector with a `json_equiv` uses the generic value encoder;
 * the others (Rust-only shapes: unit structs, enum variants, serde_bytes, …) are rebuilt from the Rust
 * expression in the vector with the writer primitives rmp-serde uses for them. Several vectors hold more
 * than one value (e.g. "true then false"), written back to back.
 */
const programs: Record<string, (v: RmpVector, w: MsgpackWriter) => void> = {
  bools: (v, w) => {
    for (const word of v.rust.match(/true|false/g)!) w.bool(word === 'true');
  },
  empty_map: (_v, w) => w.mapHeader(0),
  bin_serde_bytes: (v, w) =>
    w.bin(new Uint8Array([...v.rust.matchAll(/0x([0-9a-f]{2})/g)].map((m) => parseInt(m[1]!, 16)))),
  unit_struct: (_v, w) => w.arrayHeader(0), // a unit struct serializes as an empty tuple struct
  unit_variants: (v, w) => {
    for (const [, name] of v.rust.matchAll(/Enum::(\w+)/g)) w.str(name!);
  },
  newtype_struct: (v, w) => w.uint(ints(v.rust.split(';')[1]!)[0]!), // transparent
  newtype_variant: (v, w) => {
    const [, name, n] = /Enum::(\w+)\((\d+)\)/.exec(v.rust)!;
    w.mapHeader(1).str(name!).uint(Number(n));
  },
  tuple_struct: (v, w) => {
    const values = ints(v.rust.split(';')[1]!);
    w.arrayHeader(values.length);
    for (const n of values) w.uint(n);
  },
  struct_variants: (v, w) => {
    for (const [, name, n] of v.rust.matchAll(/Enum::(\w+) \{ \w+: (\d+) \}/g))
      w.mapHeader(1).str(name!).arrayHeader(1).uint(Number(n));
  },
  struct_variant_with_struct_map: (v, w) => {
    const [, name, field, n] = /Enum::(\w+) \{ (\w+): (\d+) \}/.exec(v.rust)!;
    w.mapHeader(1).str(name!).mapHeader(1).str(field!).uint(Number(n));
  },
  struct_as_map_named: (v, w) => {
    const fields = [...v.rust.matchAll(/(\w+): (?:"([^"]*)"|(\d+)u\d+)/g)];
    w.mapHeader(fields.length);
    for (const [, key, s, n] of fields) {
      w.str(key!);
      if (s !== undefined) w.str(s);
      else w.uint(Number(n));
    }
  },
  // derived: Vec<u8> without serde_bytes → array of u8 ints
  vec_u8_without_serde_bytes: (v, w) =>
    w.byteArray(new Uint8Array([...v.rust.matchAll(/0x([0-9a-f]{2})/g)].map((m) => parseInt(m[1]!, 16)))),
  // derived: impl-serde H256 → "0x…" str (checked through the validating hex writer)
  h256_impl_serde_0_4: (v, w) => w.hexStr(v.value_str!, '$', 32),
  // derived: Lighthouse quoted_u64 → decimal str
  u64_quoted: (v, w) => w.str(BigInt(v.value_str!).toString()),
};

function writeVector(v: RmpVector): Uint8Array {
  const w = new MsgpackWriter();
  const program = programs[v.name];
  if (program) program(v, w);
  else if ('json_equiv' in v) encodeMsgpackValue(fromJsonEquiv(v), w);
  else throw new Error(`no way to write vector ${v.name}: add it to the test`);
  return w.finish();
}

describeVectors('msgpack-rmp.json known answers (rmp-serde 1.1.2)', () => {
  const file = loadVectors<RmpFile>('msgpack-rmp.json');
  const all = [...file.vectors, ...file.derived_vectors];

  test('the file has the vectors this suite expects (every vector is checked below)', () => {
    expect(file.vectors.length).toBeGreaterThanOrEqual(25);
    expect(file.derived_vectors.length).toBeGreaterThanOrEqual(3);
  });

  for (const v of all) {
    test(`writer reproduces ${v.name}: ${v.rust}`, () => {
      expect(bytesToHex(writeVector(v))).toBe(v.hex);
    });
  }

  for (const v of all.filter((x) => 'json_equiv' in x)) {
    test(`reader decodes ${v.name} back to its value`, () => {
      const decoded = decodeMsgpackValue(hexToBytes(v.hex));
      expect(decoded).toEqual(fromJsonEquiv(v));
    });
  }

  for (const v of all.filter(
    (x) => x.crosschecked_with_msgpack_js && 'json_equiv' in x && typeof fromJsonEquiv(x) !== 'bigint',
  )) {
    test(`@msgpack/msgpack agrees on ${v.name}`, () => {
      expect(bytesToHex(referenceEncode(fromJsonEquiv(v)))).toBe(bytesToHex(writeVector(v)));
    });
  }
});
