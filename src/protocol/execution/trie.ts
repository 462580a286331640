/**
 * Merkle-Patricia trie (Ethereum Yellow Paper, appendix D): roots, proofs and proof verification.
 *
 * Node encodings: leaf = rlp([hexPrefix(path, leaf), value]), extension = rlp([hexPrefix(path), ref(child)]),
 * branch = rlp([ref(child0) .. ref(child15), value]). A child reference is the child's encoding itself
 * when that is shorter than 32 bytes (inline node), otherwise rlp(keccak(encoding)). The root is always
 * keccak(encoding), and the empty trie's root is keccak(rlp('')).
 *
 * Three independent pieces live here, so that they check each other in the tests:
 * - {@link trieRoot}: a one-pass builder over sorted keys (the fast path for transactions/withdrawals/receipts roots);
 * - {@link MerklePatriciaTrie}: an insertion-based in-memory trie that can also produce proofs;
 * - {@link verifyMptProof}: a proof walker that trusts nothing but the root hash.
 */
import { equalBytes } from '../bytes.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { DecodeError, VerificationError } from '../errors.js';
import {
  decodeRlp,
  encodeBytes,
  encodeList,
  encodedLength,
  encodeRlp,
  encodeUint,
  RLP_EMPTY_STRING,
  type RlpValue,
} from './rlp.js';

/** keccak256(rlp('')) = 0x56e81f17…b421, the root of the empty trie (alys-protocol.md 5.2). */
export const EMPTY_TRIE_ROOT: Uint8Array = keccak_256(RLP_EMPTY_STRING);

/** The nibbles (half-bytes, high first) of `bytes`. */
export function bytesToNibbles(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = bytes[i]! >> 4;
    out[2 * i + 1] = bytes[i]! & 0x0f;
  }
  return out;
}

/** Hex-prefix (compact) encoding of a nibble path with the leaf flag (Yellow Paper appendix C). */
export function hexPrefixEncode(nibbles: Uint8Array, isLeaf: boolean): Uint8Array {
  const odd = nibbles.length & 1;
  const out = new Uint8Array((nibbles.length >> 1) + 1);
  const flag = (isLeaf ? 2 : 0) + odd;
  let i = 0;
  if (odd) {
    out[0] = (flag << 4) | nibbles[0]!;
    i = 1;
  } else {
    out[0] = flag << 4;
  }
  for (let o = 1; i < nibbles.length; i += 2, o++) out[o] = (nibbles[i]! << 4) | nibbles[i + 1]!;
  return out;
}

/** Inverse of {@link hexPrefixEncode}; null if the encoding is malformed (bad flag, non-zero padding, empty). */
export function hexPrefixDecode(encoded: Uint8Array): { nibbles: Uint8Array; isLeaf: boolean } | null {
  if (encoded.length === 0) return null;
  const flag = encoded[0]! >> 4;
  if (flag > 3) return null;
  const odd = flag & 1;
  if (!odd && (encoded[0]! & 0x0f) !== 0) return null;
  const nibbles = new Uint8Array((encoded.length - 1) * 2 + odd);
  let o = 0;
  if (odd) nibbles[o++] = encoded[0]! & 0x0f;
  for (let i = 1; i < encoded.length; i++) {
    nibbles[o++] = encoded[i]! >> 4;
    nibbles[o++] = encoded[i]! & 0x0f;
  }
  return { nibbles, isLeaf: flag >= 2 };
}

/** The reference to a node inside its parent: the encoding itself if < 32 bytes, else rlp(keccak(encoding)). */
function nodeRef(encoded: Uint8Array, hash: Keccak256 = keccak_256): Uint8Array {
  return encoded.length < 32 ? encoded : encodeBytes(hash(encoded));
}

/** A keccak256 implementation: noble's by default; a caller may pass a native one (same digests). */
export type Keccak256 = (data: Uint8Array) => Uint8Array;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

