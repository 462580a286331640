/**
 * An EIP-1193 provider over the verified reads: what a dapp or viem (`custom(provider)`) talks to.
 *
 * Verified methods (answers are built from verified data only, JSON-RPC shaped so viem's formatters work):
 * eth_chainId, net_version (configuration), eth_blockNumber (verified head), eth_getBalance,
 * eth_getTransactionCount, eth_getCode, eth_getStorageAt, eth_getProof, eth_getBlockByNumber,
 * eth_getBlockByHash, eth_getBlockReceipts, eth_getTransactionByHash, eth_getTransactionReceipt, eth_getLogs,
 * eth_call and eth_estimateGas (executed locally in an EVM over proven state, call/; state overrides: -32602;
 * a revert is geth's code 3 "execution reverted: <reason>" with the revert bytes as data, other EVM failures -32000).
 *
 * Everything else (eth_sendRawTransaction, eth_gasPrice, …) rejects with
 * ProviderRpcError 4200 unless the caller allow-lists it in `passThrough`; then it is forwarded
 * UNVERIFIED (`forward`, by default the reads' endpoints with transport failover). The same holds for a
 * verifiable method asked about the `pending` block, whose state no consensus data covers.
 *
 * Error codes: 4200 unverifiable and not allow-listed; -32602 invalid params; -32001 no verified block
 * for the reference (not synced, or below the verified history: BelowHistoryError is the cause); -32002 no endpoint gave a verifiable answer (`data` names the check and
 * the endpoint; the engine error is the `cause`); -32005 log query over a limit; -32603 internal.
 * Forwarded methods reject with the endpoint's own code, message and data (e.g. revert data of eth_call).
 *
 * The provider never writes to what it is given: params are read, and new objects are built for the
 * reads and for results. Events, subscriptions and filters (`connect`, `disconnect`, `message`;
 * eth_subscribe, eth_newFilter, ...) come from a `subscriptions` hub (subscriptions.ts) when one is
 * given (the light node gives one); without it, `on`/`removeListener` are accepted and nothing is
 * emitted. The chain is fixed by configuration, so 'chainChanged' never fires.
 */
import { DecodeError } from '../../protocol/errors.js';
import { BelowHistoryError } from '../errors.js';
import {
  AllEndpointsFailedError,
  BlockNotVerifiedError,
  CallExecutionError,
  ExecutionRevertedError,
  EndpointRequestError,
  EndpointVerificationError,
  LogQueryLimitError,
  ProviderErrorCode,
  ProviderRpcError,
} from './errors.js';
import type { VerifiedReads } from './reads.js';
import type { SubscriptionHub } from './subscriptions.js';
import { parseCallRequest } from './call/request.js';
import { toQuantity } from '../../protocol/execution/json.js';
import type { BlockRef, Hex, LogFilter } from './types.js';

export interface Eip1193RequestArguments {
  readonly method: string;
  readonly params?: readonly unknown[] | object;
}

export type Eip1193EventListener = (...args: unknown[]) => void;

export interface Eip1193Provider {
  request(args: Eip1193RequestArguments): Promise<unknown>;
  on(event: string, listener: Eip1193EventListener): Eip1193Provider;
  removeListener(event: string, listener: Eip1193EventListener): Eip1193Provider;
  /** The methods answered with verified data. */
  readonly verifiedMethods: readonly string[];
}

export interface Eip1193ProviderOptions {
  reads: VerifiedReads;
  /** The EVM chain id (e.g. 121212 for Alys dev). */
  chainId: bigint | number;
  /** Methods that may be forwarded UNVERIFIED when they cannot be verified. */
  passThrough?: readonly string[];
  /** How to forward them (default: `reads.forward`, the EVM endpoints with transport failover). */
  forward?: (method: string, params: unknown) => Promise<unknown>;
  /** Subscriptions, filters and events (createSubscriptionHub); it outlives providers rebuilt over it. */
  subscriptions?: SubscriptionHub;
  /** More verified methods by name (the light node's `alys_getProofBundle`, bundle.ts). */
  methods?: Record<string, (params: unknown) => Promise<unknown>>;
}

const PENDING = Symbol('pending');
type Ref = BlockRef | typeof PENDING;

