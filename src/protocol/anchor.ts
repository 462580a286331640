/**
 * Starting at the head (docs/trust.md): a verified head from one block, and the finalized block from
 * a short walk down its parent links, without replaying the chain.
 *
 * Alys's authority set is fixed by the chain spec, so any block's aggregate approval verifies
 * against the spec alone: one block is enough for a verified head. (With an authority schedule,
 * `authority-schedule.ts`, each block is checked against the set in force at its number.) Finality needs the most recent
 * PoW block P below the head: its approvals, its AuxPoW over the roots of its range
 * (range_start..range_end), its parent proof of work against the target spec 4.6 derives from the
 * previous PoW block P', and range continuity (range_start's parent is P'.range_end). P' lies inside
 * [range_start, P): range continuity gives range_start = P'.range_end + 1 <= P' (for P' = genesis,
 * range_start = 1 and the bits are the spec's). So the walk fetches the head, its ancestors down to
 * P, and P's ancestors down to range_start - at most about 2 x max_blocks_without_pow blocks, in
 * practice twice the PoW spacing.
 *
 * Every block below the head is authenticated by a hash link before it is used: its signing root,
 * recomputed from its content, is the `parent_hash` of the authenticated block above it (and the
 * execution parent hash and number follow). Pure and synchronous: the node fetches, this decides.
 */
import { authoritiesAt, verifyAggregateApproval, type AuthoritySource } from './approvals.js';
import { validatePowBlock } from './auxpow/finality.js';
import { signingRoot } from './block.js';
import type { BlsBackend } from './bls/backend.js';
import { toHex, type Hex } from './bytes.js';
import { summarizeBlock, type ChainVerifierSnapshot, type VerifiedChainBlock } from './chain-verifier.js';
import { VerificationError } from './errors.js';
import type { ChainSpec, SignedConsensusBlock } from './types.js';
import { verifyParentLink } from './verify.js';

/** A block of the walk with its recomputed signing root. */
export interface WalkBlock {
  block: SignedConsensusBlock;
  root: Hex;
}

export interface AnchorOptions {
  spec: ChainSpec;
  /** The spec's set, or a schedule of sets by height. */
  authorities: AuthoritySource;
  backend: BlsBackend;
  /** Apply the testnet history exemptions of spec 4.8 (only matters for PoW blocks below 533684). */
  historicalExemptions?: boolean;
}

/** The verified head: a block whose approvals (>= ceil(2n/3) of the spec's authorities) and payload hash verify. */
export interface VerifiedHead extends WalkBlock {
  number: number;
  signers: number[];
}

const numberOf = (b: SignedConsensusBlock): number => Number(b.message.executionPayload.blockNumber);

/**
 * Verify a candidate head on its own: signing root recomputed, slot, aggregate approval against the
 * spec's authorities, payload block hash. Throws VerificationError / DecodeError.
 */
export function verifyHead(block: SignedConsensusBlock, opts: AnchorOptions): VerifiedHead {
  const root = signingRoot(block.message);
  const summary = summarizeBlock(block, { ...opts, root, approvals: true, payloadHash: true });
  return { block, root: summary.hash, number: summary.number, signers: summary.signers! };
}

/**
 * Authenticate `parent` by its link to `child` (already authenticated): its recomputed signing root
 * is the child's `parent_hash`, its payload hash the child's execution parent hash, its number one
 * less. Throws VerificationError (`block.parent-hash`, `block.payload-parent`, `block.number`).
 */
export function linkParent(child: SignedConsensusBlock, parent: SignedConsensusBlock): WalkBlock {
  const root = toHex(signingRoot(parent.message));
  verifyParentLink(child.message, {
    hash: root,
    payloadBlockHash: parent.message.executionPayload.blockHash,
    number: parent.message.executionPayload.blockNumber,
  });
  return { block: parent, root };
}

/** What the walk needs next, given the authenticated chain so far (newest first). */
export type WalkStep =
  /** Fetch the blocks below `below` (the lowest block held). */
  | { kind: 'need'; below: number }
  /** Enough: `pow` and `rangeStart` are indices into the chain. */
  | { kind: 'complete'; pow: number; rangeStart: number }
  /** No PoW block between the head and genesis: finality starts at the genesis trust root. */
  | { kind: 'genesis' };

/**
 * The next step of the finality walk over `chain` (newest first, each the parent of the one before).
 * Throws VerificationError when the chain breaks a rule the walk relies on: no PoW block within
 * max_blocks_without_pow of the head (`anchor.no-pow`), or P's range_start not where range
 * continuity puts it (`anchor.range-start`).
 */
