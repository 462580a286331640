/**
 * The light node's routes through the Worker (inside workerd): `POST /rpc` answers equal to the Node
 * light node's provider on the same devnet (eth_blockNumber, eth_getBalance, eth_getBlockByNumber),
 * batches, and invalid requests answered with JSON-RPC errors; `GET /status`, `GET /metrics`.
 */
import { abortAllDurableObjects, SELF } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH } from '../../../workers/edge/node/jsonrpc.js';
import { control, setup, waitFor } from './helpers.js';

afterAll(() => abortAllDurableObjects());

const url = (path: string) => `http://edge.test${path}`;

async function post(body: unknown): Promise<Response> {
  return SELF.fetch(url('/rpc'), { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function call(method: string, params: unknown[] = []): Promise<any> {
  const res = await post({ jsonrpc: '2.0', id: 1, method, params });
  expect(res.status).toBe(200);
  return res.json();
}

/** The Node light node's answer to the same call. */
const nodeCall = (method: string, params: unknown[] = []) => control('/node-rpc', { method, params });

let tip: { number: number; hash: string };

beforeAll(async () => {
  tip = await control('/head');
  // the Worker's object (named by the spec) and the Node light node both at the devnet tip
  await waitFor(async () => {
    const res = await SELF.fetch(url('/status'));
    const s: any = res.status === 200 ? await res.json() : undefined;
    return s?.head?.number === tip.number;
  }, 'the Worker object at the tip');
  await waitFor(async () => (await control('/node-head')).number === tip.number, 'the Node light node at the tip');
});

describe('POST /rpc: the same answers as the Node light node', () => {
  it('eth_blockNumber', async () => {
    const answer = await call('eth_blockNumber');
    expect(answer).toEqual({ jsonrpc: '2.0', id: 1, result: `0x${tip.number.toString(16)}` });
    expect(answer.result).toBe((await nodeCall('eth_blockNumber')).result);
  });

  it('eth_getBalance (verified against the state root)', async () => {
    const params = [setup().address, 'latest'];
    const answer = await call('eth_getBalance', params);
    expect(BigInt(answer.result)).toBeGreaterThan(0n);
    expect(answer.result).toBe((await nodeCall('eth_getBalance', params)).result);
  });

  it('eth_getBlockByNumber, with and without transactions', async () => {
    for (const full of [false, true]) {
      const params = [`0x${tip.number.toString(16)}`, full];
      const answer = await call('eth_getBlockByNumber', params);
      expect(answer.result.hash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(answer.result).toEqual((await nodeCall('eth_getBlockByNumber', params)).result);
    }
  });

  it('a batch: one answer per call with its id, errors in place', async () => {
    const res = await post([
      { jsonrpc: '2.0', id: 'a', method: 'eth_blockNumber' },
      { jsonrpc: '2.0', id: 2, method: 'eth_chainId' },
      { jsonrpc: '2.0', id: 3, method: 'no_such_method' },
      { jsonrpc: '2.0', method: 'eth_blockNumber' },
      { id: 4, method: 'eth_chainId' },
    ]);
    const answers: any[] = await res.json();
    expect(answers.map((a) => a.id)).toEqual(['a', 2, 3, 4]);
    expect(answers[0].result).toBe(`0x${tip.number.toString(16)}`);
    expect(answers[1].result).toBe((await nodeCall('eth_chainId')).result);
    expect(answers[2].error.code).toBe((await nodeCall('no_such_method')).error.code);
    expect(answers[3].error.code).toBe(-32600);
  });
});

describe('POST /rpc: invalid requests get JSON-RPC errors', () => {
  const cases: Array<[string, unknown, number]> = [
    ['a body that is not JSON', '{"jsonrpc":', -32700],
    ['an empty batch', [], -32600],
    [
      'a batch over the limit',
      Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' })),
      -32600,
    ],
    ['not an object', 42, -32600],
    ['no method', { jsonrpc: '2.0', id: 1 }, -32600],
    [
      'params that are neither array nor object',
      { jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: 'x' },
      -32600,
    ],
    ['an id that is an object', { jsonrpc: '2.0', id: {}, method: 'eth_chainId' }, -32600],
    ['eth_subscribe over HTTP', { jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }, -32601],
  ];
  it.each(cases)('%s', async (_, body, code) => {
    const res = await post(body);
    expect(res.status).toBe(200);
    const answer: any = await res.json();
    expect(answer.error.code).toBe(code);
    expect(answer.jsonrpc).toBe('2.0');
  });

  it('bad params are the provider error, the same as the Node light node', async () => {
    const params = ['not-an-address', 'latest'];
    const answer = await call('eth_getBalance', params);
    expect(answer.error.code).toBe((await nodeCall('eth_getBalance', params)).error.code);
  });

  it('only notifications: 204 without a body', async () => {
    const res = await post([{ jsonrpc: '2.0', method: 'eth_blockNumber' }]);
    expect(res.status).toBe(204);
  });

  it('GET /rpc is 405', async () => {
    expect((await SELF.fetch(url('/rpc'))).status).toBe(405);
  });
});

describe('GET /status and /metrics', () => {
  it('/status: the chain, the verified head, sources, the alarm record', async () => {
    const s: any = await (await SELF.fetch(url('/status'))).json();
    expect(s).toMatchObject({ running: true, head: { number: tip.number, hash: tip.hash } });
    expect(s.chain.fingerprint).toMatch(/^0x[0-9a-f]{64}$/);
    expect(s.alarm).toMatchObject({ runs: expect.any(Number) });
  });

  it('/metrics: Prometheus text with the verified head', async () => {
    const res = await SELF.fetch(url('/metrics'));
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(new RegExp(`^alys_light_head ${tip.number}$`, 'm'));
  });
});