const TAGS = new Set(['latest', 'safe', 'finalized', 'earliest']);
const QUANTITY_RE = /^0x[0-9a-fA-F]{1,16}$/;
const HASH_RE = /^0x[0-9a-fA-F]{64}$/;

function invalid(message: string): ProviderRpcError {
  return new ProviderRpcError(ProviderErrorCode.invalidParams, `invalid params: ${message}`);
}

/** A block tag or number (eth_getBlockByNumber, log ranges). */
function blockNumberParam(v: unknown, name: string): Ref {
  if (v === 'pending') return PENDING;
  if (typeof v === 'string' && TAGS.has(v)) return v as BlockRef;
  if (typeof v === 'string' && QUANTITY_RE.test(v)) return BigInt(v);
  throw invalid(
    `${name} must be a block tag (latest, safe, finalized, earliest) or a hex block number, got ${JSON.stringify(v)}`,
  );
}

/** A block tag, number, hash, or EIP-1898 object (state methods); omitted = latest. */
function blockParam(v: unknown, name = 'block'): Ref {
  if (v === undefined || v === null) return 'latest';
  if (typeof v === 'string' && HASH_RE.test(v)) return v.toLowerCase() as Hex;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (o['blockHash'] !== undefined && o['blockNumber'] !== undefined)
      throw invalid(`${name}: give blockHash or blockNumber, not both`);
    if (typeof o['blockHash'] === 'string' && HASH_RE.test(o['blockHash'])) return o['blockHash'].toLowerCase() as Hex;
    if (o['blockNumber'] !== undefined) return blockNumberParam(o['blockNumber'], `${name}.blockNumber`);
    throw invalid(`${name}: an EIP-1898 object needs a 32-byte blockHash or a blockNumber`);
  }
  return blockNumberParam(v, name);
}

function addressParam(v: unknown, name = 'address'): Hex {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v))
    throw invalid(`${name} must be a 20-byte 0x address, got ${JSON.stringify(v)}`);
  return v.toLowerCase() as Hex;
}

function hashParam(v: unknown, name: string): Hex {
  if (typeof v !== 'string' || !HASH_RE.test(v))
    throw invalid(`${name} must be a 32-byte 0x hash, got ${JSON.stringify(v)}`);
  return v.toLowerCase() as Hex;
}

function slotParam(v: unknown, name: string): Hex {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v))
    throw invalid(`${name} must be 0x hex of at most 32 bytes, got ${JSON.stringify(v)}`);
  return v.toLowerCase() as Hex;
}

function boolParam(v: unknown, name: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw invalid(`${name} must be true or false`);
  return v;
}

function positional(params: unknown, min: number, max: number): readonly unknown[] {
  if (params === undefined) params = [];
  if (!Array.isArray(params)) throw invalid('params must be an array');
  if (params.length < min || params.length > max)
    throw invalid(`expected ${min === max ? min : `${min} to ${max}`} parameters, got ${params.length}`);
  return params;
}

function hexListParam(v: unknown, name: string, check: (x: unknown, n: string) => Hex): Hex | Hex[] {
  if (typeof v === 'string') return check(v, name);
  if (!Array.isArray(v)) throw invalid(`${name} must be a hex string or a list of them`);
  return v.map((x, i) => check(x, `${name}[${i}]`));
}

/** A JSON-RPC log filter as a new LogFilter (the input is only read). */
function logFilterParam(v: unknown): { filter: LogFilter; pending: boolean } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid('the filter must be an object');
  const o = v as Record<string, unknown>;
  const filter: LogFilter = {};
  let pending = false;
  const ref = (x: unknown, name: string): BlockRef | undefined => {
    if (x === undefined || x === null) return undefined;
    const r = blockNumberParam(x, name);
    if (r === PENDING) {
      pending = true;
      return undefined;
    }
    return r;
  };
  if (o['blockHash'] !== undefined && o['blockHash'] !== null) {
    if ((o['fromBlock'] ?? null) !== null || (o['toBlock'] ?? null) !== null)
      throw invalid('blockHash cannot be combined with fromBlock/toBlock');
    filter.blockHash = hashParam(o['blockHash'], 'filter.blockHash');
  } else {
    filter.fromBlock = ref(o['fromBlock'], 'filter.fromBlock');
    filter.toBlock = ref(o['toBlock'], 'filter.toBlock');
  }
  if (o['address'] !== undefined && o['address'] !== null)
    filter.address = hexListParam(o['address'], 'filter.address', addressParam);
  if (o['topics'] !== undefined && o['topics'] !== null) {
    const t = o['topics'];
    if (!Array.isArray(t)) throw invalid('filter.topics must be a list');
    if (t.length > 4) throw invalid('filter.topics has more than 4 positions');
    filter.topics = t.map((x, i) => (x === null ? null : hexListParam(x, `filter.topics[${i}]`, hashParam)));
  }
  return { filter, pending };
}

