/**
 * SyncActor: downloads blocks from the consensus sources in parallel ranges, hands them to the
 * verifier pool, and feeds the verified summaries to the ChainActor in height order; retries with
 * backoff from other sources, reports faults to the NetworkActor (which scores and bans), and
 * follows the head once caught up: by polling the sources, and by gossip, where a block the node
 * aggregated from `approve_block` gossip (src/protocol/candidates.ts) is imported straight away
 * (verified like any other; the sources fill any gap below it). Block fetches and verifier-pool
 * results never block a handler: they come back as messages to itself, so the actor stays responsive
 * (and restartable); a handler awaits only quick asks to local actors (the NetworkActor's usable
 * sources and peers).
 */
import { defineActor, type ActorContext } from '../../actors/actor.js';
import type { TimerHandle } from '../../actors/clock.js';
import { topicOf, type NodeEventMessage } from '../events.js';
import type { P2pHostApi } from '../network/p2p-host.js';
import { createConsensusRpcSource, SourceError, sourceFaultKind } from '../sources/consensus-rpc.js';
import { peerBlockSource } from '../sources/peer.js';
import { rpcBlockSource, type BlockSource, type RawBlock } from '../sources/source.js';
import type { VerifyResult } from '../verify/verify-response.js';
import type { ImportItem } from '../workflows/block-import.js';
import { addAncestor, afterLinking, wantedHeight, type Orphan } from '../workflows/orphan.js';
import type { FaultReport, SourceScore } from '../workflows/scores.js';
import { GOSSIP_SOURCE, gossipedRange, importStep, judgeRange, pickSource } from '../workflows/sync-outcomes.js';
import { SyncPlan, type Request, type SyncPlanOptions } from '../workflows/sync-plan.js';
import {
  measureRate,
  noSourceReason,
  phaseAfterRetries,
  startRate,
  syncStatus,
  type ImportRate,
  type SyncPhase,
  type SyncStatus,
} from '../workflows/sync-progress.js';
import type { ChainMsg, ChainReplies } from './chain.js';
import type { VerifierMsg, VerifierReplies } from './verifier.js';

export { GOSSIP_SOURCE, type Orphan, type SyncStatus };

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
  /** Cap on one consensus RPC response body (bytes). */
  maxResponseBytes: number;
  /** Failed attempts at one range before the sync reports itself stalled (it keeps retrying at the backoff cap). */
  retries: number;
  /** Concurrent HTTP requests per range (Alys's RPC has one block per request). */
  requestsPerRange?: number;
  fetch?: typeof fetch;
  /** Peers as sources too: every connected peer of `host`; `heights` holds what each last gossiped. */
  p2p?: { host: P2pHostApi; heights: Map<string, number> };
}

export type SyncMsg =
  | { type: 'status' }
  | { type: 'refresh-heads' }
  /** A block whose gossiped approvals reached a majority (its msgpack, re-encoded with the aggregate). */
  | { type: 'gossip-block'; height: number; msgpack: Uint8Array }
  | {
      type: 'heads';
      heads: Array<{ id: string; height: number | null; fault?: FaultReport }>;
    }
  | { type: 'pump' }
  | {
      type: 'fetched';
      start: number;
      count: number;
      source: string;
      raws?: RawBlock[];
      fault?: FaultReport;
    }
  | { type: 'verified'; start: number; source: string; results: VerifyResult[] }
  | { type: 'verify-failed'; start: number; source: string; reason: string }
  | { type: 'imported'; start: number; items: ImportItem[]; reply?: ChainReplies['import']; error?: string }
  /** Orphan resolution: an ancestor of the orphan at `height` arrived (or failed). */
  | { type: 'ancestor'; orphan: Orphan; result?: VerifyResult; fault?: FaultReport }
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

/** A failed source request as the fault it costs the source: a timeout, an unusable answer, else a network fault. */
function faultOfError(e: unknown): FaultReport {
  const reason = (e as Error).message;
  return { kind: e instanceof SourceError ? sourceFaultKind(e) : 'network', reason };
}

type Ok = Extract<VerifyResult, { ok: true }>;

