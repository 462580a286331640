/**
 * Importing a chain of signed blocks, block by block, with every check of spec 4.9 steps 1-7: the
 * block itself (signing root, slot, approvals, payload hash), its link to the head, and - for PoW
 * blocks - the AuxPoW over the aggregate of its range, the retargeted PoW, range continuity,
 * finality bookkeeping and the finalized peg-out count; for other blocks max_blocks_without_pow.
 *
 * Two stages, so the expensive part can run in parallel (worker pools) and the ordered part stays
 * small: `summarizeBlock` (per block, independent: root, slot, approvals, payload hash) and
 * `ChainVerifier.importSummary` (in order: links, AuxPoW, finality).
 *
 * Approvals can be deferred (`approvals: 'deferred'`, the node's pow-checkpoint mode): blocks
 * whose aggregate was not verified are imported as *pending* and become authenticated when a PoW
 * block - whose own approvals are verified - commits to their roots through its AuxPoW aggregate
 * hash (docs/trust.md 3.2). Pending blocks must not be reported or stored before that.
 *
 * Pure and synchronous: the light node's block import, the devnet's tests and its fault checks all
 * use it. It keeps the blocks since the last finalized one (their roots form the next PoW range).
 */
import { authoritiesAt, verifyAggregateApproval, type AuthoritySource } from './approvals.js';
import {
  applyFinalityEvent,
  genesisFinalityState,
  validatePowBlock,
  type FinalityState,
  type FinalityStep,
} from './auxpow/finality.js';
import { signingRoot } from './block.js';
import type { BlsBackend } from './bls/backend.js';
import { toHex, type Hex } from './bytes.js';
import { VerificationError } from './errors.js';
import { verifyPayloadBlockHash } from './execution/payload.js';
import type { AuxPowHeader, ChainSpec, SignedConsensusBlock } from './types.js';
import { checkSlot, verifyParentLink } from './verify.js';

/** What the ordered import needs to know about a block (plain data: it crosses worker boundaries). */
export interface BlockSummary {
  hash: Hex;
  number: number;
  parentHash: Hex;
  payloadBlockHash: Hex;
  payloadParentHash: Hex;
  payloadNumber: bigint;
  auxpowHeader: AuxPowHeader | null;
  finalizedPegouts: number;
  hasProposal: boolean;
  /** Number of peg-ins the block mints. */
  pegins: number;
  /** Signer indices when the aggregate approval was verified; null when deferred. */
  signers: number[] | null;
  /** The payload's block hash was recomputed and matched. */
  payloadHashChecked: boolean;
}

export interface SummarizeOptions {
  spec: ChainSpec;
  /** The spec's set, or a schedule: the block is checked against the set in force at its number. */
  authorities: AuthoritySource;
  backend: BlsBackend;
  /** Verify the aggregate approval. Default true; PoW blocks are always verified. */
  approvals?: boolean;
  /** Recompute the payload's block hash. Default true. */
  payloadHash?: boolean;
  /** The signing root if already computed. */
  root?: Uint8Array;
}

/** The independent checks of one block (spec 4.9 steps 1, 4, 5, 6). Throws VerificationError. */
export function summarizeBlock(signed: SignedConsensusBlock, opts: SummarizeOptions): BlockSummary {
  const m = signed.message;
  const root = opts.root ?? signingRoot(m);
  checkSlot(m, opts.spec);
  const verifyApprovals = opts.approvals !== false || m.auxpowHeader !== null;
  const signers = verifyApprovals
    ? verifyAggregateApproval({
        root,
        approval: signed.signature,
        // a number beyond 2^53 is refused below; its set here is the one in force at the rounded value
        authorities: authoritiesAt(opts.authorities, Number(m.executionPayload.blockNumber)),
        backend: opts.backend,
      })
    : null;
  const checkPayload = opts.payloadHash !== false;
  if (checkPayload) verifyPayloadBlockHash(m.executionPayload);
  const n = m.executionPayload.blockNumber;
  if (n > BigInt(Number.MAX_SAFE_INTEGER))
    throw new VerificationError('block.number', `block number ${n} is beyond what this light client supports`);
  return {
    hash: toHex(root),
    number: Number(n),
    parentHash: m.parentHash,
    payloadBlockHash: m.executionPayload.blockHash,
    payloadParentHash: m.executionPayload.parentHash,
    payloadNumber: n,
    auxpowHeader: m.auxpowHeader,
    finalizedPegouts: m.finalizedPegouts.length,
    hasProposal: m.pegoutPaymentProposal !== null,
    pegins: m.pegins.length,
    signers,
    payloadHashChecked: checkPayload,
  };
}

export interface VerifiedChainBlock {
  hash: Hex;
  number: number;
  parentHash: Hex;
  payloadBlockHash: Hex;
  /** The block carries an AuxPowHeader. */
  pow: boolean;
  /** Signer indices (null while the approvals are deferred). */
  signers: number[] | null;
}

