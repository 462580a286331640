/**
 * The package as another project gets it: `npm run build:lib`, `npm pack`, then two fresh consumer
 * projects in temp dirs that `npm install` the tarball from the npm registry's cache.
 *
 * - node app (the tarball alone): a plain Node ESM script imports the package and its subpaths,
 *   checks real block hashes from $ALYS_VECTORS with the protocol library, and runs a light node with
 *   a worker_threads verifier and libp2p listening against an in-process devnet until it holds the devnet's head and
 *   answers a verified balance; `node_modules/.bin/alys-light --help` runs with plain node. Of
 *   @ethereumjs/* only the EVM of verified calls and what it needs is installed (not the devnet's vm,
 *   block, blockchain, tx), and neither are the build tools (esbuild, tsx).
 * - bundler app (the tarball + typescript, esbuild, vite, webpack): `tsc` type-checks a consumer of the public
 *   API for Node (nodenext) and for browsers (bundler resolution, no Node types); esbuild builds a
 *   Web Worker bundle with the `worker` condition (a Node built-in would fail it);
 *   Vite and webpack 5 build an app whose node runs verifiers in a Web Worker: the worker entry is
 *   emitted, no `node:` import and one secp256k1 (docs/architecture.md, "The package").
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { vectorsAvailable, vectorsDir } from '../helpers/vectors.js';
import { Cleanup, growChain, startDevnet } from '../node/helpers.js';

const REPO = resolve(import.meta.dirname, '../..');
const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--legacy-peer-deps'];
/** The same versions as the repository's devDependencies (already in the npm cache). */
const BUNDLER_TOOLS = ['typescript@6.0.3', 'esbuild@0.28.2', 'vite@8.3.8', 'webpack@5.112.2', '@types/node@20.19.43'];
/** The field prime of secp256k1: every copy of a secp256k1 implementation carries it once. */
const SECP256K1_P = 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f';

function copiesOfSecp256k1(text: string): number {
  return text.toLowerCase().split(SECP256K1_P).length - 1;
}

/**
 * The page and the node worker (workers/node-host, whose entry listens for SharedWorker `onconnect`)
 * are separate bundles, each with its own copy of what both use (like the BLS wasm).
 */
function bundleOf(text: string): 'page' | 'node worker' {
  return text.includes('onconnect') ? 'node worker' : 'page';
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): Promise<Run> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

async function runOk(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(cmd, args, cwd, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Every file under `dir` (relative paths). */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

async function newProject(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const pkg = { name: `consumer-${dir.split('/').pop()}`, private: true, type: 'module' };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
}

// ------------------------------------------------------------------------------- consumer sources

const NODE_SCRIPT = `
import { readFileSync } from 'node:fs';
import { AlysLightError, createLightNode } from 'alys-light';
import { createActorSystem } from 'alys-light/actors';
import { computePayloadBlockHash, decodeExecutionPayloadJson, parseChainSpecJson } from 'alys-light/protocol';

const env = process.env;
const vectors = JSON.parse(readFileSync(env.VECTORS + '/eth-capella-blocks.json', 'utf8'));
const blockHashes = vectors.blocks
  .filter((b) => b.beacon_execution_payload)
  .map((b) => ({ name: b.name, ok: computePayloadBlockHash(decodeExecutionPayloadJson(b.beacon_execution_payload)) === b.expected.block_hash }));

const node = createLightNode({
  chainSpec: parseChainSpecJson(readFileSync(env.SPEC_FILE, 'utf8')),
  rpc: [env.RPC],
  evmRpc: [env.EVM],
  mode: 'full',
  storage: 'memory',
  verifierWorkers: 1,
  logLevel: 'silent',
  sync: { start: 'genesis', followIntervalMs: 100 },
  p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] },
});
await node.start();
let status = await node.status();
while (!(status.head && status.head.number >= Number(env.TARGET))) {
  await new Promise((r) => setTimeout(r, 100));
  status = await node.status();
}
const balance = await node.provider.request({ method: 'eth_getBalance', params: [env.ADDRESS, 'latest'] });
const verifiers = status.actors.filter((a) => a.placement === 'worker');
await node.stop();
console.log(JSON.stringify({
  blockHashes,
  head: status.head,
  balance,
  verifiers,
  p2p: status.p2p,
  exports: { AlysLightError: typeof AlysLightError, createActorSystem: typeof createActorSystem },
}));
`;

const TS_CONSUMER = `
import { AlysLightError, createLightNode, ProviderRpcError, type LightNode, type NodeStatus } from 'alys-light';
import { createActorSystem, defineActor } from 'alys-light/actors';
import { computePayloadBlockHash, parseChainSpecJson, type ChainSpec, type Hex } from 'alys-light/protocol';

export function make(spec: ChainSpec): LightNode {
  return createLightNode({ chainSpec: spec, rpc: ['https://rpc.example'], storage: 'memory', verifierWorkers: 2 });
}
export async function head(node: LightNode): Promise<number | undefined> {
  const s: NodeStatus = await node.status();
  node.on('head', (h) => console.log(h.number));
  return s.head?.number;
}
export function explain(e: unknown): string {
  if (e instanceof ProviderRpcError) return \`rpc \${e.code}\`;
  if (e instanceof AlysLightError) return String(e.code satisfies string | number);
  return 'other';
}
export const parse = (text: string): ChainSpec => parseChainSpecJson(text);
export const hashOf: (p: Parameters<typeof computePayloadBlockHash>[0]) => Hex = computePayloadBlockHash;
export const counter = defineActor<{ type: 'inc' }, { inc: number }, void>({
  name: 'counter',
  create: () => {
    let n = 0;
    return { handle: () => ++n };
  },
});
export const system = createActorSystem;
// the types are real, not any:
// @ts-expect-error mode is 'full' | 'pow-checkpoint'
createLightNode({ mode: 'fastest' });
`;

const NODE_ONLY_TS = `
import { createNodePlatform, loadChainSpec } from 'alys-light';
export const p = createNodePlatform;
export const l = loadChainSpec;
`;

const tsconfig = (extra: Record<string, unknown>) =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      verbatimModuleSyntax: true,
      ...extra,
    },
  });

