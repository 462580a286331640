/**
 * The light node's configuration: its type, defaults and validation rules, declared once in
 * {@link CONFIG_SCHEMA}. Everything else (TOML keys, `ALYS_*` variables, CLI flags, URL parameters,
 * which keys hot-reload) is derived from the key paths here, so the mappings cannot drift:
 *
 *   key path          TOML (kebab or camel)     environment              CLI flag / URL parameter
 *   rpc               rpc                       ALYS_RPC                 --rpc (repeatable) / ?rpc
 *   evmRpc            evm-rpc                   ALYS_EVM_RPC             --evm-rpc
 *   sync.batchSize    [sync] batch-size         ALYS_SYNC_BATCH_SIZE     --sync-batch-size
 *
 * See {@link CONFIG_KEYS} for the full table (`describeConfigKeys()` prints it).
 *
 * Runs in browsers: no Node globals.
 */
import { ConfigError } from './errors.js';
import { either, flag, integer, listOf, matching, nullable, oneOf, path, url, type ValueSpec } from './fields.js';

export const NETWORK_NAMES = ['devnet', 'dev', 'testnet', 'testnet-full'] as const;
/** A shipped network, or a path to a chain spec JSON file. */
export type NetworkName = (typeof NETWORK_NAMES)[number];
export const SYNC_MODES = ['full', 'pow-checkpoint'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];
export const SYNC_STARTS = ['head', 'genesis'] as const;
export type SyncStart = (typeof SYNC_STARTS)[number];
/** `sync.history`: `none`, `all`, or a number of blocks below the head. */
export type SyncHistory = 'none' | 'all' | number;
/** Blocks of history a browser node keeps by default: a day of 5 s slots. */
export const BROWSER_HISTORY_BLOCKS = 17_280;
export const STORAGE_KINDS = ['memory', 'level', 'indexeddb'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];
export const BLS_BACKENDS = ['auto', 'noble', 'blst', 'wasm'] as const;
export type BlsBackendChoice = (typeof BLS_BACKENDS)[number];
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Whether a message at `level` is shown under the configured `logLevel` (`silent` shows nothing). */
export function logLevelShows(logLevel: LogLevel, level: Exclude<LogLevel, 'silent'>): boolean {
  return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(logLevel);
}

/** Where the node runs; decides the default storage and which storage kinds are allowed. */
export type ConfigRuntime = 'node' | 'browser';

/** libp2p (alys-protocol.md 7): peers are block sources next to the RPC endpoints. */
export interface P2pConfig {
  /** Addresses to listen on (Node), e.g. /ip4/0.0.0.0/tcp/55444. Default none. */
  readonly listen: readonly string[];
  /** Peers to dial at start (multiaddrs with /p2p/<peer id>). Default none. */
  readonly bootstrap: readonly string[];
  /**
   * Peers to dial from discovery announcements heard through the relay (0 = off: neither dial nor
   * announce). 0..64; default 8 in browsers (they find each other this way), 0 in Node.
   */
  readonly discover: number;
  /**
   * Dial loopback and private-network addresses (RFC 1918, link-local, 100.64/10, fc00::/7, localhost)
   * learned from peers. Those in `bootstrap`, and relayed addresses through them, are dialled anyway.
   * Default false in browsers (a stranger must not make a page probe the user's network), true in Node.
   */
  readonly dialPrivate: boolean;
}

export interface SyncConfig {
  /** Blocks per range request. 1..1024, default 64. */
  readonly batchSize: number;
  /** Range requests in flight across endpoints. 1..32, default 4. */
  readonly parallelism: number;
  /** Per-request timeout (ms). 100..600 000, default 10 000. */
  readonly requestTimeoutMs: number;
  /** Retries of a failed range before the sync reports an error. 0..100, default 5. */
  readonly retries: number;
  /** First retry delay (ms). 1..600 000, default 250; never above `backoffMaxMs`. */
  readonly backoffInitialMs: number;
  /** Cap on the retry delay (ms). 1..3 600 000, default 30 000. */
  readonly backoffMaxMs: number;
  /** How often to poll for a new head once synced (ms). 50..3 600 000, default 1000. */
  readonly followIntervalMs: number;
  /**
   * How a node without a stored chain starts: `head` (default: a verified head from one block, the
   * finalized block from a walk down to the latest PoW block, docs/trust.md) or `genesis` (replay
   * from block 0).
   */
  readonly start: SyncStart;
  /**
   * How much verified history below the start to backfill: `none`, `all` (to genesis) or a number
   * of blocks below the head. Default `all` in Node, 17280 (a day of 5 s slots) in browsers.
   */
  readonly history: SyncHistory;
  /** A weak-subjectivity checkpoint: a consensus block hash the chain must contain (backfill stops there). Default none. */
  readonly checkpoint: string | null;
  /** Cap on one consensus RPC response body (bytes; larger ones are aborted). 64 KiB..1 GiB, default 16 MiB. */
  readonly maxResponseBytes: number;
  /** Cap on one EVM JSON-RPC response body (bytes; larger ones are aborted). 64 KiB..1 GiB, default 32 MiB. */
  readonly maxEvmResponseBytes: number;
}

