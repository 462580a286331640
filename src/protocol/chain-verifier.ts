/**
 * Importing a chain of signed blocks, block by block, with every check of spec 4.9 steps 1-7: the
 * block itself (signing root, slot, approvals, payload hash), its link to the head, and - for PoW
 * blocks - the AuxPoW over the aggregate of its range, the retargeted PoW, range continuity,
 * finality bookkeeping and the finalized peg-out count; for other blocks max_blocks_without_pow.
 *
 * Pure and synchronous: the light node's block import, the devnet's tests and its fault checks all
 * use it. It keeps the blocks since the last finalized one (their roots form the next PoW range).
 */
import type { PreparedAuthorities } from './approvals.js';
import { applyFinalityEvent, genesisFinalityState, validatePowBlock, type FinalityState } from './auxpow/finality.js';
import { signingRoot } from './block.js';
import type { BlsBackend } from './bls/backend.js';
import { toHex, type Hex } from './bytes.js';
import { VerificationError } from './errors.js';
import type { ChainSpec, SignedConsensusBlock } from './types.js';
import { verifyBlockSelf, verifyParentLink } from './verify.js';

export interface VerifiedChainBlock {
  hash: Hex;
  number: number;
  parentHash: Hex;
  payloadBlockHash: Hex;
  /** The block carries an AuxPowHeader. */
  pow: boolean;
  signers: number[];
}

export interface ImportOutcome {
  block: VerifiedChainBlock;
  /** Block numbers finalized by this block (a PoW block's range), or null. */
  finalized: { from: number; to: number } | null;
}

export interface ChainVerifierOptions {
  spec: ChainSpec;
  authorities: PreparedAuthorities;
  backend: BlsBackend;
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

  /** `genesis`: the trusted block 0 (derived from the chain spec and the EL genesis, spec 2.5). */
  constructor(
    private readonly opts: ChainVerifierOptions,
    genesis: SignedConsensusBlock,
  ) {
    const hash = toHex(signingRoot(genesis.message));
    const header = genesis.message.auxpowHeader;
    if (!header || genesis.message.executionPayload.blockNumber !== 0n)
      throw new VerificationError('chain.genesis', 'the trusted genesis must be block 0 with an AuxPowHeader (spec 2.5)');
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
    if (s.head.number !== s.finality.head) throw new VerificationError('chain.snapshot', `snapshot head ${s.head.number} disagrees with its finality state (${s.finality.head})`);
    if (s.window.length && s.window[s.window.length - 1]!.block.hash !== s.head.hash)
      throw new VerificationError('chain.snapshot', 'snapshot window does not end at its head');
    this.finality = s.finality;
    this.headBlock = s.head;
    this.window = s.window;
  }

  /** Verify `signed` as the child of the head and make it the head. Throws VerificationError / DecodeError; state is unchanged on error. */
  import(signed: SignedConsensusBlock, root?: Uint8Array): ImportOutcome {
    const { spec } = this.opts;
    const m = signed.message;
    const parent = this.headBlock;
    verifyParentLink(m, { hash: parent.hash, payloadBlockHash: parent.payloadBlockHash, number: BigInt(parent.number) });
    const verified = verifyBlockSelf(signed, { spec, authorities: this.opts.authorities, backend: this.opts.backend, ...(root ? { root } : {}) });
    const n = Number(verified.number);
    const block: VerifiedChainBlock = {
      hash: verified.hash,
      number: n,
      parentHash: m.parentHash,
      payloadBlockHash: m.executionPayload.blockHash,
      pow: m.auxpowHeader !== null,
      signers: verified.signers,
    };
    const historical = this.opts.historicalExemptions ?? false;
    let step;
    if (m.auxpowHeader) {
      const header = m.auxpowHeader;
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
      if (proposals !== m.finalizedPegouts.length)
        throw new VerificationError(
          'pow.finalized-pegouts-count',
          `block ${n}: the finalized range has ${proposals} peg-out proposals, but the block finalizes ${m.finalizedPegouts.length} peg-outs`,
        );
      step = applyFinalityEvent(
        this.finality,
        { kind: 'pow', blockNumber: n, blockHash: block.hash, header, rangeStartNumber: start.number, rangeEndNumber: range[range.length - 1]!.block.number, rangeStartParentHash: start.parentHash },
        { maxBlocksWithoutPow: spec.maxBlocksWithoutPow, historicalExemptions: historical },
      );
      this.window = this.window.slice(endAt + 1);
    } else {
      step = applyFinalityEvent(
        this.finality,
        { kind: 'plain', blockNumber: n, finalizedPegoutCount: m.finalizedPegouts.length },
        { maxBlocksWithoutPow: spec.maxBlocksWithoutPow, historicalExemptions: historical },
      );
    }
    this.finality = step.state;
    this.window.push({ block, hasProposal: m.pegoutPaymentProposal !== null });
    this.headBlock = block;
    return { block, finalized: step.newlyFinalized };
  }
}
