/**
 * The library build (`npm run build:lib`): ESM + .d.ts + source maps into dist/src and dist/workers,
 * one output file per source module (unbundled), every package import left to the consumer's
 * resolver. Unbundled keeps the relative `new URL('<worker entry>', import.meta.url)` paths valid
 * (the consumer's bundler finds and emits the worker entries) and lets it tree-shake per module.
 * The dashboard build (`npm run build`, vite.config.ts) writes dist/web and is left alone here.
 */
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

export default defineConfig({
  entry: [
    'src/index.ts',
    'src/index.nodejs.ts',
    'src/actors/index.ts',
    'src/protocol/index.ts',
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
  plugins: [workerEntriesToJs()],
});