// ------------------------------------------------------------------ one-pass builder over sorted keys

/** Encode the node holding keys[lo..hi) (sorted, distinct nibble paths) below `depth`. */
function buildNode(
  keys: Uint8Array[],
  values: Uint8Array[],
  lo: number,
  hi: number,
  depth: number,
  hash: Keccak256,
): Uint8Array {
  const first = keys[lo]!;
  if (hi - lo === 1)
    return encodeList([encodeBytes(hexPrefixEncode(first.subarray(depth), true)), encodeBytes(values[lo]!)]);
  // Sorted keys: the common prefix of the whole range is the common prefix of its first and last key.
  const last = keys[hi - 1]!;
  let p = depth;
  while (p < first.length && p < last.length && first[p] === last[p]) p++;
  if (p > depth) {
    const child = buildNode(keys, values, lo, hi, p, hash);
    return encodeList([encodeBytes(hexPrefixEncode(first.subarray(depth, p), false)), nodeRef(child, hash)]);
  }
  const slots: Uint8Array[] = new Array<Uint8Array>(17);
  let j = lo;
  let value = RLP_EMPTY_STRING;
  if (first.length === depth) {
    // a key that ends here (only possible when another key extends it); sorts first
    value = encodeBytes(values[lo]!);
    j++;
  }
  for (let nibble = 0; nibble < 16; nibble++) {
    const start = j;
    while (j < hi && keys[j]![depth] === nibble) j++;
    slots[nibble] = j > start ? nodeRef(buildNode(keys, values, start, j, depth + 1, hash), hash) : RLP_EMPTY_STRING;
  }
  slots[16] = value;
  return encodeList(slots);
}

/**
 * Root of the trie holding `entries` (key bytes -> value bytes). Order of `entries` does not matter.
 * Throws RangeError on duplicate keys or empty values (a trie cannot store an empty value).
 */
export function trieRoot(
  entries: ReadonlyArray<readonly [key: Uint8Array, value: Uint8Array]>,
  hash: Keccak256 = keccak_256,
): Uint8Array {
  if (entries.length === 0) return EMPTY_TRIE_ROOT.slice();
  const sorted = entries.slice().sort((a, b) => compareBytes(a[0], b[0]));
  const keys: Uint8Array[] = new Array<Uint8Array>(sorted.length);
  const values: Uint8Array[] = new Array<Uint8Array>(sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    const [key, value] = sorted[i]!;
    if (value.length === 0) throw new RangeError('trieRoot: empty values cannot be stored in a Merkle-Patricia trie');
    if (i > 0 && compareBytes(sorted[i - 1]![0], key) === 0) throw new RangeError('trieRoot: duplicate key');
    keys[i] = bytesToNibbles(key);
    values[i] = value;
  }
  return hash(buildNode(keys, values, 0, keys.length, 0, hash));
}

/** rlp(i), the key of item i in the transactions/withdrawals/receipts tries. */
export function indexKey(index: number): Uint8Array {
  return encodeUint(index);
}

/**
 * Root of the "ordered" trie {rlp(i) -> items[i]} used for transactionsRoot, withdrawalsRoot and
 * receiptsRoot. The items are stored as given (already encoded).
 */
export function orderedTrieRoot(items: readonly Uint8Array[], hash: Keccak256 = keccak_256): Uint8Array {
  if (items.length === 0) return EMPTY_TRIE_ROOT.slice();
  // rlp(1..127) are single bytes 0x01..0x7f and sort before rlp(0) = 0x80 and the multi-byte rlp(i >= 128),
  // whose first bytes 0x81, 0x82.. grow with the byte length; so the sorted order is known without sorting.
  const n = items.length;
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  for (let i = 1; i < Math.min(n, 0x80); i++) {
    keys.push(Uint8Array.of(i >> 4, i & 0x0f));
    values.push(items[i]!);
  }
  keys.push(Uint8Array.of(8, 0));
  values.push(items[0]!);
  for (let i = 0x80; i < n; i++) {
    keys.push(bytesToNibbles(indexKey(i)));
    values.push(items[i]!);
  }
  for (const v of values) if (v.length === 0) throw new RangeError('orderedTrieRoot: empty item');
  return hash(buildNode(keys, values, 0, keys.length, 0, hash));
}

