/**
 * BackfillActor: verified history below where the node started (docs/trust.md). After a head-first
 * start the store holds the blocks from the latest PoW range up; this actor downloads older ones
 * backward by ranges, accepts a range only when its blocks hash-link down from the lowest stored
 * block (`workflows/backfill.ts`: no BLS per block), and prepends them (StorageActor `prepend`,
 * one batch per range, so a restart resumes where the store ends). It stops at the target that
 * `sync.history` and a checkpoint give, publishes `backfill` progress events (separate from the
 * head's), and charges a source whose range does not link. Downloads run ahead (`parallelism`
 * ranges in flight) while ranges are linked and stored strictly newest first.
 */
import { defineActor, type ActorContext } from '../../actors/actor.js';
import type { TimerHandle } from '../../actors/clock.js';
import type { SyncHistory } from '../../config/schema.js';
import type { Hex } from '../../protocol/bytes.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { ChainSpec, SignedConsensusBlock } from '../../protocol/types.js';
import { topicOf, type NodeEventMessage, type NodeEvents } from '../events.js';
import type { BlockSource } from '../sources/source.js';
import { decodeRawBlock } from '../verify/verify-response.js';
import { checkRangeLength, historyTarget, linkRange, nextRange } from '../workflows/backfill.js';
import type { SourceFault, SourceScore } from '../workflows/scores.js';
import { SourceError, sourceFaultKind } from '../sources/consensus-rpc.js';
import type { StorageMsg, StorageReplies } from './storage.js';

export interface BackfillArgs {
  spec: ChainSpec;
  history: SyncHistory;
  /** The checkpoint's hash (`sync.checkpoint`): the backfill stops at that block. */
  checkpoint: Hex | null;
  storage: string;
  network: string;
  /** The consensus sources (RPC endpoints and connected peers), by id. */
  sources(): Map<string, BlockSource>;
  batchSize: number;
  parallelism: number;
  /** Wait before trying again when no source serves a range. */
  retryMs: number;
}

export type BackfillMsg =
  | { type: 'status' }
  | { type: 'step' }
  | { type: 'fetched'; start: number; source: string; blocks?: SignedConsensusBlock[]; fault?: Fault };

/** Why a range failed, as the fault its source is charged with. */
interface Fault {
  kind: SourceFault;
  reason: string;
}

export interface BackfillStatus {
  /** The lowest verified block stored (null before the store holds a chain). */
  from: number | null;
  target: number | null;
  done: boolean;
  rate: number;
}

export interface BackfillReplies {
  status: BackfillStatus;
  step: void;
  fetched: void;
}

type Ctx = ActorContext<BackfillMsg, BackfillArgs>;

interface Fetched {
  source: string;
  blocks?: SignedConsensusBlock[];
  fault?: Fault;
}

/**
 * A failed request as the fault it costs the source, like the SyncActor's: a timeout or an unusable
 * answer as such, a missing block or a short range as withheld, bad data as invalid, else a network fault.
 */
function faultOf(e: unknown): Fault {
  const reason = (e as Error).message.split('\n')[0]!;
  if (e instanceof SourceError) return { kind: sourceFaultKind(e), reason };
  if (e instanceof ProtocolError && e.code === 'backfill.range-length') return { kind: 'withheld', reason };
  return { kind: 'invalid', reason };
}

interface BackfillState {
  readonly args: BackfillArgs;
  /** The lowest stored block and its parent hash (what the next range must end with). */
  from: number | null;
  child: SignedConsensusBlock | undefined;
  target: number | null;
  /** Ranges requested, by start, and what came back. */
  readonly inFlight: Map<number, Fetched | undefined>;
  /** The lowest start requested (the next request goes below it). */
  requestedFrom: number | null;
  storing: boolean;
  turn: number;
  timer: TimerHandle | undefined;
  started: { at: number; from: number } | undefined;
  rate: number;
  lastEvent: number;
}

