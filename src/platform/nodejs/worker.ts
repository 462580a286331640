/**
 * worker_threads adapters for worker-placed actors (Node).
 *
 * Parent side: {@link nodeWorkerSpawner}. A `.ts` entry is bundled once per process with esbuild
 * into a temporary `.mjs` (loading TypeScript through a loader in every worker costs ~250 ms per
 * start on Node 20, which would make restarts slow); a `.js`/`.mjs` entry is used as is.
 * Worker side: {@link serveActorsInNodeWorker}.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parentPort, Worker, type ResourceLimits } from 'node:worker_threads';
import type { AnyActorDefinition } from '../../actors/actor.js';
import { serveActors } from '../../actors/worker/host.js';
import type { FromWorker, HostPort, ToWorker, WorkerEndpoint, WorkerSpawner } from '../../actors/worker/protocol.js';

export interface NodeWorkerOptions {
  resourceLimits?: ResourceLimits;
  /**
   * Node flags for the worker. Default none: a worker must not inherit a TypeScript loader from the
   * parent (tsx in `npm start` and tests), which would add ~200 ms to every start and restart.
   */
  execArgv?: string[];
  /** Extra `workerData` for the entry module. */
  workerData?: unknown;
}

const bundles = new Map<string, string>();

/** Bundle a TypeScript worker entry to one ESM file (memoised by path and mtime). */
export async function bundleWorkerEntry(entry: URL): Promise<URL> {
  const path = fileURLToPath(entry);
  if (!/\.[cm]?ts$/.test(path)) return entry;
  const key = `${path}:${statSync(path).mtimeMs}`;
  let out = bundles.get(key);
  if (!out) {
    // next to the project's node_modules, so the bundle's external packages (the native blst
    // addon) resolve from it; the temp directory only if that is not writable
    let dir = fileURLToPath(new URL('../../../node_modules/.cache/alys-light-workers/', import.meta.url));
    try {
      mkdirSync(dir, { recursive: true });
    } catch {
      dir = join(tmpdir(), 'alys-light-workers');
      mkdirSync(dir, { recursive: true });
    }
    out = join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 16)}.mjs`);
    const { build } = await import('esbuild');
    await build({
      entryPoints: [path],
      outfile: out,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      external: ['@chainsafe/blst'],
      // some dependencies are CommonJS and call require(); give the ESM bundle one
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    bundles.set(key, out);
  }
  return pathToFileURL(out);
}

/** A spawner for `new Worker(entry)`. Call `await prepare()` (or `nodeWorkerSpawnerFor`) first for `.ts` entries. */
export function nodeWorkerSpawner(entry: URL, opts: NodeWorkerOptions = {}): WorkerSpawner {
  return () => {
    const worker = new Worker(entry, {
      execArgv: opts.execArgv ?? [],
      ...(opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}),
      ...(opts.workerData !== undefined ? { workerData: opts.workerData } : {}),
    });
    return endpointFor(worker);
  };
}

/** Bundle the entry if needed, then return its spawner. */
export async function nodeWorkerSpawnerFor(entry: URL, opts: NodeWorkerOptions = {}): Promise<WorkerSpawner> {
  return nodeWorkerSpawner(await bundleWorkerEntry(entry), opts);
}

function endpointFor(worker: Worker): WorkerEndpoint {
  return {
    post: (msg: ToWorker) => worker.postMessage(msg),
    onMessage: (cb) => void worker.on('message', cb),
    onError: (cb) => {
      worker.on('error', cb);
      worker.on('messageerror', (e) => cb(e instanceof Error ? e : new Error(String(e))));
    },
    onExit: (cb) => void worker.on('exit', cb),
    terminate: () => void worker.terminate(),
  };
}

/** In a worker_threads entry module: serve these actor definitions to the parent. */
export function serveActorsInNodeWorker(definitions: readonly AnyActorDefinition[]): void {
  const port = parentPort;
  if (!port) throw new Error('serveActorsInNodeWorker must run inside a worker_threads Worker');
  const hostPort: HostPort = {
    post: (msg: FromWorker) => port.postMessage(msg),
    onMessage: (cb) => void port.on('message', cb),
    onUnhandled: (cb) => void process.on('unhandledRejection', cb),
  };
  serveActors(hostPort, definitions);
}
