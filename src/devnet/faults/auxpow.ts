/**
 * AuxPoW defects (spec 4.3 and 4.5), one rule each. Every mutated AuxPoW is otherwise consistent:
 * when the coinbase changes, its new txid is folded up the unchanged coinbase branch into a new
 * parent merkle root and the parent header is re-mined to the target the validator computes for the
 * block (spec 4.6, head = N - 1); then the block is re-signed by every authority.
 */
import {
  auxpowAggregateHash,
  expectedIndex,
  MERGED_MINING_MAGIC,
  parseCoinbaseOutputCommitment,
} from '../../protocol/auxpow/check.js';
import { nextWorkRequired } from '../../protocol/auxpow/retarget.js';
import { headerHash } from '../../protocol/bitcoin/header.js';
import { foldMerkleBranch } from '../../protocol/bitcoin/merkle.js';
import { checkProofOfWork, targetFromCompact } from '../../protocol/bitcoin/pow.js';
import { txid } from '../../protocol/bitcoin/tx.js';
import { bytesToHex, fromHex, reverse, toHex } from '../../protocol/bytes.js';
import type { AuxPow, AuxPowHeader, BitcoinHeader, MerkleBranch, Transaction } from '../../protocol/types.js';
import type { StoredBlock } from '../consensus/chain.js';
import { cloneMessage, resign, type FaultContext, type Mutation } from './block.js';
import type { AuxPowFault } from './names.js';

/** Everything about an honest PoW block a mutation needs. */
export interface PowContext {
  stored: StoredBlock;
  header: AuxPowHeader;
  auxpow: AuxPow;
  /** The honest range range_start..range_end, oldest first. */
  range: StoredBlock[];
  /** The block before range_start (the last finalized one for an honest chain). */
  beforeRange: StoredBlock;
  aggregate: Uint8Array;
  /** Bits the validator requires for this block (spec 4.5 step 4). */
  requiredBits: number;
  /** Output (2 or 3) carrying the honest commitment. */
  commitIndex: number;
  merkleSize: number;
  merkleNonce: number;
}

/** The honest PoW context of `stored`, or null if it carries no AuxPoW (or is genesis). */
export function powContext(ctx: FaultContext, stored: StoredBlock): PowContext | null {
  const header = stored.signed.message.auxpowHeader;
  if (stored.number === 0 || !header || !header.auxpow) return null;
  const { chain, spec } = ctx.devnet;
  const start = chain.get(header.rangeStart);
  const end = chain.get(header.rangeEnd);
  if (!start || !end || start.number > end.number || start.number === 0) return null;
  let last = chain.at(stored.number - 1)!;
  while (!last.signed.message.auxpowHeader) last = chain.at(last.number - 1)!;
  const range = chain.range(start.number, end.number);
  const aggregate = auxpowAggregateHash(range.map((b) => fromHex(b.hash)));
  const auxpow = header.auxpow;
  const root = foldMerkleBranch(aggregate, auxpow.blockchainBranch.branchHash, auxpow.blockchainBranch.branchSideMask);
  let found: ReturnType<typeof parseCoinbaseOutputCommitment>;
  try {
    found = parseCoinbaseOutputCommitment(auxpow.coinbaseTxn, root);
  } catch {
    return null; // not an AuxPoW this module knows how to alter one rule at a time
  }
  return {
    stored,
    header,
    auxpow,
    range,
    beforeRange: chain.at(start.number - 1)!,
    aggregate,
    requiredBits: nextWorkRequired(
      { blockNumber: last.number, bits: last.signed.message.auxpowHeader!.bits },
      stored.number - 1,
      spec.retargetParams,
    ),
    commitIndex: found.outputIndex,
    merkleSize: found.merkleSize,
    merkleNonce: found.merkleNonce,
  };
}

/** Whether `fault` can be applied to this PoW block. */
export function auxpowEligible(fault: AuxPowFault, pc: PowContext | null): pc is PowContext {
  if (!pc) return false;
  if (fault === 'auxpow-range-gap') return pc.range.length >= 2;
  return true;
}

function commitmentScript(root: Uint8Array, merkleSize: number, merkleNonce: number): Uint8Array {
  const script = new Uint8Array(44);
  script.set(MERGED_MINING_MAGIC, 0);
  script.set(root, 4);
  const view = new DataView(script.buffer);
  view.setUint32(36, merkleSize >>> 0, true);
  view.setUint32(40, merkleNonce >>> 0, true);
  return script;
}