/** Gossip-aggregated blocks kept for import, at most. */
const MAX_GOSSIP_BLOCKS = 64;

/** A SyncActor context (what every handler below gets). */
type SyncCtx = ActorContext<SyncMsg, SyncArgs>;
type MsgOf<T extends SyncMsg['type']> = Extract<SyncMsg, { type: T }>;

/**
 * Everything the SyncActor keeps between messages, in one object its handlers share (a restart
 * builds a fresh one, as in OTP).
 */
interface SyncState {
  /** The node's live settings object: a restarted actor starts from the current config. */
  readonly args: SyncArgs;
  /** The consensus sources by id: RPC endpoints by URL, connected peers by peer id. */
  readonly sources: Map<string, BlockSource>;
  /** Blocks aggregated from gossip, by height, until imported (or refused). */
  readonly gossiped: Map<number, Uint8Array>;
  /** The head height each source last claimed. */
  readonly claimed: Map<string, number>;
  /** Pending timers (cleared on stop and restart). */
  readonly timers: Set<TimerHandle>;
  /** Undefined until `started` asked the ChainActor where its chain is. */
  plan: SyncPlan<Ok> | undefined;
  /** A batch is with the ChainActor (one at a time, in height order). */
  importing: boolean;
  /** An orphan is being resolved: imports wait (the plan resumes at its height afterwards). */
  resolving: boolean;
  /** A head refresh is running or scheduled: `pump` and `configure` then start no other one. */
  refreshing: boolean;
  /**
   * Range requests on the wire, answered or not yet: the plan forgets a range on a rewind or a lowered
   * target while its request is still out, so new ones are bounded by this count too (`parallelism`).
   */
  outstanding: number;
  /** When the scheduled `pump` timer fires (undefined: none scheduled). */
  pumpAt: number | undefined;
  phase: SyncPhase;
  /** Why the sync is stalled (reported while `phase` is 'stalled'). */
  detail: string | undefined;
  rate: ImportRate;
  /** When the last progress event went out (they are throttled). */
  lastEvent: number;
  /** Round-robin turn for picking a source. */
  turn: number;
}

function initialState(args: SyncArgs): SyncState {
  return {
    args,
    sources: new Map(args.sources.map((url) => [url, rpcSource(args, url)])),
    gossiped: new Map(),
    claimed: new Map(),
    timers: new Set(),
    plan: undefined,
    importing: false,
    resolving: false,
    refreshing: false,
    pumpAt: undefined,
    outstanding: 0,
    phase: 'starting',
    detail: undefined,
    rate: startRate(0, 0),
    lastEvent: 0,
    turn: 0,
  };
}

function rpcSource(args: SyncArgs, url: string): BlockSource {
  return rpcBlockSource(
    createConsensusRpcSource({
      url,
      timeoutMs: args.requestTimeoutMs,
      maxResponseBytes: args.maxResponseBytes,
      ...(args.fetch ? { fetch: args.fetch } : {}),
    }),
    () => args.requestsPerRange ?? 16,
  );
}

function planOptions(args: SyncArgs): SyncPlanOptions {
  return {
    batchSize: args.batchSize,
    parallelism: args.parallelism,
    backoffInitialMs: args.backoffInitialMs,
    backoffMaxMs: args.backoffMaxMs,
  };
}

// ---- effects: timers, events, reports to the NetworkActor ----

/** Send `msg` to ourselves after `ms`. */
function later(s: SyncState, ctx: SyncCtx, ms: number, msg: SyncMsg): void {
  const t = ctx.clock.setTimer(() => {
    s.timers.delete(t);
    void ctx.self.tell(msg);
  }, ms);
  s.timers.add(t);
}

/**
 * One head refresh after `ms`, unless one is already scheduled or running: there is never more than
 * one. (Each refresh used to be able to schedule two more while stalled, so they doubled every
 * interval; a ban's end then sent thousands of head requests at once.)
 */
function scheduleRefresh(s: SyncState, ctx: SyncCtx, ms: number): void {
  if (s.refreshing) return;
  s.refreshing = true;
  later(s, ctx, ms, { type: 'refresh-heads' });
}

