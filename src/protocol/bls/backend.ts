/**
 * The pluggable BLS12-381 backend interface (alys-protocol.md section 3.1).
 *
 * Alys signs with Lighthouse `bls` over blst `min_pk`: the Ethereum proof-of-possession
 * ciphersuite, public keys 48-byte compressed G1, signatures 96-byte compressed G2, and the
 * explicit DST {@link BLS_DST}. Every backend implements exactly the Ethereum consensus-spec
 * semantics, and all of them are run against the same official vectors:
 *
 * - `verify`, `fastAggregateVerify`, `aggregateVerify` and `keyValidate` answer a boolean and
 *   never throw on bad bytes (wrong length, bad encoding, not on the curve, not in the subgroup,
 *   infinity public key, empty key list...): all of these give `false`.
 * - `aggregateSignatures`, `aggregatePublicKeys`, `sign`, `secretToPublicKey` and
 *   `preparePublicKey` cannot answer with a boolean, so they throw a {@link DecodeError} on
 *   unusable input, and nothing else.
 *
 * Factories are async (the wasm backend has to instantiate its module); methods are synchronous.
 *
 * Performance: decoding a compressed G1 point and its subgroup check are the expensive part of
 * a verify in pure JS. {@link BlsBackend.preparePublicKey} does both once; the authorities of a
 * chain are prepared once and reused for every block (see `prepareAuthorities` in approvals.ts).
 */
import { DecodeError, ProtocolError } from '../errors.js';

/** Ethereum POP ciphersuite DST (hash_to_curve on G2). noble's default is the `_NUL_` one, so it is passed explicitly. */
export const BLS_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
export const BLS_PUBLIC_KEY_LENGTH = 48;
export const BLS_SIGNATURE_LENGTH = 96;
export const BLS_SECRET_KEY_LENGTH = 32;

/** Order r of the BLS12-381 prime-order subgroups: a secret key is a big-endian integer in [1, r). */
export const BLS_CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** `auto`: noble at once, wasm after a background upgrade (auto.ts); the others are one library each. */
export type BlsBackendName = 'noble' | 'blst' | 'wasm' | 'auto';

/**
 * A public key that was decoded and passed KeyValidate (not infinity, in the G1 subgroup) once.
 * The decoded point lives inside the backend that made it; it is only valid with that backend.
 */
export interface PreparedPublicKey {
  readonly backend: BlsBackendName;
  /** The 48-byte compressed encoding it was prepared from. */
  readonly bytes: Uint8Array;
}

export interface BlsBackend {
  readonly name: BlsBackendName;

  /** Ethereum `Verify(PK, message, signature)`; false for any bad input. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** Ethereum `FastAggregateVerify`: one message signed by every key; false for an empty key list or any bad input. */
  fastAggregateVerify(publicKeys: readonly Uint8Array[], message: Uint8Array, signature: Uint8Array): boolean;
  /** Ethereum `AggregateVerify`: key i signed message i; false for empty or mismatched lists or any bad input. */
  aggregateVerify(publicKeys: readonly Uint8Array[], messages: readonly Uint8Array[], signature: Uint8Array): boolean;
  /** Sum of signatures (each decoded with a subgroup check; infinity is allowed). Throws DecodeError on an empty list or a bad signature. */
  aggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array;
  /** Sum of public keys (each must pass KeyValidate). Throws DecodeError on an empty list or a bad key. */
  aggregatePublicKeys(publicKeys: readonly Uint8Array[]): Uint8Array;
  /** Sign with the POP DST. Throws DecodeError unless the key is 32 bytes with 0 < sk < r. */
  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** sk·G1, compressed. Throws DecodeError unless the key is 32 bytes with 0 < sk < r. */
  secretToPublicKey(secretKey: Uint8Array): Uint8Array;
  /** Ethereum `KeyValidate`: a 48-byte compressed G1 point, not infinity, in the prime-order subgroup. */
  keyValidate(publicKey: Uint8Array): boolean;

  /** Decode + KeyValidate once for reuse. Throws DecodeError (at `path`) if the key fails KeyValidate. */
  preparePublicKey(publicKey: Uint8Array, path?: string): PreparedPublicKey;
  /** {@link fastAggregateVerify} over prepared keys: skips the decoding and subgroup checks of the keys. */
  fastAggregateVerifyPrepared(
    publicKeys: readonly PreparedPublicKey[],
    message: Uint8Array,
    signature: Uint8Array,
  ): boolean;
}

// ---------------------------------------------------------------- helpers shared by the backends

/** A structurally plausible compressed G1 public key: 48 bytes, compression flag set. */
export function hasPublicKeyShape(bytes: unknown): bytes is Uint8Array {
  return bytes instanceof Uint8Array && bytes.length === BLS_PUBLIC_KEY_LENGTH && (bytes[0]! & 0x80) !== 0;
}

/** A structurally plausible compressed G2 signature: 96 bytes, compression flag set. */
export function hasSignatureShape(bytes: unknown): bytes is Uint8Array {
  return bytes instanceof Uint8Array && bytes.length === BLS_SIGNATURE_LENGTH && (bytes[0]! & 0x80) !== 0;
}

/** Is this the canonical compressed encoding of the point at infinity (0xc0 then zeros)? */
export function isInfinityEncoding(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0xc0) return false;
  for (let i = 1; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export function isMessage(bytes: unknown): bytes is Uint8Array {
  return bytes instanceof Uint8Array;
}

/**
 * Check a secret key the way blst's `SecretKey::from_bytes` does: exactly 32 big-endian bytes,
 * 0 < sk < r. (noble would silently reduce sk mod r, so this is checked up front for every backend.)
 */
export function assertSecretKey(secretKey: unknown, path = 'secretKey'): Uint8Array {
  if (!(secretKey instanceof Uint8Array)) throw new DecodeError(path, 'expected a Uint8Array secret key');
  if (secretKey.length !== BLS_SECRET_KEY_LENGTH)
    throw new DecodeError(path, `expected a ${BLS_SECRET_KEY_LENGTH}-byte secret key, got ${secretKey.length} bytes`);
  let value = 0n;
  for (const byte of secretKey) value = (value << 8n) | BigInt(byte);
  if (value === 0n) throw new DecodeError(path, 'the secret key is zero, which is not a valid BLS secret key');
  if (value >= BLS_CURVE_ORDER)
    throw new DecodeError(path, 'the secret key is not below the curve order r; use a key in [1, r)');
  return secretKey;
}

export function assertNonEmpty<T>(items: readonly T[], path: string, what: string): void {
  if (!Array.isArray(items)) throw new DecodeError(path, `expected an array of ${what}`);
  if (items.length === 0) throw new DecodeError(path, `expected at least one ${what}, got an empty list`);
}

/** Thrown when a prepared key made by one backend is given to another (a programming error). */
export function foreignPreparedKey(expected: BlsBackendName, got: unknown): ProtocolError {
  const from =
    typeof got === 'object' && got !== null && 'backend' in got
      ? String((got as PreparedPublicKey).backend)
      : typeof got;
  return new ProtocolError(
    'bls.prepared-key-backend',
    `a prepared public key from backend "${from}" was passed to backend "${expected}"`,
    { details: 'prepare the keys with the same backend that verifies (prepareAuthorities(keys, backend))' },
  );
}