export interface ImportOutcome {
  block: VerifiedChainBlock;
  /** Block numbers finalized by this block (a PoW block's range), or null. */
  finalized: { from: number; to: number } | null;
  /** Blocks (pending until now) that this block authenticated through its AuxPoW range. */
  authenticated: VerifiedChainBlock[];
}

export interface ChainVerifierOptions {
  spec: ChainSpec;
  /** The spec's set, or a schedule of sets by height (each block checked against the set in force at it). */
  authorities: AuthoritySource;
  backend: BlsBackend;
  /** 'all' (default): every block's approvals are required; 'deferred': see the module comment. */
  approvals?: 'all' | 'deferred';
  /** Apply the testnet history exemptions of spec 4.8. Default false. */
  historicalExemptions?: boolean;
}

interface WindowEntry {
  block: VerifiedChainBlock;
  /** The block carries a pegout_payment_proposal (a later PoW block must finalize one peg-out for it). */
  hasProposal: boolean;
}

/** Everything the verifier needs to resume (plain JSON data): a warm start restores it from storage. */
export interface ChainVerifierSnapshot {
  finality: FinalityState;
  head: VerifiedChainBlock;
  window: WindowEntry[];
}

export class ChainVerifier {
  private finality: FinalityState;
  private headBlock: VerifiedChainBlock;
  /** Blocks after the last finalized one, oldest first (their roots form the next PoW range). */
  private window: WindowEntry[] = [];

  /**
   * `start`: the trusted block 0 (derived from the chain spec and the EL genesis, spec 2.5), or a
   * snapshot to resume from (a warm start's stored state, or a head-first start's anchor,
   * `protocol/anchor.ts`), trusted as {@link restore} says.
   */
  constructor(
    private readonly opts: ChainVerifierOptions,
    start: SignedConsensusBlock | ChainVerifierSnapshot,
  ) {
    if ('finality' in start) {
      this.finality = start.finality;
      this.headBlock = start.head;
      this.restore(start);
      return;
    }
    const genesis = start;
    const hash = toHex(signingRoot(genesis.message));
    const header = genesis.message.auxpowHeader;
    if (!header || genesis.message.executionPayload.blockNumber !== 0n)
      throw new VerificationError(
        'chain.genesis',
        'the trusted genesis must be block 0 with an AuxPowHeader (spec 2.5)',
      );
    this.finality = genesisFinalityState({ hash, bits: header.bits, chainId: header.chainId });
    this.headBlock = {
      hash,
      number: 0,
      parentHash: genesis.message.parentHash,
      payloadBlockHash: genesis.message.executionPayload.blockHash,
      pow: true,
      signers: [],
    };
  }

  get head(): VerifiedChainBlock {
    return this.headBlock;
  }

  /** Every block number up to this one is finalized. */
  get finalizedThrough(): number {
    return this.finality.finalizedThrough;
  }

  get state(): Readonly<FinalityState> {
    return this.finality;
  }

  /** Blocks after the last finalized one, oldest first. */
  get unfinalized(): readonly VerifiedChainBlock[] {
    return this.window.map((w) => w.block);
  }

  /** Blocks whose approvals are deferred and not yet authenticated by a PoW range. */
  get pending(): readonly VerifiedChainBlock[] {
    return this.window.filter((w) => w.block.signers === null).map((w) => w.block);
  }

  /** A copy of the verifier's state (JSON-serialisable). */
  snapshot(): ChainVerifierSnapshot {
    return structuredClone({ finality: this.finality, head: this.headBlock, window: this.window });
  }

  /**
   * Resume from a snapshot taken by {@link snapshot} (e.g. from storage on a warm start). The
   * snapshot is trusted here: the caller must have checked it against the stored blocks.
   */
  restore(snapshot: ChainVerifierSnapshot): void {
    const s = structuredClone(snapshot);
    if (s.head.number !== s.finality.head)
      throw new VerificationError(
        'chain.snapshot',
        `snapshot head ${s.head.number} disagrees with its finality state (${s.finality.head})`,
      );
    if (s.window.length && s.window[s.window.length - 1]!.block.hash !== s.head.hash)
      throw new VerificationError('chain.snapshot', 'snapshot window does not end at its head');
    this.finality = s.finality;
    this.headBlock = s.head;
    this.window = s.window;
  }

  /** Verify `signed` completely as the child of the head and make it the head. */
  import(signed: SignedConsensusBlock, root?: Uint8Array): ImportOutcome {
    // spec 4.9 order: the link (cheap) before the approvals
    const parent = this.headBlock;
    verifyParentLink(signed.message, {
      hash: parent.hash,
      payloadBlockHash: parent.payloadBlockHash,
      number: BigInt(parent.number),
    });
    const summary = summarizeBlock(signed, {
      spec: this.opts.spec,
      authorities: this.opts.authorities,
      backend: this.opts.backend,
      approvals: this.opts.approvals !== 'deferred',
      ...(root ? { root } : {}),
    });
    return this.importSummary(summary);
  }

