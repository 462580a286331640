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
import { decodeUvarint, encodeUvarint, snappyFrameDecode, snappyFrameEncode } from './framing.js';

export const BLOCKS_BY_RANGE_PROTOCOL = '/eth2/chain/req/blocks_by_range/1/ssz_snappy';
/** Largest uncompressed chunk (Lighthouse `max_chunk_size`). */
export const MAX_CHUNK_BYTES = 1_048_576;
/** What the Rust client asks for at most per request. */
export const MAX_BLOCKS_PER_REQUEST = 1024;
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
 * Incremental response decoder: `push()` the stream's bytes as they arrive and get the chunks they
 * complete; `end()` when the stream closed (throws if it closed inside a chunk). Bounded: a chunk
 * announcing more than 1 MiB, or framing larger than its data can need, fails at once.
 */
export class ResponseDecoder {
  private buffer: Uint8Array = new Uint8Array(0);
  private chunks = 0;

  constructor(private readonly label = 'blocks_by_range.response') {}

  push(bytes: Uint8Array): ResponseChunk[] {
    this.buffer = this.buffer.length === 0 ? bytes.slice() : concatBytes(this.buffer, bytes);
    const out: ResponseChunk[] = [];
    let o = 0;
    for (;;) {
      const label = `${this.label}[${this.chunks}]`;
      if (o >= this.buffer.length) break;
      const code = this.buffer[o]!;
      const len = decodeUvarint(this.buffer, o + 1, `${label}.length`);
      if (len === null) break;
      if (len.value < 1 || len.value > MAX_CHUNK_BYTES)
        throw new DecodeError(`${label}.length`, `chunk length ${len.value} is outside 1..${MAX_CHUNK_BYTES}`);
      const start = o + 1 + len.length;
      const framed = snappyFrameDecode(this.buffer, len.value, start, `${label}.snappy`);
      if (framed === null) {
        if (this.buffer.length - start > maxFramedLength(len.value))
          throw new DecodeError(label, `framing larger than ${len.value} bytes of data can need`);
        break;
      }
      if (framed.length > maxFramedLength(len.value))
        throw new DecodeError(label, `framing larger than ${len.value} bytes of data can need`);
      out.push({ code, payload: framed.data });
      this.chunks++;
      o = start + framed.length;
    }
    this.buffer = this.buffer.subarray(o);
    return out;
  }

  end(): void {
    if (this.buffer.length > 0)
      throw new DecodeError(this.label, `the stream ended inside a chunk (${this.buffer.length} bytes left over)`);
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
