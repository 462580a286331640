/**
 * Bitcoin transaction merkle trees: branch folding (Electrum style and AuxPoW `MerkleBranch`),
 * the block merkle root with Bitcoin's duplicate-last rule, and BIP37 partial merkle trees
 * (`gettxoutproof` = 80-byte header || CPartialMerkleTree).
 *
 * All hashes are internal byte order.
 */
import { ByteReader, equalBytes } from '../bytes.js';
import { DecodeError, VerificationError } from '../errors.js';
import type { BitcoinHeader } from '../types.js';
import { hashPair, toDisplayHex } from './hash.js';
import { headerHash, readHeader } from './header.js';

/**
 * Fold `leaf` up `branch`: at level n, if bit n of `index` is 1 the sibling is on the left
 * (`h = SHA256d(branch[n] || h)`), else on the right (`h = SHA256d(h || branch[n])`).
 * Index bits above the branch length are ignored, exactly like Alys's
 * `MerkleBranch::check_merkle_branch` and namecoin-core's `CheckMerkleBranch`.
 * An empty branch returns the leaf itself.
 */
export function foldMerkleBranch(leaf: Uint8Array, branch: readonly Uint8Array[], index: number): Uint8Array {
  let h = leaf;
  for (let n = 0; n < branch.length; n++) {
    const sibling = branch[n]!;
    // n < 32 is guaranteed by callers that bound the branch; beyond that the index has no bits.
    const bit = n < 32 ? (index >>> n) & 1 : 0;
    h = bit === 1 ? hashPair(sibling, h) : hashPair(h, sibling);
  }
  return h;
}

/** Depth of the merkle tree of a block with `count` transactions (0 for a single transaction). */
export function merkleTreeDepth(count: number): number {
  let depth = 0;
  while (count > 2 ** depth) depth++;
  return depth;
}

/**
 * Verify an Electrum-style inclusion proof (`blockchain.transaction.get_merkle`: position + sibling
 * hashes from the leaf upward) against a header merkle root. Stricter than a bare fold: the index
 * must fit the branch, and when `totalTransactions` is known the branch must have exactly the
 * tree's depth and the index must be inside the block (this stops an inner node being passed off
 * as a transaction).
 */
export function verifyMerkleBranch(
  txid: Uint8Array,
  branch: readonly Uint8Array[],
  index: number,
  root: Uint8Array,
  opts: { totalTransactions?: number } = {},
): void {
  if (!Number.isInteger(index) || index < 0 || (branch.length < 32 && index >= 2 ** branch.length))
    throw new VerificationError(
      'merkle.branch-index',
      `position ${index} does not fit a branch of ${branch.length} hashes`,
    );
  if (opts.totalTransactions !== undefined) {
    const total = opts.totalTransactions;
    if (index >= total)
      throw new VerificationError(
        'merkle.branch-index',
        `position ${index} is outside a block of ${total} transactions`,
      );
    const depth = merkleTreeDepth(total);
    if (branch.length !== depth)
      throw new VerificationError(
        'merkle.branch-depth',
        `a block of ${total} transactions has a merkle tree of depth ${depth}, but the branch has ${branch.length} hashes`,
      );
  }
  const computed = foldMerkleBranch(txid, branch, index);
  if (!equalBytes(computed, root))
    throw new VerificationError(
      'merkle.branch-root',
      `transaction ${toDisplayHex(txid)} at position ${index} folds to ${toDisplayHex(computed)}, not the merkle root ${toDisplayHex(root)}`,
    );
}

/**
 * Bitcoin Core `ComputeMerkleRoot`: pairwise SHA256d, duplicating the last hash of odd levels.
 * `mutated` reports two identical adjacent hashes at some level (the CVE-2012-2459 ambiguity: such a
 * tree has the same root as one with the duplicated transactions removed). An empty list gives
 * 32 zero bytes, as in Core.
 */
