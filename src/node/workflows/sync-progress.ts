/**
 * The sync's progress report (pure): where it is, how fast it imports, when it will be done, and
 * why it is stalled. The SyncActor owns the state; these functions only compute from it.
 */
import type { NodeEvents } from '../events.js';

export type SyncPhase = NodeEvents['sync']['phase'];

export interface SyncStatus {
  phase: SyncPhase;
  current: number;
  target: number;
  rate: number;
  etaSeconds: number | null;
  inFlight: number;
  /** Why the sync is stalled (no usable source, or a range failed more than `retries` times). */
  detail?: string;
}

/** What the status needs of the sync plan. */
export interface PlanProgress {
  readonly importFrom: number;
  readonly targetHeight: number;
  readonly inFlight: number;
}

/** The status report: `plan` undefined means the sync has not started (nothing imported, no target). */
export function syncStatus(
  plan: PlanProgress | undefined,
  phase: SyncPhase,
  rate: number,
  detail: string | undefined,
): SyncStatus {
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

/** The import rate in blocks per second: a moving average over imports (0 until the first one). */
export interface ImportRate {
  readonly perSecond: number;
  /** When, and at which height, it was last measured. */
  readonly at: number;
  readonly height: number;
}

export function startRate(height: number, now: number): ImportRate {
  return { perSecond: 0, at: now, height };
}

/** The rate once the chain reached `height` at `now` (unchanged if no time passed since the last measure). */
export function measureRate(r: ImportRate, height: number, now: number): ImportRate {
  if (now <= r.at) return r;
  const inst = ((height - r.height) * 1000) / (now - r.at);
  return { perSecond: r.perSecond === 0 ? inst : r.perSecond * 0.8 + inst * 0.2, at: now, height };
}

/**
 * Why no source can serve the sync (the stalled detail): `knownSources` counts the configured
 * endpoints and connected peers, `syncsFromPeers` says whether peers may be sources at all.
 */
export function noSourceReason(knownSources: number, syncsFromPeers: boolean): string {
  if (knownSources) return 'every consensus source is banned or failing; retrying';
  return syncsFromPeers
    ? 'no peer connected yet (the bootstrap peers are redialled)'
    : 'no consensus source configured';
}

/**
 * The phase once a range has taken `worstAttempt` attempts: stalled (say why) after more than
 * `retries` failures, back to syncing when no range is over the limit any more, else unchanged.
 */
export function phaseAfterRetries(
  phase: SyncPhase,
  worstAttempt: number,
  retries: number,
): { phase: SyncPhase; stalledBecause?: string } {
  if (worstAttempt > retries + 1 && phase !== 'stalled')
    return {
      phase: 'stalled',
      stalledBecause: `a range failed ${worstAttempt - 1} times (retries = ${retries}); still retrying`,
    };
  if (phase === 'stalled' && worstAttempt <= retries + 1) return { phase: 'syncing' };
  return { phase };
}
