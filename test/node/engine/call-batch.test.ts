/**
 * The verified call's prefetch as ONE JSON-RPC batch (call/state.ts `prefetch`, reads/state.ts
 * `proveAccountsAt`, endpoints.ts `batch`), against anvil through a proxy (test/helpers/rpc-proxy.ts):
 * with nothing cached a call is two HTTP requests (the access-list hint, then one batch of every proof
 * and code); a batch reply that does not pair one answer with each request (not an array, an entry left
 * out or added, an id duplicated or foreign) is the endpoint's `rpc.batch-reply` fault and the call falls
 * back (next endpoint, or separate requests on demand), never a wrong answer; an endpoint that refuses
 * batches is sent separate requests from then on; the response cap holds for a batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, type Hex } from 'viem';
import {
  createVerifiedReads,
  EndpointRequestError,
  EndpointVerificationError,
  type EndpointFault,
} from '../../../src/node/engine/index.js';
import type { CallRequest } from '../../../src/node/engine/call/request.js';
import { startRpcProxy, type RpcProxy } from '../../helpers/rpc-proxy.js';
import { CALL_CHAIN_ID, createCallFixture, ERC20_ABI, SUMMER, type CallFixture } from './call-fixture.js';

type Entry = { id: number; result?: unknown; error?: unknown };
type Mangle = (entries: Entry[]) => unknown;

let f: CallFixture;
let proxy: RpcProxy;
/** What the proxy does to batch replies (parsed), for the test running. */
let mangle: Mangle | undefined;
/** A body that replaces every batch reply, for the test running. */
let replaceBatch: string | undefined;
const chainId = BigInt(CALL_CHAIN_ID);

const balanceCall = (): CallRequest => ({
  to: f.token,
  data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [f.holder.address] }),
});
const sumCall = (): CallRequest => ({ to: SUMMER, data: '0x' });
const anvilAnswer = (call: CallRequest, block: 'latest' | { blockHash: Hex } = 'latest') =>
  f.anvil.rpc<Hex>('eth_call', [{ to: call.to, data: call.data }, block]);

function fresh(urls: string[], faults: EndpointFault[] = [], maxResponseBytes?: number) {
  return createVerifiedReads({
    evmRpc: urls,
    payloads: f.source,
    onEndpointFault: (_url, e) => faults.push(e),
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  });
}

beforeAll(async () => {
  f = await createCallFixture();
  proxy = await startRpcProxy(f.anvil.url, {
    tamperBody: (body, _calls, batch) => {
      if (!batch) return undefined;
      if (replaceBatch !== undefined) return replaceBatch;
      if (mangle === undefined) return undefined;
      const out = mangle(JSON.parse(body) as Entry[]);
      return typeof out === 'string' ? out : JSON.stringify(out);
    },
  });
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await f?.close();
});

function reset(): void {
  mangle = undefined;
  replaceBatch = undefined;
  proxy.clearCalls();
}

describe('the prefetch goes out as one batch', () => {
  for (const [name, call] of [
    ['ERC-20 balanceOf', balanceCall],
    ['a call reading 50 storage slots', sumCall],
  ] as const) {
    it(`${name}: the hint, then one batch of every proof and code; the answer is anvil's`, async () => {
      reset();
      expect(await fresh([proxy.url]).call(call(), 'latest', { chainId })).toBe(await anvilAnswer(call()));
      const requests = proxy.requests.filter((r) => r.calls.some((c) => c.method !== 'eth_call'));
      expect(requests.map((r) => r.calls[0]!.method)).toEqual(['eth_createAccessList', 'eth_getProof']);
      const [, batch] = requests;
      expect(batch!.batch).toBe(true);
      expect(batch!.calls.length).toBeGreaterThanOrEqual(3);
      expect(new Set(batch!.calls.map((c) => c.method))).toEqual(new Set(['eth_getProof', 'eth_getCode']));
    });
  }
});

