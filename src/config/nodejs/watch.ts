/**
 * Reloading the TOML config file when it changes (Node).
 *
 * Watches the file's directory rather than the file, because editors save by writing a new file and
 * renaming it over the old one (a watch on the old inode would go quiet). Events are debounced;
 * a reload whose text equals the last one read does nothing. A reload re-reads the file, swaps the
 * file layer (env and flags keep their precedence above it) and calls `manager.update`, which
 * validates before applying. Anything that goes wrong (bad TOML, bad value, a key that needs a
 * restart, a failed apply, a deleted file) is logged and the previous config stays in effect.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ConfigFileError } from '../errors.js';
import { replaceLayer } from '../load.js';
import type { ConfigManager } from '../reload.js';
import type { ConfigKey } from '../schema.js';
import { fileLayerFromText } from './load.js';

export type ReloadOutcome =
  | { readonly ok: true; readonly changedKeys: readonly ConfigKey[]; readonly skipped?: 'unchanged-text' }
  | { readonly ok: false; readonly error: unknown };

export type ConfigLogLevel = 'info' | 'warn' | 'error';

export interface ConfigFileWatcherOptions {
  /** The TOML file the manager's config was loaded from. */
  file: string;
  manager: Pick<ConfigManager, 'update'>;
  /** Quiet period after the last change event before reloading (ms). Default 100. */
  debounceMs?: number;
  /** Default: console (info -> console.info, ...). */
  log?: (level: ConfigLogLevel, message: string) => void;
  /** Called after every reload attempt (tests, status). */
  onReload?: (outcome: ReloadOutcome) => void;
  /** Keep the process alive while watching. Default false (the node keeps it alive). */
  persistent?: boolean;
}

export interface ConfigFileWatcher {
  /** Start watching (reads the file once as the baseline). */
  start(): Promise<void>;
  /** Stop watching; waits for a reload in progress. */
  stop(): Promise<void>;
  /** Reload now (e.g. on SIGHUP), even if the text did not change. */
  reload(): Promise<ReloadOutcome>;
}

const defaultLog = (level: ConfigLogLevel, message: string): void => {
  if (level === 'error') console.error(message);
  else if (level === 'warn') console.warn(message);
  else console.info(message);
};

export function createConfigFileWatcher(opts: ConfigFileWatcherOptions): ConfigFileWatcher {
  const file = resolve(opts.file);
  const debounceMs = opts.debounceMs ?? 100;
  const log = opts.log ?? defaultLog;
  let watcher: FSWatcher | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastText: string | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let running = false;

  async function readText(): Promise<string> {
    try {
      return await readFile(file, 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new ConfigFileError(
        file,
        code === 'ENOENT' ? 'the file was removed or renamed' : (cause as Error).message,
        { cause },
      );
    }
  }

  async function reloadOnce(force: boolean): Promise<ReloadOutcome> {
    let outcome: ReloadOutcome;
    try {
      const text = await readText();
      if (!force && text === lastText) return { ok: true, changedKeys: [], skipped: 'unchanged-text' };
      lastText = text;
      const layer = fileLayerFromText(text, file);
      const { changedKeys } = await opts.manager.update({ layers: (current) => replaceLayer(current, layer) });
      if (changedKeys.length > 0) log('info', `config: reloaded ${file}; changed ${changedKeys.join(', ')}`);
      outcome = { ok: true, changedKeys };
    } catch (error) {
      log(
        'error',
        `config: ${file} changed but was not applied; keeping the previous config.\n${(error as Error).message ?? String(error)}`,
      );
      outcome = { ok: false, error };
    }
    opts.onReload?.(outcome);
    return outcome;
  }

  function enqueue(force: boolean): Promise<ReloadOutcome> {
    const result = chain.then(() => reloadOnce(force));
    chain = result.catch(() => undefined);
    return result;
  }

  function schedule(): void {
    if (!running) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (running) void enqueue(false);
    }, debounceMs);
  }

  return {
    async start() {
      if (running) return;
      lastText = await readText().catch(() => undefined);
      const name = basename(file);
      try {
        watcher = watch(dirname(file), { persistent: opts.persistent ?? false }, (_event, changed) => {
          // Some platforms omit the name: reload to be safe (unchanged text is a no-op).
          if (changed === null || changed === name) schedule();
        });
      } catch (cause) {
        throw new ConfigFileError(file, `cannot watch its directory: ${(cause as Error).message}`, { cause });
      }
      watcher.on('error', (e) =>
        log('warn', `config: watching ${file} failed: ${e.message}; edits are no longer picked up`),
      );
      running = true;
    },
    async stop() {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      watcher?.close();
      watcher = undefined;
      await chain;
    },
    reload: () => enqueue(true),
  };
}
