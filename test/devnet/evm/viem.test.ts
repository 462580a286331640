/**
 * viem's public and wallet clients against the engine's HTTP JSON-RPC (real loopback HTTP): what a
 * dapp or the light node's own client does, with viem's formatters and its local-account signing
 * (an independent implementation of transaction encoding and signing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  parseEther,
  parseEventLogs,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { BRIDGE_ARTIFACT, LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { createEngine, type DevnetEngine } from '../../../src/devnet/evm/index.js';
import {
  BRIDGE_ADDRESS,
  decodeGetProofResponse,
  filterPegouts,
  verifyGetProofResponse,
} from '../../../src/protocol/index.js';
import { DEAD, LOAD_TOKEN_ADDRESS, attrs, devKeys, prefund } from './helpers.js';

const devnet = defineChain({
  id: 121212,
  name: 'alys-devnet',
  nativeCurrency: { name: 'Bitcoin', symbol: 'BTC', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1'] } },
});

describe('viem against serve()', () => {
  let engine: DevnetEngine;
  let server: { url: string; close(): Promise<void> };
  let client: PublicClient;
  const keys = devKeys(3, 77);
  const account = privateKeyToAccount(keys[0]!.keyHex);

  beforeAll(async () => {
    engine = await createEngine({ alloc: prefund(keys, parseEther('100')) });
    server = await engine.serve({ port: 0 });
    client = createPublicClient({ chain: devnet, transport: http(server.url, { retryCount: 0 }), pollingInterval: 20 });
  });
  afterAll(async () => {
    await server.close();
    await engine.close();
  });

  async function buildNext(): Promise<void> {
    const head = await client.getBlock();
    await engine.buildPayload(attrs(head.hash, head.timestamp + 2n));
  }

  it('serves on 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('getBlock, getBalance, getChainId, getGasPrice, estimateFeesPerGas', async () => {
    expect(await client.getChainId()).toBe(121212);
    const genesis = await client.getBlock({ blockNumber: 0n, includeTransactions: true });
    expect(genesis.hash).toBe(engine.genesisPayload().blockHash);
    expect(genesis.baseFeePerGas).toBe(1_000_000_000n);
    expect(genesis.withdrawals).toEqual([]);
    expect(await client.getBalance({ address: account.address })).toBe(parseEther('100'));
    expect(await client.getGasPrice()).toBeGreaterThan(0n);
    const fees = await client.estimateFeesPerGas();
    expect(fees.maxFeePerGas).toBeGreaterThan(fees.maxPriorityFeePerGas);
  });

  it('sendTransaction with a local account (wallet client), waitForTransactionReceipt through a block built by the test', async () => {
    const wallet = createWalletClient({ account, chain: devnet, transport: http(server.url, { retryCount: 0 }) });
    const to = getAddress(keys[1]!.address);
    const before = await client.getBalance({ address: to });
    const hash = await wallet.sendTransaction({ to, value: parseEther('1.5') });
    const pending = await client.getTransaction({ hash });
    expect(pending.blockNumber).toBeNull();
    const [receipt] = await Promise.all([
      client.waitForTransactionReceipt({ hash, pollingInterval: 20, timeout: 10_000 }),
      buildNext(),
    ]);
    expect(receipt.status).toBe('success');
    expect(receipt.gasUsed).toBe(21_000n);
    expect(receipt.from).toBe(account.address.toLowerCase());
    expect(await client.getBalance({ address: to })).toBe(before + parseEther('1.5'));
    const tx = await client.getTransaction({ hash });
    expect(tx.blockHash).toBe(receipt.blockHash);
    expect(tx.type).toBe('eip1559');
    // legacy and EIP-2930 via viem's own serialisers, raw through sendRawTransaction
    const nonce = await client.getTransactionCount({ address: account.address, blockTag: 'pending' });
    const legacy = await account.signTransaction({
      chainId: 121212,
      type: 'legacy',
      nonce,
      to,
      value: 1n,
      gas: 21_000n,
      gasPrice: 2_000_000_000n,
    });
    const al = await account.signTransaction({
      chainId: 121212,
      type: 'eip2930',
      nonce: nonce + 1,
      to,
      value: 1n,
      gas: 30_000n,
      gasPrice: 2_000_000_000n,
      accessList: [{ address: to, storageKeys: [] }],
    });
    const h1 = await client.sendRawTransaction({ serializedTransaction: legacy });
    const h2 = await client.sendRawTransaction({ serializedTransaction: al });
    await buildNext();
    const [r1, r2] = await Promise.all([
      client.getTransactionReceipt({ hash: h1 }),
      client.getTransactionReceipt({ hash: h2 }),
    ]);
    expect([r1.type, r1.status, r2.type, r2.status]).toEqual(['legacy', 'success', 'eip2930', 'success']);
    const block = await client.getBlock({ blockHash: r1.blockHash, includeTransactions: true });
    expect(block.transactions.map((t) => t.hash)).toEqual([h1, h2]);
  });

  it('contracts: estimateGas, call, writeContract, getLogs, getProof', async () => {
    const wallet = createWalletClient({ account, chain: devnet, transport: http(server.url, { retryCount: 0 }) });
    const holder = getAddress(keys[2]!.address);
    const gas = await client.estimateContractGas({
      address: LOAD_TOKEN_ADDRESS,
      abi: LOAD_TOKEN_ARTIFACT.abi,
      functionName: 'mint',
      args: [holder, 5000n],
      account,
    });
    expect(gas).toBeGreaterThan(21_000n);
    const h1 = await wallet.writeContract({
      address: LOAD_TOKEN_ADDRESS,
      abi: LOAD_TOKEN_ARTIFACT.abi,
      functionName: 'mint',
      args: [holder, 5000n],
    });
    const h2 = await wallet.writeContract({
      address: BRIDGE_ADDRESS,
      abi: BRIDGE_ARTIFACT.abi,
      functionName: 'requestPegOut',
      args: [`0x${Buffer.from('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080').toString('hex')}` as Hex],
      value: parseEther('0.02'),
    });
    await buildNext();
    const r1 = await client.getTransactionReceipt({ hash: h1 });
    const r2 = await client.getTransactionReceipt({ hash: h2 });
    expect(r1.status).toBe('success');
    expect(r1.gasUsed).toBeLessThanOrEqual(gas);
    const balanceOf = await client.readContract({
      address: LOAD_TOKEN_ADDRESS,
      abi: LOAD_TOKEN_ARTIFACT.abi,
      functionName: 'balanceOf',
      args: [holder],
    });
    expect(balanceOf).toBe(5000n);
    const burn = await client.readContract({
      address: BRIDGE_ADDRESS,
      abi: BRIDGE_ARTIFACT.abi,
      functionName: 'BURN_ADDRESS',
    });
    expect(burn.toLowerCase()).toBe(DEAD);
    // logs: by address, by event, by block hash
    const transfers = await client.getLogs({ address: LOAD_TOKEN_ADDRESS, fromBlock: 0n, toBlock: 'latest' });
    expect(transfers).toHaveLength(1);
    const parsed = parseEventLogs({ abi: LOAD_TOKEN_ARTIFACT.abi, logs: transfers });
    expect(parsed[0]!.args).toMatchObject({ to: holder, value: 5000n });
    const pegouts = await client.getContractEvents({
      address: BRIDGE_ADDRESS,
      abi: BRIDGE_ARTIFACT.abi,
      eventName: 'RequestPegOut',
      blockHash: r2.blockHash,
    });
    expect(pegouts).toHaveLength(1);
    expect(pegouts[0]!.args._value).toBe(parseEther('0.02'));
    expect(filterPegouts([r1, r2])).toHaveLength(1);
    // the proof viem fetches verifies against the block's state root
    const block = await client.getBlock({ blockHash: r1.blockHash });
    const proof = await client.request({ method: 'eth_getProof', params: [holder, [], block.hash] as never });
    expect(verifyGetProofResponse(block.stateRoot, decodeGetProofResponse(proof)).account.exists).toBe(true);
    const viemProof = await client.getProof({
      address: LOAD_TOKEN_ADDRESS,
      storageKeys: ['0x0000000000000000000000000000000000000000000000000000000000000000'],
      blockNumber: block.number,
    });
    expect(viemProof.storageProof[0]!.value).toBe(5000n);
    // call that reverts: viem decodes the custom error
    await expect(
      client.simulateContract({
        address: LOAD_TOKEN_ADDRESS,
        abi: LOAD_TOKEN_ARTIFACT.abi,
        functionName: 'transfer',
        args: [holder, 1n],
        account,
      }),
    ).rejects.toThrow(/InsufficientBalance/);
    await expect(client.call({ account, to: BRIDGE_ADDRESS, value: 1n })).rejects.toThrow(
      /plain transfers are refused/,
    );
  });

  it('fee history and block receipts', async () => {
    const history = await client.getFeeHistory({ blockCount: 4, rewardPercentiles: [10, 50, 90] });
    expect(history.baseFeePerGas.length).toBe(history.gasUsedRatio.length + 1);
    expect(history.reward?.[0]).toHaveLength(3);
    const head = await client.getBlockNumber();
    const receipts = await client.request({ method: 'eth_getBlockReceipts', params: [`0x${head.toString(16)}`] });
    expect(Array.isArray(receipts)).toBe(true);
  });
});
