/**
 * The backfill's decisions (pure): how far down verified history should reach (`sync.history`,
 * a checkpoint), which range to ask for next, and whether a range a source sent is the chain below
 * the lowest stored block - each block's recomputed signing root must be the `parent_hash` of the
 * verified block above it (and its execution payload the parent's), so no signature is checked
 * (docs/trust.md, "verified history"). Reaching block 0 also checks the genesis trust root.
 */
import { linkParent } from '../../protocol/anchor.js';
import { encodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import { VerificationError } from '../../protocol/errors.js';
import { verifyGenesisPayload } from '../../protocol/execution/genesis.js';
import type { ChainSpec, SignedConsensusBlock } from '../../protocol/types.js';
import type { SyncHistory } from '../../config/schema.js';
import { checkGenesis } from '../sources/genesis.js';
import type { AppendBlock } from '../storage/block-store.js';

/** The lowest block number the history should reach: genesis for `all`, none below the stored range for `none`. */
export function historyTarget(
  history: SyncHistory,
  stored: { from: number; head: number },
  checkpoint: number | undefined,
): number {
  const wanted = history === 'all' ? 0 : history === 'none' ? stored.from : Math.max(0, stored.head - history);
  return Math.min(stored.from, Math.max(wanted, checkpoint ?? 0));
}

/** The next range below `from` (at most `batch` blocks, not below `target`): [start, from - 1]. */
export function nextRange(from: number, target: number, batch: number): { start: number; count: number } | undefined {
  if (from <= target) return undefined;
  const start = Math.max(target, from - batch);
  return { start, count: from - start };
}

/**
 * Authenticate a range (oldest first, as sources send it) against the lowest stored block: the
 * range's newest block must be its parent (`parentHash`, `payloadParent`, number `from - 1`),
 * and each block the parent of the next. Returns the blocks newest first, ready for `prepend`.
 * Throws VerificationError (a source that sent them lied) - also when block 0 is not the genesis
 * the spec derives.
 */
export function linkRange(
  range: readonly SignedConsensusBlock[],
  child: SignedConsensusBlock,
  spec: ChainSpec,
): AppendBlock[] {
  const out: AppendBlock[] = [];
  let above = child;
  for (let i = range.length - 1; i >= 0; i--) {
    const b = range[i]!;
    const linked = linkParent(above, b);
    const number = Number(b.message.executionPayload.blockNumber);
    if (number === 0) checkGenesisTrustRoot(spec, b);
    out.push({ number, hash: linked.root, block: encodeSignedBlockMsgpack(b) });
    above = b;
  }
  return out;
}

/** Block 0 reached by hash links must still be the genesis the spec derives (2.5), its EL payload pinned when the spec says. */
function checkGenesisTrustRoot(spec: ChainSpec, block: SignedConsensusBlock): void {
  checkGenesis(spec, block);
  if (spec.executionGenesisHash !== undefined)
    verifyGenesisPayload(block.message.executionPayload, spec.executionGenesisHash);
}

/** The range a source sent has the wrong length (a withheld or extra block). */
export function checkRangeLength(got: number, asked: number): void {
  if (got !== asked)
    throw new VerificationError('backfill.range-length', `asked for ${asked} blocks, the source sent ${got}`);
}
