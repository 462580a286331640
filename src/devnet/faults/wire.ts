/**
 * The fault server's HTTP side: a loopback server like the honest consensus RPC's (same statuses,
 * same "abort = close the connection without a response" cases), plus the transport faults -
 * delayed, truncated and malformed replies.
 */
import { listenLocal } from '../../platform/nodejs/http.js';
import { readBody, type RpcReply } from '../consensus/rpc.js';
import type { Seeded } from './seeded.js';
import type { TransportFault } from './names.js';

/** An RpcReply, possibly delayed or cut short on the wire. */
export type WireReply =
  | { abort: true; reason: string }
  | {
      status: number;
      contentType: string;
      body: string;
      /** Wait this long before answering. */
      delayMs?: number;
      /** Send only the first `at` bytes of the body, then close the connection. */
      truncate?: { at: number; framing: 'content-length' | 'chunked' };
    };

export const MALFORMED_VARIANTS = [
  'not-json:cut',
  'not-json:html',
  'not-json:trailing',
  'shape:slot-string',
  'shape:no-signature',
  'shape:unquoted-number',
  'shape:hex-without-0x',
  'shape:result-array',
] as const;
export type MalformedVariant = (typeof MALFORMED_VARIANTS)[number];

export const TRUNCATION_FRAMINGS = ['content-length', 'chunked'] as const;

/** Which variant / framing the server uses for the block at `height` (the same for every request of it). */
export function transportVariant(fault: TransportFault, rng: Seeded, height: number): string {
  if (fault === 'malformed-json') return rng.pick(height, 'malformed', MALFORMED_VARIANTS);
  if (fault === 'truncated') return rng.pick(height, 'framing', TRUNCATION_FRAMINGS);
  return 'delay';
}

/** Apply a transport fault to an honest JSON reply carrying the block of `height`. */
export function applyTransportFault(
  fault: TransportFault,
  reply: { status: number; contentType: string; body: string },
  rng: Seeded,
  height: number,
  delayMs: number,
): WireReply {
  const variant = transportVariant(fault, rng, height);
  const bytes = Buffer.byteLength(reply.body);
  const cut = 1 + rng.int(height, 'cut', Math.max(1, bytes - 1));
  if (fault === 'slow') return { ...reply, delayMs };
  if (fault === 'truncated')
    return { ...reply, truncate: { at: cut, framing: variant as 'content-length' | 'chunked' } };
  switch (variant as MalformedVariant) {
    case 'not-json:cut':
      return { ...reply, body: reply.body.slice(0, cut) }; // the JSON is ASCII: bytes = characters
    case 'not-json:html':
      return {
        status: 200,
        contentType: 'text/html',
        body: '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n',
      };
    case 'not-json:trailing':
      return { ...reply, body: `${reply.body}\n{"result":null,"error":null,"id":null}` };
    default:
      break;
  }
  // biome-ignore lint/suspicious/noExplicitAny: the fault rewrites fields of a block by name to make it malformed
  const json = JSON.parse(reply.body) as { result: any; error: unknown; id: unknown };
  const block = json.result;
  switch (variant as MalformedVariant) {
    case 'shape:slot-string':
      block.message.slot = String(block.message.slot);
      break;
    case 'shape:no-signature':
      delete block.signature;
      break;
    case 'shape:unquoted-number':
      block.message.execution_payload.block_number = Number(block.message.execution_payload.block_number);
      break;
    case 'shape:hex-without-0x':
      block.message.parent_hash = String(block.message.parent_hash).slice(2);
      break;
    case 'shape:result-array':
      json.result = [block];
      break;
  }
  return { ...reply, body: JSON.stringify(json) };
}

export interface WireServer {
  url: string;
  close(): Promise<void>;
}

/** Serve on 127.0.0.1 (port 0 = any free port). `handle` never sees the socket; it returns a WireReply. */
export async function serveWire(
  port: number,
  handle: (httpMethod: string, body: string) => Promise<WireReply | RpcReply>,
): Promise<WireServer> {
  const delays = new Map<ReturnType<typeof setTimeout>, () => void>();
  let closed = false;
  const { url, server, close } = await listenLocal(async (req, res) => {
    const body = await readBody(req);
    if (body === null) return void res.destroy();
    let r: WireReply;
    try {
      r = await handle(req.method ?? 'GET', body);
    } catch {
      return void res.destroy();
    }
    if ('abort' in r) return void res.destroy();
    const reply = r;
    if (reply.delayMs && reply.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          delays.delete(t);
          resolve();
        }, reply.delayMs);
        delays.set(t, resolve);
      });
      if (closed || res.destroyed) return;
    }
    const bytes = Buffer.from(reply.body, 'utf8');
    if (reply.truncate) {
      const { at, framing } = reply.truncate;
      const headers: Record<string, string | number> = { 'content-type': reply.contentType };
      if (framing === 'content-length') headers['content-length'] = bytes.length;
      res.writeHead(reply.status, headers);
      res.write(bytes.subarray(0, Math.min(at, bytes.length)), () => res.destroy());
      return;
    }
    res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': bytes.length });
    res.end(bytes);
  }, port);
  server.on('clientError', (_e, socket) => socket.destroy());
  return {
    url,
    close: () => {
      closed = true;
      for (const [t, resolve] of delays) {
        clearTimeout(t);
        resolve();
      }
      delays.clear();
      return close();
    },
  };
}
