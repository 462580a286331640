/**
 * SyncActor: downloads blocks from the consensus sources in parallel ranges, hands them to the
 * verifier pool, and feeds the verified summaries to the ChainActor in height order; retries with
 * backoff from other sources, reports faults to the NetworkActor (which scores and bans), and
 * follows the head once caught up: by polling the sources, and by gossip, where a block the node
 * aggregated from `approve_block` gossip (src/protocol/candidates.ts) is imported straight away
 * (verified like any other; the sources fill any gap below it). It never awaits I/O inside a
 * handler: every network or pool result comes back as a message to itself, so the actor stays
 * responsive (and restartable).
 */
import { defineActor, type ActorContext } from '../../actors/actor.js';
import type { TimerHandle } from '../../actors/clock.js';
import type { Hex } from '../../protocol/bytes.js';
import { topicOf, type NodeEventMessage, type NodeEvents } from '../events.js';
import type { P2pHost } from '../network/p2p-host.js';
import { createConsensusRpcSource, SourceError } from '../sources/consensus-rpc.js';
import { peerBlockSource } from '../sources/peer.js';
import { rpcBlockSource, type BlockSource, type RawBlock } from '../sources/source.js';
import type { VerifyResult } from '../verify/verify-response.js';
import type { ImportItem } from '../workflows/block-import.js';
import type { SourceFault, SourceScore } from '../workflows/scores.js';
import { SyncPlan, type Request } from '../workflows/sync-plan.js';
import type { ChainMsg, ChainReplies } from './chain.js';
import type { VerifierMsg, VerifierReplies } from './verifier.js';

export interface SyncArgs {
  sources: string[];
  chain: string;
  network: string;
  verifierGroup: string;
  mode: 'full' | 'pow-checkpoint';
  batchSize: number;
  parallelism: number;
  requestTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  followIntervalMs: number;
  /** Failed attempts at one range before the sync reports itself stalled (it keeps retrying at the backoff cap). */
  retries: number;
  /** Concurrent HTTP requests per range (Alys's RPC has one block per request). */
  requestsPerRange?: number;
  fetch?: typeof fetch;
  /** Peers as sources too: every connected peer of `host`; `heights` holds what each last gossiped. */
  p2p?: { host: P2pHost; heights: Map<string, number> };
}

/** A SourceError's kind as the fault it costs the source. */
function faultOf(e: unknown): SourceFault {
  if (e instanceof SourceError)
    return e.kind === 'timeout' ? 'timeout' : e.kind === 'unusable' ? 'unusable' : 'network';
  return 'network';
}

type Ok = Extract<VerifyResult, { ok: true }>;

/** An orphan being resolved: its height, who served it, and the ancestors fetched so far (oldest first). */
export interface Orphan {
  height: number;
  source: string;
  /** The hash to fetch next (the oldest fetched block's parent). */
  want: Hex;
  ancestors: ImportItem[];
}

/** How far back an orphan's ancestors are fetched before its source is blamed. */
const MAX_ANCESTORS = 64;
/** The source id of blocks aggregated from gossip (not a NetworkActor source: it is never scored or banned). */
export const GOSSIP_SOURCE = 'gossip';
/** Gossip-aggregated blocks kept for import, at most. */
const MAX_GOSSIP_BLOCKS = 64;

export type SyncMsg =
  | { type: 'status' }
  | { type: 'refresh-heads' }
  /** A block whose gossiped approvals reached a majority (its msgpack, re-encoded with the aggregate). */
  | { type: 'gossip-block'; height: number; msgpack: Uint8Array }
  | {
      type: 'heads';
      heads: Array<{ id: string; height: number | null; fault?: { kind: SourceFault; reason: string } }>;
    }
  | { type: 'pump' }
  | {
      type: 'fetched';
      start: number;
      count: number;
      source: string;
      raws?: RawBlock[];
      fault?: { kind: SourceFault; reason: string };
    }
  | { type: 'verified'; start: number; source: string; results: VerifyResult[] }
  | { type: 'verify-failed'; start: number; source: string; reason: string }
  | { type: 'imported'; start: number; items: ImportItem[]; reply?: ChainReplies['import']; error?: string }
  /** Orphan resolution: an ancestor of the orphan at `height` arrived (or failed). */
  | { type: 'ancestor'; orphan: Orphan; result?: VerifyResult; fault?: { kind: SourceFault; reason: string } }
  | { type: 'ancestors-linked'; orphan: Orphan; outcome: 'linked' | 'unknown-parent' | 'error' }
  /** Hot reload: new sources and sync settings (in-flight requests finish under the old ones). */
  | { type: 'configure'; settings: SyncSettings };

