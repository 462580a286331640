import { defineConfig, type Plugin } from 'vite';

/**
 * The wasm BLS backend (bls-eth-wasm, a 600 kB chunk) is imported dynamically, so a page first
 * parses its main chunk and only then asks for it; a head-first cold start waits for it before it
 * can verify the head. A modulepreload link lets the browser fetch and compile it alongside.
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
        if (!chunk) return [];
        return [
          {
            tag: 'link',
            attrs: { rel: 'modulepreload', crossorigin: '', href: `${base}${chunk.fileName}` },
            injectTo: 'head',
          },
        ];
      },
    },
  };
}

/** The dashboard / PWA (web/) with its Web Worker entries (workers/). `npm run build` -> dist/web. */
export default defineConfig({
  root: 'web',
  publicDir: '../public',
  build: { outDir: '../dist/web', emptyOutDir: true, target: 'es2022' },
  worker: { format: 'es' },
  server: { fs: { allow: ['..'] } },
  plugins: [preloadBlsChunk()],
});
