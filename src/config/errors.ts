/**
 * Typed errors of the config layer (viem `BaseError` style: a short message, then details).
 *
 * - {@link ConfigError}: one or more keys have unusable values or are unknown. It names the key, the
 *   expected form, what was given and where it came from (`source`: default | file | env | cli | url |
 *   options; `origin`: the exact variable, flag, file or query parameter). All problems found in one
 *   pass are in `issues`; the top-level fields describe the first.
 * - {@link ConfigSyntaxError}: a TOML file does not parse (with line and column).
 * - {@link ConfigFileError}: a config file cannot be read.
 * - {@link ConfigRestartRequiredError}: an update changes keys that only take effect on a restart.
 * - {@link ConfigApplyError}: an update validated but applying it failed (and was rolled back, or not).
 *
 * All are {@link AlysLightError}s (src/errors.ts) with a `config.*` code.
 */
import { AlysLightError, type AlysLightErrorOptions } from '../errors.js';

/** Where a value came from, lowest precedence first in each runtime (Node: default < file < env < cli; browser: default < options < url). */
export type ConfigSource = 'default' | 'file' | 'env' | 'cli' | 'url' | 'options';

export class ConfigBaseError extends AlysLightError {
  override name = 'ConfigBaseError';
  /** Stable machine-readable code, e.g. `config.invalid-value`. */
  declare readonly code: string;

  constructor(code: string, shortMessage: string, options: AlysLightErrorOptions = {}) {
    super(code, shortMessage, options);
  }
}

export type ConfigIssueCode = 'invalid-value' | 'unknown-key' | 'duplicate-key' | 'conflict';

/** One problem with one key. */
export interface ConfigIssue {
  readonly code: ConfigIssueCode;
  /** The schema key (`sync.batchSize`), or for an unknown key the key as written. */
  readonly key: string;
  /** The exact location when narrower than the key, e.g. `rpc[1]`. Otherwise equal to `key`. */
  readonly path: string;
  /** The expected form, e.g. `an integer from 1 to 1024`. */
  readonly expected: string;
  /** What was given (the raw value: text for env/cli/url). */
  readonly got: unknown;
  readonly source: ConfigSource;
  /** The variable, flag, file key or parameter that carried the value: `ALYS_RPC`, `--rpc`, `alys.toml: sync.batch-size`, `?mode`. */
  readonly origin: string;
  /** A close known key or value ("did you mean"). */
  readonly suggestion?: string;
  /** Extra words when `expected`/`got` do not say it all. */
  readonly problem?: string;
}

