/**
 * Alys's request/response protocol on libp2p streams (alys-protocol.md 7.3, forked from Lighthouse):
 * only `blocks_by_range` is served. Pure encoders and bounded, incremental decoders.
 *
 *   request  = uvarint(16) || snappy_frames(start_height u64 LE || count u64 LE)
 *   response = chunk*, then the responder closes the stream
 *   chunk    = result_byte || uvarint(len) || snappy_frames(payload)      (1 <= len <= 1 MiB)
 *
 * A success payload is a msgpack SignedConsensusBlock; an error payload is a UTF-8 message (at most
 * 256 bytes). Where this is stricter than Lighthouse (non-minimal varints, trailing request bytes)
 * it says so in the error.
 */
import { encodeSignedBlockMsgpack, decodeSignedBlockMsgpack } from '../codec/msgpack.js';
import { concatBytes, U64_MAX } from '../bytes.js';
import { DecodeError } from '../errors.js';
import type { SignedConsensusBlock } from '../types.js';
import {
  decodeUvarint,
  encodeUvarint,
  frameChunkLength,
  SnappyFrameSink,
  snappyFrameDecode,
  snappyFrameEncode,
} from './framing.js';

export const BLOCKS_BY_RANGE_PROTOCOL = '/eth2/chain/req/blocks_by_range/1/ssz_snappy';
/** Largest uncompressed chunk (Lighthouse `max_chunk_size`). */
export const MAX_CHUNK_BYTES = 1_048_576;
/** What the Rust client asks for at most per request. */
export const MAX_BLOCKS_PER_REQUEST = 1024;
/**
 * Default byte budget of one response, on the wire and decoded: 64 MiB. 1024 blocks of 64 KiB (the most
 * an Alys block can be and still be gossiped); a response of bigger blocks needs a smaller count or a
 * bigger budget. Without it one peer could make us buffer 1024 chunks of 1 MiB (1 GiB) per request.
 */
export const MAX_RESPONSE_BYTES = 64 * 1_048_576;
/** Error messages are SSZ List[u8, 256]. */
export const MAX_ERROR_MESSAGE_BYTES = 256;

export const RESULT = {
  success: 0,
  invalidRequest: 1,
  serverError: 2,
  resourceUnavailable: 3,
  rateLimited: 139,
} as const;
export type ResultCode = (typeof RESULT)[keyof typeof RESULT] | number;

export interface BlocksByRangeRequest {
  startHeight: bigint;
  count: bigint;
}

export interface ResponseChunk {
  code: ResultCode;
  payload: Uint8Array;
}

/** Bytes a framed stream of `n` data bytes may take at most (Snappy's worst case plus framing). */
export function maxFramedLength(n: number): number {
  return 10 + Math.ceil(n / 65_536) * 8 + 32 + n + Math.floor(n / 6);
}

function u64le(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  let v = n;
  for (let i = 0; i < 8; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function readU64le(b: Uint8Array, o: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[o + i]!);
  return v;
}

export function encodeBlocksByRangeRequest(req: BlocksByRangeRequest): Uint8Array {
  for (const k of ['startHeight', 'count'] as const)
    if (typeof req[k] !== 'bigint' || req[k] < 0n || req[k] > U64_MAX)
      throw new RangeError(`blocks_by_range: ${k} must be a u64 bigint`);
  const ssz = concatBytes(u64le(req.startHeight), u64le(req.count));
  return concatBytes(encodeUvarint(ssz.length), snappyFrameEncode(ssz));
}

/** Decode a whole request (the requester closed its write side). */
export function decodeBlocksByRangeRequest(bytes: Uint8Array): BlocksByRangeRequest {
  const label = 'blocks_by_range.request';
  const len = decodeUvarint(bytes, 0, `${label}.length`);
  if (len === null) throw new DecodeError(label, 'truncated length prefix');
  if (len.value !== 16)
    throw new DecodeError(`${label}.length`, `the SSZ request must be exactly 16 bytes, got ${len.value}`);
  if (bytes.length > len.length + maxFramedLength(16))
    throw new DecodeError(label, `request of ${bytes.length} bytes is longer than 16 framed bytes can be`);
  const framed = snappyFrameDecode(bytes, 16, len.length, `${label}.snappy`);
  if (framed === null) throw new DecodeError(label, 'truncated request');
  if (len.length + framed.length !== bytes.length)
    throw new DecodeError(
      label,
      `${bytes.length - len.length - framed.length} trailing bytes after the request (stricter than Lighthouse)`,
    );
  return { startHeight: readU64le(framed.data, 0), count: readU64le(framed.data, 8) };
}

export function encodeResponseChunk(code: ResultCode, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(code) || code < 0 || code > 255) throw new RangeError(`result code ${code} is not a byte`);
  if (payload.length < 1 || payload.length > MAX_CHUNK_BYTES)
    throw new RangeError(`chunk payload of ${payload.length} bytes (1..${MAX_CHUNK_BYTES})`);
  return concatBytes(Uint8Array.of(code), encodeUvarint(payload.length), snappyFrameEncode(payload));
}

