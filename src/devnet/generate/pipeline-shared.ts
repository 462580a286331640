/** What the generator's main thread and its helper thread (worker.ts) share: messages and the approver. */
import { aggregateApprovals, signApproval } from '../../protocol/approvals-sign.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import type { AggregateApproval, Hex } from '../../protocol/types.js';
import type { BlockLoad, LoadOptions } from './load.js';

export interface ApprovingMember {
  index: number;
  blsSecretKey: Uint8Array;
}

export interface PipelineInit {
  load: LoadOptions;
  members: ApprovingMember[];
}

export type ToWorker = { type: 'load'; count: number } | { type: 'approve'; id: number; root: Uint8Array };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'load'; loads: BlockLoad[] }
  | { type: 'approved'; id: number; signature: Hex }
  | { type: 'error'; message: string };

/** Every member approves the root; the approvals are aggregated (what BlockProducer does by default). */
export function createApprover(
  members: readonly ApprovingMember[],
  bls: BlsBackend,
): (root: Uint8Array) => AggregateApproval {
  return (root) =>
    aggregateApprovals(
      members.map((m) => signApproval(m.blsSecretKey, root, m.index, bls)),
      { backend: bls },
    );
}
