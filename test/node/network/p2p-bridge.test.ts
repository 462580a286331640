/**
 * The p2p bridge between the node worker and the page that runs libp2p for it
 * (src/platform/browser/p2p-bridge/), over the two ends of a real MessageChannel: the page side runs a
 * real libp2p host (Node's transports here; the browser's in test/browser/p2p-worker.test.ts) that
 * dials the devnet's federation peer. Blocks come through the bridge decoded in the worker, gossip is
 * answered by the worker, the peer's blocks_by_range requests are served from the worker's blocks,
 * a page that goes away leaves the host with no peers. Hostile page messages (bad shape, oversize,
 * unknown kinds, too many blocks for the request) are dropped with a typed error and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { startDevnetPeer, type DevnetPeer } from '../../../src/devnet/p2p.js';
import { createP2pHost, P2pError, type P2pHostApi } from '../../../src/node/network/p2p-host.js';
import { servePageP2p, type PageP2p } from '../../../src/platform/browser/p2p-bridge/page.js';
import { P2pBridgeError, EMPTY_STATE } from '../../../src/platform/browser/p2p-bridge/protocol.js';
import { createP2pBridge, type P2pBridge } from '../../../src/platform/browser/p2p-bridge/worker.js';
import { LOOPBACK_LISTEN, nodeTransports } from '../../../src/platform/nodejs/p2p.js';
import type { PubsubMessage } from '../../../src/protocol/index.js';
import { encodeSignedBlockMsgpack } from '../../../src/protocol/codec/msgpack.js';
import { Cleanup, growChain, startDevnet, waitFor } from '../helpers.js';

const cleanup = new Cleanup();
let devnet: Devnet;
let peer: DevnetPeer;
afterAll(() => cleanup.run(), 30_000);

beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'p2p-bridge', { noServers: true });
  await growChain(devnet, 12, 6);
  peer = await startDevnetPeer(devnet);
  cleanup.add(() => peer.stop());
}, 60_000);

/** A MessageChannel whose ends are closed with the test's cleanup. */
function channel(c: Cleanup): MessageChannel {
  const ch = new MessageChannel();
  c.add(() => {
    ch.port1.close();
    ch.port2.close();
  });
  return ch;
}

describe('the p2p bridge with a real libp2p host on the page side', () => {
  it('syncs blocks, answers gossip and serves blocks from the worker; a page that goes away leaves no peers', async () => {
    const c = new Cleanup();
    try {
      const ch = channel(c);
      const bad: P2pBridgeError[] = [];
      const bridge = createP2pBridge({ onBadMessage: (e) => bad.push(e) });
      bridge.attach(ch.port1);
      const page: PageP2p = servePageP2p(ch.port2, {
        createHost: (o) =>
          createP2pHost({ ...o, transports: nodeTransports(), listen: LOOPBACK_LISTEN, allowPrivateAddresses: true }),
        stateIntervalMs: 100,
      });
      c.add(() => page.stop());
      const gossip: Array<{ m: PubsubMessage; from: string }> = [];
      const served: bigint[] = [];
      const host: P2pHostApi = await bridge.host({
        bootstrap: [peer.addresses[0]!],
        onGossip: (m, from) => {
          gossip.push({ m, from });
          return { verdict: 'accept' };
        },
        serveBlocks: (start, count) => {
          served.push(start);
          const out = [];
          for (let h = Number(start); h < Number(start) + count && devnet.chain.at(h); h++)
            out.push(devnet.chain.at(h)!.signed);
          return out;
        },
      });
      c.add(() => host.stop());
      expect(host.peers()).toEqual([]);
      // like a local host's start, the bridged one returns once the page's host runs and dialled its bootstrap peers
      await host.start();
      expect(host.peers()).toContain(peer.host.peerId);
      expect(host.peerId).toMatch(/^12D3|^16U/);
      expect(host.connections().some((x) => x.peer === peer.host.peerId)).toBe(true);

      // blocks through the page's libp2p, decoded in the worker
      const blocks = await host.requestBlocksByRange(peer.host.peerId, 1n, 5);
      expect(blocks.map((b) => b.message.executionPayload.blockNumber)).toEqual([1n, 2n, 3n, 4n, 5n]);
      const raw = await host.requestRawBlocksByRange(peer.host.peerId, 6n, 2);
      expect(raw.every((b) => b instanceof Uint8Array)).toBe(true);
      expect(raw[0]).toEqual(encodeSignedBlockMsgpack(devnet.chain.at(6)!.signed));

      // the devnet peer asks the page's host: the worker's blocks answer
      const fromPage = await peer.host.requestBlocksByRange(host.peerId, 2n, 3);
      expect(fromPage.map((b) => b.message.executionPayload.blockNumber)).toEqual([2n, 3n, 4n]);
      expect(served).toContain(2n);

      // a new block's gossip reaches the worker, which answers it
      await waitFor(
        () =>
          host.topicPeers('consensus_block').includes(peer.host.peerId) &&
          peer.host.topicPeers('consensus_block').includes(host.peerId),
        () => 'the gossip mesh',
      );
      await devnet.produceNext();
      await waitFor(
        () => gossip.some((g) => g.m.type === 'ConsensusBlock' && g.from === peer.host.peerId),
        () => `the new block's gossip in the worker: ${JSON.stringify(gossip.map((g) => g.m.type))}`,
        10_000,
      );
      expect(bad).toEqual([]);

      // the page goes away: no peers, calls fail as p2p.dial (the sync moves to RPC), nothing hangs
      await page.stop();
      bridge.detach(ch.port1);
      expect(host.peers()).toEqual([]);
      const err = await host.requestRawBlocksByRange(peer.host.peerId, 1n, 1).catch((e) => e);
      expect(err).toBeInstanceOf(P2pError);
      expect((err as P2pError).code).toBe('p2p.dial');
      expect(await host.publish(gossip[0]!.m)).toBe(false);
    } finally {
      await c.run();
    }
  }, 30_000);
});

