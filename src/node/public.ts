/**
 * What both library entry points export (src/index.ts for browsers and Workers, src/index.nodejs.ts
 * for Node): the node's types, events and typed errors, and the config helpers.
 */
import type { ConfigInput } from '../config/schema.js';
import type { ChainSpec } from '../protocol/types.js';
import type { LightNodePlatform } from './types.js';
import { configValueError } from '../config/errors.js';

export { createLightNodeFrom } from './node.js';
export { fetchGenesis } from './sources/genesis.js';
export type { LightNode, LightNodeFromOptions, LightNodePlatform, NodeStatus } from './types.js';
export type { NodeEvents, NodeEventName } from './events.js';
export type { NodeBridge, PegEvent, PegView } from './bridge/node-pegs.js';
export { AlysLightError, type AlysLightErrorOptions } from '../errors.js';
export { BelowHistoryError, LightNodeError, MetricsUnavailableError, NotSyncedError, NoSourceError } from './errors.js';
export { CheckpointError } from './sources/errors.js';
export type { MetricsSnapshot } from './actors/metrics.js';
export type { SyncStatus } from './actors/sync.js';
export type { ChainStatus } from './actors/chain.js';
export type { SourceScore } from './workflows/scores.js';
export type { Eip1193Provider } from './engine/index.js';
export {
  ProviderRpcError,
  ProviderErrorCode,
  EndpointVerificationError,
  EndpointRequestError,
  AllEndpointsFailedError,
  BlockNotVerifiedError,
  LogQueryLimitError,
} from './engine/index.js';
export type { KvStore } from './storage/kv.js';
export { StorageError } from './storage/kv.js';
export { createMemoryStore } from './storage/memory.js';
export {
  ConfigError,
  ConfigNetworkError,
  ConfigRestartRequiredError,
  ConfigApplyError,
  describeConfig,
  type ConfigInput,
  type LightNodeConfig,
  type ResolvedConfig,
  type ConfigUpdate,
  type ConfigUpdateResult,
} from '../config/index.js';
export { VerificationError, DecodeError, ProtocolError } from '../protocol/errors.js';
export type { ChainSpec } from '../protocol/types.js';

/** `createLightNode(options)`: config keys (camelCase, nested `sync`) plus the extras below. */
export interface CreateLightNodeOptions extends ConfigInput {
  /**
   * The chain spec itself (needed in browsers for the devnet or a custom chain; overrides `network`):
   * a ChainSpec object (used as given), or its JSON text (a chain.json file's contents), read with
   * `parseChainSpecJson`'s rules and errors. From JSON text, a page reads it without the keys' curve
   * checks (`parseChainSpecJsonUnchecked`: no noble curves in the page) and the node checks the keys
   * where it runs, before it starts: a bad key rejects `start()` (and every call) with the DecodeError
   * `parseChainSpecJson` would have thrown.
   */
  chainSpec?: ChainSpec | string;
  /** Replace the runtime's platform (storage, workers, fetch): tests and unusual hosts. */
  platform?: LightNodePlatform;
  /** Engine actors serving verified reads concurrently (default 2). */
  engines?: number;
  /** A provider subscription further behind the verified head is told so and resumes at the head (default 1,024 blocks). */
  subscriptionMaxLag?: number;
}

/**
 * Split the extras off, leaving only config keys for validation. Throws ConfigError for a bad
 * `subscriptionMaxLag` here, synchronously, wherever the node will run (the page, a worker, lazily).
 */
export function splitOptions(options: CreateLightNodeOptions): {
  config: ConfigInput;
  chainSpec?: ChainSpec | string;
  platform?: LightNodePlatform;
  engines?: number;
  subscriptionMaxLag?: number;
} {
  const { chainSpec, platform, engines, subscriptionMaxLag, ...config } = options;
  if (subscriptionMaxLag !== undefined && (!Number.isSafeInteger(subscriptionMaxLag) || subscriptionMaxLag < 1))
    throw configValueError('subscriptionMaxLag', 'a positive integer (blocks)', subscriptionMaxLag);
  return {
    config,
    ...(chainSpec ? { chainSpec } : {}),
    ...(platform ? { platform } : {}),
    ...(engines !== undefined ? { engines } : {}),
    ...(subscriptionMaxLag !== undefined ? { subscriptionMaxLag } : {}),
  };
}
