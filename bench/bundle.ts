/**
 * Bundle size of a minimal consumer (issue 14): what a page that embeds the light node ships.
 *
 * The library is packed as npm would publish it (`npm run build:lib`, `npm pack`) and installed into
 * a fresh Vite app that creates the node and reads a balance through viem
 * (`createPublicClient({ transport: custom(node.provider) })`, `getBalance`); the same run builds a
 * baseline app that uses viem's `createPublicClient` with `http()` alone. Sizes are Brotli
 * (node:zlib, quality 11) of the emitted files:
 *
 * - main-thread entry: the page's entry chunk and its static imports (what the page loads first);
 * - node worker: the worker entries' chunks and their static imports (the verifier worker today);
 * - lazy: dynamically imported chunks and assets (BLS wasm glue and `.wasm`, libp2p, ...);
 * - before the first verified head: measured, not inferred: the app is served (`vite preview`) to
 *   Chromium against an in-process devnet and every file it (and its workers, the SharedWorker too:
 *   counted by the server) requested before the page got its first verified head is counted (the page's
 *   head listener requests a marker, `first-head`, at once); `before-first-balance` also counts what
 *   loaded until the page showed the balance it read after that head (the BLS wasm, loaded in the
 *   background once the node's start is done, may land there);
 * - where the bytes come from: per package, each chunk's Brotli size split by its modules' share of
 *   the rendered (pre-minification) code: an estimate.
 *
 *   npm run bench -- bundle        BUNDLE_BENCH_KEEP=1 keeps the temp dir (printed) for a look at the output
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { createDevnet } from '../src/devnet/devnet.js';
import { chainSpecToJson } from '../src/protocol/chainspec.js';
import { NPM_INSTALL, packTarball, runOk, VIEM, VITE, viteBuild, writeProject } from '../test/package/consumer.js';
import { report } from './report.js';

/** The chunk graph of one Rollup/Rolldown output (the page or one worker), as the consumer's plugin writes it. */
interface OutputFile {
  fileName: string;
  type: 'chunk' | 'asset';
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  /** module id -> rendered length (before minification) */
  modules?: Record<string, number>;
}
type Output = OutputFile[];

/** Records every output's chunk graph (page and workers) as one JSON line in graph.jsonl. */
const VITE_CONFIG = `
import { appendFileSync } from 'node:fs';
const graph = () => ({
  name: 'bench-chunk-graph',
  generateBundle(_options, bundle) {
    const files = Object.values(bundle).map((o) =>
      o.type === 'chunk'
        ? {
            fileName: o.fileName, type: 'chunk', isEntry: o.isEntry, isDynamicEntry: o.isDynamicEntry,
            imports: o.imports, dynamicImports: o.dynamicImports,
            modules: Object.fromEntries(Object.entries(o.modules).map(([id, m]) => [id, m.renderedLength])),
          }
        : { fileName: o.fileName, type: 'asset' });
    appendFileSync('graph.jsonl', JSON.stringify(files) + '\\n');
  },
});
export default {
  logLevel: 'warn',
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  worker: { format: 'es', plugins: () => [graph()] },
  plugins: [graph()],
};
`;