/** A JSON-RPC log filter for subscriptions and filters: 'pending' is refused. */
export function subscriptionLogFilter(v: unknown): LogFilter {
  const { filter, pending } = logFilterParam(v);
  if (pending) throw invalid("the 'pending' block is not covered by consensus data");
  return filter;
}

function plainRef(ref: BlockRef): string {
  return typeof ref === 'bigint' ? toQuantity(ref) : ref;
}

/** The EIP-1193 error for an engine error (the original is the cause). */
export function toProviderRpcError(e: unknown): ProviderRpcError {
  if (e instanceof ProviderRpcError) return e;
  if (e instanceof EndpointVerificationError)
    return new ProviderRpcError(
      ProviderErrorCode.resourceUnavailable,
      `verification failed (${e.check}) for ${e.endpoint}: ${e.problem}`,
      {
        data: { check: e.check, endpoint: e.endpoint, method: e.method },
        cause: e,
      },
    );
  if (e instanceof EndpointRequestError)
    return new ProviderRpcError(ProviderErrorCode.resourceUnavailable, `endpoint failed: ${e.message}`, {
      data: {
        endpoint: e.endpoint,
        method: e.method,
        reason: e.reason,
        ...(e.rpcCode === undefined ? {} : { rpcCode: e.rpcCode }),
      },
      cause: e,
    });
  if (e instanceof AllEndpointsFailedError)
    return new ProviderRpcError(ProviderErrorCode.resourceUnavailable, e.message, {
      data: {
        errors: e.errors.map((x) =>
          x instanceof EndpointVerificationError
            ? { endpoint: x.endpoint, method: x.method, check: x.check }
            : { endpoint: x.endpoint, method: x.method, reason: x.reason },
        ),
      },
      cause: e,
    });
  if (e instanceof BlockNotVerifiedError)
    return new ProviderRpcError(ProviderErrorCode.resourceNotFound, e.message, {
      data: { block: plainRef(e.ref) },
      cause: e,
    });
  if (e instanceof BelowHistoryError)
    return new ProviderRpcError(ProviderErrorCode.resourceNotFound, e.message, {
      data: { block: toQuantity(e.number), historyFrom: toQuantity(e.historyFrom) },
      cause: e,
    });
  if (e instanceof LogQueryLimitError)
    return new ProviderRpcError(ProviderErrorCode.limitExceeded, e.message, {
      data: { limit: e.limit, max: e.max },
      cause: e,
    });
  if (e instanceof ExecutionRevertedError)
    return new ProviderRpcError(ProviderErrorCode.executionReverted, e.shortMessage, { data: e.data, cause: e });
  if (e instanceof CallExecutionError)
    return new ProviderRpcError(ProviderErrorCode.callFailed, e.shortMessage, { cause: e });
  if (e instanceof DecodeError)
    return new ProviderRpcError(ProviderErrorCode.invalidParams, `invalid params: ${e.message}`, { cause: e });
  return new ProviderRpcError(
    ProviderErrorCode.internal,
    `internal error: ${e instanceof Error ? e.message : String(e)}`,
    { cause: e },
  );
}

