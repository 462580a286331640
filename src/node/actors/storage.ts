/**
 * StorageActor: the only way to the node's persistent store. It owns the KvStore (IndexedDB,
 * LevelDB or memory) and the BlockStore on top, and only ever receives verified blocks.
 *
 * A store found to hold another spec's chain (`load` → `other-spec`) is set aside before the reply:
 * moved away by the platform where it can (Node: the LevelDB directory renamed), else cleared
 * (IndexedDB, memory), so the ChainActor starts fresh and never sees that chain's blocks.
 */
import { defineActor } from '../../actors/actor.js';
import type { Hex } from '../../protocol/bytes.js';
import type { ChainVerifierSnapshot } from '../../protocol/chain-verifier.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';
import { shortSpecFingerprint } from '../../protocol/spec-fingerprint.js';
import {
  BlockStore,
  type AppendBlock,
  type LoadResult,
  type OtherSpec,
  type StoreIdentity,
} from '../storage/block-store.js';
import type { KvStore } from '../storage/kv.js';

export type StorageMsg =
  | { type: 'load' }
  /** Start the store with verified blocks (oldest first: block 0, or a head-first start's anchor blocks). */
  | { type: 'init'; blocks: AppendBlock[]; snapshot: ChainVerifierSnapshot }
  | {
      type: 'append';
      blocks: AppendBlock[];
      snapshot: ChainVerifierSnapshot;
      truncateTo?: number;
      truncateSnapshot?: ChainVerifierSnapshot;
    }
  /** Older verified blocks below the lowest stored one, newest first (the backfill). */
  | { type: 'prepend'; blocks: AppendBlock[] }
  /** The stored range: the lowest block (with its parent hash) and the head; undefined when empty. */
  | { type: 'history' }
  | { type: 'block'; number: number }
  | { type: 'number-of'; hash: Hex }
  | { type: 'clear' };

/** What is stored: blocks from..head; `parentHash` is the parent of block `from` (what the backfill fetches next). */
export interface StoredHistory {
  from: number;
  parentHash: Hex;
  head: number;
}

/** `load`'s reply: another spec's store also says where it went (a path, or `cleared`). */
export type StorageLoad =
  | Exclude<LoadResult, { kind: 'other-spec' }>
  | { kind: 'other-spec'; stored: OtherSpec; setAsideTo: string };

export interface StorageReplies {
  load: StorageLoad;
  init: void;
  append: void;
  prepend: void;
  history: StoredHistory | undefined;
  block: SignedConsensusBlock | undefined;
  'number-of': number | undefined;
  clear: void;
}

export interface StorageArgs {
  /** Opens the store (called on every (re)start of the actor). */
  open(): Promise<KvStore>;
  /** Move the closed store aside under a name carrying `tag`; returns where it went. Absent: the store is cleared. */
  setAside?(tag: string): Promise<string>;
  identity: StoreIdentity;
}

/** The tag another spec's store is set aside under: its fingerprint's short form (`v1` for a store that recorded none). */
export function otherSpecTag(stored: OtherSpec): string {
  return stored.spec ? shortSpecFingerprint(stored.spec) : `v1-chain-${stored.chainId}`;
}

export const StorageActor = defineActor<StorageMsg, StorageReplies, StorageArgs>({
  name: 'storage',
  mailbox: { capacity: 1024, overflow: 'block' },
  create(args) {
    let store: BlockStore | undefined;
    let kv: KvStore | undefined;
    /** Move another spec's store away (or clear it) and reopen an empty one; returns where it went. */
    async function setAside(stored: OtherSpec): Promise<string> {
      let where = 'cleared';
      if (args.setAside) {
        await kv!.close();
        kv = undefined;
        where = await args.setAside(otherSpecTag(stored));
        kv = await args.open();
      }
      if (where === 'cleared') await kv!.clear();
      store = new BlockStore(kv!, args.identity);
      return where;
    }
    return {
      async preStart() {
        kv = await args.open();
        store = new BlockStore(kv, args.identity);
        // after a restart: know the stored head again (a corrupt store is the ChainActor's to handle)
        await store.load().catch(() => undefined);
      },
      async stopped() {
        await kv?.close();
      },
      // a crashed instance gets no stopped(): release the store so the replacement can open it
      async preRestart() {
        await kv?.close().catch(() => {});
      },
      async handle(msg) {
        const s = store!;
        switch (msg.type) {
          case 'load': {
            const r = await s.load();
            if (r.kind !== 'other-spec') return r;
            return { ...r, setAsideTo: await setAside(r.stored) };
          }
          case 'init':
            return s.init(msg.blocks, msg.snapshot);
          case 'prepend':
            return s.prepend(msg.blocks);
          case 'history': {
            const meta = s.stored;
            if (!meta) return undefined;
            const lowest = await s.block(meta.history.from);
            return lowest
              ? { from: meta.history.from, parentHash: lowest.message.parentHash, head: meta.head.number }
              : undefined;
          }
          case 'append':
            if (msg.truncateTo !== undefined && msg.truncateSnapshot)
              await s.truncate(msg.truncateTo, msg.truncateSnapshot);
            return s.append(msg.blocks, msg.snapshot);
          case 'block':
            return s.block(msg.number);
          case 'number-of':
            return s.numberOf(msg.hash);
          case 'clear':
            return s.clear();
        }
      },
    };
  },
});
