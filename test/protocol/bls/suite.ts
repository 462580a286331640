/**
 * The official Ethereum BLS vectors (consensus-spec-tests general/phase0/bls, via
 * shared/vectors/bls-eth2.json) as one suite, parameterised by backend. Used by the Node tests
 * (every backend that loads) and by the Chromium test (noble and wasm). It takes the parsed JSON
 * as an argument, so it needs no filesystem access.
 */
import { describe, expect, it } from 'vitest';
import { hexToBytes, bytesToHex } from '@noble/hashes/utils.js';
import type { BlsBackend } from '../../../src/protocol/bls/backend.js';
import { DecodeError } from '../../../src/protocol/errors.js';

interface Case<I, O> {
  case: string;
  input: I;
  output: O;
}
export interface BlsVectors {
  dst: string;
  sign: Case<{ privkey: string; message: string }, string | null>[];
  verify: Case<{ pubkey: string; message: string; signature: string }, boolean>[];
  aggregate: Case<string[], string | null>[];
  fast_aggregate_verify: Case<{ pubkeys: string[]; message: string; signature: string }, boolean>[];
  aggregate_verify: Case<{ pubkeys: string[]; messages: string[]; signature: string }, boolean>[];
  keys: { pairs: { privkey: string; pubkey: string }[] };
}

/** Vector hex to bytes. Lenient on purpose: malformed values (e.g. a truncated signature) must reach the backend. */
export function vbytes(hex: string): Uint8Array {
  return hexToBytes(hex.startsWith('0x') ? hex.slice(2) : hex);
}
const vhex = (bytes: Uint8Array): string => `0x${bytesToHex(bytes)}`;

export function blsVectorSuite(vectors: BlsVectors, getBackend: () => BlsBackend): void {
  it('uses the Ethereum POP DST', () => {
    expect(vectors.dst).toBe('BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_');
  });

  it('has every handler present and non-empty', () => {
    for (const handler of ['sign', 'verify', 'aggregate', 'fast_aggregate_verify', 'aggregate_verify'] as const)
      expect(vectors[handler].length, handler).toBeGreaterThan(0);
  });

  describe('sign', () => {
    for (const c of vectors.sign) {
      it(c.case, () => {
        const backend = getBackend();
        const sk = vbytes(c.input.privkey);
        const msg = vbytes(c.input.message);
        if (c.output === null) {
          expect(() => backend.sign(sk, msg)).toThrow(DecodeError);
        } else {
          expect(vhex(backend.sign(sk, msg))).toBe(c.output);
        }
      });
    }
  });

  describe('verify', () => {
    for (const c of vectors.verify) {
      it(c.case, () => {
        const { pubkey, message, signature } = c.input;
        expect(getBackend().verify(vbytes(pubkey), vbytes(message), vbytes(signature))).toBe(c.output);
      });
    }
  });

  describe('aggregate', () => {
    for (const c of vectors.aggregate) {
      it(c.case, () => {
        const backend = getBackend();
        const sigs = c.input.map(vbytes);
        if (c.output === null) expect(() => backend.aggregateSignatures(sigs)).toThrow(DecodeError);
        else expect(vhex(backend.aggregateSignatures(sigs))).toBe(c.output);
      });
    }
  });

  describe('fast_aggregate_verify', () => {
    for (const c of vectors.fast_aggregate_verify) {
      it(c.case, () => {
        const backend = getBackend();
        const { pubkeys, message, signature } = c.input;
        const pks = pubkeys.map(vbytes);
        expect(backend.fastAggregateVerify(pks, vbytes(message), vbytes(signature))).toBe(c.output);
        // The prepared-key path must agree wherever the keys pass KeyValidate.
        if (pks.every((pk) => backend.keyValidate(pk))) {
          const prepared = pks.map((pk) => backend.preparePublicKey(pk));
          expect(backend.fastAggregateVerifyPrepared(prepared, vbytes(message), vbytes(signature))).toBe(c.output);
        } else {
          expect(() => pks.map((pk) => backend.preparePublicKey(pk))).toThrow(DecodeError);
        }
      });
    }
  });

  describe('aggregate_verify', () => {
    for (const c of vectors.aggregate_verify) {
      it(c.case, () => {
        const { pubkeys, messages, signature } = c.input;
        expect(getBackend().aggregateVerify(pubkeys.map(vbytes), messages.map(vbytes), vbytes(signature))).toBe(
          c.output,
        );
      });
    }
  });

  describe('key pairs of the vector generator', () => {
    it('secretToPublicKey reproduces every pubkey, and each passes KeyValidate', () => {
      const backend = getBackend();
      expect(vectors.keys.pairs.length).toBeGreaterThan(0);
      for (const { privkey, pubkey } of vectors.keys.pairs) {
        expect(vhex(backend.secretToPublicKey(vbytes(privkey)))).toBe(pubkey);
        expect(backend.keyValidate(vbytes(pubkey))).toBe(true);
      }
    });

    it('aggregatePublicKeys of the fast_aggregate_verify keys verifies like fastAggregateVerify', () => {
      const backend = getBackend();
      for (const c of vectors.fast_aggregate_verify) {
        const pks = c.input.pubkeys.map(vbytes);
        if (!pks.every((pk) => backend.keyValidate(pk))) {
          expect(() => backend.aggregatePublicKeys(pks)).toThrow(DecodeError);
          continue;
        }
        const aggregate = backend.aggregatePublicKeys(pks);
        expect(backend.verify(aggregate, vbytes(c.input.message), vbytes(c.input.signature)), c.case).toBe(c.output);
      }
    });
  });
}