/** The endpoint's JSON-RPC error (deepest object with a numeric code in the cause chain) as a ProviderRpcError. */
function forwardedError(method: string, e: unknown): ProviderRpcError {
  if (e instanceof ProviderRpcError) return e;
  let found: { code: number; message?: unknown; data?: unknown } | undefined;
  for (
    let x: unknown = e, depth = 0;
    x !== null && typeof x === 'object' && depth < 10;
    x = (x as { cause?: unknown }).cause, depth++
  ) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'number' && code !== -1) found = x as { code: number; message?: unknown; data?: unknown };
  }
  if (found !== undefined) {
    const message = typeof found.message === 'string' ? found.message.split('\n')[0]! : `${method} failed`;
    return new ProviderRpcError(found.code, message, {
      ...(found.data === undefined ? {} : { data: found.data }),
      cause: e,
    });
  }
  return new ProviderRpcError(
    ProviderErrorCode.resourceUnavailable,
    `${method} (forwarded, unverified) failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
    {
      cause: e,
    },
  );
}

export function createEip1193Provider(options: Eip1193ProviderOptions): Eip1193Provider {
  const { reads } = options;
  if (reads === undefined || typeof reads.getBalance !== 'function')
    throw new TypeError('createEip1193Provider: reads must come from createVerifiedReads');
  const chainId = BigInt(options.chainId);
  if (chainId <= 0n) throw new RangeError('createEip1193Provider: chainId must be positive');
  const passThrough = new Set(options.passThrough ?? []);
  const forward = options.forward ?? ((method: string, params: unknown) => reads.forward(method, params));
  const listeners = new Map<string, Set<Eip1193EventListener>>();

  /** A state/block reference, or the refusal (or forward) for 'pending'. */
  const withRef = (
    method: string,
    ref: Ref,
    params: unknown,
    run: (ref: BlockRef) => Promise<unknown>,
  ): Promise<unknown> =>
    ref === PENDING ? unverifiable(method, params, "the 'pending' block is not covered by consensus data") : run(ref);

  async function unverifiable(method: string, params: unknown, why?: string): Promise<unknown> {
    if (passThrough.has(method)) {
      try {
        return await forward(method, params);
      } catch (e) {
        throw forwardedError(method, e);
      }
    }
    throw new ProviderRpcError(
      ProviderErrorCode.unsupportedMethod,
      `unsupported/unverifiable method ${method}${why === undefined ? '' : ` (${why})`}: the light node cannot verify its answer; add it to passThrough to forward it unverified`,
      { data: { method } },
    );
  }

  const handlers: Record<string, (params: unknown) => Promise<unknown>> = {
    eth_chainId: async (params) => (positional(params, 0, 0), toQuantity(chainId)),
    net_version: async (params) => (positional(params, 0, 0), chainId.toString()),
    eth_blockNumber: async (params) => (positional(params, 0, 0), toQuantity(await reads.blockNumber())),
    eth_getBalance: async (params) => {
      const p = positional(params, 1, 2);
      const address = addressParam(p[0]);
      return withRef('eth_getBalance', blockParam(p[1]), params, async (ref) =>
        toQuantity(await reads.getBalance(address, ref)),
      );
    },
    eth_getTransactionCount: async (params) => {
      const p = positional(params, 1, 2);
      const address = addressParam(p[0]);
      return withRef('eth_getTransactionCount', blockParam(p[1]), params, async (ref) =>
        toQuantity(await reads.getTransactionCount(address, ref)),
      );
    },
    eth_getCode: async (params) => {
      const p = positional(params, 1, 2);
      const address = addressParam(p[0]);
      return withRef('eth_getCode', blockParam(p[1]), params, (ref) => reads.getCode(address, ref));
    },
    eth_getStorageAt: async (params) => {
      const p = positional(params, 2, 3);
      const address = addressParam(p[0]);
      const slot = slotParam(p[1], 'slot');
      return withRef('eth_getStorageAt', blockParam(p[2]), params, (ref) => reads.getStorageAt(address, slot, ref));
    },
    eth_getProof: async (params) => {
      const p = positional(params, 2, 3);
      const address = addressParam(p[0]);
      if (!Array.isArray(p[1])) throw invalid('storage keys must be a list');
      const slots = (p[1] as unknown[]).map((k, i) => slotParam(k, `storageKeys[${i}]`));
      return withRef(
        'eth_getProof',
        blockParam(p[2]),
        params,
        async (ref) => (await reads.getProof(address, slots, ref)).proof,
      );
    },
    eth_getBlockByNumber: async (params) => {
      const p = positional(params, 1, 2);
      const ref = blockNumberParam(p[0], 'block');
      const full = boolParam(p[1], 'includeTransactions');
      return withRef('eth_getBlockByNumber', ref, params, (r) => reads.getBlock(r, full));
    },
    eth_getBlockByHash: async (params) => {
      const p = positional(params, 1, 2);
      const hash = hashParam(p[0], 'blockHash');
      return reads.getBlock(hash, boolParam(p[1], 'includeTransactions'));
    },
    eth_getBlockReceipts: async (params) => {
      const p = positional(params, 1, 1);
      return withRef('eth_getBlockReceipts', blockParam(p[0]), params, (ref) => reads.getBlockReceipts(ref));
    },
    eth_getTransactionByHash: async (params) =>
      reads.getTransaction(hashParam(positional(params, 1, 1)[0], 'transactionHash')),
    eth_getTransactionReceipt: async (params) =>
      reads.getTransactionReceipt(hashParam(positional(params, 1, 1)[0], 'transactionHash')),
    eth_call: async (params) => {
      const p = positional(params, 1, 3);
      const request = parseCallRequest(p[0]);
      if (p[2] !== undefined && p[2] !== null && (typeof p[2] !== 'object' || Object.keys(p[2]).length > 0))
        throw invalid('state overrides are not supported by verified calls');
      return withRef('eth_call', blockParam(p[1]), params, (ref) => reads.call(request, ref, { chainId }));
    },
    eth_estimateGas: async (params) => {
      const p = positional(params, 1, 3);
      const request = parseCallRequest(p[0]);
      if (p[2] !== undefined && p[2] !== null && (typeof p[2] !== 'object' || Object.keys(p[2]).length > 0))
        throw invalid('state overrides are not supported by verified calls');
      return withRef('eth_estimateGas', blockParam(p[1]), params, async (ref) =>
        toQuantity(await reads.estimateGas(request, ref, { chainId })),
      );
    },
    eth_getLogs: async (params) => {
      const p = positional(params, 1, 1);
      const { filter, pending } = logFilterParam(p[0]);
      if (pending) return unverifiable('eth_getLogs', params, "the 'pending' block is not covered by consensus data");
      return reads.getLogs(filter);
    },
  };

  const hub = options.subscriptions;
  if (hub !== undefined) Object.assign(handlers, hub.methods);
  if (options.methods !== undefined) Object.assign(handlers, options.methods);

  const provider: Eip1193Provider = {
    verifiedMethods: Object.keys(handlers),
    async request(args: Eip1193RequestArguments): Promise<unknown> {
      if (args === null || typeof args !== 'object' || typeof args.method !== 'string' || args.method.length === 0)
        throw new ProviderRpcError(-32600, 'invalid request: expected { method: string, params?: unknown[] }');
      const { method, params } = args;
      const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
      if (handler === undefined) return unverifiable(method, params);
      try {
        return await handler(params);
      } catch (e) {
        throw toProviderRpcError(e);
      }
    },
    on(event: string, listener: Eip1193EventListener) {
      if (hub !== undefined) hub.on(event, listener);
      else {
        let set = listeners.get(event);
        if (set === undefined) listeners.set(event, (set = new Set()));
        set.add(listener);
      }
      return provider;
    },
    removeListener(event: string, listener: Eip1193EventListener) {
      if (hub !== undefined) hub.removeListener(event, listener);
      else listeners.get(event)?.delete(listener);
      return provider;
    },
  };
  return provider;
}

/**
 * A provider that keeps its identity while the provider behind it is replaced: every call goes to
 * `current()` at call time (the light node rebuilds its provider when `passThrough` changes, and
 * callers keep the object they were given).
 */
export function createStableProvider(current: () => Eip1193Provider): Eip1193Provider {
  return {
    request: (args) => current().request(args),
    on: (event, listener) => current().on(event, listener),
    removeListener: (event, listener) => current().removeListener(event, listener),
    get verifiedMethods() {
      return current().verifiedMethods;
    },
  };
}
