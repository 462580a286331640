/**
 * FederationActor: the authority set, the federation's EVM addresses and its Bitcoin keys in force
 * at any height, with their source (the chain spec, or which verified governance update). It holds
 * the node's {@link AuthoritySchedule}: the spec's set, then the changes applied to it.
 *
 * `apply-change` takes a change that was already verified (the governance client checks the
 * update's signatures and hands it over as plain data): its height must be above the last change
 * and above the chain's head (blocks already verified stay verified), its keys valid. It is
 * persisted first (the StorageActor's `x/federation` record, `storage/federation-record.ts`), then
 * added to the schedule every in-thread verifier reads, then pushed to the verifier actors (their
 * live args for a restart, and a message to each running one). A refused change changes nothing.
 *
 * On start the stored record is read back and checked (a bad one is dropped with a typed error and
 * a `storage` event, never trusted); the schedule is shared, so changes it already holds are kept.
 */
import { defineActor, replyError, type ActorContext } from '../../actors/actor.js';
import { prepareAuthorities, requiredApprovals } from '../../protocol/approvals.js';
import {
  AuthoritySchedule,
  AuthorityScheduleError,
  checkAuthoritySetChange,
  type AuthoritySetChange,
  type AuthoritySetInForce,
} from '../../protocol/authority-schedule.js';
import { type BlsBackend, createBlsBackend } from '../../protocol/bls/index.js';
import type { BitcoinNetwork, Federation } from '../../protocol/bridge/taproot.js';
import { specFingerprint } from '../../protocol/spec-fingerprint.js';
import type { ChainSpec, Hex } from '../../protocol/types.js';
import { FederationChangeError, FederationRecordError } from '../errors.js';
import { topicOf, type NodeEventMessage } from '../events.js';
import { decodeFederationRecord, encodeFederationRecord } from '../storage/federation-record.js';
import type { ChainStatus } from './chain.js';
import type { VerifierArgs, VerifierMsg } from './verifier.js';

export type FederationMsg =
  /** The authority keys in force at `height` (default: after the last change) and the approvals they need. */
  | { type: 'authorities'; height?: number }
  /** The peg-in address of the Bitcoin keys in force at `height` (default: after the last change). */
  | { type: 'deposit-address'; network: BitcoinNetwork; height?: number }
  | { type: 'spec' }
  /** A verified change (see the module comment); replies with the changes now in force, or a typed error. */
  | { type: 'apply-change'; change: AuthoritySetChange }
  /** Everything in force at `height`, with its sources. */
  | { type: 'set-at'; height: number }
  | { type: 'changes' };

/** `set-at`'s reply: the set in force and the approvals a block at that height needs. */
export interface FederationSetAt extends AuthoritySetInForce {
  height: number;
  required: number;
}

export interface FederationReplies {
  authorities: { keys: Hex[]; required: number };
  'deposit-address': string;
  spec: ChainSpec;
  'apply-change': { changes: number; lastHeight: number };
  'set-at': FederationSetAt;
  /** The changes in force, and why a stored record was dropped at the last start (null: it was not). */
  changes: { changes: AuthoritySetChange[]; dropped: { code: string; message: string } | null };
}

export interface FederationArgs {
  spec: ChainSpec;
  /** The node's schedule (shared with the ChainActor and the head start); absent: a private one (noble). */
  schedule?: AuthoritySchedule;
  /** The StorageActor; absent: changes are kept in memory only. */
  storage?: string;
  /** The ChainActor, asked for its head before a change is applied; absent: no such check. */
  chain?: string;
  /** The verifier actors and their (live) start arguments, kept current with the changes. */
  verifiers?: { addresses: readonly string[]; args: readonly VerifierArgs[] };
}

export { FederationChangeError };

type Ctx = ActorContext<FederationMsg, FederationArgs>;

interface FederationState {
  readonly args: FederationArgs;
  schedule: AuthoritySchedule | undefined;
  dropped: { code: string; message: string } | null;
  /** Taproot federations by their key list (the tweak costs tens of ms: made on the first question). */
  readonly federations: Map<string, Federation>;
}

const scheduleOf = (s: FederationState): AuthoritySchedule => s.schedule!;
const latest = (s: FederationState): number => scheduleOf(s).lastHeight;

function checkHeight(height: unknown): number {
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0)
    throw new AuthorityScheduleError('authority-schedule.height', `not a block height: ${JSON.stringify(height)}`);
  return height;
}

// ---- start: the stored record, checked ----

async function loadStored(s: FederationState, ctx: Ctx): Promise<void> {
  const { storage, spec } = s.args;
  if (!storage) return;
  const bytes = await ctx.ask<Uint8Array | undefined>(storage, { type: 'record-get', name: 'federation' } as never);
  if (!bytes) return;
  const schedule = scheduleOf(s);
  try {
    const stored = decodeFederationRecord(bytes, specFingerprint(spec));
    const held = schedule.changes();
    const prefix = Math.min(held.length, stored.length);
    if (JSON.stringify(held.slice(0, prefix)) !== JSON.stringify(stored.slice(0, prefix)))
      throw new FederationRecordError('it disagrees with the changes this node holds');
    for (const c of stored.slice(prefix)) schedule.add(c);
  } catch (e) {
    const err = e instanceof FederationRecordError ? e : new FederationRecordError((e as Error).message);
    s.dropped = { code: err.code, message: err.shortMessage };
    await ctx.ask(storage, { type: 'record-put', name: 'federation', value: null } as never);
    ctx.publish(topicOf('storage'), {
      type: 'event',
      name: 'storage',
      data: { kind: 'damaged', detail: err.shortMessage },
    } satisfies NodeEventMessage<'storage'>);
  }
}