/** Mine `header` (nonce upward, time bumped on wrap) until its hash meets, or misses, `bits`. */
function mine(header: BitcoinHeader, bits: number, want: 'meet' | 'miss'): void {
  const target = targetFromCompact(bits);
  for (let tries = 0; tries < 1 << 26; tries++) {
    if (checkProofOfWork(header, target) === (want === 'meet')) return;
    header.nonce = (header.nonce + 1) >>> 0;
    if (header.nonce === 0) header.time = (header.time + 1) >>> 0;
  }
  throw new Error(
    `could not find a parent header that ${want === 'meet' ? 'meets' : 'misses'} bits 0x${bits.toString(16)}`,
  );
}

interface Rebuild {
  /** What the chain branch folds from (default: the honest aggregate). */
  auxHash?: Uint8Array;
  chainBranch?: MerkleBranch;
  merkleSize?: number;
  merkleNonce?: number;
  /** The 32 bytes the commitment carries (default: the fold of auxHash over chainBranch). */
  root?: Uint8Array;
  /** Replace the whole commitment script. */
  script?: Uint8Array;
  /** Give a 3-output coinbase a 4th ordinary output (so Alys's parser looks at output 3 too). */
  fourthOutput?: boolean;
  version?: number;
  /** The parent header's PoW against the required bits (default 'meet'). */
  pow?: 'meet' | 'miss';
}

function p2wpkh(hash20: Uint8Array): Uint8Array {
  return Uint8Array.of(0x00, 0x14, ...hash20.subarray(0, 20));
}

/** A new AuxPoW from the honest one with the changes of `r`; everything else re-derived and re-mined. */
function rebuild(ctx: FaultContext, pc: PowContext, r: Rebuild): AuxPow {
  const honest = pc.auxpow;
  const chainBranch = r.chainBranch ?? structuredClone(honest.blockchainBranch);
  const auxHash = r.auxHash ?? pc.aggregate;
  const root = r.root ?? foldMerkleBranch(auxHash, chainBranch.branchHash, chainBranch.branchSideMask);
  const coinbase: Transaction = structuredClone(honest.coinbaseTxn);
  coinbase.outputs[pc.commitIndex]!.scriptPubkey =
    r.script ?? commitmentScript(root, r.merkleSize ?? pc.merkleSize, r.merkleNonce ?? pc.merkleNonce);
  if (r.fourthOutput && coinbase.outputs.length < 4)
    coinbase.outputs.push({ value: 0n, scriptPubkey: p2wpkh(ctx.rng.bytes(pc.stored.number, 'fourth-output')) });
  const coinbaseBranch = structuredClone(honest.coinbaseBranch);
  const parent: BitcoinHeader = {
    ...honest.parentBlock,
    prevBlockhash: honest.parentBlock.prevBlockhash.slice(),
    version: r.version ?? honest.parentBlock.version,
    merkleRoot: foldMerkleBranch(txid(coinbase), coinbaseBranch.branchHash, coinbaseBranch.branchSideMask),
  };
  if (r.pow === 'miss') parent.nonce = (parent.nonce + 1) >>> 0;
  else parent.nonce = 0;
  mine(parent, pc.requiredBits, r.pow ?? 'meet');
  return {
    coinbaseTxn: coinbase,
    blockHash: headerHash(parent),
    coinbaseBranch,
    blockchainBranch: chainBranch,
    parentBlock: parent,
  };
}

function seededBranch(ctx: FaultContext, h: number, length: number, purpose: string): Uint8Array[] {
  return Array.from({ length }, (_, i) => ctx.rng.bytes(h, `${purpose}/${i}`));
}

/** A self-consistent chain branch of `length` hashes for a seeded nonce: the slot is the expected index. */
function consistentBranch(ctx: FaultContext, pc: PowContext, length: number, purpose: string) {
  const h = pc.stored.number;
  const merkleNonce = ctx.rng.u32(h, `${purpose}/nonce`);
  const index = expectedIndex(merkleNonce, pc.header.chainId, length);
  return {
    merkleNonce,
    merkleSize: 2 ** length,
    chainBranch: { branchHash: seededBranch(ctx, h, length, `${purpose}/hash`), branchSideMask: index },
  };
}

