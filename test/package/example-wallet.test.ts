/**
 * The example wallet (examples/wallet, issue 14 item 6) end to end: copied to a temp dir, its
 * `alys-light` dependency pointed at the freshly packed tarball (`file:`), installed from the npm
 * cache, built with its own Vite, served by `vite preview` on loopback with a `devnet.json` for an
 * in-process devnet (with an ERC-20 deployed on it), and driven in Chromium: the balance, the token
 * balance (a verified eth_call) and the head it shows are the devnet EVM's at that height; the heads it
 * lists (an eth_subscribe('newHeads') subscription) are every block, in order; a transfer and a token
 * transfer sent from the page land (their verified receipts show) and move the balances.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { encodeFunctionData, erc20Abi, getAddress, getContractAddress, type Hex, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { LOAD_TOKEN_ARTIFACT } from '../../src/devnet/contracts/artifacts.js';
import type { Devnet, DevnetUser } from '../../src/devnet/devnet.js';
import { chainSpecToJson } from '../../src/protocol/chainspec.js';
import { Cleanup, growChain, startDevnet } from '../node/helpers.js';
import { NPM_INSTALL, REPO, runOk, viteBuild } from './consumer.js';

async function evmRpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: unknown };
  if (body.error !== undefined) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result as T;
}

const evmBalance = async (url: string, address: string, block: number) =>
  BigInt(await evmRpc<Hex>(url, 'eth_getBalance', [address, toHex(block)]));
const evmHash = async (url: string, block: number) =>
  (await evmRpc<{ hash: Hex }>(url, 'eth_getBlockByNumber', [toHex(block), false])).hash;
/** balanceOf asked from the devnet's EVM itself (unverified: the reference the page must equal). */
const evmTokenBalance = async (url: string, token: Hex, address: string, block: number) =>
  BigInt(
    await evmRpc<Hex>(url, 'eth_call', [
      { to: token, data: encodeFunctionData({ abi: erc20Abi, functionName: 'balanceOf', args: [address as Hex] }) },
      toHex(block),
    ]),
  );

/** Sign with a devnet user's key and put the transaction in the devnet's mempool. */
async function queueTx(devnet: Devnet, user: DevnetUser, nonce: number, tx: { to?: Hex; data: Hex }): Promise<void> {
  const raw = await privateKeyToAccount(user.privateKey).signTransaction({
    chainId: devnet.spec.chainId,
    type: 'eip1559',
    nonce,
    ...tx,
    gas: 2_000_000n,
    maxFeePerGas: 10_000_000_000n,
    maxPriorityFeePerGas: 1_000_000n,
  });
  await devnet.engine.sendRawTransaction(Buffer.from(raw.slice(2), 'hex'));
}

const text = async (page: Page, id: string) => (await page.textContent(`#${id}`))?.trim() ?? '';