// ---- apply a change ----

/**
 * Tell every verifier actor the changes in force: their live args first (for one that (re)starts
 * now), then a message to each, awaited when `wait` (a change applied while the node runs).
 */
async function pushToVerifiers(
  s: FederationState,
  ctx: Ctx,
  changes: AuthoritySetChange[],
  wait: boolean,
): Promise<void> {
  const v = s.args.verifiers;
  if (!v) return;
  for (const a of v.args) a.changes = structuredClone(changes);
  // at the node's start the verifiers start later (from their args): nothing to wait for then
  if (!wait) {
    for (const to of v.addresses) void ctx.tell(to, { type: 'authority-changes', changes } satisfies VerifierMsg);
    return;
  }
  await Promise.all(
    v.addresses.map((to) =>
      // one that is not running reads its args when it starts
      ctx.ask(to, { type: 'authority-changes', changes } satisfies VerifierMsg, { timeoutMs: 30_000 }).catch(() => {}),
    ),
  );
}

async function headHeight(s: FederationState, ctx: Ctx): Promise<number | undefined> {
  if (!s.args.chain) return undefined;
  const status = await ctx.ask<ChainStatus>(s.args.chain, { type: 'status' } as never, { timeoutMs: 30_000 });
  return Math.max(status.head.number, status.importedHead);
}

async function applyChange(s: FederationState, ctx: Ctx, change: unknown): Promise<FederationReplies['apply-change']> {
  const schedule = scheduleOf(s);
  const checked = checkAuthoritySetChange(change, schedule.lastHeight, '$.change');
  try {
    prepareAuthorities(checked.authorities, schedule.backend, '$.change.authorities');
  } catch (e) {
    throw new AuthorityScheduleError(
      'authority-schedule.change',
      `a key is not a valid BLS public key: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const head = await headHeight(s, ctx);
  if (head !== undefined && checked.effectiveHeight <= head)
    throw new FederationChangeError(
      'federation.change-below-head',
      `a change effective at block ${checked.effectiveHeight} comes too late: blocks up to ${head} are already verified`,
    );
  const next = [...schedule.changes(), checked];
  if (s.args.storage)
    await ctx.ask(s.args.storage, {
      type: 'record-put',
      name: 'federation',
      value: encodeFederationRecord(specFingerprint(s.args.spec), next),
    } as never);
  schedule.add(checked);
  await pushToVerifiers(s, ctx, next, true);
  return { changes: next.length, lastHeight: checked.effectiveHeight };
}

// ---- questions ----

function setAt(s: FederationState, height: number): FederationSetAt {
  const set = scheduleOf(s).setAt(checkHeight(height));
  return { ...set, height, required: requiredApprovals(set.authorities.length) };
}

async function depositAddress(s: FederationState, network: BitcoinNetwork, height: number): Promise<string> {
  const keys = scheduleOf(s).setAt(checkHeight(height)).federationBitcoinPubkeys;
  // imported then: the taproot code (noble's secp256k1 and schnorr) is not loaded before it is used
  const taproot = await import('../../protocol/bridge/taproot.js');
  const id = keys.join(',');
  let federation = s.federations.get(id);
  if (!federation) s.federations.set(id, (federation = taproot.createFederation(keys)));
  return taproot.federationAddress(federation, network);
}

/** A handler's typed error goes back to the asker; anything else is a crash. */
function asReply<T>(run: () => Promise<T> | T): Promise<T> {
  return (async () => {
    try {
      return await run();
    } catch (e) {
      if (e instanceof AuthorityScheduleError || e instanceof FederationChangeError) return replyError(e);
      throw e;
    }
  })();
}

export const FederationActor = defineActor<FederationMsg, FederationReplies, FederationArgs>({
  name: 'federation',
  create(args) {
    const s: FederationState = { args, schedule: args.schedule, dropped: null, federations: new Map() };
    return {
      async preStart(ctx) {
        s.schedule ??= AuthoritySchedule.create(args.spec, await createBlsBackend('noble'));
        await loadStored(s, ctx);
        if (scheduleOf(s).lastHeight > 0) await pushToVerifiers(s, ctx, scheduleOf(s).changes(), false);
      },
      handle(msg, ctx) {
        switch (msg.type) {
          case 'authorities':
            return asReply(() => {
              const set = setAt(s, msg.height ?? latest(s));
              return { keys: set.authorities, required: set.required };
            });
          case 'deposit-address':
            return asReply(() => depositAddress(s, msg.network, msg.height ?? latest(s)));
          case 'spec':
            return structuredClone(args.spec);
          case 'apply-change':
            return asReply(() => applyChange(s, ctx, msg.change));
          case 'set-at':
            return asReply(() => setAt(s, msg.height));
          case 'changes':
            return { changes: scheduleOf(s).changes(), dropped: s.dropped };
        }
      },
    };
  },
});

/**
 * The node's authority schedule, one change list for the node's life (it outlives actor-system
 * restarts), viewed per BLS backend: the first call makes it (the spec's set), later calls return
 * views over the same list, so a change the FederationActor adds is seen by every in-thread verifier.
 */
export function scheduleHolder(spec: ChainSpec): (backend: BlsBackend) => AuthoritySchedule {
  let root: AuthoritySchedule | undefined;
  const views = new Map<BlsBackend, AuthoritySchedule>();
  return (backend) => {
    root ??= AuthoritySchedule.create(spec, backend);
    let view = views.get(backend);
    if (!view) views.set(backend, (view = root.withBackend(backend)));
    return view;
  };
}
