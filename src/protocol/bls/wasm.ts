/**
 * WebAssembly BLS backend on bls-eth-wasm 1.7.0 (herumi mcl/bls compiled to wasm).
 *
 * Conformance: with `ETH_MODE_DRAFT_07` (set by the package's `init`) it hashes with the
 * Ethereum POP DST; this backend also switches on the public-key and signature subgroup checks
 * at decode time (`verifyPublicKeyOrder(true)`, `verifySignatureOrder(true)`; they are global
 * switches of the package's single module instance) and adds the checks mcl leaves to the
 * caller (infinity public keys, empty lists, lengths, flag bits). It passes every official
 * consensus-spec vector in Node and in Chromium, and a differential test against noble and
 * blst on mutated keys and signatures (test/protocol/bls/).
 *
 * Limitation: `aggregateVerify` only takes 32-byte messages (the package hard-codes the size);
 * with any other length it answers false. Alys signs 32-byte roots, and every official vector
 * uses 32-byte messages. `verify`, `fastAggregateVerify` and `sign` take any length.
 *
 * Loading: bls-eth-wasm embeds its wasm (454 KB) as base64 inside `bls_c.js` and calls
 * `WebAssembly.instantiate(bytes, imports)`. That works in Node and browsers. Cloudflare
 * Workers forbid compiling wasm from bytes at run time (`WebAssembly.compile`/`instantiate` of
 * a buffer and `new WebAssembly.Module(bytes)` throw "Wasm code generation disallowed by
 * embedder"); only a `.wasm` module imported at build time can be instantiated. For such
 * runtimes pass that module as `options.module`: during `init` the package's single
 * `WebAssembly.instantiate(bytes)` call is answered by instantiating the given module instead
 * (the hook is installed and removed synchronously around that one call). The `.wasm` file is
 * the base64 string `wasmBase64` of `node_modules/bls-eth-wasm/src/bls_c.js`, decoded and
 * written out by a build step, then imported by the Worker (`import blsWasm from
 * './bls_c.wasm'`, a CompiledWasm module in wrangler). Checked in workerd 1.20260426.1
 * (miniflare 4.20260426.0): without the module init fails with that error; with it, all 22
 * official vectors pass. test/protocol/bls/wasm.test.ts emulates the same restriction in Node.
 */
import { ProtocolError } from '../errors.js';
import { BLS_SIGNATURE_LENGTH, isInfinityEncoding, type BlsBackend } from './backend.js';
import { backendFromPrimitives, sharedBackend, type BlsPrimitives } from './primitives.js';

// The subset of bls-eth-wasm's API used here (typed structurally; its own d.ts is CommonJS-shaped).
interface WasmPoint {
  deserialize(bytes: Uint8Array): void;
  serialize(): Uint8Array;
  isZero(): boolean;
}
interface WasmPublicKey extends WasmPoint {
  add(rhs: WasmPublicKey): void;
  clone(): WasmPublicKey;
  verify(signature: WasmSignature, message: Uint8Array): boolean;
}
interface WasmSignature extends WasmPoint {
  add(rhs: WasmSignature): void;
  fastAggregateVerify(publicKeys: WasmPublicKey[], message: Uint8Array): boolean;
  aggregateVerifyNoCheck(publicKeys: WasmPublicKey[], messages: Uint8Array): boolean;
}
interface WasmSecretKey {
  deserialize(bytes: Uint8Array): void;
  getPublicKey(): WasmPublicKey;
  sign(message: Uint8Array): WasmSignature;
}
interface BlsEthWasm {
  BLS12_381: number;
  init(curve: number): Promise<void>;
  verifySignatureOrder(on: boolean): void;
  verifyPublicKeyOrder(on: boolean): void;
  PublicKey: new () => WasmPublicKey;
  Signature: new () => WasmSignature;
  SecretKey: new () => WasmSecretKey;
}

export interface WasmBackendOptions {
  /**
   * The package's wasm, compiled ahead of time (in Cloudflare Workers: the default export of an
   * imported `.wasm` file). Without it the package compiles its embedded bytes, which Workers forbid.
   */
  module?: WebAssembly.Module;
}

/** bls-eth-wasm's aggregateVerify takes concatenated 32-byte messages only. */
const WASM_AGGREGATE_MESSAGE_LENGTH = 32;

type Instantiate = (source: unknown, imports?: unknown) => Promise<unknown>;

