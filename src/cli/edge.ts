/**
 * `npm run edge`: the edge Worker (workers/edge) under `wrangler dev --local` against a local devnet.
 *
 * 1. A devnet as `npm start` runs it (consensus RPC :3000, EVM RPC :8545, Esplora :3002; free ports
 *    when those are taken), producing blocks on 2 s slots.
 * 2. `wrangler dev --local` of workers/edge/wrangler.toml on 127.0.0.1:8787 (`--port`; 0 picks a free
 *    one), with the devnet's chain spec as `ALYS_CHAIN_SPEC` (and its endpoints as `ALYS_RPC`,
 *    `ALYS_EVM_RPC`) in an env file, in its own process group.
 * 3. Once the Worker answers, the devnet's head block is sent to `POST /verify/block` and the answer
 *    printed (`edge: self-check ...`), with a curl line to do the same.
 *
 * Ctrl-C (or SIGTERM) stops wrangler's whole process group (wrangler and workerd) and the devnet.
 */
import '../platform/nodejs/polyfills.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chainSpecToJson } from '../protocol/chainspec.js';
import { startLocalDevnet } from './local-devnet.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A dotenv line: the value single-quoted (a chain spec JSON has no single quotes and no newlines). */
function envLine(key: string, value: string): string {
  if (value.includes("'") || value.includes('\n')) throw new Error(`edge: ${key} cannot go in an env file as one line`);
  return `${key}='${value}'`;
}

function startWrangler(port: number, inspectorPort: number, envFile: string, persistTo: string): ChildProcess {
  const args = ['dev', '--local', '-c', 'workers/edge/wrangler.toml', '--ip', '127.0.0.1', '--port', String(port)];
  args.push('--inspector-port', String(inspectorPort), '--env-file', envFile, '--persist-to', persistTo);
  args.push('--show-interactive-dev-session=false', '--log-level', 'warn');
  return spawn(join(root, 'node_modules/.bin/wrangler'), args, {
    cwd: root,
    detached: true, // its own process group: wrangler and workerd are stopped together
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || !groupAlive(child.pid)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // gone meanwhile
  }
}

/** SIGTERM to the group, then wait until every process of it is gone (SIGKILL after 10 s). */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  signalGroup(child, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (groupAlive(child.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  signalGroup(child, 'SIGKILL');
}

async function waitForWorker(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('edge: wrangler dev exited');
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function headBlock(rpc: string): Promise<{ number: string; json: unknown }> {
  for (;;) {
    const res = await fetch(rpc, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'getheadblock', params: [], id: 1 }),
    });
    const { result } = (await res.json()) as { result: { message: { execution_payload: { block_number: string } } } };
    const number = String(result.message.execution_payload.block_number);
    if (number !== '0') return { number, json: result };
    await new Promise((r) => setTimeout(r, 500)); // block 0 is the unsigned genesis: wait for a signed one
  }
}

const { values } = parseArgs({ options: { port: { type: 'string', default: '8787' } } });
const port = values.port === '0' ? await freePort() : Number(values.port);
const devnet = await startLocalDevnet();
devnet.start();
const tmp = mkdtempSync(join(tmpdir(), 'alys-edge-'));
const envFile = join(tmp, 'edge.env');
writeFileSync(
  envFile,
  `${[
    'ALYS_CHAIN=',
    envLine('ALYS_CHAIN_SPEC', JSON.stringify(chainSpecToJson(devnet.spec))),
    envLine('ALYS_RPC', devnet.urls.consensus),
    envLine('ALYS_EVM_RPC', devnet.urls.evm),
  ].join('\n')}\n`,
);
const wrangler = startWrangler(port, await freePort(), envFile, join(tmp, 'state'));

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await stopGroup(wrangler);
  await devnet.stop();
  rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('exit', () => signalGroup(wrangler, 'SIGKILL')); // last resort: never leave workerd behind
wrangler.on('exit', (code) => void shutdown(code ?? 1));

const url = `http://127.0.0.1:${port}`;
await waitForWorker(url, wrangler);
const head = await headBlock(devnet.urls.consensus);
const res = await fetch(`${url}/verify/block`, { method: 'POST', body: JSON.stringify(head.json) });
const answer = (await res.json()) as Record<string, unknown>;
console.log(
  [
    'Alys Light edge Worker on a local devnet',
    `  worker      ${url}   (wrangler dev --local, workers/edge; POST /verify/<kind>, docs/edge.md)`,
    `  devnet      consensus ${devnet.urls.consensus}  EVM ${devnet.urls.evm}`,
    `  chain spec  ${devnet.specFile} (as ALYS_CHAIN_SPEC)`,
    `  try         curl -s -d '{"method":"getheadblock","params":[],"id":1}' ${devnet.urls.consensus} | curl -s --data-binary @- ${url}/verify/block`,
    `  wrangler    pid ${wrangler.pid} (its own process group, with workerd)`,
    '  Ctrl-C stops everything.',
  ].join('\n'),
);
console.log(
  `edge: self-check POST /verify/block (devnet block ${head.number}) -> HTTP ${res.status} ${JSON.stringify(answer)}`,
);
