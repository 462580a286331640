/**
 * An Esplora endpoint for tests: an HTTP server on 127.0.0.1 (a free port) that answers each GET with
 * `lie(path)` when that returns something, and otherwise forwards it to the upstream Esplora (which a
 * test may switch with `setUpstream`, e.g. to another branch of a regtest chain). The lying endpoints
 * of the SPV tests are these: an honest upstream, one lie in front of it.
 */
import { listenLocal } from '../../src/platform/nodejs/http.js';

export interface EsploraAnswer {
  status?: number;
  body: string | Uint8Array;
  contentType?: string;
}

export interface EsploraProxy {
  readonly url: string;
  /** Paths asked so far, in order. */
  readonly paths: readonly string[];
  setUpstream(url: string): void;
  close(): Promise<void>;
}

export type EsploraLie = (
  path: string,
  upstream: (path: string) => Promise<{ status: number; body: Uint8Array }>,
) => EsploraAnswer | undefined | Promise<EsploraAnswer | undefined>;

export async function startEsploraProxy(upstreamUrl: string, lie: EsploraLie = () => undefined): Promise<EsploraProxy> {
  let upstream = upstreamUrl;
  const paths: string[] = [];
  const forward = async (path: string) => {
    const res = await fetch(upstream + path);
    return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
  };
  const server = await listenLocal((req, res) => {
    const path = req.url ?? '/';
    paths.push(path);
    Promise.resolve(lie(path, forward))
      .then(async (answer) => answer ?? (await forward(path)))
      .then((a) => {
        const body = typeof a.body === 'string' ? Buffer.from(a.body) : Buffer.from(a.body);
        const type = 'contentType' in a && a.contentType ? a.contentType : 'text/plain';
        res.writeHead(a.status ?? 200, { 'content-type': type, 'content-length': body.length });
        res.end(body);
      })
      .catch((e: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e.message));
      });
  });
  return {
    url: server.url,
    paths,
    setUpstream(url) {
      upstream = url;
    },
    close: server.close,
  };
}