export const BITCOIN_NETWORK_NAMES = ['mainnet', 'testnet', 'testnet4', 'signet', 'regtest'] as const;
export type BitcoinNetworkName = (typeof BITCOIN_NETWORK_NAMES)[number];

/** The Bitcoin source of the bridge (issue 16): Esplora endpoints, cross-checked, verified by SPV. */
export interface BitcoinConfig {
  /** Esplora REST endpoints (http/https), cross-checked. Default the local devnet's. */
  readonly esplora: readonly string[];
  /** The Bitcoin network Alys is anchored to. Default `regtest` (the devnet's). */
  readonly network: BitcoinNetworkName;
  /** Height of the SPV checkpoint. Default null: the chain spec's `bitcoinStartHeight`. */
  readonly checkpointHeight: number | null;
  /**
   * Block hash (display hex) at `checkpointHeight`. Default null: the hash every endpoint names there.
   * Needs `checkpointHeight` (refused where the SPV client is made, `bitcoinSpvOptions`).
   */
  readonly checkpointHash: string | null;
  /** Cap on one raw transaction answer (bytes). 64 KiB..1 GiB, default 4,000,000. */
  readonly maxTxBytes: number;
}

/** The governance stream (spec 10.1, docs/federation-updates.md): signed federation updates. */
export interface GovernanceConfig {
  /** The governance gRPC endpoint (http/https). Default null: no governance client. */
  readonly url: string | null;
  /** Heartbeat interval on the stream (ms). 100..600 000, default 10 000. */
  readonly heartbeatMs: number;
}

export interface LightNodeConfig {
  /** `devnet` | `dev` | `testnet` | `testnet-full` | a path to a chain spec `.json`. Default `devnet`. */
  readonly network: string;
  /** The devnet's chain spec file, used when `network` is `devnet` (default: the devnet's default path). */
  readonly chainSpecFile: string | null;
  /** Consensus RPC endpoints (http/https), cross-checked. Default the local devnet's. */
  readonly rpc: readonly string[];
  /** EVM JSON-RPC endpoints (http/https/ws/wss). Default the local devnet's. */
  readonly evmRpc: readonly string[];
  /** `full` (approvals of every block) or `pow-checkpoint`. Default `pow-checkpoint`. */
  readonly mode: SyncMode;
  /** `memory` | `level` (Node) | `indexeddb` (browser). Default per runtime. */
  readonly storage: StorageKind;
  /** Where `level` storage lives (Node). Default: the Node loader's (~/.alys-light). */
  readonly dataDir: string | null;
  /** BLS backend. Default `auto`. */
  readonly bls: BlsBackendChoice;
  readonly sync: SyncConfig;
  readonly p2p: P2pConfig;
  readonly bitcoin: BitcoinConfig;
  readonly governance: GovernanceConfig;
  /** Verifier workers; 0 verifies in-thread. 0..16, default 0. */
  readonly verifierWorkers: number;
  /** Prometheus port (0 = any free port), or null for no metrics server. Default null. */
  readonly metricsPort: number | null;
  /** EVM JSON-RPC methods the provider may forward unverified. Default none. */
  readonly passThrough: readonly string[];
  /** Which messages the node's own logging shows (see {@link logLevelShows}). Default `info`. */
  readonly logLevel: LogLevel;
}