export function nextWalkStep(chain: readonly WalkBlock[], spec: Pick<ChainSpec, 'maxBlocksWithoutPow'>): WalkStep {
  const head = chain[0]!;
  const lowest = numberOf(chain[chain.length - 1]!.block);
  const pow = chain.findIndex((b) => b.block.message.auxpowHeader !== null && numberOf(b.block) > 0);
  const max = spec.maxBlocksWithoutPow;
  // the bounds are checked before 'genesis' and 'complete', so the answer does not depend on how far
  // the last range reached (block 0 is never P: a chain down to block 1 knows as much as one down to 0)
  if (pow < 0) {
    const low = Math.max(lowest, 1);
    // a block without PoW is at most max_blocks_without_pow above the last finalized block, which is below P
    if (numberOf(head.block) - low > max + 1)
      throw new VerificationError(
        'anchor.no-pow',
        `no PoW block within ${max + 1} blocks below head ${numberOf(head.block)}: the head breaks max_blocks_without_pow`,
      );
    return low === 1 ? { kind: 'genesis' } : { kind: 'need', below: lowest };
  }
  const p = chain[pow]!;
  const wanted = p.block.message.auxpowHeader!.rangeStart;
  const rangeStart = chain.findIndex((b, i) => i > pow && b.root === wanted);
  // range_start = last finalized + 1, and P - 1 (if plain) is at most max_blocks_without_pow above it
  const bottom = rangeStart >= 0 ? numberOf(chain[rangeStart]!.block) : lowest;
  if ((rangeStart < 0 && lowest === 0) || numberOf(p.block) - bottom > max + 1)
    throw new VerificationError(
      'anchor.range-start',
      `block ${numberOf(p.block)}: its range_start ${wanted} is not within ${max + 1} blocks below it`,
    );
  return rangeStart >= 0 ? { kind: 'complete', pow, rangeStart } : { kind: 'need', below: lowest };
}

/** What the walk establishes: the ChainVerifier's state at the head, and what is finalized. */
export interface Anchor {
  /** The ChainVerifier's state at the head (restore it to follow the head from there). */
  snapshot: ChainVerifierSnapshot;
  head: VerifiedChainBlock;
  /** The latest PoW block, whose approvals, AuxPoW and PoW verified. */
  pow: { number: number; hash: Hex };
  /** The block P finalized (its range_end). */
  finalized: { number: number; hash: Hex };
  /** The lowest block the walk authenticated (P's range_start). */
  lowest: { number: number; hash: Hex };
}

function chainBlock(b: WalkBlock, signers: number[]): VerifiedChainBlock {
  const m = b.block.message;
  return {
    hash: b.root,
    number: numberOf(b.block),
    parentHash: m.parentHash,
    payloadBlockHash: m.executionPayload.blockHash,
    pow: m.auxpowHeader !== null,
    signers,
  };
}

/** The previous PoW block P' (inside [range_start, P)), or genesis when there is none and range_start is block 1. */
function previousPow(chain: readonly WalkBlock[], pow: number, rangeStart: number, spec: ChainSpec) {
  for (let i = pow + 1; i <= rangeStart; i++) {
    const h = chain[i]!.block.message.auxpowHeader;
    if (h) return { blockNumber: numberOf(chain[i]!.block), bits: h.bits, rangeEnd: h.rangeEnd as Hex | undefined };
  }
  const start = chain[rangeStart]!;
  if (numberOf(start.block) !== 1)
    throw new VerificationError(
      'anchor.previous-pow',
      `no PoW block in the range starting at block ${numberOf(start.block)} (range continuity puts the previous PoW block there)`,
    );
  // genesis: the last finalized block is block 0 itself (its hash is checked when backfill reaches it)
  return { blockNumber: 0, bits: spec.bits, rangeEnd: undefined };
}

/**
 * The plain blocks between P' and P were imported when range_start - 1 (P''s range_end, range
 * continuity) was the last finalized block: the highest of them, P - 1, is at most
 * max_blocks_without_pow past it (what a genesis replay checks block by block).
 */
function checkRangeGap(pNumber: number, prevPow: number, startNumber: number, spec: ChainSpec): void {
  const n = pNumber - 1;
  if (n > prevPow && n - (startNumber - 1) > spec.maxBlocksWithoutPow)
    throw new VerificationError(
      'finality.max-blocks-without-pow',
      `block ${n} has no PoW and is ${n - (startNumber - 1)} blocks past the last finalized block ${startNumber - 1}; at most ${spec.maxBlocksWithoutPow} are allowed`,
    );
}

