/**
 * alys-light for browsers, Web Workers and Cloudflare Workers:
 *
 *   import { createLightNode } from 'alys-light';
 *   const node = createLightNode({ chainSpec, rpc: ['https://...'], evmRpc: ['https://...'] });
 *   node.on('head', (h) => console.log(h.number));
 *   await node.start();
 *   const client = createPublicClient({ transport: custom(node.provider) }); // verified reads
 *
 * In a page the node runs in a worker (a SharedWorker shared by the origin's tabs, or a dedicated
 * worker in the tab holding the database's Web Lock) behind the same API; `placement: 'page'` keeps
 * it in this thread (docs/architecture.md, "The node worker"). Storage is IndexedDB (one database per
 * chain and mode), verifiers run in module Web Workers when `verifierWorkers` > 0. The in-page
 * node (`placement: 'page'`, and the default inside a Worker) is imported on first use, so a page's
 * entry chunk holds only the node worker's client (src/node/lazy.ts). No Node globals. Node users get src/index.nodejs.ts through the `node`
 * export condition.
 */
import { loadBrowserConfig } from './config/load.js';
import { logLevelShows, type ConfigKey } from './config/schema.js';
import { resolveNetwork } from './config/network.js';
import { ConfigNetworkError } from './config/errors.js';
import { lightNodeChainSpec, parseChainSpecJsonUnchecked } from './protocol/chainspec.js';
import { lazyLightNode } from './node/lazy.js';
import type { LightNode } from './node/types.js';
import { splitOptions, type CreateLightNodeOptions } from './node/public.js';
import { chainDatabaseName } from './platform/browser/database-name.js';
import type { BrowserPlatformOptions } from './platform/browser/platform.js';
import {
  createWorkerLightNode,
  type NodeWorkerOptions,
  type WorkerLightNode,
} from './platform/browser/node-worker/client.js';

export * from './node/public.js';
export { DEFAULT_URL_KEYS } from './config/url-keys.js';
export type { ConfigKey } from './config/schema.js';
export { createBrowserPlatform, type BrowserPlatformOptions } from './platform/browser/platform.js';
export { chainDatabaseName } from './platform/browser/database-name.js';
export type { NodeWorkerOptions, NodeWorkerStatus, WorkerLightNode } from './platform/browser/node-worker/client.js';
export { NodeWorkerError } from './platform/browser/node-worker/errors.js';

export interface CreateBrowserLightNodeOptions extends CreateLightNodeOptions {
  /**
   * `location.search` (or its URLSearchParams): URL parameters override the options
   * (`?sync-batch-size=16`), for the keys in `urlKeys` only.
   */
  query?: string | URLSearchParams;
  /**
   * The config keys a URL may set (default {@link DEFAULT_URL_KEYS}: sync tuning, verifier workers,
   * log level). Anything that weakens verification or changes where data comes from (`rpc`,
   * `evmRpc`, `passThrough`, `mode`, `p2p.bootstrap`, ...) only if listed here: a link is written by
   * anyone. Other parameters are ignored with a console warning naming them.
   */
  urlKeys?: readonly ConfigKey[];
  /** IndexedDB database name, or a function of the chain spec and mode (default `alys-light-<chainId>-<mode>`); ignored when `platform` is given. */
  databaseName?: BrowserPlatformOptions['databaseName'];
  /**
   * Where the node runs. `'worker'` (default in a page): in a worker, shared by the origin's tabs
   * (a SharedWorker, or a dedicated worker in the tab that holds the database's Web Lock); the page
   * keeps a small proxy with the same API; with `p2p.listen` / `p2p.bootstrap` one tab runs the libp2p
   * host (WebRTC needs a page) and bridges it to the worker's node. `'page'`: in this thread, as before
   * (the default inside a worker and with a custom `platform`).
   */
  placement?: 'worker' | 'page';
  /** The node worker: shared or dedicated, heartbeats, restart intensity (placement `'worker'`). */
  worker?: NodeWorkerOptions;
}

