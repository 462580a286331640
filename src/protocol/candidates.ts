/**
 * Block candidates and gossiped approvals (alys-protocol.md 3.3): how an Alys node follows the head
 * by gossip. The proposer gossips its block carrying only its own signature; every authority that
 * accepts it gossips an `ApproveBlock` (its signature over the same signing root); each node adds the
 * approvals to its copy of the candidate and imports that copy once a majority signed.
 *
 * The pool checks every signature before it counts (the proposer's partial aggregate with
 * `minSigners: 1`, each approval against its authority's key), so a completed candidate carries a
 * majority aggregate that verifies, and a gossip validator can forward only what verified. Verdicts
 * follow gossipsub's: `reject` for provably bad input (its sender is penalised), `ignore` for what is
 * merely useless (a duplicate, too old, too far ahead), `accept` to forward. A valid message that
 * no longer changes anything here (a block at a recent height already imported, an approval past the
 * majority) is still accepted, so nodes behind us, a browser behind its relay, get it as Alys
 * nodes forward everything.
 *
 * Alys rules kept: a candidate at or below the local head is refused; a newer candidate at the same
 * height replaces the older one (synced nodes keep the most recently received, spec 3.3 [R]); a
 * height whose candidate completed keeps it. Approvals that arrive before their block are held
 * (bounded, unverified and not forwarded: a replay of old approvals then costs no signature check and
 * goes nowhere), then verified and applied when the block comes. [U] Whether Alys buffers early
 * approvals is not in the spec; holding them cannot make a wrong block complete, since every approval
 * is verified against the root before it counts.
 *
 * With an authority schedule (`authority-schedule.ts`) each candidate is checked against the set in
 * force at its height (its signatures, its majority); an early approval's index against every set in
 * force at a height it could be for.
 */
import {
  aggregateApprovalsWith,
  authoritiesAt,
  authorityIndexBound,
  parseAggregationBits,
  requiredApprovals,
  verifyAggregateApproval,
  verifyIndividualApproval,
  type AuthoritySource,
} from './approvals.js';
import { signingRoot } from './block.js';
import { BLS_SIGNATURE_LENGTH, type BlsBackend } from './bls/backend.js';
import { parseHex, toHex, type Hex } from './bytes.js';
import { DecodeError, VerificationError } from './errors.js';
import type { ApproveBlock, IndividualApproval, SignedConsensusBlock } from './types.js';

export type GossipVerdict = 'accept' | 'ignore' | 'reject';

export interface CompletedCandidate {
  /** The block with the aggregate of its proposer's and the gossiped approvals (a verified majority). */
  block: SignedConsensusBlock;
  hash: Hex;
  height: number;
}

export interface CandidateOffer {
  verdict: GossipVerdict;
  /** Why it was rejected or ignored. */
  reason?: string;
  /** Set once per block: the offer that brought it to a majority. */
  complete?: CompletedCandidate;
}

export interface CandidatePoolOptions {
  /** The spec's set, or a schedule of sets by height (read on every offer: changes added later count). */
  authorities: AuthoritySource;
  backend: BlsBackend;
  /** Candidates more than this many heights above the local head are ignored (default 64). */
  maxAhead?: number;
  /** Valid blocks up to this many heights at or below the local head are still forwarded (default 8). */
  recent?: number;
  /** Approvals held for blocks not seen yet, in all (default 240: 16 blocks of 15 authorities). */
  maxEarlyApprovals?: number;
}

interface Candidate {
  block: SignedConsensusBlock;
  hash: Hex;
  height: number;
  /** Signers in the block's own aggregate. */
  baseMask: number;
  /** Verified approvals added since, by authority index. */
  approvals: Map<number, IndividualApproval>;
  done: boolean;
}

export interface CandidatePool {
  /** A gossiped `consensus_block`, given the height of our verified head. */
  offerBlock(block: SignedConsensusBlock, localHead: number): CandidateOffer;
  /** A gossiped `approve_block`. */
  offerApproval(approval: ApproveBlock, localHead: number): CandidateOffer;
  /** Candidates and early approvals held (for metrics and tests). */
  size(): { candidates: number; earlyApprovals: number };
}

function popcount(mask: number): number {
  let n = 0;
  for (let m = mask; m !== 0; m &= m - 1) n++;
  return n;
}

function badInput(e: unknown): string | undefined {
  return e instanceof DecodeError || e instanceof VerificationError ? e.message : undefined;
}

