/**
 * `npm run bench -- edge`: CPU time per request of the edge Worker's verified routes in workerd
 * (Miniflare), against the same routes with verification skipped, same run (ratio).
 *
 * How CPU time is measured: the bench Worker (fixtures/edge-bench-worker.ts, built by `wrangler deploy
 * --dry-run` as the real one is) reads performance.now() around the route inside the isolate. Deployed
 * workerd freezes the clock between I/O (Spectre mitigation); local workerd advances it (checked: a
 * busy loop measures its own length). The /verify requests do no I/O, so this is the handler's CPU time, plus
 * whatever time the OS gave another process (this machine is shared). workerd's clock has 1 ms
 * resolution here, so the value is the mean of RUNS requests (the median is reported beside it). The
 * verified and the skipped requests alternate (load drift on this shared machine hits both alike).
 * The first request of each route is reported apart: the first run of its code in the isolate (the BLS
 * instantiation and the authority keys are done at startup, workers/edge/config.ts).
 *
 * - edge.verify-block: `POST /verify/block`, a devnet block (3 authorities, 2+ signers) vs `/skip/block`;
 * - edge.verify-bundle: `POST /verify/bundle`, a balance bundle at latest vs `/skip/bundle`;
 *   both also report `perRequestKeys`: the same verification with the spec's authority keys prepared for
 *   each request (`/per-request-keys/...`, as before they were kept per isolate), interleaved likewise;
 * - edge.rpc-balance: `POST /rpc` `eth_getBalance` (a devnet user, latest) through the Durable Object light
 *   node (fixtures/edge-bench-node.ts: the deployed class with bench-only timing) following a devnet on
 *   loopback, vs `/skip/rpc` in the same object: the same JSON-RPC layer, eth_getBalance forwarded to the
 *   EVM RPC unverified (the node's endpoint transport), nothing proved;
 * - edge.bundle-size: the balance bundle's JSON bytes;
 * - edge.profile.<part>: ms per run of each part of a balance bundle's verification inside the isolate
 *   (fixtures/edge-bench-profile.ts: each part PROFILE_RUNS times in a row, divided).
 *
 * The `/rpc` requests do I/O (eth_getProof, or the forwarded eth_getBalance, to the devnet's EVM RPC in
 * this process). Their CPU time is the handler's wall time minus the time with a fetch outstanding:
 * the object's module wraps `globalThis.fetch` (which the node's EVM transport calls) to sum that time,
 * the response body's read included. One request at a time, after the object reached the devnet's head
 * and was made quiet (no alarm from then on; the node's own head polling every hour): each answer says
 * how many fetches it made and whether any other was outstanding (`busy`, must be 0); `ioMedian` is the
 * median fetch wait of both routes' requests.
 * Goal (issue 15): <= 10 ms CPU per verified request (the Free plan's limit).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';
import { chainSpecToJson } from '../src/protocol/chainspec.js';
import { buildBundleCases } from '../test/helpers/bundles.js';
import { Cleanup, growChain, startDevnet } from '../test/node/helpers.js';
// @ts-expect-error: a plain .mjs build script without types
import { writeBlsWasm } from '../workers/edge/build-bls-wasm.mjs';
import { median, report } from './report.js';

const RUNS = Number(process.env.EDGE_BENCH_RUNS ?? 40);
const PROFILE_RUNS = Number(process.env.EDGE_BENCH_PROFILE_RUNS ?? 50);
/** The object's sync settings: head-first, then no head polling (an hour) so nothing runs beside a request. */
const NODE_OPTIONS = {
  mode: 'pow-checkpoint',
  sync: {
    start: 'head',
    history: 16,
    requestTimeoutMs: 5_000,
    retries: 2,
    backoffInitialMs: 50,
    backoffMaxMs: 500,
    followIntervalMs: 3_600_000,
  },
};
const ROOT = new URL('../', import.meta.url).pathname;