/** Blocks above P carry no PoW and so no finalized peg-outs, and none is too far past the last finalized block. */
function checkTail(chain: readonly WalkBlock[], pow: number, finalizedNumber: number, spec: ChainSpec): void {
  for (let i = 0; i < pow; i++) {
    const b = chain[i]!.block;
    const n = numberOf(b);
    if (b.message.finalizedPegouts.length !== 0)
      throw new VerificationError(
        'finality.unexpected-finalized-pegouts',
        `block ${n} has no PoW but finalizes ${b.message.finalizedPegouts.length} peg-outs`,
      );
    if (n - finalizedNumber > spec.maxBlocksWithoutPow)
      throw new VerificationError(
        'finality.max-blocks-without-pow',
        `block ${n} has no PoW and is ${n - finalizedNumber} blocks past the last finalized block ${finalizedNumber}; at most ${spec.maxBlocksWithoutPow} are allowed`,
      );
  }
}

/**
 * Check P (its approvals, AuxPoW, PoW, range continuity, finalized peg-out count) over a chain the
 * walk completed, and build the ChainVerifier's state at the head. `headSigners`: the head's
 * verified signers ({@link verifyHead}). Throws VerificationError.
 */
export function anchorAt(
  chain: readonly WalkBlock[],
  step: Extract<WalkStep, { kind: 'complete' }>,
  headSigners: number[],
  opts: AnchorOptions,
): Anchor {
  const { spec } = opts;
  const p = chain[step.pow]!;
  const header = p.block.message.auxpowHeader!;
  const pSigners =
    step.pow === 0
      ? headSigners
      : verifyAggregateApproval({
          root: p.root,
          approval: p.block.signature,
          authorities: authoritiesAt(opts.authorities, numberOf(p.block)),
          backend: opts.backend,
        });
  const start = chain[step.rangeStart]!;
  const endAt = chain.findIndex((b, i) => i > step.pow && i <= step.rangeStart && b.root === header.rangeEnd);
  if (endAt < 0)
    throw new VerificationError(
      'pow.range-unknown',
      `block ${numberOf(p.block)}: its range_end ${header.rangeEnd} is not between range_start and the block`,
    );
  const range = chain.slice(endAt, step.rangeStart + 1).reverse(); // range_start .. range_end
  const prev = previousPow(chain, step.pow, step.rangeStart, spec);
  validatePowBlock({
    blockNumber: numberOf(p.block),
    header,
    lastPow: { blockNumber: prev.blockNumber, bits: prev.bits },
    lastFinalizedHash: prev.rangeEnd ?? start.block.message.parentHash,
    rangeStart: { number: numberOf(start.block), parentHash: start.block.message.parentHash },
    rangeRoots: range.map((b) => b.root),
    rangeEndNumber: numberOf(chain[endAt]!.block),
    chainSpec: spec,
    historicalExemptions: opts.historicalExemptions ?? false,
  });
  checkRangeGap(numberOf(p.block), prev.blockNumber, numberOf(start.block), spec);
  const proposals = range.filter((b) => b.block.message.pegoutPaymentProposal !== null).length;
  if (proposals !== p.block.message.finalizedPegouts.length)
    throw new VerificationError(
      'pow.finalized-pegouts-count',
      `block ${numberOf(p.block)}: the finalized range has ${proposals} peg-out proposals, but the block finalizes ${p.block.message.finalizedPegouts.length} peg-outs`,
    );
  const finalized = chain[endAt]!;
  const finalizedNumber = numberOf(finalized.block);
  checkTail(chain, step.pow, finalizedNumber, spec);
  // the window: blocks after the last finalized one, oldest first; all authenticated (signers known
  // for the head and P, [] for blocks authenticated by their hash link to them)
  const window = chain
    .slice(0, endAt)
    .reverse()
    .map((b, j) => {
      const i = endAt - 1 - j;
      const signers = i === 0 ? headSigners : i === step.pow ? pSigners : [];
      return { block: chainBlock(b, signers), hasProposal: b.block.message.pegoutPaymentProposal !== null };
    });
  const head = window[window.length - 1]!.block;
  const snapshot: ChainVerifierSnapshot = {
    finality: {
      lastPow: { blockNumber: numberOf(p.block), hash: p.root, bits: header.bits, chainId: header.chainId },
      lastFinalized: { blockNumber: finalizedNumber, hash: finalized.root },
      finalizedThrough: finalizedNumber,
      head: head.number,
    },
    head,
    window,
  };
  return {
    snapshot,
    head,
    pow: { number: numberOf(p.block), hash: p.root },
    finalized: { number: finalizedNumber, hash: finalized.root },
    lowest: { number: numberOf(start.block), hash: start.root },
  };
}
