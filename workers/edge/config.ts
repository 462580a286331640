/**
 * The Worker's configuration from its vars (wrangler.toml `[vars]`, or secrets): the chain spec and the
 * BLS backend. Checked once per isolate and kept while the vars are the same; a bad value is an
 * `EdgeConfigError` naming the var (the router answers 500 with it, every request, until it is fixed).
 *
 * - `ALYS_CHAIN`: a shipped chain spec (`dev`, `testnet`, `testnet-full`, `chain-dev`), or
 * - `ALYS_CHAIN_SPEC`: a chain spec as JSON (Alys's chain.json format), for any other network;
 * - `ALYS_BLS`: `wasm` (default: bls-eth-wasm from the module imported at build time) or `noble`.
 *
 * At startup (global scope, which is the isolate's startup time, not a request's CPU), the configuration
 * for the Worker's vars is made and warmed: the BLS backend instantiated (bls-eth-wasm: ~0.25 s, the bulk
 * of a cold request before), the spec's authority keys prepared, and one aggregate signature made and
 * verified, so the engine has compiled the verification path before the first request. Nothing there is
 * fatal: a bad var or a failed BLS start is answered by the first request that needs it, as before.
 */
import { env as startupEnv } from 'cloudflare:workers';
import {
  createBlsBackend,
  prepareAuthorities,
  type PreparedAuthorities,
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
  /** The spec's authority keys prepared with that backend, made on first use and shared likewise. */
  authorities: () => Promise<PreparedAuthorities>;
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
  let prepared: Promise<PreparedAuthorities> | undefined;
  const authorities = () => {
    prepared ??= bls()
      .then((b) => prepareAuthorities(spec.authorities, b, '$.spec.authorities'))
      .catch((e: unknown) => {
        prepared = undefined;
        throw e;
      });
    return prepared;
  };
  return { spec, chain, blsName, bls, authorities };
}

/** Make and warm the configuration for `env` (see the module comment); undefined if any of it failed. */
export async function warmEdgeConfig(env: EdgeEnv): Promise<EdgeConfig | undefined> {
  try {
    const config = edgeConfig(env);
    const backend = await config.bls();
    await config.authorities();
    const keys = [1, 2].map((k) => new Uint8Array(32).fill(k));
    const message = new Uint8Array(32).fill(3);
    const signature = backend.aggregateSignatures(keys.map((k) => backend.sign(k, message)));
    const prepared = keys.map((k) => backend.preparePublicKey(backend.secretToPublicKey(k)));
    backend.fastAggregateVerifyPrepared(prepared, message, signature);
    return config;
  } catch {
    return undefined;
  }
}

/** The configuration made and warmed at startup for the Worker's vars (undefined: see warmEdgeConfig). */
export const startupConfig: EdgeConfig | undefined = await warmEdgeConfig((startupEnv ?? {}) as EdgeEnv);

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
