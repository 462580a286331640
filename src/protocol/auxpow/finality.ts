/**
 * PoW-block validation and finality bookkeeping (alys-protocol.md 4.5, 4.7, 4.8), as pure
 * functions: the node looks things up, this module decides.
 *
 * - {@link validatePowBlock}: steps 1-6 of 4.5 for a block carrying an AuxPowHeader.
 * - {@link checkFinalizedPegouts}: step 7 (count, and optionally txids) of 4.5.
 * - {@link applyFinalityEvent} / {@link followFinality}: the state machine over the sequence of
 *   blocks: range continuity (with the historical 53143 exemption), which block numbers are
 *   finalized, and `max_blocks_without_pow` for blocks without PoW.
 *
 * Block numbers are execution block numbers (`payload.block_number`), hashes are consensus
 * signing roots as `0x` hex.
 */
import { equalBytes, fromHex, toHex as hex, type Hex } from '../bytes.js';
import { DecodeError, VerificationError } from '../errors.js';
import type { AuxPowHeader, ChainSpec, Transaction } from '../types.js';
import { toDisplayHex } from '../bitcoin/hash.js';
import { txid } from '../bitcoin/tx.js';
import { assertAuxPowProofOfWork, auxpowAggregateHash, checkAuxPow, type AuxPowCheckResult } from './check.js';
import { nextWorkRequired } from './retarget.js';

/** Historical overrides of repo:app/src/chain.rs (4.8), needed to sync the existing testnet from genesis. */
export const HISTORICAL_EXEMPTIONS = {
  /** `number(range_start) <= 53143`: the range-continuity check is skipped. */
  rangeContinuityThrough: 53143,
  /** block number `<= 533683`: the parent PoW target check (and the finalized peg-out signature check) is skipped. */
  powCheckThrough: 533683,
  /** block number `== 70132`: the peg-out proposal check is skipped. */
  pegoutProposalBlock: 70132,
} as const;

function hashBytes(value: Hex | Uint8Array, path: string): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length !== 32) throw new DecodeError(path, `expected a 32-byte hash, got ${value.length} bytes`);
    return value;
  }
  try {
    const b = fromHex(value);
    if (b.length !== 32) throw new DecodeError(path, `expected a 32-byte hash, got ${b.length} bytes`);
    return b;
  } catch (e) {
    if (e instanceof DecodeError && e.path === path) throw e;
    throw new DecodeError(path, `expected a 0x-prefixed 32-byte hex hash, got ${JSON.stringify(value).slice(0, 80)}`, {
      cause: e,
    });
  }
}

function sameHash(a: Hex | Uint8Array, b: Hex | Uint8Array, pathA: string, pathB: string): boolean {
  return equalBytes(hashBytes(a, pathA), hashBytes(b, pathB));
}

function checkBlockNumber(n: number, path: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new DecodeError(path, `expected a block number, got ${n}`);
}

/**
 * Which block the most recent PoW block finalized (4.5 step 1): genesis finalizes itself
 * (`auxpow_header.height == 0`); any other PoW block finalizes its `range_end`.
 */
export function lastFinalizedOf(lastPow: { hash: Hex; header: Pick<AuxPowHeader, 'height' | 'rangeEnd'> }): Hex {
  return lastPow.header.height === 0 ? lastPow.hash : lastPow.header.rangeEnd;
}

export interface PowBlockInput {
  /** N: execution block number of the block carrying `header`. */
  blockNumber: number;
  header: AuxPowHeader;
  /** The most recent earlier PoW block (genesis counts, with `bits` = the chain spec's bits). */
  lastPow: { blockNumber: number; bits: number };
  /** Signing root of the last finalized block ({@link lastFinalizedOf}). */
  lastFinalizedHash: Hex | Uint8Array;
  /** The block `header.rangeStart`: its number and its parent's signing root. */
  rangeStart: { number: number; parentHash: Hex | Uint8Array };
  /** Signing roots of range_start ... range_end, oldest first, as the node walked them (4.1). */
  rangeRoots: readonly (Hex | Uint8Array)[];
  /** Optional: number of range_end; enables the range-order and root-count checks. */
  rangeEndNumber?: number;
  chainSpec: Pick<ChainSpec, 'chainId' | 'retargetParams'>;
  /** Apply the testnet history overrides of 4.8 (53143, 533683). */
  historicalExemptions: boolean;
  /**
   * Require `header.chainId === chainSpec.chainId` (default true). Alys itself never compares them
   * (it uses the header's own chain id); the spec recommends a light client does. Stricter than Alys.
   */
  requireSpecChainId?: boolean;
}

