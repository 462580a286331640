/**
 * Which states the devnet EVM keeps: those of the last `historyBlocks` blocks (state.ts sweeps the
 * rest every `gcInterval` blocks), and read-only views of them for queries at older blocks.
 */
import type { MerklePatriciaTrie } from '@ethereumjs/mpt';
import { MerkleStateManager } from '@ethereumjs/statemanager';
import type { BlockStore } from './block-store.js';
import type { DevnetCommon } from './crypto.js';
import { RpcCode, RpcError } from './errors.js';
import type { BlockRecord } from './records.js';
import type { StateNodeStore } from './state.js';
import { hex } from './hex.js';

export interface StateHistory {
  /** Throws RpcError if the state of `block` is no longer kept. */
  assertAvailable(block: BlockRecord): void;
  /** A read-only state manager (and its trie) at `block`; throws as {@link assertAvailable}. */
  readerAt(block: BlockRecord): { state: MerkleStateManager; trie: MerklePatriciaTrie };
  /** After a new head: sweep the states no longer kept, every `gcInterval` blocks. */
  afterBlock(): void;
  /** Sweeps run so far and the milliseconds they took. */
  stats(): { gcRuns: number; gcMs: number };
}

export function createStateHistory(opts: {
  common: DevnetCommon;
  store: StateNodeStore;
  blocks: BlockStore;
  historyBlocks: number;
}): StateHistory {
  const { common, store, blocks, historyBlocks } = opts;
  let gcRuns = 0;
  let gcMs = 0;
  // Marking costs ~10 µs per kept node, so sweeping every 256 blocks (or every historyBlocks, if more)
  // amortises it to well under a millisecond per block; at most historyBlocks + gcInterval states live.
  const gcInterval = BigInt(Math.max(historyBlocks, 256));

  function keptFrom(): bigint {
    const n = blocks.head().number - BigInt(historyBlocks);
    return n < 0n ? 0n : n;
  }

  function afterBlock(): void {
    const h = blocks.head().number;
    if (h % gcInterval !== 0n) return;
    const roots: Uint8Array[] = [];
    for (let n = keptFrom(); n <= h; n++) roots.push(blocks.byNumber(n)!.stateRoot);
    const r = store.collect(roots);
    gcRuns++;
    gcMs += r.ms;
  }

  function assertAvailable(block: BlockRecord): void {
    if (block.number < keptFrom() || !store.hasRoot(block.stateRoot))
      throw new RpcError(
        RpcCode.server,
        `historical state ${hex(block.stateRoot)} is not available: block ${block.number} is older than the ${historyBlocks} most recent blocks whose state this devnet keeps (head ${blocks.head().number})`,
      );
  }

  function readerAt(block: BlockRecord): { state: MerkleStateManager; trie: MerklePatriciaTrie } {
    assertAvailable(block);
    const trie = store.openTrie(block.stateRoot);
    return { state: new MerkleStateManager({ common, trie }), trie };
  }

  return { assertAvailable, readerAt, afterBlock, stats: () => ({ gcRuns, gcMs }) };
}
