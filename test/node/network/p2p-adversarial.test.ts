/**
 * The light node against adversarial libp2p peers: every one of the devnet's 21 fault modes served
 * over blocks_by_range (src/devnet/p2p.ts startFaultyDevnetPeer) next to the honest devnet peer, no
 * consensus RPC at all. The node must end at the honest head and finalized block, store only honest
 * blocks, score the faulty peer down (or ban and disconnect it) and never charge the honest peer for
 * its data. (`withheld` over p2p: see the test; with no head claims in the protocol it is "behind".) Same shared devnet as the RPC suite's (chain id 21212, PoW at 10, 20, 30).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { FAULT_INFO, FAULTS, type FaultName } from '../../../src/devnet/faults.js';
import { startDevnetPeer, startFaultyDevnetPeer, type DevnetPeer } from '../../../src/devnet/p2p.js';
import {
  actorStates,
  chainBlockHashes,
  Cleanup,
  eventProblems,
  finalizedHeight,
  growChain,
  honestHash,
  startDevnet,
  startNode,
  storageProblems,
  waitFor,
  waitSynced,
  withCleanup,
} from '../helpers.js';

const shared = new Cleanup();
let devnet: Devnet;
let honest: DevnetPeer;
const TIP = 30;

beforeAll(async () => {
  devnet = await startDevnet(shared, 'adversarial-p2p', { chainId: 21212 });
  await growChain(devnet, TIP, 10);
  honest = await startDevnetPeer(devnet);
  shared.add(() => honest.stop());
}, 60_000);
afterAll(() => shared.run(), 60_000);

// Genesis faults lie only about block 0, which a cold start asks of one source at a time: a node
// whose honest peer answers first never asks the faulty one, so there is nothing to catch here.
// They are covered in test/node/genesis.test.ts (the same fetchGenesis checks, sources in a fixed order).
const CASES: Array<{ fault: FaultName; mode: 'full' | 'pow-checkpoint' }> = FAULTS.filter(
  (fault) => FAULT_INFO[fault].kind !== 'genesis',
).map((fault) => ({
  fault,
  mode: FAULT_INFO[fault].kind === 'block' ? 'full' : 'pow-checkpoint',
}));

describe.concurrent('a faulty and an honest peer, no RPC', { timeout: 120_000 }, () => {
  it.each(CASES)('$fault ($mode): the honest chain wins, the faulty peer is scored down', async ({ fault, mode }) => {
    await withCleanup(async (c) => {
      const faulty = await startFaultyDevnetPeer(devnet, { fault, seed: `p2p-${fault}`, delayMs: 3_000 });
      c.add(() => faulty.stop());
      expect(Array.from({ length: TIP + 1 }, (_, h) => h).some((h) => faulty.affects(h))).toBe(true);
      const { node, events } = await startNode(c, devnet, {
        mode,
        rpc: [],
        p2p: { bootstrap: [faulty.addresses[0]!, honest.addresses[0]!] },
      });
      const s = await waitSynced(node, devnet, 60_000).catch(async (e: Error) => {
        throw new Error(
          `${e.message}; p2p ${JSON.stringify((await node.status()).p2p)}; honest peer ${honest.host.peerId} has ${honest.host.peers().length} peers`,
        );
      });
      expect(s.head!.hash).toBe(honestHash(devnet, TIP));
      expect(s.finalized).toBe(finalizedHeight(devnet));
      if (fault === 'withheld') {
        // Alys has no status request: a peer that withholds its blocks claims nothing it does not
        // serve, so it looks like a peer that is behind. Nothing to charge, and nothing taken from it.
        const src = (await node.status()).sources.find((x) => x.id === faulty.host.peerId);
        expect(src?.successes ?? 0).toBe(0);
      }
      // the faulty peer was caught: charged a fault, or banned and disconnected (then forgotten)
      else
        await waitFor(
          async () => {
            const st = await node.status();
            const src = st.sources.find((x) => x.id === faulty.host.peerId);
            return (src !== undefined && src.faults > 0) || !st.p2p!.peers.includes(faulty.host.peerId);
          },
          async () => `the faulty peer scored down: ${JSON.stringify((await node.status()).sources)}`,
          30_000,
        );
      const h = (await node.status()).sources.find((x) => x.id === honest.host.peerId)!;
      expect(Object.keys(h.faultsByKind).filter((k) => k !== 'timeout' && k !== 'network')).toEqual([]);
      expect(h.bannedUntil).toBe(0);
      expect(eventProblems(events, devnet, { reorgs: fault === 'equivocation' })).toEqual([]);
      expect(await storageProblems(node, devnet, TIP)).toEqual([]);
      expect(await chainBlockHashes(node, TIP)).toEqual(
        Array.from({ length: TIP + 1 }, (_, n) => honestHash(devnet, n)),
      );
      expect(actorStates(node).filter((a) => a.state !== 'Running' || a.restarts !== 0)).toEqual([]);
    });
  });
});
