/**
 * `blocks_by_range` (alys-protocol.md 7.3-7.4) over libp2p, as server and client. The server answers
 * a request with the blocks `serveBlocks` gives, ascending from the start height, read and written in
 * small batches, within per-peer and global limits (`serve-limits.ts`: RateLimited past them) and a
 * write timeout per chunk. The client sends a
 * request and reads the answer chunk by chunk; every malformed, oversize, failed or slow answer is a
 * {@link P2pError} and an `onPeerFault` report, never a crash. Blocks come back decoded but unverified.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Clock } from '../../actors/clock.js';
import { sleep } from '../../actors/timeout.js';
import { concatBytes } from '../../protocol/bytes.js';
import { DecodeError } from '../../protocol/errors.js';
import {
  BLOCKS_BY_RANGE_PROTOCOL,
  chunkToBlock,
  decodeBlocksByRangeRequest,
  encodeBlockChunk,
  encodeBlocksByRangeRequest,
  encodeErrorChunk,
  MAX_BLOCKS_PER_REQUEST,
  MAX_CHUNK_BYTES,
  MAX_RESPONSE_BYTES,
  maxFramedLength,
  RESPONSE_TOO_LARGE,
  ResponseDecoder,
  RESULT,
} from '../../protocol/p2p/index.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';
import { P2pError, type P2pFaultKind, type PeerFaultReporter } from './errors.js';
import { createServeLimiter, type ServeLimits } from './serve-limits.js';
import { timeoutSignal } from './timers.js';

export interface BlocksByRangeOptions {
  timeoutMs?: number;
  /**
   * Byte budget of the answer, on the wire and decoded (each): past it the request fails with an
   * `oversize` P2pError. Default: the smaller of {@link MAX_RESPONSE_BYTES} (64 MiB) and what the blocks
   * asked for can take (count x one 1 MiB chunk).
   */
  maxResponseBytes?: number;
}

/** What the server answers with (the host's options of the same names). */
export interface BlocksByRangeServerOptions {
  /** The blocks served by height (Alys semantics: ascending, from `start`, up to `count`). */
  serveBlocks?: (
    start: bigint,
    count: number,
  ) => Promise<readonly SignedConsensusBlock[]> | readonly SignedConsensusBlock[];
  /** Adversarial devnet peers only: raw bytes to answer with instead, after `delayMs`. */
  respondRaw?: (start: bigint, count: number) => Promise<{ bytes?: Uint8Array; delayMs?: number } | undefined>;
  /** Time to receive a whole request (Alys: 15 s). */
  requestTimeoutMs?: number;
  /** The server's limits (`serve-limits.ts`); defaults: `SERVE_LIMITS`. */
  limits?: Partial<ServeLimits>;
}

export interface BlocksByRangeServiceOptions extends BlocksByRangeServerOptions {
  libp2p: Libp2p;
  clock: Clock;
  fault: PeerFaultReporter;
}

export interface BlocksByRangeService {
  /** Serve the protocol (call before libp2p starts, so identify announces it). */
  start(): Promise<void>;
  /** Stop serving (after libp2p stopped: its streams are closed by then). */
  stop(): Promise<void>;
  /**
   * Ask `peer` (a connected peer id, or a multiaddr to dial) for `count` blocks from `start` (at most
   * {@link MAX_BLOCKS_PER_REQUEST} are asked for; a bigger count gets that many). The answer holds at
   * most the blocks asked for: from a peer that sends more, the rest is not read (honest Alys servers
   * may send more, so it is not a fault).
   */
  requestBlocks(
    peer: string,
    start: bigint,
    count: number,
    opts?: BlocksByRangeOptions,
  ): Promise<SignedConsensusBlock[]>;
  /** The same, leaving each block as its msgpack bytes. */
  requestRawBlocks(peer: string, start: bigint, count: number, opts?: BlocksByRangeOptions): Promise<Uint8Array[]>;
}

