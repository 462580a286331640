/**
 * The generic msgpack writer/reader: differential tests against @msgpack/msgpack, the exact integer and
 * length forms of rmp 0.8.12, and adversarial input (truncation, oversized headers, depth, bad UTF-8).
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { decode as referenceDecode, encode as referenceEncode } from '@msgpack/msgpack';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { DecodeError, ProtocolError } from '../../../src/protocol/errors.js';
import {
  MsgpackReader,
  MsgpackWriter,
  decodeMsgpackValue,
  encodeMsgpackValue,
  type MsgpackValue,
} from '../../../src/protocol/codec/msgpack-wire.js';

const hexOf = (f: (w: MsgpackWriter) => void): string => {
  const w = new MsgpackWriter(1);
  f(w);
  return bytesToHex(w.finish());
};

/** JSON-like values that @msgpack/msgpack and our writer must encode identically (safe ints, strings, bin, arrays, string-keyed maps). */
const plainValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -0x8000_0000, max: 0xffff_ffff }),
    fc.maxSafeInteger(),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 250, maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('value'), { maxLength: 20 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 17 }),
  ),
})).value;

/** Our value model for the same thing: plain objects become string-keyed Maps. */
function toOurs(v: unknown): MsgpackValue {
  if (Array.isArray(v)) return v.map(toOurs);
  if (v instanceof Uint8Array || v === null || typeof v !== 'object') return v as MsgpackValue;
  return new Map(Object.entries(v).map(([k, x]) => [k, toOurs(x)]));
}

describe('writer: integer forms of rmp 0.8.12', () => {
  test('write_uint picks the shortest form at every boundary', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [0x7f, '7f'],
      [0x80, 'cc80'],
      [0xff, 'ccff'],
      [0x100, 'cd0100'],
      [0xffff, 'cdffff'],
      [0x10000, 'ce00010000'],
      [0xffff_ffff, 'ceffffffff'],
      [0x1_0000_0000, 'cf0000000100000000'],
      [Number.MAX_SAFE_INTEGER, 'cf001fffffffffffff'],
    ];
    for (const [n, hex] of cases)
      expect(
        hexOf((w) => w.uint(n)),
        String(n),
      ).toBe(hex);
    expect(hexOf((w) => w.uint64((1n << 64n) - 1n))).toBe('cfffffffffffffffff');
    expect(hexOf((w) => w.uint64(5n))).toBe('05');
  });

  test('write_sint uses unsigned forms for non-negative values and the shortest signed form otherwise', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [127, '7f'],
      [128, 'cc80'],
      [-1, 'ff'],
      [-32, 'e0'],
      [-33, 'd0df'],
      [-128, 'd080'],
      [-129, 'd1ff7f'],
      [-32768, 'd18000'],
      [-32769, 'd2ffff7fff'],
      [-0x8000_0000, 'd280000000'],
      [-0x8000_0001, 'd3ffffffff7fffffff'],
    ];
    for (const [n, hex] of cases)
      expect(
        hexOf((w) => w.sint(n)),
        String(n),
      ).toBe(hex);
  });

  test('string, bin, array and map headers switch forms at 32/16 and 2^8/2^16', () => {
    expect(hexOf((w) => w.str('a'.repeat(31))).slice(0, 2)).toBe('bf');
    expect(hexOf((w) => w.str('a'.repeat(32))).slice(0, 4)).toBe('d920');
    expect(hexOf((w) => w.str('a'.repeat(256))).slice(0, 6)).toBe('da0100');
    expect(hexOf((w) => w.str('a'.repeat(65536))).slice(0, 10)).toBe('db00010000');
    expect(hexOf((w) => w.bin(new Uint8Array(255))).slice(0, 4)).toBe('c4ff');
    expect(hexOf((w) => w.bin(new Uint8Array(256))).slice(0, 6)).toBe('c50100');
    expect(hexOf((w) => w.bin(new Uint8Array(65536))).slice(0, 10)).toBe('c600010000');
    expect(hexOf((w) => w.arrayHeader(15))).toBe('9f');
    expect(hexOf((w) => w.arrayHeader(16))).toBe('dc0010');
    expect(hexOf((w) => w.arrayHeader(65536))).toBe('dd00010000');
    expect(hexOf((w) => w.mapHeader(15))).toBe('8f');
    expect(hexOf((w) => w.mapHeader(16))).toBe('de0010');
    // a 33-byte secp256k1 key as a tuple: dc 00 21 (alys-protocol.md 1.1)
    expect(hexOf((w) => w.byteArray(new Uint8Array(33).fill(0x80))).slice(0, 10)).toBe('dc0021cc80');
  });

  test('non-ASCII strings are written as UTF-8 with the byte length in the header', () => {
    expect(hexOf((w) => w.str('é'))).toBe('a2c3a9');
    expect(hexOf((w) => w.str('a'.repeat(30) + 'é'))).toBe('d920' + '61'.repeat(30) + 'c3a9');
  });

  test('the writer refuses values that have no Rust counterpart', () => {
    expect(() => new MsgpackWriter().uint(-1)).toThrow(ProtocolError);
    expect(() => new MsgpackWriter().uint(1.5)).toThrow(ProtocolError);
    expect(() => new MsgpackWriter().uint(2 ** 53)).toThrow(ProtocolError);
    expect(() => new MsgpackWriter().uint64(1n << 64n)).toThrow(ProtocolError);
    expect(() => new MsgpackWriter().hexStr('0xAB', '$.x')).toThrow(/\$\.x/);
    expect(() => new MsgpackWriter().hexStr('ab', '$.x')).toThrow(ProtocolError);
    expect(() => new MsgpackWriter().hexStr('0xabc', '$.x')).toThrow(ProtocolError);
    expect(() => new MsgpackWriter().hexStr('0xab', '$.x', 2)).toThrow(/expected 2 bytes/);
    expect(() => encodeMsgpackValue(0.5)).toThrow(ProtocolError);
  });

  test('reset keeps the writer usable and finish returns an independent copy', () => {
    const w = new MsgpackWriter(2);
    w.str('hello world, longer than the initial capacity');
    const first = w.finish();
    w.reset().uint(1);
    expect(bytesToHex(w.finish())).toBe('01');
    expect(bytesToHex(first.subarray(0, 2))).toBe('d92d');
  });
});

