/**
 * alys-light for Node (the `node` export condition of the package):
 *
 *   import { createLightNode } from 'alys-light';
 *   const node = createLightNode({ network: 'devnet', rpc: ['http://127.0.0.1:3000'] });
 *   await node.start();
 *
 * Storage is LevelDB under `dataDir` (default ~/.alys-light), verifiers in worker_threads when
 * `verifierWorkers` > 0. Config here is defaults < options; the CLI adds a TOML file, ALYS_*
 * variables and flags (loadNodeConfig).
 */
// Node 20 has no Promise.withResolvers, which libp2p calls (listed in package.json `sideEffects`)
import './platform/nodejs/polyfills.js';
import { nodeDefaultsLayer } from './config/nodejs/load.js';
import { loadChainSpecSync } from './config/nodejs/network.js';
import { optionsLayer } from './config/layers.js';
import { resolveConfig } from './config/load.js';
import { createLightNodeFrom, type LightNode } from './node/node.js';
import { splitOptions, type CreateLightNodeOptions } from './node/public.js';
import { parseChainSpecJson } from './protocol/chainspec.js';
import { registerNativeBlsBackend } from './platform/nodejs/bls-blst.js';
import { createNodePlatform } from './platform/nodejs/platform.js';

// bls: 'blst' and 'auto' use the native backend where @chainsafe/blst loads.
registerNativeBlsBackend();

export * from './node/public.js';
export { createNodePlatform } from './platform/nodejs/platform.js';
export { loadNodeConfig, loadChainSpec } from './config/nodejs/index.js';

/** A light node, not started. Throws ConfigError / ConfigNetworkError for bad options or an unreadable chain spec. */
export function createLightNode(options: CreateLightNodeOptions = {}): LightNode {
  const { config: input, chainSpec, platform, engines, subscriptionMaxLag } = splitOptions(options);
  const resolved = resolveConfig({ runtime: 'node', layers: [nodeDefaultsLayer(), optionsLayer(input)] });
  // JSON text: read and checked here (Node has no page to keep small)
  const spec =
    typeof chainSpec === 'string' ? parseChainSpecJson(chainSpec) : (chainSpec ?? loadChainSpecSync(resolved.config));
  return createLightNodeFrom({
    spec,
    config: resolved,
    platform: platform ?? createNodePlatform(resolved.config),
    ...(engines !== undefined ? { engines } : {}),
    ...(subscriptionMaxLag !== undefined ? { subscriptionMaxLag } : {}),
  });
}
