/**
 * The example wallet (examples/wallet, issue 14 item 6) end to end: copied to a temp dir, its
 * `alys-light` dependency pointed at the freshly packed tarball (`file:`), installed from the npm
 * cache, built with its own Vite, served by `vite preview` on loopback with a `devnet.json` for an
 * in-process devnet, and driven in Chromium: the balance and head it shows are the devnet's at that
 * height, and a transfer sent from the page lands (its verified receipt shows) and moves the balance.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chainSpecToJson } from '../../src/protocol/chainspec.js';
import { Cleanup, growChain, honestHash, startDevnet } from '../node/helpers.js';
import { NPM_INSTALL, REPO, runOk, viteBuild } from './consumer.js';

async function evmBalance(url: string, address: string, block: number): Promise<bigint> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_getBalance',
      params: [address, `0x${block.toString(16)}`],
    }),
  });
  return BigInt(((await res.json()) as { result: string }).result);
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

  it('shows the verified balance and head, and sends a transfer that lands', async () => {
    const cleanup = new Cleanup();
    try {
      const devnet = await startDevnet(cleanup, 'example-wallet');
      await growChain(devnet, 6, 3);
      const [from, to] = [devnet.users[0]!, devnet.users[1]!];
      await writeFile(
        join(app, 'dist/devnet.json'),
        JSON.stringify({
          chainSpec: chainSpecToJson(devnet.spec),
          rpc: [devnet.urls.consensus],
          evmRpc: [devnet.urls.evm],
          account: from,
        }),
      );
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

      // the head the page shows is the devnet's block at that height, the balance the EVM's at that block
      const height = devnet.chain.height;
      await page.waitForFunction((h) => Number(document.getElementById('balance-block')?.textContent) === h, height);
      expect((await text(page, 'address')).toLowerCase()).toBe(from.address);
      expect(Number(await text(page, 'head-number'))).toBe(height);
      expect(await text(page, 'head-hash')).toBe(honestHash(devnet, height));
      const before = BigInt(await text(page, 'balance'));
      expect(before).toBe(await evmBalance(devnet.urls.evm, from.address, height));
      expect(before).toBeGreaterThan(0n);

      await page.fill('#to', to.address);
      await page.fill('#amount', '0.5');
      await page.click('#send button');
      await page.waitForFunction(() => document.getElementById('tx')?.textContent?.startsWith('0x'));
      await devnet.produceNext();
      const landedIn = devnet.chain.height;
      await page.waitForFunction(() => document.getElementById('tx-status')?.textContent?.startsWith('landed'));
      expect(await text(page, 'tx-status')).toBe(`landed in block ${landedIn} (success)`);
      await page.waitForFunction((h) => Number(document.getElementById('balance-block')?.textContent) === h, landedIn);
      const after = BigInt(await text(page, 'balance'));
      expect(after).toBe(await evmBalance(devnet.urls.evm, from.address, landedIn));
      expect(before - after).toBeGreaterThanOrEqual(5n * 10n ** 17n);
      expect(await evmBalance(devnet.urls.evm, to.address, landedIn)).toBe(
        (await evmBalance(devnet.urls.evm, to.address, height)) + 5n * 10n ** 17n,
      );
      expect(await text(page, 'error')).toBe('');
      expect(errors).toEqual([]);
    } finally {
      await cleanup.run();
    }
  }, 90_000);
});
