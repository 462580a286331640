/**
 * `eth_subscribe` (newHeads, logs) on the Durable Object's hibernatable WebSockets. Nothing lives in
 * memory: a socket's subscriptions and the last head it was sent are its attachment
 * (`serializeAttachment`, at most 2 KiB, which survives hibernation), so an object woken by its alarm
 * finds its subscribers with `ctx.getWebSockets()` and sends them every verified head they missed
 * (up to `MAX_CATCH_UP`), each read through the node's provider (verified against its block).
 */
import type { Eip1193Provider } from '../../../src/node/engine/provider.js';
import { subscriptionLogFilter, toProviderRpcError } from '../../../src/node/engine/provider.js';
import { answerJsonRpc, type JsonRpcResponse } from './jsonrpc.js';

/** The part of a hibernatable WebSocket the object uses. */
export interface SocketLike {
  send(message: string): void;
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
}

export type Subscription = { kind: 'newHeads' } | { kind: 'logs'; address?: unknown; topics?: unknown };

export interface SocketState {
  subs: Record<string, Subscription>;
  /** The last head this socket was sent (or the head when it subscribed). */
  lastHead: number | null;
}

/** Heads sent at most per wake-up: a subscriber further behind gets the latest ones. */
export const MAX_CATCH_UP = 64;
/** The attachment limit of the Hibernation API. */
export const MAX_ATTACHMENT_BYTES = 2048;

export function socketState(ws: SocketLike): SocketState {
  const a = ws.deserializeAttachment() as SocketState | null | undefined;
  return a && typeof a === 'object' && a.subs ? a : { subs: {}, lastHead: null };
}

function save(ws: SocketLike, state: SocketState): void {
  ws.serializeAttachment(state);
}

const quantity = (n: number) => `0x${n.toString(16)}`;

function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Answer one message of a socket: eth_subscribe / eth_unsubscribe here, every other call through the
 * provider (answerJsonRpc). `head` is the node's verified head now (where a new subscription starts).
 */
export async function answerSocketMessage(
  ws: SocketLike,
  provider: Eip1193Provider,
  body: unknown,
  head: number | null,
): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
  const call = body as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  if (Array.isArray(body) || typeof body !== 'object' || body === null) return answerJsonRpc(provider, body);
  if (call.method !== 'eth_subscribe' && call.method !== 'eth_unsubscribe') return answerJsonRpc(provider, body);
  const id = (typeof call.id === 'string' || typeof call.id === 'number' ? call.id : null) as string | number | null;
  const fail = (code: number, message: string): JsonRpcResponse => ({ jsonrpc: '2.0', id, error: { code, message } });
  const params = Array.isArray(call.params) ? call.params : [];
  const state = socketState(ws);
  if (call.method === 'eth_unsubscribe') {
    const sub = String(params[0]);
    const had = Object.hasOwn(state.subs, sub);
    delete state.subs[sub];
    save(ws, state);
    return { jsonrpc: '2.0', id, result: had };
  }
  let sub: Subscription;
  if (params[0] === 'newHeads') sub = { kind: 'newHeads' };
  else if (params[0] === 'logs') {
    try {
      subscriptionLogFilter(params[1] ?? {});
    } catch (e) {
      const err = toProviderRpcError(e);
      return fail(err.code, err.shortMessage);
    }
    const filter = (params[1] ?? {}) as { address?: unknown; topics?: unknown };
    sub = {
      kind: 'logs',
      ...(filter.address ? { address: filter.address } : {}),
      ...(filter.topics ? { topics: filter.topics } : {}),
    };
  } else return fail(-32602, `unsupported subscription ${JSON.stringify(params[0])}: newHeads or logs`);
  const subId = newId();
  const next: SocketState = { subs: { ...state.subs, [subId]: sub }, lastHead: state.lastHead ?? head };
  if (JSON.stringify(next).length > MAX_ATTACHMENT_BYTES)
    return fail(-32005, 'too many subscriptions on this connection (their filters exceed 2 KiB)');
  save(ws, next);
  return { jsonrpc: '2.0', id, result: subId };
}

/**
 * Send `ws` every verified head after its last one up to `head` (the last MAX_CATCH_UP): the block for
 * newHeads, its matching logs for logs. A read that fails leaves the socket's last head where it was,
 * so the next head retries the range.
 */
export async function deliverHeads(ws: SocketLike, provider: Eip1193Provider, head: number): Promise<void> {
  const state = socketState(ws);
  const subs = Object.entries(state.subs);
  if (subs.length === 0) return;
  const from = Math.max(state.lastHead === null ? head : state.lastHead + 1, head - MAX_CATCH_UP + 1);
  for (let n = from; n <= head; n++) {
    const block = (await provider.request({ method: 'eth_getBlockByNumber', params: [quantity(n), false] })) as Record<
      string,
      unknown
    > | null;
    if (!block) return;
    const { transactions: _, ...header } = block;
    for (const [subscription, sub] of subs) {
      if (sub.kind === 'newHeads') send(ws, subscription, header);
      else {
        const logs = (await provider.request({
          method: 'eth_getLogs',
          params: [
            {
              ...(sub.address === undefined ? {} : { address: sub.address }),
              ...(sub.topics === undefined ? {} : { topics: sub.topics }),
              blockHash: block.hash,
            },
          ],
        })) as unknown[];
        for (const log of logs) send(ws, subscription, log);
      }
    }
    save(ws, { ...state, lastHead: n });
  }
}

function send(ws: SocketLike, subscription: string, result: unknown): void {
  ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription, result } }));
}
