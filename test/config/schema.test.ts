import { describe, expect, it } from 'vitest';
import {
  CONFIG_KEYS,
  ConfigError,
  RESTART_KEYS,
  defaultConfig,
  describeConfigKeys,
  envLayer,
  getAt,
  keyInfo,
  logLevelShows,
  resolveConfig,
  setAt,
  validateConfig,
  type ConfigKey,
  type ConfigRuntime,
} from '../../src/config/index.js';
import { editDistance, suggest } from '../../src/config/suggest.js';

interface BadCase {
  value: unknown;
  /** A fragment of the expected form the error must name. */
  expected: string | RegExp;
  runtime?: ConfigRuntime;
  /** The exact path when narrower than the key (a list item). */
  path?: string;
  suggestion?: string;
}
interface KeyCases {
  good: unknown[];
  bad: BadCase[];
  /** Text forms (env/CLI/URL) and the value each converts to. */
  text: [string, unknown][];
  runtime?: ConfigRuntime;
}

const URL_FORM = 'an http(s) URL';
/** One entry per key: TypeScript refuses a missing key, and a test below checks the same at run time. */
const CASES: Record<ConfigKey, KeyCases> = {
  network: {
    good: ['devnet', 'dev', 'testnet', 'testnet-full', '/etc/alys/chain.json', './specs/My-Chain.JSON'],
    bad: [
      {
        value: 'testnt',
        expected: "'devnet' | 'dev' | 'testnet' | 'testnet-full' | a path to a chain spec .json file",
        suggestion: "'testnet'",
      },
      { value: 'mainnet', expected: 'a path to a chain spec .json file' },
      { value: '/etc/alys/chain.toml', expected: 'a path to a chain spec .json file' },
      { value: '', expected: "'devnet'" },
      { value: 7, expected: "'devnet'" },
    ],
    text: [
      ['testnet-full', 'testnet-full'],
      ['/x/c.json', '/x/c.json'],
    ],
  },
  chainSpecFile: {
    good: ['/tmp/alys-devnet/chain-spec.json', 'spec', null],
    bad: [
      { value: '', expected: 'a non-empty path, or null' },
      { value: '   ', expected: 'a non-empty path' },
      { value: 3, expected: 'a non-empty path' },
    ],
    text: [
      ['/a/b.json', '/a/b.json'],
      ['off', null],
    ],
  },
  rpc: {
    good: [['http://127.0.0.1:3000'], ['https://a.example', 'http://b.example:8080/rpc']],
    bad: [
      { value: [], expected: 'a non-empty list of http(s) URLs, or peers in p2p.bootstrap' },
      { value: 'http://127.0.0.1:3000', expected: 'a list of http(s) URLs' },
      { value: ['ws://a.example'], expected: URL_FORM, path: 'rpc[0]' },
      { value: ['http://a.example', 'nope'], expected: URL_FORM, path: 'rpc[1]' },
      { value: ['http://a.example', 'http://a.example'], expected: 'without repeats', path: 'rpc[1]' },
      { value: [' http://a.example'], expected: URL_FORM, path: 'rpc[0]' },
    ],
    text: [
      ['http://a,http://b', ['http://a', 'http://b']],
      [' http://a , ', ['http://a']],
    ],
  },
  evmRpc: {
    good: [[], ['http://127.0.0.1:8545'], ['wss://evm.example/ws', 'https://evm.example']],
    bad: [
      { value: ['ftp://x.example'], expected: 'an http/https/ws/wss URL', path: 'evmRpc[0]' },
      { value: 'http://x', expected: 'a list of http/https/ws/wss URLs' },
      { value: [1], expected: 'an http/https/ws/wss URL', path: 'evmRpc[0]' },
    ],
    text: [
      ['ws://a,http://b', ['ws://a', 'http://b']],
      ['', []],
    ],
  },
  mode: {
    good: ['full', 'pow-checkpoint'],
    bad: [
      { value: 'ful', expected: "'full' | 'pow-checkpoint'", suggestion: "'full'" },
      { value: 'pow_checkpoint', expected: "'full' | 'pow-checkpoint'", suggestion: "'pow-checkpoint'" },
      { value: 'light', expected: "'full' | 'pow-checkpoint'" },
      { value: null, expected: "'full' | 'pow-checkpoint'" },
    ],
    text: [
      ['full', 'full'],
      [' full ', 'full'],
    ],
  },
  storage: {
    good: ['memory', 'level'],
    bad: [
      { value: 'indexeddb', expected: "'memory' | 'level' (in Node)" },
      { value: 'level', expected: "'memory' | 'indexeddb' (in a browser)", runtime: 'browser' },
      { value: 'leveldb', expected: "'memory' | 'level' | 'indexeddb'", suggestion: "'level'" },
      { value: 1, expected: "'memory' | 'level' | 'indexeddb'" },
    ],
    text: [['memory', 'memory']],
  },
  dataDir: {
    good: ['/var/lib/alys-light', 'relative/dir', null],
    bad: [
      { value: '', expected: 'a non-empty directory path, or null' },
      { value: ['a'], expected: 'a non-empty directory path' },
    ],
    text: [
      ['/d', '/d'],
      ['null', null],
    ],
  },
  bls: {
    good: ['auto', 'noble', 'blst', 'wasm'],
    bad: [
      { value: 'bls', expected: "'auto' | 'noble' | 'blst' | 'wasm'", suggestion: "'blst'" },
      { value: 'herumi', expected: "'auto' | 'noble' | 'blst' | 'wasm'" },
    ],
    text: [['noble', 'noble']],
  },
  'sync.batchSize': {
    good: [1, 64, 1024],
    bad: [
      { value: 0, expected: 'an integer from 1 to 1024' },
      { value: 1025, expected: 'an integer from 1 to 1024' },
      { value: 1.5, expected: 'an integer from 1 to 1024' },
      { value: '64', expected: 'an integer from 1 to 1024' },
    ],
    text: [
      ['32', 32],
      ['+8', 8],
      ['abc', 'abc'],
    ],
  },
  'sync.parallelism': {
    good: [1, 4, 32],
    bad: [
      { value: 0, expected: 'an integer from 1 to 32' },
      { value: 33, expected: 'an integer from 1 to 32' },
    ],
    text: [['16', 16]],
  },
  'sync.requestTimeoutMs': {
    good: [100, 10_000, 600_000],
    bad: [
      { value: 99, expected: 'an integer from 100 to 600000 (ms)' },
      { value: 600_001, expected: 'an integer from 100 to 600000 (ms)' },
      { value: Number.NaN, expected: 'an integer from 100 to 600000 (ms)' },
    ],
    text: [
      ['2500', 2500],
      ['2.5s', '2.5s'],
    ],
  },
  'sync.retries': {
    good: [0, 5, 100],
    bad: [
      { value: -1, expected: 'an integer from 0 to 100' },
      { value: 101, expected: 'an integer from 0 to 100' },
    ],
    text: [['0', 0]],
  },
  'sync.backoffInitialMs': {
    good: [1, 250, 30_000],
    bad: [
      { value: 0, expected: 'an integer from 1 to 600000 (ms)' },
      { value: 600_001, expected: 'an integer from 1 to 600000 (ms)' },
    ],
    text: [['100', 100]],
  },
  'sync.backoffMaxMs': {
    good: [250, 30_000, 3_600_000],
    bad: [
      { value: 0, expected: 'an integer from 1 to 3600000 (ms)' },
      { value: 3_600_001, expected: 'an integer from 1 to 3600000 (ms)' },
      { value: 100, expected: 'at least sync.backoffInitialMs (250)' },
    ],
    text: [['60000', 60_000]],
  },
  'sync.followIntervalMs': {
    good: [50, 1000, 3_600_000],
    bad: [
      { value: 49, expected: 'an integer from 50 to 3600000 (ms)' },
      { value: true, expected: 'an integer from 50 to 3600000 (ms)' },
    ],
    text: [['500', 500]],
  },
  'sync.start': {
    good: ['head', 'genesis'],
    bad: [
      { value: 'heads', expected: "'head' | 'genesis'", suggestion: "'head'" },
      { value: 1, expected: "'head' | 'genesis'" },
    ],
    text: [['genesis', 'genesis']],
  },
  'sync.history': {
    good: ['none', 'all', 0, 17_280, 1_000_000_000],
    bad: [
      { value: -1, expected: "an integer from 0 to 1000000000 | 'none' | 'all'" },
      { value: 'some', expected: "an integer from 0 to 1000000000 | 'none' | 'all'" },
      { value: 1.5, expected: "an integer from 0 to 1000000000 | 'none' | 'all'" },
    ],
    text: [
      ['17280', 17_280],
      ['all', 'all'],
      ['none', 'none'],
    ],
  },
  'sync.checkpoint': {
    good: [null, `0x${'0f'.repeat(32)}`],
    bad: [
      { value: `0x${'0F'.repeat(32)}`, expected: 'a 0x-prefixed 32-byte lower-case hex block hash, or null (none)' },
      { value: '0x1234', expected: 'a 0x-prefixed 32-byte lower-case hex block hash, or null (none)' },
    ],
    text: [[`0x${'0f'.repeat(32)}`, `0x${'0f'.repeat(32)}`]],
  },
  'sync.maxResponseBytes': {
    good: [65_536, 16_777_216, 1_073_741_824],
    bad: [
      { value: 65_535, expected: 'an integer from 65536 to 1073741824 (bytes)' },
      { value: 1_073_741_825, expected: 'an integer from 65536 to 1073741824 (bytes)' },
    ],
    text: [['1048576', 1_048_576]],
  },
  'sync.maxEvmResponseBytes': {
    good: [65_536, 33_554_432],
    bad: [{ value: 0, expected: 'an integer from 65536 to 1073741824 (bytes)' }],
    text: [['1048576', 1_048_576]],
  },
  'bitcoin.esplora': {
    good: [[], ['http://127.0.0.1:3002', 'https://blockstream.info/api']],
    bad: [
      { value: ['ftp://x.example'], expected: 'http', path: 'bitcoin.esplora[0]' },
      { value: ['https://a.example', 'https://a.example'], expected: 'without repeats', path: 'bitcoin.esplora[1]' },
    ],
    text: [['https://a.example,https://b.example', ['https://a.example', 'https://b.example']]],
  },
  'bitcoin.network': {
    good: ['mainnet', 'testnet', 'testnet4', 'signet', 'regtest'],
    bad: [
      {
        value: 'testnet3',
        expected: "'mainnet' | 'testnet' | 'testnet4' | 'signet' | 'regtest'",
        suggestion: "'testnet'",
      },
      { value: 'bitcoin', expected: "'mainnet' | 'testnet' | 'testnet4' | 'signet' | 'regtest'" },
    ],
    text: [['signet', 'signet']],
  },
  'bitcoin.checkpointHeight': {
    good: [null, 0, 840_000, 0x7fffffff],
    bad: [
      { value: -1, expected: 'an integer from 0 to 2147483647' },
      { value: 1.5, expected: 'an integer from 0 to 2147483647' },
    ],
    text: [
      ['840000', 840_000],
      ['off', null],
    ],
  },
  'bitcoin.checkpointHash': {
    good: [null, 'ab'.repeat(32)],
    bad: [
      { value: `0x${'ab'.repeat(32)}`, expected: 'a Bitcoin block hash: 64 lower-case hex digits' },
      { value: 'AB'.repeat(32), expected: 'a Bitcoin block hash: 64 lower-case hex digits' },
    ],
    text: [['cd'.repeat(32), 'cd'.repeat(32)]],
  },
  'bitcoin.maxTxBytes': {
    good: [65_536, 4_000_000],
    bad: [{ value: 1000, expected: 'an integer from 65536 to 1073741824 (bytes)' }],
    text: [['4000000', 4_000_000]],
  },
  'governance.url': {
    good: [null, 'http://127.0.0.1:50051', 'https://governance.example'],
    bad: [
      { value: 'ws://127.0.0.1:50051', expected: 'http' },
      { value: 'not a url', expected: 'http' },
    ],
    text: [
      ['http://127.0.0.1:50051', 'http://127.0.0.1:50051'],
      ['off', null],
    ],
  },
  'governance.heartbeatMs': {
    good: [100, 10_000, 600_000],
    bad: [
      { value: 99, expected: 'an integer from 100 to 600000 (ms)' },
      { value: 600_001, expected: 'an integer from 100 to 600000 (ms)' },
    ],
    text: [['5000', 5000]],
  },
  verifierWorkers: {
    good: [0, 4, 16],
    bad: [
      { value: 17, expected: 'an integer from 0 to 16' },
      { value: -1, expected: 'an integer from 0 to 16' },
    ],
    text: [['2', 2]],
  },
  metricsPort: {
    good: [null, 0, 9100, 65535],
    bad: [
      { value: 65536, expected: 'an integer from 0 to 65535, or null (off)' },
      { value: -1, expected: 'an integer from 0 to 65535' },
      { value: '9100', expected: 'an integer from 0 to 65535' },
    ],
    text: [
      ['9100', 9100],
      ['off', null],
      ['none', null],
      ['', null],
    ],
  },
  'p2p.listen': {
    good: [[], ['/ip4/0.0.0.0/tcp/55444', '/ip4/127.0.0.1/tcp/0/ws']],
    bad: [
      {
        value: ['127.0.0.1:55444'],
        expected: 'a multiaddr like /ip4/127.0.0.1/tcp/55444/p2p/12D3KooW...',
        path: 'p2p.listen[0]',
      },
      { value: '/ip4/0.0.0.0/tcp/1', expected: 'a list of multiaddrs' },
    ],
    text: [
      ['/ip4/0.0.0.0/tcp/1,/ip4/0.0.0.0/tcp/2/ws', ['/ip4/0.0.0.0/tcp/1', '/ip4/0.0.0.0/tcp/2/ws']],
      ['', []],
    ],
  },
  'p2p.bootstrap': {
    good: [[], ['/ip4/127.0.0.1/tcp/55444/p2p/12D3KooWabc', '/dns4/relay.example/tcp/443/wss/p2p/12D3KooWdef']],
    bad: [
      { value: ['/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.4/tcp/1'], expected: 'without repeats', path: 'p2p.bootstrap[1]' },
      { value: ['relay.example:443'], expected: 'a multiaddr', path: 'p2p.bootstrap[0]' },
    ],
    text: [
      ['/ip4/1.2.3.4/tcp/1/p2p/X', ['/ip4/1.2.3.4/tcp/1/p2p/X']],
      ['', []],
    ],
  },
  'p2p.discover': {
    good: [0, 8, 64],
    bad: [
      { value: 65, expected: 'an integer from 0 to 64' },
      { value: -1, expected: 'an integer from 0 to 64' },
    ],
    text: [['3', 3]],
  },
  'p2p.dialPrivate': {
    good: [true, false],
    bad: [
      { value: 'maybe', expected: 'true or false' },
      { value: 1, expected: 'true or false' },
    ],
    text: [
      ['true', true],
      ['off', false],
      [' Yes ', true],
      ['0', false],
    ],
  },
  passThrough: {
    good: [[], ['eth_chainId'], ['eth_chainId', 'net_version', 'web3_clientVersion']],
    bad: [
      { value: ['chainId'], expected: 'a JSON-RPC method name like eth_chainId', path: 'passThrough[0]' },
      { value: ['eth_chainId', 'eth_chainId'], expected: 'without repeats', path: 'passThrough[1]' },
      { value: 'eth_chainId', expected: 'a list of JSON-RPC method names like eth_chainId' },
    ],
    text: [
      ['eth_chainId,net_version', ['eth_chainId', 'net_version']],
      ['', []],
    ],
  },
  logLevel: {
    good: ['silent', 'error', 'warn', 'info', 'debug', 'trace'],
    bad: [
      { value: 'warning', expected: "'silent' | 'error' | 'warn' | 'info' | 'debug' | 'trace'", suggestion: "'warn'" },
      { value: 'verbose', expected: "'silent' | 'error'" },
    ],
    text: [['debug', 'debug']],
  },
};

