/**
 * The dashboard's logic, apart from the page's boot (web/main.ts) so tests can drive it: fetch and
 * check the page config, create and start the light node (IndexedDB storage, verifiers in module
 * Web Workers), and keep the page in step with it: head, finalized head, sync progress, verified
 * history (where it starts, the backfill below it), storage start, actor health and source scores.
 *
 * Tests poll `document.body.dataset` (always strings):
 *   state        loading | starting | running | stopped | error   (error: `data-error` says why)
 *   head         authenticated head number        head-hash       its consensus block hash
 *   finalized    highest AuxPoW-finalized number  finalized-hash
 *   phase        starting | syncing | following | stalled          current / target  sync heights
 *   history-from lowest block of verified history                  backfill-target / backfill-done
 *   start-kind   warm-start | cold-start | corrupt | other-spec | checkpoint   start-ms / start-head
 *   damaged      damaged blocks found after the start (web/storage-card.ts; start-kind is kept)
 *   workers      how many worker-placed actors are Running
 *
 * No Node globals, no framework: plain DOM over the ids in web/index.html (missing ones are skipped).
 */
import {
  type ConfigKey,
  createLightNode,
  DEFAULT_URL_KEYS,
  type LightNode,
  type NodeEvents,
  type NodeStatus,
} from '../src/index.js';
import { parseChainSpec } from '../src/protocol/chainspec.js';
import type { ChainSpec } from '../src/protocol/types.js';
import { EMPTY_STORAGE_CARD, storageCard, storageCardLine } from './storage-card.js';

/**
 * The keys this page's URL may set: the library's defaults (sync tuning, workers, log level) plus,
 * because the dashboard is a devnet tool that tests and demos point elsewhere by link, the consensus
 * endpoints, the p2p bootstrap peers, the storage and the verification mode. Never `evmRpc` or
 * `passThrough` (unverified forwarding).
 */
export const DASHBOARD_URL_KEYS: readonly ConfigKey[] = Object.freeze([
  ...DEFAULT_URL_KEYS,
  'rpc',
  'p2p.bootstrap',
  'storage',
  'mode',
] satisfies ConfigKey[]);

/** What web/main.ts fetches (`/devnet.json`), parsed. */
export interface PageConfig {
  chainSpec: ChainSpec;
  rpc: string[];
  evmRpc: string[];
  /** Names one devnet run (`npm start`): the page keeps one IndexedDB database per run. */
  instance?: string;
}

/**
 * Fetch the page config: `{ chainSpec: <chain spec JSON as chainSpecToJson writes it>, rpc: [urls],
 * evmRpc: [urls] }`. Throws an Error saying which part is wrong.
 */
