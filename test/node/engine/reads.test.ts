/**
 * Verified reads against a real EVM (the devnet engine over HTTP): every answer equals the engine's own
 * direct answer, and the reads' own rules hold (refs, not-yet-verified blocks, log limits and the bloom
 * pre-filter, absence, timeouts, injected fetch).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEventTopics, pad, type Hex } from 'viem';
import { LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import {
  BlockNotVerifiedError,
  EndpointRequestError,
  EndpointVerificationError,
  LogQueryLimitError,
  createVerifiedReads,
  type EndpointFault,
  type VerifiedReads,
} from '../../../src/node/engine/index.js';
import { listenLocal } from '../../../src/platform/nodejs/http.js';
import { createTamperProxy, createTestChain, mappingSlot, TOKEN, type TamperProxy, type TestChain } from './harness.js';

let chain: TestChain;
let reads: VerifiedReads;
let proxy: TamperProxy;
let id = 1;

async function direct<T = unknown>(method: string, params: unknown[]): Promise<T> {
  const res = (await chain.engine.handleRpc({ jsonrpc: '2.0', id: id++, method, params })) as {
    result?: T;
    error?: { message: string };
  };
  if (res.error !== undefined) throw new Error(`${method}: ${res.error.message}`);
  return res.result as T;
}

/** The engine's block JSON without the field no header commits to. */
function withoutTotalDifficulty(block: Record<string, unknown>): Record<string, unknown> {
  const { totalDifficulty: _td, ...rest } = block;
  return rest;
}

const TRANSFER_TOPIC = encodeEventTopics({ abi: LOAD_TOKEN_ARTIFACT.abi, eventName: 'Transfer' })[0] as Hex;

beforeAll(async () => {
  chain = await createTestChain();
  proxy = await createTamperProxy(chain.url);
  reads = createVerifiedReads({ evmRpc: [proxy.url], payloads: chain.source });
});
afterAll(async () => {
  await proxy.close();
  await chain.close();
});

