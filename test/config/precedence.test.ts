import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONFIG_KEYS,
  DEFAULT_URL_KEYS,
  defaultConfig,
  getAt,
  keyInfo,
  loadBrowserConfig,
  setAt,
  type ConfigInput,
  type ConfigKey,
  type ConfigSource,
} from '../../src/config/index.js';
import { defaultDataDir, loadNodeConfig } from '../../src/config/nodejs/index.js';

/** Valid values per key (absolute paths only: relative ones in a file are anchored at its directory, tested elsewhere). */
const VALUES: Record<ConfigKey, fc.Arbitrary<unknown>> = {
  network: fc.constantFrom('devnet', 'dev', 'testnet', 'testnet-full', '/specs/custom.json'),
  chainSpecFile: fc.constantFrom(null, '/run/user/1000/alys-light/devnet-x/chain-spec.json', '/specs/other.json'),
  rpc: fc.uniqueArray(fc.constantFrom('http://127.0.0.1:3000', 'https://a.example', 'https://b.example:8443/rpc'), {
    minLength: 1,
    maxLength: 3,
  }),
  evmRpc: fc.uniqueArray(fc.constantFrom('http://127.0.0.1:8545', 'wss://evm.example/ws', 'https://evm.example'), {
    maxLength: 3,
  }),
  mode: fc.constantFrom('full', 'pow-checkpoint'),
  storage: fc.constantFrom('memory', 'level'),
  dataDir: fc.constantFrom(null, '/var/lib/alys', '/tmp/alys-data'),
  bls: fc.constantFrom('auto', 'noble', 'blst', 'wasm'),
  'sync.batchSize': fc.integer({ min: 1, max: 1024 }),
  'sync.parallelism': fc.integer({ min: 1, max: 32 }),
  'sync.requestTimeoutMs': fc.integer({ min: 100, max: 600_000 }),
  'sync.retries': fc.integer({ min: 0, max: 100 }),
  // Kept apart so that the initial <= max rule holds for every combination.
  'sync.backoffInitialMs': fc.integer({ min: 1, max: 1000 }),
  'sync.backoffMaxMs': fc.integer({ min: 1000, max: 3_600_000 }),
  'sync.followIntervalMs': fc.integer({ min: 50, max: 3_600_000 }),
  'sync.start': fc.constantFrom('head', 'genesis'),
  'sync.history': fc.oneof(fc.constantFrom('none', 'all'), fc.integer({ min: 0, max: 1_000_000_000 })),
  'sync.checkpoint': fc.constantFrom(null, `0x${'ab'.repeat(32)}`),
  'sync.maxResponseBytes': fc.integer({ min: 65_536, max: 1_073_741_824 }),
  'sync.maxEvmResponseBytes': fc.integer({ min: 65_536, max: 1_073_741_824 }),
  'p2p.listen': fc.uniqueArray(fc.constantFrom('/ip4/0.0.0.0/tcp/55444', '/ip4/127.0.0.1/tcp/0/ws'), { maxLength: 2 }),
  'p2p.bootstrap': fc.uniqueArray(
    fc.constantFrom('/ip4/10.0.0.1/tcp/55444/p2p/12D3KooWa', '/dns4/relay.example/tcp/443/wss'),
    { maxLength: 2 },
  ),
  'p2p.discover': fc.integer({ min: 0, max: 64 }),
  'p2p.dialPrivate': fc.boolean(),
  'bitcoin.esplora': fc.uniqueArray(fc.constantFrom('http://127.0.0.1:3002', 'https://blockstream.info/api'), {
    maxLength: 2,
  }),
  'bitcoin.network': fc.constantFrom('mainnet', 'testnet', 'testnet4', 'signet', 'regtest'),
  'bitcoin.checkpointHeight': fc.option(fc.integer({ min: 0, max: 0x7fffffff }), { nil: null }),
  // null only: a hash without a height is refused where the SPV client is made (bitcoinSpvOptions)
  'bitcoin.checkpointHash': fc.constant(null),
  'bitcoin.maxTxBytes': fc.integer({ min: 65_536, max: 1_073_741_824 }),
  'governance.url': fc.constantFrom(null, 'http://127.0.0.1:50051', 'https://governance.example'),
  'governance.heartbeatMs': fc.integer({ min: 100, max: 600_000 }),
  verifierWorkers: fc.integer({ min: 0, max: 16 }),
  metricsPort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }),
  passThrough: fc.uniqueArray(fc.constantFrom('eth_chainId', 'net_version', 'web3_clientVersion', 'eth_gasPrice'), {
    maxLength: 4,
  }),
  logLevel: fc.constantFrom('silent', 'error', 'warn', 'info', 'debug', 'trace'),
};

