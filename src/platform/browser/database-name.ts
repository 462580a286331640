import { shortSpecFingerprint, specFingerprint } from '../../protocol/spec-fingerprint.js';
import type { ChainSpec } from '../../protocol/types.js';

/**
 * The IndexedDB database of a chain: one per chain spec and verification mode,
 * `alys-light-<chainId>-<mode>-<fp8>` (fp8: the spec fingerprint's first 8 hex digits), so two
 * specs that share a chain id never meet. (A database that does hold another spec's chain, e.g.
 * under a `databaseName` a page reused, is cleared by the node: IndexedDB cannot rename a
 * database, and copying it aside would double the origin's quota use for a cache of chain data any
 * source can serve again.) Its own module: the page's side of the node worker names the database
 * without loading the platform.
 */
export function chainDatabaseName(spec: ChainSpec, mode: string): string {
  return `alys-light-${spec.chainId}-${mode}-${shortSpecFingerprint(specFingerprint(spec))}`;
}
