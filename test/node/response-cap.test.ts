/**
 * Response bodies are read under a cap (issue 13 item 1), over real HTTP on loopback: a consensus RPC
 * or EVM endpoint that sends an endless body (chunked, no Content-Length) is cut off at the cap, one
 * that declares a Content-Length above the cap is refused unread; both are a typed error and a fault
 * charged to the endpoint. Memory is judged on the server side: the bytes the server got to write
 * before the client hung up (the client stops reading at the cap; only socket buffers lie beyond it).
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsensusRpcSource, SourceError } from '../../src/node/sources/consensus-rpc.js';
import { ResponseTooLargeError } from '../../src/node/sources/bounded-body.js';
import { createVerifiedReads } from '../../src/node/engine/reads.js';
import { EndpointRequestError, type EndpointFault } from '../../src/node/engine/errors.js';
import { listenLocal, type LocalHttpServer } from '../../src/platform/nodejs/http.js';
import { createTestChain, type TestChain } from './engine/harness.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { Cleanup, growChain, startDevnet, startNode, waitFor, waitSynced } from './helpers.js';

const CAP = 256 * 1024;
/** What an endless server gives up at if nobody stops it (far above CAP + any socket buffering). */
const ENDLESS = 512 * 1024 * 1024;
/** Bytes beyond the cap that kernel and client buffers may have taken before the client hung up. */
const BUFFER_SLACK = 24 * 1024 * 1024;

interface Flood {
  server: LocalHttpServer;
  /** Bytes the server wrote per request, settled when that response closed. */
  written: Array<Promise<number>>;
}

/** Write `chunk` until the peer is gone or ENDLESS bytes are out, honouring backpressure. */
async function pour(res: ServerResponse): Promise<number> {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let sent = 0;
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  while (!closed && sent < ENDLESS) {
    sent += chunk.length;
    if (!res.write(chunk))
      await new Promise<void>((r) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          r();
        };
        res.on('drain', done);
        res.on('close', done);
      });
  }
  res.end();
  return sent;
}

/** A server answering every request with an endless body, with or without a (false) huge Content-Length. */
async function flood(declare: boolean): Promise<Flood> {
  const written: Array<Promise<number>> = [];
  const server = await listenLocal((req, res) => {
    req.resume();
    const head: Record<string, string> = { 'content-type': 'application/json' };
    if (declare) head['content-length'] = String(ENDLESS);
    res.writeHead(200, head);
    written.push(pour(res));
  });
  return { server, written };
}

const cleanup = new Cleanup();
afterAll(() => cleanup.run(), 30_000);

describe('consensus RPC: bodies read under the cap', () => {
  it.each([
    ['an endless chunked body', false],
    ['a Content-Length above the cap', true],
  ] as const)('%s: SourceError response-too-large, the server stopped near the cap', async (_, declare) => {
    const f = await flood(declare);
    cleanup.add(() => f.server.close());
    const source = createConsensusRpcSource({ url: f.server.url, maxResponseBytes: CAP, timeoutMs: 60_000 });
    const e = (await source.blockAt(1).catch((x: unknown) => x)) as SourceError;
    expect(e).toBeInstanceOf(SourceError);
    expect(e.code).toBe('source.response-too-large');
    expect(e.kind).toBe('response-too-large');
    expect(e.cause).toBeInstanceOf(ResponseTooLargeError);
    expect((e.cause as ResponseTooLargeError).declared).toBe(declare ? ENDLESS : undefined);
    const sent = await f.written[0]!;
    console.log(`consensus, ${declare ? 'declared' : 'chunked'}: the server wrote ${sent} bytes`);
    expect(sent).toBeLessThan(CAP + BUFFER_SLACK);
  });

  it('a body under the cap passes', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, result: 'x'.repeat(CAP - 100) });
    const server = await listenLocal((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    cleanup.add(() => server.close());
    const source = createConsensusRpcSource({ url: server.url, maxResponseBytes: CAP });
    expect(await source.head()).toBe(body);
  });
});

describe('a node charges an oversize consensus endpoint and syncs from the honest one', () => {
  let devnet: Devnet;
  beforeAll(async () => {
    devnet = await startDevnet(cleanup, 'response-cap');
    await growChain(devnet, 4, 10);
  }, 30_000);

  it('the endless endpoint is scored down as unusable', async () => {
    const f = await flood(false);
    cleanup.add(() => f.server.close());
    const { node } = await startNode(cleanup, devnet, {
      rpc: [devnet.urls.consensus, f.server.url],
      sync: { maxResponseBytes: 64 * 1024 },
    });
    await waitSynced(node, devnet);
    const liar = await waitFor(
      async () => (await node.status()).sources.find((s) => s.id === f.server.url && s.faultsByKind.unusable),
      async () => `a fault on ${f.server.url}: ${JSON.stringify((await node.status()).sources)}`,
    );
    expect(liar.score).toBeLessThan(100);
    for (const w of f.written) expect(await w).toBeLessThan(64 * 1024 + BUFFER_SLACK);
  });
});

describe('EVM JSON-RPC: bodies read under the cap', () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await createTestChain();
    cleanup.add(() => chain.close());
  }, 30_000);

  it.each([
    ['an endless chunked body', false],
    ['a Content-Length above the cap', true],
  ] as const)('%s: endpoint.response-too-large charged to it; the next endpoint answers', async (_, declare) => {
    const f = await flood(declare);
    cleanup.add(() => f.server.close());
    const faults: Array<[string, EndpointFault]> = [];
    const address = chain.accounts[0]!.address;
    const reads = createVerifiedReads({
      evmRpc: [f.server.url, chain.url],
      payloads: chain.source,
      maxResponseBytes: CAP,
      timeoutMs: 60_000,
      onEndpointFault: (url, e) => faults.push([url, e]),
    });
    const honest = createVerifiedReads({ evmRpc: [chain.url], payloads: chain.source });
    expect(await reads.getBalance(address)).toBe(await honest.getBalance(address));
    expect(faults).toHaveLength(1);
    const [url, fault] = faults[0]!;
    expect(url).toBe(f.server.url);
    expect(fault).toBeInstanceOf(EndpointRequestError);
    expect(fault.code).toBe('endpoint.response-too-large');
    expect(fault.cause).toBeInstanceOf(ResponseTooLargeError);
    expect(reads.endpointStats()[0]).toMatchObject({ url: f.server.url, failures: 1, verified: 0 });
    expect(await f.written[0]!).toBeLessThan(CAP + BUFFER_SLACK);

    const alone = createVerifiedReads({ evmRpc: [f.server.url], payloads: chain.source, maxResponseBytes: CAP });
    const e = await alone.getBalance(address).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EndpointRequestError);
    expect((e as EndpointRequestError).code).toBe('endpoint.response-too-large');
  });

  it('answers under the cap pass (a verified read with a small cap)', async () => {
    const address = chain.accounts[0]!.address;
    const reads = createVerifiedReads({ evmRpc: [chain.url], payloads: chain.source, maxResponseBytes: 64 * 1024 });
    const honest = createVerifiedReads({ evmRpc: [chain.url], payloads: chain.source });
    expect(await reads.getBalance(address)).toBe(await honest.getBalance(address));
    expect(reads.endpointStats()[0]).toMatchObject({ failures: 0, verified: 1 });
  });
});
