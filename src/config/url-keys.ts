/**
 * Which config keys a page's URL may set. A link is written by anyone, so by default the URL layer
 * may only tune performance and logging ({@link DEFAULT_URL_KEYS}); keys that weaken verification or
 * change where data comes from (`rpc`, `evmRpc`, `passThrough`, `mode`, `network`, `p2p.*`,
 * `sync.checkpoint`, `storage`, ...) are the embedder's to allow (`urlKeys`). A refused parameter is
 * ignored with a warning that names it, never an error: a link must not be able to break the page.
 *
 * Runs in browsers: no Node globals.
 */
import type { ConfigLayer, LayerEntry } from './layers.js';
import { keyInfo, type ConfigKey } from './schema.js';

/** What a URL may set unless the embedder says otherwise: sync tuning, verifier workers and the log level. */
export const DEFAULT_URL_KEYS: readonly ConfigKey[] = Object.freeze([
  'sync.batchSize',
  'sync.parallelism',
  'sync.requestTimeoutMs',
  'sync.retries',
  'sync.backoffInitialMs',
  'sync.backoffMaxMs',
  'sync.followIntervalMs',
  'verifierWorkers',
  'logLevel',
] satisfies ConfigKey[]);

/**
 * `layer` (a URL query layer) without the keys not in `allowed`: their entries and issues are
 * dropped, and one warning names the refused parameters. Throws (ConfigError via keyInfo) when
 * `allowed` names a key that does not exist, so an embedder's typo does not silently allow nothing.
 */
export function restrictUrlLayer(layer: ConfigLayer, allowed: readonly ConfigKey[]): ConfigLayer {
  for (const key of allowed) keyInfo(key);
  const ok = new Set<string>(allowed);
  const entries = new Map<ConfigKey, LayerEntry>();
  const refused: string[] = [];
  for (const [key, entry] of layer.entries) {
    if (ok.has(key)) entries.set(key, entry);
    else refused.push(entry.origin);
  }
  const issues = layer.issues.filter((i) => {
    if (ok.has(i.key)) return true;
    if (!refused.includes(i.origin)) refused.push(i.origin);
    return false;
  });
  if (refused.length === 0) return layer;
  const warning =
    `URL parameter${refused.length > 1 ? 's' : ''} ${refused.join(', ')} ignored: this page does not let a URL set ` +
    `${refused.length > 1 ? 'them' : 'it'} (allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none'})`;
  return Object.freeze({ ...layer, entries, issues: Object.freeze(issues), warnings: [...layer.warnings, warning] });
}
