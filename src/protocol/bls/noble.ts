/**
 * Pure-JS BLS backend on @noble/curves (runs everywhere: Node, browsers, Workers).
 *
 * It uses noble's point codecs (which check the encoding flags, x < p, on-curve and subgroup
 * membership) and hash-to-curve with the explicit POP DST, but does the pairing check itself
 * with `millerLoopBatch`: noble's `verify()` re-runs subgroup checks on every point it receives
 * (the aggregated key, the negated key, the freshly hashed message), which costs more than the
 * cached key decoding saves. Here each point is checked exactly once, where it enters:
 * keys at decode (or at `preparePublicKey`), signatures at decode, and H(m) is in G2 by
 * construction (hash_to_curve clears the cofactor).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { DecodeError } from '../errors.js';
import {
  BLS_DST,
  BLS_PUBLIC_KEY_LENGTH,
  BLS_SIGNATURE_LENGTH,
  assertNonEmpty,
  assertSecretKey,
  foreignPreparedKey,
  hasPublicKeyShape,
  hasSignatureShape,
  isMessage,
  type BlsBackend,
  type PreparedPublicKey,
} from './backend.js';

const G1Point = bls12_381.G1.Point;
const G2Point = bls12_381.G2.Point;
type G1 = InstanceType<typeof G1Point>;
type G2 = InstanceType<typeof G2Point>;
const { Fp12 } = bls12_381.fields;
const signatureCoder = bls12_381.longSignatures.Signature;
const hashOptions = { DST: BLS_DST };

/** -G1 generator in affine form: the fixed G1 side of e(-G, S). */
const NEG_G1_AFFINE = G1Point.BASE.negate().toAffine();

/** Decode + KeyValidate: compressed, canonical, on curve, in G1, not infinity. Null if any fails. */
function decodePublicKey(bytes: unknown): G1 | null {
  if (!hasPublicKeyShape(bytes)) return null;
  try {
    const point = G1Point.fromBytes(bytes); // checks flags, x < p, on curve, subgroup
    return point.is0() ? null : point;
  } catch {
    return null;
  }
}

/** Decode a signature with the subgroup check; infinity is a valid signature point. Null if invalid. */
function decodeSignature(bytes: unknown): G2 | null {
  if (!hasSignatureShape(bytes)) return null;
  try {
    return signatureCoder.fromBytes(bytes);
  } catch {
    return null;
  }
}

function hashToG2(message: Uint8Array): G2 {
  return bls12_381.G2.hashToCurve(message, hashOptions) as G2;
}

/**
 * Is e(P_1, Q_1) · … · e(P_k, Q_k) · e(-G, S) = 1 ? Terms with an infinity point are neutral
 * (e(O, Q) = e(P, O) = 1) and are skipped, as the IETF CoreAggregateVerify arithmetic implies.
 * All points must already be validated.
 */
function pairingProductIsOne(terms: readonly (readonly [G1, G2])[], signature: G2): boolean {
  const pairs: [ReturnType<typeof bls12_381.utils.calcPairingPrecomputes>, bigint, bigint][] = [];
  for (const [p, q] of terms) {
    if (p.is0() || q.is0()) continue;
    const a = p.toAffine();
    pairs.push([bls12_381.utils.calcPairingPrecomputes(q), a.x, a.y]);
  }
  if (!signature.is0())
    pairs.push([bls12_381.utils.calcPairingPrecomputes(signature), NEG_G1_AFFINE.x, NEG_G1_AFFINE.y]);
  if (pairs.length === 0) return true;
  return Fp12.eql(Fp12.finalExponentiate(bls12_381.millerLoopBatch(pairs)), Fp12.ONE);
}

/** CoreVerify with an already validated key: KeyValidate(aggregate) rejects infinity. */
function coreVerify(publicKey: G1, message: Uint8Array, signatureBytes: Uint8Array): boolean {
  if (publicKey.is0() || !isMessage(message)) return false;
  const signature = decodeSignature(signatureBytes);
  if (signature === null) return false;
  try {
    return pairingProductIsOne([[publicKey, hashToG2(message)]], signature);
  } catch {
    return false;
  }
}

class NoblePreparedPublicKey implements PreparedPublicKey {
  readonly backend = 'noble' as const;
  constructor(
    readonly bytes: Uint8Array,
    readonly point: G1,
  ) {}
}

/**
 * Compressed encodings. A sum that cancels is the point at infinity, but noble's projective
 * ZERO from an addition is not its canonical (0, 1, 0) form and its encoder refuses it, so
 * infinity is written out explicitly (0xc0 then zeros, as blst and mcl do).
 */
