/**
 * The Web Worker entry that hosts actors off the main thread in browsers. The page spawns it with
 * `webWorkerSpawner(() => new Worker(new URL('../workers/actor-host.ts', import.meta.url), { type: 'module' }))`
 * and places actors in it by name. It hosts the demo actors until the light node's actors exist.
 */
import { serveActorsInWebWorker } from '../src/platform/browser/worker.js';
import { Hasher } from '../src/cli/demo/actors.js';

serveActorsInWebWorker([Hasher]);
