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

/** No configured source can currently serve the request (all failed or banned). */
export class NoSourceError extends LightNodeError {
  override name = 'NoSourceError';
  constructor(what: string, detail: string) {
    super('no-source', `no source can serve ${what}: ${detail}; add or fix endpoints in the config (rpc, evmRpc)`);
  }
}