export interface PowBlockResult {
  /** The aggregate hash the AuxPoW commits to (4.1). */
  aggregateHash: Uint8Array;
  /** The compact target the parent block had to meet (4.6). */
  requiredBits: number;
  /** False when the historical override skipped the target check. */
  powChecked: boolean;
  auxpow: AuxPowCheckResult;
  /** The block this PoW finalizes (`range_end`). */
  finalizes: Hex;
}

/**
 * 4.5 steps 1-6 for PoW block N: range continuity, aggregate hash, required bits, parent proof of
 * work (unless exempt), and the AuxPoW check (production coinbase-output variant).
 * Throws VerificationError (`pow.*` / `auxpow.*`).
 *
 * Stricter than Alys: `rangeRoots` must start at `range_start` and end at `range_end` (Alys takes
 * whatever its parent walk yields, including the degenerate single-hash list when range_end is
 * not after range_start's parent); a missing `auxpow` is an error (Alys panics); the spec chain id
 * is required unless `requireSpecChainId: false`.
 * Not checked, like Alys: `header.bits` against the computed bits, and `header.height`.
 */
export function validatePowBlock(input: PowBlockInput): PowBlockResult {
  const { blockNumber: n, header } = input;
  checkBlockNumber(n, 'blockNumber');
  checkBlockNumber(input.rangeStart.number, 'rangeStart.number');
  checkBlockNumber(input.lastPow.blockNumber, 'lastPow.blockNumber');
  if (n === 0)
    throw new VerificationError('pow.genesis', 'block 0 is the genesis block; it carries no AuxPoW to validate');

  // steps 1-2: range continuity
  const exemptRange =
    input.historicalExemptions && input.rangeStart.number <= HISTORICAL_EXEMPTIONS.rangeContinuityThrough;
  if (
    !exemptRange &&
    !sameHash(input.rangeStart.parentHash, input.lastFinalizedHash, 'rangeStart.parentHash', 'lastFinalizedHash')
  )
    throw new VerificationError(
      'pow.range-continuity',
      `block ${n}: range_start ${header.rangeStart} (block ${input.rangeStart.number}) has parent ${hex(hashBytes(input.rangeStart.parentHash, 'rangeStart.parentHash'))}, but the last finalized block is ${hex(hashBytes(input.lastFinalizedHash, 'lastFinalizedHash'))}`,
    );
  if (input.rangeEndNumber !== undefined) {
    checkBlockNumber(input.rangeEndNumber, 'rangeEndNumber');
    if (input.rangeEndNumber < input.rangeStart.number || input.rangeEndNumber >= n)
      throw new VerificationError(
        'pow.range-order',
        `block ${n}: the range ${input.rangeStart.number}..${input.rangeEndNumber} must satisfy range_start <= range_end < ${n}`,
      );
    const expected = input.rangeEndNumber - input.rangeStart.number + 1;
    if (input.rangeRoots.length !== expected)
      throw new VerificationError(
        'pow.range-roots',
        `block ${n}: the range ${input.rangeStart.number}..${input.rangeEndNumber} has ${expected} blocks, got ${input.rangeRoots.length} roots`,
      );
  }

  // step 3: aggregate hash
  const roots = input.rangeRoots.map((r, i) => hashBytes(r, `rangeRoots[${i}]`));
  if (roots.length === 0) throw new VerificationError('pow.range-roots', `block ${n}: the range has no block roots`);
  if (!equalBytes(roots[0]!, hashBytes(header.rangeStart, 'header.rangeStart')))
    throw new VerificationError(
      'pow.range-roots',
      `block ${n}: the first range root ${hex(roots[0]!)} is not range_start ${header.rangeStart}`,
    );
  if (!equalBytes(roots[roots.length - 1]!, hashBytes(header.rangeEnd, 'header.rangeEnd')))
    throw new VerificationError(
      'pow.range-roots',
      `block ${n}: the last range root ${hex(roots[roots.length - 1]!)} is not range_end ${header.rangeEnd}`,
    );
  const aggregateHash = auxpowAggregateHash(roots);

  // step 4: required bits, from the last PoW block with head = N - 1
  const requiredBits = nextWorkRequired(input.lastPow, n - 1, input.chainSpec.retargetParams);

  const auxpow = header.auxpow;
  if (!auxpow)
    throw new VerificationError(
      'pow.auxpow-missing',
      `block ${n}: the AuxPowHeader has no auxpow (only genesis may omit it)`,
    );

  // step 5: parent proof of work (historical override below 533683)
  const powChecked = !(input.historicalExemptions && n <= HISTORICAL_EXEMPTIONS.powCheckThrough);
  if (powChecked) {
    try {
      assertAuxPowProofOfWork(auxpow, requiredBits);
    } catch (e) {
      if (e instanceof VerificationError)
        throw new VerificationError('pow.parent-pow', `block ${n}: ${e.message}`, { cause: e });
      throw e;
    }
  }

  // step 6: the AuxPoW check with the header's own chain id
  const requireSpec = input.requireSpecChainId ?? true;
  const auxResult = checkAuxPow(auxpow, aggregateHash, header.chainId, {
    variant: 'coinbase-output',
    ...(requireSpec ? { expectedChainId: input.chainSpec.chainId } : {}),
  });
  return { aggregateHash, requiredBits, powChecked, auxpow: auxResult, finalizes: header.rangeEnd };
}

