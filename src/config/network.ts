/**
 * Which chain a config selects. `network` is a shipped name or a path to a chain spec `.json`;
 * `devnet` means the running local devnet, whose spec file is `chainSpecFile` or, when that is null,
 * the devnet's default path (known only to the platform: the Node loader passes it in).
 *
 * Runs in browsers: no Node globals.
 */
import type { LightNodeConfig } from './schema.js';

export type NetworkChoice =
  /** Alys's shipped specs, built into src/protocol/chainspec.ts. */
  | { readonly kind: 'shipped'; readonly name: 'dev' | 'testnet' | 'testnet-full' }
  /** The local devnet's spec file; null when neither `chainSpecFile` nor a platform default is known (browser: fetch it). */
  | { readonly kind: 'devnet'; readonly specFile: string | null; readonly fromDefault: boolean }
  /** A custom chain spec file. */
  | { readonly kind: 'spec-file'; readonly specFile: string };

export function resolveNetwork(
  config: Pick<LightNodeConfig, 'network' | 'chainSpecFile'>,
  opts: { devnetSpecFile?: string } = {},
): NetworkChoice {
  switch (config.network) {
    case 'dev':
    case 'testnet':
    case 'testnet-full':
      return { kind: 'shipped', name: config.network };
    case 'devnet':
      if (config.chainSpecFile !== null) return { kind: 'devnet', specFile: config.chainSpecFile, fromDefault: false };
      return { kind: 'devnet', specFile: opts.devnetSpecFile ?? null, fromDefault: true };
    default:
      return { kind: 'spec-file', specFile: config.network };
  }
}