const withKey = (key: ConfigKey, value: unknown): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  setAt(out, keyInfo(key).segments, value);
  return out;
};

describe('config schema: every key', () => {
  it('has cases for exactly the schema keys', () => {
    expect(Object.keys(CASES).sort()).toEqual(CONFIG_KEYS.map((k) => k.key).sort());
  });

  for (const info of CONFIG_KEYS) {
    const cases = CASES[info.key];
    describe(info.key, () => {
      it.each(cases.good.map((v) => [JSON.stringify(v), v] as const))('accepts %s', (_label, value) => {
        const runtime = cases.runtime ?? 'node';
        const config = validateConfig(withKey(info.key, value), runtime);
        expect(getAt(config, info.key)).toEqual(value);
      });

      it.each(cases.bad.map((c) => [JSON.stringify(c.value) ?? String(c.value), c] as const))(
        'refuses %s, naming the key and the expected form',
        (_label, c) => {
          let error: unknown;
          try {
            validateConfig(withKey(info.key, c.value), c.runtime ?? 'node');
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(ConfigError);
          const e = error as ConfigError;
          expect(e.key).toBe(info.key);
          expect(e.path).toBe(c.path ?? info.key);
          expect(e.source).toBe('options');
          if (typeof c.expected === 'string') expect(e.expected).toContain(c.expected);
          else expect(e.expected).toMatch(c.expected);
          expect(e.message).toContain(c.path ?? info.key);
          expect(e.message).toContain(e.expected);
          expect(e.suggestion).toBe(c.suggestion);
          if (c.suggestion) expect(e.message).toContain(`did you mean ${c.suggestion}?`);
        },
      );

      it.each(cases.text)('reads text %j from the environment', (text, value) => {
        const layer = envLayer({ [info.env]: text });
        expect(layer.entries.get(info.key)?.value).toEqual(value);
      });
    });
  }
});

describe('config schema: defaults and derived names', () => {
  it('has the documented defaults, storage decided by the runtime', () => {
    const node = defaultConfig('node');
    expect(node).toMatchObject({
      network: 'devnet',
      mode: 'pow-checkpoint',
      storage: 'level',
      bls: 'auto',
      sync: { batchSize: 64, parallelism: 4, requestTimeoutMs: 10_000, retries: 5, followIntervalMs: 1000 },
      verifierWorkers: 0,
      metricsPort: null,
      passThrough: [],
    });
    expect(defaultConfig('browser').storage).toBe('indexeddb');
    // browsers find each other through the relay; Node nodes do not announce themselves unless asked
    expect([defaultConfig('node').p2p.discover, defaultConfig('browser').p2p.discover]).toEqual([0, 8]);
    // a page dials private addresses only where its config says; a Node node serves devnets and LANs
    expect([defaultConfig('node').p2p.dialPrivate, defaultConfig('browser').p2p.dialPrivate]).toEqual([true, false]);
    // The defaults themselves validate in both runtimes.
    expect(resolveConfig({ runtime: 'node', layers: [] }).config).toEqual(node);
    expect(resolveConfig({ runtime: 'browser', layers: [] }).config.storage).toBe('indexeddb');
  });

  it('resolves to a deeply frozen config whose every source is default', () => {
    const r = resolveConfig({ runtime: 'node', layers: [] });
    expect(Object.isFrozen(r.config)).toBe(true);
    expect(Object.isFrozen(r.config.sync)).toBe(true);
    expect(Object.isFrozen(r.config.rpc)).toBe(true);
    for (const k of CONFIG_KEYS) expect(r.sourceOf(k.key)).toBe('default');
    expect(() => r.sourceOf('sync.nope' as ConfigKey)).toThrow(/not a config key/);
  });

  it('derives env, flag and TOML names from the key path', () => {
    expect(keyInfo('rpc')).toMatchObject({ env: 'ALYS_RPC', flag: 'rpc', toml: 'rpc', isList: true });
    expect(keyInfo('evmRpc')).toMatchObject({ env: 'ALYS_EVM_RPC', flag: 'evm-rpc', toml: 'evm-rpc', isList: true });
    expect(keyInfo('dataDir')).toMatchObject({
      env: 'ALYS_DATA_DIR',
      flag: 'data-dir',
      toml: 'data-dir',
      isList: false,
    });
    expect(keyInfo('metricsPort')).toMatchObject({ env: 'ALYS_METRICS_PORT', flag: 'metrics-port' });
    expect(keyInfo('sync.batchSize')).toMatchObject({
      env: 'ALYS_SYNC_BATCH_SIZE',
      flag: 'sync-batch-size',
      toml: 'sync.batch-size',
    });
    expect(keyInfo('sync.requestTimeoutMs')).toMatchObject({
      env: 'ALYS_SYNC_REQUEST_TIMEOUT_MS',
      flag: 'sync-request-timeout-ms',
    });
    expect(new Set(CONFIG_KEYS.map((k) => k.env)).size).toBe(CONFIG_KEYS.length);
    expect(new Set(CONFIG_KEYS.map((k) => k.flag)).size).toBe(CONFIG_KEYS.length);
    const table = describeConfigKeys();
    for (const k of CONFIG_KEYS) expect(table).toContain(k.env);
  });

  it('marks network, storage, dataDir (and other start-time choices) as needing a restart', () => {
    expect(RESTART_KEYS).toEqual(
      expect.arrayContaining(['network', 'chainSpecFile', 'storage', 'dataDir', 'mode', 'bls', 'verifierWorkers']),
    );
    expect(RESTART_KEYS).not.toContain('rpc');
    expect(RESTART_KEYS).not.toContain('sync.batchSize');
    expect(RESTART_KEYS).not.toContain('logLevel');
  });

  it('reports every problem at once, the first in the top-level fields', () => {
    let e: ConfigError | undefined;
    try {
      validateConfig({ mode: 'fast', sync: { batchSize: 0 }, rpc: ['ftp://x'] }, 'node');
    } catch (err) {
      e = err as ConfigError;
    }
    // In the order written (a file's line order).
    expect(e?.issues.map((i) => i.key)).toEqual(['mode', 'sync.batchSize', 'rpc']);
    expect(e?.key).toBe('mode');
    expect(e?.message).toContain('3 problems');
    expect(e?.message).toMatch(/- rpc\[0\] \(from options\.rpc\): expected an http\(s\) URL, got "ftp:\/\/x"/);
  });

  it('needs a source of blocks: consensus RPC endpoints or p2p.bootstrap peers', () => {
    expect(() => validateConfig({ rpc: [] }, 'node')).toThrow(
      expect.objectContaining({ key: 'rpc', expected: 'a non-empty list of http(s) URLs, or peers in p2p.bootstrap' }),
    );
    expect(
      validateConfig({ rpc: [], p2p: { bootstrap: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWabc'] } }, 'node').rpc,
    ).toEqual([]);
    expect(() => validateConfig({ p2p: { bootstrap: ['127.0.0.1:1'] } }, 'node')).toThrow(
      expect.objectContaining({ key: 'p2p.bootstrap' }),
    );
  });

  it('checks backoff bounds against each other, blaming the key set last', () => {
    expect(() => validateConfig({ sync: { backoffInitialMs: 40_000 } }, 'node')).toThrow(
      expect.objectContaining({
        key: 'sync.backoffInitialMs',
        expected: 'at most sync.backoffMaxMs (30000)',
        got: 40_000,
      }),
    );
    expect(() => validateConfig({ sync: { backoffInitialMs: 500, backoffMaxMs: 400 } }, 'node')).toThrow(
      expect.objectContaining({ key: 'sync.backoffMaxMs', expected: 'at least sync.backoffInitialMs (500)' }),
    );
    expect(validateConfig({ sync: { backoffInitialMs: 400, backoffMaxMs: 400 } }, 'node').sync.backoffMaxMs).toBe(400);
  });

  it('refuses a non-object config and a non-table group', () => {
    expect(() => validateConfig(42, 'node')).toThrow(
      expect.objectContaining({
        key: '(top level)',
        expected: expect.stringContaining('an object with keys network,'),
      }),
    );
    expect(() => validateConfig({ sync: [1] }, 'node')).toThrow(
      expect.objectContaining({ key: 'sync', expected: expect.stringContaining('batchSize, parallelism') }),
    );
    expect(() => validateConfig({ sync: null }, 'node')).toThrow(ConfigError);
  });
});

describe('config schema: did you mean', () => {
  it('measures edits with swaps', () => {
    expect(editDistance('mode', 'mode')).toBe(0);
    expect(editDistance('mdoe', 'mode')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests close names, ignoring case and separators, and nothing for far ones', () => {
    expect(suggest('batch_size', ['batch-size', 'parallelism'])).toBe('batch-size');
    expect(suggest('evmrpc', ['rpc', 'evm-rpc'])).toBe('evm-rpc');
    expect(suggest('paralelism', ['batch-size', 'parallelism'])).toBe('parallelism');
    expect(suggest('xyz', ['batch-size', 'parallelism'])).toBeUndefined();
    expect(suggest('ab', ['zz'])).toBeUndefined();
  });

  it('suggests keys in the style of the source, also across groups', () => {
    const cases: [unknown, string, string | undefined][] = [
      [{ evmRPC: [] }, 'evmRPC', "'evmRpc'"],
      [{ batchSize: 8 }, 'batchSize', "'sync.batchSize'"],
      [{ sync: { batchsize: 8 } }, 'sync.batchsize', "'sync.batchSize'"],
      [{ sync: { retry: 8 } }, 'sync.retry', "'sync.retries'"],
      [{ colour: 'red' }, 'colour', undefined],
    ];
    for (const [input, key, suggestion] of cases) {
      let e: ConfigError | undefined;
      try {
        validateConfig(input, 'node');
      } catch (err) {
        e = err as ConfigError;
      }
      expect(e?.code).toBe('config.unknown-key');
      expect(e?.key).toBe(key);
      expect(e?.suggestion).toBe(suggestion);
      expect(e?.message).toContain(`${key} (from options.${key}): unknown key`);
    }
  });
});

describe('config schema: logLevel', () => {
  it('shows a message at its level and the more severe ones; silent shows nothing', () => {
    expect(logLevelShows('info', 'error')).toBe(true);
    expect(logLevelShows('info', 'info')).toBe(true);
    expect(logLevelShows('info', 'debug')).toBe(false);
    expect(logLevelShows('error', 'warn')).toBe(false);
    expect(logLevelShows('trace', 'trace')).toBe(true);
    expect(logLevelShows('silent', 'error')).toBe(false);
  });
});
