/**
 * The Bitcoin SPV client (issue 16 item 1): a {@link BitcoinView} over several Esplora endpoints
 * (src/node/sources/esplora.ts), believing none of them. A header chain from a checkpoint verified by
 * PoW and the network's retarget rules (spv-chain.ts), the best chain the verified one with most work
 * across endpoints; transactions by recomputed txid and merkle proof against that chain (spv-tx.ts);
 * confirmations counted on it. Each lie is a typed {@link SpvError} passed to `onFault` with the
 * endpoint and a score fault kind, and changes nothing.
 *
 * A service in the js-libp2p style: `start()` establishes the checkpoint and syncs, then polls every
 * `pollIntervalMs`; `stop()` ends the polling and waits for a sync in flight. `sync()` may also be
 * called directly (calls share one sync in flight). Memory is bounded by the header window
 * (header-window.ts). Nothing is persisted: a restart re-verifies from the checkpoint.
 */
import type { AlysLightError } from '../../errors.js';
import {
  BITCOIN_MAINNET,
  BITCOIN_REGTEST,
  BITCOIN_TESTNET3,
  BITCOIN_TESTNET4,
  type BitcoinNetworkParams,
} from '../../protocol/bitcoin/chain.js';
import { toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { configValueError } from '../../config/errors.js';
import { BITCOIN_NETWORK_NAMES, type BitcoinConfig, type BitcoinNetworkName } from '../../config/schema.js';
import type { SourceFault } from '../workflows/scores.js';
import { createEsploraClient, type EsploraCaps, type EsploraClient } from '../sources/esplora.js';
import type { BitcoinView, BtcTip, BtcTxSighting } from './bitcoin-view.js';
import { HeaderWindow } from './header-window.js';
import { attempt, charge, establishCheckpoint, followEndpoint, type SpvContext } from './spv-chain.js';
import { SpvError } from './spv-errors.js';
import { lookupVerifiedTx } from './spv-tx.js';

export { SpvError, type SpvCheck } from './spv-errors.js';

/**
 * Signet (default signet): testnet-like timing, no min-difficulty rule, its own pow limit.
 * [U] Signet blocks also carry the challenge's signature in the coinbase; headers alone cannot show
 * it, so on signet SPV rests on PoW at signet's (low) difficulty only.
 */
export const BITCOIN_SIGNET: BitcoinNetworkParams = {
  ...BITCOIN_MAINNET,
  name: 'signet',
  powLimit: 0x00000377ae000000000000000000000000000000000000000000000000000000n,
  minVersionHeights: { bip34: 1, bip66: 1, bip65: 1 },
};

const PARAMS: Record<BitcoinNetworkName, BitcoinNetworkParams> = {
  mainnet: BITCOIN_MAINNET,
  testnet: BITCOIN_TESTNET3,
  testnet4: BITCOIN_TESTNET4,
  signet: BITCOIN_SIGNET,
  regtest: BITCOIN_REGTEST,
};

export interface BitcoinSpvOptions {
  /** Esplora base URLs (http/https), cross-checked; at least one. */
  endpoints: readonly string[];
  network: BitcoinNetworkName;
  /**
   * Where verification starts: the chain spec's `bitcoinStartHeight` (no hash: every answering
   * endpoint must name the same block there), or a configured `{height, hash}` (display hex).
   */
  checkpoint: { height: number; hash?: string | undefined };
  fetch?: typeof fetch;
  /** Clock (ms, like Date.now) for the 2-hours-in-the-future header rule. Default Date.now. */
  now?: () => number;
  /** Called for every fault an endpoint is charged with (feed it to the scores). */
  onFault?: (endpoint: string, kind: SourceFault, error: AlysLightError) => void;
  /** Called when a background sync fails as a whole (no endpoint could help). */
  onError?: (error: unknown) => void;
  caps?: Partial<EsploraCaps>;
  timeoutMs?: number;
  /** Background sync period after `start()`, ms. Default 30,000. */
  pollIntervalMs?: number;
  /** Headers kept with their context (reorgs deeper than this are refused). Default 4032. */
  maxHeaders?: number;
  /** Block hashes kept below the window for verified inclusions. Default 10,000. */
  maxRetained?: number;
  /** Headers fetched per catch-up step. Default 2016. */
  maxHeadersPerSync?: number;
}

export interface BitcoinSpv extends BitcoinView {
  /** Establish the checkpoint, sync once, then keep syncing every `pollIntervalMs`. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Establish the checkpoint (first time) and follow every endpoint once; the verified tip. */
  sync(): Promise<BtcTip>;
}

const HASH = /^[0-9a-f]{64}$/;
const MAX_ADDRESS_TXIDS = 100;
const ADDRESS = /^[a-zA-Z0-9]{14,90}$/;

function checkOptions(opts: BitcoinSpvOptions): void {
  if (opts.endpoints.length === 0 || new Set(opts.endpoints).size !== opts.endpoints.length)
    throw configValueError('bitcoin.esplora', 'a non-empty list of distinct http(s) URLs', opts.endpoints);
  if (!(BITCOIN_NETWORK_NAMES as readonly string[]).includes(opts.network))
    throw configValueError('bitcoin.network', BITCOIN_NETWORK_NAMES.join(' | '), opts.network);
  const { height, hash } = opts.checkpoint;
  if (!Number.isSafeInteger(height) || height < 0 || height > 0x7fffffff)
    throw configValueError('bitcoin.checkpointHeight', 'a Bitcoin block height', height);
  if (hash !== undefined && !HASH.test(hash))
    throw configValueError('bitcoin.checkpointHash', '64 lower-case hex digits (display order)', hash);
}

/**
 * The SPV options a node's `bitcoin` config section asks for: its endpoints, network and caps, and the
 * checkpoint (`bitcoin.checkpointHeight` [+ `checkpointHash`], else the chain spec's `bitcoinStartHeight`).
 * A checkpoint hash without its height is refused (ConfigError).
 */
export function bitcoinSpvOptions(
  config: BitcoinConfig,
  spec: { bitcoinStartHeight: number },
): Pick<BitcoinSpvOptions, 'endpoints' | 'network' | 'checkpoint' | 'caps'> {
  if (config.checkpointHash !== null && config.checkpointHeight === null)
    throw configValueError(
      'bitcoin.checkpointHash',
      'null unless bitcoin.checkpointHeight is set',
      config.checkpointHash,
      'a checkpoint hash needs its height',
    );
  const checkpoint =
    config.checkpointHeight === null
      ? { height: spec.bitcoinStartHeight }
      : { height: config.checkpointHeight, hash: config.checkpointHash ?? undefined };
  return { endpoints: config.esplora, network: config.network, checkpoint, caps: { tx: config.maxTxBytes } };
}

export function createBitcoinSpv(opts: BitcoinSpvOptions): BitcoinSpv {
  checkOptions(opts);
  const clients = opts.endpoints.map((url) =>
    createEsploraClient({ url, fetch: opts.fetch, caps: opts.caps, timeoutMs: opts.timeoutMs }),
  );
  const now = opts.now ?? Date.now;
  const ctx: SpvContext = {
    clients,
    params: PARAMS[opts.network],
    nowSeconds: () => Math.floor(now() / 1000),
    fault: (endpoint, kind, error) => opts.onFault?.(endpoint, kind, error),
    maxHeadersPerSync: Math.max(1, opts.maxHeadersPerSync ?? 2016),
  };
  let window: HeaderWindow | null = null;
  const service = createPolling(async () => {
    window ??= new HeaderWindow(await establishCheckpoint(ctx, opts.checkpoint), opts);
    return syncRound(ctx, window);
  }, opts);

  return {
    ...service,
    tip: () => (window ? tipOf(window) : null),
    lookupTx(txid) {
      if (typeof txid !== 'string' || !HASH.test(txid))
        return Promise.reject(badRequest(`expected a txid as 64 lower-case hex digits, got ${JSON.stringify(txid)}`));
      if (!window) return Promise.reject(notStarted());
      return lookupVerifiedTx(ctx, window, txid);
    },
    confirmations: (inclusion) => (window ? confirmationsOn(window, inclusion) : 0),
    addressTxids(address, limit = 25) {
      if (typeof address !== 'string' || !ADDRESS.test(address))
        return Promise.reject(badRequest(`expected a Bitcoin address, got ${JSON.stringify(address)}`));
      return addressTxids(ctx, address, limit);
    },
  };
}

/** `sync()` shared while in flight; `start()` syncs once then every `pollIntervalMs`; `stop()` waits. */
function createPolling(
  syncOnce: () => Promise<BtcTip>,
  opts: Pick<BitcoinSpvOptions, 'pollIntervalMs' | 'onError'>,
): Pick<BitcoinSpv, 'start' | 'stop' | 'sync'> {
  let inflight: Promise<BtcTip> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  const sync = (): Promise<BtcTip> =>
    (inflight ??= syncOnce().finally(() => {
      inflight = null;
    }));
  const schedule = (): void => {
    if (!running) return;
    timer = setTimeout(() => {
      sync()
        .catch((e: unknown) => opts.onError?.(e))
        .finally(schedule);
    }, opts.pollIntervalMs ?? 30_000);
  };
  return {
    sync,
    async start() {
      if (running) return;
      await sync();
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await inflight?.catch(() => {});
    },
  };
}

/** Follow every endpoint; then once more those followed before the best chain moved (now checked against it). */
async function syncRound(ctx: SpvContext, window: HeaderWindow): Promise<BtcTip> {
  const tips = await followAll(ctx, window, ctx.clients);
  const behind = ctx.clients.filter((_, i) => tips[i] !== undefined && window.heightOf(tips[i]!) === undefined);
  if (behind.length > 0) await followAll(ctx, window, behind, false);
  return tipOf(window);
}

/** Follow each endpoint in turn (a lie charges it); each one's tip hash as it named it. */
async function followAll(
  ctx: SpvContext,
  window: HeaderWindow,
  clients: readonly EsploraClient[],
  needOne = true,
): Promise<(string | undefined)[]> {
  const tips: (string | undefined)[] = [];
  let answered = 0;
  for (const c of clients) {
    try {
      await followEndpoint(ctx, window, c);
      answered++;
      tips.push(await attempt(ctx, c, () => c.tipHash()));
    } catch (e) {
      if (!charge(ctx, c.id, e)) throw e;
      tips.push(undefined);
    }
  }
  if (needOne && answered === 0)
    throw new SpvError('no-endpoint', null, 'no Esplora endpoint could be followed this round');
  return tips;
}

function tipOf(window: HeaderWindow): BtcTip {
  const t = window.tip();
  return { height: t.height, hash: toDisplayHex(t.hash) };
}

/** `tip - height + 1` while `blockHash` is the verified block at `height`, else 0. */
export function confirmationsOn(window: HeaderWindow, inclusion: BtcTxSighting['inclusion']): number {
  if (!inclusion || !Number.isSafeInteger(inclusion.height) || inclusion.height < 0) return 0;
  const tip = window.tip().height;
  if (inclusion.height > tip || window.hashAt(inclusion.height) !== inclusion.blockHash) return 0;
  return tip - inclusion.height + 1;
}

/** The union of what the endpoints list (an unverified hint), first-seen order, at most `limit`. */
async function addressTxids(ctx: SpvContext, address: string, limit: number): Promise<string[]> {
  const bound = Math.max(0, Math.min(MAX_ADDRESS_TXIDS, Math.floor(limit)));
  const seen = new Set<string>();
  for (const c of ctx.clients) {
    const ids = await attempt(ctx, c, () => c.addressTxids(address, bound));
    for (const id of ids ?? []) if (seen.size < bound) seen.add(id);
  }
  return [...seen];
}

function badRequest(problem: string): SpvError {
  return new SpvError('bad-request', null, problem);
}

function notStarted(): SpvError {
  return new SpvError('not-started', null, 'the Bitcoin header chain is not established yet: call start() or sync()');
}