export function encodeBlockChunk(block: SignedConsensusBlock): Uint8Array {
  return encodeResponseChunk(RESULT.success, encodeSignedBlockMsgpack(block));
}

export function encodeErrorChunk(code: Exclude<ResultCode, 0>, message: string): Uint8Array {
  let bytes = new TextEncoder().encode(message || 'error');
  if (bytes.length > MAX_ERROR_MESSAGE_BYTES) bytes = bytes.subarray(0, MAX_ERROR_MESSAGE_BYTES);
  return encodeResponseChunk(code, bytes);
}

/**
 * Bytes pushed and not yet consumed, kept as the pieces they arrived in: consuming `n` bytes copies each
 * byte at most once (a view when they lie in one piece), so the work is linear in the bytes pushed
 * however they are split.
 */
class ByteQueue {
  private pieces: Array<Uint8Array | undefined> = [];
  private first = 0;
  private offset = 0;
  length = 0;
  /** Bytes copied out of pieces (the work of assembling data split across pushes). */
  copied = 0;

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.pieces.push(bytes);
    this.length += bytes.length;
  }

  /** The first `n` bytes (at most `length`) as a copy, leaving them queued (for headers: `n` is small). */
  peek(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.length));
    let got = 0;
    for (let i = this.first, o = this.offset; got < out.length; i++, o = 0) {
      const p = this.pieces[i]!;
      const k = Math.min(out.length - got, p.length - o);
      out.set(p.subarray(o, o + k), got);
      got += k;
    }
    this.copied += out.length;
    return out;
  }

  /** The next `n` bytes (`n` <= `length`), consumed. */
  take(n: number): Uint8Array {
    const p = this.pieces[this.first]!;
    const out = p.length - this.offset >= n ? p.subarray(this.offset, this.offset + n) : this.peek(n);
    this.skip(n);
    return out;
  }

  skip(n: number): void {
    this.length -= n;
    while (n > 0) {
      const rest = this.pieces[this.first]!.length - this.offset;
      if (n < rest) {
        this.offset += n;
        return;
      }
      n -= rest;
      this.pieces[this.first++] = undefined;
      this.offset = 0;
    }
    if (this.first > 1024 && this.first * 2 > this.pieces.length) {
      this.pieces = this.pieces.slice(this.first);
      this.first = 0;
    }
  }

  clear(): void {
    this.skip(this.length);
  }
}

/** What a response may hold: chunks past `maxChunks` are never decoded; bytes past `maxBytes` never buffered. */
export interface ResponseLimits {
  /** Chunks decoded at most (the count asked for); later bytes only count in `excess`. Default unbounded. */
  maxChunks?: number;
  /** Bytes of the whole response, on the wire and decoded (each). Default {@link MAX_RESPONSE_BYTES}. */
  maxBytes?: number;
  label?: string;
}

/** The error code of a response over its byte budget (a DecodeError, so junk is still only DecodeErrors). */
export const RESPONSE_TOO_LARGE = 'decode.too-large';

type DecoderState =
  | { at: 'code' }
  | { at: 'length'; code: number }
  | { at: 'frames'; code: number; length: number; framed: number; sink: SnappyFrameSink; body?: number };

/**
 * Incremental response decoder: `push()` the stream's bytes as they arrive and get the chunks they
 * complete; `end()` when the stream closed (throws if it closed inside a chunk). Linear: bytes are
 * queued as they arrive and each framing chunk is decoded once, when complete (`bytesCopied` and
 * `bytesDecoded` count the work). Bounded: a chunk announcing more than 1 MiB, framing larger than its
 * data can need, or a response past `maxBytes` fails at once (code {@link RESPONSE_TOO_LARGE} for the
 * last); after `maxChunks` chunks nothing more is decoded or kept, only counted in `excess`.
 */
export class ResponseDecoder {
  private readonly queue = new ByteQueue();
  private state: DecoderState = { at: 'code' };
  private chunks = 0;
  private received = 0;
  private announced = 0;
  private readonly label: string;
  private readonly maxChunks: number;
  private readonly maxBytes: number;
  /** Bytes received after the last of `maxChunks` chunks (not decoded, not kept). */
  excess = 0;

