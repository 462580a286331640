/**
 * ChainActor: owns the verified chain. Imports block summaries through the block-import workflow
 * (links, AuxPoW, finality; the verifier pool did the per-block checks), persists what is
 * authenticated through the StorageActor before reporting it, publishes head/finalized/fork events,
 * and answers with verified payloads for the EngineActor.
 */
import { defineActor, replyError, type ActorContext } from '../../actors/actor.js';
import { signingRoot } from '../../protocol/block.js';
import { toHex, type Hex } from '../../protocol/bytes.js';
import type { ChainVerifierOptions } from '../../protocol/chain-verifier.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import type { ExecutionPayloadCapella, SignedConsensusBlock } from '../../protocol/types.js';
import { topicOf, type NodeEventMessage, type NodeEventName, type NodeEvents } from '../events.js';
import { shortSpecFingerprint, specFingerprint } from '../../protocol/spec-fingerprint.js';
import type { HeadStart } from '../sources/head.js';
import { storedHeadProblem } from '../storage/block-store.js';
import { BlockImport, type BatchResult, type ImportItem, type PersistBatch } from '../workflows/block-import.js';
import { PayloadCache, payloadNumber, type PayloadRef } from '../workflows/payload-cache.js';
import { checksTail, settleTail } from '../workflows/tail-approvals.js';
import { POW_TOPIC } from './auxpow.js';
import { BRIDGE_TOPIC } from './bridge.js';
import { BelowHistoryError } from '../errors.js';
import type { StorageLoad, StoredHistory } from './storage.js';
import type { VerifierMsg, VerifierReplies } from './verifier.js';

export type { PayloadRef };

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
  /** Cold start from genesis: fetch (and check) block 0 from the sources. */
  fetchGenesis(): Promise<SignedConsensusBlock>;
  /**
   * Cold start at the head (`sync.start = 'head'`, sources/head.ts): the verified head (handed to
   * `onHead` at once) and the anchor; undefined when the chain has no PoW block above genesis yet
   * (then the node replays from genesis). Absent: always replay from genesis.
   */
  fetchHeadStart?(onHead: (head: NodeEvents['head']) => void): Promise<HeadStart | undefined>;
  /** `sync.checkpoint`: a stored chain that does not contain this block is not resumed. */
  checkpoint?: Hex | null;
  storage: string;
  /** The NetworkActor (sources of blocks a fork replaced are reported there). */
  network: string;
  verifierGroup: string;
  /** How many recent verified payloads to keep in memory. */
  payloadCache?: number;
}

/** A ChainActor context (what every function below gets). */
type ChainCtx = ActorContext<ChainMsg, ChainArgs>;
type MsgOf<T extends ChainMsg['type']> = Extract<ChainMsg, { type: T }>;

/**
 * Everything the ChainActor keeps between messages, in one object its functions share (a restart
 * builds a fresh one and reloads the chain from storage).
 */
interface ChainState {
  readonly args: ChainArgs;
  /** The block-import workflow; set by `preStart` (from storage, or from genesis on a cold start). */
  flow: BlockImport | undefined;
  /** The head and finalized heights last announced (events go out only when they move). */
  lastHead: number;
  lastFinalized: number;
  readonly payloads: PayloadCache;
}

/** The workflow, once `preStart` loaded it (no message is handled before). */
function flowOf(s: ChainState): BlockImport {
  return s.flow!;
}

function emit<E extends NodeEventName>(ctx: ChainCtx, name: E, data: NodeEvents[E]): void {
  ctx.publish(topicOf(name), { type: 'event', name, data } satisfies NodeEventMessage<E>);
  // the peg tracker counts Alys finality too (BridgeActor `finalized`)
  if (name === 'finalized')
    ctx.publish(BRIDGE_TOPIC, { type: 'finalized', number: (data as NodeEvents['finalized']).number });
}

function askStorage<T>(s: ChainState, ctx: ChainCtx, msg: { type: string; [k: string]: unknown }): Promise<T> {
  return ctx.ask<T>(s.args.storage, msg as never, { timeoutMs: 60_000 });
}

function storedBlock(s: ChainState, ctx: ChainCtx, number: number): Promise<SignedConsensusBlock | undefined> {
  return askStorage<SignedConsensusBlock | undefined>(s, ctx, { type: 'block', number });
}

// ---- start: resume from storage, or start from genesis ----

