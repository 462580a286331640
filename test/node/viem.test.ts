/**
 * alys-light/viem over a light node following the devnet: the chain definitions, `lightNode(node)` as
 * a viem transport, viem's `watchBlocks` and `watchContractEvent` (they poll over a non-socket
 * transport: `eth_getBlockByNumber`, and `eth_newFilter` + `eth_getFilterChanges`), a transfer sent
 * with a wallet client (refused with 4200 until `eth_sendRawTransaction` is allow-listed) and waited
 * for with `waitForVerifiedReceipt`, which answers on a verified head.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BaseError,
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  parseAbiItem,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { LOAD_TOKEN_ARTIFACT } from '../../src/devnet/contracts/artifacts.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { LOAD_TOKEN_ADDRESS } from '../../src/devnet/evm/index.js';
import { LightNodeError, type LightNode } from '../../src/index.nodejs.js';
import { DEV_CHAIN_SPEC, getChainSpec } from '../../src/protocol/chainspec.js';
import { alysChain, alysDev, alysTestnet, lightNode, waitForVerifiedReceipt } from '../../src/viem.js';
import { Cleanup, growChain, startDevnet, startNode, waitFor, waitSynced } from './helpers.js';

const TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');

const cleanup = new Cleanup();
let devnet: Devnet;
let node: LightNode;
let client: PublicClient;
/** Methods the viem client asked the node's provider (observed, not replaced). */
const asked: string[] = [];
const nonces = new Map<number, number>();

/** A signed mint from devnet user `i` (a Transfer log), nonce tracked here. */
async function signedMint(i: number, amount: bigint): Promise<Hex> {
  const user = devnet.users[i]!;
  const nonce = nonces.get(i) ?? 0;
  nonces.set(i, nonce + 1);
  return privateKeyToAccount(user.privateKey).signTransaction({
    chainId: devnet.spec.chainId,
    type: 'eip1559',
    nonce,
    to: LOAD_TOKEN_ADDRESS,
    data: encodeFunctionData({ abi: LOAD_TOKEN_ARTIFACT.abi, functionName: 'mint', args: [user.address, amount] }),
    gas: 120_000n,
    maxFeePerGas: 10_000_000_000n,
    maxPriorityFeePerGas: 1_000_000n,
  });
}

async function grow(blocks: number, mints = false): Promise<void> {
  await growChain(devnet, blocks, 4, async (h) => {
    if (mints) await devnet.engine.sendRawTransaction(Buffer.from((await signedMint(0, BigInt(h))).slice(2), 'hex'));
  });
  await waitSynced(node, devnet);
}

beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'viem');
  await growChain(devnet, 6, 4);
  ({ node } = await startNode(cleanup, devnet));
  await waitSynced(node, devnet);
  const provider = node.provider;
  const observed = {
    ...provider,
    request: (args: Parameters<typeof provider.request>[0]) => {
      asked.push(args.method);
      return provider.request(args);
    },
    on: provider.on,
    removeListener: provider.removeListener,
  };
  client = createPublicClient({
    chain: alysChain(node, 'Alys devnet'),
    transport: lightNode(observed),
    pollingInterval: 50,
  }) as PublicClient;
}, 60_000);

afterAll(() => cleanup.run(), 30_000);

