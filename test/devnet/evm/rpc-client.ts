/** A tiny in-process JSON-RPC client over engine.handleRpc for tests. */
import type { ExecutionEngine } from '../../../src/devnet/types.js';

export class RpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

let nextId = 1;

export async function rpc<T = unknown>(engine: ExecutionEngine, method: string, params: unknown[] = []): Promise<T> {
  const res = (await engine.handleRpc({ jsonrpc: '2.0', id: nextId++, method, params })) as {
    result?: T;
    error?: { code: number; message: string; data?: unknown };
  };
  if (res.error !== undefined) throw new RpcCallError(res.error.code, res.error.message, res.error.data);
  return res.result as T;
}

/** The error of a call that must fail. */
export async function rpcError(
  engine: ExecutionEngine,
  method: string,
  params: unknown[] = [],
): Promise<{ code: number; message: string; data?: unknown }> {
  const res = (await engine.handleRpc({ jsonrpc: '2.0', id: nextId++, method, params })) as {
    result?: unknown;
    error?: { code: number; message: string; data?: unknown };
  };
  if (res.error === undefined)
    throw new Error(`${method} succeeded with ${JSON.stringify(res.result)}, an error was expected`);
  return res.error;
}
