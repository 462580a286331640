/**
 * `npm run test:workers`: the edge Worker's suites inside workerd (@cloudflare/vitest-pool-workers),
 * with the Worker's own wrangler.toml. Inputs are built in Node by the global setup and provided to
 * the tests (workerd reads no files). Separate from vitest.config.ts: another pool, another runtime.
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
// @ts-expect-error: a plain .mjs build script without types
import { writeBlsWasm } from './workers/edge/build-bls-wasm.mjs';

process.env.WRANGLER_SEND_METRICS = 'false';
// The pool does not run wrangler's [build] command: make the wasm module the Worker imports.
writeBlsWasm();

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: './workers/edge/wrangler.toml' } })],
  test: {
    name: 'workers',
    include: ['test/workers/**/*.test.ts'],
    globalSetup: ['test/workers/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
