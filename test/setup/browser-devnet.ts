/**
 * Global setup of the browser project: a real devnet in this (Node) process, for the light node
 * running in Chromium (test/browser/node.test.ts). Its consensus and EVM RPC answer CORS, so the
 * test page (another origin) syncs from them over real HTTP.
 *
 * The devnet runs on its virtual clock: 40 blocks, every 10th carrying a merged-mined PoW over the
 * blocks before it (blocks 10, 20, 30, 40), so the head is a PoW block and everything below it is
 * finalized. Browser tests get the URLs, the chain spec
 * JSON (as `chainSpecToJson` writes it) and the head/finalized they must reach through
 * `inject('devnet')`.
 *
 * A tiny control server (CORS, 127.0.0.1) lets the browser grow the chain while a node follows it:
 *   GET  /info                      -> { head: { number, hash }, finalized }
 *   POST /produce {"blocks":n,"pow":bool} -> n more blocks (and, with pow, a PoW mined into one more)
 *   GET  /devnet.json               -> { chainSpec, rpc, evmRpc }: what `npm start` serves the page
 *
 * The devnet's federation is also a libp2p peer (TCP, gossiping each block as Alys does), and
 * `alys-light relay` (a child process) follows it by RPC and by that peer, so browsers behind the
 * relay receive the gossip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TestProject } from 'vitest/node';
import '../../src/platform/nodejs/polyfills.js';
import { createDevnet, type Devnet } from '../../src/devnet/devnet.js';
import { startDevnetPeer } from '../../src/devnet/p2p.js';
import { listenLocal } from '../../src/platform/nodejs/http.js';
import { chainSpecToJson } from '../../src/protocol/chainspec.js';

export interface BrowserDevnetInfo {
  head: { number: number; hash: string };
  finalized: number;
}

export interface BrowserDevnet extends BrowserDevnetInfo {
  consensus: string;
  evm: string;
  esplora: string;
  /** The control server (see the file header). */
  control: string;
  /** The chain spec as the devnet writes it (chainSpecToJson): parse with parseChainSpec. */
  chainSpec: Record<string, unknown>;
  /** `alys-light relay` following the devnet (a child process): its WebSocket multiaddr. */
  relay: string;
  /** The dashboard (web/) on its own Vite dev server, as `npm start` serves it: a page of its own. */
  dashboard: string;
}

/** The dashboard's own Vite dev server (the Vitest browser server cannot serve an app page). */
async function startDashboard(): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('vite');
  const server = await createServer({
    configFile: 'vite.config.ts',
    logLevel: 'warn',
    server: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the dashboard server has no URL');
  return { url, close: () => server.close() };
}

/**
 * `alys-light relay` as a child process (a libp2p node inside the Vitest process keeps it from
 * exiting): it follows the devnet over RPC, relays browsers and serves the blocks it verified.
 */
async function startRelay(devnet: Devnet, peer: string): Promise<{ address: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'relay',
      '--chain-spec-file',
      devnet.specFile,
      '--rpc',
      devnet.urls.consensus,
      '--evm-rpc',
      devnet.urls.evm,
      '--storage',
      'memory',
      '--p2p-listen',
      '/ip4/127.0.0.1/tcp/0/ws',
      '--p2p-bootstrap',
      peer,
      '--sync-follow-interval-ms',
      '100',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`alys-light relay did not start in 30 s:\n${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString('utf8');
      const m = /p2p \S+ \(relay\): (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`alys-light relay exited with ${code}:\n${err}`)));
  });
  return {
    address,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The devnet of test/setup/browser-devnet.ts, as it was when the tests started. */
    devnet: BrowserDevnet;
  }
}

const ROUNDS = 4;
const POW_EVERY = 10;

function info(devnet: Devnet): BrowserDevnetInfo {
  return {
    head: { number: devnet.chain.height, hash: devnet.chain.head.hash },
    finalized: devnet.chain.lastFinalized.number,
  };
}

/** `blocks` blocks; with `pow`, then a merged-mining round over them and one more block that carries the PoW. */
async function produce(devnet: Devnet, blocks: number, pow: boolean): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    const r = await devnet.produceNext();
    if (!('block' in r)) throw new Error(`the devnet did not produce a block: ${JSON.stringify(r)}`);
  }
  if (pow) {
    if ((await devnet.mineAuxPow()) !== 'submitted') throw new Error('the devnet had no merged-mining work');
    await devnet.produceNext();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const devnet = await createDevnet({ consensusPort: 0, evmPort: 0, esploraPort: 0, seed: 'browser' });
  for (let i = 0; i < ROUNDS; i++) await produce(devnet, POW_EVERY - 1, true);

  // one request at a time: production is sequential on the devnet's virtual clock
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f, f);
    queue = next.catch(() => {});
    return next;
  };
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type',
    };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let status = 200;
    let out: unknown;
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/info') out = info(devnet);
      else if (path === '/devnet.json')
        out = { chainSpec: chainSpecToJson(devnet.spec), rpc: [devnet.urls.consensus], evmRpc: [devnet.urls.evm] };
      else if (path === '/produce' && req.method === 'POST') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { blocks?: unknown; pow?: unknown };
        const blocks = Number(body.blocks ?? 1);
        if (!Number.isInteger(blocks) || blocks < 0 || blocks > 200)
          throw new RangeError('blocks must be an integer in 0..200');
        out = await serial(async () => {
          await produce(devnet, blocks, body.pow === true);
          return info(devnet);
        });
      } else {
        status = 404;
        out = { error: `unknown ${req.method} ${path}` };
      }
    } catch (e) {
      status = 500;
      out = { error: (e as Error).message };
    }
    res.writeHead(status, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify(out));
  }
  const control = await listenLocal((req, res) => void answer(req, res));

  const peer = await startDevnetPeer(devnet);
  const relay = await startRelay(devnet, peer.addresses.find((a) => !a.includes('/ws'))!);
  const dashboard = await startDashboard();
  project.provide('devnet', {
    relay: relay.address,
    dashboard: dashboard.url,
    consensus: devnet.urls.consensus,
    evm: devnet.urls.evm,
    esplora: devnet.urls.esplora,
    control: control.url,
    chainSpec: chainSpecToJson(devnet.spec),
    ...info(devnet),
  });

  return async () => {
    await relay.stop();
    await peer.stop();
    await dashboard.close();
    await control.close();
    await devnet.stop();
  };
}
