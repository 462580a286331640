/**
 * A batch update of a Merkle-Patricia trie stored as ethereumjs stores it (node hash as 64 hex digits
 * -> node RLP, nodes under 32 bytes embedded in their parent, the root always stored), synchronous
 * and in one pass: every node on the touched paths is decoded once, re-encoded and hashed once,
 * however many of the batch's keys pass through it.
 *
 * Why: ethereumjs's trie re-walks and re-hashes the whole path on every single put, asynchronously
 * (~0.2 ms a put here); a block's state flush is ~60 puts. The engine's state manager hands its flush
 * to this instead (engine/flush.ts). Tests apply random batches here and to ethereumjs's own trie and
 * compare roots, and read every key back through ethereumjs from the nodes written here.
 */
import { RLP } from '@ethereumjs/rlp';
import { bytesToHex, fromHex } from '../../protocol/bytes.js';

export type NodeMap = Map<string, Uint8Array>;
export type Keccak = (data: Uint8Array) => Uint8Array;

/** One change: key (already hashed if the trie hashes keys), value (null = delete). */
export interface TrieOp {
  key: Uint8Array;
  value: Uint8Array | null;
}

export const EMPTY_TRIE_ROOT_HEX = '56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421';

type Node =
  | { t: 'leaf'; path: number[]; value: Uint8Array }
  | { t: 'ext'; path: number[]; child: Ref }
  | { t: 'branch'; children: (Ref | null)[]; value: Uint8Array | null };
/** A stored node (its 32-byte hash) or a node in memory (decoded, embedded or changed). */
type Ref = Uint8Array | Node;

export class TrieBatchError extends Error {
  override name = 'TrieBatchError';
}

function nibbles(key: Uint8Array): number[] {
  const out = new Array<number>(key.length * 2);
  for (let i = 0; i < key.length; i++) {
    out[2 * i] = key[i]! >> 4;
    out[2 * i + 1] = key[i]! & 15;
  }
  return out;
}

function hexPrefix(path: number[], leaf: boolean): Uint8Array {
  const odd = path.length & 1;
  const out = new Uint8Array((path.length >> 1) + 1);
  out[0] = ((leaf ? 2 : 0) + odd) << 4;
  let i = 0;
  if (odd) out[0] |= path[i++]!;
  for (let o = 1; i < path.length; i += 2, o++) out[o] = (path[i]! << 4) | path[i + 1]!;
  return out;
}

type Raw = Uint8Array | Raw[];

function decodeNode(raw: Raw): Node {
  if (!Array.isArray(raw)) throw new TrieBatchError('a trie node is not a list');
  if (raw.length === 17) {
    const children = new Array<Ref | null>(16);
    for (let i = 0; i < 16; i++) children[i] = childRef(raw[i]!);
    const v = raw[16] as Uint8Array;
    return { t: 'branch', children, value: v.length === 0 ? null : v };
  }
  if (raw.length !== 2 || Array.isArray(raw[0]))
    throw new TrieBatchError('a trie node is neither a branch nor a leaf/extension');
  const hp = raw[0] as Uint8Array;
  if (hp.length === 0) throw new TrieBatchError('a trie node has an empty path');
  const flag = hp[0]! >> 4;
  const path: number[] = [];
  if (flag & 1) path.push(hp[0]! & 15);
  for (let i = 1; i < hp.length; i++) path.push(hp[i]! >> 4, hp[i]! & 15);
  if (flag >= 2) return { t: 'leaf', path, value: raw[1] as Uint8Array };
  const child = childRef(raw[1]!);
  if (child === null) throw new TrieBatchError('an extension node has no child');
  return { t: 'ext', path, child };
}

function childRef(raw: Raw): Ref | null {
  if (Array.isArray(raw)) return decodeNode(raw);
  if (raw.length === 0) return null;
  if (raw.length !== 32) throw new TrieBatchError(`a child reference of ${raw.length} bytes`);
  return raw;
}

/**
 * Apply `ops` to the trie at `root` (32 bytes) whose nodes are in `nodes`; write the new nodes into
 * `nodes` (nothing is removed: old roots stay readable) and return the new root.
 */
