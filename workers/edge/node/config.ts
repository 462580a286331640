/**
 * The Durable Object light node's configuration from the Worker's vars: the chain spec and BLS backend
 * of the Worker (config.ts), the sources, and optional node options. Checked on every (re)start of the
 * node; a bad value is an `EdgeConfigError` naming the var.
 *
 * - `ALYS_RPC`: consensus RPC URLs, comma or space separated (required);
 * - `ALYS_EVM_RPC`: EVM JSON-RPC URLs, the same way (required);
 * - `ALYS_NODE_OPTIONS`: optional JSON object of further light node options (`mode`, `sync`, `passThrough`,
 *   `logLevel`, ...; the schema of src/config/schema.ts checks it);
 * - `ALYS_ALARM_STEP_MS`: how long one alarm run waits for the node to reach its sources' head (20 s).
 */
import { loadBrowserConfig } from '../../../src/config/load.js';
import type { ResolvedConfig } from '../../../src/config/index.js';
import { type EdgeConfig, type EdgeEnv, edgeConfig } from '../config.js';
import { EdgeConfigError } from '../errors.js';

export interface NodeEnv extends EdgeEnv {
  ALYS_RPC?: string;
  ALYS_EVM_RPC?: string;
  ALYS_NODE_OPTIONS?: string;
  ALYS_ALARM_STEP_MS?: string;
}

export interface NodeConfig {
  edge: EdgeConfig;
  config: ResolvedConfig;
}

/** A list var as URLs (empty entries dropped). */
export function urlList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((u) => u !== '');
}

export function resolveNodeConfig(env: NodeEnv): NodeConfig {
  const edge = edgeConfig(env);
  const rpc = required('ALYS_RPC', urlList(env.ALYS_RPC), 'consensus RPC');
  const evmRpc = required('ALYS_EVM_RPC', urlList(env.ALYS_EVM_RPC), 'EVM JSON-RPC');
  const extra = extraOptions(env.ALYS_NODE_OPTIONS);
  try {
    const config = loadBrowserConfig({
      options: { logLevel: 'warn', ...extra, rpc, evmRpc, bls: edge.blsName, verifierWorkers: 0 },
    });
    return { edge, config };
  } catch (cause) {
    const key = (cause as { key?: string }).key;
    const from = key === 'rpc' ? 'ALYS_RPC' : key === 'evmRpc' ? 'ALYS_EVM_RPC' : 'ALYS_NODE_OPTIONS';
    throw new EdgeConfigError(from, `${from} is not usable: ${(cause as Error).message}`, { cause });
  }
}

function required(key: string, urls: string[], what: string): string[] {
  if (urls.length === 0)
    throw new EdgeConfigError(key, `${key} is not set`, {
      hint: `set ${key} to the ${what} URLs the node reads (comma separated)`,
    });
  return urls;
}

function extraOptions(json: string | undefined): Record<string, unknown> {
  if (json === undefined || json === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new EdgeConfigError('ALYS_NODE_OPTIONS', 'ALYS_NODE_OPTIONS is not JSON', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new EdgeConfigError('ALYS_NODE_OPTIONS', 'ALYS_NODE_OPTIONS is not a JSON object');
  return parsed as Record<string, unknown>;
}
