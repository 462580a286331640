/**
 * StorageActor: the only way to the node's persistent store. It owns the KvStore (IndexedDB,
 * LevelDB or memory) and the BlockStore on top, and only ever receives verified blocks.
 *
 * A store found to hold another spec's chain (`load` → `other-spec`) is set aside before the reply:
 * moved away by the platform where it can (Node: the LevelDB directory renamed), else cleared
 * (IndexedDB, memory), so the ChainActor starts fresh and never sees that chain's blocks.
 *
 * A damaged record found on a read (a `CorruptStoreError`: checksum, root, height or a missing
 * record) is not a crash: the reader gets "not available" (`block` undefined, `history` from the
 * last good point, `prepend` a rejected ask), a `storage` event (`damaged`) reports it once, and a
 * block below the verifier's window moves the stored history above it (the backfill fetches it
 * again on its next start). A damaged block of the window stays until the next load, which finds
 * it and re-syncs.
 */
import { defineActor, replyError, type ActorContext } from '../../actors/actor.js';
import type { Hex } from '../../protocol/bytes.js';
import type { ChainVerifierSnapshot } from '../../protocol/chain-verifier.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';
import { shortSpecFingerprint } from '../../protocol/spec-fingerprint.js';
import { LightNodeError } from '../errors.js';
import { topicOf, type NodeEventMessage, type NodeEvents } from '../events.js';
import {
  BlockStore,
  CorruptStoreError,
  OTHER_RECORDS,
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
  /**
   * Verified blocks above the head and the snapshot at the last of them; with `replaceFrom` (a fork
   * switch), the stored blocks above that number go first, in the same batch (`blocks` may be empty).
   */
  | { type: 'append'; blocks: AppendBlock[]; snapshot: ChainVerifierSnapshot; replaceFrom?: number }
  /** Older verified blocks below the lowest stored one, newest first (the backfill). */
  | { type: 'prepend'; blocks: AppendBlock[] }
  /** The stored range: the lowest block (with its parent hash) and the head; undefined when empty. */
  | { type: 'history' }
  | { type: 'block'; number: number }
  /**
   * Up to `count` (at most {@link MAX_SERVED_BATCH}) stored blocks from `from`, stopping at the first
   * missing or damaged one: the blocks_by_range server's read lane (sent at `low` priority, see below).
   */
  | { type: 'blocks'; from: number; count: number }
  | { type: 'number-of'; hash: Hex }
  | { type: 'clear' }
  /** Another actor's record (`x/<name>`, block-store.ts): kept across a chain `init`, checked by its owner. */
  | { type: 'record-get'; name: string }
  /** Write (or, with null, delete) another actor's record. */
  | { type: 'record-put'; name: string; value: Uint8Array | null }
  /**
   * Another actor's keyed records under `x/<owner>/` (the peg tracker's `x/peg/`, through bridge/node-pegs.ts):
   * keys under a prefix, several values, or one atomic batch. Keys are given and returned without `x/`,
   * each must start with `<owner>/` (see {@link scopedKey}); at most {@link MAX_SCOPED_OPS} per message.
   */
  | { type: 'scoped-keys'; prefix: string; limit?: number }
  | { type: 'scoped-get'; keys: string[] }
  | { type: 'scoped-batch'; ops: ({ type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string })[] };

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
  blocks: SignedConsensusBlock[];
  'number-of': number | undefined;
  clear: void;
  'record-get': Uint8Array | undefined;
  'record-put': void;
  'scoped-keys': string[];
  'scoped-get': (Uint8Array | undefined)[];
  'scoped-batch': void;
}

const RECORD_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** The key of another actor's record; a name outside `[a-z][a-z0-9-]{0,31}` is API misuse. */
function recordKey(name: string): string {
  if (!RECORD_NAME.test(name)) throw new TypeError(`not a record name: ${JSON.stringify(name)}`);
  return `${OTHER_RECORDS}${name}`;
}

/** A scoped record key: `<owner>/<rest>`, owner one of the scoped owners (the peg tracker's `peg`), rest of [0-9a-zA-Z/_.:-], at most 200 characters. */
const SCOPED_KEY = /^peg\/[0-9a-zA-Z/_.:-]{0,200}$/;
/** The most keys or operations one scoped message carries, and the largest value it writes. */
export const MAX_SCOPED_OPS = 4096;
export const MAX_SCOPED_VALUE = 1 << 20;