/** The reloadable part of SyncArgs. */
export type SyncSettings = Pick<
  SyncArgs,
  | 'sources'
  | 'batchSize'
  | 'parallelism'
  | 'requestTimeoutMs'
  | 'retries'
  | 'backoffInitialMs'
  | 'backoffMaxMs'
  | 'followIntervalMs'
>;

export interface SyncStatus {
  phase: NodeEvents['sync']['phase'];
  current: number;
  target: number;
  rate: number;
  etaSeconds: number | null;
  inFlight: number;
  /** Why the sync is stalled (no usable source, or a range failed more than `retries` times). */
  detail?: string;
}

export interface SyncReplies {
  status: SyncStatus;
  'refresh-heads': void;
  'gossip-block': void;
  heads: void;
  pump: void;
  fetched: void;
  verified: void;
  'verify-failed': void;
  imported: void;
  configure: void;
  ancestor: void;
  'ancestors-linked': void;
}

export const SyncActor = defineActor<SyncMsg, SyncReplies, SyncArgs>({
  name: 'sync',
  mailbox: { capacity: 4096, overflow: 'fail' },
  create(args) {
    // `args` is the node's live settings object: a restarted actor starts from the current config
    const makeSource = (url: string): BlockSource =>
      rpcBlockSource(
        createConsensusRpcSource({
          url,
          timeoutMs: args.requestTimeoutMs,
          ...(args.fetch ? { fetch: args.fetch } : {}),
        }),
        () => args.requestsPerRange ?? 16,
      );
    const sources = new Map<string, BlockSource>(args.sources.map((url) => [url, makeSource(url)]));
    /** Connected peers become sources (and leave with their connection); scores live in the NetworkActor. */
    async function syncPeers(ctx: ActorContext<SyncMsg, SyncArgs>): Promise<void> {
      const p2p = args.p2p;
      if (!p2p) return;
      const connected = new Set(p2p.host.peers());
      for (const [id, src] of sources) if (src.kind === 'peer' && !connected.has(id)) sources.delete(id);
      for (const id of connected)
        if (!sources.has(id))
          sources.set(
            id,
            peerBlockSource(p2p.host, id, {
              timeoutMs: () => args.requestTimeoutMs,
              hint: () => p2p.heights.get(id) ?? 0,
            }),
          );
      await ctx.ask(args.network, { type: 'peers', peers: [...connected] });
    }
    let detail: string | undefined;
    /** Blocks aggregated from gossip, by height, until imported (or refused). */
    const gossiped = new Map<number, Uint8Array>();
    const claimed = new Map<string, number>();
    let plan: SyncPlan<Ok> | undefined;
    let importing = false;
    /** An orphan is being resolved: imports wait (the plan resumes at its height afterwards). */
    let resolving = false;
    let phase: SyncStatus['phase'] = 'starting';
    let rate = 0;
    let lastRateAt = 0;
    let lastRateHeight = 0;
    let lastEvent = 0;
    let rr = 0;
    const timers = new Set<TimerHandle>();
    let refreshing = false;
    /** A head refresh is running (not merely scheduled for the next follow interval). */
    let refreshInFlight = false;

    const later = (ctx: ActorContext<SyncMsg, SyncArgs>, ms: number, msg: SyncMsg) => {
      const t = ctx.clock.setTimer(() => {
        timers.delete(t);
        void ctx.self.tell(msg);
      }, ms);
      timers.add(t);
    };
    const clearTimers = (ctx: ActorContext<SyncMsg, SyncArgs>) => {
      for (const t of timers) ctx.clock.clearTimer(t);
      timers.clear();
    };

    function status(): SyncStatus {
      const current = plan ? plan.importFrom - 1 : 0;
      const target = plan ? Math.max(plan.targetHeight, current) : 0;
      const etaSeconds =
        rate > 0 && target > current ? Math.round((target - current) / rate) : target === current ? 0 : null;
      return {
        phase,
        current,
        target,
        rate: Math.round(rate * 10) / 10,
        etaSeconds,
        inFlight: plan?.inFlight ?? 0,
        ...(phase === 'stalled' && detail ? { detail } : {}),
      };
    }

    function publish(ctx: ActorContext<SyncMsg, SyncArgs>, force = false): void {
      const now = ctx.clock.now();
      if (!force && now - lastEvent < 250) return;
      lastEvent = now;
      const s = status();
      ctx.publish(topicOf('sync'), {
        type: 'event',
        name: 'sync',
        data: {
          phase: s.phase,
          current: s.current,
          target: s.target,
          rate: s.rate,
          etaSeconds: s.etaSeconds,
          ...(s.detail ? { detail: s.detail } : {}),
        },
      } satisfies NodeEventMessage<'sync'>);
    }

    function fault(ctx: ActorContext<SyncMsg, SyncArgs>, id: string, kind: SourceFault, reason: string): void {
      void ctx.tell(args.network, { type: 'fault', id, kind, reason });
    }

    async function pump(ctx: ActorContext<SyncMsg, SyncArgs>): Promise<void> {
      if (!plan) return;
      const usable = (await ctx.ask<SourceScore[]>(args.network, { type: 'usable' }))
        .map((s) => s.id)
        .filter((id) => sources.has(id));
      const now = ctx.clock.now();
      if (usable.length === 0) {
        phase = 'stalled';
        detail = sources.size
          ? 'every consensus source is banned or failing; retrying'
          : args.p2p
            ? 'no peer connected yet (the bootstrap peers are redialled)'
            : 'no consensus source configured';
        publish(ctx, true);
        later(ctx, args.backoffMaxMs / 4, { type: 'refresh-heads' });
        return;
      }
      for (const req of plan.take(now)) dispatch(ctx, req, usable);
      if (plan.worstAttempt > args.retries + 1 && phase !== 'stalled') {
        // the range keeps failing: say so (the node keeps trying, at the backoff cap)
        phase = 'stalled';
        detail = `a range failed ${plan.worstAttempt - 1} times (retries = ${args.retries}); still retrying`;
        publish(ctx, true);
      } else if (phase === 'stalled' && plan.worstAttempt <= args.retries + 1) phase = 'syncing';
      const retryAt = plan.nextRetryAt();
      if (retryAt !== undefined) later(ctx, Math.max(1, retryAt - now), { type: 'pump' });
      if (plan.caughtUp && plan.inFlight === 0 && !importing && phase !== 'following') {
        phase = 'following';
        publish(ctx, true);
      }
      if (plan.caughtUp && !refreshing) {
        refreshing = true;
        later(ctx, args.followIntervalMs, { type: 'refresh-heads' });
      }
    }

    function dispatch(ctx: ActorContext<SyncMsg, SyncArgs>, req: Request, usable: string[]): void {
      const end = req.start + req.count - 1;
      if (
        !req.avoid.includes(GOSSIP_SOURCE) &&
        Array.from({ length: req.count }, (_, i) => gossiped.has(req.start + i)).every(Boolean)
      ) {
        // the whole range came by gossip: no request at all
        const raws: RawBlock[] = Array.from({ length: req.count }, (_, i) => ({
          msgpack: gossiped.get(req.start + i)!,
        }));
        void ctx.self.tell({ type: 'fetched', start: req.start, count: req.count, source: GOSSIP_SOURCE, raws });
        return;
      }
      const candidates = usable.filter((id) => !req.avoid.includes(id) && (claimed.get(id) ?? -1) >= end);
      const pool = candidates.length ? candidates : usable;
      const id = pool[rr++ % pool.length]!;
      const source = sources.get(id)!;
      source.range(req.start, req.count).then(
        (raws) => void ctx.self.tell({ type: 'fetched', start: req.start, count: req.count, source: id, raws }),
        (e: unknown) =>
          void ctx.self.tell({
            type: 'fetched',
            start: req.start,
            count: req.count,
            source: id,
            fault: { kind: faultOf(e), reason: (e as Error).message },
          }),
      );
    }

    function drain(ctx: ActorContext<SyncMsg, SyncArgs>): void {
      if (!plan || importing || resolving) return;
      const ready = plan.takeReady();
      if (!ready) return;
      importing = true;
      const items: ImportItem[] = ready.items.map((r) => ({ summary: r.summary, block: r.block, source: r.source }));
      const atTip = ready.start + items.length - 1 >= plan.targetHeight;
      ctx
        .ask<ChainReplies['import'], ChainMsg>(args.chain, { type: 'import', items, atTip }, { timeoutMs: 120_000 })
        .then(
          (reply) => void ctx.self.tell({ type: 'imported', start: ready.start, items, reply }),
          (e: Error) => void ctx.self.tell({ type: 'imported', start: ready.start, items, error: e.message }),
        );
    }

    /** Fetch the next ancestor of an orphan from the source that served it, verified in full. */
    function fetchAncestor(ctx: ActorContext<SyncMsg, SyncArgs>, orphan: Orphan): void {
      const source = sources.get(orphan.source);
      if (!source) {
        void ctx.self.tell({
          type: 'ancestor',
          orphan,
          fault: { kind: 'network', reason: 'the source was removed from the config' },
        });
        return;
      }
      const height = orphan.height - 1 - orphan.ancestors.length;
      source.byHash(orphan.want, height).then(
        (raw) =>
          ctx
            .askGroup<VerifierReplies['verify'], VerifierMsg>(
              args.verifierGroup,
              { type: 'verify', items: [{ source: orphan.source, ...raw, expectHash: orphan.want }], approvals: true },
              { timeoutMs: 60_000 },
            )
            .then(
              ([result]) => void ctx.self.tell({ type: 'ancestor', orphan, result: result! }),
              (e: Error) =>
                void ctx.self.tell({
                  type: 'ancestor',
                  orphan,
                  fault: { kind: 'network', reason: `verifier pool: ${e.message}` },
                }),
            ),
        (e: unknown) =>
          void ctx.self.tell({ type: 'ancestor', orphan, fault: { kind: faultOf(e), reason: (e as Error).message } }),
      );
    }

    /** Orphan resolution is over: resume the sync at the orphan's height (avoiding `blame` if given). */
    async function resolved(
      ctx: ActorContext<SyncMsg, SyncArgs>,
      orphan: Orphan,
      blame?: { kind: SourceFault; reason: string },
    ): Promise<void> {
      resolving = false;
      if (blame) fault(ctx, orphan.source, blame.kind, blame.reason);
      plan?.rewind(orphan.height, blame ? orphan.source : undefined, ctx.clock.now());
      await pump(ctx);
    }

    return {
      async started(ctx) {
        const status = await ctx.ask<ChainReplies['status']>(args.chain, { type: 'status' });
        plan = new SyncPlan<Ok>(
          {
            batchSize: args.batchSize,
            parallelism: args.parallelism,
            backoffInitialMs: args.backoffInitialMs,
            backoffMaxMs: args.backoffMaxMs,
          },
          status.importedHead + 1,
        );
        lastRateHeight = status.importedHead;
        lastRateAt = ctx.clock.now();
        await ctx.self.tell({ type: 'refresh-heads' });
      },
      stopped(ctx) {
        clearTimers(ctx);
      },
      preRestart(ctx) {
        clearTimers(ctx);
      },
      async handle(msg, ctx) {
        switch (msg.type) {
          case 'status':
            return status();
          case 'ancestor': {
            const { orphan } = msg;
            if (msg.fault) return resolved(ctx, orphan, msg.fault);
            const r = msg.result!;
            if (!r.ok)
              return resolved(ctx, orphan, {
                kind: r.kind === 'missing' ? 'withheld' : r.kind,
                reason: `ancestor ${orphan.want} of orphan block ${orphan.height}: ${r.check ? `${r.check}: ` : ''}${r.message}`,
              });
            const next: Orphan = {
              ...orphan,
              want: r.summary.parentHash,
              ancestors: [{ summary: r.summary, block: r.block, source: r.source }, ...orphan.ancestors],
            };
            ctx
              .ask<ChainReplies['fork-blocks'], ChainMsg>(
                args.chain,
                { type: 'fork-blocks', items: next.ancestors },
                { timeoutMs: 60_000 },
              )
              .then(
                (outcome) => void ctx.self.tell({ type: 'ancestors-linked', orphan: next, outcome }),
                () => void ctx.self.tell({ type: 'ancestors-linked', orphan: next, outcome: 'error' }),
              );
            return;
          }
          case 'ancestors-linked': {
            const { orphan } = msg;
            if (msg.outcome === 'linked') return resolved(ctx, orphan); // the orphan is on a fork we now know: import it again
            if (msg.outcome === 'error') return resolved(ctx, orphan); // our own actor failed: retry, blame nobody
            if (orphan.ancestors.length >= MAX_ANCESTORS)
              return resolved(ctx, orphan, {
                kind: 'invalid',
                reason: `orphan block ${orphan.height}: no ancestor within ${MAX_ANCESTORS} blocks links to our chain`,
              });
            fetchAncestor(ctx, orphan);
            return;
          }
          case 'configure': {
            const next = msg.settings;
            for (const [url, src] of [...sources])
              if (src.kind === 'rpc' && !next.sources.includes(url)) sources.delete(url);
            const timeoutChanged = next.requestTimeoutMs !== args.requestTimeoutMs;
            Object.assign(args, next);
            for (const url of next.sources) if (!sources.has(url) || timeoutChanged) sources.set(url, makeSource(url));
            for (const id of [...claimed.keys()]) if (!sources.has(id)) claimed.delete(id);
            plan?.configure({
              batchSize: args.batchSize,
              parallelism: args.parallelism,
              backoffInitialMs: args.backoffInitialMs,
              backoffMaxMs: args.backoffMaxMs,
            });
            if (!refreshing) await ctx.self.tell({ type: 'refresh-heads' });
            return;
          }
          case 'gossip-block': {
            if (!plan || msg.height < plan.importFrom) return;
            gossiped.set(msg.height, msg.msgpack);
            for (const h of gossiped.keys())
              if (h < plan.importFrom || gossiped.size > MAX_GOSSIP_BLOCKS) gossiped.delete(h);
            // heights below it that gossip did not bring are requested from the sources like any range
            if (msg.height > plan.targetHeight) plan.setTarget(msg.height);
            if (phase === 'following') phase = 'syncing';
            await pump(ctx);
            return;
          }
          case 'refresh-heads': {
            refreshing = true;
            refreshInFlight = true;
            await syncPeers(ctx);
            const usable = (await ctx.ask<SourceScore[]>(args.network, { type: 'usable' }))
              .map((s) => s.id)
              .filter((id) => sources.has(id));
            Promise.all(
              usable.map((id) =>
                sources
                  .get(id)!
                  .headHeight()
                  .then(
                    (height) => ({ id, height }),
                    (e: Error) => ({ id, height: null, fault: { kind: faultOf(e), reason: e.message } }),
                  ),
              ),
            ).then((heads) => void ctx.self.tell({ type: 'heads', heads }));
            if (usable.length === 0) later(ctx, args.followIntervalMs, { type: 'refresh-heads' });
            return;
          }
          case 'heads': {
            refreshing = false;
            refreshInFlight = false;
            const heights: number[] = [];
            for (const h of msg.heads) {
              if (h.fault) fault(ctx, h.id, h.fault.kind, h.fault.reason);
              if (h.height !== null) {
                claimed.set(h.id, h.height);
                heights.push(h.height);
              }
            }
            // The highest claim of the usable sources: claiming a head it cannot serve costs a source its
            // score (a withheld block), after which its claim no longer counts; claiming a low head
            // cannot hold the node back.
            if (heights.length && plan) plan.setTarget(Math.max(...heights));
            if (plan && !plan.caughtUp && phase !== 'syncing') phase = 'syncing';
            publish(ctx, true);
            await pump(ctx);
            return;
          }
          case 'pump':
            await pump(ctx);
            return;
          case 'fetched': {
            if (!plan) return;
            if (msg.fault || !msg.raws) {
              fault(ctx, msg.source, msg.fault!.kind, msg.fault!.reason);
              plan.failed(msg.start, msg.source, ctx.clock.now());
              await pump(ctx);
              return;
            }
            const items = msg.raws.map((raw, i) => ({ source: msg.source, ...raw, expectHeight: msg.start + i }));
            ctx
              .askGroup<VerifierReplies['verify'], VerifierMsg>(
                args.verifierGroup,
                { type: 'verify', items, approvals: args.mode === 'full' },
                { timeoutMs: 120_000 },
              )
              .then(
                (results) => void ctx.self.tell({ type: 'verified', start: msg.start, source: msg.source, results }),
                (e: Error) =>
                  void ctx.self.tell({
                    type: 'verify-failed',
                    start: msg.start,
                    source: msg.source,
                    reason: e.message,
                  }),
              );
            return;
          }
          case 'verify-failed':
            // the pool itself failed (a crashed worker): not the source's fault; retry
            plan?.failed(msg.start, undefined, ctx.clock.now());
            await pump(ctx);
            return;
          case 'verified': {
            if (!plan) return;
            const bad = msg.results.find((r) => !r.ok) as Extract<VerifyResult, { ok: false }> | undefined;
            if (bad) {
              const index = msg.results.indexOf(bad);
              const height = msg.start + index;
              const beyondItsHead = bad.kind === 'missing' && height > (claimed.get(msg.source) ?? -1);
              if (msg.source === GOSSIP_SOURCE) gossiped.delete(height);
              else if (!beyondItsHead)
                fault(
                  ctx,
                  msg.source,
                  bad.kind === 'missing' ? 'withheld' : bad.kind,
                  `block ${height}: ${bad.check ? `${bad.check}: ` : ''}${bad.message}`,
                );
              plan.failed(msg.start, msg.source, ctx.clock.now());
            } else plan.done(msg.start, msg.results as Ok[]);
            drain(ctx);
            await pump(ctx);
            return;
          }
          case 'imported': {
            importing = false;
            if (!plan) return;
            const now = ctx.clock.now();
            if (msg.error || !msg.reply) {
              plan.rewind(msg.start, undefined, now);
            } else if (msg.reply.failure) {
              const f = msg.reply.failure;
              if (f.resumeAt !== undefined) {
                // the chain is elsewhere (it restarted from storage, or we did): follow it
                plan.rewind(f.resumeAt, undefined, now);
              } else if (f.rewindTo !== undefined) {
                // a dispute: one of our pending blocks was bad (its source lied); it was dropped
                fault(ctx, f.source, 'invalid', `block ${f.rewindTo}: ${f.check}: ${f.message}`);
                plan.rewind(f.rewindTo, f.source, now);
              } else if (f.orphan) {
                // the parent is unknown: fetch its ancestors from the same source before blaming it
                plan.imported(f.index);
                resolving = true;
                fetchAncestor(ctx, {
                  height: f.orphan.number,
                  source: f.source,
                  want: f.orphan.parentHash,
                  ancestors: [],
                });
              } else {
                plan.imported(f.index);
                fault(ctx, f.source, 'invalid', `block ${msg.start + f.index}: ${f.check}: ${f.message}`);
                plan.rewind(msg.start + f.index, f.source, now);
              }
            } else {
              plan.imported(msg.items.length);
              for (const s of new Set(msg.items.map((i) => i.source)))
                if (s !== GOSSIP_SOURCE) void ctx.tell(args.network, { type: 'success', id: s });
              for (const h of gossiped.keys()) if (h < plan.importFrom) gossiped.delete(h);
            }
            const height = plan.importFrom - 1;
            if (now > lastRateAt) {
              const inst = ((height - lastRateHeight) * 1000) / (now - lastRateAt);
              rate = rate === 0 ? inst : rate * 0.8 + inst * 0.2;
              lastRateAt = now;
              lastRateHeight = height;
            }
            if (!plan.caughtUp) phase = 'syncing';
            publish(ctx, plan.caughtUp);
            drain(ctx);
            await pump(ctx);
            return;
          }
        }
      },
    };
  },
});
