/**
 * Node config loading: built-in defaults (level storage in ~/.alys-light) < TOML file < ALYS_* env <
 * CLI flags. The file is `--config <path>`, else `ALYS_CONFIG`, else none (no implicit file). Relative
 * paths inside the file (`network = "./spec.json"`, `chain-spec-file`, `data-dir`) are relative to the
 * file's directory; on the command line and in the environment, to the working directory.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigFileError } from '../errors.js';
import {
  envLayer,
  flagsLayer,
  optionsLayer,
  tomlLayer,
  type ConfigLayer,
  type FlagValues,
  type LayerEntry,
} from '../layers.js';
import { resolveConfig, type ResolvedConfig } from '../load.js';
import { NETWORK_NAMES, type ConfigInput, type ConfigKey } from '../schema.js';
import { defaultDevnetDir } from './private-dir.js';

/** Where `alys-light` keeps level storage unless `dataDir` says otherwise. */
export function defaultDataDir(): string {
  return join(homedir(), '.alys-light');
}

/**
 * Where `npm run devnet` (createDevnet without dataDir) writes its chain spec for a seed (default
 * `alys-devnet`): in this user's private runtime directory (see private-dir.ts), never a shared path.
 */
export function defaultDevnetSpecFile(
  seed = 'alys-devnet',
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return join(defaultDevnetDir(seed, env), 'chain-spec.json');
}

/** Node's platform defaults, as a `default` layer over the built-in ones. */
export function nodeDefaultsLayer(): ConfigLayer {
  return optionsLayer({ dataDir: defaultDataDir() }, 'Node defaults', 'default');
}

const PATH_KEYS: readonly ConfigKey[] = ['network', 'chainSpecFile', 'dataDir'];

/** Make relative path values in a file layer relative to the file's directory. */
function anchorPaths(layer: ConfigLayer, baseDir: string): ConfigLayer {
  const entries = new Map<ConfigKey, LayerEntry>(layer.entries);
  for (const key of PATH_KEYS) {
    const entry = entries.get(key);
    if (entry === undefined || typeof entry.value !== 'string' || entry.value === '' || isAbsolute(entry.value))
      continue;
    if (key === 'network' && (NETWORK_NAMES as readonly string[]).includes(entry.value)) continue;
    entries.set(key, { ...entry, value: resolve(baseDir, entry.value) });
  }
  return Object.freeze({ ...layer, entries });
}

/** Parse TOML text as the config file `file` (absolute path), paths anchored at its directory. Throws ConfigSyntaxError. */
export function fileLayerFromText(text: string, file: string): ConfigLayer {
  return anchorPaths(tomlLayer(text, file), dirname(file));
}

/** Read and parse a TOML config file. Throws ConfigFileError (unreadable) or ConfigSyntaxError (bad TOML). */
export async function readConfigFile(file: string): Promise<ConfigLayer> {
  const absolute = resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (cause as Error).message;
    throw new ConfigFileError(absolute, problem, { cause });
  }
  return fileLayerFromText(text, absolute);
}

export interface NodeConfigInput {
  /** Parsed CLI flags (`parseArgs(...).values`); `config` names the file. */
  flags?: FlagValues;
  /** Default `process.env`. `ALYS_CONFIG` names the file when no flag does. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The config file; overrides `--config` and `ALYS_CONFIG`. `null`: no file even if they name one. */
  configFile?: string | null;
  /** More ALYS_ variables that are not config keys. */
  envIgnore?: readonly string[];
  /** Defaults of this command over the built-in ones (`alys-light relay` listens by default). */
  defaults?: ConfigInput;
}

/** The config file a Node input selects (absolute), or null. */
export function configFileOf(input: NodeConfigInput): string | null {
  if (input.configFile !== undefined) return input.configFile === null ? null : resolve(input.configFile);
  const flag = input.flags?.['config'];
  if (typeof flag === 'string' && flag !== '') return resolve(flag);
  const env = (input.env ?? process.env)['ALYS_CONFIG'];
  return env !== undefined && env !== '' ? resolve(env) : null;
}

/**
 * Resolve the Node config: defaults < file < env < flags. Throws ConfigError (all bad values at
 * once), ConfigSyntaxError or ConfigFileError.
 */
export async function loadNodeConfig(input: NodeConfigInput = {}): Promise<ResolvedConfig> {
  const file = configFileOf(input);
  const layers: ConfigLayer[] = [nodeDefaultsLayer()];
  if (input.defaults !== undefined) layers.push(optionsLayer(input.defaults, 'command defaults', 'default'));
  if (file !== null) layers.push(await readConfigFile(file));
  layers.push(envLayer(input.env ?? process.env, { ignore: input.envIgnore ?? [] }));
  if (input.flags !== undefined) layers.push(flagsLayer(input.flags));
  return resolveConfig({ runtime: 'node', layers });
}