function publish(s: BackfillState, ctx: Ctx, force = false): void {
  const now = ctx.clock.now();
  if (!force && now - s.lastEvent < 250) return;
  s.lastEvent = now;
  const data: NodeEvents['backfill'] = {
    from: s.from ?? 0,
    target: s.target ?? 0,
    rate: Math.round(s.rate * 10) / 10,
    done: s.from !== null && s.target !== null && s.from <= s.target,
  };
  ctx.publish(topicOf('backfill'), { type: 'event', name: 'backfill', data } satisfies NodeEventMessage<'backfill'>);
}

/** Where the store ends (and so where the backfill resumes), and the target below it. */
async function locate(s: BackfillState, ctx: Ctx): Promise<boolean> {
  const stored = await ctx.ask<StorageReplies['history']>(s.args.storage, { type: 'history' });
  if (!stored) return false;
  const child = await ctx.ask<StorageReplies['block'], StorageMsg>(s.args.storage, {
    type: 'block',
    number: stored.from,
  });
  if (!child) return false;
  const checkpoint = s.args.checkpoint
    ? await ctx.ask<StorageReplies['number-of'], StorageMsg>(s.args.storage, {
        type: 'number-of',
        hash: s.args.checkpoint,
      })
    : undefined;
  s.from = stored.from;
  s.child = child;
  s.requestedFrom = stored.from;
  s.target = historyTarget(s.args.history, stored, checkpoint);
  s.started = { at: ctx.clock.now(), from: stored.from };
  return true;
}

async function usable(s: BackfillState, ctx: Ctx): Promise<BlockSource[]> {
  const sources = s.args.sources();
  const scores = await ctx.ask<SourceScore[]>(s.args.network, { type: 'usable' });
  return scores.map((score) => sources.get(score.id)).filter((x): x is BlockSource => x !== undefined);
}

/** Ask for more ranges below what is requested, up to `parallelism` in flight. */
async function request(s: BackfillState, ctx: Ctx): Promise<void> {
  if (s.requestedFrom === null || s.target === null) return;
  const sources = await usable(s, ctx);
  if (sources.length === 0) return retryLater(s, ctx);
  while (s.inFlight.size < s.args.parallelism) {
    const range = nextRange(s.requestedFrom, s.target, s.args.batchSize);
    if (!range) break;
    s.requestedFrom = range.start;
    fetchRange(s, ctx, range, sources[s.turn++ % sources.length]!);
  }
}

function fetchRange(s: BackfillState, ctx: Ctx, range: { start: number; count: number }, source: BlockSource): void {
  s.inFlight.set(range.start, undefined);
  source.range(range.start, range.count).then(
    (raws) => {
      try {
        checkRangeLength(raws.length, range.count);
        const blocks: SignedConsensusBlock[] = [];
        for (const raw of raws) {
          const d = decodeRawBlock({ source: source.id, ...raw });
          if (!d.ok) {
            const fault: Fault = {
              kind: d.kind === 'missing' ? 'withheld' : d.kind,
              reason: `${d.check ? `${d.check}: ` : ''}${d.message}`,
            };
            return void ctx.self.tell({ type: 'fetched', start: range.start, source: source.id, fault });
          }
          blocks.push(d.block);
        }
        void ctx.self.tell({ type: 'fetched', start: range.start, source: source.id, blocks });
      } catch (e) {
        void ctx.self.tell({ type: 'fetched', start: range.start, source: source.id, fault: faultOf(e) });
      }
    },
    (e: unknown) => void ctx.self.tell({ type: 'fetched', start: range.start, source: source.id, fault: faultOf(e) }),
  );
}

function retryLater(s: BackfillState, ctx: Ctx): void {
  if (s.timer) return;
  s.timer = ctx.clock.setTimer(() => {
    s.timer = undefined;
    void ctx.self.tell({ type: 'step' });
  }, s.args.retryMs);
}