describe('a batch reply that does not pair one answer with each request', () => {
  const CASES: { name: string; mangle: Mangle; check?: string }[] = [
    { name: 'not an array', mangle: (e) => e[0] },
    { name: 'not JSON', mangle: () => 'garbage' },
    { name: 'an entry left out', mangle: (e) => e.slice(1) },
    { name: 'an extra entry', mangle: (e) => [...e, { ...e[0]!, id: e[0]!.id + 1000 }] },
    { name: 'a duplicated id', mangle: (e) => [e[0], { ...e[1]!, id: e[0]!.id }, ...e.slice(2)] },
    { name: 'a foreign id', mangle: (e) => [{ ...e[0]!, id: e[0]!.id + 1000 }, ...e.slice(1)] },
    { name: 'an entry with no result', mangle: (e) => [{ jsonrpc: '2.0', id: e[0]!.id }, ...e.slice(1)] },
    {
      // ids well paired, results swapped: only verification can catch it (a proof of the wrong account)
      name: 'results swapped between ids',
      mangle: (e) => [{ ...e[1]!, id: e[0]!.id }, { ...e[0]!, id: e[1]!.id }, ...e.slice(2)],
      check: 'getproof.',
    },
  ];
  for (const c of CASES) {
    it(`${c.name}: the endpoint's fault (${c.check ?? 'rpc.batch-reply'}); the next endpoint answers; alone, the call falls back to separate requests`, async () => {
      const expected = await anvilAnswer(balanceCall());
      for (const urls of [[proxy.url, f.anvil.url], [proxy.url]]) {
        reset();
        mangle = c.mangle;
        const faults: EndpointFault[] = [];
        expect(await fresh(urls, faults).call(balanceCall(), 'latest', { chainId })).toBe(expected);
        expect(faults).toHaveLength(1);
        const fault = faults[0] as EndpointVerificationError;
        expect(fault).toBeInstanceOf(EndpointVerificationError);
        expect(fault.endpoint).toBe(proxy.url);
        if (c.check === undefined) {
          expect(fault.check).toBe('rpc.batch-reply');
          expect(fault.code).toBe('rpc.batch-reply');
          expect(fault.method).toMatch(/^batch\(/);
        } else expect(fault.check.startsWith(c.check)).toBe(true);
      }
    });
  }

  it('answered in another order with the ids kept: used as it is, no fault', async () => {
    reset();
    mangle = (e) => [...e].reverse();
    const faults: EndpointFault[] = [];
    expect(await fresh([proxy.url], faults).call(balanceCall(), 'latest', { chainId })).toBe(
      await anvilAnswer(balanceCall()),
    );
    expect(faults).toEqual([]);
    expect(proxy.requests.filter((r) => r.batch)).toHaveLength(1);
  });
});

describe('a JSON-RPC error for one request of a batch', () => {
  it("is that request's rpc-error, charged to the endpoint; the call falls back", async () => {
    reset();
    mangle = (e) =>
      e.map((x, i) => (i === 0 ? { jsonrpc: '2.0', id: x.id, error: { code: -32000, message: 'no' } } : x));
    const faults: EndpointFault[] = [];
    expect(await fresh([proxy.url], faults).call(balanceCall(), 'latest', { chainId })).toBe(
      await anvilAnswer(balanceCall()),
    );
    expect(faults).toHaveLength(1);
    expect(faults[0]).toBeInstanceOf(EndpointRequestError);
    expect(faults[0]).toMatchObject({
      reason: 'rpc-error',
      rpcCode: -32000,
      method: 'eth_getProof',
      endpoint: proxy.url,
    });
  });
});

describe('an endpoint that refuses batches', () => {
  it('gets separate requests for that call and every later one; no fault', async () => {
    reset();
    replaceBatch = JSON.stringify({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'batch requests are not supported' },
    });
    const faults: EndpointFault[] = [];
    const reads = fresh([proxy.url], faults);
    expect(await reads.call(balanceCall(), 'latest', { chainId })).toBe(await anvilAnswer(balanceCall()));
    expect(proxy.requests.filter((r) => r.batch)).toHaveLength(1);
    // a new block: nothing cached for it, and no batch is tried again
    await f.transfer(1n);
    proxy.clearCalls();
    expect(await reads.call(balanceCall(), 'latest', { chainId })).toBe(await anvilAnswer(balanceCall()));
    expect(proxy.count('eth_getProof')).toBeGreaterThanOrEqual(2);
    expect(proxy.requests.filter((r) => r.batch)).toEqual([]);
    expect(faults).toEqual([]);
  });
});

describe('the response size cap', () => {
  it('holds for a batch: its reply past the cap is response-too-large, charged to the endpoint', async () => {
    reset();
    const faults: EndpointFault[] = [];
    const err = await fresh([proxy.url], faults, 400)
      .call(balanceCall(), 'latest', { chainId })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointRequestError);
    expect((err as EndpointRequestError).reason).toBe('response-too-large');
    const batchFault = faults.find((e) => e.method.startsWith('batch(')) as EndpointRequestError;
    expect(batchFault).toBeInstanceOf(EndpointRequestError);
    expect(batchFault.reason).toBe('response-too-large');
    expect(batchFault.endpoint).toBe(proxy.url);
  });
});
