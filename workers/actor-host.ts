/**
 * The Web Worker entry that hosts the light node's worker-placed actors (the verifier pool) off the
 * main thread. `createBrowserPlatform` spawns it with
 * `new Worker(new URL('../../../workers/actor-host.ts', import.meta.url), { type: 'module' })`, which
 * Vite and plain ESM both resolve; the supervisor restarts it when it crashes or stops answering.
 */
import { VerifierActor } from '../src/node/actors/verifier.js';
import { serveActorsInWebWorker } from '../src/platform/browser/worker.js';

serveActorsInWebWorker([VerifierActor]);