/** A leaf in the schema: how to check it, its default, and whether a running node can take a new value. */
export interface KeyDef<T> {
  readonly spec: ValueSpec<T>;
  readonly default: T | ((runtime: ConfigRuntime) => T);
  /** False: changing it needs a restart (the manager refuses it). */
  readonly reloadable: boolean;
  readonly doc: string;
}

type Leaf = string | number | boolean | null | readonly unknown[];
/** The schema's shape follows the config's: a {@link KeyDef} per leaf, an object per group. */
export type SchemaOf<T> = { readonly [K in keyof T]-?: T[K] extends Leaf ? KeyDef<T[K]> : SchemaOf<T[K]> };

/** Dotted paths of the leaves: `network`, `rpc`, `sync.batchSize`, ... */
export type KeyPath<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends Leaf ? `${P}${K}` : KeyPath<T[K], `${P}${K}.`>;
}[keyof T & string];
export type ConfigKey = KeyPath<LightNodeConfig>;

/** A partial config, groups partial too (options objects and `update()` take this). */
export type ConfigInput = {
  readonly [K in keyof LightNodeConfig]?: LightNodeConfig[K] extends Leaf
    ? LightNodeConfig[K]
    : Partial<LightNodeConfig[K]>;
};

const key = <T>(spec: ValueSpec<T>, def: KeyDef<T>['default'], reloadable: boolean, doc: string): KeyDef<T> => ({
  spec,
  default: def,
  reloadable,
  doc,
});

const httpUrl = url(['http', 'https']);
const ms = (min: number, max: number) => integer({ min, max, unit: 'ms' });
const MiB = 1024 * 1024;
const bytes = integer({ min: 64 * 1024, max: 1024 * MiB, unit: 'bytes' });
/** JSON-RPC method names as namespaced by Ethereum clients: `eth_chainId`, `net_version`, `web3_clientVersion`. */
/** A multiaddr as text (parsed again by libp2p when the node starts). */
const multiaddrText = matching(
  /^(\/[A-Za-z0-9._~:%+-]+)+$/,
  'a multiaddr like /ip4/127.0.0.1/tcp/55444/p2p/12D3KooW...',
);
const rpcMethod = matching(/^[a-z][a-z0-9]*_[A-Za-z0-9]+$/, 'a JSON-RPC method name like eth_chainId');

