/**
 * Gossip candidates (alys-protocol.md 3.3): a proposer's one-signature block plus `approve_block`
 * approvals complete at the 2/3 threshold into an aggregate that verifies; forged signatures are
 * rejected, stale/duplicate/far-ahead input ignored, early approvals held (bounded).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  parseAggregationBits,
  prepareAuthorities,
  requiredApprovals,
  signerIndices,
  verifyAggregateApproval,
} from '../../src/protocol/approvals.js';
import { aggregateApprovals, signApproval } from '../../src/protocol/approvals-sign.js';
import { signingRoot } from '../../src/protocol/block.js';
import { createCandidatePool, type CandidatePool } from '../../src/protocol/candidates.js';
import type { ApproveBlock, ConsensusBlock, Hex, SignedConsensusBlock } from '../../src/protocol/types.js';
import { loadNodeBackends, secretKey } from './bls/helpers.js';
import { defaultBlock } from './codec/model.js';

const backends = await loadNodeBackends();
const backend = backends.find((b) => b.name === 'blst') ?? backends.find((b) => b.name === 'wasm')!;
const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;
/** Made-up authority keys for these tests. */
const SECRET = Array.from({ length: 15 }, (_, i) => secretKey(BigInt(7001 + i)));

function federation(n: number) {
  const authorities = prepareAuthorities(
    SECRET.slice(0, n).map((sk) => hex(backend.secretToPublicKey(sk))),
    backend,
  );
  return {
    n,
    authorities,
    pool: (o: { maxAhead?: number; maxEarlyApprovals?: number } = {}) =>
      createCandidatePool({ authorities, backend, ...o }),
  };
}

function blockAt(height: number, salt = 0): ConsensusBlock {
  const b = defaultBlock();
  return { ...b, slot: b.slot + salt, executionPayload: { ...b.executionPayload, blockNumber: BigInt(height) } };
}

/** The block as its proposer gossips it: carrying only the proposer's signature. */
function proposed(message: ConsensusBlock, proposer: number): SignedConsensusBlock {
  return {
    message,
    signature: aggregateApprovals([signApproval(SECRET[proposer]!, signingRoot(message), proposer, backend)], {
      backend,
    }),
  };
}

function approve(message: ConsensusBlock, index: number, signer = index): ApproveBlock {
  const root = signingRoot(message);
  return { blockHash: hex(root), signature: signApproval(SECRET[signer]!, root, index, backend) };
}

