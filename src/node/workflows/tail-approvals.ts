/**
 * Settling the pending tail (no I/O): the ChainActor has the verifier pool check the approvals of
 * the unauthenticated blocks at the tip (deferred approvals), and before blaming anyone for an
 * orphan, since a bad block of ours may be the lie the orphan's parent hash exposes. These
 * functions say when to do that and apply the pool's answers to the block-import workflow.
 */
import type { Hex } from '../../protocol/bytes.js';
import type { BatchResult, BlockImport } from './block-import.js';

/** The verifier pool's answer for one tail block. */
export type ApprovalAnswer = { ok: true; signers: number[] } | { ok: false; check: string; message: string };

/** The pending tail, as `BlockImport.pendingTail()` lists it. */
export type PendingTail = ReturnType<BlockImport['pendingTail']>;

/** Whether the import of a batch ends with a check of the pending tail: at the tip if it went well, or for an orphan. */
export function checksTail(atTip: boolean, r: Pick<BatchResult, 'failure'>): boolean {
  return (atTip && !r.failure) || r.failure?.orphan !== undefined;
}

export type TailOutcome =
  /** A block of ours had bad approvals: the tail was dropped from it, and `result` blames its source. */
  | { kind: 'dropped'; result: BatchResult }
  /** All good: `authenticated` is what to persist, `result` the batch's result with the new head. */
  | { kind: 'authenticated'; authenticated: BatchResult; result: BatchResult };

/**
 * Apply the pool's `answers` (one per `tail` block) to `flow`, after the import of a batch of
 * `batchLength` blocks that gave `r`.
 */
export function settleTail(
  flow: BlockImport,
  tail: PendingTail,
  answers: readonly ApprovalAnswer[],
  r: BatchResult,
  batchLength: number,
): TailOutcome {
  const badAt = answers.findIndex((a) => !a.ok);
  if (badAt >= 0) {
    const bad = tail[badAt]!;
    const why = answers[badAt] as Extract<ApprovalAnswer, { ok: false }>;
    const dropped = flow.dropFrom(bad.number);
    return {
      kind: 'dropped',
      result: {
        ...dropped,
        imported: r.imported,
        failure: {
          index: r.failure?.index ?? batchLength,
          source: bad.source,
          check: why.check,
          message: why.message,
          rewindTo: bad.number,
        },
      },
    };
  }
  const signers = new Map<Hex, number[]>();
  answers.forEach((a, i) => {
    if (a.ok) signers.set(tail[i]!.hash, a.signers);
  });
  const authenticated = flow.authenticateTail(signers);
  return {
    kind: 'authenticated',
    authenticated,
    result: { ...r, head: authenticated.head, finalizedThrough: authenticated.finalizedThrough },
  };
}
