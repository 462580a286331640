/**
 * The light node's Node platform: LevelDB (classic-level) or memory storage, verifier actors in
 * worker_threads, the global fetch.
 */
import { access, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { workerPlacement, type WorkerSpawner } from '../../actors/index.js';
import type { LightNodeConfig } from '../../config/index.js';
import type { LightNodePlatform } from '../../node/types.js';
import { createMemoryStore } from '../../node/storage/memory.js';
import { shortSpecFingerprint, specFingerprint } from '../../protocol/spec-fingerprint.js';
import type { ChainSpec } from '../../protocol/types.js';
import { openLevelStore } from './storage-level.js';
import { nodeWorkerSpawnerFor } from './worker.js';
import { configValueError } from '../../config/errors.js';

const WORKER_ENTRY = new URL('../../../workers/actor-host.nodejs.ts', import.meta.url);

/**
 * Where a chain's LevelDB lives: one directory per chain spec and verification mode under
 * `dataDir`, `chain-<chainId>-<mode>-<fp8>` (fp8: the spec fingerprint's first 8 hex digits), so
 * two specs that share a chain id never share a store by default.
 */
export function chainDataDir(dataDir: string, spec: ChainSpec, mode: string): string {
  return join(dataDir, `chain-${spec.chainId}-${mode}-${shortSpecFingerprint(specFingerprint(spec))}`);
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Rename a chain's (closed) LevelDB directory aside, to `<dir>.other-spec-<tag>` (a numbered
 * suffix if that is taken); returns the new path. The next open at `dir` starts empty.
 */
export async function setAsideChainDataDir(dir: string, tag: string): Promise<string> {
  const base = `${dir}.other-spec-${tag}`;
  let target = base;
  for (let i = 2; await exists(target); i++) target = `${base}-${i}`;
  await rename(dir, target);
  return target;
}

const dataDirOf = (cfg: LightNodeConfig) => cfg.dataDir ?? join(process.cwd(), '.alys-light');

export function createNodePlatform(config: LightNodeConfig): LightNodePlatform {
  let spawn: WorkerSpawner | undefined;
  return {
    p2pTransports: async () => (await import('./p2p.js')).nodeTransports(),
    governanceTransport: async (url) => (await import('./governance.js')).createNodeGovernanceTransport(url),
    async openStore(spec, cfg) {
      if (cfg.storage === 'memory') return createMemoryStore();
      if (cfg.storage === 'indexeddb')
        throw configValueError(
          'storage',
          'level or memory in Node',
          cfg.storage,
          'indexeddb is only available in browsers',
        );
      return openLevelStore(chainDataDir(dataDirOf(cfg), spec, cfg.mode));
    },
    setAsideStore: (spec, cfg, tag) => setAsideChainDataDir(chainDataDir(dataDirOf(cfg), spec, cfg.mode), tag),
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