const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>consumer</title></head>
<body><pre id="out"></pre><script type="module" src="./main.js"></script></body></html>
`;

/** The minimal consumer: the node (a custom chain: the devnet's spec as JSON text), viem over its provider, one verified balance after the first verified head. */
const LIGHT_MAIN = `
import { createLightNode } from 'alys-light';
import { createPublicClient, custom } from 'viem';
const cfg = await (await fetch('./devnet.json')).json();
const node = createLightNode({
  // the spec's JSON text: the node (in its worker) checks its keys, the page carries no curve code
  chainSpec: JSON.stringify(cfg.chainSpec),
  rpc: cfg.rpc,
  evmRpc: cfg.evmRpc,
  verifierWorkers: 1,
});
const client = createPublicClient({ transport: custom(node.provider) });
let shown = false;
node.on('head', async (h) => {
  if (shown) return;
  shown = true;
  // marks the first verified head for the bench's server (what the page and its workers requested before it)
  void fetch('./first-head');
  const balance = await client.getBalance({ address: cfg.address });
  document.getElementById('out').textContent = JSON.stringify({ head: h.number, balance: String(balance) });
});
await node.start();
`;

/** The baseline: viem alone, unverified. */
const BASELINE_MAIN = `
import { createPublicClient, http } from 'viem';
const cfg = await (await fetch('./devnet.json')).json();
const client = createPublicClient({ transport: http(cfg.evmRpc[0]) });
const balance = await client.getBalance({ address: cfg.address });
document.getElementById('out').textContent = String(balance);
`;

const KB = 1000;
/** The wasm magic and version (`\\0asm` 1) in base64: how bls-eth-wasm embeds its module in JS. */
const WASM_BASE64_MAGIC = 'AGFzbQEAAAAB';
const kb = (bytes: number) => Number((bytes / KB).toFixed(1));

async function readGraph(dir: string): Promise<{ page: Output; workers: Output[] }> {
  const outputs = (await readFile(join(dir, 'graph.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Output);
  // worker bundles are built while the page's modules are transformed: the page's output comes last
  const page = outputs.pop();
  if (!page) throw new Error('no output in graph.jsonl');
  return { page, workers: outputs };
}

/** The entry chunks of an output and everything they import statically. */
function staticClosure(output: Output): Set<string> {
  const byName = new Map(output.map((f) => [f.fileName, f]));
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const i of byName.get(name)?.imports ?? []) visit(i);
  };
  for (const f of output) if (f.isEntry) visit(f.fileName);
  return seen;
}

/** Brotli sizes (quality 11) of the files under `dist`, memoised. */
function brotliSizer(dist: string): (file: string) => Promise<number> {
  const sizes = new Map<string, Promise<number>>();
  return (file) => {
    let s = sizes.get(file);
    if (!s) {
      s = readFile(join(dist, file)).then(
        (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
      );
      sizes.set(file, s);
    }
    return s;
  };
}

async function sum(files: Iterable<string>, size: (f: string) => Promise<number>): Promise<number> {
  let total = 0;
  for (const f of files) total += await size(f);
  return total;
}

/** `node_modules/<pkg>/...` -> pkg; our package's modules by their dist directory. */
export function packageOf(id: string): string {
  const parts = id.split(/[\\/]node_modules[\\/]/);
  const last = parts[parts.length - 1]!;
  if (parts.length === 1) return id.includes('vite/') || id.startsWith('\0') ? '(bundler runtime)' : '(app)';
  const segs = last.split(/[\\/]/);
  const pkg = segs[0]!.startsWith('@') ? `${segs[0]}/${segs[1]}` : segs[0]!;
  if (pkg !== 'alys-light') return pkg;
  const dir = segs.slice(1, -1).join('/');
  return `alys-light/${dir.replace(/^dist\/src\/?/, '') || '.'}`;
}

/** Each chunk's Brotli size split over packages by their share of its rendered code. */
async function breakdown(
  outputs: Output[],
  files: Set<string>,
  size: (f: string) => Promise<number>,
): Promise<Record<string, number>> {
  const by: Record<string, number> = {};
  // assets (the BLS .wasm) count whole, by file name without its hash
  for (const f of files) if (!f.endsWith('.js')) by[f.replace(/^.*\//, '').replace(/-[\w-]{8}\./, '.')] = await size(f);
  for (const output of outputs)
    for (const f of output) {
      if (f.type !== 'chunk' || !files.has(f.fileName) || !f.modules) continue;
      const total = Object.values(f.modules).reduce((a, b) => a + b, 0);
      if (!total) continue;
      const brotli = await size(f.fileName);
      for (const [id, len] of Object.entries(f.modules)) {
        const pkg = packageOf(id);
        by[pkg] = (by[pkg] ?? 0) + (brotli * len) / total;
      }
    }
  return Object.fromEntries(
    Object.entries(by)
      .sort((a, b) => b[1] - a[1])
      .filter(([, v]) => v >= 500)
      .map(([k, v]) => [k, kb(v)]),
  );
}

/** Serve the built app and load it in Chromium against a devnet: the files requested until the first head shows. */
async function loadedBeforeHead(
  dist: string,
): Promise<{ files: string[]; beforeHead: string[]; shown: { head: number; balance: string } }> {
  const { preview } = await import('vite');
  const { chromium } = await import('playwright');
  const devnet = await createDevnet({ consensusPort: 0, evmPort: 0, esploraPort: 0, users: 1, seed: 'bench-bundle' });
  for (let i = 0; i < 6; i++) {
    if (i % 3 === 2) await devnet.mineAuxPow();
    await devnet.produceNext();
  }
  const address = devnet.users[0]!.address;
  await writeFile(
    join(dist, 'devnet.json'),
    JSON.stringify({
      chainSpec: chainSpecToJson(devnet.spec),
      rpc: [devnet.urls.consensus],
      evmRpc: [devnet.urls.evm],
      address,
    }),
  );
  // counted by the server: Playwright reports no requests of a SharedWorker (the node worker), the page's only
  const files = new Set<string>();
  let beforeHead: string[] | undefined;
  let counting = true;
  const server = await preview({
    configFile: false,
    root: join(dist, '..'),
    logLevel: 'warn',
    build: { outDir: dist },
    preview: { port: 0, host: '127.0.0.1' },
    plugins: [
      {
        name: 'bench-requests',
        configurePreviewServer(s) {
          s.middlewares.use((req, _res, next) => {
            const file = req.url && (new URL(req.url, 'http://x').pathname.slice(1) || 'index.html');
            if (file === 'first-head') beforeHead ??= [...files];
            else if (counting && file) files.add(file);
            next();
          });
        },
      },
    ],
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    const origin = server.resolvedUrls!.local[0]!;
    const page = await browser.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => document.getElementById('out')?.textContent, undefined, { timeout: 60_000 });
    counting = false;
    const shown = JSON.parse((await page.textContent('#out'))!) as { head: number; balance: string };
    const loaded = (list: Iterable<string>) => [...list].filter((f) => f !== 'devnet.json');
    if (!beforeHead) throw new Error('the page showed a head but never marked it');
    return { files: loaded(files), beforeHead: loaded(beforeHead), shown };
  } finally {
    await browser.close();
    await server.close();
    await devnet.stop();
  }
}

export async function run(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'alys-light-bench-bundle-'));
  try {
    const tarball = await packTarball(work);
    const light = join(work, 'light');
    const base = join(work, 'baseline');
    await writeProject(light, { 'index.html': INDEX_HTML, 'main.js': LIGHT_MAIN, 'vite.config.js': VITE_CONFIG });
    await writeProject(base, { 'index.html': INDEX_HTML, 'main.js': BASELINE_MAIN, 'vite.config.js': VITE_CONFIG });
    await Promise.all([
      runOk('npm', [...NPM_INSTALL, tarball, VIEM, VITE], light),
      runOk('npm', [...NPM_INSTALL, VIEM, VITE], base),
    ]);
    await viteBuild(light);
    await viteBuild(base);

    const lightGraph = await readGraph(light);
    const baseGraph = await readGraph(base);
    const size = brotliSizer(join(light, 'dist'));
    const baseSize = brotliSizer(join(base, 'dist'));
    const isCode = (f: string) => /\.(js|wasm)$/.test(f);

    const mainFiles = staticClosure(lightGraph.page);
    const workerFiles = new Set(lightGraph.workers.flatMap((o) => [...staticClosure(o)]));
    const allFiles = new Set([...lightGraph.page, ...lightGraph.workers.flat()].map((f) => f.fileName).filter(isCode));
    const lazyFiles = new Set([...allFiles].filter((f) => !mainFiles.has(f) && !workerFiles.has(f)));
    const baseMain = await sum(staticClosure(baseGraph.page), baseSize);
    const baseAll = await sum(new Set(baseGraph.page.map((f) => f.fileName).filter(isCode)), baseSize);

    const main = await sum(mainFiles, size);
    report({
      name: 'bundle.main-entry',
      unit: 'KB brotli',
      value: kb(main),
      baseline: kb(baseMain),
      better: 'lower',
      target: '<= 30 KB',
      // the consumer's own viem client is the baseline: what alys-light adds to the page is the difference
      overBaseline: kb(main - baseMain),
      files: [...mainFiles],
    });
    report({
      name: 'bundle.node-worker',
      unit: 'KB brotli',
      value: kb(await sum(workerFiles, size)),
      better: 'lower',
      files: [...workerFiles],
    });
    const lazy: Record<string, number> = {};
    for (const f of lazyFiles) lazy[f] = kb(await size(f));
    report({
      name: 'bundle.lazy',
      unit: 'KB brotli',
      value: kb(await sum(lazyFiles, size)),
      better: 'lower',
      files: lazy,
    });
    report({
      name: 'bundle.all-emitted',
      unit: 'KB brotli',
      value: kb(await sum(allFiles, size)),
      baseline: kb(baseAll),
      better: 'lower',
    });

    const loaded = await loadedBeforeHead(join(light, 'dist'));
    const loadedCode = loaded.beforeHead.filter(isCode);
    const beforeHead = await sum(loadedCode, size);
    const withBalanceCode = loaded.files.filter(isCode);
    report({
      name: 'bundle.before-first-balance',
      unit: 'KB brotli',
      value: kb(await sum(withBalanceCode, size)),
      baseline: kb(baseAll),
      better: 'lower',
      // what loaded after the head, until the page showed the balance (the wasm's background load, if it was that quick)
      afterHead: withBalanceCode.filter((f) => !loadedCode.includes(f)),
    });
    report({
      name: 'bundle.before-first-verified-head',
      unit: 'KB brotli',
      value: kb(beforeHead),
      baseline: kb(baseAll),
      better: 'lower',
      target: '<= 260 KB',
      overBaseline: kb(beforeHead - baseAll),
      head: loaded.shown.head,
      balanceShown: BigInt(loaded.shown.balance) > 0n,
      files: loadedCode,
    });
    report({
      name: 'bundle.by-package.main-entry',
      unit: 'KB brotli',
      value: kb(main),
      packages: await breakdown([lightGraph.page], mainFiles, size),
    });
    report({
      name: 'bundle.by-package.before-first-verified-head',
      unit: 'KB brotli',
      value: kb(await sum(loadedCode, size)),
      packages: await breakdown([lightGraph.page, ...lightGraph.workers], new Set(loadedCode), size),
    });
    // copies of the BLS wasm: `.wasm` files, and JS carrying it as base64 (bls-eth-wasm's own shape)
    let copies = 0;
    for (const f of allFiles) {
      const bytes = await readFile(join(light, 'dist', f));
      if (f.endsWith('.wasm') || bytes.toString('latin1').includes(WASM_BASE64_MAGIC)) copies++;
    }
    report({ name: 'bundle.wasm-copies', unit: 'files', value: copies, better: 'lower', target: '1' });
  } finally {
    if (process.env.BUNDLE_BENCH_KEEP) console.error(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}
