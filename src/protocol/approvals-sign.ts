/**
 * Signing and aggregating approvals with the noble BLS backend as the default (the devnet, validator
 * tools, tests). Apart from approvals.ts on purpose: the node's code imports approvals.ts, and a static
 * import of the noble backend there would put noble's bls12-381 in the node's bundle, which loads it
 * only if it picks that backend (`createBlsBackend`, src/protocol/bls/index.ts).
 */
import { aggregateApprovalsWith, signApprovalWith, type AggregateApprovalsOptions } from './approvals.js';
import type { BlsBackend } from './bls/backend.js';
import { nobleBackend } from './bls/noble.js';
import type { Hex } from './bytes.js';
import type { AggregateApproval, IndividualApproval } from './types.js';

/** Sign a block root as authority `authorityIndex` (devnet / validator use). */
export function signApproval(
  secretKey: Uint8Array,
  root: Uint8Array | Hex,
  authorityIndex: number,
  backend: BlsBackend = nobleBackend,
): IndividualApproval {
  return signApprovalWith(secretKey, root, authorityIndex, backend);
}

/** {@link aggregateApprovalsWith}, noble by default. */
export function aggregateApprovals(
  approvals: readonly IndividualApproval[],
  options: AggregateApprovalsOptions = {},
): AggregateApproval {
  return aggregateApprovalsWith(approvals, { ...options, backend: options.backend ?? nobleBackend });
}
