/**
 * Config layers: the values one source sets, keyed by schema key, not yet checked. Builders never
 * throw for bad values (except unparsable TOML); they record issues, and `resolveConfig` reports
 * everything at once.
 *
 * | source  | builder         | key names                                   | values                              |
 * |---------|-----------------|---------------------------------------------|-------------------------------------|
 * | file    | `tomlLayer`     | kebab-case or camelCase; `[sync]` table     | typed (TOML); null is `false`       |
 * | env     | `envLayer`      | `ALYS_` + key in SCREAMING_SNAKE            | text; lists comma-separated         |
 * | cli     | `flagsLayer`    | `--kebab-case` (a parseArgs `values` record)| text; list flags repeatable         |
 * | options | `optionsLayer`  | camelCase (kebab accepted); nested `sync`   | typed                               |
 * | url     | `queryLayer`    | `rpc`, `evm-rpc`, `sync-batch-size` (or camelCase / `sync.batchSize`) | text; repeated or comma lists |
 *
 * Text is converted by the key's spec (`42` -> 42, `a,b` -> [a, b], `off` -> null) and then checked
 * like any typed value. An empty variable is a value, not unset: `ALYS_METRICS_PORT=` is null (off),
 * `ALYS_PASS_THROUGH=` an empty list, `ALYS_MODE=` an error.
 *
 * Runs in browsers: no Node globals (TOML parsing is smol-toml, pure JS).
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { isPlainObject } from '../protocol/json-fields.js';
import { ConfigSyntaxError, type ConfigIssue, type ConfigSource } from './errors.js';
import { CONFIG_KEYS, CONFIG_SCHEMA, camel, kebab, type ConfigKey, type ConfigKeyInfo } from './schema.js';
import { suggest } from './suggest.js';

export interface LayerEntry {
  /** The value as given (typed) or as converted from text. */
  readonly value: unknown;
  /** The text it came from (env/cli/url), for error messages. */
  readonly text?: string | readonly string[];
  /** The exact variable, flag, parameter or file key: `ALYS_RPC`, `--rpc`, `alys.toml: sync.batch-size`. */
  readonly origin: string;
}

export interface ConfigLayer {
  readonly source: ConfigSource;
  /** A label: the file name, `environment`, `command line`, `options`, `URL query`, `update`. */
  readonly name: string;
  readonly entries: ReadonlyMap<ConfigKey, LayerEntry>;
  /** Unknown keys and other problems found while reading the source. */
  readonly issues: readonly ConfigIssue[];
  /** Things worth telling but not refusing (unrelated URL parameters that look like config keys). */
  readonly warnings: readonly string[];
}

/** Environment variables with the ALYS_ prefix that are not config keys (never reported as unknown). */
export const NON_CONFIG_ENV: readonly string[] = ['ALYS_CONFIG', 'ALYS_VECTORS'];

const BY_ENV = new Map(CONFIG_KEYS.map((k) => [k.env, k]));
const BY_FLAG = new Map(CONFIG_KEYS.map((k) => [k.flag, k]));
const BY_KEY = new Map<string, ConfigKeyInfo>(CONFIG_KEYS.map((k) => [k.key, k]));

function makeLayer(
  source: ConfigSource,
  name: string,
  entries: Map<ConfigKey, LayerEntry>,
  issues: ConfigIssue[],
  warnings: string[] = [],
): ConfigLayer {
  return Object.freeze({ source, name, entries, issues: Object.freeze(issues), warnings: Object.freeze(warnings) });
}

// ---------------------------------------------------------------- typed objects (TOML tables, options)

export interface ObjectLayerOptions {
  source: ConfigSource;
  name: string;
  /** How keys are shown in messages and suggestions: `kebab` for TOML, `camel` for JS objects. */
  style: 'kebab' | 'camel';
}

/**
 * A layer from a nested object (a parsed TOML table, an embed options object, an update). Keys may
 * be camelCase or kebab-case; `undefined` values are skipped (JS spreads); unknown keys are issues
 * with a suggestion when a known key is close (also across groups: `batch-size` at the top level
 * suggests `sync.batch-size`).
 */
