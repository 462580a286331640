/**
 * Subscriptions, filters and the EIP-1193 events of the provider, over verified blocks only.
 *
 * - `eth_subscribe` `newHeads` / `logs` (address/topics), `eth_unsubscribe`: pushed as EIP-1193
 *   `message` events `{ type: 'eth_subscription', data: { subscription, result } }`.
 * - `eth_newBlockFilter`, `eth_newFilter`, `eth_getFilterChanges`, `eth_getFilterLogs`,
 *   `eth_uninstallFilter`: the same deliveries, pulled (viem's `watchContractEvent` over `custom()`
 *   polls a filter; `watchBlocks` polls `eth_getBlockByNumber`).
 * - `connect` `{ chainId }` on the first verified head (and the first after a disconnect);
 *   `disconnect` (ProviderRpcError 4900) when the node says so: it stopped, or its sync stalled
 *   (no usable consensus source, or a range failing past its retries).
 *
 * Delivery: every watcher keeps the EL height it delivered last (`cursor`) and the hashes (and
 * logs) of the last `reorgWindow` blocks it delivered. On each verified head (or poll) it gets every
 * height after its cursor in order, each block rebuilt by the verified `getBlock` and its logs by the
 * verified `getLogs` (receipts against the receiptsRoot): nothing is buffered, so a reconnect or a
 * sleeping tab delivers the missed heights first, and a failed read leaves the cursor where it was
 * (the next head retries). A block whose parentHash is not the hash delivered below it means the node
 * followed a fork: the watcher walks back to the last block it delivered that is still verified,
 * re-sends logs of the dropped blocks with `removed: true` (newest first), and goes on from there.
 * A watcher more than `maxLag` blocks behind (default 1,024) is told so with a `message`
 * `{ type: 'alys_subscriptionLagged', data: { subscription, from, to, resumeAt } }` and resumes at
 * the verified head: heights from..to are never delivered to it.
 *
 * Bounds: at most `maxWatchers` subscriptions and filters at once (-32005 beyond); a filter not polled
 * (`eth_getFilterChanges` / `eth_getFilterLogs`) for `filterTimeoutMs` (default 5 minutes, as geth) is
 * removed, so a page that forgets its filters does not hold their slots: it is swept (by the injected
 * clock `now`) when a filter is added or used and on each verified head, and then answers "filter not found".
 */
import { toQuantity } from '../../protocol/execution/json.js';
import { ProviderErrorCode, ProviderRpcError } from './errors.js';
import { subscriptionLogFilter as parseLogFilter } from './provider.js';
import type { VerifiedReads } from './reads.js';
import type { Hex, LogFilter, RpcBlockJson, RpcLogJson } from './types.js';

export type SubscriptionListener = (...args: unknown[]) => void;

/** A log as subscriptions deliver it (`removed: true` for logs of blocks a fork dropped). */
export type DeliveredLog = Omit<RpcLogJson, 'removed'> & { removed: boolean };

/** The newHeads result: the verified block without its transaction and uncle lists. */
export type HeadJson = Omit<RpcBlockJson, 'transactions' | 'uncles'>;

export interface SubscriptionHubOptions {
  reads: Pick<VerifiedReads, 'blockNumber' | 'getBlock' | 'getLogs'>;
  chainId: bigint;
  /** A watcher further behind the verified head than this is told so and resumes at the head (default 1,024). */
  maxLag?: number;
  /** Delivered blocks remembered per watcher to undo on a fork (default 64). */
  reorgWindow?: number;
  /** Most subscriptions and filters at once (default 1,000). */
  maxWatchers?: number;
  /** A filter not polled for this long is removed (default 300,000 ms, as geth). */
  filterTimeoutMs?: number;
  /** The clock for filter expiry (default `Date.now`). */
  now?: () => number;
}

