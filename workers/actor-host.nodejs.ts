/**
 * The worker_threads entry that hosts the light node's worker-placed actors (the verifier pool) in
 * Node. `createNodePlatform` bundles it once per process (see src/platform/nodejs/worker.ts).
 */
import { VerifierActor } from '../src/node/actors/verifier.js';
import { registerNativeBlsBackend } from '../src/platform/nodejs/bls-blst.js';
import { serveActorsInNodeWorker } from '../src/platform/nodejs/worker.js';

registerNativeBlsBackend();
serveActorsInNodeWorker([VerifierActor]);
