/** The light node's typed events (`node.on(name, listener)`), published on the actor bus as topics. */
import type { Hex } from '../protocol/bytes.js';
import type { PegEvent } from './bridge/tracker.js';
import type { GovernanceProposal } from './governance/convert.js';

export interface NodeEvents {
  /** A new verified head (authenticated: approvals, or covered by a verified PoW range). */
  head: { number: number; hash: Hex; payloadBlockHash: Hex };
  /** Blocks up to `number` are finalized by a verified AuxPoW range. */
  finalized: { number: number; hash: Hex };
  /** Sync progress. `rate` in blocks/s; `etaSeconds` null while unknown. */
  sync: {
    phase: 'starting' | 'syncing' | 'following' | 'stalled';
    current: number;
    target: number;
    rate: number;
    etaSeconds: number | null;
    detail?: string;
  };
  /**
   * Backfill progress (verified history below where the node started, docs/trust.md): blocks
   * `from`..head are stored and verified; it goes down to `target` (`sync.history`, a checkpoint).
   */
  backfill: { from: number; target: number; rate: number; done: boolean };
  /** A source was scored (down on bad data, timeouts; banned at zero). */
  source: { id: string; score: number; banned: boolean; reason: string };
  /** A valid block on another branch was seen, or the node followed a fork (rollback of unfinalized blocks). */
  fork: { kind: 'observed' | 'switched'; number: number; hash: Hex; detail: string };
  /**
   * How the node started from its store: resumed (`warm-start`), from genesis (`cold-start`), or the
   * stored chain was found damaged and cleared (`corrupt`) or made under another chain spec and set
   * aside (`other-spec`, the detail names both specs and where the store went), or does not contain
   * the configured `sync.checkpoint` (`checkpoint`); a cold start follows those three. `damaged`: a
   * damaged stored block was found (by a load's spot checks or on a read) and is not served,
   * reported once: below the verifier's window the stored history now starts above it (the backfill
   * fetches it again); in the window the next start finds it and re-syncs.
   */
  storage: {
    kind: 'warm-start' | 'cold-start' | 'corrupt' | 'other-spec' | 'checkpoint' | 'damaged';
    detail: string;
    head?: number;
    ms?: number;
  };
  /** An actor failed and was restarted, or gave up. */
  health: { address: string; state: string; detail: string };
  /** A tracked peg-in or peg-out moved (spec 6.5): its new view (state and the evidence's facts) and the state it left. */
  peg: PegEvent;
  /**
   * A federation update from the governance stream, signed by the authorities in force, was applied: blocks
   * from `effectiveHeight` on verify against its set (`authorities` keys); `digest` names the signed update.
   */
  federation: { effectiveHeight: number; authorities: number; digest: Hex };
  /** A proposal notification from the governance stream: informational, signed by nobody, never acted upon. */
  proposal: GovernanceProposal;
}

export type NodeEventName = keyof NodeEvents;

/** The bus topic of an event (actors publish `{ type: 'event', name, data }` there). */
export const topicOf = (name: NodeEventName): string => `node.${name}`;

export interface NodeEventMessage<E extends NodeEventName = NodeEventName> {
  type: 'event';
  name: E;
  data: NodeEvents[E];
}