describe('the example wallet, installed from the tarball, in Chromium against the devnet', () => {
  let work: string;
  let app: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'alys-light-example-wallet-'));
    const tarball = inject('packageTarball');
    app = join(work, 'wallet');
    await cp(join(REPO, 'examples/wallet'), app, {
      recursive: true,
      filter: (src) => !/[\\/](node_modules|dist)$/.test(src),
    });
    const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8'));
    pkg.dependencies['alys-light'] = `file:${tarball}`;
    await writeFile(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
    await runOk('npm', NPM_INSTALL, app);
    await viteBuild(app);
  }, 300_000);
  afterAll(() => work && rm(work, { recursive: true, force: true }));

  it('shows the verified balances and every head, and sends a transfer and a token transfer that land', async () => {
    const cleanup = new Cleanup();
    try {
      const devnet = await startDevnet(cleanup, 'example-wallet');
      const [from, to, deployer] = [devnet.users[0]!, devnet.users[1]!, devnet.users[2]!];
      // an ERC-20 (the devnet's LoadToken) deployed by another user, with 7 tokens minted to the shown address
      const token = getContractAddress({ from: deployer.address, nonce: 0n });
      const minted = 7n * 10n ** 18n;
      await growChain(devnet, 6, 3, async (h) => {
        if (h !== 1) return;
        await queueTx(devnet, deployer, 0, { data: LOAD_TOKEN_ARTIFACT.bytecode as Hex });
        const mint = encodeFunctionData({
          abi: LOAD_TOKEN_ARTIFACT.abi,
          functionName: 'mint',
          args: [from.address, minted],
        });
        await queueTx(devnet, deployer, 1, { to: token, data: mint });
      });
      expect(await evmTokenBalance(devnet.urls.evm, token, from.address, devnet.chain.height)).toBe(minted);
      // the config as the README makes it: the example's devnet-config script adds the devnet user's key
      await writeFile(
        join(work, 'base.json'),
        JSON.stringify({
          chainSpec: chainSpecToJson(devnet.spec),
          rpc: [devnet.urls.consensus],
          evmRpc: [devnet.urls.evm],
          token,
        }),
      );
      const out = join(app, 'dist/devnet.json');
      await runOk('node', ['devnet-config.js', join(work, 'base.json'), '--seed', 'example-wallet', '--out', out], app);
      const config = JSON.parse(await readFile(out, 'utf8'));
      expect(config.account).toEqual({ address: getAddress(from.address), privateKey: from.privateKey });
      expect(config.token).toBe(token);
      const { preview } = await import('vite');
      const { chromium } = await import('playwright');
      const server = await preview({
        configFile: false,
        root: app,
        logLevel: 'warn',
        build: { outDir: join(app, 'dist') },
        preview: { port: 0, host: '127.0.0.1' },
      });
      cleanup.add(() => server.close());
      const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu'],
      });
      cleanup.add(() => browser.close());
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.resolvedUrls!.local[0]!);
      const evm = devnet.urls.evm;
      /** page.waitForFunction; on a timeout, say what the page shows. */
      const until = <A extends string | number | undefined>(fn: (arg: A) => unknown, arg: A) =>
        page.waitForFunction(fn as (arg: unknown) => unknown, arg).catch(async (e: Error) => {
          const shown = await page.evaluate(() =>
            ['status', 'balance-block', 'token-balance', 'tx', 'tx-status', 'error'].map(
              (id) => `${id}: ${document.getElementById(id)?.textContent}`,
            ),
          );
          throw new Error(`${e.message}\npage: ${shown.join('; ')}; page errors: ${errors.join('; ')}`, { cause: e });
        });
      /** Wait until the page shows block h's balances. */
      const shownAt = (h: number) =>
        until((n) => Number(document.getElementById('balance-block')?.textContent) === n, h);

      // the head the page shows is the devnet's EVM block at that height; both balances the EVM's at that block
      const height = devnet.chain.height;
      await shownAt(height);
      expect((await text(page, 'address')).toLowerCase()).toBe(from.address);
      expect(Number(await text(page, 'head-number'))).toBe(height);
      expect(await text(page, 'head-hash')).toBe(await evmHash(evm, height));
      const before = BigInt(await text(page, 'balance'));
      expect(before).toBe(await evmBalance(evm, from.address, height));
      expect(before).toBeGreaterThan(0n);
      expect(BigInt(await text(page, 'token-balance'))).toBe(minted);

      // a native transfer
      await page.fill('#to', to.address);
      await page.fill('#amount', '0.5');
      await page.click('#send button');
      await until(() => document.getElementById('tx')?.textContent?.startsWith('0x'), undefined);
      await devnet.produceNext();
      const landedIn = devnet.chain.height;
      await until(() => document.getElementById('tx-status')?.textContent?.startsWith('landed'), undefined);
      expect(await text(page, 'tx-status')).toBe(`landed in block ${landedIn} (success)`);
      await shownAt(landedIn);
      const after = BigInt(await text(page, 'balance'));
      expect(after).toBe(await evmBalance(evm, from.address, landedIn));
      expect(before - after).toBeGreaterThanOrEqual(5n * 10n ** 17n);
      expect(await evmBalance(evm, to.address, landedIn)).toBe(
        (await evmBalance(evm, to.address, height)) + 5n * 10n ** 17n,
      );

      // a token transfer: gas estimated by a verified eth_estimateGas, the balance by a verified eth_call
      const firstTx = await text(page, 'tx');
      await page.selectOption('#asset', 'token');
      await page.fill('#amount', '2.5');
      await page.click('#send button');
      await until((t) => document.getElementById('tx')?.textContent !== t, firstTx);
      await devnet.produceNext();
      const tokenIn = devnet.chain.height;
      await until(() => document.getElementById('tx-status')?.textContent?.startsWith('landed'), undefined);
      expect(await text(page, 'tx-status')).toBe(`landed in block ${tokenIn} (success)`);
      await shownAt(tokenIn);
      const sent = 25n * 10n ** 17n;
      expect(BigInt(await text(page, 'token-balance'))).toBe(await evmTokenBalance(evm, token, from.address, tokenIn));
      expect(BigInt(await text(page, 'token-balance'))).toBe(minted - sent);
      expect(await evmTokenBalance(evm, token, to.address, tokenIn)).toBe(sent);

      // blocks in a quick row: the subscription shows every one of them, in order, none skipped
      await growChain(devnet, 4, 3);
      const last = devnet.chain.height;
      await shownAt(last);
      const heads = await page.$$eval('#heads li', (lis) =>
        lis.map((li) => ({ number: Number(li.dataset.number), hash: li.dataset.hash })),
      );
      const numbers = heads.map((h) => h.number).reverse();
      expect(numbers.at(-1)).toBe(last);
      expect(numbers[0]).toBeLessThanOrEqual(height);
      expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => numbers[0]! + i));
      for (const h of heads) expect(h.hash).toBe(await evmHash(evm, h.number));
      expect(BigInt(await text(page, 'token-balance'))).toBe(await evmTokenBalance(evm, token, from.address, last));

      expect(await text(page, 'error')).toBe('');
      expect(errors).toEqual([]);
    } finally {
      await cleanup.run();
    }
  }, 90_000);
});
