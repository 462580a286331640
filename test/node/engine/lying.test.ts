/**
 * Lying endpoints: an HTTP proxy in front of the devnet engine's RPC tampers with one thing at a time.
 * Each lie must be rejected with the check that catches it, pinned on the proxy's URL (error and
 * onEndpointFault), and with an honest second endpoint configured the read must succeed with the
 * honest answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeRpcBlockHash, decodeRpcBlockHeader } from '../../../src/protocol/index.js';
import {
  AllEndpointsFailedError,
  EndpointRequestError,
  EndpointVerificationError,
  createVerifiedReads,
  type EndpointFault,
  type VerifiedReads,
} from '../../../src/node/engine/index.js';
import {
  createTamperProxy,
  createTestChain,
  flipHex,
  rpcError,
  TOKEN,
  type TamperProxy,
  type TestChain,
} from './harness.js';

/** Tampering reads and rewrites arbitrary JSON-RPC results. */
type Json = { [k: string]: any };

interface Case {
  name: string;
  /** the method whose answers are tampered with */
  method: string;
  tamper: (result: Json, params: unknown[]) => unknown;
  read: (r: VerifiedReads) => Promise<unknown>;
  /** a check name (EndpointVerificationError), or the EndpointRequestError reason */
  check: string;
}

let chain: TestChain;
let liar: TamperProxy;
let honest: VerifiedReads;
let block1: Json;
let receipts4: Json[];

const plusOne = (q: string) => `0x${(BigInt(q) + 1n).toString(16)}`;
const A = () => chain.accounts[0]!.address;

