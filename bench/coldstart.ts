/**
 * Head-first cold start benchmark (issue 12, docs/trust.md) on the 20,000-block persisted devnet
 * (test/helpers/big-chain.ts), served frozen from loopback behind a counting proxy
 * (bench/counting-proxy.ts: blocks downloaded are counted at the source).
 *
 * - Node, LevelDB in a temp dir, `sync.start: 'head'`, `sync.history: 'all'`: from `start()` to the
 *   first `head` event (the verified head) and to the first `finalized` event, with the blocks
 *   downloaded by then; baseline = the same node's warm start (a new node on the same data dir,
 *   `start()` to its first `head`). Cold and warm runs are interleaved; medians.
 * - Backfill: blocks/s from the first `backfill` event to the one with done=true, against the same
 *   run's unverified download of the same heights with the same concurrency (`sync.parallelism`
 *   ranges of `sync.batchSize`, 16 getblockbyheight in flight per range, newest first; the text is
 *   discarded), measured before and after the node's backfill (baseline = their mean).
 * - Chromium: the dashboard's production build (`vite build`, `vite preview`), each run in a fresh
 *   browser context (empty IndexedDB): the page's own performance.now() (navigation start = 0) at
 *   the node's first `head` and `finalized` events, read by playwright.
 *
 *   npm run bench -- coldstart     COLDSTART_BENCH_DIR (default: bigChainDir(), generated once per machine),
 *                                  COLDSTART_BENCH_RUNS (default 5; 0 skips the Node part),
 *                                  COLDSTART_BENCH_BROWSER_RUNS (default 3; 0 skips the Chromium part),
 *                                  COLDSTART_BENCH_PROFILE=<dir> (writes each page's CPU profile there)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance as perf, type EventLoopUtilization } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Browser, Page } from 'playwright';
import type { PreviewServer } from 'vite';
import { createLightNode, type LightNode, type NodeEvents } from '../src/index.nodejs.js';
import { createConsensusRpcSource } from '../src/node/sources/consensus-rpc.js';
import { rpcBlockSource, type RawBlock } from '../src/node/sources/source.js';
import { decodeRawBlock } from '../src/node/verify/verify-response.js';
import { signingRoot } from '../src/protocol/block.js';
import { nextRange } from '../src/node/workflows/backfill.js';
import { bundleWorkerEntry } from '../src/platform/nodejs/worker.js';
import { chainSpecToJson, parseChainSpecJson } from '../src/protocol/chainspec.js';
import type { ChainSpec } from '../src/protocol/types.js';
import { bigChainDir } from '../test/helpers/big-chain.js';
import type { ChainServerReady, ChainServerRequest } from './fixtures/chain-server.nodejs-worker.js';
import { median, report } from './report.js';

/** Requests in flight per range: what the node's RPC block source uses (`requestsPerRange` default). */
const PER_RANGE = 16;

/** The chain served from its own thread (bench/fixtures/chain-server.nodejs-worker.ts) behind the counting proxy. */
interface Bench {
  spec: ChainSpec;
  /** The consensus RPC through the counting proxy, and the EVM RPC. */
  urls: { proxy: string; evm: string };
  /** Blocks asked for since the last reset, now (getheadblock + getblockbyheight + getblockbyhash). */
  blocks(): number;
  /** Blocks asked for since the last reset, up to the wall-clock time `epochMs`. */
  blocksBefore(epochMs: number): Promise<number>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

async function startChainServer(dir: string): Promise<Bench> {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const entry = await bundleWorkerEntry(new URL('./fixtures/chain-server.nodejs-worker.ts', import.meta.url));
  const worker = new Worker(entry, { execArgv: [], workerData: { dir, counter } });
  const pending = new Map<number, (v: number) => void>();
  let id = 0;
  const ready = new Promise<ChainServerReady>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: ChainServerReady | { id: number; value: number }) => {
      if ('type' in m) return resolve(m);
      pending.get(m.id)?.(m.value);
      pending.delete(m.id);
    });
  });
  const ask = (m: ChainServerRequest) =>
    new Promise<number>((resolve) => {
      pending.set(++id, resolve);
      worker.postMessage({ ...m, id });
    });
  const { urls } = await ready;
  return {
    spec: parseChainSpecJson(readFileSync(join(dir, 'chain-spec.json'), 'utf8')),
    urls: { proxy: urls.proxy, evm: urls.evm },
    blocks: () => Atomics.load(counter, 0),
    blocksBefore: (epochMs) => ask({ type: 'blocks-before', epochMs }),
    reset: async () => void (await ask({ type: 'reset' })),
    close: async () => {
      await ask({ type: 'close' });
      await worker.terminate();
    },
  };
}

