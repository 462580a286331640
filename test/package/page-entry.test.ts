/**
 * The page's entry chunk of a minimal consumer (create the node, read a balance through viem), built
 * with Vite from the tarball, holds the node worker's client and not the node: the node runs in the
 * node worker, and the in-page node (`placement: 'page'`) is a chunk loaded by dynamic import
 * (src/node/lazy.ts, docs/architecture.md "The node worker"). A structural check over the modules
 * Rolldown put in each chunk (recorded by a plugin in the consumer's vite.config.js), not a byte count:
 * `npm run bench -- bundle` measures the sizes. The consumer takes a shipped network or a custom chain's
 * spec as JSON text: neither puts alys-light's noble curves on the page, and the node imports noble's
 * bls12-381 and secp256k1 only on first use (lazy chunks).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NPM_INSTALL, runOk, VIEM, VITE, viteBuild, writeProject } from './consumer.js';

interface Chunk {
  fileName: string;
  isEntry: boolean;
  imports: string[];
  dynamicImports: string[];
  modules: string[];
}

/** Records the page's chunks (module ids per chunk) in chunks.json; workers are built without it. */
const VITE_CONFIG = `
import { writeFileSync } from 'node:fs';
export default {
  logLevel: 'warn',
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
  plugins: [{
    name: 'page-chunks',
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).filter((o) => o.type === 'chunk').map((o) => ({
        fileName: o.fileName, isEntry: o.isEntry, imports: o.imports, dynamicImports: o.dynamicImports,
        modules: Object.keys(o.modules),
      }));
      writeFileSync('chunks.json', JSON.stringify(chunks));
    },
  }],
};
`;

const FILES = {
  'index.html': `<!doctype html><html><head><meta charset="utf-8" /></head><body><pre id="out"></pre><script type="module" src="./main.js"></script></body></html>\n`,
  'main.js': `
import { createLightNode, ConfigError, ProviderRpcError } from 'alys-light';
import { createPublicClient, custom } from 'viem';
let node;
try {
  // a shipped network, or a custom chain given as its spec's JSON text (read on the page without the keys'
  // curve checks: the node checks them where it runs)
  const custom = new URLSearchParams(location.search).get('spec');
  node = createLightNode(custom ? { chainSpec: await (await fetch(custom)).text(), rpc: ['http://127.0.0.1:1'], evmRpc: ['http://127.0.0.1:2'], verifierWorkers: 1 } : { network: 'testnet', verifierWorkers: 1 });
} catch (e) {
  if (e instanceof ConfigError) throw e;
}
const client = createPublicClient({ transport: custom(node.provider) });
node.on('head', async () => {
  try {
    document.getElementById('out').textContent = String(await client.getBalance({ address: '0x0000000000000000000000000000000000000001' }));
  } catch (e) {
    if (e instanceof ProviderRpcError) document.getElementById('out').textContent = e.message;
  }
});
await node.start();
`,
  'vite.config.js': VITE_CONFIG,
};