describe('differential against @msgpack/msgpack', () => {
  test('our writer produces the same bytes for random plain values', () => {
    fc.assert(
      fc.property(plainValue, (v) => {
        expect(bytesToHex(encodeMsgpackValue(toOurs(v)))).toBe(bytesToHex(referenceEncode(v)));
      }),
      { numRuns: 400 },
    );
  });

  test('our reader decodes what @msgpack/msgpack writes', () => {
    fc.assert(
      fc.property(plainValue, (v) => {
        expect(decodeMsgpackValue(referenceEncode(v))).toEqual(toOurs(v));
      }),
      { numRuns: 400 },
    );
  });

  test('our reader and @msgpack/msgpack agree on what our writer writes', () => {
    fc.assert(
      fc.property(plainValue, (v) => {
        const bytes = encodeMsgpackValue(toOurs(v));
        expect(referenceDecode(bytes)).toEqual(v);
        expect(decodeMsgpackValue(bytes)).toEqual(toOurs(v));
      }),
      { numRuns: 200 },
    );
  });
});

describe('reader: typed reads', () => {
  test('integers: any marker is accepted when the value is in range (serde primitive visitors do the same)', () => {
    for (const hex of [
      '05',
      'cc05',
      'cd0005',
      'ce00000005',
      'cf0000000000000005',
      'd005',
      'd10005',
      'd200000005',
      'd30000000000000005',
    ]) {
      expect(new MsgpackReader(hexToBytes(hex)).uint('$.x', 255), hex).toBe(5);
    }
    expect(new MsgpackReader(hexToBytes('cfffffffffffffffff')).uint64('$.x')).toBe((1n << 64n) - 1n);
    expect(new MsgpackReader(hexToBytes('ff')).int('$.x', -10, 10)).toBe(-1);
  });

  test('integers out of range, negative for unsigned, floats and other types are DecodeErrors at the field', () => {
    const bad: [string, (r: MsgpackReader) => unknown][] = [
      ['cd0100', (r) => r.uint('$.x', 255)],
      ['ff', (r) => r.uint('$.x')],
      ['d3ffffffffffffffff', (r) => r.uint64('$.x')],
      ['cf0020000000000000', (r) => r.uint('$.x')], // 2^53: not a safe integer
      ['cb3ff0000000000000', (r) => r.uint('$.x')], // float 1.0
      ['a131', (r) => r.uint('$.x')],
      ['c0', (r) => r.uint('$.x')],
      ['ce80000000', (r) => r.int('$.x', -0x8000_0000, 0x7fff_ffff)],
    ];
    for (const [hex, read] of bad) {
      const r = new MsgpackReader(hexToBytes(hex));
      try {
        read(r);
        expect.unreachable(`accepted ${hex}`);
      } catch (e) {
        expect(e, hex).toBeInstanceOf(DecodeError);
        expect((e as DecodeError).path).toBe('$.x@0');
      }
    }
  });

  test('strings: malformed UTF-8 is refused; hex strings are checked and lower-cased', () => {
    expect(() => new MsgpackReader(hexToBytes('a2c328')).str('$.s')).toThrow(DecodeError);
    expect(
      new MsgpackReader(hexToBytes('a4' + bytesToHex(new TextEncoder().encode('0xAB')))).hexStr('$.h', { bytes: 1 }),
    ).toBe('0xab');
    const bad = ['0X00', '00', '0x0', '0xzz', '0x00 ', 'x0'];
    for (const s of bad) {
      const bytes = new Uint8Array([0xa0 | s.length, ...new TextEncoder().encode(s)]);
      expect(() => new MsgpackReader(bytes).hexStr('$.h'), s).toThrow(DecodeError);
    }
    const w = new MsgpackWriter().str('0x0011');
    expect(() => new MsgpackReader(w.finish()).hexStr('$.h', { bytes: 3 })).toThrow(/expected 3 bytes/);
    expect(() => new MsgpackReader(w.finish()).hexStr('$.h', { maxBytes: 1 })).toThrow(/at most 1/);
  });

  test('str and bin are not interchangeable', () => {
    expect(() => new MsgpackReader(hexToBytes('c40100')).str('$.s')).toThrow(/expected a string, found bin/);
    expect(() => new MsgpackReader(hexToBytes('a100')).bin('$.b')).toThrow(/expected bin, found a string/);
  });

  test('struct arity is exact', () => {
    expect(() => new MsgpackReader(hexToBytes('93010203')).arrayHeader('$.s', { length: 2 })).toThrow(
      /expected an array of 2 elements, got 3/,
    );
  });

  test('trailing bytes are refused', () => {
    expect(() => decodeMsgpackValue(hexToBytes('0102'))).toThrow(/1 unexpected trailing bytes/);
  });

  test('the reserved marker and ext values are refused', () => {
    expect(() => decodeMsgpackValue(hexToBytes('c1'))).toThrow(DecodeError);
    expect(() => decodeMsgpackValue(hexToBytes('d40100'))).toThrow(DecodeError);
  });
});

