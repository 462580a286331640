/**
 * A counting HTTP proxy for benchmarks: forwards every request (method, headers, body) to one
 * upstream over a keep-alive agent and streams the reply back unchanged (CORS headers and
 * preflights pass through), counting the JSON-RPC calls it sees by method, each with its arrival
 * time. "Blocks downloaded" in bench/coldstart.ts are counted here, at the source, whoever asked.
 */
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal } from '../src/platform/nodejs/http.js';

/** The JSON-RPC methods that download one consensus block each. */
export const BLOCK_METHODS = ['getheadblock', 'getblockbyheight', 'getblockbyhash'] as const;

export interface CountingProxy {
  readonly url: string;
  /** Calls seen of `method` (every call when omitted). */
  count(method?: string): number;
  /** Blocks downloaded: getheadblock + getblockbyheight + getblockbyhash calls. */
  blocks(): number;
  /** Blocks asked for up to the wall-clock time `epochMs` (`performance.timeOrigin + performance.now()`). */
  blocksBefore(epochMs: number): number;
  /** Forget every call seen so far. */
  reset(): void;
  close(): Promise<void>;
}

function methodsOf(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as { method?: unknown } | Array<{ method?: unknown }>;
    return (Array.isArray(parsed) ? parsed : [parsed]).map((c) => String(c?.method));
  } catch {
    return [];
  }
}

export interface CountingProxyOptions {
  /** Called as each block request arrives (before it is forwarded). */
  onBlock?: () => void;
}

export async function startCountingProxy(upstream: string, opts: CountingProxyOptions = {}): Promise<CountingProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let calls: Array<{ method: string; at: number }> = [];
  const now = () => performance.timeOrigin + performance.now();
  const isBlock = (m: string) => (BLOCK_METHODS as readonly string[]).includes(m);

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    for (const method of methodsOf(body.toString('utf8'))) {
      calls.push({ method, at: now() });
      if (isBlock(method)) opts.onBlock?.();
    }
    const out = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: target.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  };
  const server = await listenLocal((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks)));
    req.on('error', () => res.destroy());
  });
  return {
    url: server.url,
    count: (method) => (method === undefined ? calls.length : calls.filter((c) => c.method === method).length),
    blocks: () => calls.filter((c) => isBlock(c.method)).length,
    blocksBefore: (epochMs) => calls.filter((c) => isBlock(c.method) && c.at <= epochMs).length,
    reset: () => void (calls = []),
    close: async () => {
      await server.close();
      agent.destroy();
    },
  };
}
