/**
 * Verified eth_call / eth_estimateGas against anvil: the provider executes the call in its own EVM over
 * state proven against the payloads built from anvil's blocks, and must agree with anvil's own answers
 * (ERC-20 balanceOf, a Multicall3 aggregate, the block context, a revert with reason, 50 storage slots,
 * at latest / a number / a hash), through viem over `custom(provider)`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  custom,
  encodeFunctionData,
  parseAbi,
  type Hex,
  type PublicClient,
} from 'viem';
import {
  createEip1193Provider,
  createVerifiedReads,
  ProviderRpcError,
  type Eip1193Provider,
  type VerifiedPayloadSource,
} from '../../../src/node/engine/index.js';
import { startRpcProxy, type RpcProxy } from '../../helpers/rpc-proxy.js';
import {
  BRIDGE_ABI,
  CALL_CHAIN_ID,
  createCallFixture,
  ERC20_ABI,
  MULTICALL,
  REVERTER,
  SUMMER,
  type CallFixture,
} from './call-fixture.js';

const MULTICALL_ABI = parseAbi([
  'function aggregate((address target, bytes callData)[] calls) payable returns (uint256 blockNumber, bytes[] returnData)',
  'function getBlockHash(uint256 blockNumber) view returns (bytes32)',
  'function getCurrentBlockCoinbase() view returns (address)',
  'function getBasefee() view returns (uint256)',
  'function getChainId() view returns (uint256)',
  'function getCurrentBlockGasLimit() view returns (uint256)',
  'function getCurrentBlockTimestamp() view returns (uint256)',
  'function getCurrentBlockDifficulty() view returns (uint256)',
  'function getBlockNumber() view returns (uint256)',
  'function getEthBalance(address) view returns (uint256)',
]);

let f: CallFixture;
let proxy: RpcProxy;
let provider: Eip1193Provider;
let client: PublicClient;
/** The block before the last transfer, and the balances there and at the head. */
let before: { number: bigint; hash: Hex };

/** The error a request rejects with (a resolved one fails the test). */
const rejection = (p: Promise<unknown>): Promise<ProviderRpcError> =>
  p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e as ProviderRpcError,
  );
const balanceOf = (who: Hex) => encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [who] });
const anvilCall = (call: object, block: string) => f.anvil.rpc<Hex>('eth_call', [call, block]);

function providerOver(url: string, source: VerifiedPayloadSource = f.source): Eip1193Provider {
  return createEip1193Provider({
    reads: createVerifiedReads({ evmRpc: [url], payloads: source }),
    chainId: CALL_CHAIN_ID,
  });
}

beforeAll(async () => {
  f = await createCallFixture();
  before = { number: f.source.head, hash: f.payloads[Number(f.source.head)]!.blockHash };
  await f.transfer(250n);
  proxy = await startRpcProxy(f.anvil.url);
  provider = providerOver(proxy.url);
  client = createPublicClient({ transport: custom(provider) }) as PublicClient;
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await f?.close();
});