export function objectLayer(input: unknown, opts: ObjectLayerOptions): ConfigLayer {
  const entries = new Map<ConfigKey, LayerEntry>();
  const issues: ConfigIssue[] = [];
  const show = (segments: readonly string[]) =>
    segments.map(opts.style === 'kebab' ? kebab : (s: string) => s).join('.');
  const originOf = (written: string) =>
    opts.source === 'file' ? `${opts.name}: ${written}` : `${opts.name}.${written}`;

  const walk = (node: unknown, schema: object, prefix: readonly string[], writtenPrefix: string): void => {
    if (!isPlainObject(node)) {
      const where = prefix.length === 0 ? '(top level)' : writtenPrefix;
      const names = Object.keys(schema).map((k) => (opts.style === 'kebab' ? kebab(k) : k));
      issues.push({
        code: 'invalid-value',
        key: prefix.join('.') || '(top level)',
        path: prefix.join('.') || '(top level)',
        expected: `${opts.style === 'kebab' && prefix.length > 0 ? 'a table' : 'an object'} with keys ${names.join(', ')}`,
        got: node,
        source: opts.source,
        origin: originOf(where),
      });
      return;
    }
    const seen = new Map<string, string>();
    for (const [written, value] of Object.entries(node)) {
      if (value === undefined) continue;
      const name = written.includes('-') ? camel(written) : written;
      const writtenPath = writtenPrefix ? `${writtenPrefix}.${written}` : written;
      const child = Object.hasOwn(schema, name) ? (schema as Record<string, unknown>)[name] : undefined;
      if (child === undefined) {
        issues.push(unknownKey(writtenPath, [...prefix, name], schema, opts, originOf(writtenPath), show));
        continue;
      }
      const previous = seen.get(name);
      if (previous !== undefined) {
        const key = [...prefix, name].join('.');
        issues.push({
          code: 'duplicate-key',
          key,
          path: key,
          expected: 'one spelling per key',
          got: value,
          source: opts.source,
          origin: originOf(writtenPath),
          problem: `also written ${previous}`,
        });
        continue;
      }
      seen.set(name, writtenPath);
      const segments = [...prefix, name];
      if (isGroup(child)) walk(value, child as object, segments, writtenPath);
      else entries.set(segments.join('.') as ConfigKey, { value, origin: originOf(writtenPath) });
    }
  };
  walk(input, CONFIG_SCHEMA, [], '');
  return makeLayer(opts.source, opts.name, entries, issues);
}

function unknownKey(
  writtenPath: string,
  segments: readonly string[],
  levelSchema: object,
  opts: ObjectLayerOptions,
  origin: string,
  show: (segments: readonly string[]) => string,
): ConfigIssue {
  const prefix = segments.slice(0, -1);
  const local = Object.keys(levelSchema).map((k) => show([...prefix, k]));
  const everywhere = CONFIG_KEYS.map((k) => show(k.segments));
  const written = show(segments);
  const near = suggest(written, local) ?? suggest(written, everywhere) ?? suggestByLastSegment(segments, show);
  const known = local.join(', ');
  return {
    code: 'unknown-key',
    key: writtenPath,
    path: writtenPath,
    expected: `a known key (${known})`,
    got: writtenPath,
    source: opts.source,
    origin,
    ...(near !== undefined ? { suggestion: `'${near}'` } : {}),
  };
}

/** `batchSize` written at the top level: find `sync.batchSize`. */
function suggestByLastSegment(
  segments: readonly string[],
  show: (segments: readonly string[]) => string,
): string | undefined {
  const last = segments[segments.length - 1]!;
  const hit = suggest(
    last,
    CONFIG_KEYS.map((k) => k.segments[k.segments.length - 1]!),
  );
  if (hit === undefined) return undefined;
  const info = CONFIG_KEYS.find((k) => k.segments[k.segments.length - 1] === hit);
  return info === undefined ? undefined : show(info.segments);
}

function isGroup(node: unknown): boolean {
  return typeof node === 'object' && node !== null && !('spec' in node);
}

/** The embed options object (browser) or any JS object of config values. */
export function optionsLayer(options: unknown, name = 'options', source: ConfigSource = 'options'): ConfigLayer {
  return objectLayer(options ?? {}, { source, name, style: 'camel' });
}

// ---------------------------------------------------------------- TOML

/**
 * A layer from TOML text. Syntax errors throw {@link ConfigSyntaxError} with line and column (the
 * file cannot be read as a whole); everything else becomes issues.
 */
export function tomlLayer(text: string, fileName: string): ConfigLayer {
  let table: unknown;
  try {
    table = parseToml(text, { unsafeKeyBehaviour: 'throw', maxDepth: 8 });
  } catch (cause) {
    if (cause instanceof TomlError) {
      const problem = cause.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new ConfigSyntaxError(fileName, cause.line, cause.column, problem, { excerpt: cause.codeblock, cause });
    }
    throw new ConfigSyntaxError(fileName, 1, 1, (cause as Error).message ?? String(cause), { cause });
  }
  return objectLayer(table, { source: 'file', name: fileName, style: 'kebab' });
}

// ---------------------------------------------------------------- text sources

function textEntry(info: ConfigKeyInfo, texts: readonly string[], origin: string): LayerEntry {
  const spec = info.def.spec;
  if (info.isList) {
    const value = texts.flatMap((t) => spec.fromText(t) as unknown[]);
    return { value, text: texts.length === 1 ? texts[0]! : texts, origin };
  }
  const last = texts[texts.length - 1]!;
  return { value: spec.fromText(last), text: last, origin };
}

export interface EnvLayerOptions {
  /** More ALYS_ variables that are not config keys (besides {@link NON_CONFIG_ENV}). */
  ignore?: readonly string[];
}

