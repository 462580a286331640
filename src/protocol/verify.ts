/**
 * Per-block checks of spec 4.9 that need no chain context (steps 1, 4, 5, 6) and the parent
 * linkage (steps 2, 3). AuxPoW and finality (step 7) need the blocks of the PoW range and live in
 * auxpow/finality.ts; the node combines them.
 */
import { authoritiesAt, verifyAggregateApproval, type AuthoritySource } from './approvals.js';
import { signingRoot } from './block.js';
import type { BlsBackend } from './bls/backend.js';
import { toHex, type Hex } from './bytes.js';
import { VerificationError } from './errors.js';
import { verifyPayloadBlockHash } from './execution/payload.js';
import type { ChainSpec, ConsensusBlock, SignedConsensusBlock } from './types.js';

export interface VerifiedBlock {
  /** The signing root: the block's hash everywhere in Alys. */
  root: Uint8Array;
  hash: Hex;
  /** Execution block number (the consensus height). */
  number: bigint;
  signers: number[];
}

/**
 * Spec 3.2: a block is "in the future" when its slot exceeds both `ts_ms / slot_duration + 1` and
 * `ts_ms / 3000 + 1`, with `ts_ms` the payload timestamp; the local clock is not consulted.
 */
export function checkSlot(block: ConsensusBlock, spec: ChainSpec): void {
  const tsMs = block.executionPayload.timestamp * 1000n;
  const slot = BigInt(block.slot);
  if (slot > tsMs / BigInt(spec.slotDuration) + 1n && slot > tsMs / 3000n + 1n)
    throw new VerificationError(
      'block.slot-in-future',
      `slot ${block.slot} is ahead of the payload timestamp ${block.executionPayload.timestamp} (slot duration ${spec.slotDuration} ms)`,
    );
}

/**
 * Everything about a signed block that can be checked on its own: signing root, slot rule, the
 * federation's aggregate approval (threshold and BLS; the set in force at the block's number), and
 * the execution payload's block hash.
 * Throws VerificationError naming the failed check.
 */
export function verifyBlockSelf(
  block: SignedConsensusBlock,
  ctx: { spec: ChainSpec; authorities: AuthoritySource; backend: BlsBackend; root?: Uint8Array },
): VerifiedBlock {
  const root = ctx.root ?? signingRoot(block.message);
  checkSlot(block.message, ctx.spec);
  const signers = verifyAggregateApproval({
    root,
    approval: block.signature,
    authorities: authoritiesAt(ctx.authorities, Number(block.message.executionPayload.blockNumber)),
    backend: ctx.backend,
  });
  verifyPayloadBlockHash(block.message.executionPayload);
  return { root, hash: toHex(root), number: block.message.executionPayload.blockNumber, signers };
}

/** Spec 4.9 steps 2-3: the block extends `parent` (consensus hash, EL hash and EL number). */
export function verifyParentLink(
  block: ConsensusBlock,
  parent: { hash: Hex; payloadBlockHash: Hex; number: bigint },
): void {
  if (block.parentHash !== parent.hash)
    throw new VerificationError(
      'block.parent-hash',
      `parent_hash ${block.parentHash} is not the parent's signing root ${parent.hash}`,
    );
  const p = block.executionPayload;
  if (p.parentHash !== parent.payloadBlockHash)
    throw new VerificationError(
      'block.payload-parent',
      `execution parent_hash ${p.parentHash} is not the parent's execution block hash ${parent.payloadBlockHash}`,
    );
  if (p.blockNumber !== parent.number + 1n)
    throw new VerificationError(
      'block.number',
      `execution block number ${p.blockNumber} does not follow the parent's ${parent.number}`,
    );
}
