/**
 * The AuxPoW check (alys-protocol.md 4.1, 4.3, 4.4).
 *
 * Two coinbase variants:
 * - `'coinbase-output'` — production Alys (`AuxPow::check` with `CoinbaseVout`): the commitment is
 *   the **whole scriptPubKey** of coinbase output 2, or else output 3: exactly 44 bytes
 *   `fa be 6d 6d || root[32] || merkle_size u32 LE || merkle_nonce u32 LE`, where `root` is the
 *   chain-merkle fold result byte-for-byte (Alys reverses the script bytes and compares them with
 *   the reversed root, which is the same thing). Marathon-style pools emit this.
 * - `'script-sig'` — namecoin-core `CAuxPow::check`: the commitment is searched in the coinbase
 *   input's scriptSig as raw bytes; there the root appears **byte-reversed**; the `fabe6d6d` magic is
 *   optional (if present it must occur once and sit right before the root, if absent the root must
 *   start within the first 20 bytes); the coinbase must be leaf 0 of the parent tree. This is how
 *   the Namecoin/Dogecoin vectors verify. (Alys's own `CoinbaseVin` parser is test-only code with a
 *   different byte order and no 20-byte rule; it is not reproduced.)
 *
 * Every failed rule throws a VerificationError whose `check` names it (`auxpow.*`).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, equalBytes, reverse } from '../bytes.js';
import { DecodeError, VerificationError } from '../errors.js';
import type { AuxPow, Transaction } from '../types.js';
import { toDisplayHex } from '../bitcoin/hash.js';
import { headerHash } from '../bitcoin/header.js';
import { foldMerkleBranch } from '../bitcoin/merkle.js';
import { checkProofOfWork, targetFromCompact } from '../bitcoin/pow.js';
import { txid } from '../bitcoin/tx.js';

/** `fa be 'm' 'm'` */
export const MERGED_MINING_MAGIC: Uint8Array = Uint8Array.of(0xfa, 0xbe, 0x6d, 0x6d);
/** magic + root + merkle size + merkle nonce */
export const MERGED_MINING_HEADER_LENGTH = 44;
export const MAX_CHAIN_BRANCH_LENGTH = 30;
/** Namecoin: without the magic, the root must start within this many bytes of the scriptSig. */
export const MAX_ROOT_OFFSET_WITHOUT_MAGIC = 20;

/**
 * AuxPoW chain-slot index (Namecoin `getExpectedIndex`): with m = 2^h,
 * r = (nonce * 1103515245 + 12345) mod m; r = ((r + chainId) * 1103515245 + 12345) mod m.
 * Alys computes in u64 and Namecoin in wrapping u32; both agree because m divides 2^32.
 */
export function expectedIndex(nonce: number, chainId: number, h: number): number {
  if (!Number.isInteger(h) || h < 0 || h > 32)
    throw new RangeError(`expectedIndex: merkle height must be 0..32, got ${h}`);
  const m = 2 ** h;
  let r = (Math.imul(nonce >>> 0, 1103515245) + 12345) >>> 0;
  r %= m;
  r = (r + (chainId >>> 0)) >>> 0;
  r = (Math.imul(r, 1103515245) + 12345) >>> 0;
  return r % m;
}

/**
 * The Alys "block bundle" hash (4.1): SHA256d over the concatenated 32-byte signing roots of the
 * range, oldest first. Used as raw bytes (no reversal): it is `createauxblock`'s `hash`.
 */
export function auxpowAggregateHash(roots: readonly Uint8Array[]): Uint8Array {
  if (roots.length === 0) throw new DecodeError('roots', 'the aggregate hash needs at least one block root');
  const inner = sha256.create();
  roots.forEach((root, i) => {
    if (root.length !== 32)
      throw new DecodeError(`roots[${i}]`, `expected a 32-byte block root, got ${root.length} bytes`);
    inner.update(root);
  });
  return sha256(inner.digest());
}

/**
 * Merged-mining chain id of a parent header. Alys casts the version to u32 then divides by 2^16;
 * namecoin-core divides the signed i32 (truncating toward zero). They differ only for negative versions.
 * Note: the result is at most 65535, so for Alys chain ids above that (121212, 727272) the
 * "parent has our chain id" rule can never fire.
 */
export function parentChainId(version: number, semantics: 'alys' | 'namecoin' = 'alys'): number {
  return semantics === 'alys' ? (version >>> 0) >>> 16 : Math.trunc((version | 0) / 65536);
}

export type AuxPowVariant = 'coinbase-output' | 'script-sig';

export interface CheckAuxPowOptions {
  variant: AuxPowVariant;
  /**
   * Require `chainId` to equal this value (the chain spec's `chainId`). Alys does not: it takes the
   * chain id from the AuxPowHeader itself (4.3), so any value is accepted there. Stricter than Alys.
   */
  expectedChainId?: number;
  /**
   * `'coinbase-output'` only: require the coinbase branch side mask to be 0 (the coinbase is the
   * parent block's first transaction). Alys does not check this, so any transaction of the parent
   * block with the 44-byte output could carry the commitment. Stricter than Alys; default off.
   * (`'script-sig'` always requires it, like Namecoin.)
   */
  requireCoinbaseIndexZero?: boolean;
}

