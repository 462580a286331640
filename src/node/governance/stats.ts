/**
 * The governance client's health and counters (`status().governance`), apart from the client itself:
 * the node reads them on every `status()`, and this module pulls in neither the protobuf runtime nor
 * connect, which load only when `governance.url` is set (the browser bundle before the first head
 * stays without them).
 */
import type { Scores, SourceScore } from '../workflows/scores.js';

/** Health and counters; one object per node, shared by every incarnation of the actor. */
export interface GovernanceStats {
  url: string;
  connected: boolean;
  /** Successful registrations (1 + reconnections). */
  connects: number;
  assignedNodeId?: string;
  heartbeatsSent: number;
  lastHeartbeatAck?: { sequence: number; at: number };
  updatesApplied: number;
  updatesRejected: number;
  /** The check of the last rejected update (e.g. `federation-update.signature`). */
  lastRejection?: string;
  /** Effective height of the last update this client applied (a floor for the replay check). */
  lastAppliedHeight: number;
  proposals: number;
  lastError?: string;
}

export type GovernanceHealth = Readonly<GovernanceStats>;

export function createGovernanceStats(url: string): GovernanceStats {
  return {
    url,
    connected: false,
    connects: 0,
    heartbeatsSent: 0,
    updatesApplied: 0,
    updatesRejected: 0,
    lastAppliedHeight: 0,
    proposals: 0,
  };
}

/** `status().governance`: the stream's health and counters, and the governance source's score. */
export interface GovernanceStatus extends GovernanceHealth {
  /** The governance source's score (charged for every rejected update or malformed message). */
  score: SourceScore | null;
  /** Why the stream is not running, when it cannot (e.g. `governance.transport-unsupported` in browsers). */
  unsupported?: string;
}

/** `status().governance` from the stats and the score. */
export function governanceStatus(stats: GovernanceStats, scores: Scores, unsupported?: string): GovernanceStatus {
  const score = scores.all().find((s) => s.id === stats.url) ?? null;
  return { ...stats, score, ...(unsupported ? { unsupported } : {}) };
}
