/**
 * A JSON-RPC proxy for tests: an HTTP server on 127.0.0.1 (a free port) that forwards every POST body
 * to `upstream` and answers with the upstream's reply. It records every call it sees, and its options
 * let a test hold matching calls until `release()`, rewrite replies, or (`setFailing`) answer every
 * request with HTTP 503 instead of forwarding it.
 *
 * When the upstream cannot be reached (or closes the connection) the proxy closes the client's
 * connection too. A `tamper` that throws is answered with HTTP 500 and the error's text.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from '../../src/platform/nodejs/http.js';

/** One JSON-RPC call as the proxy saw it (the calls of a batch are seen one by one). */
export interface RpcCall {
  method: string;
  params: unknown;
}

export interface RpcProxyOptions {
  /** Hold every request with a call for which this returns true, until `release()`. */
  hold?: (call: RpcCall) => boolean;
  /**
   * Rewrite the JSON-RPC reply (the parsed response object) to `call`: return the new reply, or
   * undefined to pass it through unchanged.
   */
  tamper?: (call: RpcCall, reply: any) => any;
  /**
   * Rewrite a whole reply body (after `tamper`): `calls` are the request's calls (several for a batch),
   * `batch` whether the request was a JSON array. Return the new body text, or undefined to keep it.
   */
  tamperBody?: (body: string, calls: RpcCall[], batch: boolean) => string | undefined;
}

export interface RpcProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every JSON-RPC call seen (batches flattened), in arrival order. */
  readonly calls: readonly RpcCall[];
  /** Every HTTP request seen, as its calls, and whether it was a batch (a JSON array), in arrival order. */
  readonly requests: readonly { calls: RpcCall[]; batch: boolean }[];
  /** How many calls were seen (of `method`, if given). */
  count(method?: string): number;
  /** Forget the calls (and requests) seen so far. */
  clearCalls(): void;
  /** Requests held by `hold` so far. */
  readonly held: number;
  /** Let the held requests through, and every later one: `hold` is not asked again. */
  release(): void;
  /** While on, every request is answered with HTTP 503 without being forwarded. */
  setFailing(on: boolean): void;
  /** Release the held requests, stop listening and drop every open connection. Idempotent. */
  close(): Promise<void>;
}

/** The calls in a request body: one, a batch's, or none (not JSON). */
export function callsOf(body: string): RpcCall[] {
  let parsed: any;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const list: any[] = Array.isArray(parsed) ? parsed : parsed ? [parsed] : [];
  return list.map((c) => ({ method: String(c?.method), params: c?.params }));
}

/**
 * `text` (a reply body) with each JSON-RPC reply passed through `tamper` (the reply at index i of a
 * batch answers `calls[i]`). A body that is not a JSON object or array is returned unchanged.
 */
export function tamperReplies(text: string, calls: RpcCall[], tamper: NonNullable<RpcProxyOptions['tamper']>): string {
  if (!text.startsWith('{') && !text.startsWith('[')) return text;
  const parsed = JSON.parse(text);
  const callAt = (i: number): RpcCall => calls[i] ?? { method: 'undefined', params: undefined };
  if (Array.isArray(parsed)) return JSON.stringify(parsed.map((reply, i) => tamper(callAt(i), reply) ?? reply));
  const tampered = tamper(callAt(0), parsed);
  return tampered === undefined ? text : JSON.stringify(tampered);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, contentType: string, text: string): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Start a proxy in front of `upstream` (a JSON-RPC URL). */
export async function startRpcProxy(upstream: string, opts: RpcProxyOptions = {}): Promise<RpcProxy> {
  const calls: RpcCall[] = [];
  const requests: { calls: RpcCall[]; batch: boolean }[] = [];
  let held = 0;
  let failing = false;
  let released = false;
  let release!: () => void;
  const whenReleased = new Promise<void>((r) => (release = r));

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const seen = callsOf(body);
    const batch = body.trimStart().startsWith('[');
    calls.push(...seen);
    requests.push({ calls: seen, batch });
    if (failing) return send(res, 503, 'text/plain', 'failing');
    if (!released && opts.hold && seen.some(opts.hold)) {
      held++;
      await whenReleased;
    }
    let reply: Response;
    let text: string;
    try {
      reply = await fetch(upstream, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body,
      });
      text = await reply.text();
    } catch {
      // the upstream closed the connection (a consensus RPC service error): do the same
      res.destroy();
      return;
    }
    try {
      if (opts.tamper) text = tamperReplies(text, seen, opts.tamper);
      if (opts.tamperBody) text = opts.tamperBody(text, seen, batch) ?? text;
    } catch (e) {
      return send(res, 500, 'text/plain', String(e));
    }
    send(res, reply.status, reply.headers.get('content-type') ?? 'application/json', text);
  }

  const server = await listenLocal((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  const releaseAll = () => {
    released = true;
    release();
  };
  return {
    url: server.url,
    calls,
    requests,
    count: (method) => (method === undefined ? calls.length : calls.filter((c) => c.method === method).length),
    clearCalls: () => {
      calls.length = 0;
      requests.length = 0;
    },
    get held() {
      return held;
    },
    release: releaseAll,
    setFailing: (on) => void (failing = on),
    close: () => {
      releaseAll();
      return server.close();
    },
  };
}
