/**
 * kill -9 of `alys-light run` (issue 13, item 8): the light node runs as a child process on a LevelDB
 * data dir against an in-process devnet, and is killed with SIGKILL at seeded random points while it
 * syncs for the first time, while it follows new blocks, and right after a fork is produced (while it
 * switches to the fork with the verified PoW). After every kill it is restarted on the same data dir:
 *
 * - it never reports an unverified block: every head its /status endpoint reports (polled while it
 *   runs) is the devnet's block at that height or the equivocating sibling the test served there,
 *   and its finalized height never exceeds what the devnet's PoW covers nor goes back;
 * - it never crashes on load: no child exits on its own (only SIGKILL, or 0 on the final SIGTERM),
 *   no actor restarted, /healthz answers 200;
 * - it reaches the devnet head again (number and hash, and the devnet's finalized height).
 *
 * Forks: the node's only consensus endpoint is a switchable forwarder in front of either the honest
 * devnet RPC or the devnet's `equivocation` fault server (validly signed siblings of the honest
 * blocks). The node takes the sibling it sees first; once the forwarder is honest again and the
 * devnet produces a PoW block on the honest branch, the node rolls back and follows it (a fork switch,
 * one atomic truncate + append) - the kill lands in [0, FORK_KILL_MS] after that PoW block.
 *
 * The CLI is bundled once with esbuild (as src/platform/nodejs/worker.ts does for worker entries):
 * loading TypeScript through tsx costs ~1.4 s per start, the bundle ~0.4 s, which keeps 50 restarts
 * within the time budget. KILL9_POINTS (default 50) and KILL9_SEED (default 'kill9') choose the run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import { type FaultyConsensusRpc, serveFaultyConsensusRpc } from '../../src/devnet/faults.js';
import { Seeded } from '../../src/devnet/faults/seeded.js';
import { listenLocal } from '../../src/platform/nodejs/http.js';
import { blockHash } from '../../src/protocol/block.js';
import type { Hex } from '../../src/protocol/types.js';
import { Cleanup, finalizedHeight, growChain, producePow, sleep, startDevnet, tempDir } from './helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const KILL_POINTS = Number(process.env.KILL9_POINTS ?? 50);
const SEED = process.env.KILL9_SEED ?? 'kill9';
const POW_EVERY = 10;
/** Blocks on the devnet before the first start (a first sync replays them all). */
const START_HEIGHT = 40;
/**
 * Kill delays (ms, drawn uniformly): after new blocks, after the fork's PoW block; a first sync is
 * killed in [0, 1.2 x the time a whole first sync took] after the spawn (measured by the first run).
 */
const FOLLOW_KILL_MS = 600;
const FORK_KILL_MS = 400;

type KillKind = 'first-sync' | 'following' | 'fork';

const shared = new Cleanup();
let devnet: Devnet;
let faulty: FaultyConsensusRpc;
let forwarder: Forwarder;
let dir: string;
let cli: string;
const rng = new Seeded(SEED, 'kill9');
/** Hashes of the equivocating siblings the forwarder served, by height (a known fork branch). */
const forkHashes = new Map<number, Set<Hex>>();

/** A consensus RPC endpoint that forwards to the honest devnet RPC or to the equivocating one. */
interface Forwarder {
  url: string;
  target: 'honest' | 'fork';
}