function newNode(b: Bench, dataDir: string): LightNode {
  return createLightNode({
    chainSpec: b.spec,
    rpc: [b.urls.proxy],
    evmRpc: [b.urls.evm],
    storage: 'level',
    dataDir,
    logLevel: 'silent',
    sync: { start: 'head', history: 'all' },
  });
}

function firstEvent<E extends 'head' | 'finalized'>(node: LightNode, name: E, t0: () => number) {
  return new Promise<{ ms: number; data: NodeEvents[E] }>((resolve) => {
    const off = node.on(name, (data) => {
      off();
      resolve({ ms: performance.now() - t0(), data });
    });
  });
}

interface Throughput {
  blocks: number;
  ms: number;
  /** Main-thread event loop busy time per block (ms): where the CPU goes is the question on 2 cores. */
  busyMsPerBlock: number;
}

/** With COLDSTART_BENCH_PROFILE: a CPU profile of this thread until the returned stop is called. */
async function profileMainThread(): Promise<(name: string) => Promise<void>> {
  const dir = process.env['COLDSTART_BENCH_PROFILE'];
  if (!dir) return async () => {};
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return async (name) => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}

/** The backfill from its first event to done=true (`from`: the first event's). */
function backfillDone(node: LightNode): Promise<Throughput & { from: number }> {
  let first: { at: number; from: number; elu: EventLoopUtilization } | undefined;
  let profiled: ReturnType<typeof profileMainThread> | undefined;
  return new Promise((resolve) => {
    const off = node.on('backfill', (e) => {
      profiled ??= profileMainThread();
      first ??= { at: performance.now(), from: e.from, elu: perf.eventLoopUtilization() };
      if (!e.done) return;
      off();
      const blocks = first.from - e.from;
      const busy = perf.eventLoopUtilization(first.elu).active;
      const done = { blocks, ms: performance.now() - first.at, busyMsPerBlock: busy / blocks, from: first.from };
      void profiled.then((stop) => stop('node-backfill')).then(() => resolve(done));
    });
  });
}

interface ColdRun {
  head: { ms: number; blocks: number; number: number };
  finalized: { ms: number; blocks: number; number: number };
  backfill?: Throughput & { from: number };
}

/** One cold start on an empty data dir; with `backfill`, the node runs until its backfill is done. */
async function coldRun(b: Bench, dataDir: string, backfill: boolean): Promise<ColdRun> {
  await b.reset();
  const node = newNode(b, dataDir);
  let t0 = 0;
  const at = (e: { ms: number; data: { number: number } }) => ({
    ms: e.ms,
    blocks: b.blocks(),
    number: e.data.number,
  });
  const head = firstEvent(node, 'head', () => t0).then(at);
  const finalized = firstEvent(node, 'finalized', () => t0).then(at);
  const filled = backfill ? backfillDone(node) : Promise.resolve(undefined);
  t0 = performance.now();
  try {
    await node.start();
    const run: ColdRun = { head: await head, finalized: await finalized };
    const done = await filled;
    if (done) run.backfill = done;
    return run;
  } finally {
    await node.stop();
  }
}

