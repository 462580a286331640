/**
 * The EIP-1193 provider under viem (`custom(provider)`): verified answers equal a plain viem client on the
 * same EVM, unverifiable methods reject with 4200 unless allow-listed (then they are forwarded), errors
 * have EIP-1193 codes with the engine error as cause, and nothing passed in is mutated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BaseError,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  getAddress,
  http,
  parseAbiItem,
  ContractFunctionRevertedError,
  type Hex,
  type PublicClient,
} from 'viem';
import { LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import {
  EndpointVerificationError,
  ProviderRpcError,
  createEip1193Provider,
  createVerifiedReads,
  type Eip1193Provider,
  type VerifiedReads,
} from '../../../src/node/engine/index.js';
import {
  CHAIN_ID,
  DEAD,
  TOKEN,
  createTamperProxy,
  createTestChain,
  mappingSlot,
  type TamperProxy,
  type TestChain,
} from './harness.js';

const devnet = defineChain({
  id: CHAIN_ID,
  name: 'alys-devnet',
  nativeCurrency: { name: 'Bitcoin', symbol: 'BTC', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1'] } },
});

let chain: TestChain;
let reads: VerifiedReads;
let provider: Eip1193Provider;
let verified: PublicClient;
let raw: PublicClient;
let proxy: TamperProxy;

const TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');

/** What a request rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<ProviderRpcError> {
  const r = await p.then(
    (v) => ({ resolved: v }),
    (e: unknown) => e,
  );
  if (!(r instanceof ProviderRpcError))
    throw new Error(
      `expected a ProviderRpcError, got ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
  return r;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

beforeAll(async () => {
  chain = await createTestChain();
  proxy = await createTamperProxy(chain.url);
  reads = createVerifiedReads({ evmRpc: [proxy.url], payloads: chain.source });
  provider = createEip1193Provider({ reads, chainId: CHAIN_ID });
  verified = createPublicClient({ chain: devnet, transport: custom(provider, { retryCount: 0 }) });
  raw = createPublicClient({ chain: devnet, transport: http(chain.url, { retryCount: 0 }) });
});
afterAll(async () => {
  await proxy.close();
  await chain.close();
});

describe('viem over the verified provider', () => {
  it('chain id, net_version, block number (the verified head, not the EL head)', async () => {
    expect(await verified.getChainId()).toBe(CHAIN_ID);
    expect(await provider.request({ method: 'net_version' })).toBe('121212');
    expect(await verified.getBlockNumber({ cacheTime: 0 })).toBe(5n);
    expect(await raw.getBlockNumber({ cacheTime: 0 })).toBe(6n);
  });

  it('balances, nonces, code and storage equal a plain client at the same blocks', async () => {
    const addresses = [...chain.accounts.map((a) => a.address), TOKEN, chain.deployedAt];
    for (const blockNumber of [0n, 2n, 5n]) {
      for (const address of addresses) {
        expect(await verified.getBalance({ address, blockNumber })).toBe(
          await raw.getBalance({ address, blockNumber }),
        );
        expect(await verified.getTransactionCount({ address, blockNumber })).toBe(
          await raw.getTransactionCount({ address, blockNumber }),
        );
        expect(await verified.getCode({ address, blockNumber })).toBe(await raw.getCode({ address, blockNumber }));
      }
      for (const slot of [
        '0x0',
        mappingSlot(chain.accounts[0]!.address, 1n),
        mappingSlot(chain.accounts[3]!.address, 1n),
      ] as Hex[])
        expect(await verified.getStorageAt({ address: TOKEN, slot, blockNumber })).toBe(
          await raw.getStorageAt({ address: TOKEN, slot, blockNumber }),
        );
    }
    expect(await verified.getBalance({ address: chain.accounts[1]!.address, blockTag: 'finalized' })).toBe(
      await raw.getBalance({ address: chain.accounts[1]!.address, blockTag: 'finalized' }),
    );
    expect(await verified.getBalance({ address: chain.accounts[1]!.address })).toBe(
      await raw.getBalance({ address: chain.accounts[1]!.address, blockNumber: 5n }),
    );
  });

  it('proofs equal a plain client', async () => {
    const args = {
      address: TOKEN,
      storageKeys: ['0x0000000000000000000000000000000000000000000000000000000000000000' as Hex],
      blockNumber: 4n,
    };
    expect(await verified.getProof(args)).toEqual(await raw.getProof(args));
  });

  it('blocks (hashes or full transactions, by number, hash or tag) equal a plain client, without totalDifficulty', async () => {
    for (let n = 0n; n <= 5n; n++) {
      for (const includeTransactions of [false, true]) {
        const ours = await verified.getBlock({ blockNumber: n, includeTransactions });
        const theirs = await raw.getBlock({ blockNumber: n, includeTransactions });
        expect(ours).toEqual({ ...theirs, totalDifficulty: null });
        expect(await verified.getBlock({ blockHash: theirs.hash, includeTransactions })).toEqual(ours);
      }
    }
    expect((await verified.getBlock()).number).toBe(5n);
    expect((await verified.getBlock({ blockTag: 'safe' })).number).toBe(3n);
    await expect(verified.getBlock({ blockNumber: 6n })).rejects.toThrow(/Block at number "6" could not be found/);
  });

  it('transactions and receipts equal a plain client', async () => {
    for (const [name, hash] of Object.entries(chain.tx)) {
      if (name === 'unverified') continue;
      expect(await verified.getTransactionReceipt({ hash })).toEqual(await raw.getTransactionReceipt({ hash }));
      expect(await verified.getTransaction({ hash })).toEqual(await raw.getTransaction({ hash }));
    }
    await expect(verified.getTransactionReceipt({ hash: chain.tx.unverified })).rejects.toThrow(/could not be found/);
  });

  it('logs (event ABI, indexed args, contract events) equal a plain client', async () => {
    const range = { fromBlock: 0n, toBlock: 5n } as const;
    const all = await verified.getLogs({ ...range, address: TOKEN, event: TRANSFER });
    expect(all).toEqual(await raw.getLogs({ ...range, address: TOKEN, event: TRANSFER }));
    expect(all.map((l) => l.args.value)).toEqual([1000n, 300n, 77n, 5n]);
    const toC = { ...range, event: TRANSFER, args: { to: chain.accounts[2]!.address } } as const;
    expect(await verified.getLogs(toC)).toEqual(await raw.getLogs(toC));
    const events = { ...range, address: TOKEN, abi: LOAD_TOKEN_ARTIFACT.abi, eventName: 'Transfer' } as const;
    expect(await verified.getContractEvents(events)).toEqual(await raw.getContractEvents(events));
    const byHash = { blockHash: chain.payloads[4]!.blockHash } as const;
    expect(await verified.getLogs(byHash)).toEqual(await raw.getLogs(byHash));
  });
});

describe('unverifiable methods', () => {
  it('reject with 4200 naming passThrough, unless allow-listed; then they are forwarded unverified', async () => {
    const call = {
      address: TOKEN,
      abi: LOAD_TOKEN_ARTIFACT.abi,
      functionName: 'balanceOf',
      args: [chain.accounts[0]!.address],
    } as const;
    const err = await verified.getGasPrice().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaseError);
    const inner = (err as BaseError).walk((e) => e instanceof ProviderRpcError) as ProviderRpcError;
    expect(inner.code).toBe(4200);
    expect(inner.message).toMatch(/unsupported\/unverifiable method eth_gasPrice.*add it to passThrough/);
    for (const method of ['eth_sendRawTransaction', 'eth_newFilter', 'eth_accounts', 'debug_traceTransaction'])
      expect((await rejection(provider.request({ method, params: [] }))).code).toBe(4200);

    const open = createEip1193Provider({ reads, chainId: CHAIN_ID, passThrough: ['eth_call', 'eth_gasPrice'] });
    const client = createPublicClient({ chain: devnet, transport: custom(open, { retryCount: 0 }) });
    expect(await client.readContract({ ...call, blockNumber: 5n })).toBe(
      await raw.readContract({ ...call, blockNumber: 5n }),
    );
    expect(await client.getGasPrice()).toBe(await raw.getGasPrice());
  });

  it('a forwarded call keeps the endpoint error, a verified one has the same revert data (decodes in viem)', async () => {
    const open = createEip1193Provider({ reads, chainId: CHAIN_ID, passThrough: ['eth_call'] });
    const client = createPublicClient({ chain: devnet, transport: custom(open, { retryCount: 0 }) });
    // 'pending' is forwarded (unverifiable), 'latest' executed locally over proven state
    for (const blockTag of ['pending', 'latest'] as const) {
      const err = await client
        .simulateContract({
          address: TOKEN,
          abi: LOAD_TOKEN_ARTIFACT.abi,
          functionName: 'transfer',
          args: [DEAD, 10n ** 9n],
          account: chain.accounts[2]!.address,
          blockTag,
        })
        .catch((e: unknown) => e);
      const reverted = (err as BaseError).walk(
        (e) => e instanceof ContractFunctionRevertedError,
      ) as ContractFunctionRevertedError;
      expect(reverted.data?.errorName, blockTag).toBe('InsufficientBalance');
    }
  });

  it("'pending' is unverifiable: 4200, or forwarded when the method is allow-listed", async () => {
    const address = chain.accounts[0]!.address;
    expect(
      (await rejection(provider.request({ method: 'eth_getTransactionCount', params: [address, 'pending'] }))).message,
    ).toMatch(/'pending' block/);
    expect(
      (await rejection(provider.request({ method: 'eth_getBlockByNumber', params: ['pending', false] }))).code,
    ).toBe(4200);
    expect(
      (await rejection(provider.request({ method: 'eth_getLogs', params: [{ fromBlock: '0x0', toBlock: 'pending' }] })))
        .code,
    ).toBe(4200);
    const open = createEip1193Provider({ reads, chainId: CHAIN_ID, passThrough: ['eth_getTransactionCount'] });
    expect(await open.request({ method: 'eth_getTransactionCount', params: [address, 'pending'] })).toBe(
      await chain.engine
        .handleRpc({ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionCount', params: [address, 'pending'] })
        .then((r) => (r as { result: unknown }).result),
    );
  });
});

describe('errors', () => {
  it('invalid params are -32602; malformed requests -32600', async () => {
    const cases: [string, unknown][] = [
      ['eth_getBalance', ['0x1234']],
      ['eth_getBalance', [chain.accounts[0]!.address, 'soon']],
      ['eth_getBalance', { address: chain.accounts[0]!.address }],
      ['eth_getStorageAt', [TOKEN, '0x' + '1'.repeat(65), 'latest']],
      ['eth_getBlockByNumber', ['0x1', 'yes']],
      ['eth_getBlockByHash', ['0x12', false]],
      ['eth_getLogs', [{ topics: [null, null, null, null, null] }]],
      ['eth_getLogs', [{ blockHash: chain.payloads[1]!.blockHash, fromBlock: '0x1' }]],
      ['eth_getLogs', [{ fromBlock: '0x4', toBlock: '0x2' }]],
      ['eth_chainId', [1]],
    ];
    for (const [method, params] of cases)
      expect(
        (await rejection(provider.request({ method, params: params as unknown[] }))).code,
        `${method} ${JSON.stringify(params)}`,
      ).toBe(-32602);
    expect((await rejection(provider.request(null as never))).code).toBe(-32600);
    expect((await rejection(provider.request({} as never))).code).toBe(-32600);
  });

  it('no verified block: -32001; too many blocks for getLogs: -32005', async () => {
    const unsynced = createEip1193Provider({
      reads: createVerifiedReads({ evmRpc: [chain.url], payloads: { payload: async () => undefined } }),
      chainId: CHAIN_ID,
    });
    const e1 = await rejection(unsynced.request({ method: 'eth_blockNumber' }));
    expect(e1.code).toBe(-32001);
    expect(e1.data).toEqual({ block: 'latest' });
    expect((await rejection(provider.request({ method: 'eth_getBalance', params: [TOKEN, '0x6'] }))).code).toBe(-32001);
    const small = createEip1193Provider({
      reads: createVerifiedReads({ evmRpc: [chain.url], payloads: chain.source, maxLogBlockRange: 2 }),
      chainId: CHAIN_ID,
    });
    const e2 = await rejection(
      small.request({ method: 'eth_getLogs', params: [{ fromBlock: '0x0', toBlock: 'latest' }] }),
    );
    expect(e2.code).toBe(-32005);
  });

  it('a lie: -32002 with the check and endpoint in data, the engine error as cause (reachable from viem errors)', async () => {
    proxy.tamper = (m, _p, r) => (m === 'eth_getProof' ? { ...(r as object), balance: '0x1' } : r);
    try {
      const e = await rejection(provider.request({ method: 'eth_getBalance', params: [TOKEN, 'latest'] }));
      expect(e.code).toBe(-32002);
      expect(e.data).toEqual({ check: 'getproof.balance', endpoint: proxy.url, method: 'eth_getProof' });
      expect(e.cause).toBeInstanceOf(EndpointVerificationError);
      const viemErr = (await verified.getBalance({ address: TOKEN }).catch((x: unknown) => x)) as BaseError;
      const cause = viemErr.walk((x) => x instanceof EndpointVerificationError) as EndpointVerificationError;
      expect(cause.check).toBe('getproof.balance');
    } finally {
      proxy.reset();
    }
  });
});

describe('inputs are never mutated', () => {
  it('frozen params for every verified method and a forwarded one: same answers as unfrozen params', async () => {
    const A = chain.accounts[0]!.address;
    const requests: [string, unknown[]][] = [
      ['eth_chainId', []],
      ['net_version', []],
      ['eth_blockNumber', []],
      ['eth_getBalance', [A, { blockHash: chain.payloads[2]!.blockHash }]],
      ['eth_getTransactionCount', [A, '0x2']],
      ['eth_getCode', [TOKEN, 'latest']],
      ['eth_getStorageAt', [TOKEN, '0x0', { blockNumber: '0x4' }]],
      ['eth_getProof', [TOKEN, ['0x0', mappingSlot(A, 1n)], 'safe']],
      ['eth_getBlockByNumber', ['0x2', true]],
      ['eth_getBlockByHash', [chain.payloads[1]!.blockHash, false]],
      ['eth_getBlockReceipts', ['0x2']],
      ['eth_getTransactionByHash', [chain.tx.mintA]],
      ['eth_getTransactionReceipt', [chain.tx.deploy]],
      [
        'eth_getLogs',
        [{ fromBlock: '0x0', toBlock: '0x5', address: [TOKEN], topics: [null, [`0x${'00'.repeat(32)}`]] }],
      ],
      ['eth_call', [{ to: TOKEN, data: '0x18160ddd' }, '0x5']],
      ['eth_call', [{ to: TOKEN, data: '0x18160ddd' }, 'pending']],
    ];
    let forwardedParams: unknown;
    const p = createEip1193Provider({
      reads,
      chainId: CHAIN_ID,
      passThrough: ['eth_call'],
      forward: async (method, params) => {
        forwardedParams = params;
        return reads.forward(method, params);
      },
    });
    for (const [method, params] of requests) {
      const snapshot = structuredClone(params);
      const frozen = deepFreeze(structuredClone(params));
      const args = deepFreeze({ method, params: frozen });
      const a = await p.request(args);
      if (method === 'eth_call' && (params as unknown[])[1] === 'pending') expect(forwardedParams).toBe(frozen); // handed on as is, not copied or rewritten
      const b = await p.request({ method, params });
      expect(a, method).toEqual(b);
      expect(params, method).toEqual(snapshot);
    }
    // results are fresh objects: changing one does not change the next answer
    const block = (await p.request({ method: 'eth_getBlockByNumber', params: ['0x2', false] })) as {
      transactions: string[];
    };
    block.transactions.length = 0;
    expect(
      ((await p.request({ method: 'eth_getBlockByNumber', params: ['0x2', false] })) as { transactions: string[] })
        .transactions,
    ).toHaveLength(4);
  });

  it('on/removeListener exist and return the provider; no event is emitted', async () => {
    let events = 0;
    const listener = () => events++;
    expect(provider.on('chainChanged', listener)).toBe(provider);
    expect(provider.on('connect', listener)).toBe(provider);
    await provider.request({ method: 'eth_chainId' });
    expect(provider.removeListener('chainChanged', listener)).toBe(provider);
    expect(provider.removeListener('nothing', listener)).toBe(provider);
    expect(events).toBe(0);
    expect(provider.verifiedMethods).toContain('eth_getLogs');
  });
});

describe('a wallet flow through the provider', () => {
  it('send through allow-listed methods, wait for the receipt on verified data', async () => {
    const own = await createTestChain();
    try {
      const ownReads = createVerifiedReads({ evmRpc: [own.url], payloads: own.source });
      own.source.head = 6n;
      const p = createEip1193Provider({
        reads: ownReads,
        chainId: CHAIN_ID,
        passThrough: [
          'eth_sendRawTransaction',
          'eth_estimateGas',
          'eth_maxPriorityFeePerGas',
          'eth_getTransactionCount',
        ],
      });
      const wallet = createWalletClient({
        account: own.accounts[0]!,
        chain: devnet,
        transport: custom(p, { retryCount: 0 }),
      });
      const client = createPublicClient({
        chain: devnet,
        transport: custom(p, { retryCount: 0 }),
        pollingInterval: 20,
      });
      const to = getAddress(own.accounts[3]!.address);
      const before = await client.getBalance({ address: to });
      const hash = await wallet.sendTransaction({ to, value: 123n });
      // The EL includes it; the consensus side verifies that block later.
      const built = await own.engine.buildPayload({
        parentHash: own.engine.headHash(),
        timestamp: own.payloads[6]!.timestamp + 2n,
        suggestedFeeRecipient: DEAD,
        prevRandao: `0x${'00'.repeat(32)}`,
        withdrawals: [],
      });
      own.payloads.push(built.payload);
      expect(await client.getTransactionReceipt({ hash }).catch(() => 'not yet')).toBe('not yet');
      const [receipt] = await Promise.all([
        client.waitForTransactionReceipt({ hash, pollingInterval: 20, timeout: 10_000 }),
        new Promise((resolve) => setTimeout(resolve, 100)).then(() => (own.source.head = 7n)),
      ]);
      expect(receipt.status).toBe('success');
      expect(receipt.blockNumber).toBe(7n);
      expect(await client.getBalance({ address: to })).toBe(before + 123n);
    } finally {
      await own.close();
    }
  });
});
