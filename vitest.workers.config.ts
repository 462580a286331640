/**
 * `npm run test:workers`: the edge Worker's suites inside workerd (@cloudflare/vitest-pool-workers),
 * with the Worker's own wrangler.toml. Inputs are built in Node by the global setups and provided to
 * the tests (workerd reads no files). Separate from vitest.config.ts: another pool, another runtime.
 *
 * Two projects: `workers` (the stateless routes and the Durable Object store, the shipped `dev` spec)
 * and `workers-node` (the Durable Object light node against a devnet on loopback: its global setup
 * starts the devnet and hands the Worker its spec and URLs as bindings).
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
// @ts-expect-error: a plain .mjs build script without types
import { writeBlsWasm } from './workers/edge/build-bls-wasm.mjs';

process.env.WRANGLER_SEND_METRICS = 'false';
// The pool does not run wrangler's [build] command: make the wasm module the Worker imports.
writeBlsWasm();

const wrangler = { configPath: './workers/edge/wrangler.toml' };

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler })],
        test: {
          name: 'workers',
          include: ['test/workers/*.test.ts'],
          globalSetup: ['test/workers/setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [cloudflareTest(({ inject }) => ({ wrangler, miniflare: { bindings: inject('edgeNode').bindings } }))],
        test: {
          name: 'workers-node',
          include: ['test/workers/node/**/*.test.ts'],
          globalSetup: ['test/workers/node/setup.ts'],
          // one devnet and one honest proxy a test can make fail: the files run one at a time
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