const badRecord = (why: string) => new LightNodeError('storage.bad-record', why);

/** The store key of a scoped record; anything else is a LightNodeError `storage.bad-record` (nothing changed). */
export function scopedKey(key: string): string {
  if (typeof key !== 'string' || !SCOPED_KEY.test(key))
    throw badRecord(`not a scoped record key: ${String(key).slice(0, 80)}`);
  return `${OTHER_RECORDS}${key}`;
}

function scopedCount<T>(items: readonly T[]): readonly T[] {
  if (!Array.isArray(items) || items.length > MAX_SCOPED_OPS)
    throw badRecord(`a scoped message carries at most ${MAX_SCOPED_OPS} keys or operations`);
  return items;
}

/** The KvStore operations of a scoped batch, all checked before any is applied. */
function scopedOps(ops: Extract<StorageMsg, { type: 'scoped-batch' }>['ops']) {
  return scopedCount(ops).map((op) => {
    const key = scopedKey(op.key);
    if (op.type === 'del') return { type: 'del' as const, key };
    if (!(op.value instanceof Uint8Array) || op.value.length > MAX_SCOPED_VALUE)
      throw badRecord(`a scoped record value is bytes, at most ${MAX_SCOPED_VALUE}`);
    return { type: 'put' as const, key, value: op.value };
  });
}

/** Keys under a scoped prefix (without `x/`), at most {@link MAX_SCOPED_OPS}. */
async function scopedKeys(kv: KvStore, prefix: string, limit = MAX_SCOPED_OPS): Promise<string[]> {
  const n = Math.min(Math.max(0, Math.floor(Number(limit) || 0)), MAX_SCOPED_OPS);
  const keys = await kv.keys(scopedKey(prefix), n);
  return keys.map((k) => k.slice(OTHER_RECORDS.length));
}

/**
 * The most blocks one `blocks` message reads. Serving peers shares this mailbox with chain
 * persistence, so it is a lane of its own: the server asks at `low` priority (the mailbox serves
 * `normal` first, so a queued `append` always goes before queued serving reads), each of its streams
 * has one such ask in flight (at most `SERVE_LIMITS.maxStreams` in the mailbox, far below its
 * capacity), and one read is one small batch, so a chain write waits for one batch at most. A read
 * path around the actor was not chosen: the store is the actor's (reopened on a restart, meta and
 * damage handling inside), and a second reader would race both.
 */
export const MAX_SERVED_BATCH = 64;

export interface StorageArgs {
  /** Opens the store (called on every (re)start of the actor). */
  open(): Promise<KvStore>;
  /** Move the closed store aside under a name carrying `tag`; returns where it went. Absent: the store is cleared. */
  setAside?(tag: string): Promise<string>;
  identity: StoreIdentity;
}

/** The tag another spec's store is set aside under: its fingerprint's short form (`v<format>` for an older format's). */
export function otherSpecTag(stored: OtherSpec): string {
  return stored.spec ? shortSpecFingerprint(stored.spec) : `v${stored.format ?? 1}-chain-${stored.chainId}`;
}

function emitStorage(ctx: ActorContext<StorageMsg, StorageArgs>, data: NodeEvents['storage']): void {
  ctx.publish(topicOf('storage'), { type: 'event', name: 'storage', data } satisfies NodeEventMessage<'storage'>);
}

/** A scoped message; a malformed one is refused to its sender (the actor does not crash). */
async function scoped(kv: KvStore, msg: Extract<StorageMsg, { type: `scoped-${string}` }>): Promise<never> {
  try {
    if (msg.type === 'scoped-keys') return (await scopedKeys(kv, msg.prefix, msg.limit)) as never;
    if (msg.type === 'scoped-get') return (await kv.getMany(scopedCount(msg.keys).map(scopedKey))) as never;
    return (await kv.batch(scopedOps(msg.ops))) as never;
  } catch (e) {
    if (e instanceof LightNodeError && e.code === 'storage.bad-record') return replyError(e);
    throw e;
  }
}