/** A `pump` at `at`, unless one is already due no later: one timer per retry time, not one per message. */
function schedulePump(s: SyncState, ctx: SyncCtx, at: number): void {
  if (s.pumpAt !== undefined && s.pumpAt <= at) return;
  s.pumpAt = at;
  later(s, ctx, Math.max(1, at - ctx.clock.now()), { type: 'pump' });
}

function clearTimers(s: SyncState, ctx: SyncCtx): void {
  for (const t of s.timers) ctx.clock.clearTimer(t);
  s.timers.clear();
  s.pumpAt = undefined;
  s.refreshing = false;
}

function statusOf(s: SyncState): SyncStatus {
  return syncStatus(s.plan, s.phase, s.rate.perSecond, s.detail);
}

/** Publish a `sync` event: at most one per 250 ms unless `force`. */
function publish(s: SyncState, ctx: SyncCtx, force = false): void {
  const now = ctx.clock.now();
  if (!force && now - s.lastEvent < 250) return;
  s.lastEvent = now;
  const st = statusOf(s);
  ctx.publish(topicOf('sync'), {
    type: 'event',
    name: 'sync',
    data: {
      phase: st.phase,
      current: st.current,
      target: st.target,
      rate: st.rate,
      etaSeconds: st.etaSeconds,
      ...(st.detail ? { detail: st.detail } : {}),
    },
  } satisfies NodeEventMessage<'sync'>);
}

function reportFault(s: SyncState, ctx: SyncCtx, id: string, f: FaultReport): void {
  void ctx.tell(s.args.network, { type: 'fault', id, kind: f.kind, reason: f.reason });
}

/** The ids of the sources the NetworkActor considers usable now (best first). */
async function usableSources(s: SyncState, ctx: SyncCtx): Promise<string[]> {
  return (await ctx.ask<SourceScore[]>(s.args.network, { type: 'usable' }))
    .map((score) => score.id)
    .filter((id) => s.sources.has(id));
}

/** Connected peers become sources (and leave with their connection); scores live in the NetworkActor. */
async function syncPeers(s: SyncState, ctx: SyncCtx): Promise<void> {
  const p2p = s.args.p2p;
  if (!p2p) return;
  const connected = new Set(p2p.host.peers());
  for (const [id, src] of s.sources) if (src.kind === 'peer' && !connected.has(id)) s.sources.delete(id);
  for (const id of connected)
    if (!s.sources.has(id))
      s.sources.set(
        id,
        peerBlockSource(p2p.host, id, {
          timeoutMs: () => s.args.requestTimeoutMs,
          hint: () => p2p.heights.get(id) ?? 0,
        }),
      );
  await ctx.ask(s.args.network, { type: 'peers', peers: [...connected] });
}

// ---- the download loop: request ranges, hand verified batches to the chain in order ----

/** Request what the plan says is due, update the phase, and schedule the next retry or head refresh. */
async function pump(s: SyncState, ctx: SyncCtx): Promise<void> {
  const plan = s.plan;
  if (!plan) return;
  const usable = await usableSources(s, ctx);
  const now = ctx.clock.now();
  if (usable.length === 0) {
    s.phase = 'stalled';
    s.detail = noSourceReason(s.sources.size, s.args.p2p !== undefined);
    publish(s, ctx, true);
    // keep looking (peers connect, bans end), at the pace of following
    scheduleRefresh(s, ctx, Math.min(s.args.followIntervalMs, s.args.backoffMaxMs / 4));
    return;
  }
  for (const req of plan.take(now, s.args.parallelism - s.outstanding)) request(s, ctx, req, usable);
  const next = phaseAfterRetries(s.phase, plan.worstAttempt, s.args.retries);
  s.phase = next.phase;
  if (next.stalledBecause) {
    // the range keeps failing: say so (the node keeps trying, at the backoff cap)
    s.detail = next.stalledBecause;
    publish(s, ctx, true);
  }
  // a retry already due but not taken has no free slot: the answer that frees one pumps again
  const retryAt = plan.nextRetryAt();
  if (retryAt !== undefined && retryAt > now) schedulePump(s, ctx, retryAt);
  if (plan.caughtUp && plan.inFlight === 0 && !s.importing && s.phase !== 'following') {
    s.phase = 'following';
    publish(s, ctx, true);
  }
  if (plan.caughtUp) scheduleRefresh(s, ctx, s.args.followIntervalMs);
}

