/** Typed errors of the light node's public API; {@link AlysLightError}s (src/errors.ts) like every library error. */
import { AlysLightError, type AlysLightErrorOptions } from '../errors.js';

export class LightNodeError extends AlysLightError {
  override name = 'LightNodeError';
  declare readonly code: string;
  constructor(code: string, message: string, options?: AlysLightErrorOptions) {
    super(code, message, options);
  }
}

/** The node has no verified data to answer with yet (still syncing, or the block is not verified). */
export class NotSyncedError extends LightNodeError {
  override name = 'NotSyncedError';
  constructor(what: string) {
    super('not-synced', `no verified ${what} yet: the node is still syncing (see node.status())`);
  }
}

/**
 * A verified read at a height below the node's verified history (code `below-history`): a
 * head-first node keeps blocks from `historyFrom` up (`sync.history`, docs/trust.md).
 */
export class BelowHistoryError extends LightNodeError {
  override name = 'BelowHistoryError';
  constructor(
    readonly number: number,
    readonly historyFrom: number,
  ) {
    super(
      'below-history',
      `block ${number} is below the node's verified history, which starts at block ${historyFrom}`,
      { hint: "raise sync.history (a number of blocks, or 'all') to backfill further down" },
    );
  }
}

/**
 * The MetricsActor is not running (code `metrics.unavailable`): its policy is `never()`, so after a
 * crash it stays down until the node restarts. The message starts with "metrics unavailable".
 */
export class MetricsUnavailableError extends LightNodeError {
  override name = 'MetricsUnavailableError';
  declare readonly code: 'metrics.unavailable';
  constructor(why: string, options?: AlysLightErrorOptions) {
    super('metrics.unavailable', `metrics unavailable: ${why}; restart the node to get them back`, options);
  }
}

/** No configured source can currently serve the request (all failed or banned). */
export class NoSourceError extends LightNodeError {
  override name = 'NoSourceError';
  constructor(what: string, detail: string) {
    super('no-source', `no source can serve ${what}: ${detail}; add or fix endpoints in the config (rpc, evmRpc)`);
  }
}

/** The stored authority set changes fail a check (code `federation.record-corrupt`): dropped, never used. */
export class FederationRecordError extends LightNodeError {
  override name = 'FederationRecordError';
  constructor(readonly reason: string) {
    super('federation.record-corrupt', `the stored authority set changes are not usable (${reason}): dropped`);
  }
}

/** A change of the authority set the node refuses (code `federation.change-below-head`: blocks at its height are verified). */
export class FederationChangeError extends LightNodeError {
  override name = 'FederationChangeError';
}
