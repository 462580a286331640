/**
 * The library build (`npm run build:lib`): ESM + .d.ts + source maps into dist/src and dist/workers,
 * one output file per source module (unbundled), every package import left to the consumer's
 * resolver. Unbundled keeps the relative `new URL('<worker entry>', import.meta.url)` paths valid
 * (the consumer's bundler finds and emits the worker entries) and lets it tree-shake per module.
 * The dashboard build (`npm run build`, vite.config.ts) writes dist/web and is left alone here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { defineConfig } from 'tsdown';
import type { Plugin } from 'rolldown';

/**
 * Worker entries are referenced as `.ts` files in the sources (Vite and the Node platform's esbuild
 * step load them from there); in dist they are the built `.js` files next to them.
 */
function workerEntriesToJs(): Plugin {
  return {
    name: 'alys-worker-entries-to-js',
    transform(code, id) {
      if (!/[\\/]src[\\/](platform[\\/]|index\.ts)/.test(id) || !/workers\/(actor|node)-host/.test(code)) return null;
      return { code: code.replace(/(workers\/(?:actor|node)-host(?:\.nodejs)?)\.ts(['"])/g, '$1.js$2'), map: null };
    },
  };
}

/** `import("bls-eth-wasm")` in protocol/bls/wasm.js, and its replacement: the same length, so the source map stays exact. */
const BLS_IMPORT = 'import("bls-eth-wasm")';
const BLS_IMPORT_SHIPPED = 'import("./bls-eth.js")';
const BLS_DIR = 'src/protocol/bls';

/** bls-eth-wasm 1.7.0's glue (src/bls_c.js) as an ES module without its embedded wasm, and the wasm bytes. */
export function splitBlsGlue(glue: string): { module: string; wasm: Uint8Array } {
  const embedded = /\n\s*const wasmBase64 = '([A-Za-z0-9+/=]+)'\r?\n\s*const wasmBytes = [^\n]*\n/;
  const instantiate = 'WebAssembly.instantiate(wasmBytes, imports)';
  const cjsExport = /\nif \(typeof module !== 'undefined'\) module\.exports = createModule\s*$/;
  const m = embedded.exec(glue);
  if (!m || !glue.includes(instantiate) || !cjsExport.test(glue))
    throw new Error('alys-bls-wasm-file: bls-eth-wasm/src/bls_c.js does not have the expected shape (1.7.0)');
  const body = glue
    .replace(embedded, '\n')
    .replace(instantiate, 'instantiateBlsWasm(imports)')
    .replace(cjsExport, '\n');
  const module = [
    '// bls-eth-wasm 1.7.0 (BSD-3-Clause, herumi): src/bls_c.js as an ES module, its embedded wasm shipped as ./bls_c.wasm',
    '// (written by tsdown.config.ts). One file the page and its workers all fetch, instead of a base64 copy per bundle.',
    'import blsSetupFactory from "bls-eth-wasm/src/bls.js";',
    'import { loadBlsWasm } from "#bls-wasm-bytes";',
    '',
    'const nativeInstantiate = WebAssembly.instantiate;',
    '/** Hooked WebAssembly.instantiate around init (a precompiled module, protocol/bls/wasm.js): it answers; else the file. */',
    'function instantiateBlsWasm(imports) {',
    '  if (WebAssembly.instantiate !== nativeInstantiate) return WebAssembly.instantiate(new Uint8Array(0), imports);',
    '  return loadBlsWasm().then((bytes) => WebAssembly.instantiate(bytes, imports));',
    '}',
    body,
    'export default blsSetupFactory(createModule);',
    '',
  ].join('\n');
  return { module, wasm: new Uint8Array(Buffer.from(m[1]!, 'base64')) };
}

/**
 * The BLS wasm as a file of the package (dist/src/protocol/bls/bls_c.wasm) instead of the base64 that
 * bls-eth-wasm embeds in its JS: a consumer's bundler emits it once as an asset for the page and
 * every worker (`new URL('./bls_c.wasm', import.meta.url)`); Node reads it from disk. The bytes are
 * loaded through the package's `#bls-wasm-bytes` import (package.json `imports`: `node` / default).
 */
function blsWasmFile(): Plugin {
  return {
    name: 'alys-bls-wasm-file',
    renderChunk(code, chunk) {
      if (chunk.fileName !== `${BLS_DIR}/wasm.js`) return null;
      if (code.split(BLS_IMPORT).length !== 2) this.error(`${chunk.fileName}: expected one ${BLS_IMPORT}`);
      return { code: code.replace(BLS_IMPORT, BLS_IMPORT_SHIPPED), map: null };
    },
    generateBundle() {
      const require = createRequire(import.meta.url);
      const { module, wasm } = splitBlsGlue(readFileSync(require.resolve('bls-eth-wasm/src/bls_c.js'), 'utf8'));
      const emit = (name: string, source: string | Uint8Array) =>
        this.emitFile({ type: 'asset', fileName: `${BLS_DIR}/${name}`, source });
      emit('bls_c.wasm', wasm);
      emit('bls-eth.js', module);
      emit(
        'bls-wasm-bytes.js',
        [
          '/** The BLS wasm next to this file, fetched: a bundler emits it once, for the page and its workers alike. */',
          'export function loadBlsWasm() {',
          "  return fetch(new URL('./bls_c.wasm', import.meta.url)).then((r) => {",
          "    if (!r.ok) throw new Error('bls-eth-wasm: ' + r.url + ': HTTP ' + r.status);",
          '    return r.arrayBuffer();',
          '  });',
          '}',
          '',
        ].join('\n'),
      );
      emit(
        'bls-wasm-bytes.nodejs.js',
        [
          '/** The BLS wasm next to this file, read from disk (Node). */',
          'import { readFile } from "node:fs/promises";',
          "export const loadBlsWasm = () => readFile(new URL('./bls_c.wasm', import.meta.url));",
          '',
        ].join('\n'),
      );
    },
  };
}

export default defineConfig({
  entry: [
    'src/index.ts',
    'src/index.nodejs.ts',
    'src/actors/index.ts',
    'src/protocol/index.ts',
    'src/viem.ts',
    'src/cli/main.ts',
    'workers/actor-host.ts',
    'workers/actor-host.nodejs.ts',
    'workers/node-host.ts',
  ],
  outDir: 'dist',
  root: '.',
  clean: ['dist/src', 'dist/workers'],
  unbundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  fixedExtension: false,
  sourcemap: true,
  dts: { sourcemap: true },
  tsconfig: 'tsconfig.build.json',
  // every package stays an import: the consumer installs and dedupes them (see docs/architecture.md)
  deps: { neverBundle: [/^[^./]/] },
  plugins: [workerEntriesToJs(), blsWasmFile()],
});