const CASES: Case[] = [
  // ---- eth_getProof
  {
    name: 'balance in a proof response',
    method: 'eth_getProof',
    tamper: (r) => ({ ...r, balance: plusOne(r.balance) }),
    read: (x) => x.getBalance(A()),
    check: 'getproof.balance',
  },
  {
    name: 'nonce in a proof response',
    method: 'eth_getProof',
    tamper: (r) => ({ ...r, nonce: plusOne(r.nonce) }),
    read: (x) => x.getTransactionCount(A()),
    check: 'getproof.nonce',
  },
  {
    name: 'a byte of an account proof node',
    method: 'eth_getProof',
    tamper: (r) => ({
      ...r,
      accountProof: r.accountProof.map((n: string, i: number) =>
        i === r.accountProof.length - 1 ? flipHex(n, 40) : n,
      ),
    }),
    read: (x) => x.getBalance(A()),
    check: 'getproof.account-proof',
  },
  {
    name: 'an account proof node left out',
    method: 'eth_getProof',
    tamper: (r) => ({ ...r, accountProof: r.accountProof.slice(0, -1) }),
    read: (x) => x.getBalance(A()),
    check: 'getproof.account-proof',
  },
  {
    name: 'a storage value',
    method: 'eth_getProof',
    tamper: (r) => ({ ...r, storageProof: r.storageProof.map((s: Json) => ({ ...s, value: plusOne(s.value) })) }),
    read: (x) => x.getStorageAt(TOKEN, 0n),
    check: 'getproof.storage-value',
  },
  {
    name: 'a byte of a storage proof node',
    method: 'eth_getProof',
    tamper: (r) => ({
      ...r,
      storageProof: r.storageProof.map((s: Json) => ({
        ...s,
        proof: s.proof.map((n: string, i: number) => (i === 0 ? flipHex(n, 30) : n)),
      })),
    }),
    read: (x) => x.getStorageAt(TOKEN, 0n),
    check: 'getproof.storage-proof',
  },
  {
    name: 'storageHash',
    method: 'eth_getProof',
    tamper: (r) => ({ ...r, storageHash: flipHex(r.storageHash) }),
    read: (x) => x.getStorageAt(TOKEN, 0n),
    check: 'getproof.storage-hash',
  },
  {
    name: 'codeHash',
    method: 'eth_getProof',
    tamper: (r) => ({ ...r, codeHash: flipHex(r.codeHash) }),
    read: (x) => x.getCode(TOKEN),
    check: 'getproof.code-hash',
  },
  {
    name: 'a proof for another account',
    method: 'eth_getProof',
    tamper: (r) => ({ ...r, address: flipHex(r.address) }),
    read: (x) => x.getBalance(A()),
    check: 'getproof.address',
  },
  {
    name: 'a malformed proof response',
    method: 'eth_getProof',
    tamper: (r) => ({ ...r, balance: 'lots' }),
    read: (x) => x.getBalance(A()),
    check: 'rpc.malformed-response',
  },
  // ---- eth_getCode
  {
    name: 'code bytes',
    method: 'eth_getCode',
    tamper: (r) => flipHex(r as unknown as string, 10),
    read: (x) => x.getCode(TOKEN),
    check: 'code.hash',
  },
  {
    name: 'code for an account without code',
    method: 'eth_getCode',
    tamper: () => '0x6001',
    read: (x) => x.getCode(A()),
    check: 'code.hash',
  },
  // ---- eth_getBlockByHash
  {
    name: "a block's stateRoot",
    method: 'eth_getBlockByHash',
    tamper: (r) => ({ ...r, stateRoot: flipHex(r.stateRoot) }),
    read: (x) => x.getBlock(2n),
    check: 'rpc-block.hash',
  },
  {
    name: "a block's stateRoot, with the block hash recomputed",
    method: 'eth_getBlockByHash',
    tamper: (r) => {
      const t = { ...r, stateRoot: flipHex(r.stateRoot) };
      return { ...t, hash: computeRpcBlockHash(decodeRpcBlockHeader(t)) };
    },
    read: (x) => x.getBlock(2n),
    check: 'el-block.hash',
  },
  {
    name: 'a wrong block for the hash',
    method: 'eth_getBlockByHash',
    tamper: () => block1,
    read: (x) => x.getBlock(2n),
    check: 'el-block.hash',
  },
  {
    name: "a full transaction's value",
    method: 'eth_getBlockByHash',
    tamper: (r) => ({
      ...r,
      transactions: r.transactions.map((t: Json, i: number) => (i === 1 ? { ...t, value: plusOne(t.value) } : t)),
    }),
    read: (x) => x.getBlock(2n, true),
    check: 'rpc-block.tx-hash',
  },
  {
    name: "a full transaction's sender",
    method: 'eth_getBlockByHash',
    tamper: (r) => ({
      ...r,
      transactions: r.transactions.map((t: Json, i: number) => (i === 1 ? { ...t, from: flipHex(t.from) } : t)),
    }),
    read: (x) => x.getBlock(2n, true),
    check: 'el-block.tx-from',
  },
  {
    name: 'a transaction hash in the list',
    method: 'eth_getBlockByHash',
    tamper: (r) => ({ ...r, transactions: r.transactions.map((t: string, i: number) => (i === 0 ? flipHex(t) : t)) }),
    read: (x) => x.getBlock(2n),
    check: 'el-block.tx-hash',
  },
  {
    name: 'a transaction left out',
    method: 'eth_getBlockByHash',
    tamper: (r) => ({ ...r, transactions: r.transactions.slice(0, -1) }),
    read: (x) => x.getBlock(2n),
    check: 'el-block.tx-count',
  },
  {
    name: "a withdrawal's amount",
    method: 'eth_getBlockByHash',
    tamper: (r) => ({ ...r, withdrawals: r.withdrawals.map((w: Json) => ({ ...w, amount: plusOne(w.amount) })) }),
    read: (x) => x.getBlock(1n),
    check: 'rpc-block.withdrawals-root',
  },
  {
    name: 'null for a verified block',
    method: 'eth_getBlockByHash',
    tamper: () => null,
    read: (x) => x.getBlock(2n),
    check: 'missing',
  },
  // ---- eth_getBlockReceipts
  {
    name: "a receipt's status",
    method: 'eth_getBlockReceipts',
    tamper: (r) => (r as unknown as Json[]).map((x, i) => (i === 2 ? { ...x, status: '0x1' } : x)),
    read: (x) => x.getTransactionReceipt(chain.tx.reverted),
    check: 'receipts.root',
  },
  {
    name: "a log's data",
    method: 'eth_getBlockReceipts',
    tamper: (r) =>
      (r as unknown as Json[]).map((x, i) =>
        i === 1 ? { ...x, logs: x.logs.map((l: Json) => ({ ...l, data: flipHex(l.data) })) } : x,
      ),
    read: (x) => x.getLogs({ fromBlock: 2n, toBlock: 2n, address: TOKEN }),
    check: 'receipts.root',
  },
  {
    name: 'a log left out',
    method: 'eth_getBlockReceipts',
    tamper: (r) => (r as unknown as Json[]).map((x, i) => (i === 1 ? { ...x, logs: [] } : x)),
    read: (x) => x.getTransactionReceipt(chain.tx.tokenTransfer),
    check: 'receipts.logs-bloom',
  },
  {
    name: "a receipt's gasUsed",
    method: 'eth_getBlockReceipts',
    tamper: (r) => (r as unknown as Json[]).map((x, i) => (i === 0 ? { ...x, gasUsed: plusOne(x.gasUsed) } : x)),
    read: (x) => x.getTransactionReceipt(chain.tx.mintA),
    check: 'receipts.gas-used',
  },
  {
    name: "a receipt's sender",
    method: 'eth_getBlockReceipts',
    tamper: (r) => (r as unknown as Json[]).map((x) => ({ ...x, from: flipHex(x.from) })),
    read: (x) => x.getTransactionReceipt(chain.tx.mintA),
    check: 'receipt.from',
  },
  {
    name: "a receipt's effectiveGasPrice",
    method: 'eth_getBlockReceipts',
    tamper: (r) => (r as unknown as Json[]).map((x) => ({ ...x, effectiveGasPrice: plusOne(x.effectiveGasPrice) })),
    read: (x) => x.getTransactionReceipt(chain.tx.mintA),
    check: 'receipt.effective-gas-price',
  },
  {
    name: "a receipt's contractAddress",
    method: 'eth_getBlockReceipts',
    tamper: (r) =>
      (r as unknown as Json[]).map((x) =>
        x.contractAddress ? { ...x, contractAddress: flipHex(x.contractAddress) } : x,
      ),
    read: (x) => x.getTransactionReceipt(chain.tx.deploy),
    check: 'receipt.contract-address',
  },
  {
    name: "another block's receipts",
    method: 'eth_getBlockReceipts',
    tamper: () => receipts4,
    read: (x) => x.getTransactionReceipt(chain.tx.mintA),
    check: 'receipts.tx-hash',
  },
  // ---- eth_getTransactionByHash (locating)
  {
    name: 'a transaction placed in another verified block',
    method: 'eth_getTransactionByHash',
    tamper: (r) => ({ ...r, blockNumber: '0x4', blockHash: chain.payloads[4]!.blockHash }),
    read: (x) => x.getTransactionReceipt(chain.tx.mintA),
    check: 'tx-location.block',
  },
  {
    name: 'a transaction at the wrong index',
    method: 'eth_getTransactionByHash',
    tamper: (r) => ({ ...r, transactionIndex: '0x1' }),
    read: (x) => x.getTransactionReceipt(chain.tx.mintA),
    check: 'tx-location.index',
  },
  {
    name: "a transaction object's value",
    method: 'eth_getTransactionByHash',
    tamper: (r) => ({ ...r, value: plusOne(r.value) }),
    read: (x) => x.getTransaction(chain.tx.legacy),
    check: 'tx.body',
  },
  {
    name: "a transaction object's sender",
    method: 'eth_getTransactionByHash',
    tamper: (r) => ({ ...r, from: flipHex(r.from) }),
    read: (x) => x.getTransaction(chain.tx.legacy),
    check: 'tx.from',
  },
  {
    name: "a transaction object's gas price",
    method: 'eth_getTransactionByHash',
    tamper: (r) => ({ ...r, gasPrice: plusOne(r.gasPrice) }),
    read: (x) => x.getTransaction(chain.tx.transfer1559),
    check: 'tx.gas-price',
  },
  // ---- failures that are not lies
  {
    name: 'a JSON-RPC error',
    method: 'eth_getProof',
    tamper: () => rpcError(-32000, 'header not found'),
    read: (x) => x.getBalance(A()),
    check: 'rpc-error',
  },
];

