/**
 * Errors of the devnet engine. {@link RpcError} carries a JSON-RPC error code and message as geth
 * answers them; {@link EngineError} is what the consensus side gets from buildPayload & co.
 */
import type { Hex } from '../../protocol/types.js';

/** JSON-RPC error codes as geth uses them. */
export const RpcCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  /** geth's generic server-side error (nonce too low, header not found, ...) */
  server: -32000,
  /** `query returned more than N results` (eth_getLogs limit, as Infura/Alchemy/reth use) */
  limitExceeded: -32005,
  /** geth: unknown block for safe/finalized before the consensus layer set them */
  unknownBlock: -39001,
  /** EVM revert, with the revert data in `data` */
  executionReverted: 3,
} as const;

export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Hex,
  ) {
    super(message);
  }
}

/** Invalid params, in geth's wording: `invalid argument <i>: <problem>`. */
export function invalidArgument(index: number, problem: string): RpcError {
  return new RpcError(RpcCode.invalidParams, `invalid argument ${index}: ${problem}`);
}

/** A refused buildPayload / sendRawTransaction / setFinalized call; `check` names the rule. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly check: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
