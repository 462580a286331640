/**
 * Verified EVM reads: account state, blocks, transactions, receipts and logs read from untrusted EVM
 * JSON-RPC endpoints and checked against verified consensus data (a {@link VerifiedPayloadSource}).
 *
 * This module assembles them; each read family, with what it trusts and checks, is in reads/:
 * - state.ts: balance, nonce, code, storage, `eth_getProof` (proofs against the payload's stateRoot);
 * - blocks.ts: blocks, and `checkElBlock` (the EL block must be the payload's);
 * - receipts.ts: a block's receipts (against the payload's receiptsRoot) and the claims beside them;
 * - transactions.ts: transactions and their receipts (located by an endpoint, checked in the payload);
 * - logs.ts: logs from the verified receipts of the blocks whose logsBloom may match (never `eth_getLogs`);
 * - context.ts: what they share (payloads, endpoint pool, cache, limits); cache.ts: the caches.
 * - call/: eth_call and eth_estimateGas executed in an EVM over proven state; loaded lazily (`await import`)
 *   on the first call, so the EVM is not in the core bundle.
 *
 * Results are built from verified values only (format.ts). Absence cannot be proven: a transaction that
 * no endpoint knows (or only as pending, or in a block not verified yet) reads as null once every
 * endpoint was asked.
 */
import type { Hex } from '../../protocol/bytes.js';
import type { ExecutionPayloadCapella } from '../../protocol/types.js';
import { createEndpointPool } from './endpoints.js';
import type { EndpointFault } from './errors.js';
import { checkElBlock, getBlock } from './reads/blocks.js';
import { createReadCache } from './reads/cache.js';
import { checkRef, payloadFor, type ReadContext } from './reads/context.js';
import { getLogs } from './reads/logs.js';
import { getBlockReceipts } from './reads/receipts.js';
import { proveAccount } from './reads/state.js';
import { getTransaction, getTransactionReceipt } from './reads/transactions.js';
import type { CallRequest } from './call/request.js';
import type { CallEngine } from './call/run.js';
import type {
  BlockRef,
  CheckedElBlock,
  EndpointStats,
  LogFilter,
  RpcBlockJson,
  RpcLogJson,
  RpcReceiptJson,
  RpcTransactionJson,
  VerifiedAccount,
  VerifiedPayloadSource,
} from './types.js';
import { configValueError } from '../../config/errors.js';
import { DEFAULT_EVM_MAX_RESPONSE_BYTES } from './endpoints.js';

export interface VerifiedReadsOptions {
  /** One or more EVM JSON-RPC URLs, in order of preference. */
  evmRpc: readonly string[];
  /** Verified consensus data (the chain side of the node). */
  payloads: VerifiedPayloadSource;
  /** Per HTTP request (default 10,000 ms). */
  timeoutMs?: number;
  /** fetch for the HTTP transport (default: the global fetch). */
  fetch?: typeof fetch;
  /** Cap on one response body in bytes (default 32 MiB; larger ones are aborted, a fault of the endpoint). */
  maxResponseBytes?: number;
  /** Called for every endpoint fault (a lie: EndpointVerificationError; a failure: EndpointRequestError). */
  onEndpointFault?: (url: string, error: EndpointFault) => void;
  /** Most blocks one getLogs query may span (default 2,000). */
  maxLogBlockRange?: number;
  /** Most logs one getLogs query may return (default 10,000, as geth). */
  maxLogs?: number;
  /** Blocks whose receipts getLogs fetches at once (default 4). */
  logConcurrency?: number;
  /** How long an endpoint that faulted is tried after the healthy ones (default 60,000 ms). */
  faultCooldownMs?: number;
  /** Clock for the cooldown (default Date.now). */
  now?: () => number;
}

export interface VerifiedReads {
  /** The configured endpoint URLs. */
  readonly endpoints: readonly string[];
  /** The verified head's EL block number. */
  blockNumber(): Promise<bigint>;
  getBalance(address: Hex, ref?: BlockRef): Promise<bigint>;
  getTransactionCount(address: Hex, ref?: BlockRef): Promise<bigint>;
  /** Code whose keccak is the proven codeHash ('0x' for accounts without code). */
  getCode(address: Hex, ref?: BlockRef): Promise<Hex>;
  /** The proven value of a storage slot as 32 bytes (eth_getStorageAt's form). */
  getStorageAt(address: Hex, slot: bigint | Hex, ref?: BlockRef): Promise<Hex>;
  /** The proven account and slots, with the verified proof. */
  getProof(address: Hex, slots?: readonly (bigint | Hex)[], ref?: BlockRef): Promise<VerifiedAccount>;
  /**
   * A verified block; null when no verified block has that number/hash. A tag ('latest', …) without a
   * verified block throws BlockNotVerifiedError (the node is not synced).
   */
  getBlock(ref: BlockRef, includeTransactions?: boolean): Promise<RpcBlockJson | null>;
  /** Verified receipts of a block (null as getBlock). */
  getBlockReceipts(ref: BlockRef): Promise<RpcReceiptJson[] | null>;
  /** A mined transaction in a verified block; null if no endpoint locates it in one. */
  getTransaction(hash: Hex): Promise<RpcTransactionJson | null>;
  /** The verified receipt of a mined transaction; null if no endpoint locates it in a verified block. */
  getTransactionReceipt(hash: Hex): Promise<RpcReceiptJson | null>;
  /** Logs from verified receipts, filtered locally (bounded ranges: LogQueryLimitError). */
  getLogs(filter: LogFilter): Promise<RpcLogJson[]>;
  /** Fetch the EL block of a (verified) payload and check that it is that block. The node runs this on import. */
  checkElBlock(payload: ExecutionPayloadCapella): Promise<CheckedElBlock>;
  /**
   * Execute a call locally against state proven at the verified block (`eth_call`): its return data.
   * ExecutionRevertedError on REVERT, CallExecutionError for other EVM failures. Loads the EVM on first use.
   */
  call(request: CallRequest, ref: BlockRef, options: { chainId: bigint }): Promise<Hex>;
  /** geth's gas estimate for the call, executed as `call` (the answer is a limit at which it succeeded). */
  estimateGas(request: CallRequest, ref: BlockRef, options: { chainId: bigint }): Promise<bigint>;
  /** An UNVERIFIED request, with transport failover across the endpoints (for pass-through methods). */
  forward(method: string, params?: unknown): Promise<unknown>;
  /** Per-endpoint counters. */
  endpointStats(): EndpointStats[];
}