/** A request: its length varint (1 byte), 16 bytes of SSZ (two u64) Snappy-framed, and a byte of slack. */
const MAX_REQUEST_BYTES = 1 + maxFramedLength(16) + 1;

function chunkBytes(c: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return c instanceof Uint8Array ? c : c.subarray();
}

/** Write to the stream, waiting for it to drain when its buffer is full. */
async function send(stream: Stream, data: Uint8Array): Promise<void> {
  if (!stream.send(data)) await stream.onDrain();
}

/** All the bytes a client wrote before closing its side; DecodeError past MAX_REQUEST_BYTES. */
async function readRequest(stream: Stream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = chunkBytes(c);
    size += b.length;
    if (size > MAX_REQUEST_BYTES)
      throw new DecodeError('blocks_by_range.request', `request longer than ${MAX_REQUEST_BYTES} bytes`);
    parts.push(b);
  }
  return concatBytes(...parts);
}

/** The typed error for whatever ended a request; `timedOut` when its deadline had passed. */
function requestError(e: unknown, peer: string, timedOut: boolean): P2pError {
  if (e instanceof P2pError) return e;
  if (timedOut) return new P2pError('timeout', peer, 'blocks_by_range timed out', { cause: e });
  if (e instanceof DecodeError && e.code === RESPONSE_TOO_LARGE)
    return new P2pError('oversize', peer, e.message, { cause: e });
  if (e instanceof DecodeError) return new P2pError('decode', peer, e.message, { cause: e });
  return new P2pError('dial', peer, (e as Error).message, { cause: e });
}

/** An error chunk as the typed error: RateLimited (139) is `rate-limited` (not a fault), any other `remote-error`. */
function answeredError(peer: string, error: { code: number; message: string }): P2pError {
  const text = `answered error ${error.code}: ${error.message}`;
  return new P2pError(error.code === RESULT.rateLimited ? 'rate-limited' : 'remote-error', peer, text);
}

/** What to dial for `peer`: a multiaddr as given, or the id of a peer we are connected to. */
function dialTarget(libp2p: Libp2p, peer: string): PeerId | Multiaddr {
  if (peer.startsWith('/')) return multiaddr(peer);
  const conn = libp2p.getConnections().find((c) => c.remotePeer.toString() === peer);
  if (!conn) throw new P2pError('dial', peer, 'not connected');
  return conn.remotePeer;
}

/** A chunk of one block at most, as it travels: result byte, length varint, framing. */
const MAX_CHUNK_WIRE_BYTES = 1 + 8 + maxFramedLength(MAX_CHUNK_BYTES);

/** The byte budget of an answer of `count` blocks: `requested`, or what `count` chunks can take, within 64 MiB. */
function responseBudget(count: number, requested: number | undefined): number {
  return requested ?? Math.min(MAX_RESPONSE_BYTES, count * MAX_CHUNK_WIRE_BYTES);
}

/** An answer being read: the blocks so far, and whether all that were asked for have come. */
interface Answer {
  blocks: Array<SignedConsensusBlock | Uint8Array>;
  decoder: ResponseDecoder;
}

/**
 * Read an answer into `answer`: decoded blocks, or (`decode` false) each block's msgpack bytes; an
 * error chunk throws. Once the blocks asked for have come, anything more is reported and not read.
 */
async function readBlocks(
  stream: Stream,
  peer: string,
  answer: Answer,
  decode: boolean,
  fault: PeerFaultReporter,
): Promise<void> {
  const { blocks, decoder } = answer;
  for await (const c of stream) {
    for (const chunk of decoder.push(chunkBytes(c))) {
      if (chunk.code !== RESULT.success || decode) {
        const r = chunkToBlock(chunk);
        if ('error' in r) throw answeredError(peer, r.error);
        blocks.push(r.block);
      } else blocks.push(chunk.payload);
    }
    if (decoder.excess > 0) {
      // not a fault: an honest Alys server answers a range over a gap in its height index with every
      // block up to its head, more than asked (alys-protocol.md 7.3, blocks_by_range server behaviour);
      // what follows the asked blocks is neither decoded nor buffered
      stream.abort(new Error('sent more blocks than asked for'));
      return;
    }
  }
  decoder.end();
}