/** Fetch one range (from gossip if it brought the whole range); the answer comes back as `fetched`. */
function request(s: SyncState, ctx: SyncCtx, req: Request, usable: string[]): void {
  const { start, count } = req;
  const fromGossip = gossipedRange(req, s.gossiped);
  if (fromGossip) {
    void ctx.self.tell({ type: 'fetched', start, count, source: GOSSIP_SOURCE, raws: fromGossip });
    return;
  }
  const id = pickSource(req, usable, s.claimed, s.turn++);
  s.outstanding++;
  s.sources
    .get(id)!
    .range(start, count)
    .finally(() => s.outstanding--)
    .then(
      (raws) => void ctx.self.tell({ type: 'fetched', start, count, source: id, raws }),
      (e: unknown) => void ctx.self.tell({ type: 'fetched', start, count, source: id, fault: faultOfError(e) }),
    );
}

/** Hand the next in-order verified batch to the ChainActor (one at a time; none while an orphan is resolved). */
function importNext(s: SyncState, ctx: SyncCtx): void {
  const plan = s.plan;
  if (!plan || s.importing || s.resolving) return;
  const ready = plan.takeReady();
  if (!ready) return;
  s.importing = true;
  const items: ImportItem[] = ready.items.map((r) => ({ summary: r.summary, block: r.block, source: r.source }));
  const atTip = ready.start + items.length - 1 >= plan.targetHeight;
  ctx
    .ask<ChainReplies['import'], ChainMsg>(s.args.chain, { type: 'import', items, atTip }, { timeoutMs: 120_000 })
    .then(
      (reply) => void ctx.self.tell({ type: 'imported', start: ready.start, items, reply }),
      (e: Error) => void ctx.self.tell({ type: 'imported', start: ready.start, items, error: e.message }),
    );
}

// ---- orphan resolution (decisions in workflows/orphan.ts) ----