beforeAll(async () => {
  chain = await createTestChain();
  liar = await createTamperProxy(chain.url);
  honest = createVerifiedReads({ evmRpc: [chain.url], payloads: chain.source });
  const res = (await chain.engine.handleRpc({
    jsonrpc: '2.0',
    id: 1,
    method: 'eth_getBlockByNumber',
    params: ['0x1', false],
  })) as { result: Json };
  block1 = res.result;
  const rec = (await chain.engine.handleRpc({
    jsonrpc: '2.0',
    id: 2,
    method: 'eth_getBlockReceipts',
    params: ['0x4'],
  })) as { result: Json[] };
  receipts4 = rec.result;
});
afterAll(async () => {
  await liar.close();
  await chain.close();
});

function withFaults(evmRpc: string[]): { reads: VerifiedReads; faults: [string, EndpointFault][] } {
  const faults: [string, EndpointFault][] = [];
  return {
    reads: createVerifiedReads({ evmRpc, payloads: chain.source, onEndpointFault: (url, e) => faults.push([url, e]) }),
    faults,
  };
}

describe('one lie at a time', () => {
  it.each(CASES)('$name -> $check', async (c) => {
    let tampered = 0;
    liar.reset();
    liar.tamper = (method, params, result) => {
      if (method !== c.method) return result;
      tampered++;
      return c.tamper(result as Json, params);
    };
    // Alone: rejected, with the check and the endpoint, and reported.
    const alone = withFaults([liar.url]);
    const err = await c.read(alone.reads).then(
      (v) => ({ unexpected: v }),
      (e: unknown) => e,
    );
    expect(tampered).toBeGreaterThan(0);
    if (c.check === 'missing' || c.check === 'rpc-error') {
      expect(err).toBeInstanceOf(EndpointRequestError);
      expect((err as EndpointRequestError).reason).toBe(c.check);
    } else {
      expect(err).toBeInstanceOf(EndpointVerificationError);
      expect((err as EndpointVerificationError).check).toBe(c.check);
      expect((err as EndpointVerificationError).method).toBe(c.method);
      expect((err as Error).message).toContain(liar.url);
    }
    expect((err as EndpointFault).endpoint).toBe(liar.url);
    expect(alone.faults).toHaveLength(1);
    expect(alone.faults[0]![0]).toBe(liar.url);
    expect(alone.faults[0]![1]).toBe(err);

    // With an honest second endpoint: the liar is skipped, the answer is the honest one.
    const both = withFaults([liar.url, chain.url]);
    const answer = await c.read(both.reads);
    expect(answer).toEqual(await c.read(honest));
    expect(
      both.faults.map(([url, e]) => [
        url,
        e instanceof EndpointVerificationError ? e.check : (e as EndpointRequestError).reason,
      ]),
    ).toEqual([[liar.url, c.check]]);
    const [liarStats, honestStats] = both.reads.endpointStats();
    expect(liarStats!.lies + liarStats!.failures).toBe(1);
    expect(honestStats!.verified).toBeGreaterThan(0);
  });
});

