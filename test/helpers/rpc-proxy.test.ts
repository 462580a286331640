/** The tests' JSON-RPC proxy against a tiny echo upstream: recording, holding, tampering, failing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHttpServer, listenLocal } from '../../src/platform/nodejs/http.js';
import { callsOf, startRpcProxy, tamperReplies } from './rpc-proxy.js';

/** Answers each call (or each call of a batch) with `{ id, result: method }`. */
let upstream: LocalHttpServer;

beforeAll(async () => {
  upstream = await listenLocal((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const one = (c: { id: number; method: string }) => ({ jsonrpc: '2.0', id: c.id, result: c.method });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(Array.isArray(body) ? body.map(one) : one(body)));
    });
  });
});
afterAll(() => upstream.close());

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('callsOf / tamperReplies', () => {
  it('reads one call, a batch, or none', () => {
    expect(callsOf('{"method":"a","params":[1]}')).toEqual([{ method: 'a', params: [1] }]);
    expect(callsOf('[{"method":"a"},{"method":"b","params":2}]')).toEqual([
      { method: 'a', params: undefined },
      { method: 'b', params: 2 },
    ]);
    expect(callsOf('not json')).toEqual([]);
  });

  it('rewrites the replies tamper returns, passes the others and non-JSON bodies', () => {
    const calls = [
      { method: 'a', params: [] },
      { method: 'b', params: [] },
    ];
    const tamper = (call: { method: string }, reply: any) =>
      call.method === 'b' ? { ...reply, result: 'x' } : undefined;
    expect(JSON.parse(tamperReplies('[{"result":1},{"result":2}]', calls, tamper))).toEqual([
      { result: 1 },
      { result: 'x' },
    ]);
    expect(tamperReplies('{"result":1}', calls, tamper)).toBe('{"result":1}');
    expect(tamperReplies('oops', calls, () => ({}))).toBe('oops');
  });
});

describe('startRpcProxy', () => {
  it('forwards, records and counts calls (batches flattened)', async () => {
    const proxy = await startRpcProxy(upstream.url);
    try {
      expect(await (await post(proxy.url, { id: 1, method: 'a' })).json()).toEqual({
        jsonrpc: '2.0',
        id: 1,
        result: 'a',
      });
      await post(proxy.url, [
        { id: 2, method: 'a' },
        { id: 3, method: 'b', params: [7] },
      ]);
      expect(proxy.calls).toEqual([
        { method: 'a', params: undefined },
        { method: 'a', params: undefined },
        { method: 'b', params: [7] },
      ]);
      expect([proxy.count(), proxy.count('a'), proxy.count('c')]).toEqual([3, 2, 0]);
      proxy.clearCalls();
      expect(proxy.count()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('holds matching requests until release(), then lets everything through', async () => {
    const proxy = await startRpcProxy(upstream.url, { hold: (c) => c.method === 'slow' });
    try {
      let answered = false;
      const slow = post(proxy.url, { id: 1, method: 'slow' }).then((r) => {
        answered = true;
        return r.json();
      });
      expect(await (await post(proxy.url, { id: 2, method: 'fast' })).json()).toMatchObject({ result: 'fast' });
      expect([answered, proxy.held]).toEqual([false, 1]);
      proxy.release();
      expect(await slow).toMatchObject({ result: 'slow' });
      expect(await (await post(proxy.url, { id: 3, method: 'slow' })).json()).toMatchObject({ result: 'slow' });
      expect(proxy.held).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('tampers with replies; a tamper that throws is an HTTP 500', async () => {
    const proxy = await startRpcProxy(upstream.url, {
      tamper: (call, reply) => {
        if (call.method === 'boom') throw new Error('boom');
        return call.method === 'lie' ? { ...reply, result: 'lied' } : undefined;
      },
    });
    try {
      expect(await (await post(proxy.url, { id: 1, method: 'lie' })).json()).toMatchObject({ result: 'lied' });
      expect(await (await post(proxy.url, { id: 2, method: 'truth' })).json()).toMatchObject({ result: 'truth' });
      const boom = await post(proxy.url, { id: 3, method: 'boom' });
      expect([boom.status, await boom.text()]).toEqual([500, 'Error: boom']);
    } finally {
      await proxy.close();
    }
  });

  it('answers 503 while failing, and closes the connection when the upstream is gone', async () => {
    const proxy = await startRpcProxy(upstream.url);
    const dead = await listenLocal(() => {});
    await dead.close();
    const orphan = await startRpcProxy(dead.url);
    try {
      proxy.setFailing(true);
      expect((await post(proxy.url, { id: 1, method: 'a' })).status).toBe(503);
      proxy.setFailing(false);
      expect((await post(proxy.url, { id: 2, method: 'a' })).status).toBe(200);
      expect(proxy.count()).toBe(2);
      await expect(post(orphan.url, { id: 3, method: 'a' })).rejects.toThrow();
    } finally {
      await proxy.close();
      await orphan.close();
    }
  });
});
