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
import { DecodeError, ProtocolError } from '../../protocol/errors.js';
import {
  assertNonEmpty,
  assertSecretKey,
  foreignPreparedKey,
  hasPublicKeyShape,
  hasSignatureShape,
  isInfinityEncoding,
  isMessage,
  type BlsBackend,
  type PreparedPublicKey,
} from '../../protocol/bls/backend.js';

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
  fastAggregateVerify(msg: Uint8Array, pks: BlstPublicKey[], sig: BlstSignature, sigsGroupcheck?: boolean): boolean;
  aggregateVerify(
    msgs: Uint8Array[],
    pks: BlstPublicKey[],
    sig: BlstSignature,
    pkValidate?: boolean,
    sigsGroupcheck?: boolean,
  ): boolean;
  aggregateSignatures(sigs: BlstSignature[], sigsGroupcheck?: boolean): BlstSignature;
  aggregatePublicKeys(pks: BlstPublicKey[], pksValidate?: boolean): BlstPublicKey;
}

class BlstPreparedPublicKey implements PreparedPublicKey {
  readonly backend = 'blst' as const;
  constructor(
    readonly bytes: Uint8Array,
    readonly handle: BlstPublicKey,
  ) {}
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

function buildBackend(blst: BlstApi): BlsBackend {
  /** Decode + KeyValidate (blst's pk_validate = infinity and subgroup check). */
  function decodePublicKey(bytes: unknown): BlstPublicKey | null {
    if (!hasPublicKeyShape(bytes)) return null;
    try {
      return blst.PublicKey.fromBytes(bytes, true);
    } catch {
      return null;
    }
  }
  /** Decode with the subgroup check; infinity allowed (it is a valid point, e.g. an aggregate of nothing useful). */
  function decodeSignature(bytes: unknown): BlstSignature | null {
    if (!hasSignatureShape(bytes)) return null;
    try {
      return blst.Signature.fromBytes(bytes, true, false);
    } catch {
      return null;
    }
  }
  function decodeAll(publicKeys: readonly Uint8Array[]): BlstPublicKey[] | null {
    if (!Array.isArray(publicKeys) || publicKeys.length === 0) return null;
    const out: BlstPublicKey[] = [];
    for (const bytes of publicKeys) {
      const pk = decodePublicKey(bytes);
      if (pk === null) return null;
      out.push(pk);
    }
    return out;
  }
  /**
   * Verify / FastAggregateVerify with decoded keys. An infinity signature can only satisfy the
   * pairing equation against an infinity (aggregate) key, which KeyValidate rejects, so it is false.
   */
  function coreVerify(pks: BlstPublicKey[], message: Uint8Array, signature: Uint8Array): boolean {
    if (!isMessage(message) || !hasSignatureShape(signature) || isInfinityEncoding(signature)) return false;
    const sig = decodeSignature(signature);
    if (sig === null) return false;
    try {
      return pks.length === 1
        ? blst.verify(message, pks[0]!, sig, false, false)
        : blst.fastAggregateVerify(message, pks, sig, false);
    } catch {
      return false;
    }
  }

  return Object.freeze({
    name: 'blst' as const,

    verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
      const pk = decodePublicKey(publicKey);
      return pk !== null && coreVerify([pk], message, signature);
    },

    fastAggregateVerify(publicKeys: readonly Uint8Array[], message: Uint8Array, signature: Uint8Array): boolean {
      const pks = decodeAll(publicKeys);
      return pks !== null && coreVerify(pks, message, signature);
    },

    aggregateVerify(
      publicKeys: readonly Uint8Array[],
      messages: readonly Uint8Array[],
      signature: Uint8Array,
    ): boolean {
      if (!Array.isArray(messages) || !Array.isArray(publicKeys) || messages.length !== publicKeys.length) return false;
      const pks = decodeAll(publicKeys);
      const sig = decodeSignature(signature);
      if (pks === null || sig === null || !messages.every(isMessage)) return false;
      try {
        return blst.aggregateVerify([...messages], pks, sig, false, false);
      } catch {
        return false;
      }
    },

    aggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array {
      assertNonEmpty(signatures, 'signatures', 'signature');
      const sigs = signatures.map((bytes, i) => {
        const sig = decodeSignature(bytes);
        if (sig === null)
          throw new DecodeError(
            `signatures[${i}]`,
            'not a valid 96-byte compressed G2 signature in the prime-order subgroup',
          );
        return sig;
      });
      return blst.aggregateSignatures(sigs, false).toBytes(true);
    },

    aggregatePublicKeys(publicKeys: readonly Uint8Array[]): Uint8Array {
      assertNonEmpty(publicKeys, 'publicKeys', 'public key');
      const pks = publicKeys.map((bytes, i) => {
        const pk = decodePublicKey(bytes);
        if (pk === null)
          throw new DecodeError(`publicKeys[${i}]`, 'fails KeyValidate (bad encoding, infinity, or not in G1)');
        return pk;
      });
      return blst.aggregatePublicKeys(pks, false).toBytes(true);
    },

    sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
      assertSecretKey(secretKey);
      if (!isMessage(message)) throw new DecodeError('message', 'expected a Uint8Array message');
      return blst.SecretKey.fromBytes(secretKey).sign(message).toBytes(true);
    },

    secretToPublicKey(secretKey: Uint8Array): Uint8Array {
      assertSecretKey(secretKey);
      return blst.SecretKey.fromBytes(secretKey).toPublicKey().toBytes(true);
    },

    keyValidate(publicKey: Uint8Array): boolean {
      return decodePublicKey(publicKey) !== null;
    },

    preparePublicKey(publicKey: Uint8Array, path = 'publicKey'): PreparedPublicKey {
      const pk = decodePublicKey(publicKey);
      if (pk === null)
        throw new DecodeError(
          path,
          'not a valid BLS public key (48-byte compressed G1, not infinity, in the prime-order subgroup)',
        );
      return new BlstPreparedPublicKey(publicKey.slice(), pk);
    },

    fastAggregateVerifyPrepared(
      publicKeys: readonly PreparedPublicKey[],
      message: Uint8Array,
      signature: Uint8Array,
    ): boolean {
      if (!Array.isArray(publicKeys) || publicKeys.length === 0) return false;
      const pks: BlstPublicKey[] = [];
      for (const key of publicKeys) {
        if (!(key instanceof BlstPreparedPublicKey)) throw foreignPreparedKey('blst', key);
        pks.push(key.handle);
      }
      return coreVerify(pks, message, signature);
    },
  });
}

let backendPromise: Promise<BlsBackend> | undefined;

/** The native blst backend (one shared instance). Rejects with `bls.backend-unavailable` where @chainsafe/blst does not load. */
export function createBlstBackend(): Promise<BlsBackend> {
  backendPromise ??= loadBlst().then(buildBackend, (error: unknown) => {
    backendPromise = undefined; // allow a retry
    throw error;
  });
  return backendPromise;
}

/** Same as {@link createBlstBackend}; named for the `createBlsBackend('blst')` selector's dynamic import. */
export const createBackend = createBlstBackend;
