/**
 * The devnet EVM's state storage: one in-memory node map shared by the head state and every kept
 * historical state, with mark-and-sweep pruning.
 *
 * ethereumjs's Merkle-Patricia trie (without node pruning) never deletes a node, so every state root
 * it ever had stays readable: that is what serves eth_getProof / eth_getBalance / eth_call at recent
 * blocks. Left alone, 20,000 blocks would keep every node ever written (hundreds of MB). So every
 * `gcInterval` blocks the engine calls {@link StateNodeStore.collect} with the state roots it keeps
 * (the last `historyBlocks` + 1 blocks): every trie node reachable from them (account tries and the
 * storage tries their accounts point to) is marked, every other node is deleted. Contract code is
 * kept (keyed 'c' || codeHash, never swept; it is small and content-addressed).
 *
 * Keys are those of @ethereumjs/util's MapDB as the trie's CheckpointDB writes them: the node hash as
 * 64 lowercase hex digits (code: 66 digits with the "63" prefix).
 */
import { MerklePatriciaTrie } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { MapDB, ValueEncoding } from '@ethereumjs/util';
import type { Common } from '@ethereumjs/common';

const HEX_HASH_LENGTH = 64;
const EMPTY_TRIE_ROOT_HEX = '56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421';

export interface CollectResult {
  keptNodes: number;
  removedNodes: number;
  ms: number;
}

export interface StateNodeStore {
  /** The raw node map (hash hex -> node RLP). */
  readonly nodes: Map<string, Uint8Array>;
  /** A new state trie (secure: keys hashed) over the shared nodes, at `root` (default: empty). */
  openTrie(root?: Uint8Array): MerklePatriciaTrie;
  /** Whether the node of a state root is stored (the state is readable). */
  hasRoot(root: Uint8Array): boolean;
  /** Keep exactly what `roots` reach; delete every other trie node. */
  collect(roots: readonly Uint8Array[]): CollectResult;
}

function toHexKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function createStateNodeStore(common: Common): StateNodeStore {
  const nodes = new Map<string, Uint8Array>();
  const db = new MapDB<string, Uint8Array>(nodes);

  function openTrie(root?: Uint8Array): MerklePatriciaTrie {
    const trie = new MerklePatriciaTrie({ useKeyHashing: true, common, db, valueEncoding: ValueEncoding.Bytes });
    if (root !== undefined) trie.root(root);
    return trie;
  }

  function collect(roots: readonly Uint8Array[]): CollectResult {
    const t0 = performance.now();
    const marked = new Set<string>();
    // Work list of (node reference, is it in an account trie). References are hash hex keys;
    // inline nodes (< 32 bytes) are decoded in place and never stored on their own.
    const stack: { key: string; account: boolean }[] = roots.map((r) => ({ key: toHexKey(r), account: true }));
    const visitNode = (decoded: unknown, account: boolean): void => {
      if (!Array.isArray(decoded)) return;
      if (decoded.length === 17) {
        for (let i = 0; i < 16; i++) visitRef(decoded[i], account);
        return;
      }
      if (decoded.length !== 2) return;
      const path = decoded[0] as Uint8Array;
      const isLeaf = path.length > 0 && path[0]! >> 4 >= 2;
      if (!isLeaf) {
        visitRef(decoded[1], account);
        return;
      }
      if (!account) return;
      // Account leaf: rlp([nonce, balance, storageRoot, codeHash]) -> follow the storage trie.
      const fields = RLP.decode(decoded[1] as Uint8Array) as Uint8Array[];
      const storageRoot = fields[2];
      if (storageRoot instanceof Uint8Array && storageRoot.length === 32) {
        const key = toHexKey(storageRoot);
        if (key !== EMPTY_TRIE_ROOT_HEX) stack.push({ key, account: false });
      }
    };
    const visitRef = (ref: unknown, account: boolean): void => {
      if (ref instanceof Uint8Array) {
        if (ref.length === 32) stack.push({ key: toHexKey(ref), account });
        return;
      }
      if (Array.isArray(ref)) visitNode(ref, account);
    };
    while (stack.length > 0) {
      const { key, account } = stack.pop()!;
      if (marked.has(key)) continue;
      const node = nodes.get(key);
      if (node === undefined) continue; // the empty root, or a root already gone
      marked.add(key);
      visitNode(RLP.decode(node), account);
    }
    let removed = 0;
    for (const key of nodes.keys()) {
      if (key.length === HEX_HASH_LENGTH && !marked.has(key)) {
        nodes.delete(key);
        removed++;
      }
    }
    return { keptNodes: marked.size, removedNodes: removed, ms: performance.now() - t0 };
  }

  return {
    nodes,
    openTrie,
    hasRoot: (root) => toHexKey(root) === EMPTY_TRIE_ROOT_HEX || nodes.has(toHexKey(root)),
    collect,
  };
}
