/**
 * Block-level and chain-level defects. The fault server is the devnet, so it holds the federation's
 * BLS keys: a mutated message is re-signed by a valid majority, and the one defect a fault names is
 * the only thing wrong with the block.
 */
import { EMPTY_AGGREGATE_APPROVAL, encodeAggregationBits, requiredApprovals } from '../../protocol/approvals.js';
import { aggregateApprovals, signApproval } from '../../protocol/approvals-sign.js';
import { signingRoot } from '../../protocol/block.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import { bytesToHex, fromHex, toHex, type Hex } from '../../protocol/bytes.js';
import type {
  AggregateApproval,
  ChainSpec,
  ConsensusBlock,
  ExecutionPayloadCapella,
  SignedConsensusBlock,
} from '../../protocol/types.js';
import { checkSlot } from '../../protocol/verify.js';
import type { ChainStore, StoredBlock } from '../consensus/chain.js';
import type { FederationMember } from '../consensus/keys.js';
import type { Seeded } from './seeded.js';

/** What the mutations need from the devnet. */
export interface FaultDevnet {
  readonly spec: ChainSpec;
  readonly members: readonly FederationMember[];
  readonly chain: ChainStore;
  readonly bls: BlsBackend;
}

export interface FaultContext {
  devnet: FaultDevnet;
  rng: Seeded;
}

/** A block as the fault server serves it, with what was done to it. */
export interface Mutation {
  block: SignedConsensusBlock;
  /** The seeded variant of the fault (e.g. `stateRoot` for payload-hash-mismatch). */
  variant: string;
  detail: string;
}

/** A deep copy: the honest chain's objects are never touched. */
export function cloneMessage(message: ConsensusBlock): ConsensusBlock {
  return structuredClone(message);
}

/** The aggregate of `signers`' (default: every member's) BLS signatures over the 32-byte `root`. */
export function sign(ctx: FaultContext, root: Uint8Array, signers?: readonly number[]): AggregateApproval {
  const { members, bls } = ctx.devnet;
  const who = signers ?? members.map((m) => m.index);
  if (who.length === 0) return { ...EMPTY_AGGREGATE_APPROVAL };
  return aggregateApprovals(
    who.map((i) => signApproval(members[i]!.blsSecretKey, root, i, bls)),
    { backend: bls },
  );
}

/** Re-sign a (mutated) message with a valid aggregate of every member. */
export function resign(ctx: FaultContext, message: ConsensusBlock): SignedConsensusBlock {
  return { message, signature: sign(ctx, signingRoot(message)) };
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[(bit >> 3) % out.length]! ^= 1 << (bit & 7);
  return out;
}

// ---------------------------------------------------------------- block level

export function badSignature(ctx: FaultContext, stored: StoredBlock): Mutation {
  const h = stored.number;
  const root = fromHex(stored.hash);
  const variant = ctx.rng.pick(h, 'variant', ['parent-root', 'flipped-root', 'seeded-message'] as const);
  const other =
    variant === 'parent-root'
      ? fromHex(stored.signed.message.parentHash)
      : variant === 'flipped-root'
        ? flipBit(root, ctx.rng.int(h, 'bit', 256))
        : ctx.rng.bytes(h, 'message');
  const approval = sign(ctx, other);
  return {
    block: { message: cloneMessage(stored.signed.message), signature: approval },
    variant,
    detail: `all ${ctx.devnet.members.length} authorities signed ${toHex(other)} instead of the root ${stored.hash}`,
  };
}

export function tooFewApprovals(ctx: FaultContext, stored: StoredBlock): Mutation {
  const h = stored.number;
  const n = ctx.devnet.members.length;
  const count = requiredApprovals(n) - 1;
  // a seeded subset of `count` members: shuffle by seeded keys, take the first `count`
  const order = ctx.devnet.members
    .map((m) => ({ i: m.index, key: ctx.rng.u32(h, `signer/${m.index}`) }))
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .slice(0, count)
    .map((x) => x.i)
    .sort((a, b) => a - b);
  return {
    block: { message: cloneMessage(stored.signed.message), signature: sign(ctx, fromHex(stored.hash), order) },
    variant: count === 0 ? 'no-signers' : `${count}-of-${n}`,
    detail: `only authorities [${order.join(', ')}] signed the real root; ${requiredApprovals(n)} of ${n} are required`,
  };
}

export function bitsBeyondN(ctx: FaultContext, stored: StoredBlock): Mutation {
  const n = ctx.devnet.members.length;
  const extra = n + ctx.rng.int(stored.number, 'extra-bit', 15 - n);
  const approval = sign(ctx, fromHex(stored.hash));
  const mask = ((1 << n) - 1) | (1 << extra);
  return {
    block: {
      message: cloneMessage(stored.signed.message),
      signature: { aggregationBits: encodeAggregationBits(mask), aggregateSignature: approval.aggregateSignature },
    },
    variant: `bit-${extra}`,
    detail: `all ${n} authorities signed the real root; bit ${extra} is also set`,
  };
}