/**
 * A layer from environment variables (`process.env`, a Worker's env bindings). Only `ALYS_*` names
 * are read; an `ALYS_*` name that is neither a config key nor ignored is an unknown-key issue (with
 * the closest variable suggested), because a misspelt variable otherwise silently does nothing.
 */
export function envLayer(env: Readonly<Record<string, string | undefined>>, opts: EnvLayerOptions = {}): ConfigLayer {
  const ignore = new Set([...NON_CONFIG_ENV, ...(opts.ignore ?? [])]);
  const entries = new Map<ConfigKey, LayerEntry>();
  const issues: ConfigIssue[] = [];
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (!name.startsWith('ALYS_') || text === undefined || ignore.has(name)) continue;
    const info = BY_ENV.get(name);
    if (info === undefined) {
      const near = suggest(
        name.slice(5),
        CONFIG_KEYS.map((k) => k.env.slice(5)),
      );
      issues.push({
        code: 'unknown-key',
        key: name,
        path: name,
        expected: 'an ALYS_* config variable',
        got: text,
        source: 'env',
        origin: name,
        ...(near !== undefined ? { suggestion: `ALYS_${near}` } : {}),
      });
      continue;
    }
    entries.set(info.key, textEntry(info, [text], name));
  }
  return makeLayer('env', 'environment', entries, issues);
}

/** A parsed flag record, as `parseArgs(...).values` gives it. */
export type FlagValues = Readonly<Record<string, string | boolean | readonly (string | boolean)[] | undefined>>;

/**
 * A layer from parsed command-line flags: `--rpc a --rpc b`, `--sync-batch-size 32`. Keys that are
 * not config flags (`config`, `help`, ...) are left to the caller: declare the flags with
 * {@link configParseArgsOptions} and parse strictly, so a misspelt flag fails there. List flags may
 * repeat and each value may be a comma list.
 */
export function flagsLayer(values: FlagValues): ConfigLayer {
  const entries = new Map<ConfigKey, LayerEntry>();
  const issues: ConfigIssue[] = [];
  for (const [written, raw] of Object.entries(values)) {
    if (raw === undefined) continue;
    const info = BY_FLAG.get(written) ?? BY_FLAG.get(kebab(written));
    if (info === undefined) continue;
    const list = Array.isArray(raw) ? raw : [raw];
    const origin = `--${info.flag}`;
    const notText = list.find((v) => typeof v !== 'string');
    if (notText !== undefined) {
      issues.push({
        code: 'invalid-value',
        key: info.key,
        path: info.key,
        expected: info.def.spec.expected,
        got: notText,
        source: 'cli',
        origin,
        problem: 'the flag needs a value',
      });
      continue;
    }
    entries.set(info.key, textEntry(info, list as string[], origin));
  }
  return makeLayer('cli', 'command line', entries, issues);
}

/** The `options` argument for `node:util` `parseArgs` declaring every config flag (list flags `multiple`). */
export function configParseArgsOptions(): Record<string, { type: 'string'; multiple?: boolean }> {
  return Object.fromEntries(
    CONFIG_KEYS.map((k) => [
      k.flag,
      k.isList ? { type: 'string' as const, multiple: true } : { type: 'string' as const },
    ]),
  );
}

/**
 * A layer from URL query parameters (`location.search`): `?rpc=a&rpc=b&mode=full&sync-batch-size=32`.
 * Names are the flag names (kebab), camelCase keys or dotted keys (`sync.batchSize`). A page's URL
 * carries unrelated parameters too, so unknown names are ignored; a near miss of a config name is
 * reported in `warnings`.
 */
export function queryLayer(query: string | URLSearchParams): ConfigLayer {
  const params =
    typeof query === 'string' ? new URLSearchParams(query.startsWith('?') ? query.slice(1) : query) : query;
  const grouped = new Map<ConfigKeyInfo, { written: string; texts: string[] }>();
  const warnings: string[] = [];
  const issues: ConfigIssue[] = [];
  for (const [written, text] of params) {
    const info = BY_FLAG.get(written) ?? BY_KEY.get(written) ?? BY_FLAG.get(kebab(written.replace(/\./g, '-')));
    if (info === undefined) {
      const near = suggest(
        written,
        CONFIG_KEYS.map((k) => k.flag),
      );
      if (near !== undefined)
        warnings.push(`URL parameter ?${written} is not a config parameter (ignored); did you mean ?${near}?`);
      continue;
    }
    const group = grouped.get(info) ?? { written, texts: [] };
    if (group.written !== written) {
      issues.push({
        code: 'duplicate-key',
        key: info.key,
        path: info.key,
        expected: 'one spelling per parameter',
        got: text,
        source: 'url',
        origin: `?${written}`,
        problem: `also written ?${group.written}`,
      });
      continue;
    }
    group.texts.push(text);
    grouped.set(info, group);
  }
  const entries = new Map<ConfigKey, LayerEntry>();
  for (const [info, { written, texts }] of grouped) entries.set(info.key, textEntry(info, texts, `?${written}`));
  return makeLayer('url', 'URL query', entries, issues, warnings);
}