/**
 * 4.5 step 7: `finalizedPegouts` of PoW block N must have as many transactions as there are
 * `pegout_payment_proposal`s in blocks range_start ... range_end (pass them in chronological order,
 * `null` for blocks without one). With `compareTxids` (what validators do) the txids must also match
 * in order. Federation signature checks are separate (bridge).
 */
export function checkFinalizedPegouts(
  rangeProposals: readonly (Transaction | null)[],
  finalizedPegouts: readonly Transaction[],
  opts: { compareTxids?: boolean; blockNumber?: number } = {},
): void {
  const where = opts.blockNumber !== undefined ? `block ${opts.blockNumber}: ` : '';
  const proposals = rangeProposals.filter((p): p is Transaction => p !== null);
  if (proposals.length !== finalizedPegouts.length)
    throw new VerificationError(
      'pow.finalized-pegouts-count',
      `${where}the finalized range has ${proposals.length} peg-out proposals, but the block finalizes ${finalizedPegouts.length} peg-outs`,
    );
  if (opts.compareTxids) {
    proposals.forEach((p, i) => {
      const expected = txid(p);
      const got = txid(finalizedPegouts[i]!);
      if (!equalBytes(expected, got))
        throw new VerificationError(
          'pow.finalized-pegouts-txid',
          `${where}finalized peg-out ${i} has txid ${toDisplayHex(got)}, the proposal was ${toDisplayHex(expected)}`,
        );
    });
  }
}

// ---------------------------------------------------------------- finality state machine

export interface FinalityState {
  /** Most recent PoW block (genesis initially). */
  lastPow: { blockNumber: number; hash: Hex; bits: number; chainId: number };
  /** Alys's "last finalized" block: what range continuity and max_blocks_without_pow use. */
  lastFinalized: { blockNumber: number; hash: Hex };
  /** Every block number <= this is finalized (max range_end seen; genesis = 0). */
  finalizedThrough: number;
  /** Number of the last block applied. */
  head: number;
}

/** The state after genesis (block 0): genesis is the first PoW block and counts as finalized (2.5). */
export function genesisFinalityState(genesis: { hash: Hex; bits: number; chainId: number }): FinalityState {
  return {
    lastPow: { blockNumber: 0, hash: genesis.hash, bits: genesis.bits, chainId: genesis.chainId },
    lastFinalized: { blockNumber: 0, hash: genesis.hash },
    finalizedThrough: 0,
    head: 0,
  };
}

export type FinalityEvent =
  | {
      kind: 'pow';
      blockNumber: number;
      /** signing root of this block */
      blockHash: Hex;
      header: AuxPowHeader;
      rangeStartNumber: number;
      rangeEndNumber: number;
      /** when known, also checked against the last finalized hash */
      rangeStartParentHash?: Hex;
    }
  | {
      kind: 'plain';
      blockNumber: number;
      /** number of `finalized_pegouts` in the block (must be 0) */
      finalizedPegoutCount?: number;
    };

export interface FinalityOptions {
  maxBlocksWithoutPow: number;
  historicalExemptions: boolean;
}

export interface FinalityStep {
  state: FinalityState;
  /** Block numbers that became finalized with this block (inclusive), or null. */
  newlyFinalized: { from: number; to: number } | null;
}

