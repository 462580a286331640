/**
 * The governance client in the node (`governance.url`): the GovernanceActor's arguments built from the
 * running actor system, and the governance part of `status()`.
 *
 * - `context()`: what an update is verified against, from the FederationActor and the ChainActor: the set
 *   in force after the verified head and after the last applied change (the set that must sign), the last
 *   change's effective height, the verified head.
 * - `onFederationUpdate`: a verified update becomes an `AuthoritySetChange` applied by the FederationActor
 *   (`apply-change`: persisted, in the schedule every verifier reads, pushed to worker verifiers), then the
 *   `federation` node event.
 * - `onFault`: the governance source is charged on its own {@link Scores} (not the NetworkActor's: those
 *   are the block sources the sync picks from), and a `source` event says so.
 * - `onProposal`: the `proposal` node event (unverified, informational).
 *
 * The stats and the score live as long as the node, so restarts of the actor (reconnections) and of the
 * actor system keep them.
 */
import type { ActorSystem } from '../../actors/index.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import type { VerifiedFederationUpdate } from '../../protocol/federation-update.js';
import type { ChainActor } from '../actors/chain.js';
import type { FederationActor } from '../actors/federation.js';
import { type GovernanceArgs, type GovernanceVerifyContext, governanceSupervisor } from '../actors/governance.js';
import { LightNodeError } from '../errors.js';
import { topicOf, type NodeEventMessage, type NodeEventName, type NodeEvents } from '../events.js';
import type { ChildSpec } from '../../actors/index.js';
import type { Scores } from '../workflows/scores.js';
import type { GovernanceStats } from './stats.js';
import { authoritySetChange } from './convert.js';
import type { GovernanceTransport } from './transport.js';

export interface GovernanceWiring {
  transport: GovernanceTransport;
  heartbeatMs: number;
  chainId: number;
  backend: BlsBackend;
  stats: GovernanceStats;
  scores: Scores;
  /** The running actor system (undefined while stopped). */
  system(): ActorSystem | undefined;
  now(): number;
  /** The federation and chain actors' addresses. */
  addresses: { federation: string; chain: string };
}

const ASK = { timeoutMs: 30_000 };

function running(w: GovernanceWiring): ActorSystem {
  const system = w.system();
  if (!system) throw new LightNodeError('not-started', 'the light node is not running');
  return system;
}

function publish<E extends NodeEventName>(w: GovernanceWiring, name: E, data: NodeEvents[E]): void {
  w.system()?.publish(topicOf(name), { type: 'event', name, data } satisfies NodeEventMessage<E>, undefined, {});
}

/** The set that must sign the next update, the last change's height and the verified head. */
async function verifyContext(w: GovernanceWiring): Promise<GovernanceVerifyContext> {
  const system = running(w);
  const chain = await system.ref<typeof ChainActor>(w.addresses.chain).ask({ type: 'status' }, ASK);
  const headHeight = Math.max(chain.head.number, chain.importedHead);
  const federation = system.ref<typeof FederationActor>(w.addresses.federation);
  const { changes } = await federation.ask({ type: 'changes' }, ASK);
  const lastEffectiveHeight = changes.at(-1)?.effectiveHeight ?? 0;
  const set = await federation.ask({ type: 'set-at', height: Math.max(headHeight + 1, lastEffectiveHeight) }, ASK);
  return { current: set.authorities, chainId: w.chainId, lastEffectiveHeight, headHeight };
}

async function applyUpdate(w: GovernanceWiring, verified: VerifiedFederationUpdate): Promise<void> {
  const change = authoritySetChange(verified);
  const federation = running(w).ref<typeof FederationActor>(w.addresses.federation);
  await federation.ask({ type: 'apply-change', change }, ASK);
  publish(w, 'federation', {
    effectiveHeight: change.effectiveHeight,
    authorities: change.authorities.length,
    digest: verified.digest,
  });
}

function charge(w: GovernanceWiring, source: string, code: string): void {
  const s = w.scores.fault(source, 'invalid', w.now());
  if (s) publish(w, 'source', { id: s.id, score: s.score, banned: s.bannedUntil > w.now(), reason: code });
}

/** The GovernanceActor's arguments for this node. */
export function governanceArgs(w: GovernanceWiring): GovernanceArgs {
  return {
    transport: w.transport,
    node: { id: `alys-light-observer-${w.chainId}`, version: 'alys-light' },
    heartbeatIntervalMs: w.heartbeatMs,
    backend: w.backend,
    stats: w.stats,
    context: () => verifyContext(w),
    onFederationUpdate: (v) => applyUpdate(w, v),
    onProposal: (p) => publish(w, 'proposal', p),
    onFault: (source, code) => charge(w, source, code),
  };
}

/** The governance supervisor (tree.ts places it) for this node: loaded only when `governance.url` is set. */
export function governanceTree(w: GovernanceWiring): ChildSpec {
  return governanceSupervisor(governanceArgs(w));
}
