/** Shared helpers for the bridge tests: keys 1,2,3, fast-check arbitraries for transactions. */
import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '../../../src/protocol/bytes.js';
import type { Transaction, TxIn, TxOut } from '../../../src/protocol/types.js';

/** 32-byte big-endian secret key k. */
export function secretKey(k: number | bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(BigInt(k).toString(16).padStart(64, '0'), 'hex'));
}

/** Compressed public key of secret k (computed, not hard-coded). */
export function pubkeyOf(k: number | bigint): Uint8Array {
  return secp256k1.getPublicKey(secretKey(k), true);
}

export const pubkeyHexOf = (k: number | bigint): string => bytesToHex(pubkeyOf(k));

export const bytesArb = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

export const txInArb: fc.Arbitrary<TxIn> = fc.record({
  prevTxid: bytesArb(32, 32),
  prevVout: fc.nat({ max: 0xffffffff }),
  scriptSig: fc.constant(new Uint8Array(0)),
  sequence: fc.nat({ max: 0xffffffff }),
  witness: fc.constant([] as Uint8Array[]),
});

export const txOutArb: fc.Arbitrary<TxOut> = fc.record({
  value: fc.bigInt({ min: 0n, max: 21_000_000n * 100_000_000n }),
  scriptPubkey: bytesArb(0, 60),
});

export const txArb: fc.Arbitrary<Transaction> = fc.record({
  version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  lockTime: fc.nat({ max: 0xffffffff }),
  inputs: fc.array(txInArb, { minLength: 1, maxLength: 4 }),
  outputs: fc.array(txOutArb, { minLength: 0, maxLength: 4 }),
});

/** A deep copy, so that mutations in one test case do not leak. */
export function cloneTx(tx: Transaction): Transaction {
  return {
    version: tx.version,
    lockTime: tx.lockTime,
    inputs: tx.inputs.map((i) => ({
      ...i,
      prevTxid: i.prevTxid.slice(),
      scriptSig: i.scriptSig.slice(),
      witness: i.witness.map((w) => w.slice()),
    })),
    outputs: tx.outputs.map((o) => ({ value: o.value, scriptPubkey: o.scriptPubkey.slice() })),
  };
}