/**
 * Apply one imported block (blocks must come in order, one number at a time). Throws
 * VerificationError: `finality.block-order`, `finality.range-continuity`, `finality.range-order`,
 * `finality.max-blocks-without-pow`, `finality.unexpected-finalized-pegouts`.
 *
 * Stricter than Alys: range_start <= range_end < N is required for every PoW block (Alys would
 * accept a degenerate range, see {@link validatePowBlock}).
 */
export function applyFinalityEvent(state: FinalityState, event: FinalityEvent, opts: FinalityOptions): FinalityStep {
  const n = event.blockNumber;
  checkBlockNumber(n, 'event.blockNumber');
  if (n !== state.head + 1)
    throw new VerificationError(
      'finality.block-order',
      `block ${n} does not follow the last applied block ${state.head}`,
    );

  if (event.kind === 'plain') {
    // Alys: block_height.saturating_sub(latest_finalized_height) > max_blocks_without_pow
    const gap = Math.max(0, n - state.lastFinalized.blockNumber);
    if (gap > opts.maxBlocksWithoutPow)
      throw new VerificationError(
        'finality.max-blocks-without-pow',
        `block ${n} has no PoW and is ${gap} blocks past the last finalized block ${state.lastFinalized.blockNumber}; at most ${opts.maxBlocksWithoutPow} are allowed`,
      );
    if ((event.finalizedPegoutCount ?? 0) !== 0)
      throw new VerificationError(
        'finality.unexpected-finalized-pegouts',
        `block ${n} has no PoW but finalizes ${event.finalizedPegoutCount} peg-outs`,
      );
    return { state: { ...state, head: n }, newlyFinalized: null };
  }

  const { rangeStartNumber: start, rangeEndNumber: end, header } = event;
  checkBlockNumber(start, 'event.rangeStartNumber');
  checkBlockNumber(end, 'event.rangeEndNumber');
  if (start > end || end >= n)
    throw new VerificationError(
      'finality.range-order',
      `block ${n}: the range ${start}..${end} must satisfy range_start <= range_end < ${n}`,
    );
  const exempt = opts.historicalExemptions && start <= HISTORICAL_EXEMPTIONS.rangeContinuityThrough;
  if (!exempt) {
    if (start !== state.lastFinalized.blockNumber + 1)
      throw new VerificationError(
        'finality.range-continuity',
        `block ${n}: the range starts at block ${start}, but the last finalized block is ${state.lastFinalized.blockNumber}`,
      );
    if (
      event.rangeStartParentHash !== undefined &&
      !sameHash(
        event.rangeStartParentHash,
        state.lastFinalized.hash,
        'event.rangeStartParentHash',
        'state.lastFinalized.hash',
      )
    )
      throw new VerificationError(
        'finality.range-continuity',
        `block ${n}: range_start's parent is ${event.rangeStartParentHash}, but the last finalized block is ${state.lastFinalized.hash}`,
      );
  }
  const next: FinalityState = {
    lastPow: { blockNumber: n, hash: event.blockHash, bits: header.bits, chainId: header.chainId },
    lastFinalized: { blockNumber: end, hash: header.rangeEnd },
    finalizedThrough: Math.max(state.finalizedThrough, end),
    head: n,
  };
  const newlyFinalized = end > state.finalizedThrough ? { from: state.finalizedThrough + 1, to: end } : null;
  return { state: next, newlyFinalized };
}

/** Run {@link applyFinalityEvent} over a sequence; returns the final state and every finalized range. */
export function followFinality(
  initial: FinalityState,
  events: Iterable<FinalityEvent>,
  opts: FinalityOptions,
): { state: FinalityState; finalized: { from: number; to: number; by: number }[] } {
  let state = initial;
  const finalized: { from: number; to: number; by: number }[] = [];
  for (const event of events) {
    const step = applyFinalityEvent(state, event, opts);
    state = step.state;
    if (step.newlyFinalized) finalized.push({ ...step.newlyFinalized, by: event.blockNumber });
  }
  return { state, finalized };
}

/** Block `blockNumber` is finalized: some applied PoW block's range_end is it or a descendant (4.7). */
export function isFinalized(state: FinalityState, blockNumber: number): boolean {
  return blockNumber <= state.finalizedThrough;
}

/** The inputs {@link validatePowBlock} takes from the bookkeeping state. */
export function powContextFromState(state: FinalityState): {
  lastPow: { blockNumber: number; bits: number };
  lastFinalizedHash: Hex;
} {
  return {
    lastPow: { blockNumber: state.lastPow.blockNumber, bits: state.lastPow.bits },
    lastFinalizedHash: state.lastFinalized.hash,
  };
}
