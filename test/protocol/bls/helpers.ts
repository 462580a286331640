/** Test helpers for the BLS tests: backends available here, secret keys, and crafted invalid points. */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import {
  createBlsBackend,
  BLS_CURVE_ORDER,
  type BlsBackend,
  type BlsBackendName,
} from '../../../src/protocol/bls/index.js';

/** Every backend that loads in this process (noble and wasm always; blst if installed). */
export async function loadNodeBackends(): Promise<BlsBackend[]> {
  const out: BlsBackend[] = [];
  for (const name of ['noble', 'wasm', 'blst'] as BlsBackendName[]) {
    try {
      out.push(await createBlsBackend(name));
    } catch {
      if (name !== 'blst') throw new Error(`backend ${name} must load in Node`);
    }
  }
  return out;
}

/** A 32-byte big-endian secret key. */
export function secretKey(value: bigint): Uint8Array {
  return numberToBytesBE(value, 32);
}

export function toBigInt(bytes: Uint8Array): bigint {
  return bytesToNumberBE(bytes);
}

export const CURVE_ORDER = BLS_CURVE_ORDER;
const { Fp, Fp2 } = bls12_381.fields;
const P = Fp.ORDER;

/** Compressed-form bytes of a field element with the compression flag set (no sort/infinity flag). */
function compressedG1(x: bigint): Uint8Array {
  const bytes = numberToBytesBE(x, 48);
  bytes[0]! |= 0x80;
  return bytes;
}
function compressedG2(c0: bigint, c1: bigint): Uint8Array {
  const bytes = new Uint8Array(96);
  bytes.set(numberToBytesBE(c1, 48), 0);
  bytes.set(numberToBytesBE(c0, 48), 48);
  bytes[0]! |= 0x80;
  return bytes;
}

function sqrtOrNull<T>(sqrt: (v: T) => T, value: T): T | null {
  try {
    return sqrt(value);
  } catch {
    return null;
  }
}

/** x on E1 (x³ + 4 is a square) whose point is NOT in the prime-order subgroup G1. */
export function g1PointOutsideSubgroup(): Uint8Array {
  for (let x = 1n; ; x++) {
    const y = sqrtOrNull(Fp.sqrt.bind(Fp), Fp.add(Fp.pow(x, 3n), 4n));
    if (y === null) continue;
    const point = bls12_381.G1.Point.fromAffine({ x, y });
    if (!point.isTorsionFree()) return compressedG1(x);
  }
}

/** x for which x³ + 4 is not a square: no point of E1 has it. */
export function g1NotOnCurve(): Uint8Array {
  for (let x = 1n; ; x++) if (sqrtOrNull(Fp.sqrt.bind(Fp), Fp.add(Fp.pow(x, 3n), 4n)) === null) return compressedG1(x);
}

/** A compressed G1 encoding whose x is p + k (non-canonical: x ≥ p). */
export function g1NonCanonical(k = 0n): Uint8Array {
  return compressedG1(P + k);
}

const B2 = { c0: 4n, c1: 4n }; // 4(1 + i), the G2 curve constant

/** x on E2 whose point is NOT in G2. */
export function g2PointOutsideSubgroup(): Uint8Array {
  for (let k = 1n; ; k++) {
    const x = { c0: k, c1: 1n };
    const y = sqrtOrNull(Fp2.sqrt.bind(Fp2), Fp2.add(Fp2.mul(Fp2.sqr(x), x), B2));
    if (y === null) continue;
    const point = bls12_381.G2.Point.fromAffine({ x, y });
    if (!point.isTorsionFree()) return compressedG2(x.c0, x.c1);
  }
}

/** x ∈ Fp2 for which x³ + b is not a square. */
export function g2NotOnCurve(): Uint8Array {
  for (let k = 1n; ; k++) {
    const x = { c0: k, c1: 1n };
    if (sqrtOrNull(Fp2.sqrt.bind(Fp2), Fp2.add(Fp2.mul(Fp2.sqr(x), x), B2)) === null) return compressedG2(x.c0, x.c1);
  }
}

/** A G2 encoding with a coordinate ≥ p (c1 = p + k). */
export function g2NonCanonical(k = 0n): Uint8Array {
  return compressedG2(1n, P + k);
}

export function infinity(length: 48 | 96): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes[0] = 0xc0;
  return bytes;
}

/** Negate a valid compressed point by flipping its sort (sign) flag. */
export function negate(compressed: Uint8Array): Uint8Array {
  const out = compressed.slice();
  out[0]! ^= 0x20;
  return out;
}

export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}