/** Resume from storage if it holds a chain of this spec that passes the warm-start checks; else start from genesis. */
async function loadChain(s: ChainState, ctx: ChainCtx): Promise<void> {
  const started = Date.now();
  const opts: ChainVerifierOptions = { ...s.args.verifier, approvals: s.args.mode === 'full' ? 'all' : 'deferred' };
  const loaded = await askStorage<StorageLoad>(s, ctx, { type: 'load' });
  if (loaded.kind === 'ok' && (await warmStart(s, ctx, opts, loaded, started))) return;
  if (loaded.kind === 'corrupt') emit(ctx, 'storage', { kind: 'corrupt', detail: loaded.reason });
  if (loaded.kind === 'other-spec') emit(ctx, 'storage', { kind: 'other-spec', detail: otherSpecDetail(s, loaded) });
  await coldStart(s, ctx, opts, started);
}

/**
 * Resume at the stored head (the store already checked its records and the window's hash links)
 * once its approvals verify again: the one BLS check of a warm start, done here, where the
 * authorities are prepared and the main thread's backend is loaded (no worker round trip). False,
 * after saying why, when the store cannot be trusted; the cold start that follows clears it.
 */
async function warmStart(
  s: ChainState,
  ctx: ChainCtx,
  opts: ChainVerifierOptions,
  loaded: Extract<StorageLoad, { kind: 'ok' }>,
  started: number,
): Promise<boolean> {
  const problem = storedHeadProblem(loaded.head, s.args.verifier);
  if (problem) {
    emit(ctx, 'storage', { kind: 'corrupt', detail: problem });
    return false;
  }
  const checkpoint = s.args.checkpoint;
  if (
    checkpoint &&
    (await askStorage<number | undefined>(s, ctx, { type: 'number-of', hash: checkpoint })) === undefined
  ) {
    emit(ctx, 'storage', {
      kind: 'checkpoint',
      detail: `the stored chain does not contain the checkpoint ${checkpoint} (sync.checkpoint): starting fresh`,
    });
    return false;
  }
  s.flow = new BlockImport(opts, loaded.meta.snapshot);
  emit(ctx, 'storage', {
    kind: 'warm-start',
    detail: `resumed at block ${loaded.meta.head.number}`,
    head: loaded.meta.head.number,
    ms: Date.now() - started,
  });
  return true;
}

function otherSpecDetail(s: ChainState, r: Extract<StorageLoad, { kind: 'other-spec' }>): string {
  const ours = `chain ${s.args.verifier.spec.chainId} spec ${shortSpecFingerprint(specFingerprint(s.args.verifier.spec))}`;
  const theirs = `chain ${r.stored.chainId} ${r.stored.spec ? `spec ${shortSpecFingerprint(r.stored.spec)}` : `of an older store format (${r.stored.format ?? 1})`}`;
  const where = r.setAsideTo === 'cleared' ? 'cleared' : `moved to ${r.setAsideTo}`;
  return `the store was made under ${theirs}, not this node's ${ours}: ${where}; starting fresh`;
}

/** No usable store: start at the verified head (the default), or from genesis when asked or when the chain has no PoW yet. */
async function coldStart(s: ChainState, ctx: ChainCtx, opts: ChainVerifierOptions, started: number): Promise<void> {
  const fromHead = await s.args.fetchHeadStart?.((head) => {
    // the verified head, at once: before the finality walk downloads anything else
    s.lastHead = head.number;
    emit(ctx, 'head', head);
  });
  if (fromHead) return headStart(s, ctx, opts, fromHead, started);
  const genesis = await s.args.fetchGenesis();
  const flow = new BlockImport(opts, genesis);
  s.flow = flow;
  const hash = toHex(signingRoot(genesis.message));
  await askStorage(s, ctx, {
    type: 'init',
    blocks: [{ number: 0, hash, block: encodeSignedBlockMsgpack(genesis) }],
    snapshot: flow.snapshot(),
  });
  emit(ctx, 'storage', { kind: 'cold-start', detail: 'starting from genesis', head: 0, ms: Date.now() - started });
}