export const CONFIG_SCHEMA: SchemaOf<LightNodeConfig> = {
  network: key(
    either(oneOf(NETWORK_NAMES), path({ suffix: '.json', what: 'chain spec' })),
    'devnet',
    false,
    'which chain: a shipped network or a chain spec file',
  ),
  chainSpecFile: key(
    nullable(path(), 'the devnet default'),
    null,
    false,
    "the devnet's chain spec file (network = devnet)",
  ),
  rpc: key(
    listOf(httpUrl, { unique: true, maxItems: 64 }),
    ['http://127.0.0.1:3000'],
    true,
    'consensus RPC endpoints (may be empty with p2p.bootstrap peers)',
  ),
  evmRpc: key(
    listOf(url(['http', 'https', 'ws', 'wss']), { unique: true, maxItems: 64 }),
    ['http://127.0.0.1:8545'],
    true,
    'EVM JSON-RPC endpoints',
  ),
  mode: key(oneOf(SYNC_MODES), 'pow-checkpoint', false, 'verification mode'),
  storage: key(
    oneOf(STORAGE_KINDS),
    (runtime) => (runtime === 'browser' ? 'indexeddb' : 'level'),
    false,
    'storage backend',
  ),
  dataDir: key(
    nullable(path({ what: 'directory path' }), 'the platform default'),
    null,
    false,
    'data directory for level storage',
  ),
  bls: key(oneOf(BLS_BACKENDS), 'auto', false, 'BLS backend'),
  sync: {
    batchSize: key(integer({ min: 1, max: 1024 }), 64, true, 'blocks per range request'),
    parallelism: key(integer({ min: 1, max: 32 }), 4, true, 'range requests in flight'),
    requestTimeoutMs: key(ms(100, 600_000), 10_000, true, 'per-request timeout'),
    retries: key(integer({ min: 0, max: 100 }), 5, true, 'retries per range'),
    backoffInitialMs: key(ms(1, 600_000), 250, true, 'first retry delay'),
    backoffMaxMs: key(ms(1, 3_600_000), 30_000, true, 'retry delay cap'),
    followIntervalMs: key(ms(50, 3_600_000), 1000, true, 'head polling interval once synced'),
    start: key(oneOf(SYNC_STARTS), 'head', false, 'cold start at the verified head, or replay from genesis'),
    history: key(
      // the integer first: its text form turns digits into a number (env, flags, URL parameters)
      either<SyncHistory>(integer({ min: 0, max: 1_000_000_000 }), oneOf(['none', 'all'] as const)),
      (runtime) => (runtime === 'browser' ? BROWSER_HISTORY_BLOCKS : 'all'),
      false,
      'verified history to backfill below the head: none, all, or a number of blocks',
    ),
    checkpoint: key(
      nullable(matching(/^0x[0-9a-f]{64}$/, 'a 0x-prefixed 32-byte lower-case hex block hash'), 'none'),
      null,
      false,
      'a block hash the chain must contain (weak-subjectivity checkpoint)',
    ),
    // One consensus block as JSON: at most ~15 MB of hex under the 30M gas limit (consensus-rpc.ts).
    maxResponseBytes: key(bytes, 16 * MiB, false, 'cap on one consensus RPC response body (bytes)'),
    // EVM answers: the largest honest one is a block's receipts, ~27 MB of minimal logs under 30M gas (engine/endpoints.ts).
    maxEvmResponseBytes: key(bytes, 32 * MiB, false, 'cap on one EVM JSON-RPC response body (bytes)'),
  },
  p2p: {
    listen: key(listOf(multiaddrText, { unique: true, maxItems: 16 }), [], false, 'libp2p listen addresses'),
    bootstrap: key(listOf(multiaddrText, { unique: true, maxItems: 64 }), [], false, 'libp2p peers to dial at start'),
    discover: key(
      integer({ min: 0, max: 64 }),
      (runtime) => (runtime === 'browser' ? 8 : 0),
      false,
      'peers to dial from announcements through the relay (0 = off)',
    ),
    dialPrivate: key(
      flag(),
      (runtime) => runtime === 'node',
      false,
      'dial loopback/private addresses learned from peers',
    ),
  },
  bitcoin: {
    esplora: key(
      listOf(httpUrl, { unique: true, maxItems: 16 }),
      ['http://127.0.0.1:3002'],
      false,
      'Esplora endpoints of the Bitcoin source',
    ),
    network: key(oneOf(BITCOIN_NETWORK_NAMES), 'regtest', false, 'the Bitcoin network'),
    checkpointHeight: key(
      nullable(integer({ min: 0, max: 0x7fffffff }), "the chain spec's bitcoinStartHeight"),
      null,
      false,
      'Bitcoin SPV checkpoint height',
    ),
    checkpointHash: key(
      nullable(matching(/^[0-9a-f]{64}$/, 'a Bitcoin block hash: 64 lower-case hex digits'), 'cross-checked'),
      null,
      false,
      'Bitcoin SPV checkpoint block hash (needs bitcoin.checkpointHeight)',
    ),
    // consensus bounds a transaction by the block weight: about 4 MB
    maxTxBytes: key(bytes, 4_000_000, false, 'cap on one raw Bitcoin transaction answer (bytes)'),
  },
  governance: {
    url: key(nullable(httpUrl, 'none'), null, false, 'the governance gRPC endpoint (federation updates)'),
    heartbeatMs: key(ms(100, 600_000), 10_000, false, 'heartbeat interval on the governance stream'),
  },
  verifierWorkers: key(integer({ min: 0, max: 16 }), 0, false, 'verifier workers (0 = in-thread)'),
  metricsPort: key(nullable(integer({ min: 0, max: 65535 })), null, true, 'Prometheus metrics port'),
  passThrough: key(listOf(rpcMethod, { unique: true }), [], true, 'EVM methods forwarded unverified'),
  logLevel: key(oneOf(LOG_LEVELS), 'info', true, 'log level'),
};

/** Everything derived about one key. */
export interface ConfigKeyInfo {
  readonly key: ConfigKey;
  /** Path segments (`['sync', 'batchSize']`). */
  readonly segments: readonly string[];
  readonly def: KeyDef<unknown>;
  /** `ALYS_SYNC_BATCH_SIZE`. */
  readonly env: string;
  /** `sync-batch-size` (the CLI flag without `--`, also the URL parameter). */
  readonly flag: string;
  /** `sync.batch-size` (the TOML key, kebab form). */
  readonly toml: string;
  /** Lists take several values (repeatable flag, repeated URL parameter, comma list). */
  readonly isList: boolean;
}

