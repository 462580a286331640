/**
 * BLS backends for Alys approvals (alys-protocol.md section 3.1) and the backend selector.
 *
 * | backend | runs in | notes |
 * | --- | --- | --- |
 * | `noble` (default) | everywhere (Node, browsers, Workers) | pure JS, @noble/curves |
 * | `wasm` | Node, browsers; Workers only with a precompiled module (`options.module`) | bls-eth-wasm (mcl) |
 * | `blst` | Node only, where the optional @chainsafe/blst is installed | native, fastest |
 *
 * `createBlsBackend('auto')` picks the fastest that loads: blst, then wasm, then noble.
 */
import { ProtocolError } from '../errors.js';
import type { BlsBackend, BlsBackendName } from './backend.js';
import { createNobleBackend } from './noble.js';
import { createWasmBackend, type WasmBackendOptions } from './wasm.js';

export {
  BLS_CURVE_ORDER,
  BLS_DST,
  BLS_PUBLIC_KEY_LENGTH,
  BLS_SECRET_KEY_LENGTH,
  BLS_SIGNATURE_LENGTH,
  type BlsBackend,
  type BlsBackendName,
  type PreparedPublicKey,
} from './backend.js';
export { createNobleBackend, nobleBackend } from './noble.js';
export { createWasmBackend, type WasmBackendOptions } from './wasm.js';

export interface CreateBlsBackendOptions extends WasmBackendOptions {}

/**
 * The blst backend is Node-only code under src/platform/nodejs. The specifier is kept out of the
 * bundlers' static analysis (a variable + @vite-ignore) so that browser and Worker builds never
 * try to bundle a native addon; where the import fails, the error says so.
 */
const BLST_BACKEND_MODULE = '../../platform/nodejs/bls-blst.js';

/**
 * Feature test (not a use of Node APIs): only try the native backend where a Node-compatible
 * runtime says so. In a browser the import is not even attempted, so a dev server never tries
 * to resolve or pre-bundle the native addon.
 */
function looksLikeNode(): boolean {
  const runtime = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof runtime?.versions?.node === 'string';
}

let registeredBlst: (() => Promise<BlsBackend>) | undefined;

/**
 * Node entry points that are bundled (the worker_threads actor host) register the native backend
 * with a static import, since the relative dynamic import below does not survive bundling.
 */
export function registerBlstBackend(factory: () => Promise<BlsBackend>): void {
  registeredBlst = factory;
}

async function createBlstBackendDynamically(): Promise<BlsBackend> {
  if (registeredBlst) return registeredBlst();
  if (!looksLikeNode())
    throw new ProtocolError('bls.backend-unavailable', 'the native "blst" BLS backend is only available in Node', {
      details: 'use createBlsBackend("noble") or createBlsBackend("wasm") in browsers and Workers',
    });
  let mod: { createBlstBackend?: () => Promise<BlsBackend> };
  try {
    const specifier = BLST_BACKEND_MODULE;
    mod = (await import(/* @vite-ignore */ specifier)) as typeof mod;
  } catch (cause) {
    throw new ProtocolError('bls.backend-unavailable', 'the native "blst" BLS backend is only available in Node', {
      details: 'use createBlsBackend("noble") or createBlsBackend("wasm") in browsers and Workers',
      cause,
    });
  }
  if (typeof mod.createBlstBackend !== 'function')
    throw new ProtocolError(
      'bls.backend-unavailable',
      'src/platform/nodejs/bls-blst.js does not export createBlstBackend',
    );
  return mod.createBlstBackend();
}

/**
 * Create a BLS backend by name (default `noble`). Rejects with a ProtocolError
 * (`bls.backend-unavailable`) if the named backend cannot load here; `auto` never rejects
 * because noble always loads.
 */
export async function createBlsBackend(
  name: BlsBackendName | 'auto' = 'noble',
  options: CreateBlsBackendOptions = {},
): Promise<BlsBackend> {
  switch (name) {
    case 'noble':
      return createNobleBackend();
    case 'wasm':
      return createWasmBackend(options);
    case 'blst':
      return createBlstBackendDynamically();
    case 'auto':
      for (const attempt of [createBlstBackendDynamically, () => createWasmBackend(options)]) {
        try {
          return await attempt();
        } catch {
          // try the next one
        }
      }
      return createNobleBackend();
    default:
      throw new ProtocolError('bls.backend-unknown', `unknown BLS backend ${JSON.stringify(name)}`, {
        details: 'use "noble", "wasm", "blst" or "auto"',
      });
  }
}
