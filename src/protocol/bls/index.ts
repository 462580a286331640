/**
 * BLS backends for Alys approvals (alys-protocol.md section 3.1) and the backend selector.
 *
 * | backend | runs in | notes |
 * | --- | --- | --- |
 * | `noble` (default) | everywhere (Node, browsers, Workers) | pure JS, @noble/curves |
 * | `wasm` | Node, browsers; Workers only with a precompiled module (`options.module`) | bls-eth-wasm (mcl) |
 * | `blst` | Node only, where the optional @chainsafe/blst is installed and registered | native, fastest |
 *
 * `createBlsBackend('auto')` gives blst where a Node entry point registered it; elsewhere the one
 * `auto` backend of this JS realm (auto.ts): noble at once, the wasm backend after its background
 * upgrade (`upgradeBlsBackend`), noble for good if the wasm does not load. A page's first verified
 * head so needs neither the wasm's download nor its compilation.
 */
import { ProtocolError } from '../errors.js';
import type { BlsBackend, BlsBackendName } from './backend.js';
import { createWasmBackend, type WasmBackendOptions } from './wasm.js';
import { createAutoBackend } from './auto.js';
import { sharedBackend } from './primitives.js';

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
export { createWasmBackend, type WasmBackendOptions } from './wasm.js';
export { type AutoBlsBackend, upgradeBlsBackend } from './auto.js';

export interface CreateBlsBackendOptions extends WasmBackendOptions {}

let registeredBlst: (() => Promise<BlsBackend>) | undefined;

/**
 * The injection point of the native backend. The protocol library imports nothing outside itself,
 * so Node entry points register it (`registerNativeBlsBackend()` in src/platform/nodejs/bls-blst.ts
 * calls this); in browsers and Workers, and in Node before a registration, `createBlsBackend('blst')`
 * rejects with `bls.backend-unavailable` and `'auto'` moves on to wasm.
 */
export function registerBlstBackend(factory: () => Promise<BlsBackend>): void {
  registeredBlst = factory;
}

async function createRegisteredBlstBackend(): Promise<BlsBackend> {
  if (registeredBlst) return registeredBlst();
  throw new ProtocolError('bls.backend-unavailable', 'the native "blst" BLS backend is only available in Node', {
    details:
      'use createBlsBackend("noble") or createBlsBackend("wasm") in browsers and Workers; ' +
      'in Node, register it first (registerNativeBlsBackend() from the Node platform adapter)',
  });
}

/** The noble backend, imported on first use: `auto` loads it only where wasm (and blst) do not. */
async function createNoble(): Promise<BlsBackend> {
  return (await import('./noble.js')).createNobleBackend();
}

/** This realm's `auto` backend: noble now, the wasm (with the first call's options) once upgraded. */
const autoBackend = sharedBackend(async (options: CreateBlsBackendOptions) =>
  createAutoBackend(await createNoble(), () => createWasmBackend(options)),
);

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
      return createNoble();
    case 'wasm':
      return createWasmBackend(options);
    case 'blst':
      return createRegisteredBlstBackend();
    case 'auto':
      try {
        return await createRegisteredBlstBackend();
      } catch {
        return autoBackend(options);
      }
    default:
      throw new ProtocolError('bls.backend-unknown', `unknown BLS backend ${JSON.stringify(name)}`, {
        details: 'use "noble", "wasm", "blst" or "auto"',
      });
  }
}
