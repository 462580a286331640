/**
 * The wasm backend under a Cloudflare-Workers-like restriction, emulated in Node: compiling wasm
 * from bytes is forbidden (WebAssembly.compile, WebAssembly.instantiate(bytes) and
 * new WebAssembly.Module(bytes) throw, as workerd does with "Wasm code generation disallowed by
 * embedder"); only instantiating an already compiled WebAssembly.Module works (what a Worker gets
 * from `import m from './x.wasm'`).
 *
 * The precompiled module is made the way a Workers build step would: the base64 `wasmBase64`
 * string of bls-eth-wasm's bls_c.js, decoded. (This file must run in its own module graph, as
 * vitest does per file: the backend is a per-realm singleton.)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../../src/protocol/bls/wasm.js';
import type { BlsBackend } from '../../../src/protocol/bls/backend.js';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';
import { blsVectorSuite, type BlsVectors } from './suite.js';
import { secretKey } from './helpers.js';

const DISALLOWED = 'Wasm code generation disallowed by embedder';

function extractBlsEthWasmBytes(): Uint8Array<ArrayBuffer> {
  const source = readFileSync(createRequire(import.meta.url).resolve('bls-eth-wasm/src/bls_c.js'), 'utf8');
  const match = /const wasmBase64 = '([A-Za-z0-9+/=]+)'/.exec(source);
  if (!match) throw new Error('bls-eth-wasm layout changed: no wasmBase64 string in bls_c.js');
  return Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0));
}

const real = {
  compile: WebAssembly.compile,
  instantiate: WebAssembly.instantiate,
  Module: WebAssembly.Module,
};
let instantiatedFromModule = 0;
let guardInstantiate: unknown;

function forbidCodeGeneration(): void {
  const wasm = WebAssembly as unknown as Record<string, unknown>;
  wasm.compile = () => Promise.reject(new WebAssembly.CompileError(DISALLOWED));
  guardInstantiate = wasm.instantiate = (source: unknown, imports?: WebAssembly.Imports) => {
    if (source instanceof real.Module) {
      instantiatedFromModule++;
      return real.instantiate(source, imports);
    }
    return Promise.reject(new WebAssembly.CompileError(DISALLOWED));
  };
  wasm.Module = new Proxy(real.Module, {
    construct() {
      throw new WebAssembly.CompileError(DISALLOWED);
    },
  });
}

function restore(): void {
  Object.assign(WebAssembly as unknown as Record<string, unknown>, real);
}

describe('wasm backend where wasm cannot be compiled from bytes (Workers emulation)', () => {
  let precompiled: WebAssembly.Module;
  let backend: BlsBackend;

  beforeAll(async () => {
    precompiled = new WebAssembly.Module(extractBlsEthWasmBytes()); // the "build step", before the restriction
    forbidCodeGeneration();
  });
  afterAll(restore);

  it('the emulated restriction is in force', async () => {
    await expect(WebAssembly.compile(new Uint8Array(8))).rejects.toThrow(DISALLOWED);
    expect(() => new WebAssembly.Module(new Uint8Array(8))).toThrow(DISALLOWED);
  });

  it('without a precompiled module, initialisation fails with bls.backend-unavailable', async () => {
    await expect(createWasmBackend()).rejects.toMatchObject({ code: 'bls.backend-unavailable' });
  });

  it('with the precompiled module it initialises, instantiating only that module', async () => {
    const before = instantiatedFromModule;
    backend = await createWasmBackend({ module: precompiled });
    expect(backend.name).toBe('wasm');
    expect(instantiatedFromModule).toBe(before + 1);
    expect(WebAssembly.instantiate).toBe(guardInstantiate); // the backend's temporary hook was removed
  });

  it('signs and verifies', () => {
    const sk = secretKey(1n);
    const msg = new Uint8Array(32).fill(1);
    expect(backend.verify(backend.secretToPublicKey(sk), msg, backend.sign(sk, msg))).toBe(true);
  });

  describeVectors('official BLS vectors (wasm, precompiled module)', () => {
    blsVectorSuite(loadVectors<BlsVectors>('bls-eth2.json'), () => backend);
  });
});
