/**
 * Light node sync benchmark: a persisted devnet chain served frozen from loopback
 * (`npm run devnet -- --generate 20000 --out <dir>` writes one), then
 *
 * - baseline: download every block through the same consensus RPC client and concurrency the node
 *   uses (4 ranges x 16 requests in flight) and JSON.parse it, no verification;
 * - verified sync from genesis to the head, `pow-checkpoint` and `full`, with the blst and the noble
 *   BLS backends (in-thread verifiers, memory storage); ratio = node / baseline throughput;
 * - warm start to a verified head from storage: Node (LevelDB) and Chromium (IndexedDB, the node in
 *   a page, verifiers in Web Workers; SYNC_BENCH_BROWSER=0 skips it). The page is the production
 *   build (`vite build`, served by `vite preview`) as users get it; SYNC_BENCH_WEB=dev measures the
 *   Vite dev server instead (hundreds of unbundled module requests per load).
 *
 *   SYNC_BENCH_DIR=<dir> npm run bench -- sync      a persisted chain (>= 20,000 blocks for the record)
 *   npm run bench -- sync                           generates SYNC_BENCH_BLOCKS (default 1000) first
 *   SYNC_BENCH_BACKENDS=blst                        BLS backends to sync with (default blst,noble; none: only the warm starts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDevnet } from '../src/devnet/generate/generate.js';
import { persistDevnet, servePersisted, type ServedDevnet } from '../src/devnet/generate/persist.js';
import { createLightNode, type LightNode, type NodeEvents } from '../src/index.nodejs.js';
import { createConsensusRpcSource } from '../src/node/sources/consensus-rpc.js';
import { chainSpecToJson } from '../src/protocol/chainspec.js';
import type { PreviewServer, ViteDevServer } from 'vite';
import { report } from './report.js';

const RANGES = 4;
const PER_RANGE = 16;

async function baseline(url: string, head: number): Promise<number> {
  const source = createConsensusRpcSource({ url, timeoutMs: 30_000 });
  let next = 1;
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: RANGES * PER_RANGE }, async () => {
      while (next <= head) {
        const text = await source.blockAt(next++);
        bytes += text.length;
        const parsed = JSON.parse(text) as { result: unknown };
        if (!parsed.result) throw new Error('baseline: a block is missing');
      }
    }),
  );
  const ms = performance.now() - t0;
  report({
    name: 'sync.baseline.download-json-parse',
    unit: 'blocks/s',
    value: (head * 1000) / ms,
    better: 'higher',
    blocks: head,
    mb: Math.round(bytes / 1e6),
  });
  return (head * 1000) / ms;
}

function nodeFor(served: ServedDevnet, opts: Parameters<typeof createLightNode>[0]): LightNode {
  return createLightNode({
    chainSpec: served.persisted.spec,
    rpc: [served.urls.consensus],
    evmRpc: [served.urls.evm],
    storage: 'memory',
    verifierWorkers: 0,
    logLevel: 'silent',
    sync: { batchSize: 64, parallelism: RANGES, followIntervalMs: 1000 },
    ...opts,
  });
}

function untilHead(node: LightNode, number: number): Promise<NodeEvents['head']> {
  return new Promise((resolve) => {
    const off = node.on('head', (h) => {
      if (h.number >= number) {
        off();
        resolve(h);
      }
    });
  });
}

async function syncOnce(
  served: ServedDevnet,
  mode: 'full' | 'pow-checkpoint',
  bls: 'blst' | 'noble',
  base: number,
  verifierWorkers = 0,
): Promise<void> {
  const head = served.persisted.manifest.head;
  const node = nodeFor(served, { mode, bls, verifierWorkers });
  const reached = untilHead(node, head.number);
  const t0 = performance.now();
  await node.start();
  const h = await reached;
  const ms = performance.now() - t0;
  await node.stop();
  if (h.hash !== head.hash)
    throw new Error(`sync ${mode}/${bls}: ended at ${h.hash}, the chain's head is ${head.hash}`);
  const value = (head.number * 1000) / ms;
  const target = mode === 'full' ? (bls === 'blst' ? '>= 800 blocks/s' : undefined) : '>= 0.8x baseline';
  report({
    name: `sync.${mode}.${bls}${verifierWorkers ? `.workers-${verifierWorkers}` : ''}`,
    unit: 'blocks/s',
    value,
    baseline: base,
    better: 'higher',
    blocks: head.number,
    seconds: Number((ms / 1000).toFixed(1)),
    ...(target ? { target } : {}),
  });
}

async function warmStartNode(served: ServedDevnet): Promise<void> {
  const head = served.persisted.manifest.head;
  const dataDir = mkdtempSync(join(tmpdir(), 'alys-bench-sync-'));
  try {
    const first = nodeFor(served, { storage: 'level', dataDir, bls: 'blst' });
    const reached = untilHead(first, head.number);
    await first.start();
    await reached;
    await first.stop();
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const node = nodeFor(served, { storage: 'level', dataDir, bls: 'blst' });
      const t0 = performance.now();
      const atHead = untilHead(node, head.number);
      await node.start();
      await atHead;
      times.push(performance.now() - t0);
      await node.stop();
    }
    report({
      name: 'sync.warm-start.node-leveldb',
      unit: 'ms',
      value: Math.min(...times),
      better: 'lower',
      runs: times.map(Math.round),
      blocks: head.number,
      target: '<= 1000',
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The node in Chromium (the dashboard page, Web Workers + IndexedDB): cold sync, then reloads. */
async function warmStartChromium(served: ServedDevnet): Promise<void> {
  const { createServer } = await import('vite');
  const { chromium } = await import('playwright');
  const head = served.persisted.manifest.head;
  const instance = `bench${Date.now().toString(36)}`;
  const json = JSON.stringify({
    instance,
    chainSpec: chainSpecToJson(served.persisted.spec),
    rpc: [served.urls.consensus],
    evmRpc: [served.urls.evm],
  });
  const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url));
  const serveJson = (s: ViteDevServer | PreviewServer) =>
    void s.middlewares.use('/devnet.json', (_q, res) => res.end(json));
  const plugin = { name: 'bench-devnet-json', configureServer: serveJson, configurePreviewServer: serveJson };
  const web = process.env['SYNC_BENCH_WEB'] === 'dev' ? 'dev' : 'build';
  let server: { resolvedUrls: { local: string[] } | null; close(): Promise<void> };
  if (web === 'dev') {
    const dev = await createServer({
      configFile,
      logLevel: 'warn',
      server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
      plugins: [plugin],
    });
    await dev.listen();
    server = dev;
  } else {
    const { build, preview } = await import('vite');
    const outDir = mkdtempSync(join(tmpdir(), 'alys-bench-web-'));
    await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    const p = await preview({
      configFile,
      logLevel: 'warn',
      build: { outDir },
      preview: { port: 0, host: '127.0.0.1' },
      plugins: [plugin],
    });
    server = {
      resolvedUrls: p.resolvedUrls,
      close: async () => {
        await p.close();
        rmSync(outDir, { recursive: true, force: true });
      },
    };
  }
  const url = `${server.resolvedUrls!.local[0]}?sync-batch-size=64`;
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const page = await browser.newPage();
    const atHead = () =>
      page.waitForFunction((n) => Number(document.body.dataset.head) >= n, head.number, {
        timeout: 900_000,
        polling: 50,
      });
    const t0 = performance.now();
    await page.goto(url);
    await atHead();
    const coldMs = performance.now() - t0;
    report({
      name: 'sync.chromium.pow-checkpoint.cold',
      unit: 'blocks/s',
      value: (head.number * 1000) / coldMs,
      better: 'higher',
      blocks: head.number,
      seconds: Number((coldMs / 1000).toFixed(1)),
      workers: 2,
      web,
    });
    const times: number[] = [];
    const storageMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t1 = performance.now();
      await page.reload();
      await atHead();
      times.push(performance.now() - t1);
      storageMs.push(Number(await page.evaluate(() => document.body.dataset.startMs)));
      if ((await page.evaluate(() => document.body.dataset.startKind)) !== 'warm-start')
        throw new Error('the reload did not warm-start');
    }
    report({
      name: 'sync.warm-start.chromium-indexeddb',
      unit: 'ms',
      value: Math.min(...times),
      better: 'lower',
      runs: times.map(Math.round),
      storageLoadMs: storageMs,
      blocks: head.number,
      web,
      note: 'page reload to the verified head shown on the page (page boot and storage load; the verifier workers finish booting after it)',
      target: '<= 1000',
    });
    await page.evaluate(async (name) => {
      await (window as unknown as { alysPage?: { stop(): Promise<void> } }).alysPage?.stop();
      await new Promise((r) => {
        const req = indexedDB.deleteDatabase(name);
        req.onsuccess = req.onerror = req.onblocked = r;
      });
    }, `alys-light-${served.persisted.spec.chainId}-pow-checkpoint-${instance}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

export async function run(): Promise<void> {
  let dir = process.env['SYNC_BENCH_DIR'];
  let temp: string | undefined;
  if (!dir) {
    const blocks = Number(process.env['SYNC_BENCH_BLOCKS'] ?? 1000);
    temp = dir = mkdtempSync(join(tmpdir(), 'alys-bench-sync-chain-'));
    const g = await generateDevnet({ blocks, seed: 'bench-sync', dataDir: dir });
    persistDevnet(g.devnet, dir, { seed: 'bench-sync', stats: g.stats });
    await g.devnet.stop();
  }
  const served = await servePersisted(dir, { consensusPort: 0, evmPort: 0, esploraPort: 0 });
  try {
    const head = served.persisted.manifest.head.number;
    const base = await baseline(served.urls.consensus, head);
    const backends = (process.env['SYNC_BENCH_BACKENDS'] ?? 'blst,noble')
      .split(',')
      .filter((b) => b !== '' && b !== 'none') as Array<'blst' | 'noble'>;
    for (const bls of backends) {
      await syncOnce(served, 'pow-checkpoint', bls, base);
      await syncOnce(served, 'full', bls, base);
    }
    if (backends.includes('blst')) {
      await syncOnce(served, 'pow-checkpoint', 'blst', base, 2);
      await syncOnce(served, 'full', 'blst', base, 2);
    }
    await warmStartNode(served);
    if (process.env['SYNC_BENCH_BROWSER'] !== '0') await warmStartChromium(served);
  } finally {
    await served.close();
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}
