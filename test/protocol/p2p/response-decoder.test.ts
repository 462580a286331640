/**
 * The blocks_by_range response decoder is linear and bounded (issue 13 item 2): a response fed a byte
 * at a time costs work proportional to its length (counted in bytes copied and decoded, not timed),
 * nothing past the chunks asked for is decoded or kept, and nothing past the byte budget is buffered.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes } from '../../../src/protocol/bytes.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import {
  encodeResponseChunk,
  MAX_CHUNK_BYTES,
  RESPONSE_TOO_LARGE,
  ResponseDecoder,
  type ResponseChunk,
} from '../../../src/protocol/p2p/index.js';

/** `n` bytes, half incompressible (a xorshift stream), half repetitive: both kinds of framing chunk. */
function payload(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i % 131_072 < 65_536 ? x & 0xff : i % 7;
  }
  return out;
}

function response(sizes: number[]): { bytes: Uint8Array; payloads: Uint8Array[] } {
  const payloads = sizes.map((n, i) => payload(n, i + 1));
  return { bytes: concatBytes(...payloads.map((p) => encodeResponseChunk(0, p))), payloads };
}

/** Push `bytes` one byte at a time; the decoder's work and the chunks. */
function byteByByte(bytes: Uint8Array, d = new ResponseDecoder()) {
  const chunks: ResponseChunk[] = [];
  for (let i = 0; i < bytes.length; i++) for (const c of d.push(bytes.subarray(i, i + 1))) chunks.push(c);
  d.end();
  return { chunks, work: d.bytesCopied + d.bytesDecoded, copied: d.bytesCopied, decoded: d.bytesDecoded };
}

const hexes = (xs: readonly Uint8Array[]) => xs.map(bytesToHex);

describe('ResponseDecoder: linear work', () => {
  it('1 MiB in 1-byte pushes: every byte copied about once and decoded once; twice the bytes, twice the work', () => {
    const half = response([MAX_CHUNK_BYTES / 2]);
    const full = response([MAX_CHUNK_BYTES]);
    const a = byteByByte(half.bytes);
    const b = byteByByte(full.bytes);
    expect(hexes(b.chunks.map((c) => c.payload))).toEqual(hexes(full.payloads));
    expect(hexes(a.chunks.map((c) => c.payload))).toEqual(hexes(half.payloads));
    // each payload byte is decoded (checksummed, copied into its block) exactly once
    expect(b.decoded).toBe(MAX_CHUNK_BYTES);
    // each wire byte is copied once on arrival and at most once more to assemble a framing chunk (plus
    // a few header bytes read twice)
    expect(b.copied).toBeLessThanOrEqual(2 * full.bytes.length + 1024);
    const ratio = b.work / a.work;
    expect(ratio).toBeGreaterThan(1.9);
    expect(ratio).toBeLessThan(2.1);
  });

  it('many chunks in 1-byte pushes: the same linear work, the same chunks as one push', () => {
    const r = response(Array.from({ length: 16 }, (_, i) => 60_000 + i * 1_000));
    const split = byteByByte(r.bytes);
    const whole = new ResponseDecoder();
    expect(hexes(whole.push(r.bytes).map((c) => c.payload))).toEqual(hexes(r.payloads));
    expect(hexes(split.chunks.map((c) => c.payload))).toEqual(hexes(r.payloads));
    const total = r.payloads.reduce((s, p) => s + p.length, 0);
    expect(split.decoded).toBe(total);
    expect(split.copied).toBeLessThanOrEqual(2 * r.bytes.length + 1024);
  });
});

describe('ResponseDecoder: bounded', () => {
  it('after maxChunks chunks, later bytes (even junk) are counted, never decoded or kept', () => {
    const r = response([1_000, 2_000, 3_000]);
    const junk = Uint8Array.of(0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    const d = new ResponseDecoder({ maxChunks: 2 });
    const got = d.push(concatBytes(r.bytes, junk));
    expect(hexes(got.map((c) => c.payload))).toEqual(hexes(r.payloads.slice(0, 2)));
    expect(d.complete).toBe(true);
    expect(d.excess).toBe(encodeResponseChunk(0, r.payloads[2]!).length + junk.length);
    expect(d.push(junk)).toEqual([]);
    expect(d.excess).toBe(encodeResponseChunk(0, r.payloads[2]!).length + 2 * junk.length);
    expect(d.bytesDecoded).toBe(3_000);
    d.end();
  });

  it('past the byte budget: a typed DecodeError, and nothing beyond the budget buffered or decoded', () => {
    const budget = 100_000;
    const r = response([60_000, 60_000, 60_000]);
    const d = new ResponseDecoder({ maxBytes: budget });
    let err: unknown;
    let pushed = 0;
    try {
      for (; pushed < r.bytes.length; pushed += 4096) d.push(r.bytes.subarray(pushed, pushed + 4096));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).code).toBe(RESPONSE_TOO_LARGE);
    // it failed at the push that crossed the budget, having copied no more than the budget's bytes twice
    expect(pushed).toBeLessThan(budget);
    expect(pushed + 4096).toBeGreaterThan(budget - 60_000);
    expect(d.bytesCopied).toBeLessThanOrEqual(2 * budget);
    expect(d.bytesDecoded).toBeLessThanOrEqual(budget);
  });

  it('decoded bytes count too: chunks announcing more than the budget fail before they are allocated', () => {
    const d = new ResponseDecoder({ maxBytes: 1_000 });
    const big = encodeResponseChunk(0, new Uint8Array(800));
    expect(d.push(big).length).toBe(1); // compresses to a few bytes on the wire
    expect(() => d.push(big.subarray(0, 4))).toThrow(/longer than 1000 bytes/);
  });
});