function encodeG1(point: G1): Uint8Array {
  if (!point.is0()) return point.toBytes(true);
  const out = new Uint8Array(BLS_PUBLIC_KEY_LENGTH);
  out[0] = 0xc0;
  return out;
}
function encodeG2(point: G2): Uint8Array {
  if (!point.is0()) return signatureCoder.toBytes(point);
  const out = new Uint8Array(BLS_SIGNATURE_LENGTH);
  out[0] = 0xc0;
  return out;
}

function sumG1(points: readonly G1[]): G1 {
  let sum = points[0]!;
  for (let i = 1; i < points.length; i++) sum = sum.add(points[i]!);
  return sum;
}

function decodeAllPublicKeys(publicKeys: readonly Uint8Array[]): G1[] | null {
  if (!Array.isArray(publicKeys) || publicKeys.length === 0) return null;
  const points: G1[] = [];
  for (const bytes of publicKeys) {
    const point = decodePublicKey(bytes);
    if (point === null) return null;
    points.push(point);
  }
  return points;
}

/** The noble backend. Stateless, so one shared instance. */
export const nobleBackend: BlsBackend = Object.freeze({
  name: 'noble' as const,

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    const point = decodePublicKey(publicKey);
    return point !== null && coreVerify(point, message, signature);
  },

  fastAggregateVerify(publicKeys: readonly Uint8Array[], message: Uint8Array, signature: Uint8Array): boolean {
    const points = decodeAllPublicKeys(publicKeys);
    return points !== null && coreVerify(sumG1(points), message, signature);
  },

  aggregateVerify(publicKeys: readonly Uint8Array[], messages: readonly Uint8Array[], signature: Uint8Array): boolean {
    if (!Array.isArray(messages) || !Array.isArray(publicKeys) || messages.length !== publicKeys.length) return false;
    const points = decodeAllPublicKeys(publicKeys);
    if (points === null || !messages.every(isMessage)) return false;
    const sig = decodeSignature(signature);
    if (sig === null) return false;
    try {
      return pairingProductIsOne(
        points.map((p, i) => [p, hashToG2(messages[i]!)] as const),
        sig,
      );
    } catch {
      return false;
    }
  },

  aggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array {
    assertNonEmpty(signatures, 'signatures', 'signature');
    let sum: G2 | undefined;
    signatures.forEach((bytes, i) => {
      const point = decodeSignature(bytes);
      if (point === null)
        throw new DecodeError(
          `signatures[${i}]`,
          'not a valid 96-byte compressed G2 signature in the prime-order subgroup',
        );
      sum = sum === undefined ? point : sum.add(point);
    });
    return encodeG2(sum!);
  },

  aggregatePublicKeys(publicKeys: readonly Uint8Array[]): Uint8Array {
    assertNonEmpty(publicKeys, 'publicKeys', 'public key');
    const points = publicKeys.map((bytes, i) => {
      const point = decodePublicKey(bytes);
      if (point === null)
        throw new DecodeError(`publicKeys[${i}]`, 'fails KeyValidate (bad encoding, infinity, or not in G1)');
      return point;
    });
    return encodeG1(sumG1(points));
  },

  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
    assertSecretKey(secretKey);
    if (!isMessage(message)) throw new DecodeError('message', 'expected a Uint8Array message');
    const point = bls12_381.longSignatures.sign(hashToG2(message), secretKey);
    return encodeG2(point);
  },

  secretToPublicKey(secretKey: Uint8Array): Uint8Array {
    assertSecretKey(secretKey);
    return encodeG1(bls12_381.longSignatures.getPublicKey(secretKey));
  },

  keyValidate(publicKey: Uint8Array): boolean {
    return decodePublicKey(publicKey) !== null;
  },

  preparePublicKey(publicKey: Uint8Array, path = 'publicKey'): PreparedPublicKey {
    const point = decodePublicKey(publicKey);
    if (point === null)
      throw new DecodeError(
        path,
        'not a valid BLS public key (48-byte compressed G1, not infinity, in the prime-order subgroup)',
      );
    return new NoblePreparedPublicKey(publicKey.slice(), point);
  },

  fastAggregateVerifyPrepared(
    publicKeys: readonly PreparedPublicKey[],
    message: Uint8Array,
    signature: Uint8Array,
  ): boolean {
    if (!Array.isArray(publicKeys) || publicKeys.length === 0) return false;
    const points: G1[] = [];
    for (const key of publicKeys) {
      if (!(key instanceof NoblePreparedPublicKey)) throw foreignPreparedKey('noble', key);
      points.push(key.point);
    }
    return coreVerify(sumG1(points), message, signature);
  },
});

/** Async for symmetry with the other factories; the noble backend needs no initialisation. */
export async function createNobleBackend(): Promise<BlsBackend> {
  return nobleBackend;
}