describe('reader: hostile input', () => {
  test('headers claiming more than the input holds are refused before any allocation', () => {
    const cases = [
      'dbffffffff', // str32 of 4 GiB
      'c6ffffffff', // bin32 of 4 GiB
      'ddffffffff', // array32 of 4G elements
      'dfffffffff', // map32 of 4G entries
      'dc0003c0c0', // array16 of 3 with 2 bytes left
      'de000200c0c0', // map16 of 2 entries with 3 bytes left
    ];
    for (const hex of cases) {
      const start = performance.now();
      expect(() => decodeMsgpackValue(hexToBytes(hex)), hex).toThrow(DecodeError);
      expect(() => new MsgpackReader(hexToBytes(hex)).skipValue(), hex).toThrow(DecodeError);
      // no 4 GiB allocation nor a 4G-step loop (either takes seconds or throws RangeError); generous for a
      // loaded machine, where a 50 ms bound could be missed by one GC pause
      expect(performance.now() - start).toBeLessThan(1_000);
    }
  });

  test('every truncation of a valid value is a DecodeError, never another exception', () => {
    const bytes = encodeMsgpackValue([
      1,
      -200,
      'a'.repeat(40),
      new Uint8Array(300),
      new Map<MsgpackValue, MsgpackValue>([['k', [1n << 60n, null, true]]]),
    ]);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeMsgpackValue(bytes.subarray(0, cut)), `cut ${cut}`).toThrow(DecodeError);
      expect(() => new MsgpackReader(bytes.subarray(0, cut)).skipValue(), `cut ${cut}`).toThrow(DecodeError);
    }
  });

  test('nesting is limited (generic reader and skipper)', () => {
    const deep = new Uint8Array(10_000).fill(0x91); // [[[[…]]]] never closed
    expect(() => decodeMsgpackValue(deep)).toThrow(/nesting deeper than 64/);
    expect(() => new MsgpackReader(deep).skipValue()).toThrow(/nesting deeper than 64/);
    const ok = new Uint8Array(21).fill(0x91);
    ok[20] = 0xc0;
    expect(() => decodeMsgpackValue(ok, { maxDepth: 20 })).not.toThrow();
    expect(() => decodeMsgpackValue(ok, { maxDepth: 19 })).toThrow(/nesting/);
  });

  test('random bytes never produce anything but a value or a DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeMsgpackValue(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('error paths name the byte offset', () => {
    try {
      decodeMsgpackValue(hexToBytes('9201c1'));
      expect.unreachable();
    } catch (e) {
      expect((e as DecodeError).path).toBe('msgpack@2');
    }
  });
});
