import { defineConfig } from 'vite';

/** The dashboard / PWA (web/) with its Web Worker entries (workers/). `npm run build` -> dist/web. */
export default defineConfig({
  root: 'web',
  publicDir: '../public',
  build: { outDir: '../dist/web', emptyOutDir: true, target: 'es2022' },
  worker: { format: 'es' },
  server: { fs: { allow: ['..'] } },
});