describe('account state (eth_getProof against the verified state root)', () => {
  it('balances and nonces of every account at every verified block equal the EL', async () => {
    const addresses = [
      ...chain.accounts.map((a) => a.address),
      TOKEN,
      chain.deployedAt,
      '0x00000000000000000000000000000000000000aa' as Hex,
    ];
    for (let n = 0n; n <= 5n; n++) {
      for (const a of addresses) {
        expect(await reads.getBalance(a, n)).toBe(
          BigInt(await direct<Hex>('eth_getBalance', [a, `0x${n.toString(16)}`])),
        );
        expect(await reads.getTransactionCount(a, n)).toBe(
          BigInt(await direct<Hex>('eth_getTransactionCount', [a, `0x${n.toString(16)}`])),
        );
      }
    }
  });

  it("refs: 'latest' is the verified head (not the EL's), 'safe'/'finalized' the finalized block, 'earliest' genesis, hashes work", async () => {
    const [A] = chain.accounts;
    const at = async (n: number) => BigInt(await direct<Hex>('eth_getBalance', [A!.address, `0x${n.toString(16)}`]));
    expect(await reads.getBalance(A!.address)).toBe(await at(5)); // the EL head is 6
    expect(await at(6)).not.toBe(await at(5));
    expect(await reads.getBalance(A!.address, 'safe')).toBe(await at(3));
    expect(await reads.getBalance(A!.address, 'finalized')).toBe(await at(3));
    expect(await reads.getBalance(A!.address, 'earliest')).toBe(100n * 10n ** 18n);
    expect(await reads.getBalance(A!.address, chain.payloads[2]!.blockHash)).toBe(await at(2));
    expect(await reads.getBalance(A!.address.toUpperCase().replace('0X', '0x') as Hex, 4n)).toBe(await at(4));
  });

  it('state at a block the node has not verified is BlockNotVerifiedError, bad inputs are DecodeErrors', async () => {
    await expect(reads.getBalance(chain.accounts[0]!.address, 6n)).rejects.toBeInstanceOf(BlockNotVerifiedError);
    await expect(reads.getBalance(chain.accounts[0]!.address, chain.payloads[6]!.blockHash)).rejects.toThrow(
      /no verified block/,
    );
    await expect(reads.getBalance('0x1234' as Hex)).rejects.toThrow(/address: expected 20 bytes/);
    await expect(reads.getStorageAt(TOKEN, '0xzz' as Hex)).rejects.toThrow(/slots\[0\]/);
  });

  it('code: verified against the proven codeHash; accounts without code read 0x', async () => {
    expect(await reads.getCode(TOKEN)).toBe(await direct('eth_getCode', [TOKEN, '0x5']));
    expect(await reads.getCode(chain.deployedAt)).toBe('0x602a60005260206000f3');
    expect(await reads.getCode(chain.deployedAt, 1n)).toBe('0x'); // not deployed yet
    expect(await reads.getCode(chain.accounts[0]!.address)).toBe('0x');
  });

  it('storage: LoadToken totalSupply (slot 0) and balanceOf mapping slots equal eth_getStorageAt', async () => {
    const slots: Hex[] = ['0x0', ...chain.accounts.map((a) => mappingSlot(a.address, 1n)), '0x1234'];
    for (const n of [1n, 2n, 4n, 5n]) {
      for (const s of slots) {
        const got = await reads.getStorageAt(TOKEN, s, n);
        expect(got).toBe(await direct('eth_getStorageAt', [TOKEN, s, `0x${n.toString(16)}`]));
      }
    }
    expect(BigInt(await reads.getStorageAt(TOKEN, 0n))).toBe(1_000n + 77n + 5n);
    expect(BigInt(await reads.getStorageAt(TOKEN, mappingSlot(chain.accounts[2]!.address, 1n)))).toBe(300n);
  });

  it('getProof: several slots at once; an absent account is proven absent', async () => {
    const p = await reads.getProof(TOKEN, [0n, mappingSlot(chain.accounts[0]!.address, 1n)]);
    expect(p.exists).toBe(true);
    expect(p.blockNumber).toBe(5n);
    expect(p.storage.map((s) => s.value)).toEqual([1082n, 700n]);
    expect(p.proof.storageProof).toHaveLength(2);
    const none = await reads.getProof('0x00000000000000000000000000000000000000aa', [1n]);
    expect(none).toMatchObject({ exists: false, balance: 0n, nonce: 0n, storage: [{ value: 0n }] });
  });
});

describe('blocks (header hash = the verified payload hash)', () => {
  it('every verified block, with hashes or full transactions, equals the EL block (minus totalDifficulty)', async () => {
    for (let n = 0; n <= 5; n++) {
      for (const full of [false, true]) {
        const ours = await reads.getBlock(BigInt(n), full);
        const theirs = await direct<Record<string, unknown>>('eth_getBlockByNumber', [`0x${n.toString(16)}`, full]);
        expect(ours).toEqual(withoutTotalDifficulty(theirs));
        expect(await reads.getBlock(chain.payloads[n]!.blockHash as Hex, full)).toEqual(ours);
      }
    }
  });

  it('tags; unknown numbers/hashes are null; a tag with no verified block throws', async () => {
    expect((await reads.getBlock('latest'))!.number).toBe('0x5');
    expect((await reads.getBlock('finalized'))!.number).toBe('0x3');
    expect((await reads.getBlock('earliest'))!.hash).toBe(chain.payloads[0]!.blockHash);
    expect(await reads.getBlock(6n)).toBeNull();
    expect(await reads.getBlock(99n)).toBeNull();
    expect(await reads.getBlock(`0x${'12'.repeat(32)}`)).toBeNull();
    const empty = createVerifiedReads({ evmRpc: [chain.url], payloads: { payload: async () => undefined } });
    await expect(empty.getBlock('latest')).rejects.toBeInstanceOf(BlockNotVerifiedError);
    await expect(empty.blockNumber()).rejects.toBeInstanceOf(BlockNotVerifiedError);
    expect(await reads.blockNumber()).toBe(5n);
  });

  it('checkElBlock: the EL serves each verified payload; a payload that differs from the EL block is named by field', async () => {
    for (const p of chain.payloads) {
      const checked = await reads.checkElBlock(p);
      expect(checked).toEqual({ endpoint: proxy.url, hash: p.blockHash, number: p.blockNumber });
    }
    const p2 = chain.payloads[2]!;
    const wrong = { ...p2, stateRoot: chain.payloads[1]!.stateRoot };
    const err = await reads.checkElBlock(wrong).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointVerificationError);
    expect((err as EndpointVerificationError).check).toBe('el-block.state-root');
    const unknown = await reads.checkElBlock({ ...p2, blockHash: `0x${'34'.repeat(32)}` }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(EndpointRequestError);
    expect((unknown as EndpointRequestError).reason).toBe('missing');
  });
});