/** The major version of the @noble/curves copy a module id belongs to, or undefined for other modules. */
function nobleCurvesMajor(id: string): number | undefined {
  const dir = /^(.*[\\/]node_modules[\\/]@noble[\\/]curves)[\\/]/.exec(id)?.[1];
  if (!dir) return undefined;
  return Number(
    (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version.split('.')[0],
  );
}

/** alys-light's module path inside the package (`node/node.js`), or undefined for other packages. */
function ours(id: string): string | undefined {
  return /node_modules\/alys-light\/dist\/src\/(.+)$/.exec(id.replaceAll('\\', '/'))?.[1];
}

describe("the page's entry chunk of a minimal consumer built from the tarball", () => {
  let work: string;
  let chunks: Chunk[];
  let eager: Chunk[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'alys-light-page-entry-'));
    const app = join(work, 'app');
    await writeProject(app, FILES);
    await runOk('npm', [...NPM_INSTALL, inject('packageTarball'), VIEM, VITE], app);
    await viteBuild(app);
    chunks = JSON.parse(await readFile(join(app, 'chunks.json'), 'utf8')) as Chunk[];
    // the entry chunk and its static imports: what the page loads before any of its code runs
    const byName = new Map(chunks.map((c) => [c.fileName, c]));
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      for (const i of byName.get(name)?.imports ?? []) visit(i);
    };
    for (const c of chunks) if (c.isEntry) visit(c.fileName);
    eager = [...seen].map((n) => byName.get(n)!);
  }, 300_000);
  afterAll(() => work && rm(work, { recursive: true, force: true }));

  it('holds the node worker client, and none of the node, libp2p or BLS', () => {
    const modules = eager.flatMap((c) => c.modules);
    const mine = modules.map(ours).filter((m): m is string => m !== undefined);
    // the page side of the node worker is there
    expect(mine).toContain('index.js');
    expect(mine).toContain('platform/browser/node-worker/client.js');
    // the node is not: its assembly, actors, engine, sources, sync, storage, network, the protocol's
    // codecs, execution, AuxPoW and BLS, the runtime (only the typed errors the page rebuilds)
    const heavy = mine.filter(
      (m) =>
        !/(^|\/)errors\.js$/.test(m) &&
        /^(node\/(node\.js|workflows\/|actors\/|sources\/|sync\/|network\/|storage\/(?!kv\.js)|engine\/|verify\/)|actors\/(?!timeout)|platform\/browser\/(platform|page-node|p2p|storage-idb|worker)|protocol\/(bls\/|execution\/|auxpow\/|codec\/|p2p\/|bridge\/|anchor|chain-verifier))/.test(
          m,
        ),
    );
    expect(heavy).toEqual([]);
    // nor the packages only the node uses (viem's own noble copy comes with the consumer's createPublicClient)
    const packages = modules.filter((id) =>
      /node_modules\/(@libp2p|libp2p|bls-eth-wasm|@chainsafe|@ethereumjs|@noble\/curves\/(bls12-381|abstract\/bls))/.test(
        id.replaceAll('\\', '/'),
      ),
    );
    expect(packages).toEqual([]);
  });

  it("holds no noble curves of alys-light's own (@noble/curves 2.x): only the consumer's viem copy", () => {
    const modules = eager.flatMap((c) => c.modules);
    // the consumer's viem brings its own @noble/curves 1.x (secp256k1); the custom spec is read without curve checks
    expect(modules.filter((id) => (nobleCurvesMajor(id) ?? 0) >= 2)).toEqual([]);
    expect(modules.map(ours).filter((m) => m === 'protocol/bitcoin/secp256k1-point.js')).toEqual([]);
  });

  it("loads noble's curves lazily in the node too: not in the in-page node's chunk or its static imports", () => {
    // the node worker's build has the same structure (its entry imports the same page-node chunk)
    const byName = new Map(chunks.map((c) => [c.fileName, c]));
    const pageNode = chunks.find((c) => c.modules.some((id) => ours(id) === 'platform/browser/page-node.js'))!;
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      for (const i of byName.get(name)?.imports ?? []) visit(i);
    };
    visit(pageNode.fileName);
    const modules = [...seen].flatMap((n) => byName.get(n)!.modules);
    // BLS is the wasm backend (noble's is imported only if chosen); secp256k1 only for sender recovery and the bridge
    expect(modules.filter((id) => nobleCurvesMajor(id) !== undefined)).toEqual([]);
    const lazyOnly = ['protocol/bls/noble.js', 'protocol/execution/sender.js', 'protocol/bridge/taproot.js'];
    expect(modules.map(ours).filter((m) => m !== undefined && lazyOnly.includes(m))).toEqual([]);
    // and they are there, as chunks of their own
    const all = chunks.flatMap((c) => c.modules).map(ours);
    for (const m of lazyOnly) expect(all).toContain(m);
  });

  it('keeps the in-page node as a chunk loaded by dynamic import', () => {
    const lazy = chunks.filter((c) => !eager.includes(c));
    const pageNode = lazy.filter((c) => c.modules.some((id) => ours(id) === 'platform/browser/page-node.js'));
    expect(pageNode).toHaveLength(1);
    expect(chunks.some((c) => c.dynamicImports.includes(pageNode[0]!.fileName))).toBe(true);
    expect(lazy.flatMap((c) => c.modules).some((id) => ours(id) === 'node/node.js')).toBe(true);
  });
});