describe('hostile page messages', () => {
  /** A bridge whose "page" is the test itself, posting raw messages on the other end. */
  async function rawPage(c: Cleanup, opts: Parameters<typeof createP2pBridge>[0] = {}) {
    const ch = channel(c);
    const bad: P2pBridgeError[] = [];
    const bridge: P2pBridge = createP2pBridge({ ...opts, onBadMessage: (e) => bad.push(e) });
    const toWorker: Array<Record<string, unknown>> = [];
    ch.port2.addEventListener('message', (e) => toWorker.push(e.data));
    ch.port2.start();
    const gossip: PubsubMessage[] = [];
    const host = await bridge.host({
      onGossip: (m) => {
        gossip.push(m);
        return true;
      },
    });
    bridge.attach(ch.port1);
    const started = host.start();
    const send = (m: unknown) => ch.port2.postMessage(m);
    const state = { ...EMPTY_STATE, peerId: 'page-host', peers: ['peer-a'], scores: { 'peer-a': 3 } };
    send({ t: 'state', state });
    await started;
    expect(host.peers()).toEqual(['peer-a']);
    return { bridge, host, bad, send, toWorker, gossip };
  }

  it('a bad shape, an oversize message or an unknown kind is dropped with a typed error and no state change', async () => {
    const c = new Cleanup();
    try {
      const { host, bad, send, gossip, toWorker } = await rawPage(c);
      const hostile: unknown[] = [
        null,
        'junk',
        { t: 'nope' },
        { t: 'state', state: { ...EMPTY_STATE, peers: 'peer-b' } },
        { t: 'state', state: { ...EMPTY_STATE, peers: Array.from({ length: 5_000 }, (_, i) => `p${i}`) } },
        { t: 'state', state: { ...EMPTY_STATE, peerId: 'x'.repeat(10_000) } },
        { t: 'state', state: { ...EMPTY_STATE, topicPeers: { not_a_topic: [] } } },
        { t: 'state', state: { ...EMPTY_STATE, scores: { a: Number.NaN } } },
        { t: 'gossip', id: 1, from: 'peer-a', topic: 'consensus_block', data: new Uint8Array(70_000) },
        { t: 'gossip', id: 2, from: 'peer-a', topic: 'consensus_block', data: 'not bytes' },
        { t: 'fault', peer: 'peer-a', kind: 'arson', reason: '' },
        { t: 'serve', id: 3, start: 1, count: 1 },
        { t: 'serve', id: 4, start: 1n, count: 1_000_000 },
        { t: 'result', id: -1, ok: true, value: 1 },
      ];
      for (const m of hostile) send(m);
      await waitFor(
        () => bad.length === hostile.length,
        () => `${hostile.length} typed errors, got ${bad.length}: ${bad.map((e) => e.message).join('; ')}`,
      );
      for (const e of bad) {
        expect(e).toBeInstanceOf(P2pBridgeError);
        expect(e.code).toBe('p2p-bridge.bad-message');
      }
      expect(bad.some((e) => /more than 65536/.test(e.message))).toBe(true);
      expect(bad.some((e) => /5000 entries, more than 1024/.test(e.message))).toBe(true);
      // nothing changed: the last good state stands, no gossip reached the node, nothing was answered
      expect(host.peerId).toBe('page-host');
      expect(host.peers()).toEqual(['peer-a']);
      expect(host.gossipScore('peer-a')).toBe(3);
      expect(gossip).toEqual([]);
      expect(toWorker.filter((m) => m.t !== 'start')).toEqual([]);
    } finally {
      await c.run();
    }
  });

  it('gossip bytes that do not decode are rejected in the worker; an answer with more blocks than asked fails its call', async () => {
    const c = new Cleanup();
    try {
      const { host, bad, send, gossip, toWorker } = await rawPage(c);
      send({ t: 'gossip', id: 7, from: 'peer-a', topic: 'consensus_block', data: Uint8Array.of(1, 2, 3) });
      await waitFor(
        () => toWorker.find((m) => m.t === 'gossip-answer'),
        () => 'the gossip answer',
      );
      expect(toWorker.find((m) => m.t === 'gossip-answer')).toMatchObject({ id: 7, verdict: 'reject' });
      expect(gossip).toEqual([]);

      const call = host.requestRawBlocksByRange('peer-a', 1n, 2, { timeoutMs: 60_000 }).catch((e) => e);
      const asked = await waitFor(
        () => toWorker.find((m) => m.t === 'call'),
        () => 'the call on the page',
      );
      expect(asked).toMatchObject({ method: 'requestRawBlocksByRange', peer: 'peer-a', start: 1n, count: 2 });
      send({ t: 'result', id: asked.id, ok: true, value: [new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)] });
      const err = await call;
      expect(err).toBeInstanceOf(P2pBridgeError);
      expect(bad).toHaveLength(1);
      // a page error comes back as the P2pError the sync charges
      const call2 = host.requestRawBlocksByRange('peer-a', 1n, 2).catch((e) => e);
      const asked2 = await waitFor(
        () => toWorker.filter((m) => m.t === 'call')[1],
        () => 'the second call',
      );
      send({ t: 'result', id: asked2.id, ok: false, error: { kind: 'oversize', peer: 'peer-a', message: 'too big' } });
      const err2 = await call2;
      expect(err2).toBeInstanceOf(P2pError);
      expect((err2 as P2pError).code).toBe('p2p.oversize');
    } finally {
      await c.run();
    }
  });

  it('calls in flight are bounded: past the bound they fail at once as p2p.rate-limited', async () => {
    const c = new Cleanup();
    try {
      const { host, toWorker } = await rawPage(c, { maxCalls: 2 });
      const first = [1, 2].map((i) => host.requestRawBlocksByRange('peer-a', BigInt(i), 1).catch((e) => e));
      const third = await host.requestRawBlocksByRange('peer-a', 3n, 1).catch((e) => e);
      expect(third).toBeInstanceOf(P2pError);
      expect((third as P2pError).code).toBe('p2p.rate-limited');
      await waitFor(
        () => toWorker.filter((m) => m.t === 'call').length === 2,
        () => 'two calls on the page',
      );
      await host.stop();
      for (const e of await Promise.all(first)) expect((e as P2pError).code).toBe('p2p.dial');
    } finally {
      await c.run();
    }
  });
});
