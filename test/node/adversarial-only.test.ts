/**
 * The light node with the devnet's adversarial consensus RPC (src/devnet/faults) as its ONLY
 * consensus source: there is no honest endpoint to fall back to, so the node cannot reach the tip;
 * what must hold is that it never believes the lie. For every block, AuxPoW and chain fault, in both
 * modes, after a bounded run (until the sync phase is `following` or `stalled`, at most 6 s):
 *
 * - no head or finalized event, no stored block and no block the chain actor serves differs from
 *   the honest devnet chain at its height (a height may hold nothing);
 * - the faulty endpoint is scored down or banned;
 * - no actor crashed (every actor Running, 0 restarts).
 *
 * `equivocation` is the exception by design: its sibling blocks are validly signed by the
 * federation and a light node takes the first one it sees (only a verified PoW decides), so for it
 * only what the node reports or holds as *finalized* must be on the honest chain, and nothing may
 * crash. The devnet is the one of adversarial.test.ts (chain id 21212, blocks 1..30, PoW at 10, 20, 30).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import {
  AUXPOW_FAULTS,
  BLOCK_FAULTS,
  CHAIN_FAULTS,
  FAULT_INFO,
  FAULTS,
  serveFaultyConsensusRpc,
  type FaultName,
} from '../../src/devnet/faults.js';
import type { Hex } from '../../src/protocol/types.js';
import {
  actorStates,
  chainBlockHashes,
  Cleanup,
  eventProblems,
  growChain,
  honestHash,
  powBlocks,
  sleep,
  startDevnet,
  startNode,
  storedHashes,
  waitFor,
  withCleanup,
} from './helpers.js';

const shared = new Cleanup();
let devnet: Devnet;
const TIP = 30;
/** How long a run may go before its state is checked (unless it reports following/stalled earlier). */
const RUN_MS = 6_000;

beforeAll(async () => {
  devnet = await startDevnet(shared, 'adversarial-only', { chainId: 21212 });
  await growChain(devnet, TIP, 10);
  expect(powBlocks(devnet).map((p) => p.number)).toEqual([10, 20, 30]);
}, 60_000);
afterAll(() => shared.run(), 60_000);

type Mode = 'full' | 'pow-checkpoint';
const MODES: Mode[] = ['full', 'pow-checkpoint'];

// genesis faults leave the node without a genesis (it does not start): test/node/genesis.test.ts
const CONTENT_FAULTS: FaultName[] = FAULTS.filter((f) => !['transport', 'genesis'].includes(FAULT_INFO[f].kind));

it('runs every block, AuxPoW and chain fault', () => {
  expect(new Set(CONTENT_FAULTS)).toEqual(new Set([...BLOCK_FAULTS, ...AUXPOW_FAULTS, ...CHAIN_FAULTS]));
  expect(CONTENT_FAULTS).toHaveLength(18);
});

const CASES = CONTENT_FAULTS.flatMap((fault) => MODES.map((mode) => ({ fault, mode })));

/** Heights 0..upTo whose hash is neither null nor the devnet's. */
function offChain(hashes: Array<Hex | null>): string[] {
  return hashes.flatMap((h, n) =>
    h !== null && h !== devnet.chain.at(n)?.hash ? [`${n}: ${h} (devnet ${devnet.chain.at(n)?.hash ?? 'none'})`] : [],
  );
}

describe.concurrent('a faulty endpoint as the only consensus source', { timeout: 60_000 }, () => {
  it.each(CASES)(
    '$fault ($mode): nothing off the honest chain is reported or stored, the endpoint is scored down, nothing crashes',
    async ({ fault, mode }) => {
      await withCleanup(async (c) => {
        const faulty = await serveFaultyConsensusRpc(devnet, {
          fault,
          seed: `adv-only-${fault}-${mode}`,
          port: 0,
          delayMs: 3_000,
        });
        c.add(() => faulty.close());
        const affected = Array.from({ length: TIP + 1 }, (_, h) => h).filter((h) => faulty.affects(h));
        expect(affected.length).toBeGreaterThan(0);
        expect(affected).not.toContain(0); // genesis is honest: the node can start

        const { node, events } = await startNode(c, devnet, { mode, rpc: [faulty.url] });
        const started = Date.now();
        // a bounded run: until the sync settles (following or stalled) or RUN_MS passed
        while (Date.now() - started < RUN_MS) {
          const phase = (await node.status()).sync?.phase;
          if (phase === 'following' || phase === 'stalled') break;
          await sleep(100);
        }

        // the faulty endpoint was caught (equivocating blocks are valid: nothing to catch there)
        if (fault !== 'equivocation')
          await waitFor(
            async () => {
              const src = (await node.status()).sources.find((x) => x.id === faulty.url)!;
              return src.faults > 0 && (src.score < 100 || src.bannedUntil > 0);
            },
            async () => `the faulty endpoint scored down: ${JSON.stringify((await node.status()).sources)}`,
            10_000,
          );

        const status = await node.status();
        const upTo = TIP + 2;
        const stored = await storedHashes(node, upTo);
        const served = await chainBlockHashes(node, upTo);
        const what = `${fault} (${mode}): status ${JSON.stringify({ head: status.head, finalized: status.finalized, sync: status.sync, sources: status.sources })}`;

        if (fault === 'equivocation') {
          // first seen wins until a PoW decides: only finality must be honest
          expect(
            events.finalized.filter((f) => devnet.chain.at(f.number)?.hash !== f.hash),
            what,
          ).toEqual([]);
          expect(offChain(stored.slice(0, status.finalized + 1)), what).toEqual([]);
          expect(offChain(served.slice(0, status.finalized + 1)), what).toEqual([]);
          expect(stored[status.finalized], what).toBe(honestHash(devnet, status.finalized));
        } else {
          // nothing reported, stored or served differs from the honest chain
          expect(eventProblems(events, devnet), what).toEqual([]);
          expect(offChain(stored), what).toEqual([]);
          expect(offChain(served), what).toEqual([]);
          if (status.head) expect(status.head.hash, what).toBe(honestHash(devnet, status.head.number));
          // stored and served agree, and nothing above the reported head is stored
          expect(stored, what).toEqual(served);
          expect(
            stored.slice((status.head?.number ?? 0) + 1).filter((h) => h !== null),
            what,
          ).toEqual([]);
        }
        expect(stored[0], what).toBe(honestHash(devnet, 0));
        expect(status.finalized, what).toBeLessThanOrEqual(status.head?.number ?? 0);

        // nobody crashed
        expect(
          actorStates(node).filter((a) => a.state !== 'Running' || a.restarts !== 0),
          what,
        ).toEqual([]);
        expect(events.health, what).toEqual([]);
      });
    },
  );
});
