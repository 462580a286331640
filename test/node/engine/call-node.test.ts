/**
 * Verified eth_call / eth_estimateGas end to end: a light node synced to the devnet (whose EL is a real
 * ethereumjs EVM), viem `readContract` / `simulateContract` / `estimateGas` over `custom(node.provider)`,
 * against the EL's own answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  encodeFunctionData,
  http,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { LOAD_TOKEN_ADDRESS } from '../../../src/devnet/evm/index.js';
import { Cleanup, growChain, startDevnet, startNode, waitSynced } from '../helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run(), 60_000);
const TOKEN = LOAD_TOKEN_ADDRESS as Hex;
const abi = LOAD_TOKEN_ARTIFACT.abi;

describe('verified calls through node.provider on the devnet', () => {
  it('readContract, a revert and estimateGas agree with the EL', async () => {
    const devnet = await startDevnet(cleanup, 'call-node');
    const chain = defineChain({
      id: devnet.spec.chainId,
      name: 'alys-devnet',
      nativeCurrency: { name: 'BTC', symbol: 'BTC', decimals: 18 },
      rpcUrls: { default: { http: [devnet.urls.evm] } },
    });
    const [alice, bob] = [devnet.users[0]!, devnet.users[1]!].map((u) => privateKeyToAccount(u.privateKey));
    const wallet = createWalletClient({ account: alice!, chain, transport: http(devnet.urls.evm) });
    const el = createPublicClient({ chain, transport: http(devnet.urls.evm) }) as PublicClient;
    await growChain(devnet, 2, 10);
    await wallet.sendTransaction({
      to: TOKEN,
      data: encodeFunctionData({ abi, functionName: 'mint', args: [bob!.address, 4_242n] }),
    });
    await devnet.produceNext();
    const minted = await el.getBlockNumber();
    await growChain(devnet, 3, 10);

    const { node } = await startNode(cleanup, devnet, { mode: 'full' });
    await waitSynced(node, devnet);
    const verified = createPublicClient({ chain, transport: custom(node.provider, { retryCount: 0 }) }) as PublicClient;
    const blockNumber = await verified.getBlockNumber();
    const balanceOf = (client: PublicClient, at?: bigint) =>
      client.readContract({
        address: TOKEN,
        abi,
        functionName: 'balanceOf',
        args: [bob!.address],
        ...(at === undefined ? { blockNumber } : { blockNumber: at }),
      });
    expect(await balanceOf(verified)).toBe(await balanceOf(el));
    expect(await balanceOf(verified)).toBeGreaterThanOrEqual(4_242n);
    expect(await balanceOf(verified, minted - 1n)).toBe(await balanceOf(el, minted - 1n));

    // bob holds 4,242 LOAD at most: transferring a million reverts with the token's custom error
    const err = await verified
      .simulateContract({
        address: TOKEN,
        abi,
        functionName: 'transfer',
        args: [alice!.address, 10n ** 6n],
        account: bob!.address,
      })
      .catch((e: unknown) => e);
    const reverted = (err as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
    expect((reverted as ContractFunctionRevertedError).data?.errorName).toBe('InsufficientBalance');

    const transfer = {
      account: bob!.address,
      to: TOKEN,
      data: encodeFunctionData({ abi, functionName: 'transfer', args: [alice!.address, 42n] }),
      blockNumber,
    } as const;
    const ours = await verified.estimateGas(transfer);
    const theirs = await el.estimateGas(transfer);
    // both run geth's search (stops within 1.5%): each within 1.5% of the other
    expect(ours * 1000n).toBeLessThanOrEqual(theirs * 1015n);
    expect(theirs * 1000n).toBeLessThanOrEqual(ours * 1015n);
  }, 90_000);
});
