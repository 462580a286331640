/**
 * blocks_by_range as a server against hostile peers over real libp2p on loopback (issue 13 item 3): a
 * peer past its concurrency or its rate (a token bucket on the host's clock, replayed by a test clock),
 * or past the server's global cap, gets one RateLimited (139) chunk; a peer that stops reading is cut off
 * by the write timeout and its slot freed; and a light node flooded with requests while it follows the
 * devnet imports every block with no actor restart.
 */
import fc from 'fast-check';
import type { Stream } from '@libp2p/interface';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../../../src/actors/clock.js';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { P2pError, type P2pFaultKind, type P2pHost } from '../../../src/node/network/p2p-host.js';
import { SourceError, sourceFaultKind } from '../../../src/node/sources/consensus-rpc.js';
import { peerBlockSource } from '../../../src/node/sources/peer.js';
import { PENALTY } from '../../../src/node/workflows/scores.js';
import { LOOPBACK_LISTEN } from '../../../src/platform/nodejs/p2p.js';
import { toHex } from '../../../src/protocol/bytes.js';
import {
  BLOCKS_BY_RANGE_PROTOCOL,
  chunkToBlock,
  encodeBlocksByRangeRequest,
  RESULT,
  ResponseDecoder,
} from '../../../src/protocol/p2p/index.js';
import type { SignedConsensusBlock } from '../../../src/protocol/types.js';
import { signedBlock } from '../../protocol/codec/model.js';
import {
  actorStates,
  chainBlockHashes,
  Cleanup,
  growChain,
  sleep,
  startDevnet,
  startNode,
  waitFor,
  waitSynced,
  withCleanup,
} from '../helpers.js';
import { startHost } from './hosts.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run(), 30_000);

const blocks: SignedConsensusBlock[] = fc.sample(signedBlock(), { numRuns: 4, seed: 7 });

/** What a raw answer held: the result code of each chunk (0 a block), and the first error's message. */
interface Answer {
  codes: number[];
  error?: string;
}

/** Open a blocks_by_range stream to `addr` and send the request; the caller reads (or does not). */
async function openRequest(client: P2pHost, addr: string, start: bigint, count: number): Promise<Stream> {
  const { multiaddr } = await import('@multiformats/multiaddr');
  const s = await client.libp2p.dialProtocol(multiaddr(addr), BLOCKS_BY_RANGE_PROTOCOL);
  s.send(encodeBlocksByRangeRequest({ startHeight: start, count: BigInt(count) }));
  await s.close();
  return s;
}

/** Read an answer to its end, chunk by chunk (each chunk's result byte). */
async function readAnswer(s: Stream): Promise<Answer> {
  const decoder = new ResponseDecoder();
  const out: Answer = { codes: [] };
  for await (const c of s)
    for (const chunk of decoder.push(c instanceof Uint8Array ? c : c.subarray())) {
      out.codes.push(chunk.code);
      const r = chunkToBlock(chunk);
      if ('error' in r) out.error ??= r.error.message;
    }
  decoder.end();
  return out;
}

const request = async (client: P2pHost, addr: string, start: bigint, count: number) =>
  readAnswer(await openRequest(client, addr, start, count));

/** A flooder's read: the first result byte only; the rest is taken and dropped (an attacker decodes nothing). */
async function firstByte(s: Stream): Promise<number> {
  let first = -1;
  for await (const c of s) if (first < 0 && c.byteLength > 0) first = (c instanceof Uint8Array ? c : c.subarray())[0]!;
  return first;
}