  constructor(limits: ResponseLimits = {}) {
    this.label = limits.label ?? 'blocks_by_range.response';
    this.maxChunks = limits.maxChunks ?? Number.POSITIVE_INFINITY;
    this.maxBytes = limits.maxBytes ?? MAX_RESPONSE_BYTES;
  }

  /** True once `maxChunks` chunks were decoded. */
  get complete(): boolean {
    return this.chunks >= this.maxChunks;
  }

  /** Bytes the decoder copied (each pushed byte about once, plus the few header bytes it re-reads). */
  get bytesCopied(): number {
    return this.queue.copied;
  }

  /** Uncompressed payload bytes produced (each checksummed and copied once). */
  bytesDecoded = 0;

  push(bytes: Uint8Array): ResponseChunk[] {
    if (this.complete) {
      this.excess += bytes.length;
      return [];
    }
    const room = this.maxBytes - this.received;
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes;
    this.received += kept.length;
    // a copy: the caller may reuse its buffer (the old decoder copied too)
    this.queue.push(kept.slice());
    this.queue.copied += kept.length;
    const out: ResponseChunk[] = [];
    for (let chunk = this.next(); chunk; chunk = this.next()) out.push(chunk);
    if (this.complete) {
      this.excess += this.queue.length + (bytes.length - kept.length);
      this.queue.clear();
    } else if (kept.length < bytes.length)
      throw new DecodeError(this.label, `response longer than ${this.maxBytes} bytes`, { code: RESPONSE_TOO_LARGE });
    return out;
  }

  end(): void {
    if (this.complete) return;
    if (this.state.at !== 'code' || this.queue.length > 0)
      throw new DecodeError(
        this.label,
        `the stream ended inside a chunk (${this.queue.length} bytes left over${this.state.at === 'frames' ? ` after ${this.state.framed} framed bytes` : ''})`,
      );
  }

  /** The next chunk the queued bytes complete, or undefined when more bytes are needed (or `maxChunks` reached). */
  private next(): ResponseChunk | undefined {
    const label = `${this.label}[${this.chunks}]`;
    const q = this.queue;
    for (;;) {
      const s = this.state;
      if (this.complete) return undefined;
      if (s.at === 'code') {
        if (q.length < 1) return undefined;
        this.state = { at: 'length', code: q.take(1)[0]! };
      } else if (s.at === 'length') {
        const len = decodeUvarint(q.peek(8), 0, `${label}.length`);
        if (len === null) return undefined;
        if (len.value < 1 || len.value > MAX_CHUNK_BYTES)
          throw new DecodeError(`${label}.length`, `chunk length ${len.value} is outside 1..${MAX_CHUNK_BYTES}`);
        if (this.announced + len.value > this.maxBytes)
          throw new DecodeError(label, `response data longer than ${this.maxBytes} bytes`, {
            code: RESPONSE_TOO_LARGE,
          });
        this.announced += len.value;
        q.skip(len.length);
        const sink = new SnappyFrameSink(len.value, `${label}.snappy`);
        this.state = { at: 'frames', code: s.code, length: len.value, framed: 0, sink };
      } else {
        if (s.body === undefined) {
          if (q.length < 4) return undefined;
          s.body = frameChunkLength(q.peek(4));
          if (s.framed + 4 + s.body > maxFramedLength(s.length))
            throw new DecodeError(label, `framing larger than ${s.length} bytes of data can need`);
        }
        if (q.length < 4 + s.body) return undefined;
        const frame = q.take(4 + s.body);
        s.framed += 4 + s.body;
        s.body = undefined;
        const before = s.sink.decoded;
        s.sink.add(frame[0]!, frame.subarray(4));
        this.bytesDecoded += s.sink.decoded - before;
        if (s.sink.done) {
          this.state = { at: 'code' };
          this.chunks++;
          return { code: s.code, payload: s.sink.data };
        }
      }
    }
  }
}

/** A chunk as a block, or the responder's error. */
export function chunkToBlock(
  chunk: ResponseChunk,
  label = 'blocks_by_range.response',
): { block: SignedConsensusBlock } | { error: { code: number; message: string } } {
  if (chunk.code !== RESULT.success)
    return {
      error: {
        code: chunk.code,
        message: new TextDecoder('utf-8', { fatal: false }).decode(chunk.payload.subarray(0, MAX_ERROR_MESSAGE_BYTES)),
      },
    };
  try {
    return { block: decodeSignedBlockMsgpack(chunk.payload) };
  } catch (e) {
    if (e instanceof DecodeError) throw new DecodeError(`${label}.block`, e.message, { cause: e });
    throw e;
  }
}