async function startForwarder(): Promise<Forwarder> {
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  const fwd: Forwarder = { url: '', target: 'honest' };
  const server = await listenLocal((req, res) => {
    void (async () => {
      const body = await read(req);
      const upstream = fwd.target === 'honest' ? devnet.urls.consensus : faulty.url;
      const reply = await fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await reply.text();
      res.writeHead(reply.status, { 'content-type': reply.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    })().catch(() => res.destroy());
  });
  shared.add(() => server.close());
  fwd.url = server.url;
  return fwd;
}

/** Bundle src/cli/main.ts into one ESM file next to node_modules (its native packages resolve from there). */
async function bundleCli(): Promise<string> {
  const outDir = join(ROOT, 'node_modules/.cache/alys-light-kill9');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `main-${process.pid}.mjs`);
  shared.add(() => rmSync(out, { force: true }));
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(ROOT, 'src/cli/main.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
    external: ['@chainsafe/blst', 'classic-level'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return out;
}

beforeAll(async () => {
  dir = await tempDir(shared, 'alys-kill9-');
  devnet = await startDevnet(shared, 'kill9', { dataDir: join(dir, 'devnet') });
  await growChain(devnet, START_HEIGHT, POW_EVERY);
  faulty = await serveFaultyConsensusRpc(devnet, { fault: 'equivocation', seed: SEED, port: 0 });
  shared.add(() => faulty.close());
  forwarder = await startForwarder();
  cli = await bundleCli();
}, 60_000);

afterAll(() => shared.run(), 60_000);

// ------------------------------------------------------------------------------------------ one node process

/** A running `alys-light run` child and what the test saw of it. */
interface NodeRun {
  child: ChildProcess;
  stderr: string;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  ended: boolean;
  /** Every distinct head / finalized height its /status reported. */
  heads: Array<{ number: number; hash: Hex }>;
  finalized: number[];
  problems: string[];
  statuses: number;
  restarts: number;
}

function spawnNode(dataDir: string, fresh: boolean): NodeRun {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('ALYS_') && !k.startsWith('VITEST')) env[k] = v;
  const args = [
    'run',
    '--network',
    devnet.specFile,
    '--rpc',
    forwarder.url,
    '--evm-rpc',
    devnet.urls.evm,
    '--storage',
    'level',
    '--data-dir',
    dataDir,
    '--verifier-workers',
    '0',
    '--metrics-port',
    '0',
    '--sync-batch-size',
    '8',
    '--sync-request-timeout-ms',
    '2000',
    '--sync-backoff-initial-ms',
    '50',
    '--sync-backoff-max-ms',
    '300',
    '--sync-follow-interval-ms',
    '50',
    // a fresh data dir replays from genesis (every block through the import path and the store)
    ...(fresh ? ['--sync-start', 'genesis'] : []),
  ];
  const child = spawn(process.execPath, [cli, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const run: NodeRun = {
    child,
    stderr: '',
    exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
    ended: false,
    heads: [],
    finalized: [],
    problems: [],
    statuses: 0,
    restarts: 0,
  };
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d.toString()));
  void run.exited.then(() => (run.ended = true));
  void watch(run);
  return run;
}

/** The block the node reported is the devnet's or a sibling the fork server served at that height. */
function knownBlock(n: number, hash: Hex): boolean {
  return devnet.chain.at(n)?.hash === hash || Boolean(forkHashes.get(n)?.has(hash));
}

/** Poll /status while the process runs; record heads and finalized heights, and what contradicts the devnet. */
async function watch(run: NodeRun): Promise<void> {
  let base: string | undefined;
  while (!run.ended) {
    base ??= /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(run.stderr)?.[1];
    if (!base) {
      await sleep(10);
      continue;
    }
    let s: any;
    try {
      s = await (await fetch(`${base}/status`)).json();
    } catch {
      continue; // killed mid-request
    }
    run.statuses++;
    const head = s.head as { number: number; hash: Hex } | null;
    if (head && run.heads.at(-1)?.hash !== head.hash) {
      run.heads.push({ number: head.number, hash: head.hash });
      if (!knownBlock(head.number, head.hash)) run.problems.push(`head ${head.number} ${head.hash} is no known block`);
    }
    if (run.finalized.at(-1) !== s.finalized) {
      const last = run.finalized.at(-1) ?? -1;
      if (s.finalized < last) run.problems.push(`finalized went back from ${last} to ${s.finalized}`);
      if (s.finalized > finalizedHeight(devnet))
        run.problems.push(`finalized ${s.finalized} is above the devnet's ${finalizedHeight(devnet)}`);
      if (head && s.finalized > head.number) run.problems.push(`finalized ${s.finalized} above head ${head.number}`);
      run.finalized.push(s.finalized);
    }
    run.restarts = Math.max(run.restarts, ...(s.actors as Array<{ restarts: number }>).map((a) => a.restarts));
    await sleep(20);
  }
}

/** Until the run's /status names the devnet's head (number, hash) and finalized height. */
async function reachHead(run: NodeRun, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tip = devnet.chain.head;
    const last = run.heads.at(-1);
    if (last?.hash === tip.hash && run.finalized.at(-1) === finalizedHeight(devnet)) return;
    if (run.ended) throw new Error(`${what}: the node exited (${JSON.stringify(await run.exited)})\n${run.stderr}`);
    if (Date.now() > deadline)
      throw new Error(
        `${what}: the node did not reach head ${tip.number} (${tip.hash}) / finalized ${finalizedHeight(devnet)}: last head ${JSON.stringify(last)}, finalized ${run.finalized.at(-1)}\n${run.stderr}`,
      );
    await sleep(20);
  }
}

async function kill9(run: NodeRun): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  run.child.kill('SIGKILL');
  return run.exited;
}

// ------------------------------------------------------------------------------------------ what a kill point does

/** The equivocating sibling of the next block, then the honest branch with a PoW block: the node switches to it. */
async function produceFork(run: NodeRun): Promise<void> {
  forwarder.target = 'fork';
  await devnet.produceNext();
  const n = devnet.chain.height;
  const sibling = faulty.blockAt(n);
  if (!sibling) throw new Error(`the fault server has no sibling at ${n}`);
  const hash = blockHash(sibling.message);
  forkHashes.set(n, new Set([...(forkHashes.get(n) ?? []), hash]));
  // the node follows the sibling it sees first (bounded wait: if it does not, the PoW block still decides)
  const deadline = Date.now() + 3_000;
  while (run.heads.at(-1)?.hash !== hash && Date.now() < deadline && !run.ended) await sleep(20);
  forwarder.target = 'honest';
  // the honest branch grows past the sibling; its PoW block decides
  if ((devnet.chain.height + 1) % POW_EVERY !== 0 && rng.int(n, 'extra-block', 2) === 0) await devnet.produceNext();
  await producePow(devnet);
}

