/**
 * Resolving layers into one validated config, remembering which source set each key.
 *
 * Precedence is the order of `layers` (later wins, per key; lists replace, never merge). The loaders
 * build the documented orders:
 *
 *   Node (`loadNodeConfig`, src/config/nodejs/):  built-in defaults < TOML file < ALYS_* env < CLI flags
 *   browser (`loadBrowserConfig`):              built-in defaults < embed options < URL query (the keys the
 *                                               embedder allows a URL to set: url-keys.ts)
 *
 * and a running node's `update()` adds an `update` layer on top. Every layer's values are checked,
 * including ones a higher layer overrides (a broken file is reported even when a flag hides it), and
 * then the merged config is cross-checked (backoff bounds, storage for the runtime). All problems are
 * reported in one {@link ConfigError}.
 *
 * Runs in browsers: no Node globals.
 */
import { ConfigError, type ConfigIssue, type ConfigSource } from './errors.js';
import { optionsLayer, queryLayer, type ConfigLayer, type LayerEntry } from './layers.js';
import { DEFAULT_URL_KEYS, restrictUrlLayer } from './url-keys.js';
import {
  CONFIG_KEYS,
  defaultConfig,
  getAt,
  keyInfo,
  setAt,
  type ConfigInput,
  type ConfigKey,
  type ConfigRuntime,
  type LightNodeConfig,
} from './schema.js';

/** A validated config plus where each value came from. Deeply frozen. */
export interface ResolvedConfig {
  readonly runtime: ConfigRuntime;
  readonly config: LightNodeConfig;
  /** The inputs, lowest precedence first (a reload replaces one and resolves again). */
  readonly layers: readonly ConfigLayer[];
  /** Notes from the layers that were not errors. */
  readonly warnings: readonly string[];
  /** Which source set `key` (`default` when no layer did). */
  sourceOf(key: ConfigKey): ConfigSource;
  /** The exact variable/flag/file key/parameter that set `key`, or `default`. */
  originOf(key: ConfigKey): string;
}

export interface ResolveOptions {
  runtime: ConfigRuntime;
  layers: readonly ConfigLayer[];
}

/** Check every layer, merge them in order over the runtime's defaults, cross-check; throws {@link ConfigError}. */
export function resolveConfig(opts: ResolveOptions): ResolvedConfig {
  const config = defaultConfig(opts.runtime) as unknown as Record<string, unknown>;
  const setBy = new Map<ConfigKey, { source: ConfigSource; origin: string; layer: number }>();
  const issues: ConfigIssue[] = [];
  opts.layers.forEach((layer, index) => {
    issues.push(...layer.issues);
    for (const [key, entry] of layer.entries) {
      const checked = checkEntry(key, entry, layer.source);
      if ('issue' in checked) issues.push(checked.issue);
      else {
        setAt(config, keyInfo(key).segments, checked.value);
        setBy.set(key, { source: layer.source, origin: entry.origin, layer: index });
      }
    }
  });
  if (issues.length === 0) issues.push(...crossCheck(config as unknown as LightNodeConfig, opts.runtime, setBy));
  if (issues.length > 0) throw new ConfigError(issues);
  const frozen = deepFreeze(config) as unknown as LightNodeConfig;
  const layers = Object.freeze([...opts.layers]);
  const warnings = Object.freeze(opts.layers.flatMap((l) => l.warnings));
  return Object.freeze({
    runtime: opts.runtime,
    config: frozen,
    layers,
    warnings,
    sourceOf(key: ConfigKey) {
      keyInfo(key); // throws on a key that does not exist, rather than answering 'default'
      return setBy.get(key)?.source ?? 'default';
    },
    originOf(key: ConfigKey) {
      keyInfo(key);
      return setBy.get(key)?.origin ?? 'default';
    },
  });
}

function checkEntry(
  key: ConfigKey,
  entry: LayerEntry,
  source: ConfigSource,
): { value: unknown } | { issue: ConfigIssue } {
  const spec = keyInfo(key).def.spec;
  const r = spec.check(entry.value);
  if (r.ok) return { value: r.value };
  const got = r.got !== undefined ? r.got : entry.text !== undefined ? entry.text : entry.value;
  return {
    issue: {
      code: 'invalid-value',
      key,
      path: `${key}${r.at ?? ''}`,
      expected: r.expected ?? spec.expected,
      got,
      source,
      origin: entry.origin,
      ...(r.suggestion !== undefined ? { suggestion: r.suggestion } : {}),
      ...(r.problem !== undefined ? { problem: r.problem } : {}),
    },
  };
}

