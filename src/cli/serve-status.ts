/**
 * The HTTP side of `alys-light run --metrics-port <p>`: `GET /metrics` (Prometheus text, version
 * 0.0.4), `GET /status` (the node's status as JSON, what `alys-light status` prints) and
 * `GET /healthz` (200 while every actor is Running, 503 otherwise). Bound to 127.0.0.1.
 */
import type { LightNode } from '../node/node.js';
import { ACTOR_ADDRESSES } from '../node/tree.js';
import { listenLocal } from '../platform/nodejs/http.js';

export interface StatusServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** JSON with bigint as decimal strings. */
export const toJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export async function serveStatus(node: LightNode, port: number, host = '127.0.0.1'): Promise<StatusServer> {
  const {
    url,
    port: bound,
    close,
  } = await listenLocal(
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const reply = (code: number, type: string, body: string) => {
        res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      if (req.method !== 'GET') return reply(405, 'text/plain', 'GET only\n');
      const work =
        path === '/metrics'
          ? node.metrics().then(
              (text) => reply(200, 'text/plain; version=0.0.4', text),
              (e: Error & { code?: unknown; shortMessage?: string }) => {
                if (e.code !== 'metrics.unavailable') throw e;
                reply(503, 'text/plain', `${e.shortMessage ?? e.message}\n`);
              },
            )
          : path === '/status'
            ? node
                .status()
                .then((s) =>
                  reply(
                    200,
                    'application/json',
                    `${toJson({ ...s, chainId: node.spec.chainId, mode: node.config.config.mode })}\n`,
                  ),
                )
            : path === '/healthz'
              ? node.status().then((s) => {
                  const down = s.actors.filter((a) => a.state !== 'Running');
                  // the metrics actor is never restarted: say so rather than leave a bare address in `down`
                  const noMetrics = down.some((a) => a.address === ACTOR_ADDRESSES.metrics)
                    ? {
                        metrics: 'unavailable',
                        error:
                          'metrics unavailable: the metrics actor failed and is not restarted (policy never); restart the node',
                      }
                    : {};
                  reply(
                    s.running && down.length === 0 ? 200 : 503,
                    'application/json',
                    `${toJson({ running: s.running, down: down.map((a) => a.address), ...noMetrics })}\n`,
                  );
                })
              : Promise.resolve(reply(404, 'text/plain', 'try /metrics, /status or /healthz\n'));
      work.catch((e: Error) => reply(500, 'text/plain', `${e.message}\n`));
    },
    port,
    host,
  );
  return { url, port: bound, close };
}
