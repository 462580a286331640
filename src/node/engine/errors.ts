/**
 * Typed errors of the engine (viem `BaseError` style: a short message, then details).
 *
 * - {@link EndpointVerificationError}: an EVM endpoint's answer failed a check (a lie, or malformed
 *   data). `check` is stable: the protocol library's names (`getproof.balance`, `rpc-block.hash`,
 *   `receipts.root`, …) or the engine's own (`el-block.*`, `tx-location.*`, `receipt.*`, `tx.*`,
 *   `code.hash`, `rpc.malformed-response`, `rpc.wrong-request`, `rpc.batch-reply`).
 * - {@link EndpointRequestError}: the endpoint did not answer usefully (transport failure, JSON-RPC
 *   error, or a verified block it does not have). Not a lie, but still a fault to score.
 * - {@link AllEndpointsFailedError}: several endpoints were tried and none gave a verifiable answer.
 *   With a single endpoint configured, its own error is thrown instead.
 * - {@link BlockNotVerifiedError}: the node has no verified block for the reference (not synced yet).
 * - {@link LogQueryLimitError}: an `eth_getLogs` query over a limit.
 * - {@link ExecutionRevertedError}, {@link CallExecutionError}: a verified call reverted / failed in the EVM.
 * - {@link ProviderRpcError}: what the EIP-1193 provider rejects with (`code`, `message`, `data`).
 *
 * All are {@link AlysLightError}s (src/errors.ts). Codes: the `check` for EndpointVerificationError,
 * `endpoint.<reason>` for EndpointRequestError, `endpoint.all-failed`, `block-not-verified`,
 * `log-query-limit`, `call.reverted`, `call.failed`; ProviderRpcError keeps the numeric EIP-1193 / EIP-1474 code.
 */
import { AlysLightError } from '../../errors.js';
import { VerificationError } from '../../protocol/errors.js';
import type { BlockRef } from './types.js';

export class EndpointVerificationError extends VerificationError {
  override name = 'EndpointVerificationError';
  /** The endpoint URL that served the data. */
  readonly endpoint: string;
  /** The JSON-RPC method whose answer failed (the last request made when the check failed). */
  readonly method: string;
  /** The problem without the endpoint prefix. */
  readonly problem: string;

  constructor(
    check: string,
    problem: string,
    options: { endpoint: string; method: string; details?: string; cause?: unknown },
  ) {
    super(check, `${check}: ${options.endpoint} (${options.method}): ${problem}`, {
      details: options.details ?? 'the endpoint served data that contradicts verified consensus data; it was skipped',
      cause: options.cause,
    });
    this.endpoint = options.endpoint;
    this.method = options.method;
    this.problem = problem;
  }
}

export type EndpointRequestFailure = 'transport' | 'rpc-error' | 'missing' | 'response-too-large';

export class EndpointRequestError extends AlysLightError {
  override name = 'EndpointRequestError';
  /** `endpoint.transport`, `endpoint.rpc-error` or `endpoint.missing` (see `reason`). */
  declare readonly code: `endpoint.${EndpointRequestFailure}`;
  readonly endpoint: string;
  readonly method: string;
  /**
   * transport: no usable HTTP answer (refused, timeout, bad status); rpc-error: a JSON-RPC error; missing: null
   * for data that exists; response-too-large: a body past the cap (aborted there; cause ResponseTooLargeError).
   */
  readonly reason: EndpointRequestFailure;
  /** The JSON-RPC error code, for `rpc-error`. */
  readonly rpcCode: number | undefined;

  constructor(
    reason: EndpointRequestFailure,
    problem: string,
    options: { endpoint: string; method: string; rpcCode?: number; cause?: unknown },
  ) {
    super(`endpoint.${reason}`, `${options.endpoint} (${options.method}): ${problem}`, { cause: options.cause });
    this.reason = reason;
    this.endpoint = options.endpoint;
    this.method = options.method;
    this.rpcCode = options.rpcCode;
  }
}

/** A fault reported through `onEndpointFault`. */
export type EndpointFault = EndpointVerificationError | EndpointRequestError;

export class AllEndpointsFailedError extends AlysLightError {
  override name = 'AllEndpointsFailedError';
  declare readonly code: 'endpoint.all-failed';
  /** One fault per endpoint tried, in the order tried. */
  readonly errors: readonly EndpointFault[];

