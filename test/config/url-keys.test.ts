/**
 * Which keys a page's URL may set (issue 13 item 9): by default only tuning keys; a link that tries
 * to switch on unverified forwarding, swap the endpoints or weaken verification is ignored with a
 * warning naming the parameters, and the page still loads.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_URL_KEYS,
  loadBrowserConfig,
  queryLayer,
  restrictUrlLayer,
  type ConfigKey,
} from '../../src/config/index.js';

const EMBED = { rpc: ['https://rpc.example'], evmRpc: ['https://evm.example'], mode: 'full' as const };
const HOSTILE =
  '?evm-rpc=https://evil.example&pass-through=eth_call&rpc=https://evil.example&mode=pow-checkpoint' +
  '&p2p-bootstrap=/dns4/evil.example/tcp/443/wss&sync-checkpoint=0x' +
  'ab'.repeat(32) +
  '&network=testnet&storage=memory&sync-batch-size=16&log-level=debug';

describe('URL keys the embedder allows', () => {
  it('by default, refused parameters are ignored and named in one warning; allowed ones apply', () => {
    const r = loadBrowserConfig({ options: EMBED, query: HOSTILE });
    expect(r.config.evmRpc).toEqual(EMBED.evmRpc);
    expect(r.config.passThrough).toEqual([]);
    expect(r.config.rpc).toEqual(EMBED.rpc);
    expect(r.config.mode).toBe('full');
    expect(r.config.p2p.bootstrap).toEqual([]);
    expect(r.config.sync.checkpoint).toBeNull();
    expect(r.config.network).toBe('devnet');
    expect(r.config.storage).toBe('indexeddb');
    expect(r.sourceOf('evmRpc')).toBe('options');
    // allowed: tuning and logging
    expect(r.config.sync.batchSize).toBe(16);
    expect(r.config.logLevel).toBe('debug');
    expect(r.sourceOf('sync.batchSize')).toBe('url');
    expect(r.warnings).toHaveLength(1);
    for (const p of [
      '?evm-rpc',
      '?pass-through',
      '?rpc',
      '?mode',
      '?p2p-bootstrap',
      '?sync-checkpoint',
      '?network',
      '?storage',
    ])
      expect(r.warnings[0]).toContain(p);
    expect(r.warnings[0]).not.toContain('?sync-batch-size');
  });

  it('DEFAULT_URL_KEYS holds nothing that changes sources or verification', () => {
    for (const k of [
      'network',
      'chainSpecFile',
      'rpc',
      'evmRpc',
      'passThrough',
      'mode',
      'storage',
      'dataDir',
      'bls',
      'sync.start',
      'sync.checkpoint',
      'p2p.bootstrap',
      'p2p.listen',
      'p2p.discover',
      'p2p.dialPrivate',
    ] satisfies ConfigKey[])
      expect(DEFAULT_URL_KEYS).not.toContain(k);
  });

  it('a bad value in a refused parameter does not break the page', () => {
    const r = loadBrowserConfig({ options: EMBED, query: '?pass-through=not a method&rpc=ftp://x&evm-rpc=a&evmRpc=b' });
    expect(r.config.passThrough).toEqual([]);
    expect(r.warnings[0]).toMatch(/\?pass-through, \?rpc, \?evm-rpc, \?evmRpc ignored/);
  });

  it('keys the embedder allows are applied (and checked) like any other', () => {
    const urlKeys: ConfigKey[] = [...DEFAULT_URL_KEYS, 'evmRpc', 'passThrough'];
    const r = loadBrowserConfig({ options: EMBED, query: HOSTILE, urlKeys });
    expect(r.config.evmRpc).toEqual(['https://evil.example']);
    expect(r.config.passThrough).toEqual(['eth_call']);
    expect(r.config.rpc).toEqual(EMBED.rpc);
    expect(r.warnings[0]).not.toContain('?evm-rpc');
    expect(() => loadBrowserConfig({ query: '?pass-through=not a method', urlKeys })).toThrow(ConfigError);
  });

  it('urlKeys [] refuses everything; an unknown key in urlKeys is an error, not a silent allow-nothing', () => {
    const r = loadBrowserConfig({ query: '?sync-batch-size=3', urlKeys: [] });
    expect(r.config.sync.batchSize).toBe(64);
    expect(r.warnings).toEqual([
      'URL parameter ?sync-batch-size ignored: this page does not let a URL set it (allowed: none)',
    ]);
    expect(() => restrictUrlLayer(queryLayer('?rpc=x'), ['evm-rpc' as ConfigKey])).toThrow(ConfigError);
  });

  it('a query with nothing refused keeps the layer as is (and unrelated parameters only warn as before)', () => {
    const layer = queryLayer('?sync-batch-size=3&utm_source=x');
    expect(restrictUrlLayer(layer, DEFAULT_URL_KEYS)).toBe(layer);
  });
});
