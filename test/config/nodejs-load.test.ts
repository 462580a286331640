import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigFileError,
  ConfigNetworkError,
  ConfigSyntaxError,
  configParseArgsOptions,
  resolveNetwork,
} from '../../src/config/index.js';
import {
  configFileOf,
  defaultDataDir,
  defaultDevnetSpecFile,
  loadChainSpec,
  loadNodeConfig,
  resolveNodeNetwork,
} from '../../src/config/nodejs/index.js';
import { chainSpecToJson, getChainSpec } from '../../src/protocol/chainspec.js';

const dir = mkdtempSync(join(tmpdir(), 'alys-config-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};

describe('loadNodeConfig', () => {
  it('layers defaults < file < env < flags, the file named by --config', async () => {
    const file = write(
      'a/alys.toml',
      'mode = "full"\nrpc = ["http://file.example"]\n[sync]\nbatch-size = 10\nparallelism = 2\n',
    );
    const { values } = parseArgs({
      args: [
        '--config',
        file,
        '--sync-batch-size',
        '30',
        '--rpc',
        'http://cli-1.example',
        '--rpc',
        'http://cli-2.example',
      ],
      options: { ...configParseArgsOptions(), config: { type: 'string' } },
    });
    const r = await loadNodeConfig({
      flags: values,
      env: { ALYS_SYNC_BATCH_SIZE: '20', ALYS_SYNC_PARALLELISM: '3', ALYS_CONFIG: '/ignored.toml' },
    });
    expect(r.config).toMatchObject({
      mode: 'full',
      rpc: ['http://cli-1.example', 'http://cli-2.example'],
      sync: { batchSize: 30, parallelism: 3 },
      storage: 'level',
      dataDir: defaultDataDir(),
    });
    expect([
      r.sourceOf('mode'),
      r.sourceOf('sync.parallelism'),
      r.sourceOf('sync.batchSize'),
      r.sourceOf('dataDir'),
      r.sourceOf('bls'),
    ]).toEqual(['file', 'env', 'cli', 'default', 'default']);
    expect(r.originOf('mode')).toBe(`${file}: mode`);
  });

  it('finds the file through ALYS_CONFIG when no flag names one, and reads none otherwise', async () => {
    const file = write('b/alys.toml', 'log-level = "debug"\n');
    expect(configFileOf({ env: { ALYS_CONFIG: file } })).toBe(file);
    expect((await loadNodeConfig({ env: { ALYS_CONFIG: file } })).config.logLevel).toBe('debug');
    expect(configFileOf({ env: {}, flags: {} })).toBeNull();
    expect(configFileOf({ env: { ALYS_CONFIG: file }, configFile: null })).toBeNull();
    expect((await loadNodeConfig({ env: {} })).config.logLevel).toBe('info');
  });

  it('anchors relative paths in the file at its directory', async () => {
    const file = write(
      'c/conf/alys.toml',
      'network = "../specs/chain.json"\nchain-spec-file = "devnet.json"\ndata-dir = "./data"\n',
    );
    const r = await loadNodeConfig({ configFile: file, env: {} });
    expect(r.config.network).toBe(join(dir, 'c/specs/chain.json'));
    expect(r.config.chainSpecFile).toBe(join(dir, 'c/conf/devnet.json'));
    expect(r.config.dataDir).toBe(join(dir, 'c/conf/data'));
    const named = await loadNodeConfig({ configFile: write('c/named.toml', 'network = "testnet"\n'), env: {} });
    expect(named.config.network).toBe('testnet');
  });

  it('reports a missing file, bad TOML (line/column) and bad values from every layer', async () => {
    await expect(loadNodeConfig({ configFile: join(dir, 'nope.toml'), env: {} })).rejects.toSatisfy(
      (e) =>
        e instanceof ConfigFileError &&
        e.message.includes('nope.toml: no such file') &&
        e.message.includes('--config or ALYS_CONFIG'),
    );
    await expect(loadNodeConfig({ configFile: dir, env: {} })).rejects.toBeInstanceOf(ConfigFileError);
    const bad = write('d/bad.toml', 'mode = "full"\n\n[sync\nbatch-size = 1\n');
    await expect(loadNodeConfig({ configFile: bad, env: {} })).rejects.toSatisfy(
      (e) => e instanceof ConfigSyntaxError && e.line === 3 && e.file === bad,
    );

    const file = write('d/values.toml', 'mode = "fast"\n');
    const e = (await loadNodeConfig({
      configFile: file,
      env: { ALYS_SYNC_RETRIES: 'many' },
      flags: { 'metrics-port': '-1' },
    }).catch((x: unknown) => x)) as ConfigError;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.issues.map((i) => [i.key, i.source, i.origin])).toEqual([
      ['mode', 'file', `${file}: mode`],
      ['sync.retries', 'env', 'ALYS_SYNC_RETRIES'],
      ['metricsPort', 'cli', '--metrics-port'],
    ]);
  });
});

describe('networks', () => {
  it('resolves shipped names, the devnet (explicit or default spec path) and custom spec files', () => {
    expect(resolveNetwork({ network: 'testnet', chainSpecFile: null })).toEqual({ kind: 'shipped', name: 'testnet' });
    expect(resolveNetwork({ network: 'devnet', chainSpecFile: '/x/chain-spec.json' })).toEqual({
      kind: 'devnet',
      specFile: '/x/chain-spec.json',
      fromDefault: false,
    });
    expect(resolveNetwork({ network: 'devnet', chainSpecFile: null })).toEqual({
      kind: 'devnet',
      specFile: null,
      fromDefault: true,
    });
    expect(resolveNodeNetwork({ network: 'devnet', chainSpecFile: null })).toEqual({
      kind: 'devnet',
      specFile: defaultDevnetSpecFile(),
      fromDefault: true,
    });
    // a per-user private directory, never a fixed shared path under /tmp
    expect(defaultDevnetSpecFile('alys-devnet', {})).toBe(
      join(tmpdir(), `alys-light-${process.getuid!()}`, 'devnet-alys-devnet', 'chain-spec.json'),
    );
    expect(defaultDevnetSpecFile('alys-devnet', { XDG_RUNTIME_DIR: '/run/user/7' })).toBe(
      '/run/user/7/alys-light/devnet-alys-devnet/chain-spec.json',
    );
    expect(resolveNetwork({ network: '/s/my.json', chainSpecFile: '/ignored.json' })).toEqual({
      kind: 'spec-file',
      specFile: '/s/my.json',
    });
  });

  it('loads the chain spec, saying what to do when the devnet spec is missing', async () => {
    expect((await loadChainSpec({ network: 'testnet', chainSpecFile: null })).chainId).toBe(
      getChainSpec('testnet').chainId,
    );
    const spec = getChainSpec('dev');
    const file = write('spec/chain-spec.json', JSON.stringify(chainSpecToJson(spec)));
    expect(await loadChainSpec({ network: 'devnet', chainSpecFile: file })).toEqual(spec);
    expect(await loadChainSpec({ network: file, chainSpecFile: null })).toEqual(spec);

    const missing = join(dir, 'spec/missing.json');
    const e = (await loadChainSpec({ network: 'devnet', chainSpecFile: missing }).catch(
      (x: unknown) => x,
    )) as ConfigNetworkError;
    expect(e).toBeInstanceOf(ConfigNetworkError);
    expect(e.file).toBe(missing);
    expect(e.message).toContain('no such file');
    expect(e.message).toContain('npm run devnet');
    const broken = write('spec/broken.json', '{"authorities": 5}');
    await expect(loadChainSpec({ network: broken, chainSpecFile: null })).rejects.toSatisfy(
      (x) => x instanceof ConfigNetworkError && x.message.includes('not a valid chain spec'),
    );
  });
});
