/**
 * Hot reload: a config manager that owns the running config and changes it atomically.
 *
 * `update(change)` runs, one at a time in call order (an update waits for the previous one, and
 * starts from its result):
 *   1. resolve the new layers (a partial config becomes an `update` layer on top; a layer set, such
 *      as the file watcher's re-read file, replaces the layers) and validate: invalid -> ConfigError,
 *      nothing applied;
 *   2. diff: no change -> done (sources may still move, e.g. a value now set by the file);
 *   3. refuse keys that need a restart (`network`, `storage`, `dataDir`, ...) -> ConfigRestartRequiredError,
 *      nothing applied;
 *   4. `apply(next, prev, changedKeys)`; if it throws, `apply(prev, next, changedKeys)` rolls back and the
 *      update rejects with ConfigApplyError carrying both the apply error and (if the rollback failed
 *      too) the rollback error;
 *   5. on success the new config becomes current and `config-changed` listeners run.
 *
 * Runs in browsers: no Node globals (file watching is in src/config/nodejs/watch.ts).
 */
import { ConfigApplyError, ConfigClosedError, ConfigRestartRequiredError, type ConfigSource } from './errors.js';
import type { ConfigLayer } from './layers.js';
import { resolveConfig, withUpdate, type ResolvedConfig } from './load.js';
import {
  diffConfig,
  getAt,
  logLevelShows,
  RESTART_KEYS,
  type ConfigInput,
  type ConfigKey,
  type LightNodeConfig,
} from './schema.js';

/** Applies a config to the running node (actors, endpoints). May throw; must accept being called again with the previous config to roll back. */
export type ApplyConfig = (
  next: LightNodeConfig,
  prev: LightNodeConfig,
  changedKeys: readonly ConfigKey[],
) => Promise<void> | void;

/**
 * A new complete set of layers, or a function from the layers in effect when the update runs (after
 * queued updates) to the new ones - the file watcher swaps in a re-read file this way.
 */
export interface LayerSetUpdate {
  readonly layers: readonly ConfigLayer[] | ((current: readonly ConfigLayer[]) => readonly ConfigLayer[]);
}

/** A partial config (camelCase, nested `sync`) or a new layer set. */
export type ConfigUpdate = ConfigInput | LayerSetUpdate;

export interface ConfigChangedEvent {
  readonly type: 'config-changed';
  readonly config: LightNodeConfig;
  readonly prev: LightNodeConfig;
  readonly changedKeys: readonly ConfigKey[];
  readonly resolved: ResolvedConfig;
}

export interface ConfigUpdateResult {
  /** Keys whose value changed (empty: nothing to apply, `apply` was not called). */
  readonly changedKeys: readonly ConfigKey[];
  readonly resolved: ResolvedConfig;
}

export interface ConfigManagerOptions {
  initial: ResolvedConfig;
  apply: ApplyConfig;
  /** Keys that need a restart. Default {@link RESTART_KEYS}. */
  restartKeys?: readonly ConfigKey[];
  /** A `config-changed` listener threw (the update itself succeeded). Default: console.error, unless `logLevel` is `silent`. */
  onListenerError?: (error: unknown) => void;
}

export interface ConfigManager {
  /** The config in effect (with sources). */
  readonly current: ResolvedConfig;
  readonly config: LightNodeConfig;
  /** Validate, then apply; serialized with other updates. See the module comment. */
  update(change: ConfigUpdate, opts?: { source?: ConfigSource }): Promise<ConfigUpdateResult>;
  /** Runs after each successful change; returns an unsubscribe function. */
  on(event: 'config-changed', listener: (e: ConfigChangedEvent) => void): () => void;
  /** Waits for queued updates, then refuses new ones (ConfigClosedError). */
  close(): Promise<void>;
}

export function isLayerSetUpdate(change: ConfigUpdate): change is LayerSetUpdate {
  const layers = (change as { layers?: unknown } | null)?.layers;
  return Array.isArray(layers) || typeof layers === 'function';
}

export function createConfigManager(opts: ConfigManagerOptions): ConfigManager {
  const restartKeys = new Set<ConfigKey>(opts.restartKeys ?? RESTART_KEYS);
  const listeners = new Set<(e: ConfigChangedEvent) => void>();
  const onListenerError =
    opts.onListenerError ??
    ((e: unknown) => {
      if (logLevelShows(current.config.logLevel, 'error')) console.error('config-changed listener failed:', e);
    });
  let current = opts.initial;
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;

  const nextLayers = (change: ConfigUpdate, source: ConfigSource | undefined): readonly ConfigLayer[] =>
    !isLayerSetUpdate(change)
      ? withUpdate(current.layers, change, source)
      : typeof change.layers === 'function'
        ? change.layers(current.layers)
        : change.layers;

  async function run(change: ConfigUpdate, source: ConfigSource | undefined): Promise<ConfigUpdateResult> {
    const prev = current;
    const next = resolveConfig({ runtime: prev.runtime, layers: nextLayers(change, source) });
    const changedKeys = diffConfig(prev.config, next.config);
    if (changedKeys.length === 0) {
      current = next;
      return { changedKeys, resolved: next };
    }
    const refused = changedKeys.filter((k) => restartKeys.has(k));
    if (refused.length > 0) {
      throw new ConfigRestartRequiredError(
        refused,
        refused.map((key) => ({ key, from: getAt(prev.config, key), to: getAt(next.config, key) })),
      );
    }
    try {
      await opts.apply(next.config, prev.config, changedKeys);
    } catch (applyError) {
      try {
        await opts.apply(prev.config, next.config, changedKeys);
      } catch (rollbackError) {
        throw new ConfigApplyError(changedKeys, applyError, { ok: false, error: rollbackError });
      }
      throw new ConfigApplyError(changedKeys, applyError, { ok: true });
    }
    current = next;
    const event: ConfigChangedEvent = {
      type: 'config-changed',
      config: next.config,
      prev: prev.config,
      changedKeys,
      resolved: next,
    };
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (e) {
        onListenerError(e);
      }
    }
    return { changedKeys, resolved: next };
  }

  return {
    get current() {
      return current;
    },
    get config() {
      return current.config;
    },
    update(change, updateOpts = {}) {
      if (closed) return Promise.reject(new ConfigClosedError());
      const result = tail.then(() => run(change, updateOpts.source));
      tail = result.catch(() => undefined);
      return result;
    },
    on(_event, listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      await tail;
      listeners.clear();
    },
  };
}
