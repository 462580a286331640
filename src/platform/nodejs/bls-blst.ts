/**
 * Native BLS backend on @chainsafe/blst (supranational blst through N-API; Node only).
 *
 * blst is the library Alys itself verifies with (Lighthouse `bls`, blst `min_pk`), and it is
 * 25-40x faster than pure JS. @chainsafe/blst is an optional dependency with a prebuilt binary
 * per platform, so it is loaded with a dynamic import: where it is missing or its binary does
 * not load, {@link createBlstBackend} rejects with a ProtocolError (`bls.backend-unavailable`)
 * and nothing else is affected. It hashes with the Ethereum POP DST (built into the binding).
 *
 * Only the few members used here are typed (structurally), so this file type-checks even where
 * the optional package is not installed.
 */
import { registerBlstBackend } from '../../protocol/bls/index.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import { backendFromPrimitives, sharedBackend, type BlsPrimitives } from '../../protocol/bls/primitives.js';
import { ProtocolError } from '../../protocol/errors.js';

interface BlstPublicKey {
  toBytes(compress?: boolean): Uint8Array;
}
interface BlstSignature {
  toBytes(compress?: boolean): Uint8Array;
}
interface BlstSecretKey {
  toPublicKey(): BlstPublicKey;
  sign(msg: Uint8Array): BlstSignature;
}
/** The subset of the @chainsafe/blst 2.x API this backend uses. */
interface BlstApi {
  PublicKey: { fromBytes(bytes: Uint8Array, pkValidate?: boolean): BlstPublicKey };
  Signature: { fromBytes(bytes: Uint8Array, sigValidate?: boolean, sigInfcheck?: boolean): BlstSignature };
  SecretKey: { fromBytes(bytes: Uint8Array): BlstSecretKey };
  verify(
    msg: Uint8Array,
    pk: BlstPublicKey,
    sig: BlstSignature,
    pkValidate?: boolean,
    sigGroupcheck?: boolean,
  ): boolean;
  fastAggregateVerify(
    msg: Uint8Array,
    pks: readonly BlstPublicKey[],
    sig: BlstSignature,
    sigsGroupcheck?: boolean,
  ): boolean;
  aggregateVerify(
    msgs: readonly Uint8Array[],
    pks: readonly BlstPublicKey[],
    sig: BlstSignature,
    pkValidate?: boolean,
    sigsGroupcheck?: boolean,
  ): boolean;
  aggregateSignatures(sigs: readonly BlstSignature[], sigsGroupcheck?: boolean): BlstSignature;
  aggregatePublicKeys(pks: readonly BlstPublicKey[], pksValidate?: boolean): BlstPublicKey;
}

async function loadBlst(): Promise<BlstApi> {
  try {
    const mod = (await import('@chainsafe/blst')) as unknown as BlstApi & { default?: BlstApi };
    const api = mod.default ?? mod;
    if (typeof api.fastAggregateVerify !== 'function') throw new Error('unexpected @chainsafe/blst exports');
    return api;
  } catch (cause) {
    throw new ProtocolError('bls.backend-unavailable', 'the native "blst" BLS backend is not available here', {
      details:
        '@chainsafe/blst (an optional Node-only dependency) is not installed or its native binary does not load on this platform; ' +
        'install it, or use the "noble" (pure JS) or "wasm" backend',
      cause,
    });
  }
}

/** @chainsafe/blst's primitives. Keys and signatures are checked once, at decode; later calls skip the checks. */
function blstPrimitives(blst: BlstApi): BlsPrimitives<BlstPublicKey, BlstSignature> {
  return {
    name: 'blst',
    /** blst's pk_validate: infinity and subgroup check. */
    decodePublicKey: (bytes) => blst.PublicKey.fromBytes(bytes, true),
    /** Subgroup check; infinity allowed (a valid point). */
    decodeSignature: (bytes) => blst.Signature.fromBytes(bytes, true, false),
    verifyDecoded: (pks, message, sig) =>
      pks.length === 1
        ? blst.verify(message, pks[0]!, sig, false, false)
        : blst.fastAggregateVerify(message, pks, sig, false),
    aggregateVerifyDecoded: (pks, messages, sig) => blst.aggregateVerify([...messages], pks, sig, false, false),
    sumSignatures: (signatures) => blst.aggregateSignatures(signatures, false).toBytes(true),
    sumPublicKeys: (publicKeys) => blst.aggregatePublicKeys(publicKeys, false).toBytes(true),
    sign: (secretKey, message) => blst.SecretKey.fromBytes(secretKey).sign(message).toBytes(true),
    secretToPublicKey: (secretKey) => blst.SecretKey.fromBytes(secretKey).toPublicKey().toBytes(true),
  };
}

/** The native blst backend (one shared instance). Rejects with `bls.backend-unavailable` where @chainsafe/blst does not load. */
export const createBlstBackend: () => Promise<BlsBackend> = sharedBackend(async () =>
  backendFromPrimitives(blstPrimitives(await loadBlst())),
);

/**
 * Make `createBlsBackend('blst')` and `'auto'` use this backend in this thread. Each Node entry point
 * calls it once (the CLI, the package's Node entry, worker_threads entries, the test setup); code
 * that only runs in browsers and Workers never imports this file.
 */
export function registerNativeBlsBackend(): void {
  registerBlstBackend(createBlstBackend);
}