export function wrongParent(ctx: FaultContext, stored: StoredBlock): Mutation {
  const h = stored.number;
  const { chain } = ctx.devnet;
  let parent: Hex;
  let variant: string;
  if (h >= 2) {
    const k = ctx.rng.int(h, 'ancestor', h - 1); // 0..h-2
    parent = chain.at(k)!.hash;
    variant = `ancestor-${k}`;
  } else if (chain.at(h + 1)) {
    parent = chain.at(h + 1)!.hash;
    variant = `descendant-${h + 1}`;
  } else {
    parent = toHex(ctx.rng.bytes(h, 'parent'));
    variant = 'seeded-hash';
  }
  const message = cloneMessage(stored.signed.message);
  message.parentHash = parent;
  return {
    block: resign(ctx, message),
    variant,
    detail: `parent_hash ${parent} instead of ${stored.signed.message.parentHash}`,
  };
}

const PAYLOAD_FIELDS = [
  'stateRoot',
  'receiptsRoot',
  'logsBloom',
  'extraData',
  'feeRecipient',
  'prevRandao',
  'gasUsed',
  'gasLimit',
  'baseFeePerGas',
  'timestamp',
] as const;

function alterPayloadField(
  p: ExecutionPayloadCapella,
  field: (typeof PAYLOAD_FIELDS)[number],
  seeded: Uint8Array,
): void {
  switch (field) {
    case 'stateRoot':
    case 'receiptsRoot':
    case 'prevRandao':
      p[field] = toHex(flipBit(fromHex(p[field]), seeded[0]!));
      return;
    case 'logsBloom':
      p.logsBloom = toHex(flipBit(fromHex(p.logsBloom), (seeded[0]! << 3) | (seeded[1]! & 7)));
      return;
    case 'feeRecipient':
      p.feeRecipient = toHex(flipBit(fromHex(p.feeRecipient), seeded[0]! % 160));
      return;
    case 'extraData': {
      const next = `0x${bytesToHex(seeded.subarray(0, 8))}` as Hex;
      p.extraData = next === p.extraData ? (`0x${bytesToHex(seeded.subarray(8, 16))}` as Hex) : next;
      return;
    }
    case 'gasUsed':
      p.gasUsed = p.gasUsed > 0n ? p.gasUsed - 1n : 1n;
      return;
    case 'gasLimit':
      p.gasLimit = p.gasLimit + 1n;
      return;
    case 'baseFeePerGas':
      p.baseFeePerGas = p.baseFeePerGas + 1n;
      return;
    case 'timestamp':
      // later, never earlier: a later timestamp cannot make the slot "in the future" (spec 3.2)
      p.timestamp = p.timestamp + 1n;
      return;
  }
}

export function payloadHashMismatch(ctx: FaultContext, stored: StoredBlock): Mutation {
  const h = stored.number;
  const field = ctx.rng.pick(h, 'field', PAYLOAD_FIELDS);
  const message = cloneMessage(stored.signed.message);
  alterPayloadField(message.executionPayload, field, ctx.rng.bytes(h, 'value'));
  const before = String(stored.signed.message.executionPayload[field]);
  const after = String(message.executionPayload[field]);
  return {
    block: resign(ctx, message),
    variant: field,
    detail: `payload.${field} ${before.length > 70 ? before.slice(0, 70) + '…' : before} -> ${after.length > 70 ? after.slice(0, 70) + '…' : after}; block_hash kept`,
  };
}

// ---------------------------------------------------------------- chain level

/** Another validly signed block at the same height: the same content in another slot. */
export function equivocate(ctx: FaultContext, stored: StoredBlock): Mutation {
  const message = cloneMessage(stored.signed.message);
  const s = stored.signed.message.slot;
  const later = { ...message, slot: s + 1 };
  let laterOk = true;
  try {
    checkSlot(later, ctx.devnet.spec);
  } catch {
    laterOk = false;
  }
  const wantLater = ctx.rng.int(stored.number, 'direction', 2) === 0;
  // an earlier slot never breaks the slot rule; a later one only if the timestamp allows it
  message.slot = (wantLater && laterOk) || s === 0 ? s + 1 : s - 1;
  const block = resign(ctx, message);
  return {
    block,
    variant: message.slot > s ? 'next-slot' : 'previous-slot',
    detail: `slot ${message.slot} instead of ${s}: root ${toHex(signingRoot(message))} next to ${stored.hash}`,
  };
}

/** Height the reordered server answers for `h`: h - k, k seeded in 1..min(3, h). */
export function reorderedHeight(ctx: FaultContext, h: number): number {
  return h - 1 - ctx.rng.int(h, 'offset', Math.min(3, h));
}