export function computeMerkleRoot(leaves: readonly Uint8Array[]): { root: Uint8Array; mutated: boolean } {
  if (leaves.length === 0) return { root: new Uint8Array(32), mutated: false };
  let level: Uint8Array[] = leaves.slice();
  let mutated = false;
  while (level.length > 1) {
    for (let pos = 0; pos + 1 < level.length; pos += 2) if (equalBytes(level[pos]!, level[pos + 1]!)) mutated = true;
    if (level.length & 1) level.push(level[level.length - 1]!);
    const next: Uint8Array[] = new Array(level.length / 2);
    for (let i = 0; i < next.length; i++) next[i] = hashPair(level[2 * i]!, level[2 * i + 1]!);
    level = next;
  }
  return { root: level[0]!, mutated };
}

/** Merkle root of a block's txids (internal order), Bitcoin's duplicate-last rule. */
export function txMerkleRoot(txids: readonly Uint8Array[]): Uint8Array {
  return computeMerkleRoot(txids).root;
}

/** The Electrum-style branch (siblings from the leaf up) of leaf `index` among `txids`. */
export function merkleBranchFor(txids: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= txids.length)
    throw new RangeError(`merkleBranchFor: index ${index} outside [0, ${txids.length})`);
  const branch: Uint8Array[] = [];
  let level: Uint8Array[] = txids.slice();
  let pos = index;
  while (level.length > 1) {
    if (level.length & 1) level.push(level[level.length - 1]!);
    branch.push(level[pos ^ 1]!);
    const next: Uint8Array[] = new Array(level.length / 2);
    for (let i = 0; i < next.length; i++) next[i] = hashPair(level[2 * i]!, level[2 * i + 1]!);
    level = next;
    pos >>>= 1;
  }
  return branch;
}

// ---------------------------------------------------------------- BIP37 partial merkle tree

/** Bitcoin Core's bound: MAX_BLOCK_WEIGHT / MIN_TRANSACTION_WEIGHT = 4,000,000 / 240. */
export const MAX_PARTIAL_TREE_TRANSACTIONS = 16666;

export interface PartialMerkleTree {
  totalTransactions: number;
  hashes: Uint8Array[];
  /** flag bits, LSB-first within each byte, `flagBytes * 8` of them */
  bits: boolean[];
}

export interface TxOutProof {
  header: BitcoinHeader;
  /** block hash, internal order */
  blockHash: Uint8Array;
  totalTransactions: number;
  /** matched transactions in tree order */
  matches: { txid: Uint8Array; index: number }[];
}

/** Read a CPartialMerkleTree (u32 total, CompactSize + hashes, CompactSize + flag bytes). */
export function readPartialMerkleTree(r: ByteReader): PartialMerkleTree {
  const totalTransactions = r.u32le('total transactions');
  const at = r.offset;
  const nHashes = r.compactSize('hash count');
  if (nHashes * 32 > r.remaining)
    throw new DecodeError(
      `txoutproof@${at}`,
      `truncated: ${nHashes} hashes need ${nHashes * 32} bytes, have ${r.remaining}`,
    );
  const hashes: Uint8Array[] = new Array(nHashes);
  for (let i = 0; i < nHashes; i++) hashes[i] = r.take(32, `hash ${i}`).slice();
  const nFlagBytes = r.compactSize('flag byte count');
  const flagBytes = r.take(nFlagBytes, 'flag bytes');
  const bits: boolean[] = new Array(nFlagBytes * 8);
  for (let i = 0; i < bits.length; i++) bits[i] = ((flagBytes[i >>> 3]! >>> (i & 7)) & 1) === 1;
  return { totalTransactions, hashes, bits };
}

/**
 * Bitcoin Core `CPartialMerkleTree::ExtractMatches`, throwing a VerificationError naming the broken
 * rule instead of returning a zero root. Also rejects a non-minimal tree (an inner node flagged as
 * "parent of a match" with no match below it) — stricter than Core's verifier, but Core's builder
 * never produces such a tree.
 */