describe('several endpoints', () => {
  it('every endpoint lying: AllEndpointsFailedError lists each one with its check', async () => {
    const second = await createTamperProxy(chain.url);
    try {
      liar.tamper = (m, _p, r) => (m === 'eth_getProof' ? { ...(r as Json), balance: '0x1' } : r);
      second.tamper = (m, _p, r) => (m === 'eth_getProof' ? { ...(r as Json), accountProof: [] } : r);
      const { reads, faults } = withFaults([liar.url, second.url]);
      const err = await reads.getBalance(A()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AllEndpointsFailedError);
      const all = err as AllEndpointsFailedError;
      expect(all.lies.map((e) => [e.endpoint, e.check])).toEqual([
        [liar.url, 'getproof.balance'],
        [second.url, 'getproof.account-proof'],
      ]);
      expect(all.message).toMatch(/\[getproof\.balance\]/);
      expect(faults.map(([u]) => u)).toEqual([liar.url, second.url]);
    } finally {
      liar.reset();
      await second.close();
    }
  });

  it('a liar goes behind the honest endpoints for later reads; a throwing callback does not break a read', async () => {
    liar.reset();
    liar.tamper = (m, _p, r) => (m === 'eth_getProof' ? { ...(r as Json), balance: '0x1' } : r);
    let t = 1_000;
    const reads = createVerifiedReads({
      evmRpc: [liar.url, chain.url],
      payloads: chain.source,
      now: () => t,
      faultCooldownMs: 500,
      onEndpointFault: () => {
        throw new Error('callback bug');
      },
    });
    const want = await honest.getBalance(A());
    expect(await reads.getBalance(A())).toBe(want);
    expect(liar.counts.get('eth_getProof')).toBe(1);
    expect(await reads.getBalance(A())).toBe(want);
    expect(liar.counts.get('eth_getProof')).toBe(1); // not asked during the cooldown
    t += 600;
    expect(await reads.getBalance(A())).toBe(want);
    expect(liar.counts.get('eth_getProof')).toBe(2); // asked first again after it
    liar.reset();
  });

  it('an endpoint without eth_getBlockReceipts is asked per transaction, and lies there are caught too', async () => {
    liar.reset();
    liar.tamper = (m, _p, r) =>
      m === 'eth_getBlockReceipts'
        ? rpcError(-32601, 'the method eth_getBlockReceipts does not exist/is not available')
        : r;
    const { reads, faults } = withFaults([liar.url]);
    expect(await reads.getTransactionReceipt(chain.tx.deploy)).toEqual(
      await honest.getTransactionReceipt(chain.tx.deploy),
    );
    expect(liar.counts.get('eth_getTransactionReceipt')).toBe(4); // every transaction of block 2
    expect(await reads.getLogs({ fromBlock: 0n, toBlock: 5n })).toEqual(
      await honest.getLogs({ fromBlock: 0n, toBlock: 5n }),
    );
    expect(faults).toEqual([]);
    liar.tamper = (m, p, r) => {
      if (m === 'eth_getBlockReceipts') return rpcError(-32601, 'no such method');
      if (m === 'eth_getTransactionReceipt' && p[0] === chain.tx.mintD) return { ...(r as Json), status: '0x0' };
      return r;
    };
    const fresh = withFaults([liar.url]);
    const err = await fresh.reads.getTransactionReceipt(chain.tx.mintD).catch((e: unknown) => e);
    expect((err as EndpointVerificationError).check).toBe('receipts.root');
    expect(fresh.faults).toHaveLength(1);
    liar.reset();
  });

  it('absence: a transaction unknown to one endpoint is looked up at the next', async () => {
    liar.reset();
    liar.tamper = (m, _p, r) => (m === 'eth_getTransactionByHash' ? null : r);
    const { reads, faults } = withFaults([liar.url, chain.url]);
    expect(await reads.getTransactionReceipt(chain.tx.mintA)).toEqual(
      await honest.getTransactionReceipt(chain.tx.mintA),
    );
    expect(faults).toEqual([]);
    // claimed pending by the liar, unknown to everyone: null
    liar.tamper = (m, _p, r) =>
      m === 'eth_getTransactionByHash'
        ? { ...(r as Json), blockHash: null, blockNumber: null, transactionIndex: null }
        : r;
    const alone = withFaults([liar.url]);
    expect(await alone.reads.getTransactionReceipt(chain.tx.mintA)).toBeNull();
    liar.reset();
  });
});