export interface SubscriptionHub {
  /** The JSON-RPC methods it answers (the provider routes them here). */
  readonly methods: Readonly<Record<string, (params: unknown) => Promise<unknown>>>;
  on(event: string, listener: SubscriptionListener): void;
  removeListener(event: string, listener: SubscriptionListener): void;
  /** A new verified head: deliver to every subscription (serialised; resolves when this round is done). */
  head(): Promise<void>;
  /** The node stopped or lost its sources: `disconnect` (4900) if connected. */
  disconnect(reason: string): void;
}

type Kind = 'newHeads' | 'logs' | 'blockFilter' | 'logFilter';

interface Delivered {
  number: bigint;
  hash: Hex;
  logs: DeliveredLog[];
}

interface Watcher {
  readonly id: Hex;
  readonly kind: Kind;
  /** Logs: the filter (address/topics; for filters also from/to). */
  readonly filter: LogFilter | undefined;
  /** Last delivered EL height; undefined: start at the next verified head. */
  cursor: bigint | undefined;
  recent: Delivered[];
  /** Filters: when it was created or last polled (`now()`). */
  polled: number;
}

/** Where one round of delivery goes: pushed as events (subscriptions) or collected (filters). */
type Sink = (w: Watcher, result: unknown) => void;

const DEFAULTS = { maxLag: 1024, reorgWindow: 64, maxWatchers: 1000, filterTimeoutMs: 300_000 };

function invalid(message: string): ProviderRpcError {
  return new ProviderRpcError(ProviderErrorCode.invalidParams, `invalid params: ${message}`);
}

function positional(params: unknown, min: number, max: number): readonly unknown[] {
  const p = params ?? [];
  if (!Array.isArray(p)) throw invalid('params must be an array');
  if (p.length < min || p.length > max)
    throw invalid(`expected ${min === max ? min : `${min} to ${max}`} parameters, got ${p.length}`);
  return p;
}

