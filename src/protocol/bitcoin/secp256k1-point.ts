/**
 * Is a compressed secp256k1 public key a point on the curve? A square root mod p, without noble:
 * the chain spec's federation Bitcoin keys are checked this way (parseChainSpec and
 * checkChainSpecKeys), so reading a spec never loads noble's secp256k1 (test/protocol/chainspec:
 * it agrees with noble's `Point.fromBytes(...).assertValidity()` on random x).
 */
import { DecodeError } from '../errors.js';

/** The field prime of secp256k1. */
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

function powMod(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/**
 * Is `bytes` a valid compressed secp256k1 point (33 bytes, 02/03, x < p, x³ + 7 a square mod p)?
 * The curve's cofactor is 1, so a point on the curve is in the group; this is what noble's
 * `Point.fromBytes(...).assertValidity()` accepts for a compressed key.
 */
export function isCompressedSecp256k1Point(bytes: Uint8Array): boolean {
  if (bytes.length !== 33 || (bytes[0] !== 0x02 && bytes[0] !== 0x03)) return false;
  let x = 0n;
  for (let i = 1; i < 33; i++) x = (x << 8n) | BigInt(bytes[i]!);
  if (x >= P) return false;
  const y2 = (x * x * x + 7n) % P;
  // p ≡ 3 (mod 4): a square root of y2, if there is one, is y2^((p+1)/4)
  const y = powMod(y2, (P + 1n) / 4n, P);
  return (y * y) % P === y2;
}

/** A compressed key's checks with parseChainSpec's DecodeErrors (prefix, then the curve). */
export function checkCompressedSecp256k1Key(bytes: Uint8Array, path: string): Uint8Array {
  if (bytes[0] !== 0x02 && bytes[0] !== 0x03)
    throw new DecodeError(
      path,
      `compressed public key must start with 02 or 03, got ${(bytes[0] ?? 0).toString(16).padStart(2, '0')}`,
    );
  if (!isCompressedSecp256k1Point(bytes))
    throw new DecodeError(path, 'not a valid secp256k1 point (x is not on the curve)');
  return bytes;
}