/** Resume from a head-first start's anchor: store its blocks (the verified history so far) and follow on from its head. */
async function headStart(
  s: ChainState,
  ctx: ChainCtx,
  opts: ChainVerifierOptions,
  start: HeadStart,
  started: number,
): Promise<void> {
  const { anchor } = start;
  s.flow = new BlockImport(opts, anchor.snapshot);
  await askStorage(s, ctx, { type: 'init', blocks: start.blocks, snapshot: anchor.snapshot });
  // the block the walk's PoW block finalized (later finalized events come from imports)
  emit(ctx, 'finalized', { number: anchor.finalized.number, hash: anchor.finalized.hash });
  emit(ctx, 'storage', {
    kind: 'cold-start',
    detail: `started at verified head ${anchor.head.number}; block ${anchor.finalized.number} finalized by PoW block ${anchor.pow.number}; history from block ${start.blocks[0]?.number ?? anchor.lowest.number}`,
    head: anchor.head.number,
    ms: Date.now() - started,
  });
}

// ---- after an import: persist, publish, announce ----

/** Persist what a batch authenticated (after a rollback, if a fork was followed) and publish its blocks. */
async function persist(s: ChainState, ctx: ChainCtx, r: BatchResult): Promise<void> {
  if (r.rolledBack) reportRollback(s, ctx, r.rolledBack, r.head.hash);
  const p = r.persist;
  if (!p) return;
  if (p.blocks.length || p.truncate)
    await askStorage(s, ctx, {
      type: 'append',
      blocks: p.blocks.map(({ number, hash, block }) => ({ number, hash, block })),
      snapshot: p.snapshot,
      // a fork switch: the rollback and the new branch in one batch
      ...(p.truncate ? { replaceFrom: p.truncate.to } : {}),
    });
  for (const b of p.blocks.slice(-s.payloads.limit))
    s.payloads.remember(b.number, decodeSignedBlockMsgpack(b.block).message.executionPayload);
  publishBlocks(ctx, p.blocks, r.finalizedThrough);
}

/** The node followed a fork: forget the rolled-back payloads, say so, and report the sources that served them. */
function reportRollback(
  s: ChainState,
  ctx: ChainCtx,
  { from, to, sources }: NonNullable<BatchResult['rolledBack']>,
  headHash: Hex,
): void {
  // the rolled-back payloads must not answer reads any more, nor peg evidence from those blocks count
  s.payloads.dropFrom(from);
  ctx.publish(BRIDGE_TOPIC, { type: 'rollback-range', from, to });
  emit(ctx, 'fork', {
    kind: 'switched',
    number: from,
    hash: headHash,
    detail: `rolled back unfinalized blocks ${from}..${to} to follow a fork with a verified PoW`,
  });
  for (const source of sources)
    void ctx.tell(s.args.network, {
      type: 'fault',
      id: source,
      kind: 'stale',
      reason: `served blocks ${from}..${to} that a fork with a verified PoW replaced`,
    });
}

/** Persisted blocks to the actors that follow them: AuxPoW records, and blocks that touch the bridge. */
function publishBlocks(ctx: ChainCtx, blocks: PersistBatch['blocks'], finalizedThrough: number): void {
  for (const b of blocks) {
    const summary = b.summary;
    if (summary.auxpowHeader)
      ctx.publish(POW_TOPIC, {
        type: 'pow',
        record: {
          number: summary.number,
          hash: summary.hash,
          bits: summary.auxpowHeader.bits,
          rangeStart: summary.auxpowHeader.rangeStart,
          rangeEnd: summary.auxpowHeader.rangeEnd,
          finalizedThrough,
        },
      });
    if (summary.pegins || summary.hasProposal || summary.finalizedPegouts)
      ctx.publish(BRIDGE_TOPIC, { type: 'block', number: summary.number, block: b.block });
  }
}

/** The hash of an authenticated block (the finalized one is usually cached; else read back from storage). */
async function hashAt(s: ChainState, ctx: ChainCtx, number: number, r: BatchResult): Promise<Hex> {
  if (number === r.head.number) return r.head.hash;
  const recent = r.persist?.blocks.find((b) => b.number === number);
  if (recent) return recent.hash;
  const block = await storedBlock(s, ctx, number);
  return block ? toHex(signingRoot(block.message)) : ('0x' as Hex);
}

/** `head` and `finalized` events, when they moved. */
async function announce(s: ChainState, ctx: ChainCtx, r: BatchResult): Promise<void> {
  if (r.head.number !== s.lastHead) {
    s.lastHead = r.head.number;
    emit(ctx, 'head', { number: r.head.number, hash: r.head.hash, payloadBlockHash: r.head.payloadBlockHash });
  }
  if (r.finalizedThrough > s.lastFinalized && r.finalizedThrough <= r.head.number) {
    s.lastFinalized = r.finalizedThrough;
    emit(ctx, 'finalized', { number: r.finalizedThrough, hash: await hashAt(s, ctx, r.finalizedThrough, r) });
  }
}

