/**
 * The Alys Light dashboard: a verifying light node running in this page (verifier actors in module
 * Web Workers, blocks in IndexedDB), following the chain described by the page config.
 *
 * Contract with whoever serves the page (`npm start` serves it with Vite):
 *
 *   GET /devnet.json  ->  200 application/json
 *     {
 *       "chainSpec": { ... },          // the chain spec JSON exactly as the devnet writes it (chainSpecToJson)
 *       "rpc":    ["http://127.0.0.1:3000"],   // consensus RPC endpoints (need CORS: the page is another origin)
 *       "evmRpc": ["http://127.0.0.1:8545"]    // EVM JSON-RPC endpoints (CORS too)
 *     }
 *
 * URL parameters override that config the way `loadBrowserConfig` reads them (`?rpc=...&mode=full`,
 * `?sync-batch-size=16`, ...), for the keys in DASHBOARD_URL_KEYS (web/node-page.ts) only; others
 * are ignored with a warning in the page log. One page-only parameter: `?devnet-config=<url>` fetches the config from
 * elsewhere, accepted only from this origin or a loopback host (a config carries the chain spec, the
 * root of what the node trusts, so a link must not be able to swap it for a stranger's).
 *
 * The node is `window.alysNode` (tests, console); the page state is in `document.body.dataset`
 * (see web/node-page.ts).
 */
import { fetchPageConfig, startNodePage, type NodePage } from './node-page.js';
import type { LightNode } from '../src/index.js';
import { createBlsBackend } from '../src/protocol/bls/index.js';

declare global {
  interface Window {
    alysNode?: LightNode;
    alysPage?: NodePage;
  }
}

// the page runs under a Content-Security-Policy (index.html): anything it blocks is recorded for the
// tests (`data-csp-violations`) and logged, rather than failing quietly
document.addEventListener('securitypolicyviolation', (e) => {
  const entry = `${e.effectiveDirective} ${e.blockedURI || '(inline)'}`;
  const seen = document.body.dataset.cspViolations;
  document.body.dataset.cspViolations = seen ? `${seen}; ${entry}` : entry;
  console.error(`Content-Security-Policy blocked ${entry}`);
});

const CONFIG_PARAM = 'devnet-config';

function configUrl(params: URLSearchParams): string {
  const asked = params.get(CONFIG_PARAM);
  if (asked === null) return '/devnet.json';
  const url = new URL(asked, location.href);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.origin !== location.origin && !loopback)
    throw new Error(`?${CONFIG_PARAM} must be on this origin or a loopback host, got ${url.origin}`);
  return url.href;
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const url = configUrl(params);
  params.delete(CONFIG_PARAM);
  // load the wasm BLS backend (a 600 kB module, compiled here) while the config is on its way: the
  // node's own createBlsBackend gets the same instance (loaded once per page); if it cannot load,
  // the node's 'auto' choice falls back on its own
  void createBlsBackend('wasm').catch(() => undefined);
  const config = await fetchPageConfig(url);
  window.alysPage = await startNodePage({
    config,
    query: params.toString(),
    onNode: (node) => (window.alysNode = node),
  });
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  document.body.dataset.state = 'error';
  document.body.dataset.error = message;
  const box = document.getElementById('error');
  if (box) {
    box.hidden = false;
    box.textContent = message;
  }
  console.error(e);
});
