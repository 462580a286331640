/**
 * Subscriptions and provider events of a light node over the devnet: `connect` on the first verified
 * head, `disconnect` (4900) when the sync stalls (its consensus endpoint answers 503 through a real
 * proxy) and again when the node stops; `newHeads` delivered in order without a gap across that forced
 * disconnect (the missed heads come first); a `logs` subscription and a log filter equal `eth_getLogs`
 * over the same range; a subscription further behind than `maxLag` is told so and resumes at the head.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { LOAD_TOKEN_ADDRESS } from '../../../src/devnet/evm/index.js';
import { ConfigError, type LightNode } from '../../../src/index.nodejs.js';
import { createSubscriptionHub, ProviderRpcError, type Eip1193Provider } from '../../../src/node/engine/index.js';
import type { RpcProxy } from '../../helpers/rpc-proxy.js';
import { Cleanup, growChain, makeNode, startDevnet, startProxy, waitFor, waitSynced } from '../helpers.js';

const TRANSFER_TOPIC = keccak256(toHex('Transfer(address,address,uint256)'));

interface Message {
  type: string;
  data: { subscription: Hex; result: any };
}

const cleanup = new Cleanup();
let devnet: Devnet;
let node: LightNode;
let provider: Eip1193Provider;
let proxy: RpcProxy;
const events: Array<{ name: string; data: any }> = [];
const messages: Message[] = [];
let nonce = 0;

/** Queue a token mint (a Transfer log) from user 0 in the devnet's mempool. */
async function queueMint(amount: bigint): Promise<void> {
  const user = devnet.users[0]!;
  const account = privateKeyToAccount(user.privateKey);
  const raw = await account.signTransaction({
    chainId: devnet.spec.chainId,
    type: 'eip1559',
    nonce: nonce++,
    to: LOAD_TOKEN_ADDRESS,
    data: encodeFunctionData({ abi: LOAD_TOKEN_ARTIFACT.abi, functionName: 'mint', args: [user.address, amount] }),
    gas: 120_000n,
    maxFeePerGas: 10_000_000_000n,
    maxPriorityFeePerGas: 1_000_000n,
  });
  await devnet.engine.sendRawTransaction(Buffer.from(raw.slice(2), 'hex'));
}

/** Grow the devnet by `blocks` blocks, a mint in every other one, a PoW every 4th height. */
async function grow(blocks: number): Promise<void> {
  await growChain(devnet, blocks, 4, async (h) => {
    if (h % 2 === 0) await queueMint(BigInt(h));
  });
}

const elHead = async () => BigInt((await provider.request({ method: 'eth_blockNumber' })) as Hex);

async function waitElHead(n: bigint): Promise<void> {
  await waitFor(
    async () => (await elHead()) >= n,
    async () => `EL head ${n}, at ${await elHead().catch(() => '?')}`,
  );
}

const resultsOf = (id: Hex) => messages.filter((m) => m.type === 'eth_subscription' && m.data.subscription === id);

beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'subscriptions');
  await grow(8);
  proxy = await startProxy(cleanup, devnet.urls.consensus);
  ({ node } = makeNode(cleanup, devnet, { rpc: [proxy.url] }));
  provider = node.provider;
  for (const name of ['connect', 'disconnect']) provider.on(name, (data: unknown) => events.push({ name, data }));
  provider.on('message', (m: unknown) => messages.push(m as Message));
  await node.start();
  await waitSynced(node, devnet);
}, 60_000);

afterAll(() => cleanup.run(), 30_000);

