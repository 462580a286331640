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
import { BLS_DST, BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH, type BlsBackend } from './backend.js';
import { backendFromPrimitives } from './primitives.js';

// nothing is computed at load (no top-level calls): a bundle that imports this module without
// using it (the default BLS backend is `auto`: wasm in browsers) drops it and noble's bls12-381
type G1 = InstanceType<typeof bls12_381.G1.Point>;
type G2 = InstanceType<typeof bls12_381.G2.Point>;
const hashOptions = { DST: BLS_DST };

let negG1Affine: { x: bigint; y: bigint } | undefined;
/** -G1 generator in affine form: the fixed G1 side of e(-G, S) (computed on first use). */
function negG1(): { x: bigint; y: bigint } {
  negG1Affine ??= bls12_381.G1.Point.BASE.negate().toAffine();
  return negG1Affine;
}

/** Decode + KeyValidate: compressed, canonical, on curve, in G1, not infinity. Null if any fails. */
function decodePublicKey(bytes: Uint8Array): G1 | null {
  const point = bls12_381.G1.Point.fromBytes(bytes); // checks flags, x < p, on curve, subgroup
  return point.is0() ? null : point;
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
  if (!signature.is0()) pairs.push([bls12_381.utils.calcPairingPrecomputes(signature), negG1().x, negG1().y]);
  if (pairs.length === 0) return true;
  const { Fp12 } = bls12_381.fields;
  return Fp12.eql(Fp12.finalExponentiate(bls12_381.millerLoopBatch(pairs)), Fp12.ONE);
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
  if (!point.is0()) return bls12_381.longSignatures.Signature.toBytes(point);
  const out = new Uint8Array(BLS_SIGNATURE_LENGTH);
  out[0] = 0xc0;
  return out;
}

function sumG1(points: readonly G1[]): G1 {
  let total = points[0]!;
  for (let i = 1; i < points.length; i++) total = total.add(points[i]!);
  return total;
}
function sumG2(points: readonly G2[]): G2 {
  let total = points[0]!;
  for (let i = 1; i < points.length; i++) total = total.add(points[i]!);
  return total;
}

/** The noble backend. Stateless, so one shared instance. */
export const nobleBackend: BlsBackend = /* @__PURE__ */ backendFromPrimitives<G1, G2>({
  name: 'noble',
  decodePublicKey,
  decodeSignature: (bytes) => bls12_381.longSignatures.Signature.fromBytes(bytes),
  /** CoreVerify of the aggregate key: KeyValidate(aggregate) rejects infinity. */
  verifyDecoded(publicKeys, message, signature) {
    const publicKey = sumG1(publicKeys);
    return !publicKey.is0() && pairingProductIsOne([[publicKey, hashToG2(message)]], signature);
  },
  aggregateVerifyDecoded: (publicKeys, messages, signature) =>
    pairingProductIsOne(
      publicKeys.map((p, i) => [p, hashToG2(messages[i]!)] as const),
      signature,
    ),
  sumSignatures: (signatures) => encodeG2(sumG2(signatures)),
  sumPublicKeys: (publicKeys) => encodeG1(sumG1(publicKeys)),
  sign: (secretKey, message) => encodeG2(bls12_381.longSignatures.sign(hashToG2(message), secretKey)),
  secretToPublicKey: (secretKey) => encodeG1(bls12_381.longSignatures.getPublicKey(secretKey)),
});

/** Async for symmetry with the other factories; the noble backend needs no initialisation. */
export async function createNobleBackend(): Promise<BlsBackend> {
  return nobleBackend;
}
