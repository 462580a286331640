/**
 * ChainActor: owns the verified chain. Imports block summaries through the block-import workflow
 * (links, AuxPoW, finality; the verifier pool did the per-block checks), persists what is
 * authenticated through the StorageActor before reporting it, publishes head/finalized/fork events,
 * and answers with verified payloads for the EngineActor.
 */
import { defineActor, type ActorContext } from '../../actors/actor.js';
import { signingRoot } from '../../protocol/block.js';
import { toHex, type Hex } from '../../protocol/bytes.js';
import type { ChainVerifierOptions } from '../../protocol/chain-verifier.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import type { ExecutionPayloadCapella, SignedConsensusBlock } from '../../protocol/types.js';
import { topicOf, type NodeEventMessage, type NodeEventName, type NodeEvents } from '../events.js';
import type { LoadResult } from '../storage/block-store.js';
import { BlockImport, type BatchResult, type ImportItem } from '../workflows/block-import.js';
import { POW_TOPIC } from './auxpow.js';
import { BRIDGE_TOPIC } from './bridge.js';
import type { VerifierMsg, VerifierReplies } from './verifier.js';

export type PayloadRef = 'latest' | 'safe' | 'finalized' | 'earliest' | bigint | Hex;

export type ChainMsg =
  | { type: 'import'; items: ImportItem[]; atTip: boolean }
  /** Verified blocks of another branch (an orphan's ancestors, oldest first). */
  | { type: 'fork-blocks'; items: ImportItem[] }
  | { type: 'status' }
  | { type: 'payload'; ref: PayloadRef }
  | { type: 'block'; number: number };

export interface ChainStatus {
  /** Authenticated head. */
  head: { number: number; hash: Hex; payloadBlockHash: Hex };
  finalized: number;
  /** Head of the imported chain, authenticated or not. */
  importedHead: number;
  pending: number;
  forks: number;
}

export interface ChainReplies {
  import: Omit<BatchResult, 'persist'>;
  'fork-blocks': 'linked' | 'unknown-parent';
  status: ChainStatus;
  payload: ExecutionPayloadCapella | undefined;
  block: SignedConsensusBlock | undefined;
}

export interface ChainArgs {
  verifier: Omit<ChainVerifierOptions, 'approvals'>;
  mode: 'full' | 'pow-checkpoint';
  /** Cold start: fetch (and check) block 0 from the sources. */
  fetchGenesis(): Promise<SignedConsensusBlock>;
  storage: string;
  /** The NetworkActor (sources of blocks a fork replaced are reported there). */
  network: string;
  verifierGroup: string;
  /** How many recent verified payloads to keep in memory. */
  payloadCache?: number;
}

function emit<E extends NodeEventName>(ctx: ActorContext<any, any>, name: E, data: NodeEvents[E]): void {
  ctx.publish(topicOf(name), { type: 'event', name, data } satisfies NodeEventMessage<E>);
}

