/**
 * A busy consensus endpoint (HTTP 429, with or without a JSON body) is a `busy` SourceError, which the
 * scores count but do not charge: honest public endpoints rate-limit. Any other HTTP error stays `http`
 * (a network fault). Real HTTP server on loopback.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createConsensusRpcSource, SourceError, sourceFaultKind } from '../../src/node/sources/consensus-rpc.js';
import { PENALTY } from '../../src/node/workflows/scores.js';
import { listenLocal } from '../../src/platform/nodejs/http.js';
import { Cleanup } from './helpers.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

async function endpoint(status: number, body: string) {
  const server = await listenLocal((req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  cleanup.add(() => server.close());
  return createConsensusRpcSource({ url: server.url, timeoutMs: 5_000 });
}

describe('a rate-limited consensus endpoint', () => {
  it.each([
    ['a text body', 'Too Many Requests'],
    ['a JSON-RPC error body', JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32005, message: 'limit' } })],
  ])('HTTP 429 with %s is busy, and busy costs nothing', async (_, body) => {
    const source = await endpoint(429, body);
    const e = await source.head().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SourceError);
    expect(e).toMatchObject({ kind: 'busy', code: 'source.busy' });
    expect(sourceFaultKind(e as SourceError)).toBe('busy');
    expect(PENALTY.busy).toBe(0);
  });

  it('HTTP 503 with a text body stays an http error (charged as a network fault)', async () => {
    const source = await endpoint(503, 'down');
    const e = await source.head().catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'http', code: 'source.http' });
    expect(sourceFaultKind(e as SourceError)).toBe('network');
  });
});