export function extractPartialMerkleTree(tree: PartialMerkleTree): {
  root: Uint8Array;
  matches: { txid: Uint8Array; index: number }[];
} {
  const { totalTransactions: n, hashes, bits } = tree;
  if (n === 0)
    throw new VerificationError(
      'txoutproof.no-transactions',
      'the partial merkle tree claims a block with 0 transactions',
    );
  if (n > MAX_PARTIAL_TREE_TRANSACTIONS)
    throw new VerificationError(
      'txoutproof.too-many-transactions',
      `the partial merkle tree claims ${n} transactions, more than a block can hold (${MAX_PARTIAL_TREE_TRANSACTIONS})`,
    );
  if (hashes.length > n)
    throw new VerificationError(
      'txoutproof.too-many-hashes',
      `${hashes.length} hashes for a block of ${n} transactions`,
    );
  if (bits.length < hashes.length)
    throw new VerificationError('txoutproof.too-few-bits', `${bits.length} flag bits for ${hashes.length} hashes`);

  const width = (height: number): number => Math.floor((n + 2 ** height - 1) / 2 ** height);
  let height = 0;
  while (width(height) > 1) height++;

  let bitsUsed = 0;
  let hashesUsed = 0;
  const matches: { txid: Uint8Array; index: number }[] = [];

  const traverse = (h: number, pos: number): { hash: Uint8Array; matched: boolean } => {
    if (bitsUsed >= bits.length)
      throw new VerificationError('txoutproof.bits-exhausted', `ran out of flag bits at height ${h}, position ${pos}`);
    const parentOfMatch = bits[bitsUsed++]!;
    if (h === 0 || !parentOfMatch) {
      if (hashesUsed >= hashes.length)
        throw new VerificationError('txoutproof.hashes-exhausted', `ran out of hashes at height ${h}, position ${pos}`);
      const hash = hashes[hashesUsed++]!;
      if (h === 0 && parentOfMatch) matches.push({ txid: hash, index: pos });
      return { hash, matched: h === 0 && parentOfMatch };
    }
    const left = traverse(h - 1, pos * 2);
    let right = left;
    if (pos * 2 + 1 < width(h - 1)) {
      right = traverse(h - 1, pos * 2 + 1);
      // CVE-2012-2459: identical siblings would let a different transaction list produce this root.
      if (equalBytes(right.hash, left.hash))
        throw new VerificationError(
          'txoutproof.duplicate-subtree',
          `identical left and right subtrees at height ${h - 1}, position ${pos * 2} (CVE-2012-2459 malleation)`,
        );
    }
    const matched = left.matched || right.matched;
    if (!matched)
      throw new VerificationError(
        'txoutproof.non-minimal',
        `inner node at height ${h}, position ${pos} is flagged as containing a match but none is below it`,
      );
    return { hash: hashPair(left.hash, right.hash), matched };
  };

  const root = traverse(height, 0).hash;
  // Every flag byte and every hash must be used (no trailing data that could carry a second meaning).
  if (Math.floor((bitsUsed + 7) / 8) !== Math.floor((bits.length + 7) / 8))
    throw new VerificationError('txoutproof.excess-bits', `only ${bitsUsed} of ${bits.length} flag bits are used`);
  if (hashesUsed !== hashes.length)
    throw new VerificationError('txoutproof.excess-hashes', `only ${hashesUsed} of ${hashes.length} hashes are used`);
  return { root, matches };
}

/**
 * Verify a `gettxoutproof` blob (CMerkleBlock: 80-byte header || partial merkle tree): decode it,
 * extract the matched txids and require the tree's root to equal the header's merkle root.
 * The caller still has to check that the header is on the best chain with enough work.
 */
export function verifyTxOutProof(proof: Uint8Array): TxOutProof {
  const r = new ByteReader(proof, 'txoutproof');
  const headerBytes = proof.subarray(0, 80);
  const header = readHeader(r);
  const tree = readPartialMerkleTree(r);
  r.end();
  const { root, matches } = extractPartialMerkleTree(tree);
  if (!equalBytes(root, header.merkleRoot))
    throw new VerificationError(
      'txoutproof.merkle-root',
      `the partial merkle tree hashes to ${toDisplayHex(root)}, but the header's merkle root is ${toDisplayHex(header.merkleRoot)}`,
    );
  return { header, blockHash: headerHash(headerBytes), totalTransactions: tree.totalTransactions, matches };
}