function withAuxPow(
  ctx: FaultContext,
  pc: PowContext,
  auxpow: AuxPow,
  change: Partial<Pick<AuxPowHeader, 'rangeStart'>> = {},
  dropPegouts = 0,
) {
  const message = cloneMessage(pc.stored.signed.message);
  message.auxpowHeader = { ...message.auxpowHeader!, ...change, auxpow };
  if (dropPegouts > 0) message.finalizedPegouts = message.finalizedPegouts.slice(dropPegouts);
  return resign(ctx, message);
}

function flipByte(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at % out.length]! ^= 0x01;
  return out;
}

export function mutateAuxPow(ctx: FaultContext, fault: AuxPowFault, pc: PowContext): Mutation {
  const h = pc.stored.number;
  const rng = ctx.rng;
  const honestBranch = pc.auxpow.blockchainBranch;
  switch (fault) {
    case 'auxpow-parent-chain-id': {
      const version = ((pc.header.chainId & 0xffff) << 16) | (pc.auxpow.parentBlock.version & 0xffff);
      const auxpow = rebuild(ctx, pc, { version });
      return {
        block: withAuxPow(ctx, pc, auxpow),
        variant: 'own-chain-id',
        detail: `parent version 0x${(version >>> 0).toString(16)}: chain id ${pc.header.chainId}`,
      };
    }
    case 'auxpow-chain-branch-too-long': {
      const b = consistentBranch(ctx, pc, 31, 'long-branch');
      const auxpow = rebuild(ctx, pc, b);
      return {
        block: withAuxPow(ctx, pc, auxpow),
        variant: '31-hashes',
        detail: `a consistent 31-hash chain branch (slot ${b.chainBranch.branchSideMask}, merkle size 2^31)`,
      };
    }
    case 'auxpow-chain-root': {
      const variant = rng.pick(h, 'variant', ['reversed', 'unfolded', 'seeded-root'] as const);
      let auxpow: AuxPow;
      let committed: Uint8Array;
      if (variant === 'unfolded') {
        const b = consistentBranch(ctx, pc, 1 + rng.int(h, 'length', 3), 'unfolded');
        committed = pc.aggregate;
        auxpow = rebuild(ctx, pc, { ...b, root: committed, fourthOutput: true });
      } else {
        const root = foldMerkleBranch(pc.aggregate, honestBranch.branchHash, honestBranch.branchSideMask);
        committed = variant === 'reversed' ? reverse(root) : rng.bytes(h, 'root');
        auxpow = rebuild(ctx, pc, { root: committed, fourthOutput: true });
      }
      return {
        block: withAuxPow(ctx, pc, auxpow),
        variant,
        detail: `the commitment carries ${bytesToHex(committed)}, not the chain merkle root of the aggregate`,
      };
    }
    case 'auxpow-coinbase-branch': {
      const branch = pc.auxpow.coinbaseBranch;
      let variant = rng.pick(h, 'variant', ['sibling', 'side-mask', 'coinbase-edit'] as const);
      if (variant === 'side-mask' && branch.branchHash.length === 0) variant = 'sibling';
      const auxpow: AuxPow = structuredClone(pc.auxpow);
      if (variant === 'sibling') {
        if (branch.branchHash.length === 0) auxpow.coinbaseBranch.branchHash.push(rng.bytes(h, 'sibling'));
        else {
          const k = rng.int(h, 'which', branch.branchHash.length);
          auxpow.coinbaseBranch.branchHash[k] = flipByte(branch.branchHash[k]!, rng.int(h, 'byte', 32));
        }
      } else if (variant === 'side-mask') {
        auxpow.coinbaseBranch.branchSideMask =
          (branch.branchSideMask ^ (1 << rng.int(h, 'bit', branch.branchHash.length))) >>> 0;
      } else {
        const payout = pc.commitIndex === 0 ? 1 : 0;
        auxpow.coinbaseTxn.outputs[payout]!.value += 1n;
      }
      return {
        block: withAuxPow(ctx, pc, auxpow),
        variant,
        detail: 'the coinbase does not fold to the parent merkle root (parent header untouched)',
      };
    }
    case 'auxpow-commitment-missing': {
      const variant = rng.pick(h, 'variant', ['op-return', 'bad-magic', 'short'] as const);
      const good = commitmentScript(
        foldMerkleBranch(pc.aggregate, honestBranch.branchHash, honestBranch.branchSideMask),
        pc.merkleSize,
        pc.merkleNonce,
      );
      const script =
        variant === 'op-return'
          ? Uint8Array.of(0x6a, 0x2c, ...good)
          : variant === 'bad-magic'
            ? flipByte(good, 3)
            : good.subarray(0, 43);
      const auxpow = rebuild(ctx, pc, { script, fourthOutput: true });
      return {
        block: withAuxPow(ctx, pc, auxpow),
        variant,
        detail: `output ${pc.commitIndex} is ${bytesToHex(script)}`,
      };
    }
    case 'auxpow-merkle-size': {
      const variant = rng.pick(h, 'variant', ['bigger', 'zero'] as const);
      const length = honestBranch.branchHash.length;
      const merkleSize = variant === 'zero' ? 0 : 2 ** (length + 1 + rng.int(h, 'extra', 3));
      const auxpow = rebuild(ctx, pc, { merkleSize });
      return {
        block: withAuxPow(ctx, pc, auxpow),
        variant,
        detail: `merkle size ${merkleSize}, the branch needs ${2 ** length}`,
      };
    }
    case 'auxpow-side-mask': {
      const length = honestBranch.branchHash.length;
      const variant = length === 0 ? rng.pick(h, 'variant', ['slot-conflict', 'mask-only'] as const) : 'slot-conflict';
      if (variant === 'mask-only') {
        const auxpow: AuxPow = structuredClone(pc.auxpow);
        auxpow.blockchainBranch.branchSideMask = 1 + rng.int(h, 'mask', 0xffff);
        return {
          block: withAuxPow(ctx, pc, auxpow),
          variant,
          detail: `side mask ${auxpow.blockchainBranch.branchSideMask} with an empty branch (expected index 0)`,
        };
      }
      const b = consistentBranch(ctx, pc, 1 + rng.int(h, 'length', 3), 'slot-conflict');
      const expected = b.chainBranch.branchSideMask;
      b.chainBranch.branchSideMask = (expected ^ (1 << rng.int(h, 'bit', b.chainBranch.branchHash.length))) >>> 0;
      const auxpow = rebuild(ctx, pc, b);
      return {
        block: withAuxPow(ctx, pc, auxpow),
        variant,
        detail: `side mask ${b.chainBranch.branchSideMask}, expected index ${expected}`,
      };
    }
    case 'auxpow-pow': {
      const auxpow = rebuild(ctx, pc, { pow: 'miss' });
      return {
        block: withAuxPow(ctx, pc, auxpow),
        variant: 'nonce',
        detail: `parent hash ${toHex(reverse(headerHash(auxpow.parentBlock)))} misses bits 0x${pc.requiredBits.toString(16)}`,
      };
    }
    case 'auxpow-range-gap': {
      const skip = 1 + rng.int(h, 'skip', pc.range.length - 1);
      const kept = pc.range.slice(skip);
      const dropped = pc.range.slice(0, skip).filter((b) => b.signed.message.pegoutPaymentProposal !== null).length;
      const auxpow = rebuild(ctx, pc, { auxHash: auxpowAggregateHash(kept.map((b) => fromHex(b.hash))) });
      return {
        block: withAuxPow(ctx, pc, auxpow, { rangeStart: kept[0]!.hash }, dropped),
        variant: `skip-${skip}`,
        detail: `range_start is block ${kept[0]!.number}, the last finalized block is ${pc.beforeRange.number}`,
      };
    }
    case 'auxpow-aggregate': {
      const variant = pc.range.length >= 2 ? rng.pick(h, 'variant', ['shorter', 'longer'] as const) : 'longer';
      const other =
        variant === 'shorter'
          ? pc.range.slice(0, pc.range.length - 1 - rng.int(h, 'drop', pc.range.length - 1))
          : [pc.beforeRange, ...pc.range];
      const auxpow = rebuild(ctx, pc, {
        auxHash: auxpowAggregateHash(other.map((b) => fromHex(b.hash))),
        fourthOutput: true,
      });
      return {
        block: withAuxPow(ctx, pc, auxpow),
        variant,
        detail: `the AuxPoW commits to blocks ${other[0]!.number}..${other[other.length - 1]!.number}, the header says ${pc.range[0]!.number}..${pc.range[pc.range.length - 1]!.number}`,
      };
    }
  }
}