/** Format a value for a message: strings quoted, long values cut. */
export function formatGot(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (typeof value === 'function') text = 'a function';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatIssue(issue: ConfigIssue): string {
  const where =
    issue.origin === issue.path
      ? issue.path
      : `${issue.path} (${issue.source === 'default' ? 'default' : `from ${issue.origin}`})`;
  const head =
    issue.code === 'unknown-key'
      ? `${where}: unknown key${issue.problem ? ` (${issue.problem})` : ''}`
      : issue.code === 'duplicate-key'
        ? `${where}: set twice (${issue.problem ?? 'two spellings of one key'})`
        : `${where}: expected ${issue.expected}, got ${formatGot(issue.got)}${issue.problem ? ` (${issue.problem})` : ''}`;
  return issue.suggestion !== undefined ? `${head}; did you mean ${issue.suggestion}?` : head;
}

/** Unusable or unknown config values. `key`, `expected`, `got`, `source`, `origin` describe the first of `issues`. */
export class ConfigError extends ConfigBaseError {
  override name = 'ConfigError';
  readonly key: string;
  readonly path: string;
  readonly expected: string;
  readonly got: unknown;
  readonly source: ConfigSource;
  readonly origin: string;
  readonly suggestion: string | undefined;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const first = issues[0];
    if (first === undefined) throw new TypeError('ConfigError needs at least one issue');
    const short =
      issues.length === 1 ? `Invalid config: ${formatIssue(first)}` : `Invalid config: ${issues.length} problems`;
    super(`config.${first.code}`, short, {
      ...(issues.length > 1 ? { details: issues.map((i) => `- ${formatIssue(i)}`).join('\n') } : {}),
      hint: 'Fix the value where it is set (see the source in parentheses), or remove it to use the default.',
    });
    this.key = first.key;
    this.path = first.path;
    this.expected = first.expected;
    this.got = first.got;
    this.source = first.source;
    this.origin = first.origin;
    this.suggestion = first.suggestion;
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * A value that passed the schema but cannot be used where it arrived (e.g. a storage kind this runtime
 * lacks, a URL handed straight to a factory): a {@link ConfigError} with one `invalid-value` issue.
 */
export function configValueError(key: string, expected: string, got: unknown, problem?: string): ConfigError {
  return new ConfigError([
    {
      code: 'invalid-value',
      key,
      path: key,
      expected,
      got,
      source: 'options',
      origin: key,
      ...(problem ? { problem } : {}),
    },
  ]);
}

/** A TOML config file does not parse. `line` and `column` are 1-based. */
export class ConfigSyntaxError extends ConfigBaseError {
  override name = 'ConfigSyntaxError';
  readonly source = 'file' as const;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    problem: string,
    options: { excerpt?: string; cause?: unknown } = {},
  ) {
    super('config.syntax', `Invalid TOML in ${file} at line ${line}, column ${column}: ${problem}`, {
      ...(options.excerpt ? { details: options.excerpt } : {}),
      cause: options.cause,
    });
  }
}

/** A config file could not be read (missing, unreadable, a directory). */
export class ConfigFileError extends ConfigBaseError {
  override name = 'ConfigFileError';
  constructor(
    readonly file: string,
    problem: string,
    options: { cause?: unknown } = {},
  ) {
    super('config.file', `Cannot read config file ${file}: ${problem}`, {
      hint: 'Check the path given with --config or ALYS_CONFIG.',
      cause: options.cause,
    });
  }
}

/** The chain spec a config selects cannot be loaded (missing devnet spec file, unreadable or invalid spec). */
export class ConfigNetworkError extends ConfigBaseError {
  override name = 'ConfigNetworkError';
  constructor(
    readonly network: string,
    readonly file: string | null,
    problem: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(
      'config.network',
      `Cannot load the chain spec for network ${JSON.stringify(network)}${file !== null ? ` from ${file}` : ''}: ${problem}`,
      {
        hint: options.hint,
        cause: options.cause,
      },
    );
  }
}

/** An update changes keys that the running node cannot take without a restart; nothing was applied. */
export class ConfigRestartRequiredError extends ConfigBaseError {
  override name = 'ConfigRestartRequiredError';
  constructor(
    readonly keys: readonly string[],
    readonly changes: readonly { key: string; from: unknown; to: unknown }[],
  ) {
    super(
      'config.restart-required',
      `Cannot change ${keys.join(', ')} while the node runs; restart the node to apply ${keys.length === 1 ? 'it' : 'them'}`,
      {
        details: `${changes.map((c) => `- ${c.key}: ${formatGot(c.from)} -> ${formatGot(c.to)}`).join('\n')}\nNothing was applied; the previous config stays in effect.`,
      },
    );
  }
}

/**
 * Applying a validated update failed. `applyError` is why; the manager then re-applied the previous
 * config: `rollbackError` is undefined when that worked (the node runs the previous config), or the
 * rollback's own failure (the node's state is uncertain: restart it).
 */
export class ConfigApplyError extends ConfigBaseError {
  override name = 'ConfigApplyError';
  /** True when the previous config was re-applied successfully. */
  readonly rolledBack: boolean;
  /** The rollback's failure, when `rolledBack` is false. */
  readonly rollbackError: unknown;

  constructor(
    readonly changedKeys: readonly string[],
    readonly applyError: unknown,
    rollback: { ok: true } | { ok: false; error: unknown },
  ) {
    const what = `applying the change to ${changedKeys.join(', ')} failed: ${errorText(applyError)}`;
    super(
      rollback.ok ? 'config.apply-failed' : 'config.rollback-failed',
      rollback.ok ? `Config update rolled back; ${what}` : `Config update failed and so did the rollback; ${what}`,
      {
        details: rollback.ok
          ? 'The previous config was re-applied and stays in effect.'
          : `Rollback error: ${errorText(rollback.error)}`,
        ...(rollback.ok ? {} : { hint: 'The node may run a mix of both configs: restart it.' }),
        cause: rollback.ok
          ? applyError
          : new AggregateError([applyError, rollback.error], 'apply and rollback both failed'),
      },
    );
    this.rolledBack = rollback.ok;
    this.rollbackError = rollback.ok ? undefined : rollback.error;
  }
}

/** The manager was closed; no more updates. */
export class ConfigClosedError extends ConfigBaseError {
  override name = 'ConfigClosedError';
  constructor() {
    super('config.closed', 'The config manager is closed; no more updates are accepted');
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
