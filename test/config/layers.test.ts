import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigSyntaxError,
  configParseArgsOptions,
  DEFAULT_URL_KEYS,
  describeConfig,
  envLayer,
  flagsLayer,
  loadBrowserConfig,
  optionsLayer,
  resolveConfig,
  tomlLayer,
  type ConfigLayer,
} from '../../src/config/index.js';

const resolveNode = (...layers: ConfigLayer[]) => resolveConfig({ runtime: 'node', layers });
const errorOf = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('TOML file layer', () => {
  it('maps kebab-case and camelCase keys, tables and inline tables onto the schema', () => {
    const text = [
      'network = "testnet"',
      'rpc = ["https://a.example", "https://b.example"]',
      'evmRpc = ["wss://evm.example"]',
      'metrics-port = 9100',
      'pass-through = ["eth_chainId"]',
      '[sync]',
      'batch-size = 128',
      'requestTimeoutMs = 2000',
    ].join('\n');
    const r = resolveNode(tomlLayer(text, 'alys.toml'));
    expect(r.config).toMatchObject({
      network: 'testnet',
      rpc: ['https://a.example', 'https://b.example'],
      evmRpc: ['wss://evm.example'],
      metricsPort: 9100,
      passThrough: ['eth_chainId'],
      sync: { batchSize: 128, requestTimeoutMs: 2000, parallelism: 4 },
    });
    expect(r.sourceOf('sync.batchSize')).toBe('file');
    expect(r.originOf('sync.batchSize')).toBe('alys.toml: sync.batch-size');
    expect(r.originOf('sync.requestTimeoutMs')).toBe('alys.toml: sync.requestTimeoutMs');
    expect(r.sourceOf('sync.parallelism')).toBe('default');

    const inline = resolveNode(
      tomlLayer('sync = { batch-size = 8, retries = 0 }\nmetrics-port = false\n', 'inline.toml'),
    );
    expect(inline.config.sync).toMatchObject({ batchSize: 8, retries: 0 });
    expect(inline.config.metricsPort).toBeNull();
    expect(inline.sourceOf('metricsPort')).toBe('file');
  });

  it('reports syntax errors with line and column', () => {
    const cases: [string, number, number][] = [
      ['mode = "full"\nrpc = ["http://a",\n', 3, 1],
      ['mode = full\n', 1, 8],
      ['[sync]\nbatch-size = 1\nbatch-size = 2\n', 3, 1],
      ['metrics-port = 9100 9101\n', 1, 21],
    ];
    for (const [text, line, column] of cases) {
      let e: unknown;
      try {
        tomlLayer(text, '/etc/alys/alys.toml');
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(ConfigSyntaxError);
      const s = e as ConfigSyntaxError;
      expect(s.code).toBe('config.syntax');
      expect(s.file).toBe('/etc/alys/alys.toml');
      expect([s.line, s.column]).toEqual([line, column]);
      expect(s.message).toContain(`/etc/alys/alys.toml at line ${line}, column ${column}`);
    }
  });

  it('reports bad values with the file and the key as written', () => {
    const e = errorOf(() => resolveNode(tomlLayer('[sync]\nbatch-size = "64"\n', 'alys.toml')));
    expect(e).toMatchObject({
      key: 'sync.batchSize',
      source: 'file',
      origin: 'alys.toml: sync.batch-size',
      expected: 'an integer from 1 to 1024',
      got: '64',
    });
    expect(e.message).toContain(
      'sync.batchSize (from alys.toml: sync.batch-size): expected an integer from 1 to 1024, got "64"',
    );

    const date = errorOf(() => resolveNode(tomlLayer('network = 1979-05-27\n', 'alys.toml')));
    expect(date).toMatchObject({ key: 'network', source: 'file' });
    const float = errorOf(() => resolveNode(tomlLayer('verifier-workers = 1.5\n', 'alys.toml')));
    expect(float).toMatchObject({ key: 'verifierWorkers', expected: 'an integer from 0 to 16', got: 1.5 });
  });

  it('refuses unknown keys with a suggestion in kebab-case, and two spellings of one key', () => {
    const e = errorOf(() =>
      resolveNode(tomlLayer('evm-rcp = []\nbatch-size = 1\n[sync]\nbatch_size = 4\nfoo = 1\n', 'alys.toml')),
    );
    expect(e.issues.map((i) => [i.code, i.key, i.suggestion])).toEqual([
      ['unknown-key', 'evm-rcp', "'evm-rpc'"],
      ['unknown-key', 'batch-size', "'sync.batch-size'"],
      ['unknown-key', 'sync.batch_size', "'sync.batch-size'"],
      ['unknown-key', 'sync.foo', undefined],
    ]);
    expect(e.message).toContain("evm-rcp (from alys.toml: evm-rcp): unknown key; did you mean 'evm-rpc'?");

    const dup = errorOf(() => resolveNode(tomlLayer('evm-rpc = []\nevmRpc = []\n', 'alys.toml')));
    expect(dup).toMatchObject({ code: 'config.duplicate-key', key: 'evmRpc' });
    expect(dup.message).toContain('also written evm-rpc');
  });

  it('refuses unsafe keys', () => {
    expect(() => tomlLayer('__proto__ = 1\n', 'x.toml')).toThrow(ConfigSyntaxError);
  });
});

describe('environment layer', () => {
  it('reads ALYS_* variables by the documented mapping, lists comma-separated', () => {
    const r = resolveNode(
      envLayer({
        ALYS_RPC: 'http://a.example,http://b.example',
        ALYS_EVM_RPC: 'ws://evm.example',
        ALYS_MODE: 'full',
        ALYS_SYNC_BATCH_SIZE: '16',
        ALYS_SYNC_FOLLOW_INTERVAL_MS: '250',
        ALYS_METRICS_PORT: 'off',
        ALYS_PASS_THROUGH: '',
        ALYS_DATA_DIR: '/var/lib/alys',
        PATH: '/usr/bin',
        alys_mode: 'ignored: lower case is not ours',
      }),
    );
    expect(r.config).toMatchObject({
      rpc: ['http://a.example', 'http://b.example'],
      evmRpc: ['ws://evm.example'],
      mode: 'full',
      sync: { batchSize: 16, followIntervalMs: 250 },
      metricsPort: null,
      passThrough: [],
      dataDir: '/var/lib/alys',
    });
    expect(r.sourceOf('mode')).toBe('env');
    expect(r.originOf('sync.batchSize')).toBe('ALYS_SYNC_BATCH_SIZE');
  });

  it('reports unparsable text with the variable name and the raw text', () => {
    const e = errorOf(() => resolveNode(envLayer({ ALYS_SYNC_BATCH_SIZE: '64k', ALYS_RPC: 'nope', ALYS_MODE: '' })));
    expect(e.issues.map((i) => [i.key, i.origin, i.got])).toEqual([
      ['mode', 'ALYS_MODE', ''],
      ['rpc', 'ALYS_RPC', 'nope'],
      ['sync.batchSize', 'ALYS_SYNC_BATCH_SIZE', '64k'],
    ]);
    expect(e.message).toContain(
      'sync.batchSize (from ALYS_SYNC_BATCH_SIZE): expected an integer from 1 to 1024, got "64k"',
    );
    const item = errorOf(() => resolveNode(envLayer({ ALYS_RPC: 'http://a.example,ftp://b.example' })));
    expect(item).toMatchObject({ key: 'rpc', path: 'rpc[1]', got: 'ftp://b.example', source: 'env' });
  });

  it('refuses unknown ALYS_* variables with a suggestion, but not the reserved ones', () => {
    const e = errorOf(() =>
      resolveNode(
        envLayer({
          ALYS_SYNC_BATCHSIZE: '8',
          ALYS_RCP: 'http://a',
          ALYS_VECTORS: '/v',
          ALYS_CONFIG: '/c.toml',
          ALYS_WHATEVER: '1',
        }),
      ),
    );
    expect(e.issues.map((i) => [i.key, i.suggestion])).toEqual([
      ['ALYS_RCP', 'ALYS_RPC'],
      ['ALYS_SYNC_BATCHSIZE', 'ALYS_SYNC_BATCH_SIZE'],
      ['ALYS_WHATEVER', undefined],
    ]);
    expect(e.message).toContain('ALYS_RCP: unknown key; did you mean ALYS_RPC?');
    expect(() => resolveNode(envLayer({ ALYS_TEST_ONLY: '1' }, { ignore: ['ALYS_TEST_ONLY'] }))).not.toThrow();
  });
});

describe('command-line layer', () => {
  it('takes a parseArgs record: --rpc repeatable (and comma lists), other flags ignored', () => {
    const { values } = parseArgs({
      args: [
        '--rpc',
        'http://a.example',
        '--rpc',
        'http://b.example,http://c.example',
        '--evm-rpc',
        'http://e.example',
        '--mode',
        'full',
        '--data-dir',
        '/d',
        '--network',
        'testnet',
        '--metrics-port',
        '9100',
        '--sync-batch-size',
        '8',
        '--config',
        'x.toml',
        '--help',
      ],
      options: { ...configParseArgsOptions(), config: { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
    });
    const r = resolveNode(flagsLayer(values));
    expect(r.config).toMatchObject({
      rpc: ['http://a.example', 'http://b.example', 'http://c.example'],
      evmRpc: ['http://e.example'],
      mode: 'full',
      dataDir: '/d',
      network: 'testnet',
      metricsPort: 9100,
      sync: { batchSize: 8 },
    });
    expect(r.sourceOf('rpc')).toBe('cli');
    expect(r.originOf('network')).toBe('--network');
  });

  it('declares every config flag for parseArgs, lists as multiple', () => {
    const opts = configParseArgsOptions();
    expect(opts['rpc']).toEqual({ type: 'string', multiple: true });
    expect(opts['pass-through']).toEqual({ type: 'string', multiple: true });
    expect(opts['sync-batch-size']).toEqual({ type: 'string' });
    expect(opts['sync-start']).toEqual({ type: 'string' });
    expect(opts['sync-history']).toEqual({ type: 'string' });
    expect(opts['sync-checkpoint']).toEqual({ type: 'string' });
    expect(opts['sync-max-response-bytes']).toEqual({ type: 'string' });
    expect(opts['p2p-dial-private']).toEqual({ type: 'string' });
    expect(opts['governance-url']).toEqual({ type: 'string' });
    expect(Object.keys(opts)).toHaveLength(35);
    expect(opts['p2p-bootstrap']).toEqual({ type: 'string', multiple: true });
  });

  it('names the flag in errors, including a flag without a value', () => {
    const e = errorOf(() => resolveNode(flagsLayer({ 'metrics-port': '70000', mode: true })));
    expect(e.issues.map((i) => [i.key, i.origin])).toEqual([
      ['mode', '--mode'],
      ['metricsPort', '--metrics-port'],
    ]);
    expect(e.message).toContain(
      'metricsPort (from --metrics-port): expected an integer from 0 to 65535, or null (off), got "70000"',
    );
    expect(e.issues[0]?.problem).toBe('the flag needs a value');
  });

  it('accepts camelCase record keys (a programmatic record)', () => {
    expect(resolveNode(flagsLayer({ syncBatchSize: '3', evmRpc: ['http://x.example'] })).config).toMatchObject({
      sync: { batchSize: 3 },
      evmRpc: ['http://x.example'],
    });
  });
});

describe('browser layers: options and URL query', () => {
  it('reads ?rpc=...&mode=... with repeated or comma lists and kebab, camel or dotted names', () => {
    const r = loadBrowserConfig({
      query:
        '?rpc=https://a.example&rpc=https://b.example,https://c.example&mode=full&sync-batch-size=8&sync.parallelism=2&evmRpc=wss://e.example',
      urlKeys: [...DEFAULT_URL_KEYS, 'rpc', 'mode', 'evmRpc'],
    });
    expect(r.config).toMatchObject({
      rpc: ['https://a.example', 'https://b.example', 'https://c.example'],
      mode: 'full',
      storage: 'indexeddb',
      evmRpc: ['wss://e.example'],
      sync: { batchSize: 8, parallelism: 2 },
    });
    expect(r.sourceOf('rpc')).toBe('url');
    expect(r.originOf('sync.parallelism')).toBe('?sync.parallelism');
    expect(
      loadBrowserConfig({ query: new URLSearchParams({ 'metrics-port': 'off' }), urlKeys: ['metricsPort'] }).config
        .metricsPort,
    ).toBeNull();
  });

  it('ignores unrelated parameters, warning about near misses', () => {
    const r = loadBrowserConfig({ query: 'utm_source=x&mdoe=full&tab=2' });
    expect(r.config.mode).toBe('pow-checkpoint');
    expect(r.warnings).toEqual(['URL parameter ?mdoe is not a config parameter (ignored); did you mean ?mode?']);
  });

  it('reports bad parameter values with the parameter name', () => {
    const e = errorOf(() => loadBrowserConfig({ query: '?sync-batch-size=9999' }));
    expect(e).toMatchObject({ key: 'sync.batchSize', source: 'url', origin: '?sync-batch-size', got: '9999' });
    const dup = errorOf(() =>
      loadBrowserConfig({ query: '?evm-rpc=http://a.example&evmRpc=http://b.example', urlKeys: ['evmRpc'] }),
    );
    expect(dup.code).toBe('config.duplicate-key');
  });

  it('takes the embed options object, skipping undefined values', () => {
    const r = loadBrowserConfig({
      options: { mode: 'full', metricsPort: undefined, sync: { batchSize: 16, retries: undefined } },
    });
    expect(r.config.mode).toBe('full');
    expect(r.sourceOf('metricsPort')).toBe('default');
    expect(r.sourceOf('sync.retries')).toBe('default');
    expect(r.originOf('sync.batchSize')).toBe('options.sync.batchSize');
    expect(() => loadBrowserConfig({ options: { storage: 'level' } })).toThrow(
      expect.objectContaining({ key: 'storage', expected: "'memory' | 'indexeddb' (in a browser)" }),
    );
  });

  it("does not keep references to the caller's arrays", () => {
    const rpc = ['https://a.example'];
    const r = loadBrowserConfig({ options: { rpc } });
    rpc.push('https://b.example');
    expect(r.config.rpc).toEqual(['https://a.example']);
  });
});

describe('describeConfig', () => {
  it('lists every key with value, source and origin as plain data', () => {
    const r = resolveNode(
      tomlLayer('mode = "full"\n', 'f.toml'),
      envLayer({ ALYS_RPC: 'http://x.example' }),
      optionsLayer({}),
    );
    const rows = describeConfig(r);
    expect(rows.find((x) => x.key === 'mode')).toEqual({
      key: 'mode',
      value: 'full',
      source: 'file',
      origin: 'f.toml: mode',
      reloadable: false,
    });
    expect(rows.find((x) => x.key === 'rpc')).toEqual({
      key: 'rpc',
      value: ['http://x.example'],
      source: 'env',
      origin: 'ALYS_RPC',
      reloadable: true,
    });
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });
});
