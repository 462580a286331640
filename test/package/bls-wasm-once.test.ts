/**
 * The BLS wasm ships once in a Vite build with a page and a worker (the dashboard's shape): the
 * `blsWasmAsset` plugin of vite.config.ts turns bls-eth-wasm's embedded base64 into one
 * content-hashed `.wasm` asset that both bundles fetch. Built for real (test/fixtures/bls-wasm-app),
 * served by `vite preview` on loopback and run in Chromium: the wasm backend signs and verifies in
 * the page and in the worker.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blsWasmAsset } from '../../vite.config.js';

const root = join(import.meta.dirname, '../fixtures/bls-wasm-app');
const WASM_MAGIC = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
/** The same 8 bytes in base64: how bls-eth-wasm embeds its module in its JS. */
const WASM_MAGIC_BASE64 = WASM_MAGIC.toString('base64').slice(0, 8);

describe('the BLS wasm in a Vite build with a page and a worker', () => {
  let outDir: string;
  let files: Map<string, Buffer>;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'alys-bls-wasm-once-'));
    const { build } = await import('vite');
    await build({
      configFile: false,
      root,
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, target: 'es2022' },
      worker: { format: 'es', plugins: () => [blsWasmAsset()] },
      plugins: [blsWasmAsset()],
    });
    const names = await readdir(join(outDir, 'assets'));
    files = new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(outDir, 'assets', n))] as const)));
  }, 120_000);
  afterAll(() => outDir && rm(outDir, { recursive: true, force: true }));

  it('emits the wasm once, as a .wasm asset, and no JS carries it as base64', () => {
    const wasm = [...files].filter(([, bytes]) => bytes.subarray(0, 8).equals(WASM_MAGIC)).map(([n]) => n);
    expect(wasm).toHaveLength(1);
    expect(wasm[0]).toMatch(/^bls_c-.*\.wasm$/);
    const js = [...files].filter(([n]) => n.endsWith('.js'));
    expect(js.filter(([, b]) => b.toString('latin1').includes(WASM_MAGIC_BASE64)).map(([n]) => n)).toEqual([]);
    // the page's and the worker's glue both name that one file
    expect(js.filter(([, b]) => b.toString('latin1').includes(wasm[0]!)).length).toBeGreaterThanOrEqual(2);
  });

  it('the page and the worker both load it and verify a signature (Chromium)', async () => {
    const { preview } = await import('vite');
    const { chromium } = await import('playwright');
    const server = await preview({
      configFile: false,
      root,
      logLevel: 'warn',
      build: { outDir },
      preview: { port: 0, host: '127.0.0.1' },
    });
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(server.resolvedUrls!.local[0]!);
      expect(await page.evaluate('globalThis.result')).toEqual({ page: true, worker: true });
    } finally {
      await browser.close();
      await server.close();
    }
  }, 60_000);
});