function newId(): Hex {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}` as Hex;
}

function headOf(block: RpcBlockJson): HeadJson {
  const { transactions: _t, uncles: _u, ...head } = block;
  return head;
}

const isLogs = (w: Watcher) => w.kind === 'logs' || w.kind === 'logFilter';
const isFilter = (w: Watcher) => w.kind === 'blockFilter' || w.kind === 'logFilter';

/** Whether block `n` is inside a filter's numeric fromBlock/toBlock (tags: no bound). */
function inRange(filter: LogFilter | undefined, n: bigint): boolean {
  if (typeof filter?.fromBlock === 'bigint' && n < filter.fromBlock) return false;
  if (typeof filter?.toBlock === 'bigint' && n > filter.toBlock) return false;
  return true;
}

export function createSubscriptionHub(options: SubscriptionHubOptions): SubscriptionHub {
  const { reads, chainId } = options;
  const maxLag = BigInt(options.maxLag ?? DEFAULTS.maxLag);
  const reorgWindow = options.reorgWindow ?? DEFAULTS.reorgWindow;
  const maxWatchers = options.maxWatchers ?? DEFAULTS.maxWatchers;
  const filterTimeoutMs = options.filterTimeoutMs ?? DEFAULTS.filterTimeoutMs;
  const now = options.now ?? Date.now;
  if (maxLag < 1n || reorgWindow < 1 || maxWatchers < 1 || !(filterTimeoutMs > 0))
    throw new RangeError(
      'createSubscriptionHub: maxLag, reorgWindow, maxWatchers and filterTimeoutMs must be positive',
    );
  const listeners = new Map<string, Set<SubscriptionListener>>();
  const watchers = new Map<Hex, Watcher>();
  let connected = false;
  let round: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;

  function emit(event: string, ...args: unknown[]): void {
    for (const l of [...(listeners.get(event) ?? [])]) {
      try {
        l(...args);
      } catch {
        // a listener's own error is its business; the others still get the event
      }
    }
  }

  const pushSink: Sink = (w, result) => {
    if (watchers.get(w.id) === w) emit('message', { type: 'eth_subscription', data: { subscription: w.id, result } });
  };

  /** Blocks fetched in one round, shared by the watchers (null: not verified). */
  function blockCache() {
    const blocks = new Map<bigint, Promise<RpcBlockJson | null>>();
    return (n: bigint) => {
      let b = blocks.get(n);
      if (b === undefined) blocks.set(n, (b = reads.getBlock(n, false)));
      return b;
    };
  }

  /**
   * Undo delivered blocks that another verified block replaced (a fork was followed): removed logs,
   * newest first. A height with no verified block (a node syncing again after a restart) is not a
   * fork: it stops there. Returns how many blocks were undone.
   */
  async function unwind(w: Watcher, block: (n: bigint) => Promise<RpcBlockJson | null>, sink: Sink): Promise<number> {
    let undone = 0;
    for (let top = w.recent.at(-1); top !== undefined; top = w.recent.at(-1)) {
      const now = await block(top.number);
      if (now === null || now.hash === top.hash) return undone;
      undone++;
      w.recent.pop();
      w.cursor = top.number - 1n;
      if (isLogs(w)) for (const log of [...top.logs].reverse()) sink(w, { ...log, removed: true });
    }
    return undone;
  }

  async function deliver(w: Watcher, b: RpcBlockJson, sink: Sink): Promise<void> {
    const n = BigInt(b.number);
    let logs: DeliveredLog[] = [];
    if (isLogs(w) && inRange(w.filter, n)) {
      const { address, topics } = w.filter ?? {};
      logs = await reads.getLogs({ address, topics, blockHash: b.hash });
    }
    if (watchers.get(w.id) !== w) return;
    if (w.kind === 'newHeads') sink(w, headOf(b));
    else if (w.kind === 'blockFilter') sink(w, b.hash);
    else for (const log of logs) sink(w, log);
    w.recent.push({ number: n, hash: b.hash, logs });
    if (w.recent.length > reorgWindow) w.recent.shift();
    w.cursor = n;
  }

  /** Deliver every verified height after the watcher's cursor up to `head`, in order. */
  async function advance(
    w: Watcher,
    head: bigint,
    block: (n: bigint) => Promise<RpcBlockJson | null>,
    sink: Sink,
  ): Promise<void> {
    if (w.cursor === undefined) w.cursor = head - 1n;
    if (w.cursor >= head && w.recent.length > 0) await unwind(w, block, sink);
    if (head - w.cursor > maxLag) {
      const from = w.cursor + 1n;
      emit('message', {
        type: 'alys_subscriptionLagged',
        data: { subscription: w.id, from: toQuantity(from), to: toQuantity(head - 1n), resumeAt: toQuantity(head) },
      });
      w.cursor = head - 1n;
      w.recent = [];
    }
    while (w.cursor < head && watchers.get(w.id) === w) {
      const b = await block(w.cursor + 1n);
      if (b === null) return; // not verified (yet): the next head retries
      const below = w.recent.at(-1);
      if (below !== undefined && below.number === w.cursor && below.hash !== b.parentHash) {
        if ((await unwind(w, block, sink)) === 0) return; // not settled yet: the next head looks again
        continue;
      }
      await deliver(w, b, sink);
    }
  }

  /** Remove the filters not polled for `filterTimeoutMs`. */
  function expire(): void {
    const t = now();
    for (const w of watchers.values()) if (isFilter(w) && t - w.polled > filterTimeoutMs) watchers.delete(w.id);
  }

  /** One round over every subscription (filters are pulled). */
  async function deliverAll(): Promise<void> {
    expire();
    const subs = [...watchers.values()].filter((w) => w.kind === 'newHeads' || w.kind === 'logs');
    let head: bigint;
    try {
      head = await reads.blockNumber();
    } catch {
      return; // no verified head yet
    }
    if (!connected) {
      connected = true;
      emit('connect', { chainId: toQuantity(chainId) });
    }
    const block = blockCache();
    for (const w of subs) {
      try {
        await advance(w, head, block, pushSink);
      } catch {
        // a read failed: the cursor stays, the next verified head delivers from there
      }
    }
  }

  async function startCursor(): Promise<bigint | undefined> {
    try {
      return await reads.blockNumber();
    } catch {
      return undefined;
    }
  }

  async function add(kind: Kind, filter: LogFilter | undefined): Promise<Hex> {
    expire();
    if (watchers.size >= maxWatchers)
      throw new ProviderRpcError(ProviderErrorCode.limitExceeded, `at most ${maxWatchers} subscriptions and filters`);
    const id = newId();
    const cursor = await startCursor();
    if (watchers.size >= maxWatchers)
      throw new ProviderRpcError(ProviderErrorCode.limitExceeded, `at most ${maxWatchers} subscriptions and filters`);
    watchers.set(id, { id, kind, filter, cursor, recent: [], polled: now() });
    return id;
  }

  /** The filter a poll names (not expired), marked polled now. */
  function filterOf(params: unknown): Watcher {
    const id = positional(params, 1, 1)[0];
    expire();
    const w = typeof id === 'string' ? watchers.get(id.toLowerCase() as Hex) : undefined;
    if (w === undefined || !isFilter(w))
      throw new ProviderRpcError(ProviderErrorCode.resourceNotFound, 'filter not found', { data: { id } });
    w.polled = now();
    return w;
  }

  async function changes(w: Watcher): Promise<unknown[]> {
    const out: unknown[] = [];
    const head = await reads.blockNumber();
    await advance(w, head, blockCache(), (_w, result) => out.push(result));
    return out;
  }

  const methods: Record<string, (params: unknown) => Promise<unknown>> = {
    eth_subscribe: async (params) => {
      const p = positional(params, 1, 2);
      if (p[0] === 'newHeads') {
        if (p.length > 1) throw invalid('newHeads takes no options');
        return add('newHeads', undefined);
      }
      if (p[0] === 'logs') {
        const f = p[1] === undefined ? {} : parseLogFilter(p[1]);
        if (f.fromBlock !== undefined || f.toBlock !== undefined || f.blockHash !== undefined)
          throw invalid('a logs subscription takes address and topics only');
        return add('logs', f);
      }
      throw invalid(`subscription ${JSON.stringify(p[0])}: newHeads and logs are supported`);
    },
    eth_unsubscribe: async (params) => {
      const id = positional(params, 1, 1)[0];
      const w = typeof id === 'string' ? watchers.get(id.toLowerCase() as Hex) : undefined;
      if (w === undefined || (w.kind !== 'newHeads' && w.kind !== 'logs')) return false;
      return watchers.delete(w.id);
    },
    eth_newBlockFilter: async (params) => (positional(params, 0, 0), add('blockFilter', undefined)),
    eth_newFilter: async (params) => add('logFilter', parseLogFilter(positional(params, 1, 1)[0])),
    eth_getFilterChanges: async (params) => changes(filterOf(params)),
    eth_getFilterLogs: async (params) => {
      const w = filterOf(params);
      if (w.kind !== 'logFilter') throw invalid('eth_getFilterLogs needs a log filter');
      return reads.getLogs(w.filter ?? {});
    },
    eth_uninstallFilter: async (params) => {
      const id = positional(params, 1, 1)[0];
      expire();
      const w = typeof id === 'string' ? watchers.get(id.toLowerCase() as Hex) : undefined;
      if (w === undefined || w.kind === 'newHeads' || w.kind === 'logs') return false;
      return watchers.delete(w.id);
    },
  };

  return {
    methods,
    on(event, listener) {
      let set = listeners.get(event);
      if (set === undefined) listeners.set(event, (set = new Set()));
      set.add(listener);
    },
    removeListener(event, listener) {
      listeners.get(event)?.delete(listener);
    },
    head() {
      // heads arriving during a round coalesce into one more round
      queued ??= round.then(() => {
        queued = undefined;
        return deliverAll();
      });
      round = queued;
      return queued;
    },
    disconnect(reason) {
      if (!connected) return;
      connected = false;
      emit('disconnect', new ProviderRpcError(ProviderErrorCode.disconnected, `disconnected: ${reason}`));
    },
  };
}