describe('transactions and receipts (located by the endpoint, verified against the payload and receiptsRoot)', () => {
  it('every receipt and transaction equals the EL (transfers of 3 types, logs, revert, contract creation)', async () => {
    for (const [name, hash] of Object.entries(chain.tx)) {
      if (name === 'unverified') continue;
      expect(await reads.getTransactionReceipt(hash)).toEqual(await direct('eth_getTransactionReceipt', [hash]));
      expect(await reads.getTransaction(hash)).toEqual(await direct('eth_getTransactionByHash', [hash]));
    }
    const reverted = await reads.getTransactionReceipt(chain.tx.reverted);
    expect(reverted!.status).toBe('0x0');
    const created = await reads.getTransactionReceipt(chain.tx.deploy);
    expect(created!.contractAddress).toBe(chain.deployedAt);
    expect(created!.to).toBeNull();
  });

  it('block receipts equal eth_getBlockReceipts', async () => {
    for (let n = 0; n <= 5; n++)
      expect(await reads.getBlockReceipts(BigInt(n))).toEqual(
        await direct('eth_getBlockReceipts', [`0x${n.toString(16)}`]),
      );
    expect(await reads.getBlockReceipts(6n)).toBeNull();
  });

  it('a transaction in a block not verified yet reads as null, and appears once the head covers it', async () => {
    expect(await reads.getTransactionReceipt(chain.tx.unverified)).toBeNull();
    expect(await reads.getTransaction(chain.tx.unverified)).toBeNull();
    expect(await reads.getTransactionReceipt(`0x${'77'.repeat(32)}`)).toBeNull();
    chain.source.head = 6n;
    try {
      expect(await reads.getTransactionReceipt(chain.tx.unverified)).toEqual(
        await direct('eth_getTransactionReceipt', [chain.tx.unverified]),
      );
    } finally {
      chain.source.head = 5n;
    }
  });

  it('a transaction the endpoint places below the verified history is BlockNotVerifiedError', async () => {
    const pruned = {
      ...chain.source,
      payload: async (ref: Parameters<typeof chain.source.payload>[0]) =>
        ref === 2n ? undefined : chain.source.payload(ref),
    };
    const r = createVerifiedReads({ evmRpc: [chain.url], payloads: pruned });
    await expect(r.getTransactionReceipt(chain.tx.mintA)).rejects.toBeInstanceOf(BlockNotVerifiedError);
  });
});