  /**
   * Import a block already summarized (its independent checks done, possibly in a worker) as the
   * child of the head. Throws VerificationError; the state is unchanged on error.
   */
  importSummary(s: BlockSummary): ImportOutcome {
    const { spec } = this.opts;
    const parent = this.headBlock;
    if (s.signers === null && (this.opts.approvals !== 'deferred' || s.auxpowHeader !== null))
      throw new VerificationError(
        'approvals.unverified',
        `block ${s.number}: its approvals were not verified, and this import requires them`,
      );
    verifyParentLink(
      {
        parentHash: s.parentHash,
        executionPayload: { parentHash: s.payloadParentHash, blockNumber: s.payloadNumber },
      } as never,
      { hash: parent.hash, payloadBlockHash: parent.payloadBlockHash, number: BigInt(parent.number) },
    );
    const n = s.number;
    const block: VerifiedChainBlock = {
      hash: s.hash,
      number: n,
      parentHash: s.parentHash,
      payloadBlockHash: s.payloadBlockHash,
      pow: s.auxpowHeader !== null,
      signers: s.signers,
    };
    const historical = this.opts.historicalExemptions ?? false;
    let step: FinalityStep;
    let authenticated: VerifiedChainBlock[] = [];
    let nextWindow: WindowEntry[];
    if (s.auxpowHeader) {
      const header = s.auxpowHeader;
      const startAt = this.window.findIndex((w) => w.block.hash === header.rangeStart);
      const endAt = this.window.findIndex((w) => w.block.hash === header.rangeEnd);
      if (startAt < 0 || endAt < 0 || endAt < startAt)
        throw new VerificationError(
          'pow.range-unknown',
          `block ${n}: its PoW range ${header.rangeStart}..${header.rangeEnd} is not a range of blocks after the last finalized block ${this.finality.lastFinalized.blockNumber}`,
        );
      const range = this.window.slice(startAt, endAt + 1);
      const start = range[0]!.block;
      validatePowBlock({
        blockNumber: n,
        header,
        lastPow: { blockNumber: this.finality.lastPow.blockNumber, bits: this.finality.lastPow.bits },
        lastFinalizedHash: this.finality.lastFinalized.hash,
        rangeStart: { number: start.number, parentHash: start.parentHash },
        rangeRoots: range.map((w) => w.block.hash),
        rangeEndNumber: range[range.length - 1]!.block.number,
        chainSpec: spec,
        historicalExemptions: historical,
      });
      const proposals = range.filter((w) => w.hasProposal).length;
      if (proposals !== s.finalizedPegouts)
        throw new VerificationError(
          'pow.finalized-pegouts-count',
          `block ${n}: the finalized range has ${proposals} peg-out proposals, but the block finalizes ${s.finalizedPegouts} peg-outs`,
        );
      step = applyFinalityEvent(
        this.finality,
        {
          kind: 'pow',
          blockNumber: n,
          blockHash: block.hash,
          header,
          rangeStartNumber: start.number,
          rangeEndNumber: range[range.length - 1]!.block.number,
          rangeStartParentHash: start.parentHash,
        },
        { maxBlocksWithoutPow: spec.maxBlocksWithoutPow, historicalExemptions: historical },
      );
      // The PoW block's verified approvals cover its AuxPoW, whose aggregate hash commits to every
      // root of the range (and so to each block's content): pending blocks of the range, and those
      // before it, are authenticated now.
      authenticated = this.window
        .slice(0, endAt + 1)
        .filter((w) => w.block.signers === null)
        .map((w) => ({ ...w.block, signers: [] }));
      nextWindow = this.window.slice(endAt + 1);
    } else {
      step = applyFinalityEvent(
        this.finality,
        { kind: 'plain', blockNumber: n, finalizedPegoutCount: s.finalizedPegouts },
        { maxBlocksWithoutPow: spec.maxBlocksWithoutPow, historicalExemptions: historical },
      );
      nextWindow = this.window;
    }
    this.finality = step.state;
    // a plain block appends in place (copying the window per block would be quadratic in the tail)
    if (nextWindow === this.window) this.window.push({ block, hasProposal: s.hasProposal });
    else this.window = [...nextWindow, { block, hasProposal: s.hasProposal }];
    this.headBlock = block;
    return { block, finalized: step.newlyFinalized, authenticated };
  }

  /**
   * Deferred mode at the head of the chain: verify the approvals of the pending blocks that no PoW
   * covers yet (the light client's tail). `verify` returns the signers of one block or throws.
   * Returns the blocks now authenticated.
   */
  authenticatePending(verify: (block: VerifiedChainBlock) => number[]): VerifiedChainBlock[] {
    const out: VerifiedChainBlock[] = [];
    this.window = this.window.map((w) => {
      if (w.block.signers !== null) return w;
      const signers = verify(w.block);
      const block = { ...w.block, signers };
      if (this.headBlock.hash === block.hash) this.headBlock = block;
      out.push(block);
      return { ...w, block };
    });
    return out;
  }
}
