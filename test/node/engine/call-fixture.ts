/**
 * anvil with contracts for the verified-call tests and the `call` benchmark: an ERC-20 (the devnet's
 * LoadToken, minted to a funded key), Multicall3 (viem's bytecode), a contract that reverts with a
 * reason (the devnet's Bridge on a plain call), and a hand-assembled contract that sums storage slots
 * 0..49 (set with anvil_setStorageAt). Every state change is mined into a block, so each block's
 * stateRoot covers it.
 *
 * The "verified" payloads are built from anvil's own blocks (this is the trusted root of the tests):
 * only the fields the call path reads are meaningful (transactions are left empty).
 */
import { createWalletClient, encodeFunctionData, http, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { BRIDGE_ARTIFACT, LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import type { ExecutionPayloadCapella } from '../../../src/node/engine/index.js';
import { type Anvil, startAnvil } from '../../devnet/evm/anvil.js';
import { payloadSource, type TestChain } from './harness.js';

export const CALL_CHAIN_ID = 121212;
export const ERC20_ABI = LOAD_TOKEN_ARTIFACT.abi;
export const BRIDGE_ABI = BRIDGE_ARTIFACT.abi;
/** Where the fixture puts code with anvil_setCode. */
export const MULTICALL = '0x00000000000000000000000000000000000ca11a' as Hex;
export const REVERTER = '0x00000000000000000000000000000000000b41d6' as Hex;
export const SUMMER = '0x000000000000000000000000000000000000055a' as Hex;
/**
 * Sums storage slots 0..49 and returns the sum: sum=0, i=0; loop { sum += sload(i); i++; while i < 50 };
 * mstore(0, sum); return(0, 32).
 */
export const SUM_50_SLOTS = ('0x' +
  ['6000', '6000', '5b', '8054', '8201', '9150', '600101', '80603211', '600457', '50', '600052', '60206000f3'].join(
    '',
  )) as Hex;
/** viem's Multicall3 creation code (viem/_esm/constants/contracts.js), read at run time. */
const MULTICALL3_CREATION = async (): Promise<Hex> => {
  const { readFile } = await import('node:fs/promises');
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const root = dirname(createRequire(import.meta.url).resolve('viem/package.json'));
  const text = await readFile(join(root, '_esm/constants/contracts.js'), 'utf8');
  return text.match(/multicall3Bytecode = '(0x[0-9a-f]+)'/)![1] as Hex;
};

export interface CallFixture {
  anvil: Anvil;
  holder: PrivateKeyAccount;
  other: PrivateKeyAccount;
  token: Hex;
  /** payloads[n] = anvil block n, as of the last `refresh()` */
  payloads: ExecutionPayloadCapella[];
  source: TestChain['source'];
  /** Mine a block with the token transfer `amount` from holder to other; refresh the payloads. */
  transfer(amount: bigint): Promise<void>;
  /** Re-read anvil's blocks into `payloads` and move the source's head to the newest. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

interface AnvilBlock {
  number: Hex;
  hash: Hex;
  parentHash: Hex;
  miner: Hex;
  stateRoot: Hex;
  receiptsRoot: Hex;
  logsBloom: Hex;
  mixHash: Hex;
  gasLimit: Hex;
  gasUsed: Hex;
  timestamp: Hex;
  extraData: Hex;
  baseFeePerGas: Hex;
}

function payloadOf(b: AnvilBlock): ExecutionPayloadCapella {
  return {
    parentHash: b.parentHash,
    feeRecipient: b.miner,
    stateRoot: b.stateRoot,
    receiptsRoot: b.receiptsRoot,
    logsBloom: b.logsBloom,
    prevRandao: b.mixHash,
    blockNumber: BigInt(b.number),
    gasLimit: BigInt(b.gasLimit),
    gasUsed: BigInt(b.gasUsed),
    timestamp: BigInt(b.timestamp),
    extraData: b.extraData,
    baseFeePerGas: BigInt(b.baseFeePerGas),
    blockHash: b.hash,
    transactions: [],
    withdrawals: [],
  };
}

const key = (i: number) => `0x${(0xca11 + i).toString(16).padStart(64, '0')}` as Hex;

export async function createCallFixture(): Promise<CallFixture> {
  const anvil = await startAnvil({ chainId: BigInt(CALL_CHAIN_ID), baseFee: 1_000_000_000n, gasLimit: 30_000_000n });
  const [holder, other] = [privateKeyToAccount(key(0)), privateKeyToAccount(key(1))];
  await anvil.rpc('anvil_setBalance', [holder.address, '0x56bc75e2d63100000']);
  const chain = {
    id: CALL_CHAIN_ID,
    name: 'anvil',
    nativeCurrency: { name: 'BTC', symbol: 'BTC', decimals: 18 },
    rpcUrls: { default: { http: [anvil.url] } },
  } as const;
  const wallet = createWalletClient({ account: holder, chain, transport: http(anvil.url) });
  // anvil automines, but under load the receipt can still be null right after the send: ask until it is there
  const receipt = async (hash: Hex) => {
    for (let i = 0; i < 200; i++) {
      const r = await anvil.rpc<{ contractAddress: Hex | null; status: Hex } | null>('eth_getTransactionReceipt', [
        hash,
      ]);
      if (r) return r;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`anvil mined no receipt for ${hash} within 10 s`);
  };

  const deployed = await receipt(await wallet.sendTransaction({ data: LOAD_TOKEN_ARTIFACT.bytecode as Hex }));
  const token = deployed.contractAddress!;
  await wallet.sendTransaction({
    to: token,
    data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'mint', args: [holder.address, 1_000_000n] }),
  });
  const runtime = await anvil.rpc<Hex>('eth_call', [{ data: await MULTICALL3_CREATION() }, 'latest']);
  await anvil.rpc('anvil_setCode', [MULTICALL, runtime]);
  await anvil.rpc('anvil_setCode', [REVERTER, BRIDGE_ARTIFACT.deployedBytecode]);
  await anvil.rpc('anvil_setCode', [SUMMER, SUM_50_SLOTS]);
  for (let i = 0; i < 50; i++)
    await anvil.rpc('anvil_setStorageAt', [
      SUMMER,
      `0x${i.toString(16)}`,
      `0x${(i + 1).toString(16).padStart(64, '0')}`,
    ]);
  await anvil.rpc('evm_mine', []);

  const payloads: ExecutionPayloadCapella[] = [];
  const source = payloadSource(payloads, 0n, 0n);
  const fixture: CallFixture = {
    anvil,
    holder,
    other,
    token,
    payloads,
    source,
    async refresh() {
      const head = BigInt(await anvil.rpc<Hex>('eth_blockNumber'));
      for (let n = payloads.length; n <= Number(head); n++)
        payloads.push(payloadOf(await anvil.rpc<AnvilBlock>('eth_getBlockByNumber', [`0x${n.toString(16)}`, false])));
      source.head = head;
      source.finalized = head;
    },
    async transfer(amount) {
      const hash = await wallet.sendTransaction({
        to: token,
        data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'transfer', args: [other.address, amount] }),
      });
      await receipt(hash);
      await fixture.refresh();
    },
    close: () => anvil.stop(),
  };
  await fixture.refresh();
  return fixture;
}
