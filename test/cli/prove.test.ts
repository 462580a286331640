/**
 * `alys-light prove` in-process (the command function main calls) against a devnet: the bundles it
 * writes verify offline with `verifyBundle` against the devnet's chain spec alone, and state what the
 * devnet's EL holds at the bundle's block; bad input is exit 2 with nothing started.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, defineChain, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { proveCommand, proveParams } from '../../src/cli/prove.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { nobleBackend, verifyBundle } from '../../src/protocol/index.js';
import { Cleanup, finalizedHeight, growChain, startDevnet, tempDir } from '../node/helpers.js';

const shared = new Cleanup();
let devnet: Devnet;
let dir: string;
let transfer: `0x${string}`;
const RECIPIENT = '0x00000000000000000000000000000000c0ffee02' as const;
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const k of Object.keys(process.env))
    if (k.startsWith('ALYS_')) (savedEnv[k] = process.env[k]), delete process.env[k];
  dir = await tempDir(shared, 'alys-prove-test-');
  devnet = await startDevnet(shared, 'prove', { dataDir: join(dir, 'devnet') });
  const chain = defineChain({
    id: devnet.spec.chainId,
    name: 'alys-devnet',
    nativeCurrency: { name: 'BTC', symbol: 'BTC', decimals: 18 },
    rpcUrls: { default: { http: [devnet.urls.evm] } },
  });
  const wallet = createWalletClient({
    account: privateKeyToAccount(devnet.users[0]!.privateKey),
    chain,
    transport: http(devnet.urls.evm),
  });
  // the transfer lands above the latest PoW range's start, where a head-first start keeps the blocks
  await growChain(devnet, 10, 5); // PoW at 5 and 10
  transfer = await wallet.sendTransaction({ to: RECIPIENT, value: 4_242n });
  await growChain(devnet, 3, 5); // 11..13
}, 60_000);

afterAll(async () => {
  Object.assign(process.env, savedEnv);
  await shared.run();
}, 60_000);

const flags = () => [
  '--network',
  devnet.specFile,
  '--rpc',
  devnet.urls.consensus,
  '--evm-rpc',
  devnet.urls.evm,
  '--storage',
  'memory',
  '--sync-request-timeout-ms',
  '2000',
  '--sync-follow-interval-ms',
  '100',
];

async function prove(args: string[]) {
  const out = join(dir, `bundle-${Math.random().toString(36).slice(2)}.json`);
  expect(await proveCommand([...args, '--out', out, ...flags()])).toBe(0);
  return verifyBundle(await readFile(out, 'utf8'), { spec: devnet.spec, backend: nobleBackend });
}

const el = () => createPublicClient({ transport: http(devnet.urls.evm) });

describe('alys-light prove', () => {
  it('balance: a bundle whose verified balance is the EL balance at its block', async () => {
    const facts = await prove(['balance', RECIPIENT]);
    expect(facts.finalized).toBe(false);
    expect(facts.account!.balance).toBe('4242');
    expect(BigInt(facts.account!.balance)).toBe(
      await el().getBalance({ address: RECIPIENT, blockNumber: BigInt(facts.block.number) }),
    );
  });

  it('balance --block finalized: finalized, at the last PoW-finalized block', async () => {
    const facts = await prove(['balance', RECIPIENT, '--block', 'finalized']);
    expect(facts).toMatchObject({ finalized: true, block: { number: String(finalizedHeight(devnet)) } });
  });

  it('storage and receipt', async () => {
    const at = String(devnet.chain.height - 1);
    const storage = await prove(['storage', RECIPIENT, '0x0', '--block', at]);
    expect(storage.block.number).toBe(at);
    expect(storage.account!.storage).toEqual([{ key: `0x${'0'.repeat(64)}`, value: '0' }]);
    const receipt = await prove(['receipt', transfer]);
    expect(receipt.receipt).toMatchObject({ transactionHash: transfer, status: 1 });
  });

  it('bad input is exit 2 (usage on stderr)', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      for (const args of [
        ['balance', '0x12'],
        ['storage', RECIPIENT],
        ['receipt', '0x12'],
        ['nonce', RECIPIENT],
      ])
        expect(await proveCommand([...args, ...flags()]), args.join(' ')).toBe(2);
      expect(typeof proveParams(['balance', RECIPIENT], 'yesterday')).toBe('string');
      expect(proveParams(['storage', RECIPIENT, '0x1'], '7')).toEqual(['account', RECIPIENT, ['0x1'], '0x7']);
    } finally {
      spy.mockRestore();
    }
  });
});