export const StorageActor = defineActor<StorageMsg, StorageReplies, StorageArgs>({
  name: 'storage',
  mailbox: { capacity: 1024, overflow: 'block' },
  create(args) {
    let store: BlockStore | undefined;
    let kv: KvStore | undefined;
    /** Damaged records already reported (by block number). */
    const reported = new Set<number>();
    /** A read hit a damaged record: report it once, and move the history above it when it is below the window. */
    async function damaged(ctx: ActorContext<StorageMsg, StorageArgs>, n: number, e: CorruptStoreError): Promise<void> {
      const from = await store!.damagedOnRead(n);
      if (reported.has(n)) return;
      reported.add(n);
      const then =
        from === undefined
          ? 'not served; the next start re-checks the stored chain'
          : `the stored history now starts at block ${from}`;
      emitStorage(ctx, { kind: 'damaged', detail: `stored block ${n} is damaged (${e.reason}): ${then}` });
    }
    /** A stored block, or undefined when it is damaged (reported, not thrown). */
    async function readBlock(ctx: ActorContext<StorageMsg, StorageArgs>, n: number) {
      try {
        return await store!.block(n);
      } catch (e) {
        if (!(e instanceof CorruptStoreError)) throw e;
        await damaged(ctx, n, e);
        return undefined;
      }
    }
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
        // after a restart: know the stored head again (a corrupt store is the ChainActor's to handle;
        // the spot checks, and a repair they lead to, are the ChainActor's `load`, which reports it)
        await store.load({ spotChecks: false }).catch(() => undefined);
      },
      async stopped() {
        await kv?.close();
      },
      // a crashed instance gets no stopped(): release the store so the replacement can open it
      async preRestart() {
        await kv?.close().catch(() => {});
      },
      async handle(msg, ctx) {
        const s = store!;
        switch (msg.type) {
          case 'load': {
            const r = await s.load();
            if (r.kind === 'ok' && r.repaired)
              emitStorage(ctx, {
                kind: 'damaged',
                detail: `a stored block of the older history is damaged (${r.repaired}): the stored history now starts at block ${r.meta.history.from}`,
              });
            if (r.kind !== 'other-spec') return r;
            return { ...r, setAsideTo: await setAside(r.stored) };
          }
          case 'init':
            return s.init(msg.blocks, msg.snapshot);
          case 'prepend':
            try {
              return await s.prepend(msg.blocks);
            } catch (e) {
              if (!(e instanceof CorruptStoreError) || s.historyFrom === undefined) throw e;
              await damaged(ctx, s.historyFrom, e);
              return replyError(e);
            }
          case 'history':
            // a damaged lowest block moves the history up: read the new lowest one
            for (let from = s.historyFrom; from !== undefined; ) {
              const lowest = await readBlock(ctx, from);
              const meta = s.stored!;
              if (lowest) return { from, parentHash: lowest.message.parentHash, head: meta.head.number };
              if (meta.history.from === from) return undefined;
              from = meta.history.from;
            }
            return undefined;
          case 'append':
            if (msg.replaceFrom !== undefined) return s.replaceFrom(msg.replaceFrom, msg.blocks, msg.snapshot);
            return s.append(msg.blocks, msg.snapshot);
          case 'block':
            return readBlock(ctx, msg.number);
          case 'blocks': {
            const out: SignedConsensusBlock[] = [];
            for (let n = msg.from; out.length < Math.min(msg.count, MAX_SERVED_BATCH); n++) {
              const b = await readBlock(ctx, n);
              if (!b) break;
              out.push(b);
            }
            return out;
          }
          case 'number-of':
            return s.numberOf(msg.hash);
          case 'clear':
            return s.clear();
          case 'record-get':
            return kv!.get(recordKey(msg.name));
          case 'record-put': {
            const key = recordKey(msg.name);
            return kv!.batch([msg.value ? { type: 'put', key, value: msg.value } : { type: 'del', key }]);
          }
          case 'scoped-keys':
          case 'scoped-get':
          case 'scoped-batch':
            return scoped(kv!, msg);
        }
      },
    };
  },
});