describe('alys-light/viem', () => {
  it('defines the Alys chains from the shipped specs', () => {
    expect(alysDev.id).toBe(DEV_CHAIN_SPEC.chainId);
    expect(alysDev.id).toBe(121212);
    expect(alysTestnet.id).toBe(getChainSpec('testnet').chainId);
    expect(alysDev.nativeCurrency).toEqual({ name: 'Bitcoin', symbol: 'BTC', decimals: 18 });
    expect(alysDev.rpcUrls.default.http).toEqual(['http://127.0.0.1:8545']);
    const mine = alysChain(node);
    expect(mine.id).toBe(devnet.spec.chainId);
    expect(mine.rpcUrls.default.http).toEqual([devnet.urls.evm]);
  });

  it('createPublicClient({ chain, transport: lightNode(node) }) reads verified data', async () => {
    const head = devnet.chain.head.signed.message.executionPayload;
    expect(await client.getBlockNumber({ cacheTime: 0 })).toBe(head.blockNumber);
    expect(await client.getChainId()).toBe(devnet.spec.chainId);
    const balance = await client.getBalance({ address: devnet.users[1]!.address });
    expect(balance).toBe(10n ** 24n);
  });

  it('watchBlocks gets every verified block in order', async () => {
    const seen: bigint[] = [];
    const errors: unknown[] = [];
    const from = await client.getBlockNumber({ cacheTime: 0 });
    const unwatch = client.watchBlocks({
      emitMissed: true,
      onBlock: (b) => seen.push(b.number),
      onError: (e) => errors.push(e),
    });
    try {
      await waitFor(
        () => seen.length > 0,
        () => 'a first block',
      );
      await grow(5);
      const to = await client.getBlockNumber({ cacheTime: 0 });
      await waitFor(
        () => seen.at(-1) === to,
        () => `block ${to}, seen ${seen}`,
      );
      expect(errors).toEqual([]);
      expect(seen[0]).toBeGreaterThanOrEqual(from);
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0]! + BigInt(i)));
    } finally {
      unwatch();
    }
  }, 60_000);

  it('watchContractEvent gets the Transfer logs, through a verified filter', async () => {
    const logs: { blockNumber: bigint; logIndex: number; args: unknown }[] = [];
    const errors: unknown[] = [];
    asked.length = 0;
    const from = (await client.getBlockNumber({ cacheTime: 0 })) + 1n;
    const unwatch = client.watchContractEvent({
      address: LOAD_TOKEN_ADDRESS,
      abi: LOAD_TOKEN_ARTIFACT.abi,
      eventName: 'Transfer',
      onLogs: (batch) => logs.push(...batch),
      onError: (e) => errors.push(e),
    });
    try {
      await waitFor(
        () => asked.includes('eth_newFilter'),
        () => `eth_newFilter, asked ${asked}`,
      );
      await grow(6, true);
      const to = await client.getBlockNumber({ cacheTime: 0 });
      const expected = await client.getLogs({
        address: LOAD_TOKEN_ADDRESS,
        event: TRANSFER,
        fromBlock: from,
        toBlock: to,
      });
      expect(expected.length).toBe(6);
      await waitFor(
        () => logs.length >= expected.length,
        () => `${expected.length} logs, got ${logs.length}`,
      );
      expect(errors).toEqual([]);
      expect(logs.map((l) => [l.blockNumber, l.logIndex, l.args])).toEqual(
        expected.map((l) => [l.blockNumber, l.logIndex, l.args]),
      );
      expect(asked).toContain('eth_getFilterChanges');
      // no fallback to eth_getLogs polling: the one eth_getLogs is this test's own
      expect(asked.filter((m) => m === 'eth_getLogs')).toEqual(['eth_getLogs']);
    } finally {
      unwatch();
    }
  }, 60_000);

  it('a wallet client sends only when eth_sendRawTransaction is allow-listed; waitForVerifiedReceipt waits for a verified head', async () => {
    const user = devnet.users[2]!;
    const account = privateKeyToAccount(user.privateKey);
    const wallet = createWalletClient({ account, chain: alysChain(node), transport: lightNode(node) });
    const tx = {
      to: devnet.users[3]!.address,
      value: 12_345n,
      nonce: 0,
      gas: 21_000n,
      maxFeePerGas: 10_000_000_000n,
      maxPriorityFeePerGas: 1_000_000n,
    };
    const refused = await wallet.sendTransaction(tx).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BaseError);
    expect((refused as BaseError).walk((e) => (e as { code?: unknown }).code === 4200)).toBeTruthy();
    expect(devnet.engine.stats().mempool).toBe(0);

    await node.updateConfig({ passThrough: ['eth_sendRawTransaction'] });
    const hash = await wallet.sendTransaction(tx);
    const receipt = waitForVerifiedReceipt(node, hash, { timeout: 30_000 });
    let resolved = false;
    void receipt.then(() => (resolved = true));
    // mined but not yet verified: the waiting goes on
    expect(await client.getTransactionReceipt({ hash }).catch(() => null)).toBeNull();
    expect(resolved).toBe(false);
    await grow(1);
    const r = await receipt;
    expect(r.status).toBe('success');
    expect(r.transactionHash).toBe(hash);
    expect(r.from).toBe(account.address.toLowerCase());
    expect(r).toEqual(await client.getTransactionReceipt({ hash }));
    expect(await client.getBalance({ address: devnet.users[3]!.address })).toBe(10n ** 24n + 12_345n);
  }, 60_000);

  it('waitForVerifiedReceipt gives up after its timeout with a typed error', async () => {
    const err = await waitForVerifiedReceipt(node.provider, `0x${'ab'.repeat(32)}`, { timeout: 200 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LightNodeError);
    expect((err as LightNodeError).code).toBe('receipt-timeout');
  });
});