/** A warm start on a data dir that holds the chain: `start()` to the first `head` event. */
async function warmRun(b: Bench, dataDir: string): Promise<number> {
  const node = newNode(b, dataDir);
  let t0 = 0;
  const head = firstEvent(node, 'head', () => t0);
  t0 = performance.now();
  try {
    await node.start();
    return (await head).ms;
  } finally {
    await node.stop();
  }
}

/**
 * What the backfill must do to each block at the least: decode the answer and compute the block's
 * signing root (the hash link), nothing stored. The floor of any verifying backfill on this machine.
 */
function decodeAndHash(raw: RawBlock): void {
  const d = decodeRawBlock({ source: 'bench', ...raw });
  if (!d.ok) throw new Error(`the chain server sent an unusable block: ${d.message}`);
  signingRoot(d.block.message);
}

/** The backfill's heights [0, from) downloaded as the node asks for them; `work` per block (default: none, the text discarded). */
async function plainDownload(
  b: Bench,
  from: number,
  batchSize: number,
  parallelism: number,
  work?: (raw: RawBlock) => void,
): Promise<Throughput> {
  const source = rpcBlockSource(createConsensusRpcSource({ url: b.urls.proxy, timeoutMs: 30_000 }), () => PER_RANGE);
  let next = from;
  let bytes = 0;
  const stopProfile = await profileMainThread();
  const elu = perf.eventLoopUtilization();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallelism }, async () => {
      for (let range = nextRange(next, 0, batchSize); range; range = nextRange(next, 0, batchSize)) {
        next = range.start;
        for (const raw of await source.range(range.start, range.count)) {
          bytes += raw.text!.length;
          work?.(raw);
        }
      }
    }),
  );
  const ms = performance.now() - t0;
  const busy = perf.eventLoopUtilization(elu).active;
  await stopProfile(work ? 'decode-and-hash-download' : 'plain-download');
  if (bytes === 0) throw new Error('the plain download got nothing');
  return { blocks: from, ms, busyMsPerBlock: busy / from };
}

const rate = (t: Throughput) => (t.blocks * 1000) / t.ms;

const ms = (x: number) => Math.round(x);

async function nodeBench(b: Bench, runs: number): Promise<void> {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'alys-bench-coldstart-'));
    dirs.push(d);
    return d;
  };
  try {
    const probe = newNode(b, tempDir());
    const { batchSize, parallelism } = probe.config.config.sync;
    const chainDir = tempDir();
    // the backfill's range, known only once the node ran; the head-first start stores ~25 blocks
    const full = await coldRun(b, chainDir, true);
    const filled = full.backfill!;
    const plain = [await plainDownload(b, filled.from, batchSize, parallelism)];
    const cold: ColdRun[] = [full];
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      warm.push(await warmRun(b, chainDir));
      cold.push(await coldRun(b, tempDir(), false));
    }
    plain.push(await plainDownload(b, filled.from, batchSize, parallelism));
    const floor = await plainDownload(b, filled.from, batchSize, parallelism, decodeAndHash);
    reportNode(full, cold.slice(1), warm);
    reportBackfill(filled, plain, floor, { batchSize, parallelism });
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

const ratioOf = (x: number, y: number) => Number((x / y).toFixed(3));