// ---- the messages ----

async function onImport(s: ChainState, ctx: ChainCtx, msg: MsgOf<'import'>): Promise<ChainReplies['import']> {
  let r = flowOf(s).importBatch(msg.items);
  await persist(s, ctx, r);
  for (const f of r.forks ?? [])
    emit(ctx, 'fork', {
      kind: 'observed',
      number: f.number,
      hash: f.hash,
      detail: `a valid block on another branch (from ${f.source}); kept until a verified PoW decides`,
    });
  if (checksTail(msg.atTip, r)) r = await checkPendingTail(s, ctx, r, msg.items.length);
  await announce(s, ctx, r);
  const { persist: _p, ...reply } = r;
  return reply;
}

/**
 * Verify the approvals of the pending (deferred) tail with the verifier pool: drop it from the
 * first bad block (the result then blames its source), or authenticate it and persist it.
 */
async function checkPendingTail(
  s: ChainState,
  ctx: ChainCtx,
  r: BatchResult,
  batchLength: number,
): Promise<BatchResult> {
  const flow = flowOf(s);
  const tail = flow.pendingTail();
  if (!tail.length) return r;
  const answers = await ctx.askGroup<VerifierReplies['approvals'], VerifierMsg>(
    s.args.verifierGroup,
    { type: 'approvals', items: tail.map((t) => ({ hash: t.hash, block: t.block })) },
    { timeoutMs: 60_000 },
  );
  const outcome = settleTail(flow, tail, answers, r, batchLength);
  if (outcome.kind === 'authenticated') await persist(s, ctx, outcome.authenticated);
  return outcome.result;
}

function chainStatus(flow: BlockImport): ChainStatus {
  const head = flow.authenticatedHead();
  return {
    head: { number: head.number, hash: head.hash, payloadBlockHash: head.payloadBlockHash },
    finalized: Math.min(flow.finalizedThrough, head.number),
    importedHead: flow.chainHead.number,
    pending: flow.pendingTail().length,
    forks: flow.forkCount,
  };
}

/** A verified payload for the EngineActor: from the cache, else from storage; none above the authenticated head. */
async function onPayload(s: ChainState, ctx: ChainCtx, ref: PayloadRef): Promise<ExecutionPayloadCapella | undefined> {
  const flow = flowOf(s);
  const head = flow.authenticatedHead().number;
  const number = payloadNumber(ref, head, flow.finalizedThrough, s.payloads);
  if (number === undefined || number > head) return undefined;
  const cached = s.payloads.get(number);
  if (cached) return cached;
  const stored = await storedBlock(s, ctx, number);
  if (stored) return stored.message.executionPayload;
  const history = await askStorage<StoredHistory | undefined>(s, ctx, { type: 'history' });
  if (history && number < history.from) return replyError(new BelowHistoryError(number, history.from));
  return undefined;
}

export const ChainActor = defineActor<ChainMsg, ChainReplies, ChainArgs>({
  name: 'chain',
  mailbox: { capacity: 256, overflow: 'block' },
  create(args) {
    const s: ChainState = {
      args,
      flow: undefined,
      lastHead: -1,
      lastFinalized: -1,
      payloads: new PayloadCache(args.payloadCache ?? 256),
    };
    return {
      async preStart(ctx) {
        await loadChain(s, ctx);
      },
      async started(ctx) {
        const flow = flowOf(s);
        await announce(s, ctx, {
          imported: 0,
          head: flow.authenticatedHead(),
          finalizedThrough: flow.finalizedThrough,
          newlyFinalized: null,
          persist: null,
        });
      },
      async handle(msg, ctx) {
        switch (msg.type) {
          case 'import':
            return onImport(s, ctx, msg);
          case 'fork-blocks':
            return flowOf(s).addForkBlocks(msg.items);
          case 'status':
            return chainStatus(flowOf(s));
          case 'payload':
            return onPayload(s, ctx, msg.ref);
          case 'block':
            return msg.number > flowOf(s).authenticatedHead().number ? undefined : storedBlock(s, ctx, msg.number);
        }
      },
    };
  },
});
