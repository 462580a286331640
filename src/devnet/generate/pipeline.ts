/**
 * Spreading generation over the machine's two cores. The EVM engine (most of the work) must run on
 * the main thread, block after block; two other jobs need nothing from it and go to a helper thread:
 *
 * - signing the load's transactions (deterministic from the seed; signed up to ~100 blocks ahead);
 * - the federation's BLS approvals: the block's hash is its signing root (the signature is not part
 *   of it), so the producer stores the block at once with an approval object whose signature the
 *   helper fills in a few ms later, while the main thread already executes the next block.
 *   `drain()` waits for every outstanding signature; nothing reads a signature before that (the
 *   generator turns the producer's self-check off and verifies the whole chain afterwards).
 *
 * `inline: true` does the same work on the main thread (same bytes; the tests compare the two).
 */
import { Worker } from 'node:worker_threads';
import { createBlsBackend } from '../../protocol/bls/index.js';
import { EMPTY_AGGREGATE_SIGNATURE, encodeAggregationBits } from '../../protocol/approvals.js';
import type { AggregateApproval } from '../../protocol/types.js';
import { createLoad, type BlockLoad } from './load.js';
import { createApprover, type FromWorker, type PipelineInit, type ToWorker } from './pipeline-shared.js';

export interface Pipeline {
  /** The next block's load, in block order. */
  nextLoad(): Promise<BlockLoad>;
  /** The block's aggregate approval (its signature may be filled in later: see drain()). */
  approve(root: Uint8Array): AggregateApproval;
  /** Wait until every approval handed out has its signature. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

const BATCH = 48;

export async function createPipeline(init: PipelineInit, opts: { inline?: boolean } = {}): Promise<Pipeline> {
  return opts.inline ? createInlinePipeline(init) : createWorkerPipeline(init);
}

async function createInlinePipeline(init: PipelineInit): Promise<Pipeline> {
  const load = createLoad(init.load);
  const approve = createApprover(init.members, await createBlsBackend('auto'));
  return {
    nextLoad: async () => load.next(),
    approve,
    drain: async () => {},
    close: async () => {},
  };
}

async function createWorkerPipeline(init: PipelineInit): Promise<Pipeline> {
  const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
    workerData: {
      entry: new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href,
      init,
    },
  });
  const bits = encodeAggregationBits(init.members.map((m) => m.index));
  const loads: BlockLoad[] = [];
  const pending = new Map<number, AggregateApproval>();
  let loadWaiter: { resolve(): void; reject(e: Error): void } | undefined;
  let drainWaiter: { resolve(): void; reject(e: Error): void } | undefined;
  let requested = false;
  let failure: Error | undefined;
  let nextId = 0;
  const ready = deferred();

  const fail = (e: Error): void => {
    failure ??= e;
    ready.reject(e);
    loadWaiter?.reject(e);
    drainWaiter?.reject(e);
  };
  worker.on('error', (e) => fail(new Error(`the generator's helper thread failed: ${e.message}`)));
  worker.on('exit', (code) => {
    if (code !== 0) fail(new Error(`the generator's helper thread exited with code ${code}`));
  });
  worker.on('message', (msg: FromWorker) => {
    switch (msg.type) {
      case 'ready':
        ready.resolve();
        break;
      case 'load':
        requested = false;
        loads.push(...msg.loads);
        loadWaiter?.resolve();
        loadWaiter = undefined;
        break;
      case 'approved': {
        const a = pending.get(msg.id);
        if (a) a.aggregateSignature = msg.signature;
        pending.delete(msg.id);
        if (pending.size === 0) {
          drainWaiter?.resolve();
          drainWaiter = undefined;
        }
        break;
      }
      case 'error':
        fail(new Error(`the generator's helper thread: ${msg.message}`));
        break;
    }
  });
  const send = (m: ToWorker): void => worker.postMessage(m);
  await ready.promise;

  const request = (): void => {
    if (requested) return;
    requested = true;
    send({ type: 'load', count: BATCH });
  };
  request();

  return {
    async nextLoad() {
      if (failure) throw failure;
      while (loads.length === 0) {
        request();
        const w = deferred();
        loadWaiter = w;
        await w.promise;
      }
      if (loads.length < BATCH) request();
      return loads.shift()!;
    },
    approve(root) {
      if (failure) throw failure;
      const id = nextId++;
      const approval: AggregateApproval = { aggregationBits: bits, aggregateSignature: EMPTY_AGGREGATE_SIGNATURE };
      pending.set(id, approval);
      send({ type: 'approve', id, root: root.slice() });
      return approval;
    },
    async drain() {
      if (failure) throw failure;
      if (pending.size === 0) return;
      const w = deferred();
      drainWaiter = w;
      await w.promise;
    },
    async close() {
      await worker.terminate();
    },
  };
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: Error): void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // a failure is reported by whoever awaits it
  return { promise, resolve, reject };
}