const WORKER_ENTRY = `
import { createLightNode } from 'alys-light';
import { parseChainSpecJson } from 'alys-light/protocol';
self.onmessage = async (e) => {
  const node = createLightNode({ chainSpec: parseChainSpecJson(e.data.spec), rpc: e.data.rpc, storage: 'memory' });
  await node.start();
  node.on('head', (h) => self.postMessage(h.number));
};
`;

const BUILD_WORKER = `
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';
const result = await build({
  entryPoints: ['worker-entry.js'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['worker'],
  outdir: 'out-worker',
  metafile: true,
  minify: true,
  logLevel: 'error',
});
writeFileSync('worker-meta.json', JSON.stringify(result.metafile));
`;

/** webpack 5 through its Node API (no webpack-cli); unminified to keep the suite fast. */
const BUILD_WEBPACK = `
import webpack from 'webpack';
const compiler = webpack({
  mode: 'production',
  context: process.cwd(),
  entry: './main.js',
  target: 'web',
  output: { path: new URL('./out-webpack/', import.meta.url).pathname, clean: true },
  experiments: { topLevelAwait: true },
  optimization: { minimize: false },
  performance: false,
  devtool: false,
});
compiler.run((err, stats) => {
  if (err) throw err;
  for (const e of stats.toJson({ all: false, errors: true }).errors) console.error(e.message);
  compiler.close(() => process.exit(stats.hasErrors() ? 1 : 0));
});
`;