/** A gate: `wait()` blocks until `open()`; `waiting` counts who waits. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const g = {
    waiting: 0,
    open,
    async wait() {
      g.waiting++;
      await opened;
    },
  };
  return g;
}

describe('blocks_by_range server limits', () => {
  it('a peer past its requests in flight, or past the global cap, gets one RateLimited chunk', async () => {
    await withCleanup(async (c) => {
      const held = gate();
      const server = await startHost(c, {
        listen: LOOPBACK_LISTEN,
        serveLimits: { maxStreamsPerPeer: 2, maxStreams: 3 },
        serveBlocks: async (start, count) => {
          await held.wait();
          return blocks.slice(Number(start), Number(start) + count);
        },
      });
      const addr = server.multiaddrs()[0]!;
      const a = await startHost(c);
      const b = await startHost(c);
      // two requests of peer a held by the server: its third is refused at once
      const first = [request(a, addr, 0n, 2), request(a, addr, 1n, 2)];
      await waitFor(
        () => held.waiting === 2,
        () => 'two requests of peer a being served',
      );
      const third = await request(a, addr, 0n, 1);
      expect(third.codes).toEqual([RESULT.rateLimited]);
      expect(third.error).toMatch(/rate limited: 2 requests in flight per peer/);
      // peer b may have one (the third stream served at all), then the server is full
      const bFirst = request(b, addr, 0n, 1);
      await waitFor(
        () => held.waiting === 3,
        () => 'a request of peer b being served',
      );
      const busy = await request(b, addr, 0n, 1);
      expect(busy.codes).toEqual([RESULT.rateLimited]);
      expect(busy.error).toMatch(/server busy/);
      held.open();
      expect((await Promise.all([...first, bFirst])).map((x) => x.codes)).toEqual([[0, 0], [0, 0], [0]]);
      // the slots are free again
      expect((await request(a, addr, 2n, 2)).codes).toEqual([0, 0]);
    });
  }, 30_000);

  it('a peer past its blocks per second (token bucket on the host clock) gets RateLimited until the bucket refills', async () => {
    await withCleanup(async (c) => {
      const clock = createTestClock();
      const server = await startHost(c, {
        clock,
        listen: LOOPBACK_LISTEN,
        serveLimits: { burstBlocks: 100, blocksPerSecond: 10 },
        serveBlocks: (start, count) => blocks.slice(Number(start), Number(start) + count),
      });
      const addr = server.multiaddrs()[0]!;
      const a = await startHost(c);
      const b = await startHost(c);
      // a request costs the blocks it asks for (60), not the blocks served (4)
      expect((await request(a, addr, 0n, 60)).codes).toEqual([0, 0, 0, 0]);
      const limited = await request(a, addr, 0n, 60);
      expect(limited.codes).toEqual([RESULT.rateLimited]);
      expect(limited.error).toMatch(/rate limited: 10 blocks\/s per peer/);
      // a smaller request fits what is left; another peer has its own bucket
      expect((await request(a, addr, 0n, 40)).codes).toEqual([0, 0, 0, 0]);
      expect((await request(b, addr, 0n, 100)).codes).toEqual([0, 0, 0, 0]);
      expect((await request(a, addr, 0n, 1)).codes).toEqual([RESULT.rateLimited]);
      await clock.advance(5_900);
      expect((await request(a, addr, 0n, 60)).codes).toEqual([RESULT.rateLimited]);
      await clock.advance(100);
      expect((await request(a, addr, 0n, 60)).codes).toEqual([0, 0, 0, 0]);
    });
  }, 30_000);

  it('a peer that stops reading is cut off by the write timeout: its stream aborted, a timeout fault, its slot free', async () => {
    await withCleanup(async (c) => {
      const clock = createTestClock();
      const faults: Array<{ peer: string; kind: P2pFaultKind }> = [];
      // blocks of 128 KiB that do not compress: two fill yamux's 256 KiB window
      const big = blocks.map((bl, i) => withTransaction(bl, incompressible(128 * 1024, i + 1)));
      let reads = 0;
      const server = await startHost(c, {
        clock,
        listen: LOOPBACK_LISTEN,
        serveLimits: { maxStreamsPerPeer: 1, writeTimeoutMs: 5_000, batchBlocks: 4 },
        onPeerFault: (peer, kind) => faults.push({ peer, kind }),
        serveBlocks: (start, count) => {
          reads++;
          return Array.from({ length: count }, (_, i) => big[(Number(start) + i) % big.length]!);
        },
      });
      const addr = server.multiaddrs()[0]!;
      const client = await startHost(c);
      const stream = await openRequest(client, addr, 0n, 1024);
      stream.pause(); // takes nothing: no yamux window updates go back
      await waitFor(
        async () => {
          await clock.advance(1_000);
          return faults.length > 0;
        },
        () => 'the server giving up on a peer that does not read',
      );
      expect(faults).toEqual([{ peer: client.peerId, kind: 'timeout' }]);
      // the server read a few batches at most, not 1024 blocks
      expect(reads).toBeLessThanOrEqual(2);
      await waitFor(
        () => stream.status !== 'open',
        () => 'the stream reset by the server',
      );
      // its one slot is free again
      const next = await request(client, addr, 0n, 1);
      expect(next.codes).toEqual([0]);
    });
  }, 30_000);
});

describe('a RateLimited answer, as the client sees it', () => {
  it('is a typed rate-limited error, reported as no fault, and costs a peer source nothing (busy)', async () => {
    await withCleanup(async (c) => {
      const server = await startHost(c, {
        listen: LOOPBACK_LISTEN,
        serveLimits: { burstBlocks: 8, blocksPerSecond: 1 },
        serveBlocks: (start, count) => blocks.slice(Number(start), Number(start) + count),
      });
      const addr = server.multiaddrs()[0]!;
      const faults: Array<{ peer: string; kind: P2pFaultKind }> = [];
      const client = await startHost(c, { onPeerFault: (peer, kind) => faults.push({ peer, kind }) });
      // the bucket holds 8 blocks: a request for 6 empties most of it, the next one is refused
      expect(await client.requestBlocksByRange(addr, 0n, 6)).toHaveLength(4);
      const err = await client.requestBlocksByRange(addr, 0n, 6).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(P2pError);
      expect(err).toMatchObject({ kind: 'rate-limited', code: 'p2p.rate-limited' });
      expect((err as Error).message).toMatch(/answered error 139: rate limited/);
      // as a block source (the SyncActor's view): busy, which the scores charge nothing
      const source = peerBlockSource(client, addr, { timeoutMs: () => 5_000 });
      const busy = await source.range(0, 6).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(SourceError);
      expect(sourceFaultKind(busy as SourceError)).toBe('busy');
      expect(PENALTY.busy).toBe(0);
      expect(faults).toEqual([]);
    });
  }, 30_000);
});

describe('a light node serving a flood while it follows the devnet', () => {
  it('keeps importing every block the devnet produces, and no actor restarts', async () => {
    await withCleanup(async (c) => {
      const devnet: Devnet = await startDevnet(c, 'serve-flood');
      await growChain(devnet, 40, 10);
      const { node } = await startNode(c, devnet, { p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] } });
      await waitSynced(node, devnet, 30_000);
      const addr = (await node.status()).p2p!.addresses[0]!;
      // the flooders serve the devnet chain: the node syncs from every peer and has no reason to drop them
      const flooders = await Promise.all(
        Array.from({ length: 4 }, () => startHost(c, { serveBlocks: devnetBlocks(devnet) })),
      );
      // one connection each (libp2p accepts 5 new connections a second per remote host)
      for (const f of flooders) await f.dial(addr);
      const answers = new Map<number, number>();
      let stop = false;
      // each flooder keeps 24 requests for every stored block in flight, in a loop
      const loops = flooders.flatMap((f) =>
        Array.from({ length: 24 }, async () => {
          while (!stop) {
            const code = await openRequest(f, addr, 0n, 1024)
              .then(firstByte)
              .catch(() => -1);
            answers.set(code, (answers.get(code) ?? 0) + 1);
            if (code === -1) await sleep(20); // a stream refused (libp2p's stream limit): do not spin
          }
        }),
      );
      try {
        // the devnet keeps producing under the flood (a PoW block every 10)
        for (let i = 0; i < 60; i++) {
          await growChain(devnet, 1, 10);
          await sleep(100);
        }
        // still under the flood, the node reaches the head: with the limits and the read lane within about
        // a second of the last block; without them it had fallen some 15 s behind (2 cores, same flood)
        await waitSynced(node, devnet, 10_000);
      } finally {
        stop = true;
        await Promise.all(loops);
      }
      expect(await chainBlockHashes(node, devnet.chain.height)).toEqual(
        devnet.chain.range(0, devnet.chain.height).map((b) => b.hash),
      );
      expect(actorStates(node).filter((a) => a.restarts > 0 || a.state !== 'Running')).toEqual([]);
      // the flood was served (blocks) and refused (RateLimited)
      expect(answers.get(RESULT.success)).toBeGreaterThan(0);
      expect(answers.get(RESULT.rateLimited)).toBeGreaterThan(0);
    });
  }, 120_000);
});

/** The devnet chain's blocks as a peer serves them (ascending from `start`, up to its head). */
function devnetBlocks(devnet: Devnet) {
  return (start: bigint, count: number): SignedConsensusBlock[] => {
    const out: SignedConsensusBlock[] = [];
    for (let h = Number(start); h <= devnet.chain.height && out.length < count; h++)
      out.push(devnet.chain.at(h)!.signed);
    return out;
  };
}

/** `b` with one transaction of `tx` bytes (the server sends what it is given). */
function withTransaction(b: SignedConsensusBlock, tx: Uint8Array): SignedConsensusBlock {
  const p = b.message.executionPayload;
  return { ...b, message: { ...b.message, executionPayload: { ...p, transactions: [toHex(tx)] } } };
}

/** Bytes that do not compress. */
function incompressible(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x9e3779b9 ^ seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
