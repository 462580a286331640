/**
 * From the generated governance.v1 messages to plain data: a `FederationUpdate` into the protocol's
 * {@link FederationUpdateInput} (the protocol library cannot import generated code), a verified update into
 * the {@link AuthoritySetChange} the chain verifier's authority schedule takes, and a bounded view of a
 * `ProposalNotification` (informational, unverified: nobody signs proposals).
 */
import type { Hex } from '../../protocol/bytes.js';
import { toHex } from '../../protocol/bytes.js';
import type { FederationUpdateInput, VerifiedFederationUpdate } from '../../protocol/federation-update.js';
import type { FederationUpdate, ProposalNotification } from './gen/governance/v1/governance_pb.js';
import { GovernanceBadResponseError } from './errors.js';

/** A change of the authority set from some height on, and where it came from. */
export interface AuthoritySetChange {
  effectiveHeight: number;
  /** 48-byte BLS G1 keys, 0x hex. */
  authorities: Hex[];
  /** EVM addresses. */
  federation?: Hex[];
  federationBitcoinPubkeys?: string[];
  source: { kind: 'spec' } | { kind: 'governance'; digest: Hex };
}

/** The generated message as the protocol's plain input (no copy of the key bytes). */
export function federationUpdateInput(update: FederationUpdate): FederationUpdateInput {
  return {
    updateType: update.updateType,
    members: update.members.map((m) => ({
      memberId: m.memberId,
      publicKey: m.publicKey,
      weight: m.weight,
      active: m.active,
    })),
    effectiveHeight: update.effectiveHeight,
    updateSignature: update.updateSignature,
    config: update.config
      ? {
          signatureThreshold: update.config.signatureThreshold,
          memberCount: update.config.memberCount,
          parameters: { ...update.config.parameters },
        }
      : undefined,
  };
}

/** A verified update as an authority-set change sourced from governance (named by its signed digest). */
export function authoritySetChange(verified: VerifiedFederationUpdate): AuthoritySetChange {
  return {
    effectiveHeight: verified.effectiveHeight,
    authorities: [...verified.authorities],
    federation: [...verified.federation],
    ...(verified.federationBitcoinPubkeys ? { federationBitcoinPubkeys: [...verified.federationBitcoinPubkeys] } : {}),
    source: { kind: 'governance', digest: verified.digest },
  };
}

/** A proposal notification as received: informational, not signed by anyone, never acted upon. */
export interface GovernanceProposal {
  readonly verified: false;
  proposalId: string;
  proposalType: number;
  proposalData: Hex;
  votingDeadline: number;
  requiredVotes: number;
}

export const MAX_PROPOSAL_ID_BYTES = 256;
export const MAX_PROPOSAL_DATA_BYTES = 16 * 1024;

/** Bounded conversion; throws {@link GovernanceBadResponseError} for oversized or out-of-range fields. */
export function governanceProposal(p: ProposalNotification): GovernanceProposal {
  if (new TextEncoder().encode(p.proposalId).length > MAX_PROPOSAL_ID_BYTES)
    throw new GovernanceBadResponseError(`proposal_id is longer than ${MAX_PROPOSAL_ID_BYTES} bytes`);
  if (p.proposalData.length > MAX_PROPOSAL_DATA_BYTES)
    throw new GovernanceBadResponseError(`proposal_data is larger than ${MAX_PROPOSAL_DATA_BYTES} bytes`);
  const deadline = p.votingDeadline;
  if (deadline < BigInt(Number.MIN_SAFE_INTEGER) || deadline > BigInt(Number.MAX_SAFE_INTEGER))
    throw new GovernanceBadResponseError(`voting_deadline ${deadline} is out of range`);
  return {
    verified: false,
    proposalId: p.proposalId,
    proposalType: p.proposalType,
    proposalData: toHex(p.proposalData),
    votingDeadline: Number(deadline),
    requiredVotes: p.requiredVotes,
  };
}
