/**
 * Actor runtime benchmarks, each against a same-run baseline:
 * - in-thread tell throughput vs a plain `await fn(msg)` loop;
 * - in-thread ask round trip vs a plain promise round trip;
 * - cross-worker (worker_threads) ask round trip vs raw postMessage ping-pong, and tell throughput
 *   vs raw postMessage streaming;
 * - time from a worker crash to the restarted actor answering again.
 */
import { Worker } from 'node:worker_threads';
import { createActorSystem, immediate, workerPlacement } from '../src/actors/index.js';
import { bundleWorkerEntry, nodeWorkerSpawner } from '../src/platform/nodejs/worker.js';
import { BenchActor } from './fixtures/bench-actor.js';
import { median, report } from './report.js';

const TELLS = 300_000;
const ASKS = 50_000;
const WORKER_TELLS = 300_000;
const WORKER_ASKS = 10_000;
const RESTARTS = 20;

async function best<T>(runs: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

async function inThread(): Promise<void> {
  const sys = createActorSystem({ root: { strategy: 'one-for-one', children: [{ id: 'b', actor: BenchActor }] } });
  await sys.start();
  const ref = sys.ref<typeof BenchActor>('/system/b');

  // baseline: a plain async function awaited per message. Rounds alternate baseline and actor so
  // both see the same machine state (this VM's speed drifts); medians over the rounds.
  let sink = 0;
  const fn = async (msg: { type: 'add'; n: number }) => {
    sink += msg.n;
  };
  const ROUND = TELLS / 3;
  const baseRates: number[] = [];
  const tellRates: number[] = [];
  for (let round = 0; round < 15; round++) {
    let t0 = performance.now();
    for (let i = 0; i < ROUND; i++) await fn({ type: 'add', n: 1 });
    baseRates.push(ROUND / ((performance.now() - t0) / 1000));
    // the same loop shape as the baseline: the sender awaits each tell (resolved once enqueued)
    t0 = performance.now();
    for (let i = 0; i < ROUND; i++) await ref.tell({ type: 'add', n: 1 });
    await ref.ask({ type: 'total' }); // FIFO: answers after every tell was handled
    tellRates.push(ROUND / ((performance.now() - t0) / 1000));
  }
  report({
    name: 'actors.in-thread.tell.throughput',
    unit: 'msg/s',
    value: median(tellRates),
    baseline: median(baseRates),
    better: 'higher',
    target: 'ratio >= 0.333 (tell costs at most 3x a plain async call)',
  });
  // a burst: the sender never waits, so all messages queue first (mailbox capacity 1e6)
  const burstRates = await best(5, async () => {
    const t0 = performance.now();
    for (let i = 0; i < TELLS; i++) void ref.tell({ type: 'add', n: 1 });
    await ref.ask({ type: 'total' });
    return TELLS / ((performance.now() - t0) / 1000);
  });
  report({
    name: 'actors.in-thread.tell.burst-throughput',
    unit: 'msg/s',
    value: median(burstRates),
    baseline: median(baseRates),
    better: 'higher',
  });

  const basePing = await best(5, async () => {
    const t0 = performance.now();
    for (let i = 0; i < ASKS; i++) await new Promise<number>((resolve) => queueMicrotask(() => resolve(i)));
    return ((performance.now() - t0) * 1000) / ASKS;
  });
  const askLat = await best(5, async () => {
    const t0 = performance.now();
    for (let i = 0; i < ASKS; i++) await ref.ask({ type: 'echo', v: i });
    return ((performance.now() - t0) * 1000) / ASKS;
  });
  report({
    name: 'actors.in-thread.ask.round-trip',
    unit: 'us',
    value: median(askLat),
    baseline: median(basePing),
    better: 'lower',
  });
  await sys.shutdown();
  if (sink < 0) console.log(sink);
}

async function crossWorker(): Promise<void> {
  // raw postMessage baseline
  const rawUrl = await bundleWorkerEntry(new URL('./fixtures/raw-echo.nodejs-worker.ts', import.meta.url));
  const raw = new Worker(rawUrl, { execArgv: [] });
  await new Promise((r) => raw.once('message', r));
  const rawRtt = await best(3, async () => {
    const t0 = performance.now();
    for (let i = 0; i < WORKER_ASKS; i++) {
      const p = new Promise((r) => raw.once('message', r));
      raw.postMessage({ t: 'echo', v: i });
      await p;
    }
    return ((performance.now() - t0) * 1000) / WORKER_ASKS;
  });
  const rawRate = await best(3, async () => {
    const t0 = performance.now();
    for (let i = 0; i < WORKER_TELLS; i++) raw.postMessage({ t: 'add', n: 1 });
    const p = new Promise((r) => raw.once('message', r));
    raw.postMessage({ t: 'total' });
    await p;
    return WORKER_TELLS / ((performance.now() - t0) / 1000);
  });
  await raw.terminate();

  const spawn = nodeWorkerSpawner(
    await bundleWorkerEntry(new URL('./fixtures/bench-actor.nodejs-worker.ts', import.meta.url)),
  );
  const sys = createActorSystem({
    root: {
      strategy: 'one-for-one',
      intensity: { maxRestarts: 1000, periodMs: 1000 },
      children: [{ id: 'w', actor: BenchActor, placement: workerPlacement(spawn), policy: immediate() }],
    },
  });
  await sys.start();
  const ref = sys.ref<typeof BenchActor>('/system/w');
  const askRtt = await best(3, async () => {
    const t0 = performance.now();
    for (let i = 0; i < WORKER_ASKS; i++) await ref.ask({ type: 'echo', v: i });
    return ((performance.now() - t0) * 1000) / WORKER_ASKS;
  });
  report({
    name: 'actors.worker.ask.round-trip',
    unit: 'us',
    value: median(askRtt),
    baseline: median(rawRtt),
    better: 'lower',
  });

  const tellRate = await best(3, async () => {
    const t0 = performance.now();
    for (let i = 0; i < WORKER_TELLS; i++) void ref.tell({ type: 'add', n: 1 });
    await ref.ask({ type: 'total' }, { timeoutMs: 60_000 });
    return WORKER_TELLS / ((performance.now() - t0) / 1000);
  });
  report({
    name: 'actors.worker.tell.throughput',
    unit: 'msg/s',
    value: median(tellRate),
    baseline: median(rawRate),
    better: 'higher',
    target: 'ratio >= 0.5 of raw postMessage',
  });

  // crash -> restarted actor answers
  const times: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    const t0 = performance.now();
    await ref.ask({ type: 'crash' }).catch(() => {});
    await ref.ask({ type: 'echo', v: i }, { timeoutMs: 10_000 });
    times.push(performance.now() - t0);
  }
  report({
    name: 'actors.worker.restart.crash-to-answer',
    unit: 'ms',
    value: median(times),
    better: 'lower',
    target: '< 100 ms',
    max: Math.round(Math.max(...times) * 10) / 10,
    runs: RESTARTS,
  });
  await sys.shutdown();
}

export async function run(): Promise<void> {
  await inThread();
  await crossWorker();
}