export function applyTrieBatch(nodes: NodeMap, root: Uint8Array, ops: readonly TrieOp[], keccak: Keccak): Uint8Array {
  const load = (ref: Ref): Node => {
    if (!(ref instanceof Uint8Array)) return ref;
    const rlp = nodes.get(bytesToHex(ref));
    if (rlp === undefined) throw new TrieBatchError(`trie node ${bytesToHex(ref)} is missing`);
    return decodeNode(RLP.decode(rlp) as Raw);
  };

  const common = (a: number[], b: number[], bFrom: number): number => {
    let i = 0;
    while (i < a.length && bFrom + i < b.length && a[i] === b[bFrom + i]) i++;
    return i;
  };

  const insert = (ref: Ref | null, key: number[], at: number, value: Uint8Array): Node => {
    if (ref === null) return { t: 'leaf', path: key.slice(at), value };
    const node = load(ref);
    if (node.t === 'branch') {
      if (at === key.length) return { t: 'branch', children: node.children.slice(), value };
      const children = node.children.slice();
      children[key[at]!] = insert(children[key[at]!]!, key, at + 1, value);
      return { t: 'branch', children, value: node.value };
    }
    const n = common(node.path, key, at);
    if (node.t === 'leaf' && n === node.path.length && at + n === key.length)
      return { t: 'leaf', path: node.path, value };
    if (node.t === 'ext' && n === node.path.length)
      return { t: 'ext', path: node.path, child: insert(node.child, key, at + n, value) };
    // split at the first differing nibble: a branch holding the old node's rest and the new key
    const branch: Node = { t: 'branch', children: new Array<Ref | null>(16).fill(null), value: null };
    const rest = node.path.slice(n + 1);
    if (n === node.path.length)
      branch.value = (node as { value: Uint8Array }).value; // a leaf ending here
    else if (node.t === 'leaf') branch.children[node.path[n]!] = { t: 'leaf', path: rest, value: node.value };
    else branch.children[node.path[n]!] = rest.length === 0 ? node.child : { t: 'ext', path: rest, child: node.child };
    const withNew = insert(branch, key, at + n, value);
    return n === 0 ? withNew : { t: 'ext', path: node.path.slice(0, n), child: withNew };
  };

  /** A node with `prefix` in front of it (the collapse after a delete). */
  const prefixed = (prefix: number[], ref: Ref): Node => {
    const node = load(ref);
    if (node.t === 'leaf') return { t: 'leaf', path: prefix.concat(node.path), value: node.value };
    if (node.t === 'ext') return { t: 'ext', path: prefix.concat(node.path), child: node.child };
    return prefix.length === 0 ? node : { t: 'ext', path: prefix, child: ref };
  };

  /** Returns `ref` itself when the key is absent (nothing changes). */
  const remove = (ref: Ref | null, key: number[], at: number): Ref | null => {
    if (ref === null) return null;
    const node = load(ref);
    if (node.t === 'leaf')
      return common(node.path, key, at) === node.path.length && at + node.path.length === key.length ? null : ref;
    if (node.t === 'ext') {
      if (common(node.path, key, at) !== node.path.length) return ref;
      const child = remove(node.child, key, at + node.path.length);
      if (child === node.child) return ref;
      return child === null ? null : prefixed(node.path, child);
    }
    const children = node.children.slice();
    let value = node.value;
    if (at === key.length) {
      if (value === null) return ref;
      value = null;
    } else {
      const before = children[key[at]!]!;
      const after = remove(before, key, at + 1);
      if (after === before) return ref;
      children[key[at]!] = after;
    }
    let count = value === null ? 0 : 1;
    let only = -1;
    for (let i = 0; i < 16; i++)
      if (children[i] !== null) {
        count++;
        only = i;
      }
    if (count >= 2) return { t: 'branch', children, value };
    if (count === 0) return null;
    if (value !== null) return { t: 'leaf', path: [], value };
    return prefixed([only], children[only]!);
  };

  /** RLP structure of a node; children encode to their hash (stored) or inline. */
  const encode = (node: Node): Raw => {
    if (node.t === 'leaf') return [hexPrefix(node.path, true), node.value];
    if (node.t === 'ext') return [hexPrefix(node.path, false), reference(node.child)];
    const out: Raw[] = new Array<Raw>(17);
    for (let i = 0; i < 16; i++) {
      const c = node.children[i]!;
      out[i] = c === null ? new Uint8Array(0) : reference(c);
    }
    out[16] = node.value ?? new Uint8Array(0);
    return out;
  };
  const reference = (ref: Ref): Raw => {
    if (ref instanceof Uint8Array) return ref;
    const raw = encode(ref);
    const rlp = RLP.encode(raw);
    if (rlp.length < 32) return raw;
    const hash = keccak(rlp);
    nodes.set(bytesToHex(hash), rlp);
    return hash;
  };

  let top: Ref | null = bytesToHex(root) === EMPTY_TRIE_ROOT_HEX ? null : root;
  for (const op of ops) {
    const key = nibbles(op.key);
    top = op.value === null || op.value.length === 0 ? remove(top, key, 0) : insert(top, key, 0, op.value);
  }
  if (top === null) return fromHex(EMPTY_TRIE_ROOT_HEX);
  if (top instanceof Uint8Array) return top;
  // the root is always stored under its hash, whatever its size
  const rlp = RLP.encode(encode(top));
  const hash = keccak(rlp);
  nodes.set(bytesToHex(hash), rlp);
  return hash;
}