describe('eth_call, verified', () => {
  it('ERC-20 balanceOf at latest, at a number and at a hash agrees with anvil', async () => {
    const read = (blockNumber?: bigint) =>
      client.readContract({
        address: f.token,
        abi: ERC20_ABI,
        functionName: 'balanceOf',
        args: [f.other.address],
        ...(blockNumber === undefined ? {} : { blockNumber }),
      });
    expect(await read()).toBe(250n);
    expect(await read(before.number)).toBe(0n);
    const atHash = await provider.request({
      method: 'eth_call',
      params: [{ to: f.token, data: balanceOf(f.holder.address) }, { blockHash: before.hash }],
    });
    expect(atHash).toBe(await anvilCall({ to: f.token, data: balanceOf(f.holder.address) }, before.hash));
    expect(BigInt(atHash as Hex)).toBe(1_000_000n);
    const latest = await provider.request({
      method: 'eth_call',
      params: [{ to: f.token, data: balanceOf(f.holder.address) }, 'latest'],
    });
    expect(BigInt(latest as Hex)).toBe(1_000_000n - 250n);
  });

  it('a Multicall3 aggregate of balanceOf calls', async () => {
    const calls = [f.holder.address, f.other.address].map((a) => ({ target: f.token, callData: balanceOf(a) }));
    const { result } = await client.simulateContract({
      address: MULTICALL,
      abi: MULTICALL_ABI,
      functionName: 'aggregate',
      args: [calls],
    });
    const [blockNumber, returnData] = result;
    expect(blockNumber).toBe(f.source.head);
    expect(returnData.map((d) => BigInt(d))).toEqual([1_000_000n - 250n, 250n]);
    const multi = await client.multicall({
      multicallAddress: MULTICALL,
      contracts: [
        { address: f.token, abi: ERC20_ABI, functionName: 'totalSupply' },
        { address: f.token, abi: ERC20_ABI, functionName: 'balanceOf', args: [f.other.address] },
      ],
    });
    expect(multi).toEqual([
      { status: 'success', result: 1_000_000n },
      { status: 'success', result: 250n },
    ]);
  });

  it('the block context comes from the verified payload (as anvil has it)', async () => {
    const head = f.payloads[Number(f.source.head)]!;
    for (const functionName of [
      'getCurrentBlockCoinbase',
      'getBasefee',
      'getChainId',
      'getCurrentBlockGasLimit',
      'getCurrentBlockTimestamp',
      'getCurrentBlockDifficulty',
      'getBlockNumber',
    ] as const) {
      const data = encodeFunctionData({ abi: MULTICALL_ABI, functionName });
      const ours = await provider.request({ method: 'eth_call', params: [{ to: MULTICALL, data }, 'latest'] });
      expect(ours, functionName).toBe(await anvilCall({ to: MULTICALL, data }, head.blockHash));
    }
    for (const n of [head.blockNumber - 1n, 1n, head.blockNumber, head.blockNumber - 300n]) {
      const data = encodeFunctionData({ abi: MULTICALL_ABI, functionName: 'getBlockHash', args: [n < 0n ? 0n : n] });
      const ours = await provider.request({ method: 'eth_call', params: [{ to: MULTICALL, data }, 'latest'] });
      expect(ours, `BLOCKHASH(${n})`).toBe(await anvilCall({ to: MULTICALL, data }, head.blockHash));
    }
    expect(
      await client.readContract({
        address: MULTICALL,
        abi: MULTICALL_ABI,
        functionName: 'getBlockHash',
        args: [head.blockNumber - 2n],
      }),
    ).toBe(f.payloads[Number(head.blockNumber - 2n)]!.blockHash);
  });

  it('BLOCKHASH below the blocks the node holds: the parent of the oldest from its parentHash, older is refused', async () => {
    const head = f.source.head;
    const oldest = head - 1n;
    const held: VerifiedPayloadSource = {
      payload: async (ref) => {
        const p = await f.source.payload(ref);
        return p !== undefined && p.blockNumber >= oldest ? p : undefined;
      },
    };
    const p = providerOver(f.anvil.url, held);
    const hashCall = (n: bigint) => ({
      to: MULTICALL,
      data: encodeFunctionData({ abi: MULTICALL_ABI, functionName: 'getBlockHash', args: [n] }),
    });
    expect(await p.request({ method: 'eth_call', params: [hashCall(oldest - 1n), 'latest'] })).toBe(
      f.payloads[Number(oldest - 1n)]!.blockHash,
    );
    const refused = await rejection(p.request({ method: 'eth_call', params: [hashCall(oldest - 2n), 'latest'] }));
    expect(refused).toBeInstanceOf(ProviderRpcError);
    expect(refused.code).toBe(-32001);
    expect(refused.message).toMatch(/BLOCKHASH/);
  });

  it('a revert carries geth’s code 3, "execution reverted: <reason>" and the revert bytes; viem decodes it', async () => {
    const raw = await f.anvil.raw('eth_call', [{ to: REVERTER, data: '0x' }, 'latest']);
    const err = await rejection(provider.request({ method: 'eth_call', params: [{ to: REVERTER, data: '0x' }] }));
    expect(err).toBeInstanceOf(ProviderRpcError);
    expect(err.code).toBe(3);
    expect(err.message).toBe('execution reverted: Bridge: plain transfers are refused, call requestPegOut(bytes)');
    expect(err.data).toBe(raw.error!.data);
    // a view of the same contract works; a selector it does not know reverts with its reason, which viem decodes
    expect(await client.readContract({ address: REVERTER, abi: BRIDGE_ABI, functionName: 'BURN_ADDRESS' })).toBe(
      '0x000000000000000000000000000000000000dEaD',
    );
    const unknown = await client
      .simulateContract({
        address: REVERTER,
        abi: parseAbi(['function nope() view returns (uint256)']),
        functionName: 'nope',
      })
      .catch((e: BaseError) => e);
    expect(unknown).toBeInstanceOf(BaseError);
    const reverted = (unknown as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
    expect((reverted as ContractFunctionRevertedError).reason).toBe(
      'Bridge: unknown function, call requestPegOut(bytes)',
    );
  });

  it('a call reading 50 storage slots: the proofs are prefetched from the hint, then cached per block', async () => {
    proxy.clearCalls();
    expect(BigInt((await client.call({ to: SUMMER })).data!)).toBe(1275n);
    const methods = proxy.calls.map((c) => c.method);
    expect(methods.filter((m) => m === 'eth_createAccessList')).toHaveLength(1);
    // the sender and the contract, then the contract's 50 slots in one proof
    expect(methods.filter((m) => m === 'eth_getProof').length).toBeLessThanOrEqual(3);
    const slots = proxy.calls
      .filter((c) => c.method === 'eth_getProof')
      .map((c) => (c.params as [Hex, Hex[]])[1].length);
    expect(Math.max(...slots)).toBe(50);
    proxy.clearCalls();
    expect(BigInt((await client.call({ to: SUMMER })).data!)).toBe(1275n);
    expect(proxy.calls.map((c) => c.method)).toEqual(['eth_createAccessList']);
  });

  it('a contract creation (deployless call) runs the init code', async () => {
    // init code returning 32 bytes = 42 from the constructor
    const init = '0x602a60005260206000f3' as Hex;
    expect(await provider.request({ method: 'eth_call', params: [{ data: init }] })).toBe(
      await anvilCall({ data: init }, 'latest'),
    );
  });

  it("'pending' stays unverifiable (4200), state overrides are refused (-32602)", async () => {
    const call = { to: f.token, data: balanceOf(f.holder.address) };
    await expect(provider.request({ method: 'eth_call', params: [call, 'pending'] })).rejects.toMatchObject({
      code: 4200,
    });
    await expect(
      provider.request({ method: 'eth_call', params: [call, 'latest', { [f.token]: { balance: '0x1' } }] }),
    ).rejects.toMatchObject({ code: -32602 });
    expect(provider.verifiedMethods).toEqual(expect.arrayContaining(['eth_call', 'eth_estimateGas']));
  });
});

describe('eth_estimateGas, verified', () => {
  it('an ERC-20 transfer: at least anvil’s exact answer, within geth’s 1.5%, and it succeeds at that limit', async () => {
    const call = {
      from: f.holder.address,
      to: f.token,
      data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'transfer', args: [f.other.address, 7n] }),
    };
    const ours = BigInt((await provider.request({ method: 'eth_estimateGas', params: [call] })) as Hex);
    const anvils = BigInt(await f.anvil.rpc<Hex>('eth_estimateGas', [call, 'latest']));
    expect(ours).toBeGreaterThanOrEqual(anvils);
    expect(ours * 1000n).toBeLessThanOrEqual(anvils * 1015n);
    // one less than anvil's exact minimum fails there too: ours is a limit that works
    const at = await f.anvil.raw('eth_call', [{ ...call, gas: `0x${ours.toString(16)}` }, 'latest']);
    expect(at.error).toBeUndefined();
  });

  it('a plain transfer is 21,000; a reverting call is the revert error', async () => {
    const plain = { from: f.holder.address, to: f.other.address, value: '0x1' };
    expect(await provider.request({ method: 'eth_estimateGas', params: [plain] })).toBe('0x5208');
    await expect(
      provider.request({ method: 'eth_estimateGas', params: [{ to: REVERTER, data: '0x' }] }),
    ).rejects.toMatchObject({ code: 3, message: expect.stringMatching(/^execution reverted: Bridge/) });
    const tooPoor = { from: f.other.address, to: f.holder.address, value: '0x1' };
    await expect(provider.request({ method: 'eth_estimateGas', params: [tooPoor] })).rejects.toMatchObject({
      code: -32000,
    });
  });
});
