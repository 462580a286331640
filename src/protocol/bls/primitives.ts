/**
 * What a BLS backend supplies, and the glue every backend shares (written once here).
 *
 * A backend (noble, wasm, blst) provides only its curve library's primitives over its own point
 * types: decode a public key or a signature, check a pairing equation, add points, sign.
 * {@link backendFromPrimitives} turns them into a {@link BlsBackend} with the semantics that
 * backend.ts documents: input shape checks, boolean answers that never throw for bad bytes,
 * DecodeErrors naming the index of a bad list element, prepared public keys that only the backend
 * that made them accepts. {@link sharedBackend} is the load-once cache of the backends that have to
 * load a module first.
 */
import { DecodeError } from '../errors.js';
import {
  assertNonEmpty,
  assertSecretKey,
  foreignPreparedKey,
  hasPublicKeyShape,
  hasSignatureShape,
  isInfinityEncoding,
  isMessage,
  type BlsBackend,
  type BlsBackendName,
  type PreparedPublicKey,
} from './backend.js';

/**
 * One backend's primitives over its public-key type `Pk` and signature type `Sig`. Inputs are
 * already checked for shape (length and compression flag); a primitive that throws on bad input
 * counts as a refusal (false, or the DecodeError of the operation).
 */
export interface BlsPrimitives<Pk, Sig> {
  readonly name: BlsBackendName;
  /** Decode + KeyValidate (canonical, on the curve, in G1, not infinity); null if any check fails. */
  decodePublicKey(bytes: Uint8Array): Pk | null;
  /** Decode with the subgroup check; the point at infinity is a valid signature. Null if invalid. */
  decodeSignature(bytes: Uint8Array): Sig | null;
  /** Verify (one key) or FastAggregateVerify (several) over decoded, non-empty keys. */
  verifyDecoded(publicKeys: readonly Pk[], message: Uint8Array, signature: Sig): boolean;
  /** AggregateVerify: key i signed message i; lists are non-empty and of equal length. */
  aggregateVerifyDecoded(publicKeys: readonly Pk[], messages: readonly Uint8Array[], signature: Sig): boolean;
  /** The compressed sum of decoded signatures (a non-empty list). */
  sumSignatures(signatures: readonly Sig[]): Uint8Array;
  /** The compressed sum of decoded public keys (a non-empty list). */
  sumPublicKeys(publicKeys: readonly Pk[]): Uint8Array;
  /** Sign with the POP DST; the key is already checked (32 bytes, 0 < sk < r). */
  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** sk·G1 compressed; the key is already checked. */
  secretToPublicKey(secretKey: Uint8Array): Uint8Array;
}

const BAD_SIGNATURE = 'not a valid 96-byte compressed G2 signature in the prime-order subgroup';
const BAD_AGGREGATE_KEY = 'fails KeyValidate (bad encoding, infinity, or not in G1)';
const BAD_PREPARED_KEY =
  'not a valid BLS public key (48-byte compressed G1, not infinity, in the prime-order subgroup)';

/** `decode(bytes)` if `bytes` has the right shape, else null; a decoder that throws also gives null. */
function decodeShaped<T>(bytes: unknown, shaped: (b: unknown) => b is Uint8Array, decode: (b: Uint8Array) => T | null) {
  if (!shaped(bytes)) return null;
  try {
    return decode(bytes);
  } catch {
    return null;
  }
}