describe('subscriptions over the devnet', () => {
  let heads: Hex;
  let logs: Hex;
  let filter: Hex;
  let from: bigint;

  it('newHeads and logs arrive in order, without gaps, across a stop and restart of the node', async () => {
    heads = (await provider.request({ method: 'eth_subscribe', params: ['newHeads'] })) as Hex;
    logs = (await provider.request({
      method: 'eth_subscribe',
      params: ['logs', { address: LOAD_TOKEN_ADDRESS, topics: [TRANSFER_TOPIC] }],
    })) as Hex;
    filter = (await provider.request({
      method: 'eth_newFilter',
      params: [{ address: LOAD_TOKEN_ADDRESS, topics: [TRANSFER_TOPIC] }],
    })) as Hex;
    from = (await elHead()) + 1n;

    await grow(4);
    await waitElHead(from + 3n);
    await waitFor(
      () => events.some((e) => e.name === 'connect'),
      () => 'connect',
    );

    // a forced disconnect: the node stops (its memory store with it), the chain grows, it starts again
    await node.stop();
    await waitFor(
      () => events.some((e) => e.name === 'disconnect'),
      () => `disconnect (events ${JSON.stringify(events.map((e) => e.name))})`,
    );
    const before = resultsOf(heads).length;
    await grow(12);
    await node.start();
    const tip = (await waitSynced(node, devnet)).head!;
    const to = await elHead();
    await waitFor(
      () => resultsOf(heads).at(-1)?.data.result.number === toHex(to),
      () => `newHeads up to ${to}, got ${resultsOf(heads).at(-1)?.data.result.number}`,
    );

    const names = events.map((e) => e.name);
    expect(names.slice(0, 3)).toEqual(['connect', 'disconnect', 'connect']);
    expect(events[0]!.data).toEqual({ chainId: toHex(devnet.spec.chainId) });
    const disconnect = events[1]!.data as ProviderRpcError;
    expect(disconnect).toBeInstanceOf(ProviderRpcError);
    expect(disconnect.code).toBe(4900);
    expect(before).toBeLessThan(Number(to - from + 1n)); // some heads were delivered only after reconnecting

    const got = resultsOf(heads).map((m) => m.data.result);
    expect(got.map((h) => BigInt(h.number))).toEqual(
      Array.from({ length: Number(to - from + 1n) }, (_, i) => from + BigInt(i)),
    );
    for (const h of got) {
      const block = (await provider.request({ method: 'eth_getBlockByNumber', params: [h.number, false] })) as any;
      const { transactions: _t, uncles: _u, ...header } = block;
      expect(h).toEqual(header);
    }
    expect(got.at(-1)!.hash).toBe(
      ((await provider.request({ method: 'eth_getBlockByNumber', params: ['latest', false] })) as any).hash,
    );
    expect(tip.number).toBe(devnet.chain.height);

    // the logs subscription equals eth_getLogs over the same range
    const expected = await provider.request({
      method: 'eth_getLogs',
      params: [{ fromBlock: toHex(from), toBlock: toHex(to), address: LOAD_TOKEN_ADDRESS, topics: [TRANSFER_TOPIC] }],
    });
    expect((expected as unknown[]).length).toBeGreaterThanOrEqual(6);
    await waitFor(
      () => resultsOf(logs).length >= (expected as unknown[]).length,
      () => `logs: ${resultsOf(logs).length}`,
    );
    expect(resultsOf(logs).map((m) => m.data.result)).toEqual(expected);

    // so does the filter, pulled once for the whole range
    expect(await provider.request({ method: 'eth_getFilterChanges', params: [filter] })).toEqual(expected);
    expect(await provider.request({ method: 'eth_getFilterChanges', params: [filter] })).toEqual([]);
  }, 90_000);

  it('unsubscribes, a filter goes away when uninstalled, and a config change keeps the listeners', async () => {
    expect(await provider.request({ method: 'eth_unsubscribe', params: [heads] })).toBe(true);
    expect(await provider.request({ method: 'eth_unsubscribe', params: [heads] })).toBe(false);
    expect(await provider.request({ method: 'eth_uninstallFilter', params: [filter] })).toBe(true);
    const err = await provider.request({ method: 'eth_getFilterChanges', params: [filter] }).catch((e: unknown) => e);
    expect((err as ProviderRpcError).code).toBe(-32001);
    const count = resultsOf(heads).length;
    const logCount = resultsOf(logs).length;
    // the provider behind node.provider is rebuilt on a passThrough change: listeners and subscriptions stay
    await node.updateConfig({ passThrough: ['eth_gasPrice'] });
    await grow(2); // one mint: the logs subscription still gets it, after every head of the round
    await waitSynced(node, devnet);
    await waitFor(
      () => resultsOf(logs).length > logCount,
      () => 'a log delivery after the unsubscribe',
    );
    expect(resultsOf(heads).length).toBe(count);
  }, 60_000);

  it('bad subscriptions are refused with -32602', async () => {
    for (const params of [['newPendingTransactions'], ['logs', { fromBlock: '0x1' }], ['logs', { address: '0x12' }]]) {
      const err = await provider.request({ method: 'eth_subscribe', params }).catch((e: unknown) => e);
      expect((err as ProviderRpcError).code, JSON.stringify(params)).toBe(-32602);
    }
  });

  it('subscriptionMaxLag must be a positive integer (ConfigError naming it)', () => {
    for (const bad of [0, -1, 1.5]) {
      const err = (() => {
        try {
          return makeNode(cleanup, devnet, { subscriptionMaxLag: bad });
        } catch (e) {
          return e;
        }
      })();
      expect(err, String(bad)).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues[0]!.key).toBe('subscriptionMaxLag');
    }
    expect(() => makeNode(cleanup, devnet, { subscriptionMaxLag: 5 })).not.toThrow();
  });

  it('a subscription more than maxLag blocks behind is told so and resumes at the head', async () => {
    // the same hub over the node's verified reads, with a small bound; its heads are given by hand
    const hub = createSubscriptionHub({
      reads: {
        blockNumber: () => elHead(),
        getBlock: (ref, full) =>
          provider.request({ method: 'eth_getBlockByNumber', params: [toHex(ref as bigint), full ?? false] }) as any,
        getLogs: (f) => provider.request({ method: 'eth_getLogs', params: [{ ...f }] }) as any,
      },
      chainId: BigInt(devnet.spec.chainId),
      maxLag: 3,
    });
    const seen: Message[] = [];
    hub.on('message', (m) => seen.push(m as Message));
    const id = (await hub.methods.eth_subscribe!(['newHeads'])) as Hex;
    const start = await elHead();
    await grow(6);
    const tip = await waitSynced(node, devnet);
    const head = await elHead();
    expect(head - start).toBeGreaterThan(3n);
    await hub.head();
    expect(seen).toEqual([
      {
        type: 'alys_subscriptionLagged',
        data: { subscription: id, from: toHex(start + 1n), to: toHex(head - 1n), resumeAt: toHex(head) },
      },
      expect.objectContaining({ type: 'eth_subscription', data: expect.objectContaining({ subscription: id }) }),
    ]);
    expect(seen[1]!.data.result.number).toBe(toHex(head));
    expect(tip.head?.number).toBe(devnet.chain.height);
  }, 60_000);

  it('filters not polled for filterTimeoutMs are removed (an injected clock), and their count is bounded', async () => {
    let clock = 1_000_000;
    const hub = createSubscriptionHub({
      reads: {
        blockNumber: () => elHead(),
        getBlock: (ref, full) =>
          provider.request({ method: 'eth_getBlockByNumber', params: [toHex(ref as bigint), full ?? false] }) as any,
        getLogs: (f) => provider.request({ method: 'eth_getLogs', params: [{ ...f }] }) as any,
      },
      chainId: BigInt(devnet.spec.chainId),
      maxWatchers: 3,
      filterTimeoutMs: 300_000,
      now: () => clock,
    });
    const m = hub.methods;
    const polled = (await m.eth_newBlockFilter!([])) as Hex;
    const forgotten = (await m.eth_newFilter!([{ address: LOAD_TOKEN_ADDRESS }])) as Hex;
    // the bound holds for filters asked for at once, too: one of these two gets the last slot
    const raced = await Promise.allSettled([m.eth_newBlockFilter!([]), m.eth_newBlockFilter!([])]);
    expect(raced.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(raced.find((r) => r.status === 'rejected')!.reason).toMatchObject({ code: -32005 });
    const extra = (raced.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Hex>).value;

    clock += 200_000;
    expect(Array.isArray(await m.eth_getFilterChanges!([polled]))).toBe(true); // polled: its clock starts again
    clock += 200_000; // `forgotten` and `extra` are 400 s old, `polled` 200 s
    await hub.head();
    for (const id of [forgotten, extra]) {
      const gone = await m.eth_getFilterChanges!([id]).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(ProviderRpcError);
      expect(gone).toMatchObject({ code: -32001, message: 'filter not found' });
    }
    expect(Array.isArray(await m.eth_getFilterChanges!([polled]))).toBe(true);
    // their slots are free again; a subscription never expires
    const sub = (await m.eth_subscribe!(['newHeads'])) as Hex;
    const fresh = (await m.eth_newBlockFilter!([])) as Hex;
    clock += 1_000_000;
    await expect(m.eth_getFilterLogs!([fresh])).rejects.toMatchObject({ code: -32001 });
    expect(await m.eth_uninstallFilter!([polled])).toBe(false); // expired before it was uninstalled
    expect(await m.eth_unsubscribe!([sub])).toBe(true);
    expect(() => createSubscriptionHub({ reads: {} as never, chainId: 1n, filterTimeoutMs: 0 })).toThrow(RangeError);
  });

  it('a stalled sync (its only consensus endpoint failing) disconnects the provider', async () => {
    const n = events.length;
    proxy.setFailing(true);
    await grow(2);
    await waitFor(
      () => events.length > n,
      () => 'an event after the endpoint failed',
    );
    expect(events.slice(n).map((e) => e.name)).toEqual(['disconnect']);
    const err = events.at(-1)!.data as ProviderRpcError;
    expect(err.code).toBe(4900);
    expect(err.message).toMatch(/stalled/);
  }, 30_000);
});