/** A range failed: charge its source and ask for it again (from another source, by turn). */
async function refetch(s: BackfillState, ctx: Ctx, start: number, source: string, fault: Fault): Promise<void> {
  void ctx.tell(s.args.network, { type: 'fault', id: source, kind: fault.kind, reason: `backfill: ${fault.reason}` });
  const sources = (await usable(s, ctx)).filter((x) => x.id !== source);
  const count = (s.from ?? start) - start;
  s.inFlight.delete(start);
  if (sources.length === 0 || count <= 0) {
    // nobody else: start again from the store's end a little later
    s.requestedFrom = s.from;
    for (const k of [...s.inFlight.keys()]) s.inFlight.delete(k);
    return retryLater(s, ctx);
  }
  fetchRange(s, ctx, { start, count: Math.min(count, s.args.batchSize) }, sources[s.turn++ % sources.length]!);
}

/** Store the ranges that arrived, newest first, while the next one below the store is there. */
async function storeReady(s: BackfillState, ctx: Ctx): Promise<void> {
  if (s.storing) return;
  s.storing = true;
  try {
    for (;;) {
      if (s.from === null || s.target === null || !s.child) return;
      const range = nextRange(s.from, s.target, s.args.batchSize);
      if (!range) return publish(s, ctx, true);
      const got = s.inFlight.get(range.start);
      if (!got) return;
      if (!got.blocks)
        return await refetch(s, ctx, range.start, got.source, got.fault ?? { kind: 'withheld', reason: 'no blocks' });
      let linked: ReturnType<typeof linkRange>;
      try {
        linked = linkRange(got.blocks, s.child, s.args.spec);
      } catch (e) {
        return await refetch(s, ctx, range.start, got.source, faultOf(e));
      }
      await ctx.ask(s.args.storage, { type: 'prepend', blocks: linked }, { timeoutMs: 60_000 });
      void ctx.tell(s.args.network, { type: 'success', id: got.source });
      s.inFlight.delete(range.start);
      s.from = range.start;
      s.child = got.blocks[0]!;
      const elapsed = (ctx.clock.now() - s.started!.at) / 1000;
      s.rate = elapsed > 0 ? (s.started!.from - s.from) / elapsed : 0;
      publish(s, ctx);
    }
  } finally {
    s.storing = false;
  }
}

export const BackfillActor = defineActor<BackfillMsg, BackfillReplies, BackfillArgs>({
  name: 'backfill',
  mailbox: { capacity: 1024, overflow: 'fail' },
  create(args) {
    const s: BackfillState = {
      args,
      from: null,
      child: undefined,
      target: null,
      inFlight: new Map(),
      requestedFrom: null,
      storing: false,
      turn: 0,
      timer: undefined,
      started: undefined,
      rate: 0,
      lastEvent: 0,
    };
    const stopTimer = (ctx: Ctx) => {
      if (s.timer) ctx.clock.clearTimer(s.timer);
      s.timer = undefined;
    };
    return {
      async started(ctx) {
        await ctx.self.tell({ type: 'step' });
      },
      stopped: stopTimer,
      preRestart: stopTimer,
      async handle(msg, ctx) {
        switch (msg.type) {
          case 'status':
            return {
              from: s.from,
              target: s.target,
              done: s.from !== null && s.target !== null && s.from <= s.target,
              rate: Math.round(s.rate * 10) / 10,
            };
          case 'step':
            if (s.from === null && !(await locate(s, ctx))) return retryLater(s, ctx);
            publish(s, ctx, true);
            await storeReady(s, ctx);
            return request(s, ctx);
          case 'fetched':
            if (!s.inFlight.has(msg.start)) return;
            s.inFlight.set(msg.start, {
              source: msg.source,
              ...(msg.blocks ? { blocks: msg.blocks } : {}),
              ...(msg.fault ? { fault: msg.fault } : {}),
            });
            await storeReady(s, ctx);
            return request(s, ctx);
        }
      },
    };
  },
});
