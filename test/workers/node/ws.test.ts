/**
 * WebSocket subscriptions on the Durable Object (Hibernation API) through the Worker's `GET /ws`:
 * eth_subscribe newHeads and logs, plain calls on the socket, and heads delivered after the object lost
 * everything it kept in memory (its node stopped, as an eviction does while the runtime holds the
 * socket): the subscriptions come back from the socket's attachment, and the woken object (its alarm:
 * a warm start from storage) sends every head the subscriber missed, verified, once each.
 */
import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlysLightNode } from '../../../workers/edge/node/object.js';
import { control, waitFor } from './helpers.js';

afterAll(() => abortAllDurableObjects());

interface Socket {
  accept(): void;
  send(text: string): void;
  close(code?: number): void;
  addEventListener(type: 'message', fn: (e: { data: string }) => void): void;
}

async function connect(): Promise<{ ws: Socket; messages: any[] }> {
  const res = await SELF.fetch('http://edge.test/ws', { headers: { Upgrade: 'websocket' } });
  expect(res.status).toBe(101);
  const ws = (res as unknown as { webSocket: Socket }).webSocket;
  ws.accept();
  const messages: any[] = [];
  ws.addEventListener('message', (e) => {
    messages.push(JSON.parse(e.data));
  });
  return { ws, messages };
}

async function ask(ws: Socket, messages: any[], id: number, method: string, params: unknown[] = []): Promise<any> {
  ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  return waitFor(async () => messages.find((m) => m.id === id), `the answer to ${method}`);
}

describe('GET /ws: subscriptions that survive the object sleeping', () => {
  it('newHeads subscribers get every head they missed after the object wakes', async () => {
    const { ws, messages } = await connect();
    const start = await ask(ws, messages, 1, 'eth_blockNumber');
    const tip0 = Number(start.result);
    expect(tip0).toBe((await control('/head')).number);
    const heads = (await ask(ws, messages, 2, 'eth_subscribe', ['newHeads'])).result;
    expect(heads).toMatch(/^0x[0-9a-f]{32}$/);
    const logs = await ask(ws, messages, 3, 'eth_subscribe', ['logs', { topics: [] }]);
    expect(logs.result).toMatch(/^0x[0-9a-f]{32}$/);
    expect((await ask(ws, messages, 4, 'eth_subscribe', ['nonsense'])).error.code).toBe(-32602);

    // the object forgets its memory (the node stops); the runtime keeps the socket
    const s: any = await (await SELF.fetch('http://edge.test/status')).json();
    const stub = env.ALYS_NODE.get(env.ALYS_NODE.idFromName(s.chain.fingerprint));
    await runInDurableObject(stub, (o: AlysLightNode) => o.forgetMemory());
    await control('/grow', { blocks: 3 });
    // the alarm wakes it: a warm start, then the heads it missed
    await runDurableObjectAlarm(stub);
    const want = [tip0 + 1, tip0 + 2, tip0 + 3];
    const got = await waitFor(async () => {
      const n = messages.filter((m) => m.method === 'eth_subscription' && m.params.subscription === heads);
      return n.length >= want.length ? n : undefined;
    }, 'three newHeads notifications');
    expect(got.map((m) => Number(m.params.result.number))).toEqual(want);
    for (const m of got) {
      const block = await control('/node-rpc', {
        method: 'eth_getBlockByNumber',
        params: [m.params.result.number, false],
      });
      expect(m.params.result.hash).toBe(block.result.hash);
      expect(m.params.result.transactions).toBeUndefined();
    }
    const starts = (await (await SELF.fetch('http://edge.test/status')).json()) as any;
    expect(starts.starts.at(-1).kind).toBe('warm-start');
    // unsubscribe: no more heads for it
    expect((await ask(ws, messages, 5, 'eth_unsubscribe', [heads])).result).toBe(true);
    expect((await ask(ws, messages, 6, 'eth_unsubscribe', [heads])).result).toBe(false);
    ws.close();
  });

  it('a socket message that is not JSON gets a parse error; GET /ws without Upgrade is 426', async () => {
    const { ws, messages } = await connect();
    ws.send('{nope');
    const err = await waitFor(async () => messages.find((m) => m.error), 'the parse error');
    expect(err.error.code).toBe(-32700);
    ws.close();
    expect((await SELF.fetch('http://edge.test/ws')).status).toBe(426);
  });
});