export async function fetchPageConfig(url: string): Promise<PageConfig> {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} (the page needs { chainSpec, rpc, evmRpc } there)`);
  let json: unknown;
  try {
    json = await res.json();
  } catch (e) {
    throw new Error(`${url}: not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${url}: expected an object { chainSpec, rpc, evmRpc }`);
  const o = json as Record<string, unknown>;
  const urls = (key: string): string[] => {
    const v = o[key] ?? [];
    if (!Array.isArray(v) || !v.every((u) => typeof u === 'string'))
      throw new Error(`${url}: ${key} must be a list of URLs`);
    return v as string[];
  };
  if (o.chainSpec === undefined) throw new Error(`${url}: chainSpec is missing`);
  if (o.instance !== undefined && (typeof o.instance !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(o.instance)))
    throw new Error(`${url}: instance must be a short name ([A-Za-z0-9_-], at most 64 characters)`);
  return {
    chainSpec: parseChainSpec(o.chainSpec),
    rpc: urls('rpc'),
    evmRpc: urls('evmRpc'),
    ...(o.instance !== undefined ? { instance: o.instance as string } : {}),
  };
}

export interface NodePage {
  readonly node: LightNode;
  /** Stop refreshing the page and stop the node. */
  stop(): Promise<void>;
}

export interface StartNodePageOptions {
  config: PageConfig;
  /** URL parameters overriding the config (`location.search`, minus page-only parameters). */
  query?: string;
  /** Default 2. */
  verifierWorkers?: number;
  doc?: Document;
  /** Called with the node before it starts (to expose it early, e.g. as `window.alysNode`). */
  onNode?: (node: LightNode) => void;
}

/** Create the node, bind it to the page and start it. Rejects (after showing the error) when it cannot start. */
export async function startNodePage(opts: StartNodePageOptions): Promise<NodePage> {
  const doc = opts.doc ?? document;
  const ui = bindUi(doc);
  let node: LightNode;
  try {
    node = createLightNode({
      chainSpec: opts.config.chainSpec,
      rpc: opts.config.rpc,
      evmRpc: opts.config.evmRpc,
      verifierWorkers: opts.verifierWorkers ?? 2,
      storage: 'indexeddb',
      ...(opts.config.instance !== undefined
        ? {
            databaseName: (spec: ChainSpec, mode: string) =>
              `alys-light-${spec.chainId}-${mode}-${opts.config.instance}`,
          }
        : {}),
      ...(opts.query !== undefined ? { query: opts.query, urlKeys: DASHBOARD_URL_KEYS } : {}),
      // the dashboard shows the in-page actor tree with its verifier Web Workers (a SharedWorker
      // node cannot start nested workers in Chromium: its verifiers run in the node worker's thread)
      placement: 'page',
    });
  } catch (e) {
    ui.error(e);
    throw e;
  }
  for (const w of node.config.warnings) ui.log(w);
  opts.onNode?.(node);
  ui.set('state', 'starting');
  ui.text('chain', `chain ${node.spec.chainId} · ${node.config.config.mode} · ${opts.config.rpc.join(', ')}`);

  const off = [
    node.on('head', (h) => ui.head(h)),
    node.on('finalized', (f) => ui.finalized(f)),
    node.on('sync', (s) => ui.sync(s)),
    node.on('backfill', (b) => ui.backfill(b)),
    node.on('storage', (s) => ui.storage(s)),
    node.on('source', (s) => ui.log(`source ${s.id}: score ${s.score}${s.banned ? ' (banned)' : ''}: ${s.reason}`)),
    node.on('fork', (f) => ui.log(`fork ${f.kind} at ${f.number}: ${f.detail}`)),
    node.on('health', (h) => ui.log(`health ${h.address}: ${h.state} ${h.detail}`)),
  ];

  let timer: ReturnType<typeof setInterval> | undefined;
  let refreshing = false;
  const refresh = async () => {
    if (refreshing) return;
    refreshing = true;
    try {
      const status = await node.status();
      if (status.running) ui.status(status);
    } catch (e) {
      ui.log(`status: ${(e as Error).message}`);
    } finally {
      refreshing = false;
    }
  };
  const stop = async () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    for (const f of off) f();
    await node.stop();
    ui.set('state', 'stopped');
  };

  try {
    await node.start();
  } catch (e) {
    ui.error(e);
    await node.stop().catch(() => {});
    throw e;
  }
  ui.set('state', 'running');
  void refresh();
  timer = setInterval(() => void refresh(), 1_000);
  return { node, stop };
}

// ---------------------------------------------------------------- rendering

function bindUi(doc: Document) {
  const el = (id: string) => doc.getElementById(id);
  const data = doc.body.dataset;
  let card = EMPTY_STORAGE_CARD;
  const set = (key: string, value: string | number) => (data[key] = String(value));
  const text = (id: string, value: string) => {
    const e = el(id);
    if (e) e.textContent = value;
  };
  const log = (line: string) => {
    const e = el('log');
    if (!e) return;
    const lines = `${new Date().toISOString().slice(11, 23)} ${line}\n${e.textContent ?? ''}`.split('\n');
    e.textContent = lines.slice(0, 200).join('\n');
  };
  const rows = (id: string, cells: Array<Array<{ text: string; bad?: boolean }>>) => {
    const body = el(id);
    if (!body) return;
    body.replaceChildren(
      ...cells.map((row) => {
        const tr = doc.createElement('tr');
        for (const c of row) {
          const td = doc.createElement('td');
          td.textContent = c.text;
          if (c.bad) td.className = 'bad';
          tr.append(td);
        }
        return tr;
      }),
    );
  };

  /** Verified history: where it starts (status, backfill events) and where the backfill goes. */
  const history: { from?: number; target?: number; done?: boolean } = {};
  const showHistory = () => {
    if (history.from === undefined) return;
    set('historyFrom', history.from);
    const below =
      history.done === undefined ? '' : history.done ? ' (backfill complete)' : ` (backfilling to ${history.target})`;
    text('history-line', `verified history from block ${history.from}${below}`);
  };

  return {
    set,
    text,
    log,
    error(e: unknown) {
      const message = e instanceof Error ? e.message : String(e);
      set('state', 'error');
      set('error', message);
      const box = el('error');
      if (box) {
        box.hidden = false;
        box.textContent = message;
      }
      log(`error: ${message}`);
    },
    head(h: NodeEvents['head']) {
      set('head', h.number);
      set('headHash', h.hash);
      text('head', String(h.number));
      text('head-hash', h.hash);
    },
    finalized(f: NodeEvents['finalized']) {
      set('finalized', f.number);
      set('finalizedHash', f.hash);
      text('finalized', String(f.number));
      text('finalized-hash', f.hash);
    },
    sync(s: NodeEvents['sync']) {
      set('phase', s.phase);
      set('current', s.current);
      set('target', s.target);
      text('phase', s.phase);
      const progress = el('progress') as HTMLProgressElement | null;
      if (progress) progress.value = s.target > 0 ? Math.min(1, s.current / s.target) : s.phase === 'following' ? 1 : 0;
      const eta = s.etaSeconds === null ? 'unknown' : s.etaSeconds === 0 ? 'now' : `${s.etaSeconds} s`;
      text(
        'sync-line',
        `block ${s.current} of ${s.target} · ${s.rate} blocks/s · ETA ${eta}${s.detail ? ` · ${s.detail}` : ''}`,
      );
    },
    backfill(b: NodeEvents['backfill']) {
      Object.assign(history, { from: b.from, target: b.target, done: b.done });
      set('backfillTarget', b.target);
      set('backfillDone', String(b.done));
      showHistory();
    },
    storage(s: NodeEvents['storage']) {
      card = storageCard(card, s);
      if (s.kind === 'damaged') set('damaged', card.damaged);
      else {
        set('startKind', s.kind);
        if (s.ms !== undefined) set('startMs', s.ms);
        if (s.head !== undefined) set('startHead', s.head);
        text('start-kind', s.kind);
      }
      text('start-detail', storageCardLine(card));
      log(`storage ${s.kind}: ${s.detail}${s.ms !== undefined ? ` (${s.ms} ms)` : ''}`);
    },
    status(s: NodeStatus) {
      // a warm start publishes no head or finalized event until the chain moves: show the stored ones
      if (s.head && data.head === undefined) this.head(s.head);
      if (data.finalized === undefined && s.head) {
        set('finalized', s.finalized);
        text('finalized', String(s.finalized));
      }
      if (s.historyFrom !== null && (history.from === undefined || s.historyFrom < history.from)) {
        history.from = s.historyFrom;
        showHistory();
      }
      rows(
        'actors',
        s.actors.map((a) => [
          { text: a.address },
          { text: a.state, bad: a.state !== 'Running' },
          { text: String(a.restarts), bad: a.restarts > 0 },
          { text: a.placement },
          { text: a.health, bad: a.health === 'unhealthy' },
        ]),
      );
      set('workers', s.actors.filter((a) => a.placement === 'worker' && a.state === 'Running').length);
      const now = Date.now();
      rows(
        'sources',
        s.sources.map((src) => [
          { text: src.id },
          { text: String(src.score), bad: src.score < 50 },
          {
            text:
              src.faults === 0
                ? '0'
                : `${src.faults} (${Object.entries(src.faultsByKind)
                    .map(([kind, n]) => `${kind} ${n}`)
                    .join(', ')})`,
            bad: src.faults > 0,
          },
          { text: String(src.successes) },
          {
            text: src.bannedUntil > now ? `until ${new Date(src.bannedUntil).toISOString().slice(11, 19)}` : 'no',
            bad: src.bannedUntil > now,
          },
        ]),
      );
    },
  };
}
