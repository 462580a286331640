/**
 * The engine's JSON-RPC over HTTP on 127.0.0.1 (node:http), with geth's HTTP rules: POST with a JSON
 * content type, bodies up to 5 MiB, `GET /` with no body as a health check (200, empty). A body that is
 * not JSON gets `-32700 parse error`; nothing a client sends can crash the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from '../../platform/nodejs/http.js';
import { RpcCode } from './errors.js';

const MAX_BODY = 5 * 1024 * 1024;
const JSON_TYPES = new Set(['application/json', 'application/json-rpc', 'application/jsonrequest']);

export interface RpcServer {
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  if (res.headersSent) return;
  // any origin may read the replies (a light node in a web page); OPTIONS preflights are answered below
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'access-control-allow-origin': '*',
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      if (tooLarge) return; // drained and dropped, so the client can read the 413
      size += c.length;
      if (size > MAX_BODY) {
        tooLarge = true;
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function serveRpc(handle: (request: unknown) => Promise<unknown>, port: number): Promise<RpcServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
  const { url, server, close } = await listenLocal((req, res) => {
    void (async () => {
      if (req.method === 'GET' && (req.headers['content-length'] ?? '0') === '0')
        return send(res, 200, '', 'text/plain');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-origin': '*',
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': 'content-type',
        });
        return res.end();
      }
      if (req.method !== 'POST') return send(res, 405, 'method not allowed\n', 'text/plain');
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) {
        res.setHeader('connection', 'close');
        req.resume();
        return send(res, 413, `content length too large (${MAX_BODY} bytes at most)\n`, 'text/plain');
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!JSON_TYPES.has(type))
        return send(res, 415, 'invalid content type, only application/json is supported\n', 'text/plain');
      const body = await readBody(req);
      if (body === 'too-large') {
        res.setHeader('connection', 'close');
        return send(res, 413, `content length too large (${MAX_BODY} bytes at most)\n`, 'text/plain');
      }
      let request: unknown;
      try {
        request = JSON.parse(body.toString('utf8'));
      } catch {
        return send(
          res,
          200,
          JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: RpcCode.parseError, message: 'parse error' } }),
        );
      }
      const response = await handle(request);
      send(res, 200, response === undefined ? '' : JSON.stringify(response));
    })().catch((e: unknown) => {
      send(
        res,
        500,
        JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: { code: RpcCode.internal, message: `internal error: ${e instanceof Error ? e.message : String(e)}` },
        }),
      );
    });
  }, port);
  server.keepAliveTimeout = 5_000;
  return { url, close };
}