const VITE_INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>consumer</title></head>
<body><pre id="out"></pre><script type="module" src="./main.js"></script></body></html>
`;

const VITE_MAIN = `
import { createLightNode } from 'alys-light';
const node = createLightNode({ network: 'testnet', verifierWorkers: 1 });
node.on('head', (h) => { document.getElementById('out').textContent = String(h.number); });
await node.start();
`;

// ------------------------------------------------------------------------------------------ suite

describe('the npm package in fresh consumer projects', () => {
  let work: string;
  let nodeApp: string;
  let bundlerApp: string;
  let distBytes = 0;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'alys-light-package-'));
    // built and packed once for the package project (test/setup/package-tarball.ts)
    const tarball = inject('packageTarball');
    for (const f of await walk(join(REPO, 'dist/src')))
      if (f.endsWith('.js')) distBytes += (await readFile(join(REPO, 'dist/src', f))).length;
    nodeApp = join(work, 'node-app');
    bundlerApp = join(work, 'bundler-app');
    await newProject(nodeApp, { 'consumer.mjs': NODE_SCRIPT });
    await newProject(bundlerApp, {
      'consumer.ts': TS_CONSUMER,
      'node-only.ts': NODE_ONLY_TS,
      'tsconfig.node.json': tsconfig({
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        // libp2p's declarations name DOM event types (EventInit, AddEventListenerOptions), so does ours (WebAssembly)
        lib: ['ES2023', 'DOM'],
      }),
      'tsconfig.browser.json': tsconfig({
        module: 'ESNext',
        moduleResolution: 'Bundler',
        customConditions: ['browser'],
        types: [],
        lib: ['ES2023', 'DOM', 'DOM.Iterable'],
      }),
      'worker-entry.js': WORKER_ENTRY,
      'build-worker.mjs': BUILD_WORKER,
      'build-webpack.mjs': BUILD_WEBPACK,
      'index.html': VITE_INDEX,
      'main.js': VITE_MAIN,
    });
    await Promise.all([
      runOk('npm', [...NPM_INSTALL, tarball], nodeApp),
      runOk('npm', [...NPM_INSTALL, tarball, ...BUNDLER_TOOLS], bundlerApp),
    ]);
  }, 400_000);
  afterAll(() => work && rm(work, { recursive: true, force: true }));

  it('installs without the devnet packages and the build tools', async () => {
    const installed = await readdir(join(nodeApp, 'node_modules'));
    expect(installed).toContain('alys-light');
    // the EVM of verified eth_call (a dependency, loaded lazily); the devnet's ethereumjs packages are not
    const ethereumjs = await readdir(join(nodeApp, 'node_modules/@ethereumjs'));
    expect(ethereumjs).toEqual(expect.arrayContaining(['evm', 'common', 'util']));
    for (const devnetOnly of ['vm', 'block', 'blockchain', 'tx']) expect(ethereumjs).not.toContain(devnetOnly);
    expect(installed).not.toContain('esbuild');
    expect(installed).not.toContain('tsx');
    const files = await walk(join(nodeApp, 'node_modules/alys-light'));
    expect(files.filter((f) => /^(src|test|bench|web)\//.test(f))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['dist/workers/actor-host.js', 'dist/workers/actor-host.nodejs.js']));
    // every package dist (JS and declarations) imports is one of its dependencies; esbuild (a devDependency) only on the
    // path for `.ts` worker entries, which the package never takes (its entries are built .js)
    const root = join(nodeApp, 'node_modules/alys-light');
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const imported = new Set<string>();
    for (const f of files.filter((x) => /\.(js|d\.ts)$/.test(x) && x.startsWith('dist/'))) {
      const text = await readFile(join(root, f), 'utf8');
      const specs = [
        ...text.matchAll(/^(?:import|export)\b[^\n;]*?\bfrom\s*"([^"]+)"/gm),
        ...text.matchAll(/^import\s*"([^"]+)"/gm),
        ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
      ].map((m) => m[1]!);
      for (const spec of specs) {
        // relative, Node built-ins and the package's own `imports` (#bls-wasm-bytes)
        if (spec.startsWith('.') || spec.startsWith('node:') || spec.startsWith('#')) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(10);
    expect([...imported].filter((p) => !declared.has(p))).toEqual(['esbuild']);
    console.log(`[package] dist/src JS ${(distBytes / 1024).toFixed(0)} KiB`);
  });

  it('the bin runs from dist with plain node', async () => {
    const r = await run(join(nodeApp, 'node_modules/.bin/alys-light'), ['--help'], nodeApp);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: alys-light run/);
  });

  it.skipIf(!vectorsAvailable)(
    'a Node ESM script verifies vector block hashes and syncs a node with a worker_threads verifier and libp2p from the devnet',
    async () => {
      const cleanup = new Cleanup();
      try {
        const devnet = await startDevnet(cleanup, 'package-consumer');
        await growChain(devnet, 6, 3);
        const user = devnet.users[0]!.address;
        const r = await run(
          'node',
          ['consumer.mjs'],
          nodeApp,
          {
            VECTORS: vectorsDir,
            SPEC_FILE: devnet.specFile,
            RPC: devnet.urls.consensus,
            EVM: devnet.urls.evm,
            TARGET: String(devnet.chain.height),
            ADDRESS: user,
          },
          60_000,
        );
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
        expect(out.blockHashes.length).toBeGreaterThanOrEqual(2);
        expect(out.blockHashes.every((b: { ok: boolean }) => b.ok)).toBe(true);
        expect(out.head).toMatchObject({ number: devnet.chain.height, hash: devnet.chain.head.hash });
        const expected = await fetch(devnet.urls.evm, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'eth_getBalance',
            params: [user, `0x${devnet.chain.height.toString(16)}`],
          }),
        }).then((res) => res.json() as Promise<{ result: string }>);
        expect(BigInt(out.balance)).toBe(BigInt(expected.result));
        expect(BigInt(out.balance)).toBeGreaterThan(0n);
        expect(out.verifiers.length).toBeGreaterThan(0);
        for (const v of out.verifiers) expect(v).toMatchObject({ state: 'Running', restarts: 0 });
        expect(out.exports).toEqual({ AlysLightError: 'function', createActorSystem: 'function' });
        // libp2p on Node 20 (no Promise.withResolvers): the package's Node entry brings the polyfill
        expect(out.p2p.addresses.some((a: string) => a.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true);
      } finally {
        await cleanup.run();
      }
    },
  );

  it('tsc type-checks a consumer of the public API for Node and for browsers', async () => {
    const tsc = join(bundlerApp, 'node_modules/.bin/tsc');
    const forNode = await run(tsc, ['--project', 'tsconfig.node.json'], bundlerApp);
    expect(forNode.stdout + forNode.stderr).toBe('');
    expect(forNode.code).toBe(0);
    const forBrowser = await run(tsc, ['--project', 'tsconfig.browser.json'], bundlerApp);
    // the Node-only exports are not in the browser types
    expect(forBrowser.stdout).toMatch(/node-only\.ts.*has no exported member named 'createNodePlatform'/);
    // none in the consumer or in our declarations (libp2p's main-event declarations name node:events: not ours)
    const ours = forBrowser.stdout
      .split('\n')
      .filter((l) => /^(consumer\.ts|node_modules\/alys-light\/).*error TS/.test(l));
    expect(ours).toEqual([]);
  });

  it('esbuild builds a Web Worker bundle (worker condition) without Node built-ins', async () => {
    const r = await run('node', ['build-worker.mjs'], bundlerApp);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const meta = JSON.parse(await readFile(join(bundlerApp, 'worker-meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
      outputs: Record<
        string,
        { entryPoint?: string; inputs: Record<string, unknown>; imports: { path: string; kind: string }[] }
      >;
    };
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((i) => i.includes('node_modules/alys-light/dist/src/index.js'))).toBe(true);
    expect(inputs.filter((i) => /index\.nodejs|platform\/nodejs|classic-level|@libp2p\/tcp/.test(i))).toEqual([]);
    // the EVM (verified eth_call) is only in chunks loaded by dynamic import, never in what the entry loads
    const eager = new Set<string>();
    const visit = (out: string) => {
      if (eager.has(out)) return;
      eager.add(out);
      for (const i of meta.outputs[out]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path);
    };
    visit(Object.keys(meta.outputs).find((o) => meta.outputs[o]!.entryPoint === 'worker-entry.js')!);
    const eagerInputs = [...eager].flatMap((o) => Object.keys(meta.outputs[o]!.inputs));
    expect(eagerInputs.filter((i) => i.includes('@ethereumjs'))).toEqual([]);
    expect(inputs.some((i) => i.includes('@ethereumjs/evm'))).toBe(true);
    const out = await walk(join(bundlerApp, 'out-worker'));
    let bytes = 0;
    for (const f of out) {
      const text = await readFile(join(bundlerApp, 'out-worker', f), 'utf8');
      bytes += text.length;
      expect(text, f).not.toMatch(/["']node:[a-z_/]+["']/);
    }
    console.log(`[package] esbuild worker bundle: ${out.length} files, ${(bytes / 1024).toFixed(0)} KiB`);
  });

  it('webpack 5 builds the same app: the verifier worker emitted, no node: imports, one secp256k1 in all', async () => {
    const r = await run('node', ['build-webpack.mjs'], bundlerApp);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = join(bundlerApp, 'out-webpack');
    const files = await walk(out);
    expect(files).toContain('alys-light-verifier.js');
    // webpack builds the page and its workers in one compilation: the lazily loaded node's chunk, which
    // holds secp256k1, is one file that both the page (placement 'page') and the node worker load
    let secp = 0;
    let bytes = 0;
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      const text = await readFile(join(out, f), 'utf8');
      bytes += text.length;
      expect(text, f).not.toMatch(/["']node:[a-z_/]+["']/);
      secp += copiesOfSecp256k1(text);
    }
    expect(secp).toBe(1);
    console.log(`[package] webpack app (unminified): ${files.length} files, JS ${(bytes / 1024).toFixed(0)} KiB`);
  });

  it('Vite builds an app with the node and its verifier Web Worker: no node: imports, one secp256k1 per bundle', async () => {
    const r = await run(join(bundlerApp, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], bundlerApp);
    expect(r.code, r.stderr).toBe(0);
    const dist = join(bundlerApp, 'dist');
    const files = await walk(dist);
    expect(files.some((f) => /assets\/actor-host-[\w-]+\.js$/.test(f))).toBe(true);
    const secp = { page: 0, 'node worker': 0 };
    let bytes = 0;
    let gzip = 0;
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      const raw = await readFile(join(dist, f));
      const text = raw.toString('utf8');
      bytes += raw.length;
      gzip += gzipSync(raw).length;
      expect(text, f).not.toMatch(/["']node:[a-z_/]+["']/);
      secp[bundleOf(text)] += copiesOfSecp256k1(text);
    }
    expect(secp).toEqual({ page: 1, 'node worker': 1 });
    console.log(
      `[package] Vite app: ${files.length} files, JS ${(bytes / 1024).toFixed(0)} KiB (gzip ${(gzip / 1024).toFixed(0)} KiB)`,
    );
  });
});