describe('candidate pool', () => {
  it('completes a proposer block at the threshold with approvals; the aggregate verifies', () => {
    for (const n of [1, 3, 4, 5, 15]) {
      const { authorities, pool } = federation(n);
      const p = pool();
      const msg = blockAt(10);
      const required = requiredApprovals(n);
      const first = p.offerBlock(proposed(msg, 0), 9);
      expect(first.verdict).toBe('accept');
      if (required === 1) {
        expect(first.complete?.height).toBe(10);
        continue;
      }
      expect(first.complete).toBeUndefined();
      for (let i = 1; i < required - 1; i++) expect(p.offerApproval(approve(msg, i), 9)).toEqual({ verdict: 'accept' });
      const last = p.offerApproval(approve(msg, required - 1), 9);
      expect(last.verdict).toBe('accept');
      const done = last.complete!;
      expect(done.height).toBe(10);
      expect(done.hash).toBe(hex(signingRoot(msg)));
      expect(signerIndices(parseAggregationBits(done.block.signature.aggregationBits))).toEqual(
        Array.from({ length: required }, (_, i) => i),
      );
      expect(
        verifyAggregateApproval({ root: signingRoot(msg), approval: done.block.signature, authorities, backend }),
      ).toHaveLength(required);
      // complete once: a later approval still verifies and is forwarded, but completes nothing again
      if (required < n) expect(p.offerApproval(approve(msg, required), 9)).toEqual({ verdict: 'accept' });
      if (required < n)
        expect(
          p.offerApproval(
            { ...approve(msg, required), signature: approve(msg, required, (required + 1) % n).signature },
            9,
          ).verdict,
        ).toBe('reject');
    }
  });

  it('holds approvals that arrive before their block (not forwarded), and checks them when it comes', () => {
    const { pool } = federation(4); // 3 of 4
    const p = pool();
    const msg = blockAt(3);
    expect(p.offerApproval(approve(msg, 1), 2).verdict).toBe('ignore');
    expect(p.offerApproval(approve(msg, 0, 1), 2).verdict).toBe('ignore'); // forged: held too, unchecked for now
    expect(p.size().earlyApprovals).toBe(2);
    // the forged one does not count: proposer 3 + authority 1 = 2 of 3
    expect(p.offerBlock(proposed(msg, 3), 2).complete).toBeUndefined();
    expect(p.size().earlyApprovals).toBe(0);
    expect(p.offerApproval(approve(msg, 2), 2).complete?.height).toBe(3);
    // malformed is rejected even when held: a short hash, a bad signature length, an index with no authority
    expect(p.offerApproval({ blockHash: '0x1234' as Hex, signature: approve(msg, 1).signature }, 2).verdict).toBe(
      'reject',
    );
    expect(
      p.offerApproval({ ...approve(blockAt(4), 1), signature: { signature: '0x00' as Hex, authorityIndex: 1 } }, 2)
        .verdict,
    ).toBe('reject');
    expect(
      p.offerApproval(
        { ...approve(blockAt(4), 1), signature: { ...approve(blockAt(4), 1).signature, authorityIndex: 7 } },
        2,
      ).verdict,
    ).toBe('reject');
  });

  it('rejects forged signatures, ignores old, duplicate or far-ahead input, forwards recent valid blocks it does not need', () => {
    const { pool } = federation(3);
    const p = pool({ maxAhead: 8 });
    const msg = blockAt(5);
    // the proposer's bit claims authority 1 but authority 0 signed
    const forged: SignedConsensusBlock = {
      message: msg,
      signature: aggregateApprovals([approve(msg, 1, 0).signature], { backend }),
    };
    expect(p.offerBlock(forged, 4).verdict).toBe('reject');
    expect(
      p.offerBlock(
        { message: msg, signature: { aggregationBits: '0x0080', aggregateSignature: `0x${'00'.repeat(96)}` } },
        4,
      ).verdict,
    ).toBe('reject');
    expect(p.offerBlock(proposed(msg, 0), 5)).toEqual({ verdict: 'accept' }); // at our head: forwarded, not kept
    expect(p.offerBlock(forged, 5).verdict).toBe('reject'); // and still checked
    expect(p.size().candidates).toBe(0);
    expect(p.offerBlock(proposed(msg, 0), 13).verdict).toBe('ignore'); // 8 below our head
    expect(p.offerBlock(proposed(blockAt(20), 0), 5).verdict).toBe('ignore'); // too far ahead
    expect(p.offerApproval(approve(blockAt(6), 1), 4).verdict).toBe('ignore'); // held
    expect(p.offerApproval(approve(blockAt(6), 1), 4).verdict).toBe('ignore'); // held already
    expect(p.offerBlock(proposed(msg, 0), 4).verdict).toBe('accept');
    expect(p.offerBlock(proposed(msg, 0), 4).verdict).toBe('ignore'); // known
    expect(p.offerApproval(approve(msg, 2, 1), 4).verdict).toBe('reject'); // wrong key for the index
    expect(
      p.offerApproval({ ...approve(msg, 1), signature: { ...approve(msg, 1).signature, authorityIndex: 9 } }, 4)
        .verdict,
    ).toBe('reject'); // no authority 9
    expect(p.offerApproval(approve(msg, 0), 4).verdict).toBe('ignore'); // the proposer's bit is set
    expect(p.offerApproval({ blockHash: '0x1234' as Hex, signature: approve(msg, 1).signature }, 4).verdict).toBe(
      'reject',
    );
    expect(p.size().candidates).toBe(1);
  });

  it('a newer candidate at the same height replaces the older (approvals of the old one do not count)', () => {
    const { pool } = federation(4); // 3 of 4 needed
    const p = pool();
    const a = blockAt(7, 0);
    const b = blockAt(7, 1);
    p.offerBlock(proposed(a, 0), 6);
    p.offerApproval(approve(a, 1), 6);
    expect(p.offerBlock(proposed(b, 2), 6).verdict).toBe('accept');
    expect(p.offerApproval(approve(a, 3), 6).complete).toBeUndefined(); // a is gone: held, not counted
    expect(p.offerApproval(approve(b, 3), 6).complete).toBeUndefined(); // b has 2 of 3
    const done = p.offerApproval(approve(b, 1), 6).complete!;
    expect(done.hash).toBe(hex(signingRoot(b)));
    // the height is decided: another valid proposal there is forwarded but changes nothing
    expect(p.offerBlock(proposed(a, 0), 6)).toEqual({ verdict: 'accept' });
    expect(p.offerApproval(approve(a, 1), 6).complete).toBeUndefined();
  });

  it('bounds approvals held for unknown blocks', () => {
    const { pool } = federation(3);
    const p = pool({ maxEarlyApprovals: 5 });
    for (let h = 1; h <= 8; h++) expect(p.offerApproval(approve(blockAt(h), 1), 0).verdict).toBe('ignore');
    expect(p.size().earlyApprovals).toBe(5);
    // the oldest were evicted: block 1's approval no longer counts
    expect(p.offerBlock(proposed(blockAt(1), 0), 0).complete).toBeUndefined();
    expect(p.offerBlock(proposed(blockAt(8), 0), 0).complete?.height).toBe(8);
  });

  it('property: in any delivery order, completes exactly when valid signers reach the threshold', () => {
    const { n, authorities, pool } = federation(5); // 4 of 5
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.subarray([0, 1, 2, 3, 4]),
        fc.subarray([0, 1, 2, 3, 4]),
        fc.integer({ min: 0, max: 1000 }),
        (proposer, honest, forgers, seed) => {
          const p = pool();
          const msg = blockAt(2, seed);
          type Step = { kind: 'block' } | { kind: 'approval'; index: number; forged: boolean };
          const steps: Step[] = [
            { kind: 'block' },
            ...honest.map((index) => ({ kind: 'approval' as const, index, forged: false })),
            ...forgers.map((index) => ({ kind: 'approval' as const, index, forged: true })),
          ];
          // a deterministic shuffle from the seed
          const order = steps
            .map((s, i) => ({ s, k: (i * 7919 + seed * 104729) % 997 }))
            .sort((x, y) => x.k - y.k)
            .map((x) => x.s);
          let completions = 0;
          let result: ReturnType<CandidatePool['offerBlock']>['complete'];
          for (const s of order) {
            const o =
              s.kind === 'block'
                ? p.offerBlock(proposed(msg, proposer), 1)
                : p.offerApproval(approve(msg, s.index, s.forged ? (s.index + 1) % n : s.index), 1);
            if (s.kind === 'approval' && s.forged && o.verdict !== 'ignore') expect(o.verdict).toBe('reject');
            if (o.complete) {
              completions++;
              result = o.complete;
            }
          }
          const signers = new Set([proposer, ...honest]);
          expect(completions).toBe(signers.size >= requiredApprovals(n) ? 1 : 0);
          if (result)
            expect(
              verifyAggregateApproval({
                root: signingRoot(msg),
                approval: result.block.signature,
                authorities,
                backend,
              }).length,
            ).toBeGreaterThanOrEqual(requiredApprovals(n));
        },
      ),
      { numRuns: 40 },
    );
  });
});