// ------------------------------------------------------------------ insertion-based trie with proofs

type TrieNode = LeafNode | ExtensionNode | BranchNode;
interface LeafNode {
  kind: 'leaf';
  path: Uint8Array;
  value: Uint8Array;
}
interface ExtensionNode {
  kind: 'extension';
  path: Uint8Array;
  child: BranchNode;
}
interface BranchNode {
  kind: 'branch';
  children: (TrieNode | undefined)[];
  value: Uint8Array | undefined;
}

function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function newBranch(): BranchNode {
  return { kind: 'branch', children: new Array<TrieNode | undefined>(16).fill(undefined), value: undefined };
}

/** Place `value` at `rest` below a fresh branch. */
function placeInBranch(branch: BranchNode, rest: Uint8Array, value: Uint8Array): void {
  if (rest.length === 0) branch.value = value;
  else branch.children[rest[0]!] = { kind: 'leaf', path: rest.subarray(1), value };
}

function wrap(prefix: Uint8Array, branch: BranchNode): TrieNode {
  return prefix.length > 0 ? { kind: 'extension', path: prefix, child: branch } : branch;
}

function insertNode(node: TrieNode | undefined, path: Uint8Array, value: Uint8Array): TrieNode {
  if (!node) return { kind: 'leaf', path, value };
  if (node.kind === 'branch') {
    if (path.length === 0) node.value = value;
    else node.children[path[0]!] = insertNode(node.children[path[0]!], path.subarray(1), value);
    return node;
  }
  const common = commonPrefixLength(node.path, path);
  if (node.kind === 'leaf') {
    if (common === node.path.length && common === path.length) {
      node.value = value;
      return node;
    }
    const branch = newBranch();
    placeInBranch(branch, node.path.subarray(common), node.value);
    placeInBranch(branch, path.subarray(common), value);
    return wrap(path.subarray(0, common), branch);
  }
  // extension
  if (common === node.path.length) {
    node.child = insertNode(node.child, path.subarray(common), value) as BranchNode;
    return node;
  }
  const branch = newBranch();
  const extRest = node.path.subarray(common);
  branch.children[extRest[0]!] =
    extRest.length === 1 ? node.child : { kind: 'extension', path: extRest.subarray(1), child: node.child };
  placeInBranch(branch, path.subarray(common), value);
  return wrap(path.subarray(0, common), branch);
}

function encodeNode(node: TrieNode): Uint8Array {
  switch (node.kind) {
    case 'leaf':
      return encodeList([encodeBytes(hexPrefixEncode(node.path, true)), encodeBytes(node.value)]);
    case 'extension':
      return encodeList([encodeBytes(hexPrefixEncode(node.path, false)), nodeRef(encodeNode(node.child))]);
    case 'branch': {
      const slots = node.children.map((c) => (c ? nodeRef(encodeNode(c)) : RLP_EMPTY_STRING));
      slots.push(node.value ? encodeBytes(node.value) : RLP_EMPTY_STRING);
      return encodeList(slots);
    }
  }
}

/**
 * An in-memory Merkle-Patricia trie built by insertion. Slower than {@link trieRoot} (it re-encodes
 * on every `root()`/`prove()`), but it can produce proofs and serves as a second construction.
 */
export class MerklePatriciaTrie {
  private rootNode: TrieNode | undefined;