/**
 * Write a chunk; a peer that does not take it (the stream's send buffer stays full, e.g. it stopped
 * reading and yamux's window ran out) within `ms` gets a {@link P2pError} `timeout`.
 */
async function sendWithin(stream: Stream, data: Uint8Array, clock: Clock, ms: number, peer: string): Promise<void> {
  if (stream.send(data)) return;
  const deadline = timeoutSignal(clock, ms);
  try {
    await stream.onDrain({ signal: deadline.signal });
  } catch (e) {
    if (deadline.signal.aborted) throw new P2pError('timeout', peer, `did not read an answer chunk within ${ms} ms`);
    throw e;
  } finally {
    deadline.clear();
  }
}

/**
 * The server side: the handler of one inbound stream, which reads a request and answers it. A request
 * past the peer's (or the server's) limits (`serve-limits.ts`) gets one RateLimited chunk. The blocks
 * are read and written in batches of `batchBlocks`, each written before the next is read, so a request
 * holds one batch, not 1024 blocks; a peer that stops taking chunks is cut off after `writeTimeoutMs`.
 */
function blocksByRangeServer(
  o: BlocksByRangeServiceOptions,
): (stream: Stream, connection: Connection) => Promise<void> {
  const { clock, fault } = o;
  const limiter = createServeLimiter(clock, o.limits);
  const { batchBlocks, writeTimeoutMs } = limiter.limits;

  async function answer(stream: Stream, start: bigint, count: number, peer: string): Promise<void> {
    const raw = await o.respondRaw?.(start, count);
    if (raw?.delayMs) await sleep(clock, raw.delayMs);
    if (raw?.bytes) return send(stream, raw.bytes);
    if (!o.serveBlocks) return;
    for (let from = start, left = count; left > 0; ) {
      const n = Math.min(batchBlocks, left);
      const blocks = await o.serveBlocks(from, n);
      for (const b of blocks.slice(0, n)) await sendWithin(stream, encodeBlockChunk(b), clock, writeTimeoutMs, peer);
      if (blocks.length < n) return; // Alys semantics: the first gap ends the answer
      from += BigInt(n);
      left -= n;
    }
  }

  /** Read and decode the request; undefined when it was malformed (answered InvalidRequest). */
  async function request(stream: Stream, peer: string) {
    const timer = clock.setTimer(() => stream.abort(new Error('request timeout')), o.requestTimeoutMs ?? 15_000);
    try {
      return decodeBlocksByRangeRequest(await readRequest(stream));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      fault(peer, 'decode', e.message);
      await send(stream, encodeErrorChunk(RESULT.invalidRequest, e.message));
      return undefined;
    } finally {
      clock.clearTimer(timer);
    }
  }

  return async function serve(stream, connection) {
    const peer = connection.remotePeer.toString();
    // a slot from the stream's arrival: a request being read counts too
    const slot = limiter.admit(peer);
    try {
      const req = await request(stream, peer);
      if (!req) return;
      const count = Number(req.count > BigInt(MAX_BLOCKS_PER_REQUEST) ? BigInt(MAX_BLOCKS_PER_REQUEST) : req.count);
      const refused = slot.ok ? limiter.charge(peer, count) : slot.reason;
      if (refused) {
        await sendWithin(stream, encodeErrorChunk(RESULT.rateLimited, refused), clock, writeTimeoutMs, peer);
        return;
      }
      await answer(stream, req.startHeight, count, peer);
    } catch (e) {
      if (e instanceof P2pError) {
        if (e.kind !== 'rate-limited') fault(peer, e.kind, e.message);
        stream.abort(e);
      } else if (stream.status === 'open')
        await send(stream, encodeErrorChunk(RESULT.serverError, (e as Error).message)).catch(() => {});
    } finally {
      if (slot.ok) slot.release();
      await closeWithin(stream, clock, writeTimeoutMs);
    }
  };
}

