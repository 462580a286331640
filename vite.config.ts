import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/**
 * The wasm BLS backend (bls-eth-wasm, a 600 kB chunk) is imported dynamically, so a page first
 * parses its main chunk and only then asks for it; a head-first cold start waits for it before it
 * can verify the head. A modulepreload link lets the browser fetch and compile it alongside, and a
 * preload link does the same for the `.wasm` file it fetches (see blsWasmAsset).
 */
function preloadBlsChunk(): Plugin {
  let base = '/';
  return {
    name: 'alys-preload-bls-chunk',
    apply: 'build',
    configResolved(config) {
      base = config.base;
    },
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const chunk = Object.values(ctx.bundle ?? {}).find(
          (c) => c.type === 'chunk' && c.isDynamicEntry && c.moduleIds.some((id) => id.includes('/bls-eth-wasm/')),
        );
        // the wasm the chunk fetches (blsWasmAsset), fetched alongside too
        const wasm = Object.values(ctx.bundle ?? {}).find(
          (a) => a.type === 'asset' && /bls_c-.*\.wasm$/.test(a.fileName),
        );
        return [
          ...(chunk ? [{ fileName: chunk.fileName, attrs: { rel: 'modulepreload', crossorigin: '' } }] : []),
          ...(wasm
            ? [{ fileName: wasm.fileName, attrs: { rel: 'preload', as: 'fetch', crossorigin: 'anonymous' } }]
            : []),
        ].map(({ fileName, attrs }) => ({
          tag: 'link',
          attrs: { ...attrs, href: `${base}${fileName}` },
          injectTo: 'head' as const,
        }));
      },
    },
  };
}

/**
 * bls-eth-wasm embeds its wasm as base64 in `src/bls_c.js` (a 623 kB chunk). The page and the
 * verifier worker are separate bundles, so each got its own copy. Here the bytes are written out
 * once as a `.wasm` file and imported with `?url`: both bundles name the same content-hashed asset
 * (emitted once) and keep only the small JS glue, which fetches it. Build only: the dev server keeps
 * the package as it is. A bls-eth-wasm of another shape fails the build (checked for 1.7.0).
 */
export function blsWasmAsset(): Plugin {
  const embedded = /const wasmBase64 = '([A-Za-z0-9+/=]+)'\r?\n\s*const wasmBytes = [^\n]*\n/;
  const instantiate = 'WebAssembly.instantiate(wasmBytes, imports)';
  const cacheDir = fileURLToPath(new URL('./node_modules/.cache/alys-bls-wasm/', import.meta.url));
  /** The glue's wasm written to the cache directory (content-addressed); its path. */
  const writeWasm = (glue: string, id: string): string => {
    const m = embedded.exec(glue);
    if (!m || !glue.includes(instantiate))
      throw new Error(`alys-bls-wasm-asset: ${id} does not have the expected shape (bls-eth-wasm 1.7.0)`);
    const bytes = Buffer.from(m[1]!, 'base64');
    mkdirSync(cacheDir, { recursive: true });
    const file = `${cacheDir}bls_c-${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}.wasm`;
    writeFileSync(file, bytes);
    return file;
  };
  return {
    name: 'alys-bls-wasm-asset',
    apply: 'build',
    transform(code, id) {
      if (!/[\\/]bls-eth-wasm[\\/]src[\\/](bls_c|index)\.js$/.test(id)) return null;
      if (id.endsWith('bls_c.js')) {
        writeWasm(code, id);
        const loaded = 'createModule.loadWasm().then(function (b) { return WebAssembly.instantiate(b, imports) })';
        return { code: code.replace(embedded, '').replace(instantiate, loaded), map: null };
      }
      const glueId = id.replace(/index\.js$/, 'bls_c.js');
      const wasmFile = writeWasm(readFileSync(glueId, 'utf8'), glueId);
      return {
        code: [
          "import createModule from './bls_c.js';",
          "import blsSetupFactory from './bls.js';",
          `import wasmUrl from ${JSON.stringify(`${wasmFile}?url`)};`,
          'createModule.loadWasm = () =>',
          '  fetch(wasmUrl).then((r) => {',
          "    if (!r.ok) throw new Error('bls-eth-wasm: ' + wasmUrl + ': HTTP ' + r.status);",
          '    return r.arrayBuffer();',
          '  });',
          'export default blsSetupFactory(createModule);',
        ].join('\n'),
        map: null,
      };
    },
  };
}

/** The dashboard / PWA (web/) with its Web Worker entries (workers/). `npm run build` -> dist/web. */
export default defineConfig({
  root: 'web',
  publicDir: '../public',
  build: { outDir: '../dist/web', emptyOutDir: true, target: 'es2022' },
  worker: { format: 'es', plugins: () => [blsWasmAsset()] },
  server: { fs: { allow: ['..'] } },
  plugins: [blsWasmAsset(), preloadBlsChunk()],
});