/** Run `start` with WebAssembly.instantiate(bytes) answered from `module`; restore before returning. */
function withPrecompiledModule<T>(module: WebAssembly.Module, start: () => T): T {
  const wasm = WebAssembly as unknown as { instantiate: Instantiate };
  const original = wasm.instantiate;
  wasm.instantiate = (source, imports) => {
    if (source instanceof WebAssembly.Module) return original.call(WebAssembly, source, imports);
    return (original.call(WebAssembly, module, imports) as Promise<WebAssembly.Instance>).then((instance) => ({
      module,
      instance,
    }));
  };
  try {
    return start(); // bls-eth-wasm calls WebAssembly.instantiate synchronously inside init()
  } finally {
    wasm.instantiate = original;
  }
}

async function loadBlsEthWasm(options: WasmBackendOptions): Promise<BlsEthWasm> {
  try {
    const imported = (await import('bls-eth-wasm')) as unknown as BlsEthWasm & { default?: BlsEthWasm };
    const bls = imported.default ?? imported;
    const pending = options.module
      ? withPrecompiledModule(options.module, () => bls.init(bls.BLS12_381))
      : bls.init(bls.BLS12_381);
    await pending;
    // Subgroup checks at deserialisation (KeyValidate and signature_subgroup_check).
    bls.verifyPublicKeyOrder(true);
    bls.verifySignatureOrder(true);
    return bls;
  } catch (cause) {
    throw new ProtocolError(
      'bls.backend-unavailable',
      'the "wasm" BLS backend (bls-eth-wasm) could not be initialised',
      {
        details:
          'in Cloudflare Workers pass the precompiled module: createBlsBackend("wasm", { module }) with an imported bls_c.wasm; ' +
          'elsewhere use the "noble" backend',
        cause,
      },
    );
  }
}

/** bls-eth-wasm's primitives over its own key and signature handles. */
function wasmPrimitives(bls: BlsEthWasm): BlsPrimitives<WasmPublicKey, WasmSignature> {
  function sum<P extends { add(rhs: P): void }>(points: readonly P[]): P {
    const total = points[0]!;
    for (let i = 1; i < points.length; i++) total.add(points[i]!);
    return total;
  }
  function secretKeyOf(secretKey: Uint8Array): WasmSecretKey {
    const sk = new bls.SecretKey();
    sk.deserialize(secretKey); // 32-byte big-endian in ETH mode
    return sk;
  }

  return {
    name: 'wasm',
    decodePublicKey(bytes) {
      if (isInfinityEncoding(bytes)) return null;
      const pk = new bls.PublicKey();
      pk.deserialize(bytes); // flags, x < p, on curve, subgroup (verifyPublicKeyOrder)
      return pk.isZero() ? null : pk;
    },
    decodeSignature(bytes) {
      const sig = new bls.Signature();
      sig.deserialize(bytes); // flags, x < p, on curve, subgroup (verifySignatureOrder)
      return sig;
    },
    verifyDecoded: (pks, message, sig) =>
      pks.length === 1 ? pks[0]!.verify(sig, message) : sig.fastAggregateVerify([...pks], message),
    aggregateVerifyDecoded(pks, messages, sig) {
      if (!messages.every((m) => m.length === WASM_AGGREGATE_MESSAGE_LENGTH)) return false;
      const joined = new Uint8Array(WASM_AGGREGATE_MESSAGE_LENGTH * messages.length);
      messages.forEach((m, i) => {
        joined.set(m, i * WASM_AGGREGATE_MESSAGE_LENGTH);
      });
      return sig.aggregateVerifyNoCheck([...pks], joined); // "NoCheck": no distinct-message rule, as in the POP scheme
    },
    sumSignatures(signatures) {
      const out = sum(signatures).serialize();
      if (out.length !== BLS_SIGNATURE_LENGTH)
        throw new ProtocolError('bls.wasm', `bls-eth-wasm returned a ${out.length}-byte signature`);
      return out;
    },
    sumPublicKeys: (publicKeys) => sum(publicKeys).serialize(),
    sign: (secretKey, message) => secretKeyOf(secretKey).sign(message).serialize(),
    secretToPublicKey: (secretKey) => secretKeyOf(secretKey).getPublicKey().serialize(),
  };
}

/**
 * The wasm backend. bls-eth-wasm keeps one module instance per JS realm, so this is a shared
 * instance too: `options` only matter on the first successful call.
 */
export const createWasmBackend: (options?: WasmBackendOptions) => Promise<BlsBackend> = sharedBackend(
  async (options: WasmBackendOptions = {}) => backendFromPrimitives(wasmPrimitives(await loadBlsEthWasm(options))),
);
