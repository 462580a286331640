/**
 * Alys p2p wire formats (src/protocol/p2p, alys-protocol.md 7.2-7.3): byte-level fixtures built by
 * hand from the spec and the Snappy framing format (not by our encoder), round trips of random
 * blocks and gossip through every split of the stream, and junk that must fail with DecodeError only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePubsubMessage, encodeSignedBlockMsgpack } from '../../../src/protocol/codec/msgpack.js';
import { signingRoot } from '../../../src/protocol/block.js';
import { bytesToHex } from '../../../src/protocol/bytes.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import {
  chunkToBlock,
  crc32c,
  decodeBlocksByRangeRequest,
  decodeGossip,
  decodeUvarint,
  encodeBlockChunk,
  encodeBlocksByRangeRequest,
  encodeErrorChunk,
  encodeGossip,
  encodeResponseChunk,
  encodeUvarint,
  GOSSIP_TOPICS,
  GossipTooLargeError,
  maskedCrc32c,
  MAX_CHUNK_BYTES,
  ResponseDecoder,
  RESULT,
  snappyFrameDecode,
  snappyFrameEncode,
} from '../../../src/protocol/p2p/index.js';
import { defaultBlock, pubsubMessage, signedBlock } from '../codec/model.js';

const STREAM_ID = [0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u64le = (n: bigint) => Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

/** A framed stream with one uncompressed (0x01) chunk, built by hand. */
function uncompressedFrame(data: number[]): number[] {
  const body = [...le32(maskedCrc32c(Uint8Array.from(data))), ...data];
  return [...STREAM_ID, 0x01, body.length & 0xff, (body.length >> 8) & 0xff, 0, ...body];
}

/** A framed stream with one compressed (0x00) chunk whose Snappy block is a single literal (data <= 60 bytes). */
function literalFrame(data: number[]): number[] {
  const block = [data.length, ((data.length - 1) << 2) | 0, ...data];
  const body = [...le32(maskedCrc32c(Uint8Array.from(data))), ...block];
  return [...STREAM_ID, 0x00, body.length, 0, 0, ...body];
}

function expectOnlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
  }
}

