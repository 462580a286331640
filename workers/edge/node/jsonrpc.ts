/**
 * JSON-RPC 2.0 over an EIP-1193 provider (the Durable Object's `POST /rpc`): one call or a batch, each
 * answered by `provider.request`. Whatever is wrong with a request becomes a JSON-RPC error object,
 * never a throw: -32700 unparsable body, -32600 not a request (or an empty or too large batch), and the
 * provider's own error codes (-32601 unknown method, -32602 bad params, 4200/4900/..., see
 * src/node/engine/errors.ts). Notifications (no `id`) are run and get no answer. Subscriptions need a
 * connection: `eth_subscribe` over HTTP is -32601.
 */
import type { Eip1193Provider } from '../../../src/node/engine/provider.js';
import { toProviderRpcError } from '../../../src/node/engine/provider.js';

/** The most calls one batch may carry. */
export const MAX_BATCH = 100;

type Id = string | number | null;
export interface JsonRpcError {
  code: number;
  message: string;
  data?: unknown;
}
export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: Id; result: unknown }
  | { jsonrpc: '2.0'; id: Id; error: JsonRpcError };

const failure = (id: Id, code: number, message: string, data?: unknown): JsonRpcResponse => ({
  jsonrpc: '2.0',
  id,
  error: { code, message, ...(data === undefined ? {} : { data }) },
});

/** The answer to a parsed body: a response, an array of them (a batch), or undefined (notifications only). */
export async function answerJsonRpc(
  provider: Eip1193Provider,
  body: unknown,
): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
  if (!Array.isArray(body)) return answerCall(provider, body);
  if (body.length === 0) return failure(null, -32600, 'invalid request: an empty batch');
  if (body.length > MAX_BATCH)
    return failure(null, -32600, `invalid request: a batch of ${body.length} calls (at most ${MAX_BATCH})`);
  const answers = await Promise.all(body.map((call) => answerCall(provider, call)));
  const sent = answers.filter((a): a is JsonRpcResponse => a !== undefined);
  return sent.length > 0 ? sent : undefined;
}

/** The error of a body that is not JSON. */
export function parseError(message: string): JsonRpcResponse {
  return failure(null, -32700, `parse error: ${message}`);
}

/** The id of a call if it is a usable one (string, number, null), else null. */
function idOf(call: Record<string, unknown>): Id {
  const id = call.id;
  return typeof id === 'string' || typeof id === 'number' || id === null ? id : null;
}

async function answerCall(provider: Eip1193Provider, call: unknown): Promise<JsonRpcResponse | undefined> {
  if (typeof call !== 'object' || call === null || Array.isArray(call))
    return failure(null, -32600, 'invalid request: a call is a JSON object');
  const c = call as Record<string, unknown>;
  const id = idOf(c);
  const badId = 'id' in c && id !== c.id;
  if (c.jsonrpc !== '2.0' || typeof c.method !== 'string' || badId)
    return failure(id, -32600, 'invalid request: expected {"jsonrpc":"2.0","method":string,"params"?,"id"?}');
  if (c.params !== undefined && (typeof c.params !== 'object' || c.params === null))
    return failure(id, -32600, 'invalid request: params must be an array or an object');
  const notification = !('id' in c);
  if (c.method === 'eth_subscribe' || c.method === 'eth_unsubscribe')
    return notification ? undefined : failure(id, -32601, `${c.method} needs a connection: use the WebSocket`);
  try {
    const result = await provider.request({
      method: c.method,
      ...(c.params === undefined ? {} : { params: c.params as unknown[] }),
    });
    return notification ? undefined : { jsonrpc: '2.0', id, result: result ?? null };
  } catch (e) {
    if (notification) return undefined;
    const err = toProviderRpcError(e);
    return failure(id, err.code, err.shortMessage, err.data);
  }
}
