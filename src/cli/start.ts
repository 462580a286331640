/**
 * `npm start`: the whole product on one machine.
 *
 * 1. A local devnet producing Alys blocks on 2 s slots with merged mining (consensus RPC :3000,
 *    EVM RPC :8545, Esplora :3002, control :3003; any free port when those are taken).
 * 2. A light node in this process following it (`alys-light run` with in-memory storage: the devnet
 *    is new on every start), with the progress bar and a Prometheus/status server.
 * 3. The web page (Vite dev server, web/) where the same node runs in the browser: verifiers in
 *    Web Workers, storage in IndexedDB. The page reads `/devnet.json` (served here) for the chain
 *    spec and endpoints; `instance` names this devnet run so the page never resumes from a previous
 *    devnet's IndexedDB data.
 *
 * Flags: `--no-web` skips the page; `--mode full|pow-checkpoint` and the other `run` flags pass through.
 */
import '../platform/nodejs/polyfills.js';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Devnet } from '../devnet/devnet.js';
import { serveControl } from '../devnet/control.js';
import { chainSpecToJson } from '../protocol/chainspec.js';
import { startLocalDevnet } from './local-devnet.js';
import { runCommand } from './run.js';

async function onFreePort<T>(preferred: number, open: (port: number) => Promise<T>): Promise<T> {
  try {
    return await open(preferred);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    return open(0);
  }
}

async function startWeb(devnet: Devnet, instance: string): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('vite');
  const devnetJson = JSON.stringify({
    instance,
    chainSpec: chainSpecToJson(devnet.spec),
    rpc: [devnet.urls.consensus],
    evmRpc: [devnet.urls.evm],
  });
  const server = await createServer({
    configFile: fileURLToPath(new URL('../../vite.config.ts', import.meta.url)),
    logLevel: 'warn',
    server: { port: 5173, host: '127.0.0.1' },
    plugins: [
      {
        name: 'alys-devnet-json',
        configureServer(s) {
          s.middlewares.use('/devnet.json', (_req, res) => {
            res.setHeader('content-type', 'application/json');
            res.setHeader('cache-control', 'no-store');
            res.end(devnetJson);
          });
        },
      },
    ],
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:5173/';
  return { url, close: () => server.close() };
}

const argv = process.argv.slice(2);
const web = !argv.includes('--no-web');
const passThrough = argv.filter((a) => a !== '--no-web');

const devnet = await startLocalDevnet();
const control = await onFreePort(3003, (port) => serveControl(devnet, port));
devnet.start();
const instance = randomBytes(6).toString('hex');
const page = web ? await startWeb(devnet, instance) : null;

console.log(
  [
    'Alys Light on a local devnet',
    `  devnet      consensus ${devnet.urls.consensus}  EVM ${devnet.urls.evm}  control ${control.url}`,
    `  chain spec  ${devnet.specFile}`,
    page
      ? `  dashboard   ${page.url}   (the same light node, in your browser: Web Workers + IndexedDB)`
      : '  dashboard   off (--no-web)',
    `  try         npm run devnet -- send transfer --to ${devnet.users[1]!.address} --value 1000000000000000000 --control ${control.url}`,
    '  Ctrl-C stops everything.',
    '',
  ].join('\n'),
);

const code = await runCommand(
  [
    '--network',
    'devnet',
    '--chain-spec-file',
    devnet.specFile,
    '--rpc',
    devnet.urls.consensus,
    '--evm-rpc',
    devnet.urls.evm,
    '--storage',
    'memory',
    '--metrics-port',
    '0',
    '--sync-follow-interval-ms',
    '500',
    ...passThrough,
  ],
  {
    onStarted: (_node, { statusUrl }) =>
      statusUrl && console.error(`node status ${statusUrl} (metrics: ${statusUrl.replace(/status$/, 'metrics')})`),
  },
);
await page?.close();
await control.close();
await devnet.stop();
process.exitCode = code;
