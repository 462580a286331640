/**
 * The light node's browser platform: IndexedDB (idb-keyval) or memory storage, verifier actors in
 * dedicated module Web Workers, the page's fetch. No Node globals.
 */
import { workerPlacement } from '../../actors/index.js';
import type { LightNodeConfig } from '../../config/index.js';
import type { LightNodePlatform } from '../../node/types.js';
import { createMemoryStore } from '../../node/storage/memory.js';
import { chainDatabaseName } from './database-name.js';
import type { ChainSpec } from '../../protocol/types.js';
import { openIdbStore } from './storage-idb.js';
import { webWorkerSpawner } from './worker.js';
import { configValueError } from '../../config/errors.js';

export { chainDatabaseName };

export interface BrowserPlatformOptions {
  /**
   * The IndexedDB database name (default {@link chainDatabaseName}). A devnet page passes one per
   * devnet run: a new devnet is a new chain with the same chain id.
   */
  databaseName?: string | ((spec: ChainSpec, mode: string) => string);
}

export function createBrowserPlatform(
  config: LightNodeConfig,
  options: BrowserPlatformOptions = {},
): LightNodePlatform {
  return {
    p2pTransports: async () => (await import('./p2p.js')).browserTransports(),
    p2pDefaultListen: ['/p2p-circuit', '/webrtc'],
    // gRPC-web: the bidirectional stream is refused (governance.transport-unsupported), the node runs on
    governanceTransport: async (url) => (await import('./governance.js')).createWebGovernanceTransport(url),
    async openStore(spec, cfg) {
      if (cfg.storage === 'memory') return createMemoryStore();
      if (cfg.storage === 'level')
        throw configValueError(
          'storage',
          'indexeddb or memory in browsers',
          cfg.storage,
          'level is only available in Node',
        );
      const name = options.databaseName;
      return openIdbStore(
        typeof name === 'function' ? name(spec, cfg.mode) : (name ?? chainDatabaseName(spec, cfg.mode)),
      );
    },
    ...(config.verifierWorkers > 0
      ? {
          verifierPlacement: workerPlacement(
            // written out here so bundlers (Vite) find and emit the worker entry
            webWorkerSpawner(
              () =>
                new Worker(new URL('../../../workers/actor-host.ts', import.meta.url), {
                  type: 'module',
                  name: 'alys-light-verifier',
                }),
            ),
            { heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 10_000 },
          ),
        }
      : {}),
  };
}