async function buildWorker(outdir: string): Promise<void> {
  writeBlsWasm();
  await promisify(execFile)(
    join(ROOT, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', outdir, '-c', 'bench/fixtures/edge-bench.wrangler.toml'],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
}

async function post(mf: Miniflare, path: string, body: string): Promise<{ text: string; headers: Headers }> {
  const res = await mf.dispatchFetch(`http://edge.bench${path}`, { method: 'POST', body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return { text, headers: res.headers as unknown as Headers };
}

/** One request's handler ms; `check` sees the answer (and its headers). */
type Check = (text: string, headers: Headers) => void;
async function handlerMs(mf: Miniflare, path: string, body: string, check?: Check): Promise<number> {
  const { text, headers } = await post(mf, path, body);
  check?.(text, headers);
  return Number(headers.get('x-handler-ms'));
}

interface Timing {
  first: number;
  median: number;
  mean: number;
  max: number;
}

function timing(first: number, runs: number[]): Timing {
  return { first, median: median(runs), mean: runs.reduce((a, b) => a + b, 0) / runs.length, max: Math.max(...runs) };
}

/** The first request of each path, then RUNS rounds of one request per path in turn (load drift hits all alike). */
async function measure(mf: Miniflare, paths: readonly string[], body: string, check?: Check): Promise<Timing[]> {
  const firsts: number[] = [];
  for (const path of paths) firsts.push(await handlerMs(mf, path, body, check));
  const runs: number[][] = paths.map(() => []);
  for (let i = 0; i < RUNS; i++)
    for (const [j, path] of paths.entries()) runs[j]!.push(await handlerMs(mf, path, body, check));
  return paths.map((_, j) => timing(firsts[j]!, runs[j]!));
}

async function nodeStatus(mf: Miniflare): Promise<{ head?: { number: number } }> {
  const res = await mf.dispatchFetch('http://edge.bench/node/status');
  const text = await res.text();
  return res.status === 200 ? JSON.parse(text) : {};
}

/** Wait until the object's verified head is `height`, then make it quiet and wait until its I/O stops. */
async function syncedAndQuiet(mf: Miniflare, height: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await nodeStatus(mf)).head?.number !== height) {
    if (Date.now() > deadline) throw new Error(`the object did not reach the devnet head ${height}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  let last = -1;
  for (;;) {
    const q = JSON.parse((await post(mf, '/node/bench/quiet', '')).text) as { fetches: number; outstanding: number };
    if (q.outstanding === 0 && q.fetches === last) return;
    if (Date.now() > deadline) throw new Error('the object kept fetching after it reached the head');
    last = q.fetches;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** The answer is `expected` (a JSON-RPC result), made with `fetches` fetches and nothing else outstanding. */
function rpcCheck(expected: string, fetches: number, ioMs: number[]): Check {
  return (text, headers) => {
    ioMs.push(Number(headers.get('x-io-ms')));
    const answer = JSON.parse(text) as { result?: string; error?: unknown };
    if (answer.result !== expected) throw new Error(`/rpc answered ${text.slice(0, 300)}, expected ${expected}`);
    if (headers.get('x-busy') !== '0') throw new Error('another fetch was outstanding during the request');
    if (Number(headers.get('x-fetches')) !== fetches)
      throw new Error(`the request made ${headers.get('x-fetches')} fetches, expected ${fetches}`);
  };
}

const MEASURED = 'performance.now() around the route inside local workerd (Miniflare); no I/O in the handler';

function reportRoute(name: string, verified: Timing, skipped: Timing, extra = {}) {
  report({
    name,
    unit: 'ms',
    value: verified.mean,
    baseline: skipped.mean,
    median: verified.median,
    baselineMedian: skipped.median,
    better: 'lower',
    target: '<= 10 ms CPU per verified request',
    runs: RUNS,
    max: verified.max,
    first: verified.first,
    baselineFirst: skipped.first,
    measured: MEASURED,
    ...extra,
  });
}

async function statelessRoutes(mf: Miniflare, balance: string): Promise<void> {
  const block = JSON.stringify(JSON.parse(balance).block);
  for (const [name, kind, input] of [
    ['edge.verify-block', 'block', block],
    ['edge.verify-bundle', 'bundle', balance],
  ] as const) {
    const [skipped, verified, perRequestKeys] = await measure(
      mf,
      [`/skip/${kind}`, `/verify/${kind}`, `/per-request-keys/${kind}`],
      input,
    );
    reportRoute(name, verified!, skipped!, {
      perRequestKeysMean: perRequestKeys!.mean,
      perRequestKeysMedian: perRequestKeys!.median,
    });
  }
}

async function rpcBalance(mf: Miniflare, address: string, balance: bigint, height: number): Promise<void> {
  await syncedAndQuiet(mf, height);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [address, 'latest'] });
  const expected = `0x${balance.toString(16)}`;
  const ioMs: number[] = [];
  const [skipped, verified] = await measure(mf, ['/node/skip/rpc', '/node/rpc'], body, rpcCheck(expected, 1, ioMs));
  reportRoute('edge.rpc-balance', verified!, skipped!, {
    ioMedian: median(ioMs),
    measured:
      'handler wall time minus time with a fetch outstanding (globalThis.fetch wrapped), inside the Durable Object in local workerd; one fetch per request (eth_getProof / eth_getBalance), none other outstanding',
  });
}

async function profile(mf: Miniflare, balance: string): Promise<void> {
  const parts = JSON.parse((await post(mf, `/profile/bundle?n=${PROFILE_RUNS}`, balance)).text) as Record<
    string,
    number
  >;
  for (const [part, ms] of Object.entries(parts))
    report({ name: `edge.profile.${part}`, unit: 'ms', value: ms, runs: PROFILE_RUNS });
}

/** The devnet EVM's own answer (what the object's answers must equal). */
async function evmBalance(url: string, address: string): Promise<bigint> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [address, 'latest'] });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return BigInt(((await res.json()) as { result: string }).result);
}

export async function run(): Promise<void> {
  const cases = await buildBundleCases();
  const balance = cases.valid[0]!.text;
  const cleanup = new Cleanup();
  const outdir = mkdtempSync(join(tmpdir(), 'alys-edge-bench-'));
  cleanup.add(() => rmSync(outdir, { recursive: true, force: true }));
  try {
    // the bundles' devnet again (same seed, same spec), kept running for the object to follow
    const devnet = await startDevnet(cleanup, 'bundles');
    if (JSON.stringify(chainSpecToJson(devnet.spec)) !== JSON.stringify(cases.specJson))
      throw new Error("the object's devnet has another spec than the bundles'");
    await growChain(devnet, 12, 5);
    const user = devnet.users[0]!.address;
    const userBalance = await evmBalance(devnet.urls.evm, user);
    await buildWorker(outdir);
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(outdir, 'edge-bench-worker.js'),
      modulesRoot: outdir,
      modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
      compatibilityDate: '2026-04-26',
      durableObjects: { ALYS_NODE: { className: 'BenchLightNode', useSQLite: true } },
      bindings: {
        ALYS_CHAIN_SPEC: JSON.stringify(cases.specJson),
        ALYS_BLS: 'wasm',
        ALYS_RPC: devnet.urls.consensus,
        ALYS_EVM_RPC: devnet.urls.evm,
        ALYS_NODE_OPTIONS: JSON.stringify(NODE_OPTIONS),
        ALYS_ALARM_STEP_MS: '10000',
      },
    });
    cleanup.add(() => mf.dispose());
    await statelessRoutes(mf, balance);
    await rpcBalance(mf, user, userBalance, devnet.chain.height);
    await profile(mf, balance);
    report({ name: 'edge.bundle-size', unit: 'bytes', value: new TextEncoder().encode(balance).length });
  } finally {
    await cleanup.run();
  }
}
