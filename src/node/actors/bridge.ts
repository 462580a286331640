/**
 * BridgeActor: where peg-ins and peg-outs stand (spec 6.5), around the peg tracker
 * (src/node/bridge/tracker.ts). Its inputs are verified only: the blocks with peg activity that the
 * ChainActor announces on `node.bridge` (kept as before), the finalized height and rolled-back blocks
 * (`finalized`, `rollback`), the Bitcoin SPV client through `BitcoinView`, and verified EVM receipts.
 * It answers the tracker API (`track-pegin`, `track-pegout`, `track-address`, `peg-status`, `pegs`,
 * `deposit-address`) and publishes each transition on {@link PEG_TOPIC}. Without `pegs` in its args
 * (no Bitcoin view or receipts configured) blocks are only counted and the API answers
 * `PegUnavailableError`. The tracker's modules (noble's curves for the taproot address) are imported on
 * first use, not on the node's start path.
 */
import { defineActor, replyError } from '../../actors/actor.js';
import type { ActorContext } from '../../actors/actor.js';
import type { TimerHandle } from '../../actors/clock.js';
import { AlysLightError } from '../../errors.js';
import { signingRoot } from '../../protocol/block.js';
import type { BitcoinNetwork } from '../../protocol/bridge/taproot.js';
import { toHex } from '../../protocol/bytes.js';
import { decodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import type { Hex } from '../../protocol/types.js';
import type { PegEvent, PegTracker, PegTrackerDeps, PegView } from '../bridge/tracker.js';
import { type NodeEventMessage, topicOf } from '../events.js';
import type { KvStore } from '../storage/kv.js';

export const BRIDGE_TOPIC = 'node.bridge';
/** Where the BridgeActor publishes every peg transition, as the node event `peg` (`node.on('peg')`). */
export const PEG_TOPIC = topicOf('peg');

export type BridgeMsg =
  | { type: 'block'; number: number; block: Uint8Array }
  | { type: 'finalized'; number: number }
  | { type: 'rollback'; blocks: { number: number; hash: Hex; payloadHash: Hex }[] }
  /** Blocks `from..to` rolled back, only their range known (the ChainActor's fork switch). */
  | { type: 'rollback-range'; from: number; to: number }
  | { type: 'refresh' }
  | { type: 'deposit-address' }
  | { type: 'track-pegin'; txid: string }
  | { type: 'track-pegout'; hash: string }
  | { type: 'track-address'; address: string }
  /** A Bitcoin txid, an EVM tx hash or an EVM address: tracked (if not yet) and answered. */
  | { type: 'peg-status'; key: string }
  | { type: 'pegs' }
  | { type: 'summary' };

export interface BridgeReplies {
  block: void;
  finalized: void;
  rollback: void;
  'rollback-range': void;
  refresh: void;
  'deposit-address': string;
  'track-pegin': PegView;
  'track-pegout': PegView;
  'track-address': PegView[];
  'peg-status': PegView[];
  pegs: PegView[];
  summary: { blocks: number; tracked: number; byState: Record<string, number> };
}

export interface BridgePegArgs extends Omit<PegTrackerDeps, 'store' | 'onPeg' | 'onFault' | 'network'> {
  /** The node's KvStore (records under `peg/`), or how to get it once the StorageActor opened it. */
  store: KvStore | (() => Promise<KvStore>);
  /** Default 'regtest' (Alys `--bitcoin-network`'s default). */
  network?: BitcoinNetwork;
  /** How often to look at Bitcoin again for pegs that wait on it (default 30,000 ms; 0: only on `refresh`). */
  refreshMs?: number;
  /** A fault of an input (a lying endpoint's answer, a block breaking a peg rule): the lead charges the source. */
  onFault?(error: Error): void;
}

export interface BridgeArgs {
  pegs?: BridgePegArgs;
}

/** Peg tracking is not configured (code `peg.unavailable`): no Bitcoin view or receipt source. */
export class PegUnavailableError extends AlysLightError {
  override name = 'PegUnavailableError';
  constructor() {
    super('peg.unavailable', 'peg tracking is not configured on this node (no Bitcoin source)');
  }
}

type Ctx = ActorContext<BridgeMsg, BridgeArgs>;

interface BridgeState {
  tracker: Promise<PegTracker> | undefined;
  blocks: number;
  timer: TimerHandle | undefined;
}

async function openTracker(args: BridgePegArgs, ctx: Ctx): Promise<PegTracker> {
  const { PegTracker } = await import('../bridge/tracker.js');
  const store = typeof args.store === 'function' ? await args.store() : args.store;
  const tracker = new PegTracker({
    ...args,
    store,
    network: args.network ?? 'regtest',
    onPeg: (event: PegEvent) =>
      ctx.publish(PEG_TOPIC, { type: 'event', name: 'peg', data: event } satisfies NodeEventMessage<'peg'>),
    ...(args.onFault ? { onFault: args.onFault } : {}),
  });
  await tracker.load();
  return tracker;
}

function scheduleRefresh(s: BridgeState, ctx: Ctx, ms: number): void {
  if (ms <= 0 || s.timer) return;
  s.timer = ctx.clock.setTimer(() => {
    s.timer = undefined;
    void ctx.self.tell({ type: 'refresh' });
  }, ms);
}

/** What a `peg-status` key names: a Bitcoin txid, an EVM tx hash, or an EVM address. */
async function pegStatus(t: PegTracker, key: string): Promise<PegView[]> {
  const k = typeof key === 'string' ? key.trim().toLowerCase() : '';
  if (/^[0-9a-f]{64}$/.test(k)) return [await t.trackPegIn(k)];
  if (/^0x[0-9a-f]{64}$/.test(k)) return [await t.trackPegOut(k)];
  return t.trackAddress(k);
}

function summary(s: BridgeState, pegs: PegView[]): BridgeReplies['summary'] {
  const byState: Record<string, number> = {};
  for (const p of pegs) byState[`${p.kind}:${p.state.state}`] = (byState[`${p.kind}:${p.state.state}`] ?? 0) + 1;
  return { blocks: s.blocks, tracked: pegs.length, byState };
}

/** A verified block from `node.bridge`, as the tracker takes it. */
async function onBlock(t: PegTracker, msg: Extract<BridgeMsg, { type: 'block' }>): Promise<void> {
  const block = decodeSignedBlockMsgpack(msg.block);
  await t.onBlock({ number: msg.number, hash: toHex(signingRoot(block.message)), block });
}

async function handleWith(t: PegTracker, s: BridgeState, msg: BridgeMsg, ctx: Ctx): Promise<unknown> {
  switch (msg.type) {
    case 'block':
      return onBlock(t, msg);
    case 'finalized':
      return t.onFinalized(msg.number);
    case 'rollback':
      return t.onRollback(msg.blocks);
    case 'rollback-range':
      return t.onRollbackRange(msg.from, msg.to);
    case 'refresh':
      await t.refresh();
      return scheduleRefresh(s, ctx, ctx.args.pegs?.refreshMs ?? 30_000);
    case 'deposit-address':
      return t.depositAddress;
    case 'track-pegin':
      return t.trackPegIn(msg.txid);
    case 'track-pegout':
      return t.trackPegOut(msg.hash);
    case 'track-address':
      return t.trackAddress(msg.address);
    case 'peg-status':
      return pegStatus(t, msg.key);
    case 'pegs':
      return t.pegs();
    case 'summary':
      return summary(s, t.pegs());
  }
}

export const BridgeActor = defineActor<BridgeMsg, BridgeReplies, BridgeArgs>({
  name: 'bridge',
  create(args) {
    const s: BridgeState = { tracker: undefined, blocks: 0, timer: undefined };
    return {
      started(ctx) {
        if (!args.pegs) return;
        s.tracker = openTracker(args.pegs, ctx);
        s.tracker.catch(() => {}); // reported to each message that needs it
        scheduleRefresh(s, ctx, args.pegs.refreshMs ?? 30_000);
      },
      stopped(ctx) {
        if (s.timer) ctx.clock.clearTimer(s.timer);
        s.timer = undefined;
      },
      async handle(msg, ctx) {
        if (msg.type === 'block') s.blocks++;
        if (!s.tracker) {
          if (msg.type === 'summary') return { blocks: s.blocks, tracked: 0, byState: {} };
          if (['block', 'finalized', 'rollback', 'rollback-range', 'refresh'].includes(msg.type)) return;
          return replyError(new PegUnavailableError());
        }
        const t = await s.tracker;
        try {
          return (await handleWith(t, s, msg, ctx)) as never;
        } catch (e) {
          // a caller's bad argument or a full tracker is the caller's error, not a crash
          if (e instanceof AlysLightError && String(e.code).startsWith('peg.')) return replyError(e);
          throw e;
        }
      },
    };
  },
});
