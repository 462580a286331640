/**
 * The light node syncing over libp2p only (no consensus RPC): TCP to the devnet's federation peer,
 * every block verified as from an RPC endpoint, following new blocks by gossip (the proposer's block
 * and the federation's approve_block messages aggregated as Alys does, no request); a malicious peer next to the honest one is scored down and the sync
 * completes from the honest one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { startDevnetPeer, type DevnetPeer } from '../../../src/devnet/p2p.js';
import { LOOPBACK_LISTEN } from '../../../src/platform/nodejs/p2p.js';
import { inBlockMesh, startHost } from './hosts.js';
import { BLOCKS_BY_RANGE_PROTOCOL, encodeBlockChunk } from '../../../src/protocol/p2p/index.js';
import { aggregateApprovals, fromHex, signApproval, signingRoot, toHex } from '../../../src/protocol/index.js';
import {
  actorStates,
  chainBlockHashes,
  Cleanup,
  growChain,
  startDevnet,
  startNode,
  waitFor,
  waitSynced,
  withCleanup,
} from '../helpers.js';

const cleanup = new Cleanup();
let devnet: Devnet;
let peer: DevnetPeer;
const tcp = () => peer.addresses.find((a) => a.includes('/tcp/') && !a.includes('/ws'))!;

beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'p2p-sync');
  await growChain(devnet, 25, 10);
  peer = await startDevnetPeer(devnet);
  cleanup.add(() => peer.stop());
}, 60_000);
afterAll(() => cleanup.run(), 30_000);

describe('sync over p2p only', () => {
  it.each(['pow-checkpoint', 'full'] as const)(
    '%s: from the devnet peer over TCP, no consensus RPC, then follows new blocks',
    async (mode) => {
      await withCleanup(async (c) => {
        const { node } = await startNode(c, devnet, { mode, rpc: [], p2p: { bootstrap: [tcp()] } });
        const s = await waitSynced(node, devnet, 30_000);
        expect(s.head!.hash).toBe(devnet.chain.head.hash);
        expect((await node.status()).sources.map((x) => x.id)).toContain(peer.host.peerId);
        await growChain(devnet, 3, 1000);
        const t = await waitSynced(node, devnet, 30_000);
        expect(t.head!.hash).toBe(devnet.chain.head.hash);
        expect(await chainBlockHashes(node, devnet.chain.height)).toEqual(
          devnet.chain.range(0, devnet.chain.height).map((b) => b.hash),
        );
        expect(actorStates(node).filter((a) => a.state !== 'Running')).toEqual([]);
      });
    },
  );

  it.each(['pow-checkpoint', 'full'] as const)(
    '%s: follows the head by gossip alone: approvals aggregated, the block imported with no request',
    async (mode) => {
      await withCleanup(async (c) => {
        const { node } = await startNode(c, devnet, {
          mode,
          rpc: [],
          p2p: { bootstrap: [tcp()] },
          sync: { followIntervalMs: 600_000 },
        });
        await waitSynced(node, devnet, 30_000);
        await waitFor(
          () => inBlockMesh(peer.host),
          () => 'the node subscribed at the devnet peer',
        );
        await new Promise((r) => setTimeout(r, 1_500)); // a couple of heartbeats: the mesh forms
        const requestsBefore = peer.requests.length;
        for (let i = 0; i < 3; i++) {
          await devnet.produceNext();
          const s = await waitSynced(node, devnet, 10_000);
          expect(s.head!.hash).toBe(devnet.chain.head.hash);
        }
        // no blocks_by_range: the blocks came from gossip, aggregated and verified by the node
        expect(peer.requests.slice(requestsBefore)).toEqual([]);
        expect(await chainBlockHashes(node, devnet.chain.height)).toEqual(
          devnet.chain.range(0, devnet.chain.height).map((b) => b.hash),
        );
      });
    },
  );

  it('a block missed by gossip is fetched as soon as the next one arrives by gossip (no polling)', async () => {
    await withCleanup(async (c) => {
      const { node } = await startNode(c, devnet, {
        rpc: [],
        p2p: { bootstrap: [tcp()] },
        sync: { followIntervalMs: 600_000 },
      });
      await waitSynced(node, devnet, 30_000);
      const id = (await node.status()).p2p!.peerId;
      const inMesh = () => inBlockMesh(peer.host, id);
      await waitFor(inMesh, () => 'the node in the devnet peer mesh');
      const reasons: string[] = [];
      node.on('source', (e) => reasons.push(e.reason));
      // the node is away while one block is produced and gossiped
      await peer.host.ban(id, Date.now() + 300);
      await devnet.produceNext();
      const missed = devnet.chain.height;
      await new Promise((r) => setTimeout(r, 400));
      // a slow machine can take a few redial rounds (1 s, 2 s, 4 s backoff while the ban held): what
      // the wait saw is in its message, to tell a slow redial from a lost one
      await waitFor(
        inMesh,
        async () =>
          `the node back (bootstrap redial) in the mesh; devnet peer connected to the node: ${peer.host
            .connections()
            .some(
              (x) => x.peer === id,
            )}, node peers: ${JSON.stringify((await node.status()).p2p?.peers ?? null)}, sources: ${JSON.stringify((await node.status()).sources)}`,
        30_000,
      );
      await new Promise((r) => setTimeout(r, 1_500));
      const before = peer.requests.length;
      await devnet.produceNext();
      const s = await waitSynced(node, devnet, 10_000);
      expect(s.head!.hash).toBe(devnet.chain.head.hash);
      // hanging up is not misbehaviour: requests meant for the peer while it was away cost it nothing
      const score = s.sources.find((x) => x.id === peer.host.peerId)!;
      expect(score.bannedUntil).toBe(0);
      expect(score.faultsByKind.network ?? 0, reasons.join('\n')).toBeLessThanOrEqual(5);
      // the gap was asked for by blocks_by_range (the head probe and the range), the head itself came by gossip
      expect(peer.requests.slice(before)).toContain(BigInt(missed));
      expect(await chainBlockHashes(node, devnet.chain.height)).toEqual(
        devnet.chain.range(0, devnet.chain.height).map((b) => b.hash),
      );
    });
  });

  it('a peer gossiping forged blocks and approvals: rejected (not forwarded), charged, the head does not move', async () => {
    await withCleanup(async (c) => {
      const evil = await startHost(c, { listen: LOOPBACK_LISTEN });
      const { node } = await startNode(c, devnet, {
        rpc: [],
        p2p: { bootstrap: [tcp(), evil.multiaddrs()[0]!] },
        sync: { followIntervalMs: 600_000 },
      });
      await waitSynced(node, devnet, 30_000);
      await waitFor(
        () => inBlockMesh(evil),
        () => 'the node subscribed at the evil peer',
      );
      // an honest block by gossip first: the node knows it (a completed candidate)
      await waitFor(
        () => inBlockMesh(peer.host),
        () => 'the node in the devnet mesh',
      );
      await new Promise((r) => setTimeout(r, 1_500));
      await devnet.produceNext();
      await waitSynced(node, devnet, 10_000);
      // what reaches the devnet peer (connected to the node, not to the evil peer)
      const reached: string[] = [];
      const listen = (e: CustomEvent<{ topic: string }>) => reached.push(e.detail.topic);
      peer.host.libp2p.services.pubsub.addEventListener('message', listen);
      c.add(() => peer.host.libp2p.services.pubsub.removeEventListener('message', listen));
      expect(peer.host.peers()).not.toContain(evil.peerId);
      const head = devnet.chain.head;
      // a block on top of our head, "proposed" by authority 0 but signed with a key that is not its
      const message = {
        ...head.signed.message,
        parentHash: head.hash,
        slot: head.signed.message.slot + 1,
        executionPayload: { ...head.signed.message.executionPayload, blockNumber: BigInt(head.number + 1) },
      };
      const root = signingRoot(message);
      const wrongKey = new Uint8Array(32).fill(7);
      const forged = {
        message,
        signature: aggregateApprovals([signApproval(wrongKey, root, 0, devnet.bls)], { backend: devnet.bls }),
      };
      expect(await evil.publish({ type: 'ConsensusBlock', block: forged })).toBe(true);
      // approvals of it, signed with wrong keys too: held unchecked until such a block comes (never), not forwarded
      for (const index of [1, 2])
        await evil.publish({
          type: 'ApproveBlock',
          approval: { blockHash: toHex(root), signature: signApproval(wrongKey, root, index, devnet.bls) },
        });
      // and forged approvals of the block the node knows: checked, rejected
      const headRoot = fromHex(head.hash);
      for (const index of [1, 2])
        await evil.publish({
          type: 'ApproveBlock',
          approval: { blockHash: head.hash, signature: signApproval(wrongKey, headRoot, index, devnet.bls) },
        });
      await waitFor(
        async () => {
          const src = (await node.status()).sources.find((x) => x.id === evil.peerId);
          return src === undefined || (src.faultsByKind.invalid ?? 0) >= 3;
        },
        async () => `the evil peer charged for its gossip: ${JSON.stringify((await node.status()).sources)}`,
        10_000,
      );
      const st = await node.status();
      expect(st.head!.hash).toBe(head.hash);
      // the honest peer never saw the forgeries: the node did not forward them
      await new Promise((r) => setTimeout(r, 1_000));
      expect(reached).toEqual([]);
      // and the honest chain still imports by gossip
      await devnet.produceNext();
      expect((await waitSynced(node, devnet, 10_000)).head!.hash).toBe(devnet.chain.head.hash);
      expect(actorStates(node).filter((a) => a.state !== 'Running')).toEqual([]);
    });
  });

  it('a light node serves the verified blocks it stores: a second node with no RPC syncs from the first', async () => {
    await withCleanup(async (c) => {
      const { node: first } = await startNode(c, devnet, { p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] } });
      await waitSynced(first, devnet, 30_000);
      const { p2p } = await first.status();
      expect(p2p?.addresses.length).toBeGreaterThan(0);
      const { node: second } = await startNode(c, devnet, { rpc: [], p2p: { bootstrap: [p2p!.addresses[0]!] } });
      const s = await waitSynced(second, devnet, 30_000);
      expect(s.head!.hash).toBe(devnet.chain.head.hash);
      const ids = (await second.status()).sources.map((x) => x.id);
      expect(ids).toContain(p2p!.peerId);
      expect(ids).not.toContain(devnet.urls.consensus);
      expect(await chainBlockHashes(second, devnet.chain.height)).toEqual(
        devnet.chain.range(0, devnet.chain.height).map((b) => b.hash),
      );
    });
  });

  it('a peer serving junk next to the honest one: scored down, the sync completes from the honest peer', async () => {
    await withCleanup(async (c) => {
      const evil = await startHost(c, { listen: LOOPBACK_LISTEN });
      await evil.libp2p.unhandle(BLOCKS_BY_RANGE_PROTOCOL);
      // it claims every height, and answers with block 1 whatever is asked (the wrong block past height 1)
      await evil.libp2p.handle(BLOCKS_BY_RANGE_PROTOCOL, async (stream) => {
        for await (const _ of stream) {
          // the request
        }
        stream.send(encodeBlockChunk(devnet.chain.at(1)!.signed));
        await stream.close().catch(() => {});
      });
      const { node } = await startNode(c, devnet, { rpc: [], p2p: { bootstrap: [evil.multiaddrs()[0]!, tcp()] } });
      const s = await waitSynced(node, devnet, 60_000);
      expect(s.head!.hash).toBe(devnet.chain.head.hash);
      await waitFor(
        async () =>
          ((await node.status()).sources.find((x) => x.id === evil.peerId)?.faults ?? 0) > 0 ||
          !(await node.status()).sources.some((x) => x.id === evil.peerId),
        async () => `the junk peer scored down: ${JSON.stringify((await node.status()).sources)}`,
      );
      const honest = (await node.status()).sources.find((x) => x.id === peer.host.peerId)!;
      expect(Object.keys(honest.faultsByKind).filter((k) => k !== 'timeout' && k !== 'network')).toEqual([]);
      expect(await chainBlockHashes(node, devnet.chain.height)).toEqual(
        devnet.chain.range(0, devnet.chain.height).map((b) => b.hash),
      );
    });
  });
});