describe('uvarint', () => {
  it('encodes and decodes the LEB128 fixtures', () => {
    for (const [n, bytes] of [
      [0, [0x00]],
      [1, [0x01]],
      [16, [0x10]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [300, [0xac, 0x02]],
      [MAX_CHUNK_BYTES, [0x80, 0x80, 0x40]],
    ] as const) {
      expect([...encodeUvarint(n)]).toEqual(bytes);
      expect(decodeUvarint(Uint8Array.from(bytes))).toEqual({ value: n, length: bytes.length });
    }
  });

  it('asks for more bytes inside a varint; refuses non-minimal and over-long ones', () => {
    expect(decodeUvarint(Uint8Array.of(0x80))).toBeNull();
    expect(() => decodeUvarint(Uint8Array.of(0x80, 0x00))).toThrow(DecodeError);
    expect(() => decodeUvarint(new Uint8Array(9).fill(0x80))).toThrow(/longer than 8 bytes/);
  });
});

describe('CRC-32C and the Snappy framing format', () => {
  it('CRC-32C check value and the framing format mask', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    const c = 0xe3069283;
    expect(maskedCrc32c(new TextEncoder().encode('123456789'))).toBe(
      ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0,
    );
  });

  it('decodes hand-built streams: uncompressed chunk, literal-only compressed chunk, padding and skippable chunks', () => {
    const data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    for (const frame of [uncompressedFrame(data), literalFrame(data)]) {
      expect(snappyFrameDecode(Uint8Array.from(frame), 16)).toEqual({
        data: Uint8Array.from(data),
        length: frame.length,
      });
    }
    const withPadding = [
      ...STREAM_ID,
      0xfe,
      2,
      0,
      0,
      0,
      0,
      0x80,
      1,
      0,
      0,
      9,
      ...uncompressedFrame(data).slice(STREAM_ID.length),
    ];
    expect(snappyFrameDecode(Uint8Array.from(withPadding), 16)?.data).toEqual(Uint8Array.from(data));
  });

  it('refuses a missing identifier, a bad checksum, reserved chunk types and more data than announced', () => {
    const data = [1, 2, 3, 4];
    const good = uncompressedFrame(data);
    expect(() => snappyFrameDecode(Uint8Array.from(good.slice(STREAM_ID.length)), 4)).toThrow(/identifier/);
    const badCrc = good.slice();
    badCrc[STREAM_ID.length + 4]! ^= 1;
    expect(() => snappyFrameDecode(Uint8Array.from(badCrc), 4)).toThrow(/checksum/);
    const reserved = [...STREAM_ID, 0x02, 0, 0, 0];
    expect(() => snappyFrameDecode(Uint8Array.from(reserved), 4)).toThrow(/reserved/);
    expect(() => snappyFrameDecode(Uint8Array.from(good), 3)).toThrow(/more data than/);
    expect(snappyFrameDecode(Uint8Array.from(good.slice(0, -1)), 4)).toBeNull();
  });

  it('property: encode/decode round trip, chunked at 64 KiB, never longer than the worst case', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.integer({ min: 0, max: 200_000 }).map((n) => new Uint8Array(n).map((_, i) => (i * 7) % 251)),
        ),
        (data) => {
          const framed = snappyFrameEncode(data);
          expect([...framed.subarray(0, 10)]).toEqual(STREAM_ID);
          const back = snappyFrameDecode(framed, data.length);
          expect(back?.length).toBe(framed.length);
          expect(bytesToHex(back!.data)).toBe(bytesToHex(data));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('blocks_by_range', () => {
  it('the request is uvarint(16) || frames(start u64 LE || count u64 LE)', () => {
    const req = encodeBlocksByRangeRequest({ startHeight: 1n, count: 1024n });
    expect(req[0]).toBe(0x10);
    expect([...req.subarray(1, 11)]).toEqual(STREAM_ID);
    expect(decodeBlocksByRangeRequest(req)).toEqual({ startHeight: 1n, count: 1024n });
    // a hand-built request (uncompressed chunk) decodes the same
    const hand = Uint8Array.from([0x10, ...uncompressedFrame([...u64le(77n), ...u64le(5n)])]);
    expect(decodeBlocksByRangeRequest(hand)).toEqual({ startHeight: 77n, count: 5n });
    expect(
      decodeBlocksByRangeRequest(encodeBlocksByRangeRequest({ startHeight: (1n << 64n) - 1n, count: 0n })),
    ).toEqual({ startHeight: (1n << 64n) - 1n, count: 0n });
  });

  it('refuses requests of another length, with trailing bytes, or truncated', () => {
    expect(() => decodeBlocksByRangeRequest(Uint8Array.from([0x08, ...uncompressedFrame(u64le(1n))]))).toThrow(
      /exactly 16 bytes/,
    );
    const req = encodeBlocksByRangeRequest({ startHeight: 1n, count: 2n });
    expect(() => decodeBlocksByRangeRequest(Uint8Array.from([...req, 0]))).toThrow(/trailing/);
    expect(() => decodeBlocksByRangeRequest(req.subarray(0, req.length - 1))).toThrow(DecodeError);
    expect(() => decodeBlocksByRangeRequest(new Uint8Array(0))).toThrow(DecodeError);
  });

  it('a response chunk is result || uvarint(len) || frames(msgpack block); error chunks carry UTF-8', () => {
    const block = { ...fc.sample(signedBlock(), { numRuns: 1, seed: 7 })[0]!, message: defaultBlock() };
    const chunk = encodeBlockChunk(block);
    const payload = encodeSignedBlockMsgpack(block);
    expect(chunk[0]).toBe(RESULT.success);
    expect([...chunk.subarray(1, 1 + encodeUvarint(payload.length).length)]).toEqual([
      ...encodeUvarint(payload.length),
    ]);
    const d = new ResponseDecoder();
    const [got] = d.push(chunk);
    d.end();
    const decoded = chunkToBlock(got!);
    expect('block' in decoded && bytesToHex(signingRoot(decoded.block.message))).toBe(
      bytesToHex(signingRoot(defaultBlock())),
    );
    const err = chunkToBlock(
      new ResponseDecoder().push(encodeErrorChunk(RESULT.resourceUnavailable, 'no such range'))[0]!,
    );
    expect(err).toEqual({ error: { code: 3, message: 'no such range' } });
    expect(new ResponseDecoder().push(encodeErrorChunk(RESULT.serverError, 'x'.repeat(1000)))[0]!.payload.length).toBe(
      256,
    );
  });

  it('property: random blocks survive any split of the response stream', () => {
    fc.assert(
      fc.property(
        fc.array(signedBlock(), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (blocks, cuts) => {
          const stream = Uint8Array.from(blocks.flatMap((b) => [...encodeBlockChunk(b)]));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const d = new ResponseDecoder();
          const got = [];
          let from = 0;
          for (const p of [...points, stream.length]) {
            got.push(...d.push(stream.subarray(from, p)));
            from = p;
          }
          d.end();
          expect(got.map((c) => bytesToHex(c.payload))).toEqual(
            blocks.map((b) => bytesToHex(encodeSignedBlockMsgpack(b))),
          );
          for (const c of got) expect('block' in chunkToBlock(c)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('bounded: an announced chunk over 1 MiB, zero-length chunks and a stream ending mid-chunk fail at once', () => {
    expect(() => new ResponseDecoder().push(Uint8Array.from([0, ...encodeUvarint(MAX_CHUNK_BYTES + 1)]))).toThrow(
      /outside 1\.\./,
    );
    expect(() => new ResponseDecoder().push(Uint8Array.of(0, 0))).toThrow(/outside 1\.\./);
    const d = new ResponseDecoder();
    expect(d.push(encodeResponseChunk(0, Uint8Array.of(1, 2, 3)).subarray(0, 8))).toEqual([]);
    expect(() => d.end()).toThrow(/ended inside a chunk/);
    // endless padding after a small announced length is refused before it is buffered forever
    const padding = Uint8Array.from([0, 3, ...STREAM_ID, ...Array.from({ length: 200 }, () => [0xfe, 0, 0, 0]).flat()]);
    expect(() => new ResponseDecoder().push(padding)).toThrow(/framing larger/);
  });

  it('property: junk bytes only ever give DecodeError (requests, responses, block payloads)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
        expectOnlyDecodeErrors(() => decodeBlocksByRangeRequest(junk));
        expectOnlyDecodeErrors(() => {
          const d = new ResponseDecoder();
          for (const c of d.push(junk)) chunkToBlock(c);
          d.end();
        });
        expectOnlyDecodeErrors(() => chunkToBlock({ code: 0, payload: junk }));
      }),
      { numRuns: 500 },
    );
  });
});

describe('gossip', () => {
  it('topics and the variant prefixes of the spec (81 ae "ConsensusBlock", 81 ac "ApproveBlock", 81 a8 "QueuePow", 81 b0 "PegoutSignatures")', () => {
    expect(GOSSIP_TOPICS).toEqual({
      ConsensusBlock: 'consensus_block',
      ApproveBlock: 'approve_block',
      QueuePow: 'queue_pow',
      PegoutSignatures: 'pegout_signatures',
    });
    fc.assert(
      fc.property(pubsubMessage(), (m) => {
        let encoded: { topic: string; data: Uint8Array };
        try {
          encoded = encodeGossip(m);
        } catch (e) {
          expect(e).toBeInstanceOf(GossipTooLargeError);
          expect(encodePubsubMessage(m).length).toBeGreaterThan(65_536);
          return;
        }
        const name = new TextEncoder().encode(m.type);
        expect([...encoded.data.subarray(0, 2 + name.length)]).toEqual([0x81, 0xa0 | name.length, ...name]);
        expect(encoded.topic).toBe(GOSSIP_TOPICS[m.type]);
        expect(bytesToHex(encodePubsubMessage(decodeGossip(encoded.topic, encoded.data)))).toBe(
          bytesToHex(encoded.data),
        );
        // the same bytes on another topic are refused
        const other = Object.values(GOSSIP_TOPICS).find((t) => t !== encoded.topic)!;
        expect(() => decodeGossip(other, encoded.data)).toThrow(/topic/);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses oversize, unknown topics and junk with DecodeError', () => {
    expect(() => decodeGossip('consensus_block', new Uint8Array(65_537))).toThrow(/exceeds 65536/);
    expect(() => decodeGossip('beacon_block', Uint8Array.of(0x81))).toThrow(/not an Alys gossip topic/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...Object.values(GOSSIP_TOPICS)), (junk, topic) =>
        expectOnlyDecodeErrors(() => decodeGossip(topic, junk)),
      ),
      { numRuns: 300 },
    );
  });
});
