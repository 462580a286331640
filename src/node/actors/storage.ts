/**
 * StorageActor: the only way to the node's persistent store. It owns the KvStore (IndexedDB,
 * LevelDB or memory) and the BlockStore on top, and only ever receives verified blocks.
 */
import { defineActor } from '../../actors/actor.js';
import type { Hex } from '../../protocol/bytes.js';
import type { ChainVerifierSnapshot } from '../../protocol/chain-verifier.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';
import { BlockStore, type AppendBlock, type LoadResult } from '../storage/block-store.js';
import type { KvStore } from '../storage/kv.js';

export type StorageMsg =
  | { type: 'load' }
  | { type: 'init'; genesis: { hash: Hex; block: Uint8Array }; snapshot: ChainVerifierSnapshot }
  | {
      type: 'append';
      blocks: AppendBlock[];
      snapshot: ChainVerifierSnapshot;
      truncateTo?: number;
      truncateSnapshot?: ChainVerifierSnapshot;
    }
  | { type: 'block'; number: number }
  | { type: 'number-of'; hash: Hex }
  | { type: 'clear' };

export interface StorageReplies {
  load: LoadResult;
  init: void;
  append: void;
  block: SignedConsensusBlock | undefined;
  'number-of': number | undefined;
  clear: void;
}

export interface StorageArgs {
  /** Opens the store (called on every (re)start of the actor). */
  open(): Promise<KvStore>;
  identity: { chainId: number; genesis?: Hex; mode: string };
}

export const StorageActor = defineActor<StorageMsg, StorageReplies, StorageArgs>({
  name: 'storage',
  mailbox: { capacity: 1024, overflow: 'block' },
  create(args) {
    let store: BlockStore | undefined;
    let kv: KvStore | undefined;
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
          case 'load':
            return s.load();
          case 'init':
            return s.init(msg.genesis, msg.snapshot);
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