  constructor(what: string, errors: readonly EndpointFault[]) {
    super(
      'endpoint.all-failed',
      `no endpoint gave a verifiable answer to ${what}:\n${errors.map((e) => `  - ${e instanceof EndpointVerificationError ? `[${e.check}] ` : `[${e.reason}] `}${e.message.split('\n')[0]}`).join('\n')}`,
      { cause: errors[0] },
    );
    this.errors = errors;
  }

  /** The verification failures among the errors (the endpoints that lied). */
  get lies(): EndpointVerificationError[] {
    return this.errors.filter((e): e is EndpointVerificationError => e instanceof EndpointVerificationError);
  }
}

export function describeRef(ref: BlockRef): string {
  return typeof ref === 'bigint' ? `block ${ref}` : ref.length === 66 ? `block ${ref}` : `'${ref}'`;
}

export class BlockNotVerifiedError extends AlysLightError {
  override name = 'BlockNotVerifiedError';
  declare readonly code: 'block-not-verified';
  readonly ref: BlockRef;

  constructor(ref: BlockRef, why = 'the node has not verified it (not synced that far, or the block is unknown)') {
    super('block-not-verified', `no verified block for ${describeRef(ref)}: ${why}`);
    this.ref = ref;
  }
}

export class LogQueryLimitError extends AlysLightError {
  override name = 'LogQueryLimitError';
  declare readonly code: 'log-query-limit';
  readonly limit: 'blocks' | 'logs';
  readonly max: number;

  constructor(limit: 'blocks' | 'logs', max: number, requested: string) {
    super(
      'log-query-limit',
      limit === 'blocks'
        ? `eth_getLogs over ${requested} blocks: at most ${max} blocks per query are verified; split the range`
        : `eth_getLogs matched more than ${max} logs (${requested}); narrow the range or the filter`,
    );
    this.limit = limit;
    this.max = max;
  }
}

/**
 * A verified call (eth_call / eth_estimateGas) ended in REVERT: `data` is the revert bytes, `reason`
 * the Error(string) message when there is one. The provider answers as geth: code 3,
 * "execution reverted: <reason>", data = the revert bytes.
 */
export class ExecutionRevertedError extends AlysLightError {
  override name = 'ExecutionRevertedError';
  declare readonly code: 'call.reverted';
  readonly data: `0x${string}`;
  readonly reason: string | undefined;

  constructor(data: `0x${string}`, reason: string | undefined) {
    super('call.reverted', reason === undefined ? 'execution reverted' : `execution reverted: ${reason}`);
    this.data = data;
    this.reason = reason;
  }
}

/**
 * A verified call failed in the EVM other than by REVERT (out of gas, invalid opcode, insufficient
 * funds, intrinsic gas too low, gas required exceeds allowance): geth's message; the provider answers -32000.
 */
export class CallExecutionError extends AlysLightError {
  override name = 'CallExecutionError';
  declare readonly code: 'call.failed';

  constructor(message: string) {
    super('call.failed', message);
  }
}

/** EIP-1193 / EIP-1474 error codes the provider uses. */
export const ProviderErrorCode = {
  /** EIP-1193: the method is not supported (here: cannot be verified and is not allow-listed). */
  unsupportedMethod: 4200,
  /** EIP-1193: the provider is disconnected from the chain (the node stopped or lost its sources). */
  disconnected: 4900,
  /** EIP-1474: invalid method parameters. */
  invalidParams: -32602,
  /** EIP-1474: internal error (a bug, not the endpoint). */
  internal: -32603,
  /** EIP-1474: resource not found (no verified block for the reference). */
  resourceNotFound: -32001,
  /** EIP-1474: resource unavailable (no endpoint gave a verifiable answer). */
  resourceUnavailable: -32002,
  /** EIP-1474: limit exceeded (log query too large). */
  limitExceeded: -32005,
  /** geth: execution reverted (eth_call / eth_estimateGas), data = the revert bytes. */
  executionReverted: 3,
  /** geth: a call failed in the EVM (out of gas, invalid opcode, ...). */
  callFailed: -32000,
} as const;

/**
 * The EIP-1193 error shape: `code`, `message`, optional `data`; the engine error as `cause`. The one
 * {@link AlysLightError} whose `code` is a number (a {@link ProviderErrorCode} or the endpoint's own):
 * wallets and viem read it.
 */
export class ProviderRpcError extends AlysLightError {
  override name = 'ProviderRpcError';
  declare readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, options: { data?: unknown; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.data = options.data;
  }
}