describe('logs (verified receipts, filtered locally)', () => {
  const filters = (): [string, Record<string, unknown>, Parameters<VerifiedReads['getLogs']>[0]][] => {
    const [A, , C, D] = chain.accounts;
    return [
      ['everything', { fromBlock: '0x0', toBlock: '0x5' }, { fromBlock: 0n, toBlock: 5n }],
      [
        'by address',
        { fromBlock: '0x0', toBlock: '0x5', address: TOKEN },
        { fromBlock: 0n, toBlock: 5n, address: TOKEN },
      ],
      [
        'by address list',
        { fromBlock: '0x0', toBlock: '0x5', address: [TOKEN, chain.deployedAt] },
        { fromBlock: 0n, toBlock: 5n, address: [TOKEN, chain.deployedAt] },
      ],
      [
        'topic1 = from zero (mints)',
        { fromBlock: '0x0', toBlock: '0x5', topics: [TRANSFER_TOPIC, pad('0x0')] },
        { fromBlock: 0n, toBlock: 5n, topics: [TRANSFER_TOPIC, pad('0x0')] },
      ],
      [
        'topic2 any of C, D',
        { fromBlock: '0x0', toBlock: '0x5', topics: [null, null, [pad(C!.address), pad(D!.address)]] },
        { fromBlock: 0n, toBlock: 5n, topics: [null, null, [pad(C!.address), pad(D!.address)]] },
      ],
      [
        'topic1 = A (transfers out of A)',
        { fromBlock: '0x0', toBlock: '0x5', topics: [null, pad(A!.address)] },
        { fromBlock: 0n, toBlock: 5n, topics: [null, pad(A!.address)] },
      ],
      [
        'four topics (none has 4)',
        { fromBlock: '0x0', toBlock: '0x5', topics: [null, null, null, null] },
        { fromBlock: 0n, toBlock: 5n, topics: [null, null, null, null] },
      ],
      ['block hash', { blockHash: chain.payloads[2]!.blockHash }, { blockHash: chain.payloads[2]!.blockHash }],
      ['default range = latest', {}, {}],
      ['tags', { fromBlock: 'earliest', toBlock: 'finalized' }, { fromBlock: 'earliest', toBlock: 'finalized' }],
      [
        'no such address',
        { fromBlock: '0x0', toBlock: '0x5', address: chain.accounts[1]!.address },
        { fromBlock: 0n, toBlock: 5n, address: chain.accounts[1]!.address },
      ],
    ];
  };

  it('equal the EL eth_getLogs for address/topic/range/blockHash filters', async () => {
    let nonEmpty = 0;
    for (const [name, rpcFilter, filter] of filters()) {
      const ours = await reads.getLogs(filter);
      expect(ours, name).toEqual(await direct('eth_getLogs', [rpcFilter]));
      if (ours.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThanOrEqual(6);
  });

  it('the verified logsBloom skips blocks that cannot match: receipts are fetched only where needed', async () => {
    const fresh = createVerifiedReads({ evmRpc: [proxy.url], payloads: chain.source });
    proxy.reset();
    expect(await fresh.getLogs({ fromBlock: 0n, toBlock: 5n, address: chain.deployedAt })).toEqual([]);
    expect(proxy.counts.get('eth_getBlockReceipts') ?? 0).toBe(0);
    const mints = await fresh.getLogs({ fromBlock: 0n, toBlock: 5n, address: TOKEN, topics: [TRANSFER_TOPIC] });
    expect(new Set(mints.map((l) => l.blockNumber))).toEqual(new Set(['0x2', '0x4']));
    expect(proxy.counts.get('eth_getBlockReceipts')).toBe(2);
    // cached: the same query again needs no request
    await fresh.getLogs({ fromBlock: 0n, toBlock: 5n, address: TOKEN });
    expect(proxy.counts.get('eth_getBlockReceipts')).toBe(2);
  });

  it('ranges: end beyond the verified head is clamped, start beyond it is empty; limits are typed errors', async () => {
    expect(await reads.getLogs({ fromBlock: 0n, toBlock: 100n })).toEqual(
      await reads.getLogs({ fromBlock: 0n, toBlock: 5n }),
    );
    expect(await reads.getLogs({ fromBlock: 6n, toBlock: 100n })).toEqual([]); // block 6 has logs? it is not verified anyway
    await expect(reads.getLogs({ fromBlock: 4n, toBlock: 2n })).rejects.toThrow(/fromBlock 4 is after toBlock 2/);
    await expect(reads.getLogs({ blockHash: chain.payloads[6]!.blockHash })).rejects.toBeInstanceOf(
      BlockNotVerifiedError,
    );
    const small = createVerifiedReads({ evmRpc: [chain.url], payloads: chain.source, maxLogBlockRange: 3, maxLogs: 2 });
    const range = await small.getLogs({ fromBlock: 0n, toBlock: 5n }).catch((e: unknown) => e);
    expect(range).toBeInstanceOf(LogQueryLimitError);
    expect((range as LogQueryLimitError).message).toMatch(/over 6 blocks: at most 3 blocks/);
    const many = await small.getLogs({ fromBlock: 2n, toBlock: 4n }).catch((e: unknown) => e);
    expect(many).toBeInstanceOf(LogQueryLimitError);
    expect((many as LogQueryLimitError).limit).toBe('logs');
    await expect(reads.getLogs({ topics: [null, null, null, null, null] })).rejects.toThrow(
      /at most 4 topic positions/,
    );
  });
});

describe('endpoints', () => {
  it('uses the injected fetch; a dead endpoint is a transport fault and the next one answers', async () => {
    const seen: string[] = [];
    const faults: [string, EndpointFault][] = [];
    const r = createVerifiedReads({
      evmRpc: ['http://127.0.0.1:1', chain.url],
      payloads: chain.source,
      fetch: (input, init) => {
        seen.push(String(input));
        return fetch(input, init);
      },
      onEndpointFault: (url, e) => faults.push([url, e]),
    });
    expect(await r.getBalance(chain.accounts[0]!.address, 1n)).toBe(
      await reads.getBalance(chain.accounts[0]!.address, 1n),
    );
    const href = (u: string) => new URL(u).href;
    expect(seen).toEqual([href('http://127.0.0.1:1'), href(chain.url)]);
    expect(faults).toHaveLength(1);
    expect(faults[0]![0]).toBe('http://127.0.0.1:1');
    expect(faults[0]![1]).toBeInstanceOf(EndpointRequestError);
    expect((faults[0]![1] as EndpointRequestError).reason).toBe('transport');
    // The faulty endpoint is now tried last (cooldown).
    seen.length = 0;
    await r.getBalance(chain.accounts[0]!.address, 2n);
    expect(seen).toEqual([href(chain.url)]);
    expect(r.endpointStats()).toMatchObject([
      { url: 'http://127.0.0.1:1', verified: 0, failures: 1, lies: 0 },
      { url: chain.url, verified: 2, failures: 0, lies: 0 },
    ]);
  });

  it('timeoutMs bounds a hanging endpoint', async () => {
    const hanging = await listenLocal(() => {}); // never answers
    const { url } = hanging;
    try {
      const r = createVerifiedReads({ evmRpc: [url, chain.url], payloads: chain.source, timeoutMs: 300 });
      const t0 = performance.now();
      expect(await r.getBalance(chain.accounts[0]!.address)).toBe(await reads.getBalance(chain.accounts[0]!.address));
      // finite is the point (without timeoutMs this endpoint never answers); the bound is generous for a loaded machine
      expect(performance.now() - t0).toBeLessThan(15_000);
      expect(r.endpointStats()[0]!.failures).toBe(1);
      const alone = createVerifiedReads({ evmRpc: [url], payloads: chain.source, timeoutMs: 200 });
      const err = await alone.getBalance(chain.accounts[0]!.address).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EndpointRequestError);
      expect((err as EndpointRequestError).reason).toBe('transport');
    } finally {
      await hanging.close();
    }
  });

  it('refuses bad options', () => {
    expect(() => createVerifiedReads({ evmRpc: [], payloads: chain.source })).toThrow(/at least one URL/);
    expect(() => createVerifiedReads({ evmRpc: ['ws://x'], payloads: chain.source })).toThrow(/http\(s\) URL/);
    expect(() => createVerifiedReads({ evmRpc: [chain.url], payloads: chain.source, maxLogs: 0 })).toThrow(/maxLogs/);
  });
});
