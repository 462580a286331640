/**
 * blocks_by_range as a client against hostile peers over real libp2p on loopback (issue 13 item 2): the
 * count asked for is bounded, a peer that sends more blocks than asked is charged and the extra is never
 * decoded, and a peer that sends more bytes than the budget gets a typed error and a fault; after each
 * the node still fetches from an honest peer.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stream } from '@libp2p/interface';
import { P2pError, type P2pFaultKind, type P2pHost } from '../../../src/node/network/p2p-host.js';
import { LOOPBACK_LISTEN } from '../../../src/platform/nodejs/p2p.js';
import { bytesToHex } from '../../../src/protocol/bytes.js';
import { encodeSignedBlockMsgpack } from '../../../src/protocol/codec/msgpack.js';
import {
  BLOCKS_BY_RANGE_PROTOCOL,
  decodeBlocksByRangeRequest,
  encodeBlockChunk,
  encodeResponseChunk,
  MAX_BLOCKS_PER_REQUEST,
  MAX_CHUNK_BYTES,
  RESULT,
} from '../../../src/protocol/p2p/index.js';
import type { SignedConsensusBlock } from '../../../src/protocol/types.js';
import { signedBlock } from '../../protocol/codec/model.js';
import { Cleanup } from '../helpers.js';
import { startHost } from './hosts.js';

const cleanup = new Cleanup();
const blocks: SignedConsensusBlock[] = fc.sample(signedBlock(), { numRuns: 8, seed: 13 });
const raw = blocks.map((b) => bytesToHex(encodeSignedBlockMsgpack(b)));
const faults: Array<{ peer: string; kind: P2pFaultKind }> = [];
let client: P2pHost;
let honest: P2pHost;

beforeAll(async () => {
  client = await startHost(cleanup, { onPeerFault: (peer, kind) => faults.push({ peer, kind }) });
  honest = await startHost(cleanup, {
    listen: LOOPBACK_LISTEN,
    serveBlocks: (start, count) => blocks.slice(Number(start), Number(start) + count),
  });
}, 30_000);
afterAll(() => cleanup.run(), 30_000);

/** A peer whose blocks_by_range handler answers with `evil` (given the request's count); the request is recorded. */
async function evilPeer(c: Cleanup, evil: (stream: Stream) => Promise<void>, counts: bigint[] = []): Promise<string> {
  const h = await startHost(c, { listen: LOOPBACK_LISTEN });
  await h.libp2p.unhandle(BLOCKS_BY_RANGE_PROTOCOL);
  await h.libp2p.handle(BLOCKS_BY_RANGE_PROTOCOL, async (stream) => {
    const parts: number[] = [];
    for await (const c of stream) parts.push(...(c instanceof Uint8Array ? c : c.subarray()));
    counts.push(decodeBlocksByRangeRequest(Uint8Array.from(parts)).count);
    await evil(stream).catch(() => {});
    await stream.close().catch(() => {});
  });
  return h.multiaddrs()[0]!;
}

/** Send `chunk` `times` times, waiting for the stream to drain; stops when the reader hangs up. */
async function sendRepeatedly(s: Stream, chunk: Uint8Array, times: number): Promise<void> {
  for (let i = 0; i < times && s.status === 'open'; i++) if (!s.send(chunk)) await s.onDrain();
}

async function expectHonestPeerServes(): Promise<void> {
  const got = await client.requestRawBlocksByRange(honest.multiaddrs()[0]!, 2n, 3);
  expect(got.map(bytesToHex)).toEqual(raw.slice(2, 5));
}

/** A payload that does not compress (so the wire carries all of it). */
function incompressible(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('blocks_by_range client: bounded counts', () => {
  it(`asks for ${MAX_BLOCKS_PER_REQUEST} blocks at most, whatever the caller's count`, async () => {
    const c = new Cleanup();
    try {
      const counts: bigint[] = [];
      const addr = await evilPeer(c, async (s) => void s.send(encodeBlockChunk(blocks[0]!)), counts);
      expect((await client.requestRawBlocksByRange(addr, 0n, 1_000_000)).map(bytesToHex)).toEqual(raw.slice(0, 1));
      expect(counts).toEqual([BigInt(MAX_BLOCKS_PER_REQUEST)]);
    } finally {
      await c.run();
    }
  });

  it('a peer that sends more blocks than asked: exactly the blocks asked for, not charged (honest Alys servers may)', async () => {
    const c = new Cleanup();
    try {
      const addr = await evilPeer(c, async (s) => {
        for (const b of blocks.slice(0, 7)) s.send(encodeBlockChunk(b));
      });
      const n = faults.length;
      const got = await client.requestBlocksByRange(addr, 0n, 4);
      expect(got.map((b) => bytesToHex(encodeSignedBlockMsgpack(b)))).toEqual(raw.slice(0, 4));
      expect(faults.slice(n)).toEqual([]);
      await expectHonestPeerServes();
    } finally {
      await c.run();
    }
  });

  it('what follows the blocks asked for is never decoded: junk after them is neither an error nor a fault', async () => {
    const c = new Cleanup();
    try {
      const addr = await evilPeer(c, async (s) => {
        for (const b of blocks.slice(0, 3)) s.send(encodeBlockChunk(b));
        s.send(Uint8Array.of(0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)); // an impossible varint
        s.send(encodeResponseChunk(RESULT.success, Uint8Array.of(0xc0))); // a non-block
      });
      const n = faults.length;
      const got = await client.requestRawBlocksByRange(addr, 0n, 3);
      expect(got.map(bytesToHex)).toEqual(raw.slice(0, 3));
      expect(faults.slice(n)).toEqual([]);
      await expectHonestPeerServes();
    } finally {
      await c.run();
    }
  });
});

describe('blocks_by_range client: a byte budget per response', () => {
  async function overBudget(count: number, chunk: Uint8Array, times: number, maxResponseBytes?: number): Promise<void> {
    const c = new Cleanup();
    try {
      const addr = await evilPeer(c, (s) => sendRepeatedly(s, chunk, times));
      const n = faults.length;
      const err = await client.requestRawBlocksByRange(addr, 0n, count, { timeoutMs: 30_000, maxResponseBytes }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(P2pError);
      expect((err as P2pError).kind).toBe('oversize');
      expect((err as P2pError).code).toBe('p2p.oversize');
      expect(faults.slice(n)).toEqual([{ peer: addr, kind: 'oversize' }]);
      await expectHonestPeerServes();
    } finally {
      await c.run();
    }
  }

  it('a configured budget: 8 blocks of 64 KiB against 256 KiB is a typed error and a fault', async () => {
    await overBudget(8, encodeResponseChunk(RESULT.success, incompressible(65_536)), 8, 256 * 1024);
  });

  it('the default budget (64 MiB): 1024 blocks asked for, a peer sending 1 MiB blocks is cut off', async () => {
    await overBudget(MAX_BLOCKS_PER_REQUEST, encodeResponseChunk(RESULT.success, incompressible(MAX_CHUNK_BYTES)), 80);
  }, 60_000);
});