/** Fetch the next ancestor of an orphan from the source that served it, verified in full. */
function fetchAncestor(s: SyncState, ctx: SyncCtx, orphan: Orphan): void {
  const source = s.sources.get(orphan.source);
  if (!source) {
    void ctx.self.tell({
      type: 'ancestor',
      orphan,
      fault: { kind: 'network', reason: 'the source was removed from the config' },
    });
    return;
  }
  source.byHash(orphan.want, wantedHeight(orphan)).then(
    (raw) =>
      ctx
        .askGroup<VerifierReplies['verify'], VerifierMsg>(
          s.args.verifierGroup,
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
    (e: unknown) => void ctx.self.tell({ type: 'ancestor', orphan, fault: faultOfError(e) }),
  );
}

/** Orphan resolution is over: resume the sync at the orphan's height (avoiding its source if blamed). */
async function resolved(s: SyncState, ctx: SyncCtx, orphan: Orphan, blame?: FaultReport): Promise<void> {
  s.resolving = false;
  if (blame) reportFault(s, ctx, orphan.source, blame);
  s.plan?.rewind(orphan.height, blame ? orphan.source : undefined, ctx.clock.now());
  await pump(s, ctx);
}

async function onAncestor(s: SyncState, ctx: SyncCtx, msg: MsgOf<'ancestor'>): Promise<void> {
  if (msg.fault) return resolved(s, ctx, msg.orphan, msg.fault);
  const step = addAncestor(msg.orphan, msg.result!);
  if ('blame' in step) return resolved(s, ctx, msg.orphan, step.blame);
  const next = step.next;
  ctx
    .ask<ChainReplies['fork-blocks'], ChainMsg>(
      s.args.chain,
      { type: 'fork-blocks', items: next.ancestors },
      { timeoutMs: 60_000 },
    )
    .then(
      (outcome) => void ctx.self.tell({ type: 'ancestors-linked', orphan: next, outcome }),
      () => void ctx.self.tell({ type: 'ancestors-linked', orphan: next, outcome: 'error' }),
    );
}

async function onAncestorsLinked(s: SyncState, ctx: SyncCtx, msg: MsgOf<'ancestors-linked'>): Promise<void> {
  const step = afterLinking(msg.orphan, msg.outcome);
  if (step.resume) return resolved(s, ctx, msg.orphan, step.blame);
  fetchAncestor(s, ctx, msg.orphan);
}

// ---- heads, gossip and configuration ----

async function onConfigure(s: SyncState, ctx: SyncCtx, msg: MsgOf<'configure'>): Promise<void> {
  const { args, sources } = s;
  const next = msg.settings;
  for (const [url, src] of [...sources]) if (src.kind === 'rpc' && !next.sources.includes(url)) sources.delete(url);
  const timeoutChanged = next.requestTimeoutMs !== args.requestTimeoutMs;
  Object.assign(args, next);
  for (const url of next.sources) if (!sources.has(url) || timeoutChanged) sources.set(url, rpcSource(args, url));
  for (const id of [...s.claimed.keys()]) if (!sources.has(id)) s.claimed.delete(id);
  s.plan?.configure(planOptions(args));
  if (!s.refreshing) {
    s.refreshing = true;
    await ctx.self.tell({ type: 'refresh-heads' });
  }
}

async function onGossipBlock(s: SyncState, ctx: SyncCtx, msg: MsgOf<'gossip-block'>): Promise<void> {
  const plan = s.plan;
  if (!plan || msg.height < plan.importFrom) return;
  s.gossiped.set(msg.height, msg.msgpack);
  for (const h of s.gossiped.keys())
    if (h < plan.importFrom || s.gossiped.size > MAX_GOSSIP_BLOCKS) s.gossiped.delete(h);
  // heights below it that gossip did not bring are requested from the sources like any range
  if (msg.height > plan.targetHeight) plan.setTarget(msg.height);
  if (s.phase === 'following') s.phase = 'syncing';
  await pump(s, ctx);
}

/** Ask every usable source for its head; the answers come back together as `heads`. */
async function onRefreshHeads(s: SyncState, ctx: SyncCtx): Promise<void> {
  s.refreshing = true;
  await syncPeers(s, ctx);
  const usable = await usableSources(s, ctx);
  void Promise.all(
    usable.map((id) =>
      s.sources
        .get(id)!
        .headHeight()
        .then(
          (height) => ({ id, height }),
          (e: Error) => ({ id, height: null, fault: faultOfError(e) }),
        ),
    ),
  ).then((heads) => void ctx.self.tell({ type: 'heads', heads }));
  // with no usable source the (empty) answer goes through `heads` to `pump`, which schedules the next
}

async function onHeads(s: SyncState, ctx: SyncCtx, msg: MsgOf<'heads'>): Promise<void> {
  s.refreshing = false;
  const heights: number[] = [];
  for (const h of msg.heads) {
    if (h.fault) reportFault(s, ctx, h.id, h.fault);
    if (h.height !== null) {
      s.claimed.set(h.id, h.height);
      heights.push(h.height);
    }
  }
  // The highest claim of the usable sources: claiming a head it cannot serve costs a source its
  // score (a withheld block), after which its claim no longer counts; claiming a low head
  // cannot hold the node back.
  if (heights.length && s.plan) s.plan.setTarget(Math.max(...heights));
  if (s.plan && !s.plan.caughtUp && s.phase !== 'syncing') s.phase = 'syncing';
  publish(s, ctx, true);
  await pump(s, ctx);
}

// ---- a range's way through: fetched, verified, imported ----

/** A range arrived (or failed): have the verifier pool check it; the answer comes back as `verified`. */
async function onFetched(s: SyncState, ctx: SyncCtx, msg: MsgOf<'fetched'>): Promise<void> {
  const plan = s.plan;
  if (!plan) return;
  const { start, source } = msg;
  if (msg.fault || !msg.raws) {
    reportFault(s, ctx, source, msg.fault!);
    plan.failed(start, source, ctx.clock.now());
    await pump(s, ctx);
    return;
  }
  const items = msg.raws.map((raw, i) => ({ source, ...raw, expectHeight: start + i }));
  ctx
    .askGroup<VerifierReplies['verify'], VerifierMsg>(
      s.args.verifierGroup,
      { type: 'verify', items, approvals: s.args.mode === 'full' },
      { timeoutMs: 120_000 },
    )
    .then(
      (results) => void ctx.self.tell({ type: 'verified', start, source, results }),
      (e: Error) => void ctx.self.tell({ type: 'verify-failed', start, source, reason: e.message }),
    );
}

async function onVerified(s: SyncState, ctx: SyncCtx, msg: MsgOf<'verified'>): Promise<void> {
  const plan = s.plan;
  if (!plan) return;
  const verdict = judgeRange(msg.start, msg.source, msg.results, s.claimed);
  if (verdict.ok) plan.done(msg.start, verdict.blocks);
  else {
    if (msg.source === GOSSIP_SOURCE) s.gossiped.delete(verdict.height);
    else if (verdict.fault) reportFault(s, ctx, msg.source, verdict.fault);
    plan.failed(msg.start, msg.source, ctx.clock.now());
  }
  importNext(s, ctx);
  await pump(s, ctx);
}

async function onImported(s: SyncState, ctx: SyncCtx, msg: MsgOf<'imported'>): Promise<void> {
  s.importing = false;
  const plan = s.plan;
  if (!plan) return;
  const now = ctx.clock.now();
  const step = importStep(msg.start, msg.items, msg.error ? undefined : msg.reply);
  plan.imported(step.imported);
  if (step.kind === 'rewind') {
    if (step.blame) reportFault(s, ctx, step.blame.source, step.blame.fault);
    plan.rewind(step.at, step.blame?.source, now);
  } else if (step.kind === 'orphan') {
    s.resolving = true;
    fetchAncestor(s, ctx, step.orphan);
  } else {
    for (const id of step.sources) void ctx.tell(s.args.network, { type: 'success', id });
    for (const h of s.gossiped.keys()) if (h < plan.importFrom) s.gossiped.delete(h);
  }
  s.rate = measureRate(s.rate, plan.importFrom - 1, now);
  if (!plan.caughtUp) s.phase = 'syncing';
  publish(s, ctx, plan.caughtUp);
  importNext(s, ctx);
  await pump(s, ctx);
}

export const SyncActor = defineActor<SyncMsg, SyncReplies, SyncArgs>({
  name: 'sync',
  mailbox: { capacity: 4096, overflow: 'fail' },
  create(args) {
    const s = initialState(args);
    return {
      async started(ctx) {
        const chain = await ctx.ask<ChainReplies['status']>(args.chain, { type: 'status' });
        s.plan = new SyncPlan<Ok>(planOptions(args), chain.importedHead + 1);
        s.rate = startRate(chain.importedHead, ctx.clock.now());
        await ctx.self.tell({ type: 'refresh-heads' });
      },
      stopped(ctx) {
        clearTimers(s, ctx);
      },
      preRestart(ctx) {
        clearTimers(s, ctx);
      },
      async handle(msg, ctx) {
        switch (msg.type) {
          case 'status':
            return statusOf(s);
          case 'ancestor':
            return onAncestor(s, ctx, msg);
          case 'ancestors-linked':
            return onAncestorsLinked(s, ctx, msg);
          case 'configure':
            return onConfigure(s, ctx, msg);
          case 'gossip-block':
            return onGossipBlock(s, ctx, msg);
          case 'refresh-heads':
            return onRefreshHeads(s, ctx);
          case 'heads':
            return onHeads(s, ctx, msg);
          case 'pump':
            s.pumpAt = undefined;
            return pump(s, ctx);
          case 'fetched':
            return onFetched(s, ctx, msg);
          case 'verify-failed':
            // the pool itself failed (a crashed worker): not the source's fault; retry
            s.plan?.failed(msg.start, undefined, ctx.clock.now());
            return pump(s, ctx);
          case 'verified':
            return onVerified(s, ctx, msg);
          case 'imported':
            return onImported(s, ctx, msg);
        }
      },
    };
  },
});
