import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toRlp, bytesToHex as viemBytesToHex } from 'viem';
import { DecodeError } from '../../../src/protocol/errors.js';
import { fromHex, toHex } from '../../../src/protocol/bytes.js';
import {
  decodeRlp,
  encodeBytes,
  encodeList,
  encodeRlp,
  encodeUint,
  encodedLength,
  rlpToUint,
  uintToBytes,
  type RlpValue,
} from '../../../src/protocol/execution/rlp.js';

const ascii = (s: string) => new TextEncoder().encode(s);

// A nested RLP structure generator: byte strings (incl. the edge lengths 0, 1, 55, 56) and lists.
const rlpValue: fc.Arbitrary<RlpValue> = fc.letrec<{ value: RlpValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.uint8Array({ maxLength: 3 }),
      fc.uint8Array({ minLength: 54, maxLength: 58 }),
      fc.uint8Array({ maxLength: 300 }),
    ),
    fc.array(tie('value'), { maxLength: 6 }),
  ),
})).value;

describe('RLP known answers (Ethereum wiki / Yellow Paper examples)', () => {
  it('encodes the classic examples', () => {
    expect(toHex(encodeBytes(ascii('dog')))).toBe('0x83646f67');
    expect(toHex(encodeRlp([ascii('cat'), ascii('dog')]))).toBe('0xc88363617483646f67');
    expect(toHex(encodeBytes(new Uint8Array(0)))).toBe('0x80');
    expect(toHex(encodeList([]))).toBe('0xc0');
    expect(toHex(encodeUint(0))).toBe('0x80');
    expect(toHex(encodeUint(0n))).toBe('0x80');
    expect(toHex(encodeUint(15))).toBe('0x0f');
    expect(toHex(encodeUint(1024))).toBe('0x820400');
    expect(toHex(encodeUint(1024n))).toBe('0x820400');
    expect(toHex(encodeRlp([[], [[]], [[], [[]]]]))).toBe('0xc7c0c1c0c3c0c1c0');
    const lorem = ascii('Lorem ipsum dolor sit amet, consectetur adipisicing elit');
    expect(toHex(encodeBytes(lorem))).toBe('0xb838' + toHex(lorem).slice(2));
  });

  it('encodes integers minimally, as bigint and number alike', () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      expect(encodeUint(n)).toEqual(encodeUint(BigInt(n)));
      const b = uintToBytes(n);
      if (b.length > 0) expect(b[0]).not.toBe(0);
    }
    expect(toHex(uintToBytes(2n ** 256n - 1n))).toBe('0x' + 'ff'.repeat(32));
    expect(() => uintToBytes(-1)).toThrow(RangeError);
    expect(() => uintToBytes(-1n)).toThrow(RangeError);
    expect(() => uintToBytes(1.5)).toThrow(RangeError);
  });
});

describe('RLP against viem (an independent encoder)', () => {
  it('encodes every random structure byte-identically to viem toRlp', () => {
    fc.assert(
      fc.property(rlpValue, (v) => {
        expect(viemBytesToHex(encodeRlp(v))).toBe(toRlp(v as never, 'hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('decode(encode(v)) == v and encodedLength agrees', () => {
    fc.assert(
      fc.property(rlpValue, (v) => {
        const enc = encodeRlp(v);
        expect(encodedLength(v)).toBe(enc.length);
        expect(decodeRlp(enc)).toEqual(v);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes either fail with DecodeError or are canonical (re-encode to the same bytes)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        let v: RlpValue;
        try {
          v = decodeRlp(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          return;
        }
        expect(encodeRlp(v)).toEqual(bytes);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('RLP strict decoding', () => {
  const rejects = (hex: string) => expect(() => decodeRlp(fromHex(hex))).toThrow(DecodeError);
  it('rejects non-canonical and malformed encodings', () => {
    rejects(''); // nothing
    rejects('8100'); // single byte < 0x80 wrapped
    rejects('817f');
    rejects('b80100'); // long form for a 1-byte string
    rejects('b900380' + '0'.repeat(111)); // long length with a leading zero byte
    rejects('f800'); // long list form for an empty list
    rejects('83646f'); // truncated string
    rejects('c3646f'); // truncated list payload
    rejects('c2836f'); // list item overruns the list
    rejects('83646f6700'); // trailing byte
    rejects('b9'); // length bytes missing
  });
  it('accepts the canonical boundary forms', () => {
    expect(decodeRlp(fromHex('8180'))).toEqual(Uint8Array.of(0x80));
    expect(decodeRlp(fromHex('00'))).toEqual(Uint8Array.of(0));
    expect((decodeRlp(encodeBytes(new Uint8Array(56))) as Uint8Array).length).toBe(56);
  });
  it('rlpToUint rejects leading zeros, lists and oversized integers', () => {
    expect(rlpToUint(Uint8Array.of(1, 0), 'x')).toBe(256n);
    expect(rlpToUint(new Uint8Array(0), 'x')).toBe(0n);
    expect(() => rlpToUint(Uint8Array.of(0), 'x')).toThrow(DecodeError);
    expect(() => rlpToUint(Uint8Array.of(0, 1), 'x')).toThrow(DecodeError);
    expect(() => rlpToUint([], 'x')).toThrow(DecodeError);
    expect(() => rlpToUint(new Uint8Array(9).fill(1), 'x', 8)).toThrow(DecodeError);
  });
  it('names the byte offset in errors', () => {
    try {
      decodeRlp(fromHex('c4830102'), 'node');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).path).toMatch(/^node@\d+$/);
    }
  });
});