export function createCandidatePool(opts: CandidatePoolOptions): CandidatePool {
  const { authorities, backend } = opts;
  const maxAhead = opts.maxAhead ?? 64;
  const maxEarly = opts.maxEarlyApprovals ?? 240;
  const recent = opts.recent ?? 8;
  const byHeight = new Map<number, Candidate>();
  const byHash = new Map<Hex, Candidate>();
  /** Approvals for blocks not seen yet, oldest block hash first (Map keeps insertion order). */
  const early = new Map<Hex, IndividualApproval[]>();
  let earlyCount = 0;

  function prune(localHead: number): void {
    for (const [h, c] of byHeight)
      if (h < localHead - maxAhead) {
        byHeight.delete(h);
        byHash.delete(c.hash);
      }
  }

  function drop(c: Candidate): void {
    byHeight.delete(c.height);
    byHash.delete(c.hash);
  }

  /** The candidate's aggregate once a majority signed (then it is done), else undefined. */
  function completion(c: Candidate): CompletedCandidate | undefined {
    let mask = c.baseMask;
    for (const i of c.approvals.keys()) mask |= 1 << i;
    if (c.done || popcount(mask) < requiredApprovals(authoritiesAt(authorities, c.height).count)) return undefined;
    const added = [...c.approvals.entries()].filter(([i]) => (c.baseMask & (1 << i)) === 0).map(([, a]) => a);
    const signature = aggregateApprovalsWith(added, { backend, base: c.block.signature });
    c.done = true;
    return { block: { message: c.block.message, signature }, hash: c.hash, height: c.height };
  }

  function verifies(root: Uint8Array, height: number, approval: IndividualApproval): boolean {
    try {
      verifyIndividualApproval({ root, approval, authorities: authoritiesAt(authorities, height), backend });
      return true;
    } catch (e) {
      if (badInput(e) === undefined) throw e;
      return false;
    }
  }

  /** An approval of a block not seen yet: checked for form only, held (bounded, oldest out), not forwarded. */
  function hold(hash: Hex, approval: IndividualApproval, localHead: number): CandidateOffer {
    try {
      parseHex(hash, '$.block_hash', { prefix: 'required', length: 32 });
      parseHex(approval.signature, '$.signature.signature', { prefix: 'required', length: BLS_SIGNATURE_LENGTH });
    } catch (e) {
      return { verdict: 'reject', reason: `approval of ${hash}: ${(e as Error).message}` };
    }
    const index = approval.authorityIndex;
    if (
      !Number.isInteger(index) ||
      index < 0 ||
      index >= authorityIndexBound(authorities, Math.max(0, localHead - recent + 1))
    )
      return { verdict: 'reject', reason: `approval of ${hash}: authority index ${index} has no authority` };
    // the same approval twice is held once; different signatures for one index are all held (one
    // forged early cannot shut out the real one), each checked when the block comes
    let held = early.get(hash);
    if (held?.some((a) => a.authorityIndex === index && a.signature.toLowerCase() === approval.signature.toLowerCase()))
      return { verdict: 'ignore', reason: `authority ${index} already held for ${hash}` };
    if (!held) early.set(hash, (held = []));
    held.push(approval);
    earlyCount++;
    while (earlyCount > maxEarly) {
      const [oldest, list] = early.entries().next().value as [Hex, IndividualApproval[]];
      early.delete(oldest);
      earlyCount -= list.length;
    }
    return { verdict: 'ignore', reason: `held until block ${hash} arrives` };
  }

  return {
    offerBlock(block, localHead) {
      prune(localHead);
      const number = block?.message?.executionPayload?.blockNumber;
      if (typeof number !== 'bigint' || number > BigInt(Number.MAX_SAFE_INTEGER))
        return { verdict: 'reject', reason: 'no usable block number' };
      const height = Number(number);
      if (height <= localHead - recent)
        return { verdict: 'ignore', reason: `block ${height} is more than ${recent} below our head ${localHead}` };
      if (height > localHead + maxAhead)
        return { verdict: 'ignore', reason: `block ${height} is more than ${maxAhead} above our head ${localHead}` };
      let root: Uint8Array;
      let baseMask: number;
      try {
        root = signingRoot(block.message);
        const set = authoritiesAt(authorities, height);
        verifyAggregateApproval({ root, approval: block.signature, authorities: set, backend, minSigners: 1 });
        baseMask = parseAggregationBits(block.signature.aggregationBits);
      } catch (e) {
        const reason = badInput(e);
        if (reason === undefined) throw e;
        return { verdict: 'reject', reason: `block ${height}: ${reason}` };
      }
      const hash = toHex(root);
      const existing = byHeight.get(height);
      // valid, but its height is decided (imported, or a candidate completed): forward it, keep nothing
      if (height <= localHead || existing?.done) return { verdict: 'accept' };
      if (existing?.hash === hash && popcount(baseMask) <= popcount(existing.baseMask))
        return { verdict: 'ignore', reason: `block ${height} is known` };
      const approvals = existing?.hash === hash ? existing.approvals : new Map<number, IndividualApproval>();
      if (existing) drop(existing);
      const c: Candidate = { block, hash, height, baseMask, approvals, done: false };
      const held = early.get(hash);
      if (held) {
        early.delete(hash);
        earlyCount -= held.length;
        for (const a of held) {
          const i = a.authorityIndex;
          if (!approvals.has(i) && ((baseMask >> i) & 1) === 0 && verifies(root, height, a)) approvals.set(i, a);
        }
      }
      byHeight.set(height, c);
      byHash.set(hash, c);
      const complete = completion(c);
      return complete ? { verdict: 'accept', complete } : { verdict: 'accept' };
    },

    offerApproval(approval, localHead) {
      prune(localHead);
      const hash = typeof approval?.blockHash === 'string' ? (approval.blockHash.toLowerCase() as Hex) : undefined;
      const index = approval?.signature?.authorityIndex;
      if (hash === undefined || typeof index !== 'number') return { verdict: 'reject', reason: 'not an approval' };
      const c = byHash.get(hash);
      if (c && !c.done && ((c.baseMask >> index) & 1 || c.approvals.has(index)))
        return { verdict: 'ignore', reason: `authority ${index} already counted for block ${c.height}` };
      if (!c) return hold(hash, approval.signature, localHead);
      try {
        const set = authoritiesAt(authorities, c.height);
        verifyIndividualApproval({ root: hash, approval: approval.signature, authorities: set, backend });
      } catch (e) {
        const reason = badInput(e);
        if (reason === undefined) throw e;
        return { verdict: 'reject', reason: `approval of ${hash}: ${reason}` };
      }
      if (c?.done) return { verdict: 'accept' }; // past the majority: forwarded, not needed here
      c.approvals.set(index, approval.signature);
      const complete = completion(c);
      return complete ? { verdict: 'accept', complete } : { verdict: 'accept' };
    },

    size: () => ({ candidates: byHeight.size, earlyApprovals: earlyCount }),
  };
}
