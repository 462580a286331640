import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigFileError,
  ConfigRestartRequiredError,
  ConfigSyntaxError,
  createConfigManager,
  type LightNodeConfig,
} from '../../src/config/index.js';
import {
  createConfigFileWatcher,
  loadNodeConfig,
  type ConfigFileWatcher,
  type ReloadOutcome,
} from '../../src/config/nodejs/index.js';

/** Outcomes as a queue the test can await one by one. */
function outcomes(): { push(o: ReloadOutcome): void; next(timeoutMs?: number): Promise<ReloadOutcome> } {
  const queue: ReloadOutcome[] = [];
  const waiters: ((o: ReloadOutcome) => void)[] = [];
  return {
    push(o) {
      const w = waiters.shift();
      if (w) w(o);
      else queue.push(o);
    },
    next(timeoutMs = 5000) {
      const o = queue.shift();
      if (o) return Promise.resolve(o);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no reload within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((x) => {
          clearTimeout(t);
          resolve(x);
        });
      });
    },
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(text: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'alys-config-watch-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'alys.toml');
  writeFileSync(file, text);
  const applied: { next: LightNodeConfig; changedKeys: readonly string[] }[] = [];
  let failures = 0;
  const manager = createConfigManager({
    initial: await loadNodeConfig({ configFile: file, env }),
    apply: (next, _prev, changedKeys) => {
      applied.push({ next, changedKeys });
      if (failures > 0) {
        failures--;
        throw new Error('endpoint pool refused');
      }
    },
  });
  const seen = outcomes();
  const logs: string[] = [];
  const watcher: ConfigFileWatcher = createConfigFileWatcher({
    file,
    manager,
    debounceMs: 30,
    log: (level, message) => logs.push(`${level}: ${message}`),
    onReload: (o) => seen.push(o),
  });
  await watcher.start();
  cleanups.push(() => watcher.stop());
  return { dir, file, manager, watcher, seen, logs, applied, failNextApply: () => (failures = 1) };
}

describe('config file watcher (real temp file)', () => {
  it('picks up an edit and applies it', async () => {
    const t = await setup('[sync]\nbatch-size = 10\n');
    expect(t.manager.config.sync.batchSize).toBe(10);

    writeFileSync(t.file, '[sync]\nbatch-size = 20\nparallelism = 6\n');
    const o = await t.seen.next();

    expect(o).toEqual({ ok: true, changedKeys: ['sync.batchSize', 'sync.parallelism'] });
    expect(t.manager.config.sync).toMatchObject({ batchSize: 20, parallelism: 6 });
    expect(t.manager.current.sourceOf('sync.parallelism')).toBe('file');
    expect(t.applied).toHaveLength(1);
    expect(
      t.logs.some((l) => l.startsWith('info: config: reloaded') && l.includes('sync.batchSize, sync.parallelism')),
    ).toBe(true);
  });

  it('picks up an editor-style save (write a new file, rename it over the old one)', async () => {
    const t = await setup('log-level = "info"\n');
    const tmp = join(t.dir, '.alys.toml.swp');
    writeFileSync(tmp, 'log-level = "debug"\n');
    renameSync(tmp, t.file);
    expect(await t.seen.next()).toEqual({ ok: true, changedKeys: ['logLevel'] });
    expect(t.manager.config.logLevel).toBe('debug');
    // Still watching after the inode changed.
    writeFileSync(t.file, 'log-level = "trace"\n');
    expect(await t.seen.next()).toEqual({ ok: true, changedKeys: ['logLevel'] });
  });

  it('keeps the old config on an invalid edit (bad value, bad TOML), logging why, and recovers on a fix', async () => {
    const t = await setup('[sync]\nbatch-size = 10\n');

    writeFileSync(t.file, '[sync]\nbatch-size = 0\n');
    const bad = await t.seen.next();
    expect(bad.ok).toBe(false);
    expect((bad as { error: unknown }).error).toBeInstanceOf(ConfigError);
    expect(t.manager.config.sync.batchSize).toBe(10);
    expect(t.applied).toHaveLength(0);
    expect(t.logs.at(-1)).toMatch(
      /^error: config: .*alys\.toml changed but was not applied; keeping the previous config\.\nInvalid config: sync\.batchSize/,
    );

    writeFileSync(t.file, '[sync\nbatch-size = 12\n');
    const syntax = await t.seen.next();
    expect((syntax as { error: unknown }).error).toBeInstanceOf(ConfigSyntaxError);
    expect(t.logs.at(-1)).toContain('at line 1, column 6');
    expect(t.manager.config.sync.batchSize).toBe(10);

    writeFileSync(t.file, '[sync]\nbatch-size = 12\n');
    expect(await t.seen.next()).toEqual({ ok: true, changedKeys: ['sync.batchSize'] });
    expect(t.manager.config.sync.batchSize).toBe(12);
  });

  it('refuses an edit of a key that needs a restart, and rolls back a failed apply', async () => {
    const t = await setup('network = "devnet"\nlog-level = "info"\n');
    writeFileSync(t.file, 'network = "testnet"\nlog-level = "debug"\n');
    const o = await t.seen.next();
    expect((o as { error: unknown }).error).toBeInstanceOf(ConfigRestartRequiredError);
    expect(t.logs.at(-1)).toContain('Cannot change network while the node runs; restart the node');
    expect(t.manager.config).toMatchObject({ network: 'devnet', logLevel: 'info' });

    t.failNextApply();
    writeFileSync(t.file, 'network = "devnet"\nlog-level = "warn"\n');
    const failed = await t.seen.next();
    expect((failed as { error: { code: string } }).error.code).toBe('config.apply-failed');
    expect(t.applied.map((a) => a.next.logLevel)).toEqual(['warn', 'info']);
    expect(t.logs.at(-1)).toContain('endpoint pool refused');
    expect(t.manager.config.logLevel).toBe('info');
  });

  it('keeps env and flags above the re-read file', async () => {
    const t = await setup('[sync]\nbatch-size = 10\nretries = 1\n', { ALYS_SYNC_BATCH_SIZE: '99' });
    expect(t.manager.config.sync.batchSize).toBe(99);
    writeFileSync(t.file, '[sync]\nbatch-size = 11\nretries = 2\n');
    expect(await t.seen.next()).toEqual({ ok: true, changedKeys: ['sync.retries'] });
    expect(t.manager.config.sync).toMatchObject({ batchSize: 99, retries: 2 });
    expect(t.manager.current.sourceOf('sync.batchSize')).toBe('env');
  });

  it('logs a removed file and keeps the config; reload() forces a re-read; stop() ends watching', async () => {
    const t = await setup('log-level = "info"\n');
    unlinkSync(t.file);
    const gone = await t.seen.next();
    expect((gone as { error: unknown }).error).toBeInstanceOf(ConfigFileError);
    expect(t.manager.config.logLevel).toBe('info');

    writeFileSync(t.file, 'log-level = "warn"\n');
    expect(await t.seen.next()).toEqual({ ok: true, changedKeys: ['logLevel'] });
    expect(await t.watcher.reload()).toEqual({ ok: true, changedKeys: [] });
    expect(await t.seen.next()).toEqual({ ok: true, changedKeys: [] });

    await t.watcher.stop();
    writeFileSync(t.file, 'log-level = "error"\n');
    await expect(t.seen.next(300)).rejects.toThrow(/no reload/);
    expect(t.manager.config.logLevel).toBe('warn');
  });
});