export interface AuxPowCheckResult {
  /** Chain merkle root (fold of the aux hash over the blockchain branch), raw fold-result order. */
  chainMerkleRoot: Uint8Array;
  merkleSize: number;
  merkleNonce: number;
  /** `'coinbase-output'`: index (2 or 3) of the output carrying the commitment. */
  commitmentOutput?: number;
  /** `'script-sig'`: byte offset of the root inside the scriptSig. */
  commitmentOffset?: number;
}

function readU32LE(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const last = haystack.length - needle.length;
  outer: for (let i = from; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Why one output is not the commitment, or null if it is. */
function outputCommitmentProblem(script: Uint8Array, root: Uint8Array): string | null {
  if (script.length !== MERGED_MINING_HEADER_LENGTH)
    return `its scriptPubKey is ${script.length} bytes, not ${MERGED_MINING_HEADER_LENGTH}`;
  if (!equalBytes(script.subarray(0, 4), MERGED_MINING_MAGIC)) return `its scriptPubKey does not start with fabe6d6d`;
  if (!equalBytes(script.subarray(4, 36), root)) return `it commits to ${bytesToHex(script.subarray(4, 36))}`;
  return null;
}

/**
 * Alys `CoinbaseVout::parse_coinbase`: find the 44-byte commitment to `chainRoot` in output 2,
 * else output 3. Returns the output index and the merkle size/nonce that follow the root.
 */
export function parseCoinbaseOutputCommitment(
  coinbase: Transaction,
  chainRoot: Uint8Array,
): { outputIndex: number; merkleSize: number; merkleNonce: number } {
  const problems: string[] = [];
  for (const index of [2, 3]) {
    const output = coinbase.outputs[index];
    if (!output)
      throw new VerificationError(
        'auxpow.coinbase-outputs',
        `the coinbase has ${coinbase.outputs.length} outputs; the merged-mining commitment must be output 2 or 3` +
          (problems.length ? ` (${problems.join('; ')})` : ''),
      );
    const problem = outputCommitmentProblem(output.scriptPubkey, chainRoot);
    if (problem === null)
      return {
        outputIndex: index,
        merkleSize: readU32LE(output.scriptPubkey, 36),
        merkleNonce: readU32LE(output.scriptPubkey, 40),
      };
    problems.push(`output ${index}: ${problem}`);
  }
  throw new VerificationError(
    'auxpow.commitment-missing',
    `no coinbase output commits to chain root ${bytesToHex(chainRoot)} (${problems.join('; ')})`,
  );
}

/**
 * Namecoin scriptSig commitment (see the module comment). Returns the offset of the root and the
 * merkle size/nonce after it.
 */
export function parseScriptSigCommitment(
  coinbase: Transaction,
  chainRoot: Uint8Array,
): { offset: number; merkleSize: number; merkleNonce: number } {
  const input = coinbase.inputs[0];
  if (!input)
    throw new VerificationError(
      'auxpow.coinbase-no-inputs',
      'the parent coinbase has no inputs, so it has no scriptSig to carry the commitment',
    );
  const script = input.scriptSig;
  const rootInScript = reverse(chainRoot);
  const head = indexOf(script, MERGED_MINING_MAGIC);
  const pc = indexOf(script, rootInScript);
  if (pc < 0)
    throw new VerificationError(
      'auxpow.commitment-missing',
      `the coinbase scriptSig does not contain the chain merkle root ${bytesToHex(rootInScript)}`,
    );
  if (head >= 0) {
    if (indexOf(script, MERGED_MINING_MAGIC, head + 1) >= 0)
      throw new VerificationError(
        'auxpow.commitment-multiple-magic',
        'the coinbase scriptSig contains more than one fabe6d6d merged-mining header',
      );
    if (head + MERGED_MINING_MAGIC.length !== pc)
      throw new VerificationError(
        'auxpow.commitment-position',
        `the fabe6d6d header is at byte ${head} but the chain merkle root is at byte ${pc}; the root must follow the header directly`,
      );
  } else if (pc > MAX_ROOT_OFFSET_WITHOUT_MAGIC) {
    throw new VerificationError(
      'auxpow.commitment-too-late',
      `without a fabe6d6d header the chain merkle root must start within the first ${MAX_ROOT_OFFSET_WITHOUT_MAGIC} bytes of the scriptSig; it starts at byte ${pc}`,
    );
  }
  const after = pc + 32;
  if (script.length - after < 8)
    throw new VerificationError(
      'auxpow.commitment-size-nonce-missing',
      'the chain merkle root is not followed by the 8-byte merkle size and nonce',
    );
  return { offset: pc, merkleSize: readU32LE(script, after), merkleNonce: readU32LE(script, after + 4) };
}

/**
 * Full AuxPoW check of `auxpow` for aux block hash `auxHash` (raw bytes fed to the chain-branch
 * fold: for Alys the aggregate hash of 4.1; for Namecoin the internal-order block hash) and
 * merged-mining `chainId`. Does not check the parent block's proof of work (see
 * {@link checkAuxPowProofOfWork}). Throws VerificationError; returns what was found.
 */
export function checkAuxPow(
  auxpow: AuxPow,
  auxHash: Uint8Array,
  chainId: number,
  opts: CheckAuxPowOptions,
): AuxPowCheckResult {
  if (auxHash.length !== 32) throw new DecodeError('auxHash', `expected 32 bytes, got ${auxHash.length}`);
  const namecoin = opts.variant === 'script-sig';
  if (opts.expectedChainId !== undefined && chainId !== opts.expectedChainId)
    throw new VerificationError(
      'auxpow.chain-id',
      `the AuxPoW uses merged-mining chain id ${chainId}, the chain spec says ${opts.expectedChainId}`,
    );
  if ((namecoin || opts.requireCoinbaseIndexZero) && auxpow.coinbaseBranch.branchSideMask !== 0)
    throw new VerificationError(
      'auxpow.coinbase-index',
      `the coinbase branch index is ${auxpow.coinbaseBranch.branchSideMask}; the coinbase must be the parent block's first transaction (index 0)`,
    );

  const parentId = parentChainId(auxpow.parentBlock.version, namecoin ? 'namecoin' : 'alys');
  if (parentId === chainId)
    throw new VerificationError(
      'auxpow.parent-chain-id',
      `the parent block has our own chain id ${chainId}; a chain cannot merge-mine itself`,
    );

  const chainBranch = auxpow.blockchainBranch;
  if (chainBranch.branchHash.length > MAX_CHAIN_BRANCH_LENGTH)
    throw new VerificationError(
      'auxpow.chain-branch-too-long',
      `the blockchain branch has ${chainBranch.branchHash.length} hashes, at most ${MAX_CHAIN_BRANCH_LENGTH} are allowed`,
    );
  const chainMerkleRoot = foldMerkleBranch(auxHash, chainBranch.branchHash, chainBranch.branchSideMask);

  const coinbaseTxid = txid(auxpow.coinbaseTxn);
  const folded = foldMerkleBranch(coinbaseTxid, auxpow.coinbaseBranch.branchHash, auxpow.coinbaseBranch.branchSideMask);
  if (!equalBytes(folded, auxpow.parentBlock.merkleRoot))
    throw new VerificationError(
      'auxpow.coinbase-merkle-root',
      `the coinbase ${toDisplayHex(coinbaseTxid)} folds to ${toDisplayHex(folded)}, not the parent merkle root ${toDisplayHex(auxpow.parentBlock.merkleRoot)}`,
    );

  let merkleSize: number;
  let merkleNonce: number;
  const result: AuxPowCheckResult = { chainMerkleRoot, merkleSize: 0, merkleNonce: 0 };
  if (namecoin) {
    const found = parseScriptSigCommitment(auxpow.coinbaseTxn, chainMerkleRoot);
    ({ merkleSize, merkleNonce } = found);
    result.commitmentOffset = found.offset;
  } else {
    const found = parseCoinbaseOutputCommitment(auxpow.coinbaseTxn, chainMerkleRoot);
    ({ merkleSize, merkleNonce } = found);
    result.commitmentOutput = found.outputIndex;
  }
  result.merkleSize = merkleSize;
  result.merkleNonce = merkleNonce;

  const height = chainBranch.branchHash.length;
  if (merkleSize !== 2 ** height)
    throw new VerificationError(
      'auxpow.merkle-size',
      `the commitment says merkle size ${merkleSize}, the blockchain branch needs ${2 ** height}`,
    );
  const index = expectedIndex(merkleNonce, chainId, height);
  if (chainBranch.branchSideMask !== index)
    throw new VerificationError(
      'auxpow.chain-index',
      `the blockchain branch index is ${chainBranch.branchSideMask}, but nonce ${merkleNonce} and chain id ${chainId} put this chain at slot ${index}`,
    );
  return result;
}

/**
 * The parent block's proof of work against a compact target, exactly as Alys
 * (`AuxPow::check_proof_of_work`: rust-bitcoin `Target::from_compact(bits).is_met_by(parent hash)`).
 */
export function checkAuxPowProofOfWork(auxpow: AuxPow, bits: number): boolean {
  return checkProofOfWork(headerHash(auxpow.parentBlock), targetFromCompact(bits));
}

/** {@link checkAuxPowProofOfWork} that throws `auxpow.parent-pow`. */
export function assertAuxPowProofOfWork(auxpow: AuxPow, bits: number): void {
  if (!checkAuxPowProofOfWork(auxpow, bits)) {
    const hash = headerHash(auxpow.parentBlock);
    throw new VerificationError(
      'auxpow.parent-pow',
      `parent block ${toDisplayHex(hash)} does not meet the target of bits 0x${(bits >>> 0).toString(16).padStart(8, '0')}`,
    );
  }
}