function reportNode(first: ColdRun, cold: ColdRun[], warm: number[]): void {
  const head = cold.map((r) => r.head);
  const fin = cold.map((r) => r.finalized);
  const warmMs = median(warm);
  report({
    name: 'coldstart.node.warm-start-to-head',
    unit: 'ms',
    value: warmMs,
    better: 'lower',
    runs: warm.map(ms),
    note: 'a new node on the data dir of the first cold start (20,001 blocks stored after its backfill)',
  });
  report({
    name: 'coldstart.node.cold-start-to-head',
    unit: 'ms',
    value: median(head.map((h) => h.ms)),
    baseline: warmMs,
    better: 'lower',
    target: '<= 2x the warm start',
    runs: head.map((h) => ms(h.ms)),
    number: head[0]!.number,
    note: 'empty LevelDB dir each run, interleaved with the warm starts',
  });
  report({
    name: 'coldstart.node.first-cold-start-to-head',
    unit: 'ms',
    value: first.head.ms,
    baseline: warmMs,
    better: 'lower',
    note: 'the first node of the process (module and JIT warm-up, BLS backend load included)',
  });
  report({
    name: 'coldstart.node.cold-start-to-finalized',
    unit: 'ms',
    value: median(fin.map((f) => f.ms)),
    baseline: warmMs,
    better: 'lower',
    runs: fin.map((f) => ms(f.ms)),
    number: fin[0]!.number,
    firstInProcess: ms(first.finalized.ms),
  });
  const all = [first, ...cold];
  report({
    name: 'coldstart.node.blocks-before-head',
    unit: 'blocks',
    value: Math.max(...all.map((r) => r.head.blocks)),
    better: 'lower',
    target: '1',
    runs: all.map((r) => r.head.blocks),
    note: 'getheadblock + getblockbyheight + getblockbyhash seen by the proxy at the head event (max of the runs)',
  });
  report({
    name: 'coldstart.node.blocks-before-finalized',
    unit: 'blocks',
    value: Math.max(...all.map((r) => r.finalized.blocks)),
    better: 'lower',
    runs: all.map((r) => r.finalized.blocks),
  });
}

function reportBackfill(
  node: Throughput,
  plain: Throughput[],
  floor: Throughput,
  sync: { batchSize: number; parallelism: number },
): void {
  const base = plain.reduce((a, t) => a + rate(t), 0) / plain.length;
  const busy = (ts: Throughput[]) => Number((ts.reduce((a, t) => a + t.busyMsPerBlock, 0) / ts.length).toFixed(3));
  report({
    name: 'coldstart.backfill.plain-download',
    unit: 'blocks/s',
    value: base,
    better: 'higher',
    runs: plain.map((t) => ms(rate(t))),
    blocks: plain[0]!.blocks,
    mainThreadMsPerBlock: busy(plain),
    note: `unverified getblockbyheight, ${sync.parallelism} ranges of ${sync.batchSize} x ${PER_RANGE} in flight, newest first, text discarded; mean of a run before and after the node's`,
  });
  report({
    name: 'coldstart.backfill.node',
    unit: 'blocks/s',
    value: rate(node),
    baseline: base,
    better: 'higher',
    target: '>= 0.9x the plain download',
    blocks: node.blocks,
    seconds: Number((node.ms / 1000).toFixed(1)),
    mainThreadMsPerBlock: busy([node]),
    mainThreadRatio: ratioOf(busy(plain), busy([node])),
    ...sync,
  });
  report({
    name: 'coldstart.backfill.decode-and-hash-download',
    unit: 'blocks/s',
    value: rate(floor),
    baseline: base,
    better: 'higher',
    blocks: floor.blocks,
    mainThreadMsPerBlock: busy([floor]),
    note: 'the same download, each block decoded and its signing root computed (the least a hash-linked backfill does), nothing stored: the ceiling of the node row',
  });
}

// ---------------------------------------------------------------- Chromium

