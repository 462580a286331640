import { describe, expect, it, vi } from 'vitest';
import {
  ConfigApplyError,
  ConfigClosedError,
  ConfigError,
  ConfigRestartRequiredError,
  createConfigManager,
  envLayer,
  replaceLayer,
  resolveConfig,
  tomlLayer,
  type ApplyConfig,
  type ConfigChangedEvent,
  type ConfigKey,
  type LightNodeConfig,
  type ResolvedConfig,
} from '../../src/config/index.js';

function initial(): ResolvedConfig {
  return resolveConfig({
    runtime: 'node',
    layers: [
      tomlLayer('data-dir = "/var/lib/alys"\n[sync]\nbatch-size = 32\n', 'alys.toml'),
      envLayer({ ALYS_LOG_LEVEL: 'warn' }),
    ],
  });
}

interface Call {
  next: LightNodeConfig;
  prev: LightNodeConfig;
  changedKeys: readonly ConfigKey[];
}

function recorder(impl?: (call: Call, index: number) => Promise<void> | void): { apply: ApplyConfig; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    apply: async (next, prev, changedKeys) => {
      const call = { next, prev, changedKeys };
      calls.push(call);
      await impl?.(call, calls.length - 1);
    },
  };
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('config manager: hot reload', () => {
  it('applies a valid change, then tells listeners, recording the new source', async () => {
    const { apply, calls } = recorder();
    const m = createConfigManager({ initial: initial(), apply });
    const events: ConfigChangedEvent[] = [];
    m.on('config-changed', (e) => events.push(e));
    const before = m.config;

    const result = await m.update({ sync: { batchSize: 128 }, rpc: ['https://a.example'] });

    expect(result.changedKeys).toEqual(['rpc', 'sync.batchSize']);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.next.sync.batchSize).toBe(128);
    expect(calls[0]!.prev).toBe(before);
    expect(calls[0]!.changedKeys).toEqual(['rpc', 'sync.batchSize']);
    expect(m.config.sync.batchSize).toBe(128);
    expect(m.current.sourceOf('sync.batchSize')).toBe('options');
    expect(m.current.originOf('sync.batchSize')).toBe('update.sync.batchSize');
    expect(m.current.sourceOf('logLevel')).toBe('env');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'config-changed',
      changedKeys: ['rpc', 'sync.batchSize'],
      prev: before,
      config: m.config,
    });

    // Updates accumulate: a later partial keeps the earlier one.
    await m.update({ logLevel: 'debug' });
    expect(m.config).toMatchObject({ logLevel: 'debug', sync: { batchSize: 128 }, rpc: ['https://a.example'] });
  });

  it('does not call apply when nothing changes', async () => {
    const { apply, calls } = recorder();
    const m = createConfigManager({ initial: initial(), apply });
    const listener = vi.fn();
    m.on('config-changed', listener);
    const r = await m.update({ sync: { batchSize: 32 } });
    expect(r.changedKeys).toEqual([]);
    expect(calls).toHaveLength(0);
    expect(listener).not.toHaveBeenCalled();
  });

  it('validates first: an invalid change is refused with a ConfigError and nothing is applied', async () => {
    const { apply, calls } = recorder();
    const m = createConfigManager({ initial: initial(), apply });
    const listener = vi.fn();
    m.on('config-changed', listener);
    const before = m.current;

    const e = await m
      .update({ sync: { batchSize: 0, parallelism: 8 }, logLevel: 'loud' as never })
      .catch((x: unknown) => x);

    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).issues.map((i) => i.key)).toEqual(['sync.batchSize', 'logLevel']);
    expect((e as ConfigError).source).toBe('options');
    expect(calls).toHaveLength(0);
    expect(listener).not.toHaveBeenCalled();
    expect(m.current).toBe(before);

    await expect(m.update({ sync: { batchsize: 4 } } as never)).rejects.toMatchObject({
      code: 'config.unknown-key',
      suggestion: "'sync.batchSize'",
    });
    expect(m.current).toBe(before);
  });

  it('rolls back when apply throws: prev is re-applied and the update rejects with both sides', async () => {
    const boom = new Error('engine refused the new endpoints');
    const { apply, calls } = recorder((_call, i) => {
      if (i === 0) throw boom;
    });
    const m = createConfigManager({ initial: initial(), apply });
    const listener = vi.fn();
    m.on('config-changed', listener);
    const before = m.current;

    const e = (await m.update({ evmRpc: ['http://e.example'] }).catch((x: unknown) => x)) as ConfigApplyError;

    expect(e).toBeInstanceOf(ConfigApplyError);
    expect(e.code).toBe('config.apply-failed');
    expect(e.rolledBack).toBe(true);
    expect(e.applyError).toBe(boom);
    expect(e.cause).toBe(boom);
    expect(e.rollbackError).toBeUndefined();
    expect(e.changedKeys).toEqual(['evmRpc']);
    expect(e.message).toContain('engine refused the new endpoints');
    expect(calls).toHaveLength(2);
    // The rollback is apply(prev, next): the previous config, told what it replaces.
    expect(calls[1]!.next).toBe(before.config);
    expect(calls[1]!.prev).toEqual(calls[0]!.next);
    expect(calls[1]!.changedKeys).toEqual(['evmRpc']);
    expect(m.current).toBe(before);
    expect(listener).not.toHaveBeenCalled();

    // The manager still works afterwards.
    await m.update({ evmRpc: ['http://f.example'] });
    expect(m.config.evmRpc).toEqual(['http://f.example']);
  });

  it('reports a failed rollback with both causes and keeps the previous config as current', async () => {
    const first = new Error('apply broke');
    const second = new Error('rollback broke too');
    const { apply } = recorder((_c, i) => {
      throw i === 0 ? first : second;
    });
    const m = createConfigManager({ initial: initial(), apply });
    const before = m.current;
    const e = (await m.update({ logLevel: 'trace' }).catch((x: unknown) => x)) as ConfigApplyError;
    expect(e).toBeInstanceOf(ConfigApplyError);
    expect(e.code).toBe('config.rollback-failed');
    expect(e.rolledBack).toBe(false);
    expect(e.applyError).toBe(first);
    expect(e.rollbackError).toBe(second);
    expect((e.cause as AggregateError).errors).toEqual([first, second]);
    expect(e.message).toMatch(/apply broke[\s\S]*rollback broke too[\s\S]*restart it/);
    expect(m.current).toBe(before);
  });

  it.each([
    [{ network: 'testnet' }, ['network']],
    [{ storage: 'memory' as const }, ['storage']],
    [{ dataDir: '/elsewhere' }, ['dataDir']],
    [{ mode: 'full' as const, sync: { batchSize: 8 } }, ['mode']],
  ])('refuses a change to a key that needs a restart (%j), applying nothing', async (change, keys) => {
    const { apply, calls } = recorder();
    const m = createConfigManager({ initial: initial(), apply });
    const before = m.current;
    const e = (await m.update(change).catch((x: unknown) => x)) as ConfigRestartRequiredError;
    expect(e).toBeInstanceOf(ConfigRestartRequiredError);
    expect(e.keys).toEqual(keys);
    expect(e.message).toContain(`Cannot change ${keys.join(', ')} while the node runs; restart the node`);
    expect(e.message).toContain('Nothing was applied');
    expect(calls).toHaveLength(0);
    expect(m.current).toBe(before);
  });

  it('lets the caller choose which keys need a restart', async () => {
    const { apply, calls } = recorder();
    const m = createConfigManager({ initial: initial(), apply, restartKeys: ['sync.batchSize'] });
    await m.update({ mode: 'full' });
    expect(calls).toHaveLength(1);
    await expect(m.update({ sync: { batchSize: 1 } })).rejects.toBeInstanceOf(ConfigRestartRequiredError);
  });

  it('serializes concurrent updates: each applies after the previous one finished, from its result', async () => {
    const gate = deferred();
    const log: string[] = [];
    const { apply, calls } = recorder(async (call, i) => {
      log.push(`start ${i} batch=${call.next.sync.batchSize}`);
      if (i === 0) await gate.promise;
      log.push(`end ${i}`);
    });
    const m = createConfigManager({ initial: initial(), apply });

    const a = m.update({ sync: { batchSize: 100 } });
    const b = m.update({ sync: { parallelism: 9 } });
    const bad = m.update({ sync: { retries: -1 } });
    const c = m.update({ sync: { batchSize: 300 } });
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['start 0 batch=100']);

    gate.resolve();
    const results = await Promise.allSettled([a, b, bad, c]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start 0 batch=100', 'end 0', 'start 1 batch=100', 'end 1', 'start 2 batch=300', 'end 2']);
    // The second update started from the first one's result, the third from the second's.
    expect(calls[1]!.prev).toBe(calls[0]!.next);
    expect(calls[1]!.changedKeys).toEqual(['sync.parallelism']);
    expect(calls[2]!.prev).toBe(calls[1]!.next);
    expect(m.config.sync).toMatchObject({ batchSize: 300, parallelism: 9, retries: 5 });
  });

  it('takes a new layer set (a re-read file) and keeps higher layers above it', async () => {
    const { apply, calls } = recorder();
    const m = createConfigManager({ initial: initial(), apply });
    const file = tomlLayer('data-dir = "/var/lib/alys"\nlog-level = "error"\n[sync]\nbatch-size = 16\n', 'alys.toml');
    const r = await m.update({ layers: (current) => replaceLayer(current, file) });
    expect(r.changedKeys).toEqual(['sync.batchSize']);
    expect(m.config.logLevel).toBe('warn');
    expect(m.current.sourceOf('logLevel')).toBe('env');
    expect(calls).toHaveLength(1);
  });

  it('isolates listener failures from the update', async () => {
    const onListenerError = vi.fn();
    const m = createConfigManager({ initial: initial(), apply: () => {}, onListenerError });
    const later = vi.fn();
    m.on('config-changed', () => {
      throw new Error('listener bug');
    });
    const off = m.on('config-changed', later);
    await m.update({ logLevel: 'debug' });
    expect(onListenerError).toHaveBeenCalledWith(expect.objectContaining({ message: 'listener bug' }));
    expect(later).toHaveBeenCalledTimes(1);
    off();
    await m.update({ logLevel: 'info' });
    expect(later).toHaveBeenCalledTimes(1);
  });

  it('close waits for queued updates, then refuses new ones', async () => {
    const gate = deferred();
    const m = createConfigManager({ initial: initial(), apply: () => gate.promise });
    const pending = m.update({ logLevel: 'debug' });
    const closing = m.close();
    gate.resolve();
    await pending;
    await closing;
    expect(m.config.logLevel).toBe('debug');
    await expect(m.update({ logLevel: 'info' })).rejects.toBeInstanceOf(ConfigClosedError);
  });
});
