/**
 * The raw Snappy block format, decoding only (https://github.com/google/snappy/blob/main/format_description.txt):
 * a varint of the uncompressed length, then literals and back-references (copies with 1-, 2- and 4-byte
 * offsets). Strict and linear: every element is bounds-checked before it is used, the output must be
 * exactly the announced length, and any violation is a DecodeError. snappyjs (still our compressor) reads
 * a literal length of 2^31 or more as negative and walks its read position backwards, and accepts
 * copies with negative offsets and blocks shorter or longer than announced (found by bench/fuzz.ts).
 */
import { DecodeError } from '../errors.js';

/** The uncompressed length preamble: a varint of at most 32 bits. */
function readLength(b: Uint8Array, label: string): { length: number; at: number } {
  let length = 0;
  for (let i = 0; i < 5 && i < b.length; i++) {
    const c = b[i]!;
    if (i === 4 && c > 0x0f) break;
    length += (c & 0x7f) * 2 ** (7 * i);
    if (c < 0x80) return { length, at: i + 1 };
  }
  throw new DecodeError(label, 'the uncompressed length is not a varint of at most 32 bits');
}

/** Decode one raw Snappy block of at most `maxLength` bytes; DecodeError on anything malformed. */
export function snappyUncompress(b: Uint8Array, maxLength: number, label = 'snappy'): Uint8Array {
  const { length, at } = readLength(b, label);
  if (length > maxLength) throw new DecodeError(label, `uncompressed length ${length} is more than ${maxLength}`);
  const out = new Uint8Array(length);
  let pos = at;
  let o = 0;
  while (pos < b.length) {
    const tag = b[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60;
        if (pos + extra > b.length) throw new DecodeError(label, 'a literal length runs past the end');
        len = 0;
        for (let i = extra - 1; i >= 0; i--) len = len * 256 + b[pos + i]!;
        len += 1;
        pos += extra;
      }
      if (len > b.length - pos) throw new DecodeError(label, `a literal of ${len} bytes runs past the end`);
      if (len > length - o) throw new DecodeError(label, `more data than the announced ${length} bytes`);
      out.set(b.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos + 1 > b.length) throw new DecodeError(label, 'a copy runs past the end');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | b[pos]!;
      pos += 1;
    } else if (kind === 2) {
      if (pos + 2 > b.length) throw new DecodeError(label, 'a copy runs past the end');
      len = (tag >>> 2) + 1;
      offset = b[pos]! | (b[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > b.length) throw new DecodeError(label, 'a copy runs past the end');
      len = (tag >>> 2) + 1;
      offset = (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > o) throw new DecodeError(label, `a copy from offset ${offset} at output byte ${o}`);
    if (len > length - o) throw new DecodeError(label, `more data than the announced ${length} bytes`);
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== length) throw new DecodeError(label, `${o} bytes, not the announced ${length}`);
  return out;
}