  /** Insert or replace. Empty values are refused (the trie has no representation for them). */
  put(key: Uint8Array, value: Uint8Array): this {
    if (value.length === 0) throw new RangeError('MerklePatriciaTrie.put: empty values cannot be stored');
    this.rootNode = insertNode(this.rootNode, bytesToNibbles(key), value.slice());
    return this;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    let node = this.rootNode;
    let path = bytesToNibbles(key);
    while (node) {
      if (node.kind === 'branch') {
        if (path.length === 0) return node.value;
        node = node.children[path[0]!];
        path = path.subarray(1);
        continue;
      }
      const common = commonPrefixLength(node.path, path);
      if (node.kind === 'leaf') return common === node.path.length && common === path.length ? node.value : undefined;
      if (common !== node.path.length) return undefined;
      path = path.subarray(common);
      node = node.child;
    }
    return undefined;
  }

  root(): Uint8Array {
    return this.rootNode ? keccak_256(encodeNode(this.rootNode)) : EMPTY_TRIE_ROOT.slice();
  }

  /**
   * Proof for `key` (present or absent): the encodings of the nodes on its path, root first.
   * Like geth's `eth_getProof`, inline (< 32 byte) nodes are not listed since their parent contains
   * them; `includeInlineNodes` lists them too (as some other clients do). {@link verifyMptProof} accepts both.
   */
  prove(key: Uint8Array, options: { includeInlineNodes?: boolean } = {}): Uint8Array[] {
    const proof: Uint8Array[] = [];
    let node = this.rootNode;
    let path = bytesToNibbles(key);
    let isRoot = true;
    while (node) {
      const encoded = encodeNode(node);
      if (isRoot || encoded.length >= 32 || options.includeInlineNodes) proof.push(encoded);
      isRoot = false;
      if (node.kind === 'branch') {
        if (path.length === 0) break;
        node = node.children[path[0]!];
        path = path.subarray(1);
        continue;
      }
      if (node.kind === 'leaf') break;
      const common = commonPrefixLength(node.path, path);
      if (common !== node.path.length) break;
      path = path.subarray(common);
      node = node.child;
    }
    return proof;
  }
}

// ------------------------------------------------------------------ proof verification

/**
 * Walk an MPT proof for `key` from `root`. Returns the value stored at `key`, or null when the proof
 * shows that the key is absent (empty branch slot, a leaf or extension whose path diverges from the key,
 * or the empty trie with an empty proof / the single node rlp('')).
 *
 * Every node is checked against the reference its parent holds (root: keccak == `root`). Inline child
 * nodes (< 32 bytes) are taken from the parent; a proof may or may not repeat them as separate elements
 * (geth does not, alloy-trie/reth does), both are accepted. Rejected with VerificationError(`check`):
 * a missing node, a node whose hash does not match, undecodable RLP, nodes left over after the walk ends,
 * and non-canonical tries (stricter than a plain walk, never produced by a real client): a hashed child
 * under 32 bytes, an inline child of 32 bytes or more, an empty leaf value, an empty extension path,
 * an extension not pointing at a branch, a branch with fewer than two entries.
 */
