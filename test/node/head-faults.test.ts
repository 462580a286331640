/**
 * The head-first cold start against the devnet's adversarial consensus RPC (src/devnet/faults), at
 * the head and in the blocks the finality walk fetches:
 *
 * - with [faulty, honest] endpoints the node starts at the honest head with the honest finalized
 *   block, reports and stores nothing from the faulty chain, charges the faulty endpoint and never
 *   charges the honest one for its data;
 * - with the faulty endpoint alone it reports no head from the faulty chain and stores nothing: the
 *   start fails (no verified head), or it starts on the honest blocks the faulty endpoint still serves.
 *
 * Two devnets (chain id 21212, so that auxpow-parent-chain-id is possible): on the first the head is a
 * PoW block (30, finalizing 20..29), so AuxPoW faults at the head reach the walk's PoW check; on the
 * second the head (35) is a plain block and the PoW block 30 lies inside the walk, so a fault there is
 * caught by the hash links. Each run has its own fault server and node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import { AUXPOW_FAULTS, serveFaultyConsensusRpc, type FaultName } from '../../src/devnet/faults.js';
import {
  Cleanup,
  type EventLog,
  eventProblems,
  finalizedHeight,
  growChain,
  honestHash,
  makeNode,
  powBlocks,
  startDevnet,
  storedHashes,
  waitFor,
  waitSynced,
  withCleanup,
} from './helpers.js';

const shared = new Cleanup();
/** Head 30 is a PoW block. */
let powHead: Devnet;
/** Head 35 is a plain block; the PoW block 30 is in the walk. */
let plainHead: Devnet;

beforeAll(async () => {
  const [pow, plain] = await Promise.all(
    [
      ['head-faults-pow', 30],
      ['head-faults-plain', 35],
    ].map(async ([seed, tip]) => {
      const devnet = await startDevnet(shared, seed as string, { chainId: 21212 });
      await growChain(devnet, tip as number, 10);
      return devnet;
    }),
  );
  powHead = pow!;
  plainHead = plain!;
  expect(powBlocks(powHead).map((p) => p.number)).toEqual([10, 20, 30]);
  expect(powBlocks(plainHead).map((p) => p.number)).toEqual([10, 20, 30]);
}, 120_000);
afterAll(() => shared.run(), 60_000);

interface Case {
  fault: FaultName;
  /** Which devnet: the head is the PoW block, or a plain block above it. */
  chain: 'pow-head' | 'plain-head';
  /** First height the fault touches. */
  from: number;
}

const devnetOf = (c: Case) => (c.chain === 'pow-head' ? powHead : plainHead);

const CASES: Case[] = [
  // the head itself: forged approvals, a broken payload hash, a parent that is not its parent
  ...(['bad-signature', 'too-few-approvals', 'bits-beyond-n', 'payload-hash-mismatch', 'wrong-parent'] as const).map(
    (fault): Case => ({ fault, chain: 'pow-head', from: 30 }),
  ),
  // the PoW block at the head: every AuxPoW defect reaches the walk's PoW check
  ...AUXPOW_FAULTS.map((fault): Case => ({ fault, chain: 'pow-head', from: 30 })),
  // the blocks the walk fetches: a wrong signing root breaks the hash link
  ...(['wrong-parent', 'payload-hash-mismatch', 'bad-signature'] as const).map(
    (fault): Case => ({ fault, chain: 'plain-head', from: 21 }),
  ),
  // the PoW block inside the walk (every AuxPoW defect changes its signing root)
  ...AUXPOW_FAULTS.map((fault): Case => ({ fault, chain: 'plain-head', from: 30 })),
  // a head the adversary answers with an older block, blocks withheld, replies broken on the wire
  ...(['reordered', 'withheld', 'malformed-json', 'truncated'] as const).map(
    (fault): Case => ({ fault, chain: 'plain-head', from: 1 }),
  ),
];

/** Events naming a block the devnet does not have (or a finalized block it does not finalize). */
function foreignEvents(events: EventLog, devnet: Devnet): string[] {
  return eventProblems(events, devnet);
}

describe.concurrent('a faulty and an honest endpoint', { timeout: 90_000 }, () => {
  it.each(CASES)(
    '$fault from block $from ($chain): the honest head and finalized block, the faulty endpoint charged',
    async (c) => {
      const devnet = devnetOf(c);
      const tip = devnet.chain.height;
      await withCleanup(async (cl) => {
        const faulty = await serveFaultyConsensusRpc(devnet, {
          fault: c.fault,
          seed: `hf-${c.fault}-${c.chain}`,
          from: c.from,
          port: 0,
        });
        cl.add(() => faulty.close());
        expect(faulty.affects(c.from)).toBe(true);
        const { node, events } = makeNode(cl, devnet, {
          rpc: [faulty.url, devnet.urls.consensus],
          sync: { start: 'head', history: 'all' },
        });
        await node.start();
        const s = await waitSynced(node, devnet, 60_000);
        expect(s.head!.hash).toBe(honestHash(devnet, tip));
        expect(s.finalized).toBe(finalizedHeight(devnet));
        expect(foreignEvents(events, devnet)).toEqual([]);
        expect(events.head[0]).toMatchObject({ number: tip, hash: honestHash(devnet, tip) });
        expect(events.finalized[0]).toMatchObject({
          number: finalizedHeight(devnet),
          hash: honestHash(devnet, finalizedHeight(devnet)),
        });
        await waitFor(
          async () => {
            const src = (await node.status()).sources.find((x) => x.id === faulty.url)!;
            return src.faults > 0 && src.score < 100;
          },
          async () => `the faulty endpoint charged: ${JSON.stringify((await node.status()).sources)}`,
          30_000,
        );
        const honest = (await node.status()).sources.find((x) => x.id === devnet.urls.consensus)!;
        expect(Object.keys(honest.faultsByKind).filter((k) => k !== 'timeout' && k !== 'network')).toEqual([]);
        const from = (await node.status()).historyFrom!;
        const stored = await storedHashes(node, tip + 1);
        expect(stored.slice(from, tip + 1)).toEqual(
          Array.from({ length: tip + 1 - from }, (_, i) => honestHash(devnet, from + i)),
        );
        expect(stored[tip + 1]).toBeNull();
      });
    },
  );
});
