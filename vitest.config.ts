import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { closePage, evalInPage, openPage } from './test/setup/browser-commands.js';

/** Chromium from Debian's package, or CHROMIUM_PATH. Playwright never downloads its own browser here. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**', 'test/package/**', 'test/workers/**'], // workers: npm run test:workers (workerd)
          setupFiles: ['test/setup/nodejs.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        // npm run test:package: the library build and its tarball in fresh consumer projects (slow: npm installs)
        test: {
          name: 'package',
          environment: 'node',
          include: ['test/package/**/*.test.ts'],
          setupFiles: ['test/setup/nodejs.ts'],
          globalSetup: ['test/setup/package-tarball.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
      {
        // pre-bundled up front: a dependency discovered mid-run makes Vite reload the test page
        optimizeDeps: {
          include: [
            '@noble/curves/bls12-381.js',
            '@noble/curves/secp256k1.js',
            '@noble/curves/utils.js',
            '@noble/hashes/sha2.js',
            '@noble/hashes/sha3.js',
            '@noble/hashes/utils.js',
            '@scure/base',
            'bls-eth-wasm',
            'fast-check',
            'idb-keyval',
            'smol-toml',
            'viem',
            'libp2p',
            '@libp2p/circuit-relay-v2',
            '@libp2p/gossipsub',
            '@libp2p/identify',
            '@libp2p/noise',
            '@libp2p/webrtc',
            '@libp2p/websockets',
            '@libp2p/yamux',
            '@multiformats/multiaddr',
            'snappyjs',
          ],
        },
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 30_000,
          globalSetup: [
            'test/setup/browser-vectors.ts',
            'test/setup/browser-devnet.ts',
            'test/setup/browser-big-chain.ts',
          ],
          browser: {
            commands: { openPage, evalInPage, closePage },
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: chromiumPath, args: chromiumArgs } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