export function verifyMptProof(
  root: Uint8Array,
  key: Uint8Array,
  proof: readonly Uint8Array[],
  check = 'mpt.proof',
): Uint8Array | null {
  const fail = (problem: string): never => {
    throw new VerificationError(check, `Merkle-Patricia proof rejected: ${problem}`, {
      details: 'the proof does not prove this key under this root; fetch it again from another endpoint',
    });
  };
  if (root.length !== 32) fail(`root must be 32 bytes, got ${root.length}`);
  if (equalBytes(root, EMPTY_TRIE_ROOT)) {
    // The empty trie holds nothing: its proof is empty, or the single root node rlp('').
    if (proof.length === 0 || (proof.length === 1 && equalBytes(proof[0]!, RLP_EMPTY_STRING))) return null;
    fail('the root is the empty-trie root, but the proof has nodes');
  }
  if (proof.length === 0) fail('the proof is empty but the root is not the empty-trie root');
  const nibbles = bytesToNibbles(key);
  let used = 0;

  const loadHashed = (hash: Uint8Array, isRoot: boolean): RlpValue[] => {
    if (used >= proof.length) return fail(`node ${used} is missing (the proof ends before the key's path does)`);
    const encoded = proof[used]!;
    if (!equalBytes(keccak_256(encoded), hash))
      return fail(`node ${used} does not hash to the reference in its parent`);
    if (!isRoot && encoded.length < 32) return fail(`node ${used} is shorter than 32 bytes but referenced by hash`);
    used++;
    let decoded: RlpValue;
    try {
      decoded = decodeRlp(encoded, `proof[${used - 1}]`);
    } catch (e) {
      if (e instanceof DecodeError) return fail(`node ${used - 1} is not canonical RLP (${e.message})`);
      throw e;
    }
    if (decoded instanceof Uint8Array) return fail(`node ${used - 1} is a byte string, not a trie node`);
    return decoded;
  };

  /** Follow a child reference (hash or inline node). */
  const follow = (ref: RlpValue, where: string): RlpValue[] => {
    if (ref instanceof Uint8Array) {
      if (ref.length !== 32) return fail(`${where}: child reference must be 32 bytes, got ${ref.length}`);
      return loadHashed(ref, false);
    }
    if (encodedLength(ref) >= 32) return fail(`${where}: inline child node is 32 bytes or longer`);
    // A proof may list the inline node again as its own element; skip that copy if present.
    if (used < proof.length && proof[used]!.length < 32 && equalBytes(proof[used]!, encodeRlp(ref))) used++;
    return ref;
  };

  let node = loadHashed(root, true);
  let depth = 0;
  let result: Uint8Array | null = null;
  for (;;) {
    if (node.length === 17) {
      let entries = 0;
      for (let i = 0; i < 17; i++) {
        const slot = node[i]!;
        if (slot instanceof Uint8Array) {
          if (slot.length === 0) continue;
          if (i < 16 && slot.length !== 32)
            fail(`branch slot ${i} holds ${slot.length} bytes (expected a 32-byte hash or nothing)`);
        } else if (i === 16) fail('branch value is a list');
        entries++;
      }
      if (entries < 2) fail('branch with fewer than two entries');
      if (depth === nibbles.length) {
        const value = node[16] as Uint8Array;
        result = value.length > 0 ? value.slice() : null;
        break;
      }
      const child = node[nibbles[depth]!]!;
      depth++;
      if (child instanceof Uint8Array && child.length === 0) break; // empty slot: absent
      node = follow(child, `branch slot ${nibbles[depth - 1]}`);
      continue;
    }
    if (node.length === 2) {
      const [pathItem, second] = node as [RlpValue, RlpValue];
      if (!(pathItem instanceof Uint8Array)) return fail('leaf/extension path is a list');
      const hp = hexPrefixDecode(pathItem);
      if (!hp) return fail('malformed hex-prefix path');
      const rest = nibbles.length - depth;
      let matches = hp.nibbles.length <= rest;
      for (let i = 0; matches && i < hp.nibbles.length; i++) matches = hp.nibbles[i] === nibbles[depth + i];
      if (hp.isLeaf) {
        if (!(second instanceof Uint8Array) || second.length === 0)
          return fail('leaf value must be a non-empty string');
        result = matches && hp.nibbles.length === rest ? second.slice() : null;
        break;
      }
      if (hp.nibbles.length === 0) return fail('extension with an empty path');
      if (!matches) break; // the key leaves the trie here: absent
      depth += hp.nibbles.length;
      if (second instanceof Uint8Array && second.length === 0) return fail('extension without a child');
      node = follow(second, 'extension child');
      if (node.length !== 17) return fail('extension child is not a branch');
      continue;
    }
    return fail(`a trie node has ${node.length} items (expected 2 or 17)`);
  }
  if (used !== proof.length) fail(`${proof.length - used} extra node(s) after the end of the key's path`);
  return result;
}