export const ChainActor = defineActor<ChainMsg, ChainReplies, ChainArgs>({
  name: 'chain',
  mailbox: { capacity: 256, overflow: 'block' },
  create(args) {
    let flow: BlockImport;
    let lastHead = -1;
    let lastFinalized = -1;
    const cacheLimit = args.payloadCache ?? 256;
    const payloads = new Map<number, ExecutionPayloadCapella>(); // number -> payload (recent, verified)
    const byElHash = new Map<Hex, number>();

    const storage = <T>(ctx: ActorContext<any, any>, msg: { type: string; [k: string]: unknown }) =>
      ctx.ask<T>(args.storage, msg as never, { timeoutMs: 60_000 });

    async function payloadAt(
      ctx: ActorContext<any, any>,
      number: number,
    ): Promise<ExecutionPayloadCapella | undefined> {
      if (number > flow.authenticatedHead().number) return undefined;
      const cached = payloads.get(number);
      if (cached) return cached;
      const block = await storage<SignedConsensusBlock | undefined>(ctx, { type: 'block', number });
      return block?.message.executionPayload;
    }

    function remember(number: number, payload: ExecutionPayloadCapella): void {
      payloads.set(number, payload);
      byElHash.set(payload.blockHash, number);
      if (payloads.size > cacheLimit) {
        const oldest = payloads.keys().next().value!;
        byElHash.delete(payloads.get(oldest)!.blockHash);
        payloads.delete(oldest);
      }
    }

    async function persist(ctx: ActorContext<any, any>, r: BatchResult): Promise<void> {
      if (r.rolledBack) {
        const { from, to, sources } = r.rolledBack;
        // the rolled-back payloads must not answer reads any more
        for (const n of [...payloads.keys()])
          if (n >= from) {
            byElHash.delete(payloads.get(n)!.blockHash);
            payloads.delete(n);
          }
        emit(ctx, 'fork', {
          kind: 'switched',
          number: from,
          hash: r.head.hash,
          detail: `rolled back unfinalized blocks ${from}..${to} to follow a fork with a verified PoW`,
        });
        for (const source of sources)
          void ctx.tell(args.network, {
            type: 'fault',
            id: source,
            kind: 'stale',
            reason: `served blocks ${from}..${to} that a fork with a verified PoW replaced`,
          });
      }
      const p = r.persist;
      if (!p) return;
      if (p.blocks.length || p.truncate)
        await storage(ctx, {
          type: 'append',
          blocks: p.blocks.map(({ number, hash, block }) => ({ number, hash, block })),
          snapshot: p.snapshot,
          ...(p.truncate ? { truncateTo: p.truncate.to, truncateSnapshot: p.truncate.snapshot } : {}),
        });
      for (const b of p.blocks.slice(-cacheLimit))
        remember(b.number, decodeSignedBlockMsgpack(b.block).message.executionPayload);
      for (const b of p.blocks) {
        const s = b.summary;
        if (s.auxpowHeader)
          ctx.publish(POW_TOPIC, {
            type: 'pow',
            record: {
              number: s.number,
              hash: s.hash,
              bits: s.auxpowHeader.bits,
              rangeStart: s.auxpowHeader.rangeStart,
              rangeEnd: s.auxpowHeader.rangeEnd,
              finalizedThrough: r.finalizedThrough,
            },
          });
        if (s.pegins || s.hasProposal || s.finalizedPegouts)
          ctx.publish(BRIDGE_TOPIC, { type: 'block', number: s.number, block: b.block });
      }
    }

    /** The hash of an authenticated block (the finalized one is usually cached; else read back from storage). */
    async function hashAt(ctx: ActorContext<any, any>, number: number, r: BatchResult): Promise<Hex> {
      if (number === r.head.number) return r.head.hash;
      const recent = r.persist?.blocks.find((b) => b.number === number);
      if (recent) return recent.hash;
      const block = await storage<SignedConsensusBlock | undefined>(ctx, { type: 'block', number });
      return block ? toHex(signingRoot(block.message)) : ('0x' as Hex);
    }

    async function announce(ctx: ActorContext<any, any>, r: BatchResult): Promise<void> {
      if (r.head.number !== lastHead) {
        lastHead = r.head.number;
        emit(ctx, 'head', { number: r.head.number, hash: r.head.hash, payloadBlockHash: r.head.payloadBlockHash });
      }
      if (r.finalizedThrough > lastFinalized && r.finalizedThrough <= r.head.number) {
        lastFinalized = r.finalizedThrough;
        emit(ctx, 'finalized', { number: r.finalizedThrough, hash: await hashAt(ctx, r.finalizedThrough, r) });
      }
    }

    return {
      async preStart(ctx) {
        const started = Date.now();
        const opts: ChainVerifierOptions = { ...args.verifier, approvals: args.mode === 'full' ? 'all' : 'deferred' };
        const loaded = await storage<LoadResult>(ctx, { type: 'load' });
        if (loaded.kind === 'ok') {
          const genesis = await storage<SignedConsensusBlock | undefined>(ctx, { type: 'block', number: 0 });
          if (genesis) {
            flow = new BlockImport(opts, genesis, loaded.meta.snapshot);
            emit(ctx, 'storage', {
              kind: 'warm-start',
              detail: `resumed at block ${loaded.meta.head.number}`,
              head: loaded.meta.head.number,
              ms: Date.now() - started,
            });
            return;
          }
        }
        if (loaded.kind === 'corrupt') emit(ctx, 'storage', { kind: 'corrupt', detail: loaded.reason });
        const genesis = await args.fetchGenesis();
        flow = new BlockImport(opts, genesis);
        const hash = toHex(signingRoot(genesis.message));
        await storage(ctx, {
          type: 'init',
          genesis: { hash, block: encodeSignedBlockMsgpack(genesis) },
          snapshot: flow.snapshot(),
        });
        emit(ctx, 'storage', {
          kind: 'cold-start',
          detail: 'starting from genesis',
          head: 0,
          ms: Date.now() - started,
        });
      },
      async started(ctx) {
        await announce(ctx, {
          imported: 0,
          head: flow.authenticatedHead(),
          finalizedThrough: flow.finalizedThrough,
          newlyFinalized: null,
          persist: null,
        });
      },
      async handle(msg, ctx) {
        switch (msg.type) {
          case 'import': {
            let r = flow.importBatch(msg.items);
            await persist(ctx, r);
            for (const f of r.forks ?? [])
              emit(ctx, 'fork', {
                kind: 'observed',
                number: f.number,
                hash: f.hash,
                detail: `a valid block on another branch (from ${f.source}); kept until a verified PoW decides`,
              });
            // Verify the pending (deferred) tail at the tip, and before blaming anyone for an orphan:
            // an unauthenticated block of ours may be the lie the orphan's parent hash exposes.
            if ((msg.atTip && !r.failure) || r.failure?.orphan) {
              const tail = flow.pendingTail();
              if (tail.length) {
                const answers = await ctx.askGroup<VerifierReplies['approvals'], VerifierMsg>(
                  args.verifierGroup,
                  { type: 'approvals', items: tail.map((t) => ({ hash: t.hash, block: t.block })) },
                  { timeoutMs: 60_000 },
                );
                const badAt = answers.findIndex((a) => !a.ok);
                if (badAt >= 0) {
                  const bad = tail[badAt]!;
                  const why = answers[badAt] as Extract<VerifierReplies['approvals'][number], { ok: false }>;
                  const dropped = flow.dropFrom(bad.number);
                  r = {
                    ...dropped,
                    imported: r.imported,
                    failure: {
                      index: r.failure?.index ?? msg.items.length,
                      source: bad.source,
                      check: why.check,
                      message: why.message,
                      rewindTo: bad.number,
                    },
                  };
                } else {
                  const signers = new Map<Hex, number[]>();
                  answers.forEach((a, i) => a.ok && signers.set(tail[i]!.hash, a.signers));
                  const t = flow.authenticateTail(signers);
                  await persist(ctx, t);
                  r = { ...r, head: t.head, finalizedThrough: t.finalizedThrough };
                }
              }
            }
            await announce(ctx, r);
            const { persist: _p, ...reply } = r;
            return reply;
          }
          case 'fork-blocks':
            return flow.addForkBlocks(msg.items);
          case 'status': {
            const head = flow.authenticatedHead();
            return {
              head: { number: head.number, hash: head.hash, payloadBlockHash: head.payloadBlockHash },
              finalized: Math.min(flow.finalizedThrough, head.number),
              importedHead: flow.chainHead.number,
              pending: flow.pendingTail().length,
              forks: flow.forkCount,
            };
          }
          case 'payload': {
            const ref = msg.ref;
            const head = flow.authenticatedHead();
            if (ref === 'latest') return payloadAt(ctx, head.number);
            if (ref === 'safe' || ref === 'finalized')
              return payloadAt(ctx, Math.min(flow.finalizedThrough, head.number));
            if (ref === 'earliest') return payloadAt(ctx, 0);
            if (typeof ref === 'bigint') return ref > BigInt(head.number) ? undefined : payloadAt(ctx, Number(ref));
            const n = byElHash.get(ref.toLowerCase() as Hex);
            return n === undefined ? undefined : payloadAt(ctx, n);
          }
          case 'block':
            return msg.number > flow.authenticatedHead().number
              ? undefined
              : storage<SignedConsensusBlock | undefined>(ctx, { type: 'block', number: msg.number });
        }
      },
    };
  },
});