/** A boolean check that answers false instead of throwing. */
function falseOnThrow(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

/** Decode every element with `decode`, throwing a DecodeError at `path[i]` for the first that fails. */
function decodeEach<T>(
  items: readonly Uint8Array[],
  path: string,
  decode: (bytes: Uint8Array) => T | null,
  problem: string,
): T[] {
  const out: T[] = [];
  items.forEach((bytes, i) => {
    const decoded = decode(bytes);
    if (decoded === null) throw new DecodeError(`${path}[${i}]`, problem);
    out.push(decoded);
  });
  return out;
}

/** A {@link BlsBackend} from one backend's primitives (see the module comment). */
export function backendFromPrimitives<Pk, Sig>(primitives: BlsPrimitives<Pk, Sig>): BlsBackend {
  const { name } = primitives;

  class Prepared implements PreparedPublicKey {
    readonly backend = name;
    constructor(
      readonly bytes: Uint8Array,
      readonly key: Pk,
    ) {}
  }

  const decodePublicKey = (bytes: unknown): Pk | null =>
    decodeShaped(bytes, hasPublicKeyShape, (b) => primitives.decodePublicKey(b));
  const decodeSignature = (bytes: unknown): Sig | null =>
    decodeShaped(bytes, hasSignatureShape, (b) => primitives.decodeSignature(b));

  /** Every key decoded, or null for an empty or non-array list or any bad key. */
  function decodeAllPublicKeys(publicKeys: readonly Uint8Array[]): Pk[] | null {
    if (!Array.isArray(publicKeys) || publicKeys.length === 0) return null;
    const out: Pk[] = [];
    for (const bytes of publicKeys) {
      const pk = decodePublicKey(bytes);
      if (pk === null) return null;
      out.push(pk);
    }
    return out;
  }

  /**
   * Verify / FastAggregateVerify over decoded keys. An infinity signature can only satisfy the
   * pairing equation against an infinity (aggregate) key, which KeyValidate rejects: false.
   */
  function coreVerify(pks: readonly Pk[], message: Uint8Array, signature: Uint8Array): boolean {
    if (!isMessage(message) || !hasSignatureShape(signature) || isInfinityEncoding(signature)) return false;
    const sig = decodeSignature(signature);
    return sig !== null && falseOnThrow(() => primitives.verifyDecoded(pks, message, sig));
  }

  return Object.freeze({
    name,

    verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
      const pk = decodePublicKey(publicKey);
      return pk !== null && coreVerify([pk], message, signature);
    },

    fastAggregateVerify(publicKeys: readonly Uint8Array[], message: Uint8Array, signature: Uint8Array): boolean {
      const pks = decodeAllPublicKeys(publicKeys);
      return pks !== null && coreVerify(pks, message, signature);
    },

    aggregateVerify(
      publicKeys: readonly Uint8Array[],
      messages: readonly Uint8Array[],
      signature: Uint8Array,
    ): boolean {
      if (!Array.isArray(messages) || !Array.isArray(publicKeys) || messages.length !== publicKeys.length) return false;
      if (!messages.every(isMessage)) return false;
      const pks = decodeAllPublicKeys(publicKeys);
      const sig = decodeSignature(signature);
      if (pks === null || sig === null) return false;
      return falseOnThrow(() => primitives.aggregateVerifyDecoded(pks, messages, sig));
    },

    aggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array {
      assertNonEmpty(signatures, 'signatures', 'signature');
      return primitives.sumSignatures(decodeEach(signatures, 'signatures', decodeSignature, BAD_SIGNATURE));
    },

    aggregatePublicKeys(publicKeys: readonly Uint8Array[]): Uint8Array {
      assertNonEmpty(publicKeys, 'publicKeys', 'public key');
      return primitives.sumPublicKeys(decodeEach(publicKeys, 'publicKeys', decodePublicKey, BAD_AGGREGATE_KEY));
    },

    sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
      assertSecretKey(secretKey);
      if (!isMessage(message)) throw new DecodeError('message', 'expected a Uint8Array message');
      return primitives.sign(secretKey, message);
    },

    secretToPublicKey(secretKey: Uint8Array): Uint8Array {
      assertSecretKey(secretKey);
      return primitives.secretToPublicKey(secretKey);
    },

    keyValidate(publicKey: Uint8Array): boolean {
      return decodePublicKey(publicKey) !== null;
    },

    preparePublicKey(publicKey: Uint8Array, path = 'publicKey'): PreparedPublicKey {
      const pk = decodePublicKey(publicKey);
      if (pk === null) throw new DecodeError(path, BAD_PREPARED_KEY);
      return new Prepared(publicKey.slice(), pk);
    },

    fastAggregateVerifyPrepared(
      publicKeys: readonly PreparedPublicKey[],
      message: Uint8Array,
      signature: Uint8Array,
    ): boolean {
      if (!Array.isArray(publicKeys) || publicKeys.length === 0) return false;
      const pks: Pk[] = [];
      for (const key of publicKeys) {
        if (!(key instanceof Prepared)) throw foreignPreparedKey(name, key);
        pks.push(key.key);
      }
      return coreVerify(pks, message, signature);
    },
  });
}

/**
 * `load` run once and its backend shared by every caller; a failed load is forgotten, so the next
 * call tries again. Arguments only matter on the call that starts a load.
 */
export function sharedBackend<Args extends unknown[]>(
  load: (...args: Args) => Promise<BlsBackend>,
): (...args: Args) => Promise<BlsBackend> {
  let pending: Promise<BlsBackend> | undefined;
  return (...args) => {
    pending ??= load(...args).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