/** The text form of a value for env/CLI/URL. */
function toText(value: unknown): string {
  if (value === null) return 'off';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

type Assignment<L extends string> = Partial<Record<ConfigKey, Partial<Record<L, unknown>>>>;

/** For each key, a value (or nothing) in each layer. */
function assignments<L extends string>(layers: readonly L[]): fc.Arbitrary<Assignment<L>> {
  const perKey = (key: ConfigKey) =>
    fc.record(Object.fromEntries(layers.map((l) => [l, VALUES[key]])) as Record<L, fc.Arbitrary<unknown>>, {
      requiredKeys: [],
    });
  return fc.record(
    Object.fromEntries(CONFIG_KEYS.map((k) => [k.key, perKey(k.key)])) as Record<
      ConfigKey,
      fc.Arbitrary<Partial<Record<L, unknown>>>
    >,
    { requiredKeys: [] },
  );
}

/** The highest layer (last in `order`) that sets the key wins; otherwise the default. */
function expectWinner<L extends ConfigSource>(
  assignment: Assignment<L>,
  order: readonly L[],
  resolved: { config: unknown; sourceOf(k: ConfigKey): ConfigSource },
  defaults: (key: ConfigKey) => unknown,
): void {
  for (const { key } of CONFIG_KEYS) {
    const set: Partial<Record<L, unknown>> = assignment[key] ?? {};
    const winner = [...order].reverse().find((l) => l in set);
    expect({ key, value: getAt(resolved.config as never, key) }).toEqual({
      key,
      value: winner === undefined ? defaults(key) : set[winner],
    });
    expect({ key, source: resolved.sourceOf(key) }).toEqual({ key, source: winner ?? 'default' });
  }
}

/** A pick of one of two text spellings of a list: one value with commas, or one value per entry. */
const splitList = fc.boolean();

describe('precedence (property)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alys-config-prec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Node: defaults < TOML file < ALYS_* env < CLI flags, per key, with the right sourceOf', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(assignments(['file', 'env', 'cli'] as const), splitList, async (assignment, split) => {
        const file: Record<string, unknown> = {};
        const env: Record<string, string> = { ALYS_VECTORS: '/not/a/config/key' };
        const flags: Record<string, string | string[]> = {};
        for (const [key, set] of Object.entries(assignment) as [ConfigKey, Partial<Record<string, unknown>>][]) {
          const info = keyInfo(key);
          if ('file' in set) setAt(file, info.toml.split('.'), set['file'] === null ? false : set['file']);
          if ('env' in set) env[info.env] = toText(set['env']);
          if ('cli' in set) {
            const v = set['cli'];
            flags[info.flag] = info.isList
              ? split && Array.isArray(v) && v.length > 0
                ? v.map(toText)
                : [toText(v)]
              : toText(v);
          }
        }
        const path = join(dir, `alys-${run++}.toml`);
        writeFileSync(path, stringify(file));
        const resolved = await loadNodeConfig({ configFile: path, env, flags });
        const defaults = defaultConfig('node');
        expectWinner(assignment, ['file', 'env', 'cli'], resolved, (key) =>
          key === 'dataDir' ? defaultDataDir() : getAt(defaults, key),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('browser, every key allowed to the URL: defaults < embed options < URL query, per key, with the right sourceOf', () => {
    const every = CONFIG_KEYS.map((k) => k.key);
    fc.assert(
      fc.property(assignments(['options', 'url'] as const).map(dropStorage), splitList, (assignment, split) => {
        const { options, query } = browserInputs(assignment, split);
        const resolved = loadBrowserConfig({ options, query, urlKeys: every });
        const defaults = defaultConfig('browser');
        expectWinner(assignment, ['options', 'url'], resolved, (key) => getAt(defaults, key));
        expect(resolved.warnings).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('browser, default urlKeys: the URL wins only for DEFAULT_URL_KEYS; every other parameter is ignored and named in a warning', () => {
    const allowed = new Set<ConfigKey>(DEFAULT_URL_KEYS);
    fc.assert(
      fc.property(assignments(['options', 'url'] as const).map(dropStorage), splitList, (assignment, split) => {
        const { options, query } = browserInputs(assignment, split);
        const resolved = loadBrowserConfig({ options, query });
        const defaults = defaultConfig('browser');
        // what the URL may not set is as if the URL had not said it
        const effective: Assignment<'options' | 'url'> = Object.fromEntries(
          Object.entries(assignment).map(([key, set]) => {
            if (allowed.has(key as ConfigKey) || !('url' in set)) return [key, set];
            const { url: _, ...rest } = set;
            return [key, rest];
          }),
        );
        expectWinner(effective, ['options', 'url'], resolved, (key) => getAt(defaults, key));
        const refused = CONFIG_KEYS.filter((k) => !allowed.has(k.key) && 'url' in (assignment[k.key] ?? {}));
        if (refused.length === 0) expect(resolved.warnings).toEqual([]);
        else {
          expect(resolved.warnings).toHaveLength(1);
          for (const k of refused) expect(resolved.warnings[0]).toContain(`?${k.flag}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** The embed options object and URL query of an assignment (lists as one comma value or repeated, per `split`). */
function browserInputs(
  assignment: Assignment<'options' | 'url'>,
  split: boolean,
): { options: ConfigInput; query: string } {
  const options: Record<string, unknown> = {};
  const query = new URLSearchParams();
  for (const [key, set] of Object.entries(assignment) as [ConfigKey, Partial<Record<string, unknown>>][]) {
    const info = keyInfo(key);
    if ('options' in set) setAt(options, info.segments, set['options']);
    if ('url' in set) {
      const v = set['url'];
      if (info.isList && split && Array.isArray(v) && v.length > 0)
        for (const item of v) query.append(info.flag, String(item));
      else query.append(info.flag, toText(v));
    }
  }
  return { options: options as ConfigInput, query: `?${query.toString()}` };
}

/** `level` is not allowed in a browser: give storage only browser values. */
function dropStorage(a: Assignment<'options' | 'url'>): Assignment<'options' | 'url'> {
  const storage = a.storage;
  if (storage === undefined) return a;
  const fixed = Object.fromEntries(Object.entries(storage).map(([l, v]) => [l, v === 'level' ? 'indexeddb' : v]));
  return { ...a, storage: fixed };
}