/** Rules across keys, blamed on the key set by the highest layer (defaults blame the other key). */
function crossCheck(
  config: LightNodeConfig,
  runtime: ConfigRuntime,
  setBy: ReadonlyMap<ConfigKey, { source: ConfigSource; origin: string; layer: number }>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const where = (key: ConfigKey) => setBy.get(key) ?? { source: 'default' as const, origin: 'default', layer: -1 };
  const blame = (key: ConfigKey, expected: string, problem?: string): ConfigIssue => ({
    code: 'conflict',
    key,
    path: key,
    expected,
    got: getAt(config, key),
    source: where(key).source,
    origin: where(key).origin,
    ...(problem !== undefined ? { problem } : {}),
  });

  const { backoffInitialMs, backoffMaxMs } = config.sync;
  if (backoffInitialMs > backoffMaxMs) {
    issues.push(
      where('sync.backoffInitialMs').layer > where('sync.backoffMaxMs').layer
        ? blame('sync.backoffInitialMs', `at most sync.backoffMaxMs (${backoffMaxMs})`)
        : blame('sync.backoffMaxMs', `at least sync.backoffInitialMs (${backoffInitialMs})`),
    );
  }
  if (config.rpc.length === 0 && config.p2p.bootstrap.length === 0)
    issues.push(
      blame('rpc', 'a non-empty list of http(s) URLs, or peers in p2p.bootstrap', 'the node has no source of blocks'),
    );
  const allowed = runtime === 'browser' ? ['memory', 'indexeddb'] : ['memory', 'level'];
  if (!allowed.includes(config.storage))
    issues.push(
      blame(
        'storage',
        `${allowed.map((s) => `'${s}'`).join(' | ')} (in ${runtime === 'browser' ? 'a browser' : 'Node'})`,
      ),
    );
  return issues;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------- helpers over layers

/** The layers with the one from `layer.source` replaced (the watcher swaps in a re-read file), or `layer` inserted at its source's rank. */
export function replaceLayer(layers: readonly ConfigLayer[], layer: ConfigLayer): ConfigLayer[] {
  const i = layers.findIndex((l) => l.source === layer.source && l.name !== UPDATE_LAYER_NAME);
  if (i >= 0) return layers.map((l, j) => (j === i ? layer : l));
  const rank = SOURCE_RANK[layer.source];
  const at = layers.findIndex((l) => SOURCE_RANK[l.source] > rank || l.name === UPDATE_LAYER_NAME);
  return at < 0 ? [...layers, layer] : [...layers.slice(0, at), layer, ...layers.slice(at)];
}

/** Canonical order of sources within a runtime (Node and browser sources never mix). */
export const SOURCE_RANK: Readonly<Record<ConfigSource, number>> = {
  default: 0,
  file: 1,
  options: 1,
  env: 2,
  url: 2,
  cli: 3,
};

export const UPDATE_LAYER_NAME = 'update';

/**
 * The layers plus a runtime update on top: `update(partial)` values override every source (they are
 * the operator's latest word) and accumulate across updates. Recorded with `source` (default
 * `options`) and origin `update.<key>`.
 */
export function withUpdate(
  layers: readonly ConfigLayer[],
  input: ConfigInput,
  source: ConfigSource = 'options',
): ConfigLayer[] {
  const next = optionsLayer(input, UPDATE_LAYER_NAME, source);
  const last = layers[layers.length - 1];
  if (last === undefined || last.name !== UPDATE_LAYER_NAME) return [...layers, next];
  const entries = new Map(last.entries);
  for (const [k, v] of next.entries) entries.set(k, v);
  const merged: ConfigLayer = Object.freeze({ ...next, entries, issues: next.issues, warnings: next.warnings });
  return [...layers.slice(0, -1), merged];
}

// ---------------------------------------------------------------- browser

export interface BrowserConfigInput {
  /** The embed options object (`createLightNode(options)`). */
  options?: ConfigInput;
  /** `location.search` or its URLSearchParams; omitted: no URL layer. */
  query?: string | URLSearchParams;
  /**
   * The keys the URL may set (default {@link DEFAULT_URL_KEYS}: sync tuning, verifier workers, log
   * level). Other parameters are ignored with a warning in `warnings`.
   */
  urlKeys?: readonly ConfigKey[];
  /** Default `browser` (storage defaults to indexeddb). */
  runtime?: ConfigRuntime;
}

/**
 * Browser/embed config: built-in defaults < options < URL query, the URL limited to `urlKeys`.
 * Throws {@link ConfigError}.
 */
export function loadBrowserConfig(input: BrowserConfigInput = {}): ResolvedConfig {
  const layers: ConfigLayer[] = [];
  if (input.options !== undefined) layers.push(optionsLayer(input.options));
  if (input.query !== undefined)
    layers.push(restrictUrlLayer(queryLayer(input.query), input.urlKeys ?? DEFAULT_URL_KEYS));
  return resolveConfig({ runtime: input.runtime ?? 'browser', layers });
}

/** Validate a plain options object (camelCase, nested `sync`) over the defaults. Throws {@link ConfigError}. */
export function validateConfig(
  input: unknown,
  runtime: ConfigRuntime,
  source: ConfigSource = 'options',
): LightNodeConfig {
  return resolveConfig({ runtime, layers: [optionsLayer(input, source, source)] }).config;
}

// ---------------------------------------------------------------- reporting

export interface ConfigRow {
  readonly key: ConfigKey;
  readonly value: unknown;
  readonly source: ConfigSource;
  readonly origin: string;
  readonly reloadable: boolean;
}

/** One row per key, for `alys-light status` and the dashboard (plain data: survives postMessage/JSON). */
export function describeConfig(resolved: ResolvedConfig): ConfigRow[] {
  return CONFIG_KEYS.map((k) => ({
    key: k.key,
    value: getAt(resolved.config, k.key),
    source: resolved.sourceOf(k.key),
    origin: resolved.originOf(k.key),
    reloadable: k.def.reloadable,
  }));
}
