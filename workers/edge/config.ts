/**
 * The Worker's configuration from its vars (wrangler.toml `[vars]`, or secrets): the chain spec and the
 * BLS backend. Checked once per isolate and kept while the vars are the same; a bad value is an
 * `EdgeConfigError` naming the var (the router answers 500 with it, every request, until it is fixed).
 *
 * - `ALYS_CHAIN`: a shipped chain spec (`dev`, `testnet`, `testnet-full`, `chain-dev`), or
 * - `ALYS_CHAIN_SPEC`: a chain spec as JSON (Alys's chain.json format), for any other network;
 * - `ALYS_BLS`: `wasm` (default: bls-eth-wasm from the module imported at build time) or `noble`.
 */
import {
  createBlsBackend,
  getChainSpec,
  parseChainSpecJson,
  type BlsBackend,
  type ChainSpec,
} from '../../src/protocol/index.js';
import { isShippedChain, SHIPPED_CHAINS } from '../../src/protocol/verify-json.js';
import blsWasmModule from './generated/bls_c.wasm';
import { EdgeConfigError } from './errors.js';

/** The bindings the edge Worker reads. */
export interface EdgeEnv {
  ALYS_CHAIN?: string;
  ALYS_CHAIN_SPEC?: string;
  ALYS_BLS?: string;
}

export interface EdgeConfig {
  spec: ChainSpec;
  /** What the spec was given as: a shipped name, or `custom` (ALYS_CHAIN_SPEC). */
  chain: string;
  blsName: 'wasm' | 'noble';
  /** The isolate's BLS backend, made on first use and shared by every request after. */
  bls: () => Promise<BlsBackend>;
}

let cached: { key: string; config: EdgeConfig } | undefined;

/** The configuration for these vars, made once per isolate. Throws EdgeConfigError. */
export function edgeConfig(env: EdgeEnv): EdgeConfig {
  const key = JSON.stringify([env.ALYS_CHAIN, env.ALYS_CHAIN_SPEC, env.ALYS_BLS]);
  if (cached?.key !== key) cached = { key, config: resolveEdgeConfig(env) };
  return cached.config;
}

export function resolveEdgeConfig(env: EdgeEnv): EdgeConfig {
  const { spec, chain } = resolveChainSpec(env);
  const blsName = resolveBlsName(env.ALYS_BLS);
  let backend: Promise<BlsBackend> | undefined;
  const bls = () => {
    backend ??= createBlsBackend(blsName, { module: blsWasmModule }).catch((e: unknown) => {
      backend = undefined; // a later request tries again
      throw e;
    });
    return backend;
  };
  return { spec, chain, blsName, bls };
}

function resolveChainSpec(env: EdgeEnv): { spec: ChainSpec; chain: string } {
  const name = env.ALYS_CHAIN || undefined;
  const json = env.ALYS_CHAIN_SPEC || undefined;
  if (name !== undefined && json !== undefined)
    throw new EdgeConfigError('ALYS_CHAIN', 'both ALYS_CHAIN and ALYS_CHAIN_SPEC are set', {
      hint: 'set one: a shipped chain name, or a chain spec JSON',
    });
  if (json !== undefined) {
    try {
      return { spec: parseChainSpecJson(json), chain: 'custom' };
    } catch (cause) {
      throw new EdgeConfigError('ALYS_CHAIN_SPEC', 'ALYS_CHAIN_SPEC is not a usable chain spec', {
        details: (cause as Error).message,
        cause,
      });
    }
  }
  if (name === undefined || !isShippedChain(name))
    throw new EdgeConfigError(
      'ALYS_CHAIN',
      name === undefined ? 'no chain spec configured' : `ALYS_CHAIN ${JSON.stringify(name)} is not a shipped chain`,
      { hint: `set ALYS_CHAIN to one of ${SHIPPED_CHAINS.join(', ')}, or ALYS_CHAIN_SPEC to a chain spec JSON` },
    );
  return { spec: getChainSpec(name), chain: name };
}

function resolveBlsName(value: string | undefined): 'wasm' | 'noble' {
  if (value === undefined || value === '' || value === 'wasm') return 'wasm';
  if (value === 'noble') return 'noble';
  throw new EdgeConfigError('ALYS_BLS', `ALYS_BLS ${JSON.stringify(value)} is not a BLS backend of the Worker`, {
    hint: 'wasm (default) or noble',
  });
}