/** One to three new blocks (a PoW block where the height is a multiple of POW_EVERY). */
async function produceBlocks(i: number): Promise<void> {
  await growChain(devnet, 1 + rng.int(i, 'blocks', 3), POW_EVERY);
}

/** KILL_POINTS kinds in a seeded order: about 30% first sync, 40% following, 30% fork switches. */
function schedule(): KillKind[] {
  const kinds: KillKind[] = Array.from({ length: KILL_POINTS }, (_, i) =>
    i < KILL_POINTS * 0.3 ? 'first-sync' : i < KILL_POINTS * 0.7 ? 'following' : 'fork',
  );
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = rng.int(i, 'shuffle', i + 1);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds;
}

/** What a run must never show: problems in its reports, an exit other than our SIGKILL, an actor restart. */
function runProblems(run: NodeRun, exit: { code: number | null; signal: NodeJS.Signals | null }, label: string) {
  const out = run.problems.map((p) => `${label}: ${p}`);
  if (exit.signal !== 'SIGKILL') out.push(`${label}: exited on its own (${JSON.stringify(exit)})\n${run.stderr}`);
  if (run.restarts > 0) out.push(`${label}: an actor restarted ${run.restarts} times\n${run.stderr}`);
  return out;
}

it(`survives ${KILL_POINTS} kill -9 points while syncing, following and switching forks`, async () => {
  const kinds = schedule();
  const problems: string[] = [];
  const counts = { 'first-sync': 0, following: 0, fork: 0, switches: 0, killedStarting: 0, killedBehindHead: 0 };
  // a first sync without kills: how long one takes from the spawn (the range first-sync kills are drawn from)
  let dirs = 0;
  let dataDir = join(dir, `node-${dirs++}`);
  await mkdir(dataDir);
  const spawned = Date.now();
  const first = spawnNode(dataDir, true);
  await reachHead(first, 'the first sync');
  const firstSyncMs = Date.now() - spawned;
  first.child.kill('SIGTERM');
  expect(await first.exited).toEqual({ code: 0, signal: null });
  expect(first.problems).toEqual([]);
  let synced = true; // dataDir reached the head once (a kill on it is no longer in the first sync)
  for (const [i, kind] of kinds.entries()) {
    let fresh = false;
    if (kind === 'first-sync' && synced) {
      dataDir = join(dir, `node-${dirs++}`);
      await mkdir(dataDir);
      synced = false;
      fresh = true;
    }
    const label = `kill point ${i} (${kind}${fresh ? ', fresh data dir' : ''})`;
    const run = spawnNode(dataDir, fresh);
    if (kind === 'first-sync') {
      await sleep(rng.unit(i, 'delay') * 1.2 * firstSyncMs);
    } else {
      // a restart after a kill: it loads and reaches the head again before the next kill
      await reachHead(run, `${label}: restart`);
      synced = true;
      if (kind === 'fork') await produceFork(run);
      else await produceBlocks(i);
      await sleep(rng.unit(i, 'delay') * (kind === 'fork' ? FORK_KILL_MS : FOLLOW_KILL_MS));
    }
    counts[kind]++;
    // killed before its status endpoint was up (loading the store), or while behind the devnet head
    if (run.statuses === 0) counts.killedStarting++;
    else if ((run.heads.at(-1)?.number ?? -1) < devnet.chain.height) counts.killedBehindHead++;
    counts.switches += (run.stderr.match(/fork switched/g) ?? []).length;
    problems.push(...runProblems(run, await kill9(run), label));
  }
  // the last restart: loads, reaches the head, stops cleanly
  const run = spawnNode(dataDir, false);
  await reachHead(run, 'the last restart');
  run.child.kill('SIGTERM');
  const exit = await run.exited;
  problems.push(...run.problems);
  if (exit.code !== 0) problems.push(`the last restart exited ${JSON.stringify(exit)}\n${run.stderr}`);
  if (run.restarts > 0) problems.push(`the last restart: an actor restarted ${run.restarts} times`);
  console.log(
    `kill9 (${SEED}): ${JSON.stringify(counts)}, first sync ${firstSyncMs} ms, devnet head ${devnet.chain.height}, ${dirs} data dirs`,
  );
  expect(problems).toEqual([]);
  expect(counts.following + counts.fork + counts['first-sync']).toBe(KILL_POINTS);
}, 600_000);
