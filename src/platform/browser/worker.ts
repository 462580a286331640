/**
 * Web Worker adapters for worker-placed actors (browsers).
 *
 * Parent side: `webWorkerSpawner(() => new Worker(new URL('./my.worker.ts', import.meta.url), { type: 'module' }))`
 * (the URL must be written out in the caller's module so bundlers can find the entry).
 * Worker side: `serveActorsInWebWorker([MyActor])` in the entry module.
 */
import type { AnyActorDefinition } from '../../actors/actor.js';
import { serveActors } from '../../actors/worker/host.js';
import type { FromWorker, HostPort, ToWorker, WorkerEndpoint, WorkerSpawner } from '../../actors/worker/protocol.js';

export function webWorkerSpawner(create: () => Worker): WorkerSpawner {
  return () => {
    const worker = create();
    const endpoint: WorkerEndpoint = {
      post: (msg: ToWorker) => worker.postMessage(msg),
      onMessage: (cb) => worker.addEventListener('message', (e) => cb(e.data as FromWorker)),
      onError: (cb) => {
        worker.addEventListener('error', (e) => {
          e.preventDefault();
          cb(new Error(e.message || 'uncaught error in worker'));
        });
        worker.addEventListener('messageerror', () =>
          cb(new Error('a message from the worker could not be deserialised')),
        );
      },
      // Browsers have no exit event; a worker that closes itself is caught by the heartbeat.
      onExit: () => {},
      terminate: () => worker.terminate(),
    };
    return endpoint;
  };
}

interface WorkerScope {
  postMessage(msg: unknown): void;
  addEventListener(type: 'message', cb: (e: MessageEvent) => void): void;
  addEventListener(type: 'unhandledrejection', cb: (e: PromiseRejectionEvent) => void): void;
}

/** In a Web Worker entry module: serve these actor definitions to the page. */
export function serveActorsInWebWorker(definitions: readonly AnyActorDefinition[]): void {
  const scope = globalThis as unknown as WorkerScope;
  const port: HostPort = {
    post: (msg: FromWorker) => scope.postMessage(msg),
    onMessage: (cb) => scope.addEventListener('message', (e) => cb(e.data as ToWorker)),
    onUnhandled: (cb) =>
      scope.addEventListener('unhandledrejection', (e) => {
        e.preventDefault();
        cb(e.reason);
      }),
  };
  serveActors(port, definitions);
}