const DEFAULTS = {
  timeoutMs: 10_000,
  maxResponseBytes: DEFAULT_EVM_MAX_RESPONSE_BYTES,
  maxLogBlockRange: 2_000,
  maxLogs: 10_000,
  logConcurrency: 4,
  faultCooldownMs: 60_000,
};

/** Options with their defaults filled in, after checking them (ConfigError for `evmRpc`, TypeError / RangeError for the rest). */
function checkedOptions(options: VerifiedReadsOptions) {
  if (!Array.isArray(options.evmRpc) || options.evmRpc.length === 0)
    throw configValueError('evmRpc', 'at least one URL (http or https)', options.evmRpc);
  for (const url of options.evmRpc) {
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url))
      throw configValueError('evmRpc', 'http(s) URLs', url, 'not an http(s) URL');
  }
  if (typeof options.payloads?.payload !== 'function')
    throw new TypeError('createVerifiedReads: payloads must be a VerifiedPayloadSource');
  const cfg = {
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
    maxLogBlockRange: options.maxLogBlockRange ?? DEFAULTS.maxLogBlockRange,
    maxLogs: options.maxLogs ?? DEFAULTS.maxLogs,
    logConcurrency: options.logConcurrency ?? DEFAULTS.logConcurrency,
    faultCooldownMs: options.faultCooldownMs ?? DEFAULTS.faultCooldownMs,
  };
  for (const key of ['maxLogBlockRange', 'maxLogs', 'logConcurrency', 'timeoutMs', 'maxResponseBytes'] as const)
    if (!Number.isSafeInteger(cfg[key]) || cfg[key] < 1)
      throw new RangeError(`createVerifiedReads: ${key} must be a positive integer`);
  return cfg;
}

export function createVerifiedReads(options: VerifiedReadsOptions): VerifiedReads {
  const cfg = checkedOptions(options);
  const pool = createEndpointPool({
    urls: [...options.evmRpc],
    timeoutMs: cfg.timeoutMs,
    maxResponseBytes: cfg.maxResponseBytes,
    fetch: options.fetch,
    onFault: options.onEndpointFault,
    faultCooldownMs: cfg.faultCooldownMs,
    now: options.now ?? (() => Date.now()),
  });
  const ctx: ReadContext = {
    source: options.payloads,
    pool,
    cache: createReadCache(),
    limits: { maxLogBlockRange: cfg.maxLogBlockRange, maxLogs: cfg.maxLogs, logConcurrency: cfg.logConcurrency },
  };
  let calls: Promise<CallEngine> | undefined;
  // The EVM and everything it needs load here, on the first call only (a lazy chunk for bundlers).
  const callEngine = () =>
    (calls ??= import('./call/run.js').then(
      (m) => m.createCallEngine(ctx),
      (e: unknown) => {
        calls = undefined;
        throw e;
      },
    ));
  return {
    endpoints: pool.urls,
    blockNumber: async () => (await payloadFor(ctx, 'latest')).blockNumber,
    getBalance: async (address, ref = 'latest') => (await proveAccount(ctx, address, [], ref, false)).balance,
    getTransactionCount: async (address, ref = 'latest') => (await proveAccount(ctx, address, [], ref, false)).nonce,
    getCode: async (address, ref = 'latest') => (await proveAccount(ctx, address, [], ref, true)).code!,
    getStorageAt: async (address, slot, ref = 'latest') => {
      const a = await proveAccount(ctx, address, [slot], ref, false);
      return `0x${a.storage[0]!.value.toString(16).padStart(64, '0')}`;
    },
    getProof: async (address, slots = [], ref = 'latest') => {
      const { code: _code, ...account } = await proveAccount(ctx, address, slots, ref, false);
      return account;
    },
    // the reads that show or check senders (`from`) load sender recovery first (cache.ts)
    getBlock: async (ref, includeTransactions) => {
      if (includeTransactions === true) await ctx.cache.loadSenderRecovery();
      return getBlock(ctx, ref, includeTransactions);
    },
    getBlockReceipts: async (ref) => (await ctx.cache.loadSenderRecovery(), getBlockReceipts(ctx, ref)),
    getTransaction: async (hash) => (await ctx.cache.loadSenderRecovery(), getTransaction(ctx, hash)),
    getTransactionReceipt: async (hash) => (await ctx.cache.loadSenderRecovery(), getTransactionReceipt(ctx, hash)),
    getLogs: async (filter) => (await ctx.cache.loadSenderRecovery(), getLogs(ctx, filter)),
    checkElBlock: (payload) => checkElBlock(ctx, payload),
    call: async (request, ref, { chainId }) =>
      (await callEngine()).call(await payloadFor(ctx, checkRef(ref)), request, chainId),
    estimateGas: async (request, ref, { chainId }) =>
      (await callEngine()).estimateGas(await payloadFor(ctx, checkRef(ref)), request, chainId),
    forward: (method, params) => pool.forward(method, params),
    endpointStats: () => pool.stats(),
  };
}
