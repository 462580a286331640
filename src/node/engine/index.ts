/**
 * The light node's execution side: verified EVM reads against verified consensus data, and an EIP-1193
 * provider over them (see reads.ts and provider.ts for what is checked and how).
 */
export { createVerifiedReads, type VerifiedReads, type VerifiedReadsOptions } from './reads.js';
export {
  createEip1193Provider,
  toProviderRpcError,
  type Eip1193Provider,
  type Eip1193ProviderOptions,
  type Eip1193RequestArguments,
  type Eip1193EventListener,
} from './provider.js';
export {
  createSubscriptionHub,
  type SubscriptionHub,
  type SubscriptionHubOptions,
  type DeliveredLog,
  type HeadJson,
} from './subscriptions.js';
export {
  AllEndpointsFailedError,
  BlockNotVerifiedError,
  EndpointRequestError,
  EndpointVerificationError,
  LogQueryLimitError,
  ProviderErrorCode,
  ProviderRpcError,
  type EndpointFault,
  type EndpointRequestFailure,
} from './errors.js';
export type * from './types.js';
