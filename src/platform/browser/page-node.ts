/**
 * The in-page node of the browser entry (`placement: 'page'`, and the default inside a Worker),
 * imported lazily by src/index.ts: this module and what it imports (the whole node) stay out of a
 * page's entry chunk when the node runs in the node worker.
 */
import { createLightNodeFrom } from '../../node/node.js';
import type { LightNode, LightNodeFromOptions, LightNodePlatform } from '../../node/types.js';
import { createBrowserPlatform, type BrowserPlatformOptions } from './platform.js';
import type { LightNodeConfig } from '../../config/index.js';
import { createBlsBackend } from '../../protocol/bls/index.js';
import { checkChainSpecKeys } from '../../protocol/chainspec-keys.js';
import type { ChainSpec } from '../../protocol/types.js';

/** The key checks of a spec the page read from JSON without them, with the BLS backend the node will use. */
export async function checkSpecKeys(spec: ChainSpec, bls: LightNodeConfig['bls']): Promise<void> {
  checkChainSpecKeys(spec, await createBlsBackend(bls));
}

export function createPageLightNode(
  options: Omit<LightNodeFromOptions, 'platform'> & {
    platform?: LightNodePlatform;
    databaseName?: BrowserPlatformOptions['databaseName'];
  },
): LightNode {
  const { platform, databaseName, ...rest } = options;
  return createLightNodeFrom({
    ...rest,
    platform: platform ?? createBrowserPlatform(rest.config.config, databaseName !== undefined ? { databaseName } : {}),
  });
}
