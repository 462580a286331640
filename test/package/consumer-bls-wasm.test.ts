/**
 * The BLS wasm ships once in a consumer's own Vite build of a page and a worker, from the tarball:
 * the package carries bls-eth-wasm's module as a `.wasm` file next to its glue (dist/src/protocol/bls),
 * so the page's and the worker's bundles both name one content-hashed asset instead of each embedding
 * the 623 kB base64 copy (docs/architecture.md, "The package"). Built with the consumer's Vite (no plugin
 * of ours), served by `vite preview` on loopback and run in Chromium: the wasm backend signs and
 * verifies in the page and in the worker. Plain Node loads the same file from disk.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NPM_INSTALL, run, runOk, VITE, viteBuild, walk, writeProject } from './consumer.js';

/** The wasm magic and version in base64: bls-eth-wasm's embedded copy starts with it. */
const WASM_MAGIC = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
const WASM_MAGIC_BASE64 = WASM_MAGIC.toString('base64').slice(0, 8);

const CHECK = `
import { createBlsBackend } from 'alys-light/protocol';
export async function wasmBlsWorks() {
  const bls = await createBlsBackend('wasm');
  const secretKey = new Uint8Array(32).fill(7);
  const message = new Uint8Array(32).fill(1);
  const signature = bls.sign(secretKey, message);
  const publicKey = bls.secretToPublicKey(secretKey);
  return bls.name === 'wasm' && bls.verify(publicKey, message, signature) && !bls.verify(publicKey, new Uint8Array(32), signature);
}
`;

const FILES = {
  'index.html': `<!doctype html><html><head><meta charset="utf-8" /></head><body><script type="module" src="./main.js"></script></body></html>\n`,
  'check.js': CHECK,
  'main.js': `
import { wasmBlsWorks } from './check.js';
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const inWorker = new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
  worker.onerror = (e) => resolve('worker error: ' + e.message);
});
const inPage = wasmBlsWorks().catch((e) => 'page error: ' + e);
globalThis.result = Promise.all([inPage, inWorker]).then(([page, worker]) => ({ page, worker }));
`,
  'worker.js': `
import { wasmBlsWorks } from './check.js';
wasmBlsWorks().then((ok) => postMessage(ok), (e) => postMessage('error: ' + e));
`,
  'node-check.mjs': `import { wasmBlsWorks } from './check.js';\nconsole.log(JSON.stringify(await wasmBlsWorks()));\n`,
  // Cloudflare Workers' restriction (no wasm compiled from bytes at run time), emulated: the module given precompiled
  'precompiled-check.mjs': `
import { readFileSync } from 'node:fs';
const module = new WebAssembly.Module(readFileSync('node_modules/alys-light/dist/src/protocol/bls/bls_c.wasm'));
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (source, imports) =>
  source instanceof WebAssembly.Module ? instantiate(source, imports) : Promise.reject(new Error('Wasm code generation disallowed by embedder'));
const { createBlsBackend } = await import('alys-light/protocol');
const refused = await createBlsBackend('wasm').then(() => 'loaded', (e) => e.code);
const bls = await createBlsBackend('wasm', { module });
const sk = new Uint8Array(32).fill(7);
const msg = new Uint8Array(32).fill(1);
console.log(JSON.stringify({ refused, verified: bls.verify(bls.secretToPublicKey(sk), msg, bls.sign(sk, msg)) }));
`,
  'vite.config.js': `export default { logLevel: 'warn', build: { target: 'es2022', chunkSizeWarningLimit: 4096 }, worker: { format: 'es' } };\n`,
};

describe("the BLS wasm in a consumer's Vite build from the tarball", () => {
  let work: string;
  let app: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'alys-light-consumer-bls-'));
    const tarball = inject('packageTarball');
    app = join(work, 'app');
    await writeProject(app, FILES);
    await runOk('npm', [...NPM_INSTALL, tarball, VITE], app);
    await viteBuild(app);
  }, 300_000);
  afterAll(() => work && rm(work, { recursive: true, force: true }));

  it('emits the wasm once, as a .wasm asset, and no JS carries it as base64', async () => {
    const dist = join(app, 'dist');
    const files = await walk(dist);
    const contents = new Map(await Promise.all(files.map(async (f) => [f, await readFile(join(dist, f))] as const)));
    const wasm = [...contents].filter(([, b]) => b.subarray(0, 8).equals(WASM_MAGIC)).map(([f]) => f);
    expect(wasm).toHaveLength(1);
    expect(wasm[0]).toMatch(/\.wasm$/);
    const js = [...contents].filter(([f]) => f.endsWith('.js'));
    expect(js.filter(([, b]) => b.toString('latin1').includes(WASM_MAGIC_BASE64)).map(([f]) => f)).toEqual([]);
    const name = wasm[0]!.split('/').pop()!;
    // the page's glue and the worker's both name that one file
    expect(js.filter(([, b]) => b.toString('latin1').includes(name)).length).toBeGreaterThanOrEqual(2);
  });

  it('the page and the worker both load it and verify a signature (Chromium)', async () => {
    const { preview } = await import('vite');
    const { chromium } = await import('playwright');
    const server = await preview({
      configFile: false,
      root: app,
      logLevel: 'warn',
      build: { outDir: join(app, 'dist') },
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

  it('plain Node loads the same backend from the package', async () => {
    const r = await run('node', ['node-check.mjs'], app);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('true');
  });

  it('a precompiled module where wasm cannot be compiled from bytes (Cloudflare Workers) still works', async () => {
    const r = await run('node', ['precompiled-check.mjs'], app);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ refused: 'bls.backend-unavailable', verified: true });
  });
});
