/**
 * Raw Snappy blocks inside the framing format, from peers: malformed blocks are DecodeErrors and cost
 * work linear in their size. Known answers built by hand from the Snappy format description; the
 * malformed ones were found by `npm run bench -- fuzz` (snappyjs 0.7.0 accepted them, or, with a
 * literal length of 2^31 or more, walked its read position back by up to 2^31 bytes: ~12 s of CPU
 * for one 2 KB chunk, a loop without end for other lengths).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/protocol/errors.js';
import { maskedCrc32c, snappyFrameDecode } from '../../../src/protocol/p2p/index.js';
import { snappyUncompress } from '../../../src/protocol/p2p/snappy.js';
import snappy from 'snappyjs';

const STREAM_ID = [0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

/** A framed stream with one compressed (0x00) chunk holding `raw`, checksummed as if it decoded to `claimed`. */
function compressedFrame(raw: number[], claimed: number[]): Uint8Array {
  const body = [...le32(maskedCrc32c(Uint8Array.from(claimed))), ...raw];
  return Uint8Array.from([...STREAM_ID, 0x00, ...le32(body.length).slice(0, 3), ...body]);
}

describe('raw Snappy blocks', () => {
  it('decodes literals and the three copy forms, overlapping copies included', () => {
    // length 11: literal "ab", copy-1 (len 4, offset 2) "abab", copy-2 (len 3, offset 6) "aba", copy-4 (len 2, offset 1) "aa"
    const raw = [11, 0x04, 0x61, 0x62, 0x01, 0x02, 0x0a, 0x06, 0x00, 0x07, 0x01, 0x00, 0x00, 0x00];
    expect(new TextDecoder().decode(snappyUncompress(Uint8Array.from(raw), 64))).toBe('ababababaaa');
  });

  it('matches snappyjs on everything snappyjs compresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(40), (data, repeat) => {
        const input = Uint8Array.from([...data, ...Array(repeat * 50).fill(7), ...data]);
        expect(snappyUncompress(snappy.compress(input), 65_536)).toEqual(input);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['a copy with a negative 4-byte offset', [5, 0x00, 0x61, 0x0f, 0x00, 0x00, 0x00, 0x80], [0x61, 0, 0, 0, 0]],
    ['fewer bytes than the announced length', [10, 0x08, 0x61, 0x62, 0x63], [0x61, 0x62, 0x63, 0, 0, 0, 0, 0, 0, 0]],
    ['a literal with a 4-byte length of 2^31 - 15', [16, 0xfc, 0xf0, 0xff, 0xff, 0x7f, 1, 2, 3], Array(16).fill(0)],
    ['more bytes than announced', [2, 0x08, 0x61, 0x62, 0x63], [0x61, 0x62]],
    ['a copy before any output', [4, 0x0d, 0x01, 0x00], [0, 0, 0, 0]],
    ['a copy offset of 0', [5, 0x00, 0x61, 0x0e, 0x00, 0x00], [0x61, 0, 0, 0, 0]],
    ['a length varint of 6 bytes', [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0]],
  ])('refuses %s with a DecodeError (through the framing decoder)', (_name, raw, claimed) => {
    const frame = compressedFrame(raw, claimed);
    expect(() => snappyFrameDecode(frame, claimed.length)).toThrow(DecodeError);
  });

  it('a literal length of 2^31 or more is refused at once', () => {
    // snappyjs read it as a negative length and stepped back 2^31 - 1 bytes, then forward one at a time
    const raw = Uint8Array.from([16, 0xfc, 0x00, 0x00, 0x00, 0x80, 1, 2, 3]);
    expect(() => snappyUncompress(raw, 64)).toThrow(/literal of 2147483649 bytes/);
  });
});
