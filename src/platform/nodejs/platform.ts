/**
 * The light node's Node platform: LevelDB (classic-level) or memory storage, verifier actors in
 * worker_threads, the global fetch.
 */
import { join } from 'node:path';
import { workerPlacement, type WorkerSpawner } from '../../actors/index.js';
import type { LightNodeConfig } from '../../config/index.js';
import type { LightNodePlatform } from '../../node/types.js';
import { createMemoryStore } from '../../node/storage/memory.js';
import type { ChainSpec } from '../../protocol/types.js';
import { openLevelStore } from './storage-level.js';
import { nodeWorkerSpawnerFor } from './worker.js';
import { configValueError } from '../../config/errors.js';

const WORKER_ENTRY = new URL('../../../workers/actor-host.nodejs.ts', import.meta.url);

/** Where a chain's LevelDB lives: one directory per chain id and verification mode under `dataDir`. */
export function chainDataDir(dataDir: string, spec: ChainSpec, mode: string): string {
  return join(dataDir, `chain-${spec.chainId}-${mode}`);
}

export function createNodePlatform(config: LightNodeConfig): LightNodePlatform {
  let spawn: WorkerSpawner | undefined;
  return {
    p2pTransports: async () => (await import('./p2p.js')).nodeTransports(),
    async openStore(spec, cfg) {
      if (cfg.storage === 'memory') return createMemoryStore();
      if (cfg.storage === 'indexeddb')
        throw configValueError(
          'storage',
          'level or memory in Node',
          cfg.storage,
          'indexeddb is only available in browsers',
        );
      return openLevelStore(chainDataDir(cfg.dataDir ?? join(process.cwd(), '.alys-light'), spec, cfg.mode));
    },
    ...(config.verifierWorkers > 0
      ? {
          async prepare() {
            spawn = await nodeWorkerSpawnerFor(WORKER_ENTRY);
          },
          verifierPlacement: workerPlacement((...a) => spawn!(...a), {
            heartbeatIntervalMs: 1_000,
            heartbeatTimeoutMs: 10_000,
          }),
        }
      : {}),
  };
}