/** The dashboard's production build served by `vite preview`, its /devnet.json pointing at the proxy. */
async function servePage(b: Bench): Promise<{ url: string; close(): Promise<void> }> {
  const { build, preview } = await import('vite');
  const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url));
  const json = JSON.stringify({
    instance: `coldstart${Date.now().toString(36)}`,
    chainSpec: chainSpecToJson(b.spec),
    rpc: [b.urls.proxy],
    evmRpc: [b.urls.evm],
  });
  const outDir = mkdtempSync(join(tmpdir(), 'alys-bench-coldstart-web-'));
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const p: PreviewServer = await preview({
    configFile,
    logLevel: 'warn',
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1' },
    plugins: [
      {
        name: 'bench-devnet-json',
        configurePreviewServer: (s) => void s.middlewares.use('/devnet.json', (_q, res) => res.end(json)),
      },
    ],
  });
  return {
    url: p.resolvedUrls!.local[0]!,
    close: async () => {
      await p.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

interface PageMark {
  t: number;
  epoch: number;
  number: number;
}
interface PageMarks {
  head?: PageMark;
  finalized?: PageMark;
  start?: string;
}

/**
 * Runs in the page before its scripts: catch `window.alysNode` as web/main.ts sets it (before the
 * node starts) and note performance.now() at its first `head` and `finalized` events. Plain text,
 * not a function: tsx would wrap a function's inner names in a helper the page does not have.
 */
const MARK_EVENTS = `{
  const marks = {};
  window.coldstartMarks = marks;
  const mark = (key) => (d) => {
    const t = performance.now();
    marks[key] ??= { t, epoch: performance.timeOrigin + t, number: d.number };
  };
  let node;
  Object.defineProperty(window, 'alysNode', {
    configurable: true,
    get: () => node,
    set(n) {
      node = n;
      n.on('head', mark('head'));
      n.on('finalized', mark('finalized'));
      n.on('storage', (d) => void (marks.start ??= d.kind));
    },
  });
}`;

interface PageRun {
  /** A reload of the same page after the cold run: its node warm-starts from IndexedDB (navigation to its first `head`). */
  warm: PageMark;
  head: PageMark & { blocks: number };
  finalized: PageMark & { blocks: number };
  /** From the page's resource timing: the first consensus RPC request's start and response end, DOMContentLoaded. */
  boot: { domContentLoaded: number; firstRpcStart: number; firstRpcEnd: number };
}

/** Resource timing (run in the page): when the page was parsed and when it first asked the consensus RPC. */
function bootTimes(rpc: string): PageRun['boot'] {
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  const calls = performance
    .getEntriesByType('resource')
    .filter((e) => e.name.startsWith(rpc))
    .sort((x, y) => x.startTime - y.startTime) as PerformanceResourceTiming[];
  return {
    domContentLoaded: nav?.domContentLoadedEventEnd ?? Number.NaN,
    firstRpcStart: calls[0]?.startTime ?? Number.NaN,
    firstRpcEnd: calls[0]?.responseEnd ?? Number.NaN,
  };
}

/** One navigation in a fresh context (empty IndexedDB) until the node's first `finalized` event. */
async function pageRun(b: Bench, browser: Browser, url: string, i: number): Promise<PageRun> {
  const context = await browser.newContext();
  const profileDir = process.env['COLDSTART_BENCH_PROFILE'];
  try {
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.addInitScript({ content: MARK_EVENTS });
    const cdp = profileDir ? await context.newCDPSession(tab) : undefined;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    await b.reset();
    await tab.goto(url);
    await tab
      .waitForFunction(
        () => (window as unknown as { coldstartMarks?: PageMarks }).coldstartMarks?.finalized !== undefined,
        undefined,
        { timeout: 60_000, polling: 50 },
      )
      .catch(async (e: Error) => {
        const state = await tab.evaluate(() => JSON.stringify(document.body.dataset));
        throw new Error(`run ${i}: ${e.message}; page ${state}; errors: ${errors.join('; ')}`);
      });
    const marks = await tab.evaluate(() => (window as unknown as { coldstartMarks: PageMarks }).coldstartMarks);
    if (cdp) {
      const { profile } = await cdp.send('Profiler.stop');
      writeFileSync(join(profileDir!, `chromium-${i}.cpuprofile`), JSON.stringify(profile));
    }
    if (marks.start !== 'cold-start') throw new Error(`run ${i}: the page did not cold-start (${marks.start})`);
    const at = async (m: PageMark) => ({ ...m, blocks: await b.blocksBefore(m.epoch) });
    const cold = {
      head: await at(marks.head!),
      finalized: await at(marks.finalized!),
      boot: await tab.evaluate(bootTimes, `${b.urls.proxy}/`),
    };
    return { ...cold, warm: await warmReload(tab, i) };
  } finally {
    await context.close();
  }
}

/** Reloads the page (same context, same IndexedDB) until its node's first `head`: the warm start. */
async function warmReload(tab: Page, i: number): Promise<PageMark> {
  await tab.reload();
  await tab.waitForFunction(
    () => (window as unknown as { coldstartMarks?: PageMarks }).coldstartMarks?.head !== undefined,
    undefined,
    { timeout: 60_000, polling: 20 },
  );
  const marks = await tab.evaluate(() => (window as unknown as { coldstartMarks: PageMarks }).coldstartMarks);
  if (marks.start !== 'warm-start') throw new Error(`run ${i}: the reload did not warm-start (${marks.start})`);
  return marks.head!;
}

async function chromiumBench(b: Bench, runs: number): Promise<void> {
  const { chromium } = await import('playwright');
  const page = await servePage(b);
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const results: PageRun[] = [];
  try {
    for (let i = 0; i < runs; i++) results.push(await pageRun(b, browser, page.url, i));
  } finally {
    await browser.close();
    await page.close();
  }
  reportChromium(results);
}

function reportChromium(results: PageRun[]): void {
  const head = results.map((r) => r.head);
  const fin = results.map((r) => r.finalized);
  const boot = (k: keyof PageRun['boot']) => results.map((r) => ms(r.boot[k]));
  const extra = { web: 'build', note: "the page's performance.now() at the node's event (navigation start = 0)" };
  const warm = median(results.map((r) => r.warm.t));
  report({
    name: 'coldstart.chromium.navigation-to-head',
    unit: 'ms',
    value: median(head.map((h) => h.t)),
    baseline: warm,
    baselineName: 'a reload of the same page: warm start from IndexedDB, navigation to its first head event',
    warmRuns: results.map((r) => ms(r.warm.t)),
    better: 'lower',
    target: '< 1000',
    runs: head.map((h) => ms(h.t)),
    number: head[0]!.number,
    domContentLoaded: boot('domContentLoaded'),
    firstRpcRequest: boot('firstRpcStart'),
    firstRpcReply: boot('firstRpcEnd'),
    ...extra,
  });
  report({
    name: 'coldstart.chromium.navigation-to-finalized',
    unit: 'ms',
    value: median(fin.map((f) => f.t)),
    baseline: warm,
    better: 'lower',
    runs: fin.map((f) => ms(f.t)),
    number: fin[0]!.number,
    ...extra,
  });
  report({
    name: 'coldstart.chromium.blocks-before-head',
    unit: 'blocks',
    value: Math.max(...head.map((h) => h.blocks)),
    better: 'lower',
    target: '1',
    runs: head.map((h) => h.blocks),
    note: "block requests the proxy had received when the page's listener got the head event (wall clocks of both processes): the walk's first range is requested in the task that reports the head, before the event reaches the listener; test/browser/head-start.test.ts holds every request after the first and sees the head event with one block served",
  });
  report({
    name: 'coldstart.chromium.blocks-before-finalized',
    unit: 'blocks',
    value: Math.max(...fin.map((f) => f.blocks)),
    better: 'lower',
    runs: fin.map((f) => f.blocks),
  });
}

export async function run(): Promise<void> {
  const b = await startChainServer(process.env['COLDSTART_BENCH_DIR'] ?? (await bigChainDir()));
  try {
    const runs = Number(process.env['COLDSTART_BENCH_RUNS'] ?? 5);
    if (runs > 0) await nodeBench(b, runs);
    const browserRuns = Number(process.env['COLDSTART_BENCH_BROWSER_RUNS'] ?? 3);
    if (browserRuns > 0) await chromiumBench(b, browserRuns);
  } finally {
    await b.close();
  }
}