/**
 * A light node, not started. Throws ConfigError (naming the key and the expected form) for a bad
 * option and ConfigNetworkError when the chain spec cannot be determined.
 */
export function createLightNode(options: CreateBrowserLightNodeOptions & { placement: 'page' }): LightNode;
export function createLightNode(options?: CreateBrowserLightNodeOptions): LightNode | WorkerLightNode;
export function createLightNode(options: CreateBrowserLightNodeOptions = {}): LightNode | WorkerLightNode {
  const { query, urlKeys, databaseName, placement, worker, ...rest } = options;
  const { config: input, chainSpec, platform, engines, subscriptionMaxLag } = splitOptions(rest);
  const resolved = loadBrowserConfig({
    options: input,
    ...(query !== undefined ? { query } : {}),
    ...(urlKeys !== undefined ? { urlKeys } : {}),
  });
  const config = resolved.config;
  if (logLevelShows(config.logLevel, 'warn')) for (const w of resolved.warnings) console.warn(`alys-light: ${w}`);
  // JSON text is read here without the keys' curve checks; the node makes them where it runs
  const specJson = typeof chainSpec === 'string' ? chainSpec : undefined;
  let spec = typeof chainSpec === 'string' ? parseChainSpecJsonUnchecked(chainSpec) : chainSpec;
  if (!spec) {
    const choice = resolveNetwork(config);
    if (choice.kind !== 'shipped')
      throw new ConfigNetworkError(
        config.network,
        choice.specFile ?? '(none)',
        'a browser cannot read chain spec files',
        {
          hint: 'pass the spec itself as `chainSpec` (its JSON text, e.g. fetched with `await res.text()`), or choose a shipped network (dev, testnet)',
        },
      );
    spec = lightNodeChainSpec(choice.name);
  }
  const where = choosePlacement(placement, platform !== undefined);
  if (where === 'worker') {
    const name = typeof databaseName === 'function' ? databaseName(spec, config.mode) : databaseName;
    return createWorkerLightNode({
      spec,
      resolved,
      init: {
        spec,
        ...(specJson !== undefined ? { specJson } : {}),
        config,
        databaseName: name ?? chainDatabaseName(spec, config.mode),
        ...(engines !== undefined ? { engines } : {}),
        ...(subscriptionMaxLag !== undefined ? { subscriptionMaxLag } : {}),
      },
      options: worker ?? {},
      // written out here so bundlers (Vite, webpack) find and emit the worker entry
      spawnShared: (name) =>
        new SharedWorker(new URL('../workers/node-host.ts', import.meta.url), { type: 'module', name }),
      spawnDedicated: (name) =>
        new Worker(new URL('../workers/node-host.ts', import.meta.url), { type: 'module', name }),
      p2p: config.p2p.listen.length > 0 || config.p2p.bootstrap.length > 0,
    });
  }
  // the in-page node is imported when needed: a page whose node runs in the worker does not carry it
  const inPage = spec;
  return lazyLightNode(inPage, resolved, async () => {
    const pageNode = await import('./platform/browser/page-node.js');
    // a spec given as JSON text: its keys are checked before the node exists (a bad one rejects every call)
    if (specJson !== undefined) await pageNode.checkSpecKeys(inPage, config.bls);
    return pageNode.createPageLightNode({
      spec: inPage,
      config: resolved,
      ...(platform !== undefined ? { platform } : {}),
      ...(databaseName !== undefined ? { databaseName } : {}),
      ...(engines !== undefined ? { engines } : {}),
      ...(subscriptionMaxLag !== undefined ? { subscriptionMaxLag } : {}),
    });
  });
}

/** Worker placement where a page can start module workers; the page otherwise (see `placement`). */
function choosePlacement(asked: 'worker' | 'page' | undefined, customPlatform: boolean): 'worker' | 'page' {
  if (asked === 'page' || customPlatform) return 'page';
  const inPage = typeof window !== 'undefined' && typeof Worker !== 'undefined';
  return inPage ? 'worker' : 'page';
}