/** Close our side once the peer has taken what was sent, or abort the stream after `ms`. */
async function closeWithin(stream: Stream, clock: Clock, ms: number): Promise<void> {
  const deadline = timeoutSignal(clock, ms);
  try {
    await stream.close({ signal: deadline.signal });
  } catch {
    stream.abort(new Error('close failed'));
  } finally {
    deadline.clear();
  }
}

type Request = (
  peer: string,
  start: bigint,
  count: number,
  opts: BlocksByRangeOptions,
  decode: boolean,
) => Promise<Array<SignedConsensusBlock | Uint8Array>>;

/** The client side: one request, within its deadline, every failure a P2pError and a fault report. */
function blocksByRangeClient(o: BlocksByRangeServiceOptions): Request {
  const { libp2p, clock, fault } = o;

  async function open(peer: string, signal: AbortSignal): Promise<Stream> {
    try {
      return await libp2p.dialProtocol(dialTarget(libp2p, peer), BLOCKS_BY_RANGE_PROTOCOL, {
        signal,
        runOnLimitedConnection: true,
      });
    } catch (e) {
      const kind: P2pFaultKind = signal.aborted ? 'timeout' : 'dial';
      fault(peer, kind, (e as Error).message);
      throw new P2pError(kind, peer, `could not open blocks_by_range: ${(e as Error).message}`, { cause: e });
    }
  }

  return async function request(peer, start, count, opts, decode) {
    if (!Number.isSafeInteger(count) || count < 1)
      throw new RangeError(`count must be a positive integer, got ${count}`);
    // Ask for 1024 at most (the Rust client's own batch, and the most sync.batchSize allows): the count
    // bounds how many blocks the answer may hold, and with the byte budget the memory one request costs.
    const asked = Math.min(count, MAX_BLOCKS_PER_REQUEST);
    const decoder = new ResponseDecoder({
      maxChunks: asked,
      maxBytes: responseBudget(asked, opts.maxResponseBytes),
    });
    const answer: Answer = { blocks: [], decoder };
    const deadline = timeoutSignal(clock, opts.timeoutMs ?? 30_000);
    const { signal } = deadline;
    try {
      const stream = await open(peer, signal);
      const onAbort = () => stream.abort(new Error('blocks_by_range timed out'));
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await send(stream, encodeBlocksByRangeRequest({ startHeight: start, count: BigInt(asked) }));
        await stream.close();
        await readBlocks(stream, peer, answer, decode, fault);
        return answer.blocks;
      } catch (e) {
        // all the blocks asked for came, but the peer kept the stream open past the deadline: use them
        if (decoder.complete && signal.aborted) return answer.blocks;
        const err = requestError(e, peer, signal.aborted);
        if (err.kind !== 'rate-limited') fault(peer, err.kind, err.message);
        stream.abort(err);
        throw err;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    } finally {
      deadline.clear();
    }
  };
}

export function blocksByRangeService(o: BlocksByRangeServiceOptions): BlocksByRangeService {
  const serve = blocksByRangeServer(o);
  const request = blocksByRangeClient(o);
  return {
    async start() {
      await o.libp2p.handle(BLOCKS_BY_RANGE_PROTOCOL, serve, { maxInboundStreams: 32, runOnLimitedConnection: true });
    },
    async stop() {
      await o.libp2p.unhandle(BLOCKS_BY_RANGE_PROTOCOL);
    },
    requestBlocks: (peer, start, count, opts = {}) =>
      request(peer, start, count, opts, true) as Promise<SignedConsensusBlock[]>,
    requestRawBlocks: (peer, start, count, opts = {}) =>
      request(peer, start, count, opts, false) as Promise<Uint8Array[]>,
  };
}