export const kebab = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const camel = (kebabName: string): string =>
  kebabName.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function isKeyDef(x: unknown): x is KeyDef<unknown> {
  return typeof x === 'object' && x !== null && 'spec' in x && 'reloadable' in x;
}

function flatten(schema: object, prefix: readonly string[]): ConfigKeyInfo[] {
  return Object.entries(schema).flatMap(([name, node]): ConfigKeyInfo[] => {
    const segments = [...prefix, name];
    if (!isKeyDef(node)) return flatten(node as object, segments);
    const flag = segments.map(kebab).join('-');
    return [
      {
        key: segments.join('.') as ConfigKey,
        segments,
        def: node,
        env: `ALYS_${flag.replace(/-/g, '_').toUpperCase()}`,
        flag,
        toml: segments.map(kebab).join('.'),
        isList: node.spec.isList === true,
      },
    ];
  });
}

/** Every key, in schema order. */
export const CONFIG_KEYS: readonly ConfigKeyInfo[] = Object.freeze(flatten(CONFIG_SCHEMA, []));
const BY_KEY = new Map<string, ConfigKeyInfo>(CONFIG_KEYS.map((k) => [k.key, k]));

export function keyInfo(key: ConfigKey): ConfigKeyInfo {
  const info = BY_KEY.get(key);
  if (info === undefined)
    throw new ConfigError([
      {
        code: 'unknown-key',
        key,
        path: key,
        expected: 'a config key (see CONFIG_KEYS)',
        got: key,
        source: 'options',
        origin: key,
        problem: 'not a config key',
      },
    ]);
  return info;
}

export function isConfigKey(key: string): key is ConfigKey {
  return BY_KEY.has(key);
}

/** Keys whose change needs a restart. */
export const RESTART_KEYS: readonly ConfigKey[] = CONFIG_KEYS.filter((k) => !k.def.reloadable).map((k) => k.key);

/** The built-in defaults for a runtime (a fresh, mutable-shaped object; frozen by the resolver). */
export function defaultConfig(runtime: ConfigRuntime): LightNodeConfig {
  const out: Record<string, unknown> = {};
  for (const info of CONFIG_KEYS) {
    const d = info.def.default;
    setAt(out, info.segments, typeof d === 'function' ? (d as (r: ConfigRuntime) => unknown)(runtime) : cloneValue(d));
  }
  return out as unknown as LightNodeConfig;
}

export function getAt(config: LightNodeConfig | Record<string, unknown>, key: ConfigKey): unknown {
  let node: unknown = config;
  for (const s of keyInfo(key).segments) node = (node as Record<string, unknown>)[s];
  return node;
}

export function setAt(target: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let node = target;
  for (const s of segments.slice(0, -1)) {
    const next = node[s];
    if (typeof next !== 'object' || next === null) node[s] = {};
    node = node[s] as Record<string, unknown>;
  }
  node[segments[segments.length - 1]!] = value;
}

/** Equality for config values (scalars and lists of scalars). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  return Object.is(a, b);
}

/** Keys whose values differ, in schema order. */
export function diffConfig(a: LightNodeConfig, b: LightNodeConfig): ConfigKey[] {
  return CONFIG_KEYS.filter((k) => !sameValue(getAt(a, k.key), getAt(b, k.key))).map((k) => k.key);
}

function cloneValue<T>(v: T): T {
  return (Array.isArray(v) ? [...v] : v) as T;
}

/** A table of every key for help text and docs: key, TOML, env, flag, default, restart needed, expected form. */
export function describeConfigKeys(runtime: ConfigRuntime = 'node'): string {
  const defaults = defaultConfig(runtime);
  const rows = CONFIG_KEYS.map((k) => [
    k.key,
    k.toml,
    k.env,
    `--${k.flag}${k.isList ? ' (repeatable)' : ''}`,
    JSON.stringify(getAt(defaults, k.key)),
    k.def.reloadable ? 'hot' : 'restart',
    k.def.spec.expected,
  ]);
  const header = ['key', 'toml', 'env', 'flag', 'default', 'reload', 'expected'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}
