/**
 * alys-light for browsers, Web Workers and Cloudflare Workers:
 *
 *   import { createLightNode } from 'alys-light';
 *   const node = createLightNode({ chainSpec, rpc: ['https://...'], evmRpc: ['https://...'] });
 *   node.on('head', (h) => console.log(h.number));
 *   await node.start();
 *   const client = createPublicClient({ transport: custom(node.provider) }); // verified reads
 *
 * Storage is IndexedDB (one database per chain and mode), verifiers run in module Web Workers when
 * `verifierWorkers` > 0. No Node globals. Node users get src/index.nodejs.ts through the `node`
 * export condition.
 */
import { loadBrowserConfig } from './config/load.js';
import { logLevelShows, type ConfigKey } from './config/schema.js';
import { resolveNetwork } from './config/network.js';
import { ConfigNetworkError } from './config/errors.js';
import { lightNodeChainSpec } from './protocol/chainspec.js';
import { createLightNodeFrom } from './node/node.js';
import type { LightNode } from './node/types.js';
import { splitOptions, type CreateLightNodeOptions } from './node/public.js';
import { createBrowserPlatform, type BrowserPlatformOptions } from './platform/browser/platform.js';

export * from './node/public.js';
export { DEFAULT_URL_KEYS } from './config/url-keys.js';
export type { ConfigKey } from './config/schema.js';
export { createBrowserPlatform, chainDatabaseName, type BrowserPlatformOptions } from './platform/browser/platform.js';

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
}

/**
 * A light node, not started. Throws ConfigError (naming the key and the expected form) for a bad
 * option and ConfigNetworkError when the chain spec cannot be determined.
 */
export function createLightNode(options: CreateBrowserLightNodeOptions = {}): LightNode {
  const { query, urlKeys, databaseName, ...rest } = options;
  const { config: input, chainSpec, platform, engines, subscriptionMaxLag } = splitOptions(rest);
  const resolved = loadBrowserConfig({
    options: input,
    ...(query !== undefined ? { query } : {}),
    ...(urlKeys !== undefined ? { urlKeys } : {}),
  });
  const config = resolved.config;
  if (logLevelShows(config.logLevel, 'warn')) for (const w of resolved.warnings) console.warn(`alys-light: ${w}`);
  let spec = chainSpec;
  if (!spec) {
    const choice = resolveNetwork(config);
    if (choice.kind !== 'shipped')
      throw new ConfigNetworkError(
        config.network,
        choice.specFile ?? '(none)',
        'a browser cannot read chain spec files',
        {
          hint: 'pass the spec itself as `chainSpec` (e.g. fetched and parsed with parseChainSpecJson), or choose a shipped network (dev, testnet)',
        },
      );
    spec = lightNodeChainSpec(choice.name);
  }
  return createLightNodeFrom({
    spec,
    config: resolved,
    platform: platform ?? createBrowserPlatform(config, databaseName !== undefined ? { databaseName } : {}),
    ...(engines !== undefined ? { engines } : {}),
    ...(subscriptionMaxLag !== undefined ? { subscriptionMaxLag } : {}),
  });
}
