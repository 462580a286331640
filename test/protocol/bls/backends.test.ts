/**
 * Backend behaviour beyond the official vectors: the spec 3.1 known answers, edge cases of the
 * Ethereum POP rules (infinity, subgroup, canonical encodings, empty lists, secret key range),
 * round-trip/aggregation properties, and a differential test in which every backend must give
 * the same answer on crafted and mutated inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { createBlsBackend, BLS_DST, type BlsBackend, type PreparedPublicKey } from '../../../src/protocol/bls/index.js';
import { nobleBackend } from '../../../src/protocol/bls/noble.js';
import { DecodeError, ProtocolError } from '../../../src/protocol/errors.js';
import {
  CURVE_ORDER,
  flipBit,
  g1NonCanonical,
  g1NotOnCurve,
  g1PointOutsideSubgroup,
  g2NonCanonical,
  g2NotOnCurve,
  g2PointOutsideSubgroup,
  infinity,
  loadNodeBackends,
  negate,
  secretKey,
} from './helpers.js';

const backends = await loadNodeBackends();
/** Fast backends carry the property tests with more runs; noble (tens of ms per verify) with few. */
const runsFor = (b: BlsBackend, fast: number, slow: number) => (b.name === 'noble' ? slow : fast);
const hex = (bytes: Uint8Array) => bytesToHex(bytes);

// alys-protocol.md 9.1: the DEV authority key is the BLS public key of secret key 1 (the G1 generator).
const DEV_AUTHORITY_KEY =
  '97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb';
// alys-protocol.md 2.4 [U]: signing root of ConsensusBlock::default(), from the research encoder (not Rust).
const DEFAULT_BLOCK_ROOT = '3eff0bb62dae8aa18f33a886b9923560bfcdc95f3b24d69a970a79338da07d94';
// alys-protocol.md 3.1 [U]: sk = 1 signing DEFAULT_BLOCK_ROOT with the POP DST (computed with noble in the research).
const DEV_SIGNATURE_OVER_DEFAULT_ROOT =
  '94ac1ce7562737ad82f97c37bc610dcdddf2dd7854e2e0f85501992600aac2d38a09ac709228605aec2187f19cafef1205da51d2cdc52d5eaa78765ac31ecbdb5b1992cea26fab4c7b83dd443e531c4f045e3baefc78feb54b2c16beb77ab4f1';

it('loads noble and wasm (and blst where installed) in Node', () => {
  const names = backends.map((b) => b.name);
  expect(names).toContain('noble');
  expect(names).toContain('wasm');
});

it('exports the Ethereum POP DST', () => {
  expect(BLS_DST).toBe('BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_');
});

describe('createBlsBackend selector', () => {
  it('defaults to noble', async () => {
    expect(await createBlsBackend()).toBe(nobleBackend);
  });
  it('creates each backend by name', async () => {
    for (const b of backends) expect((await createBlsBackend(b.name)).name).toBe(b.name);
  });
  it('auto is blst if installed, else the auto backend (noble, wasm after its upgrade: test/browser/bls-auto.test.ts)', async () => {
    const auto = await createBlsBackend('auto');
    expect(auto.name).toBe(backends.some((b) => b.name === 'blst') ? 'blst' : 'auto');
  });
  it('rejects an unknown name with bls.backend-unknown', async () => {
    await expect(createBlsBackend('bogus' as never)).rejects.toMatchObject({ code: 'bls.backend-unknown' });
  });
});

for (const backend of backends) {
  describe(`backend ${backend.name}`, () => {
    const sk1 = secretKey(1n);

    describe('spec 3.1 known answers', () => {
      it('sk = 1 gives the DEV authority key (the G1 generator, spec 9.1)', () => {
        expect(hex(backend.secretToPublicKey(sk1))).toBe(DEV_AUTHORITY_KEY);
        expect(backend.keyValidate(hexToBytes(DEV_AUTHORITY_KEY))).toBe(true);
      });
      it('[U] sk = 1 signs the derived default-block root (spec 2.4) to the spec 3.1 signature', () => {
        // The expected value is [U] in the spec (noble only); blst and wasm agreeing here is the cross-check.
        const root = hexToBytes(DEFAULT_BLOCK_ROOT);
        expect(hex(backend.sign(sk1, root))).toBe(DEV_SIGNATURE_OVER_DEFAULT_ROOT);
        expect(backend.verify(hexToBytes(DEV_AUTHORITY_KEY), root, hexToBytes(DEV_SIGNATURE_OVER_DEFAULT_ROOT))).toBe(
          true,
        );
        expect(
          backend.verify(hexToBytes(DEV_AUTHORITY_KEY), flipBit(root, 0), hexToBytes(DEV_SIGNATURE_OVER_DEFAULT_ROOT)),
        ).toBe(false);
      });
    });

    describe('secret keys: 32 bytes, 0 < sk < r', () => {
      const msg = new Uint8Array(32).fill(7);
      it.each([
        ['zero', secretKey(0n)],
        ['r', secretKey(CURVE_ORDER)],
        ['r + 1', secretKey(CURVE_ORDER + 1n)],
        ['2^256 - 1', new Uint8Array(32).fill(0xff)],
        ['31 bytes', new Uint8Array(31).fill(1)],
        ['33 bytes', new Uint8Array(33).fill(1)],
      ])('rejects %s with DecodeError in sign and secretToPublicKey', (_label, sk) => {
        expect(() => backend.sign(sk, msg)).toThrow(DecodeError);
        expect(() => backend.secretToPublicKey(sk)).toThrow(DecodeError);
      });
      it('accepts r - 1 (pk = -G1)', () => {
        const pk = backend.secretToPublicKey(secretKey(CURVE_ORDER - 1n));
        expect(hex(pk)).toBe(hex(negate(hexToBytes(DEV_AUTHORITY_KEY))));
        expect(backend.verify(pk, msg, backend.sign(secretKey(CURVE_ORDER - 1n), msg))).toBe(true);
      });
    });

    describe('public keys (KeyValidate)', () => {
      const cases: [string, Uint8Array][] = [
        ['infinity', infinity(48)],
        [
          'infinity with the sort flag (0xe0)',
          (() => {
            const b = infinity(48);
            b[0] = 0xe0;
            return b;
          })(),
        ],
        [
          'infinity flag with a non-zero payload',
          (() => {
            const b = infinity(48);
            b[47] = 1;
            return b;
          })(),
        ],
        [
          'no compression flag',
          (() => {
            const b = hexToBytes(DEV_AUTHORITY_KEY);
            b[0]! &= 0x7f;
            return b;
          })(),
        ],
        ['x = p (non-canonical)', g1NonCanonical(0n)],
        ['x = p + 1 (non-canonical)', g1NonCanonical(1n)],
        ['x not on the curve', g1NotOnCurve()],
        ['on the curve but outside G1', g1PointOutsideSubgroup()],
        ['the all-zero 48 bytes', new Uint8Array(48)],
        ['47 bytes', hexToBytes(DEV_AUTHORITY_KEY).subarray(0, 47)],
        ['49 bytes', new Uint8Array([...hexToBytes(DEV_AUTHORITY_KEY), 0])],
        ['96-byte uncompressed generator', nobleUncompressedGenerator()],
      ];
      it.each(cases)('rejects %s', (_label, pk) => {
        expect(backend.keyValidate(pk)).toBe(false);
        expect(() => backend.preparePublicKey(pk, '$.authorities[0]')).toThrow(DecodeError);
        expect(() => backend.aggregatePublicKeys([hexToBytes(DEV_AUTHORITY_KEY), pk])).toThrow(DecodeError);
      });
      it('accepts the negation of a valid key (the other sort flag)', () => {
        expect(backend.keyValidate(negate(hexToBytes(DEV_AUTHORITY_KEY)))).toBe(true);
      });
      it('never throws on non-byte input', () => {
        for (const junk of [undefined, null, 'ab', 42, {}, []]) expect(backend.keyValidate(junk as never)).toBe(false);
      });
      it('names the path in preparePublicKey errors', () => {
        expect(() => backend.preparePublicKey(infinity(48), '$.authorities[2]')).toThrow(/\$\.authorities\[2\]/);
      });
    });

    describe('signatures and verification edge cases', () => {
      const msg = new Uint8Array(32).fill(0x5a);
      let pk: Uint8Array;
      let sig: Uint8Array;
      beforeAll(() => {
        pk = backend.secretToPublicKey(sk1);
        sig = backend.sign(sk1, msg);
      });
      const badSignatures: [string, () => Uint8Array][] = [
        ['the all-zero "empty" aggregate', () => new Uint8Array(96)],
        ['infinity', () => infinity(96)],
        [
          'no compression flag',
          () => {
            const b = sig.slice();
            b[0]! &= 0x7f;
            return b;
          },
        ],
        ['a coordinate ≥ p', () => g2NonCanonical(0n)],
        ['x not on the curve', () => g2NotOnCurve()],
        ['on the curve but outside G2', () => g2PointOutsideSubgroup()],
        ['95 bytes', () => sig.subarray(0, 95)],
        ['97 bytes', () => new Uint8Array([...sig, 0])],
        ['the negated signature', () => negate(sig)],
      ];
      it.each(badSignatures)('verify is false for %s', (_label, make) => {
        const bad = make();
        expect(backend.verify(pk, msg, bad)).toBe(false);
        expect(backend.fastAggregateVerify([pk], msg, bad)).toBe(false);
        expect(backend.fastAggregateVerifyPrepared([backend.preparePublicKey(pk)], msg, bad)).toBe(false);
        expect(backend.aggregateVerify([pk], [msg], bad)).toBe(false);
      });
      it('aggregateSignatures rejects undecodable or out-of-subgroup signatures with DecodeError at the index', () => {
        for (const bad of [
          new Uint8Array(96),
          g2NonCanonical(0n),
          g2NotOnCurve(),
          g2PointOutsideSubgroup(),
          sig.subarray(0, 95),
        ])
          expect(() => backend.aggregateSignatures([sig, bad])).toThrow(/signatures\[1\]/);
      });
      it('aggregateSignatures accepts infinity (a valid point) and it is neutral', () => {
        expect(hex(backend.aggregateSignatures([sig, infinity(96)]))).toBe(hex(sig));
        expect(hex(backend.aggregateSignatures([infinity(96)]))).toBe(hex(infinity(96)));
      });
      it('empty lists: verifies are false, aggregations throw DecodeError', () => {
        expect(backend.fastAggregateVerify([], msg, sig)).toBe(false);
        expect(backend.fastAggregateVerifyPrepared([], msg, sig)).toBe(false);
        expect(backend.aggregateVerify([], [], sig)).toBe(false);
        expect(() => backend.aggregateSignatures([])).toThrow(DecodeError);
        expect(() => backend.aggregatePublicKeys([])).toThrow(DecodeError);
      });
      it('aggregateVerify is false for mismatched list lengths', () => {
        expect(backend.aggregateVerify([pk, pk], [msg], sig)).toBe(false);
        expect(backend.aggregateVerify([pk], [msg, msg], sig)).toBe(false);
      });
      it('FastAggregateVerify rejects keys that cancel to infinity, even with the infinity signature', () => {
        // pk + (-pk) = O: KeyValidate(aggregate) fails in CoreVerify.
        expect(backend.fastAggregateVerify([pk, negate(pk)], msg, infinity(96))).toBe(false);
        expect(backend.fastAggregateVerify([pk, negate(pk)], msg, sig)).toBe(false);
      });
      it('aggregates that cancel are written as the infinity encoding (each input is valid)', () => {
        expect(hex(backend.aggregatePublicKeys([pk, negate(pk)]))).toBe(hex(infinity(48)));
        expect(hex(backend.aggregateSignatures([sig, negate(sig)]))).toBe(hex(infinity(96)));
        expect(hex(backend.aggregateSignatures([sig, negate(sig), sig]))).toBe(hex(sig));
      });
      it('AggregateVerify follows the pairing arithmetic for cancelling keys (e(P,H)·e(-P,H) = 1 with S = O)', () => {
        // Valid per the IETF CoreAggregateVerify; blst and mcl agree. (Alys never uses AggregateVerify.)
        expect(backend.aggregateVerify([pk, negate(pk)], [msg, msg], infinity(96))).toBe(true);
        expect(backend.aggregateVerify([pk, negate(pk)], [msg, flipBit(msg, 3)], infinity(96))).toBe(false);
      });
      it('never throws on junk input', () => {
        const junk = [undefined, null, 'x', 1, {}] as never[];
        for (const j of junk) {
          expect(backend.verify(j, msg, sig)).toBe(false);
          expect(backend.verify(pk, j, sig)).toBe(false);
          expect(backend.verify(pk, msg, j)).toBe(false);
          expect(backend.fastAggregateVerify(j, msg, sig)).toBe(false);
          expect(backend.fastAggregateVerify([j], msg, sig)).toBe(false);
          expect(backend.aggregateVerify([pk], [j], sig)).toBe(false);
          expect(backend.aggregateVerify(j, j, sig)).toBe(false);
        }
      });
      it('refuses a prepared key from another backend with bls.prepared-key-backend', () => {
        const foreign: PreparedPublicKey = { backend: backend.name === 'noble' ? 'wasm' : 'noble', bytes: pk };
        expect(() => backend.fastAggregateVerifyPrepared([foreign], msg, sig)).toThrow(ProtocolError);
        expect(() => backend.fastAggregateVerifyPrepared([foreign], msg, sig)).toThrow(/prepared public key/);
      });
      it('preparePublicKey keeps a copy of the bytes', () => {
        const bytes = pk.slice();
        const prepared = backend.preparePublicKey(bytes);
        bytes.fill(0);
        expect(hex(prepared.bytes)).toBe(hex(pk));
        expect(backend.fastAggregateVerifyPrepared([prepared], msg, sig)).toBe(true);
      });
    });

    describe('properties', () => {
      const arbSecretKey = fc.bigInt({ min: 1n, max: CURVE_ORDER - 1n }).map((v) => secretKey(v));
      const arbMessage = fc.uint8Array({ minLength: 32, maxLength: 32 });

      it('sign/verify round trip; any single bit flip of message, signature or key is rejected', () => {
        fc.assert(
          fc.property(arbSecretKey, arbMessage, fc.nat(), (sk, msg, seed) => {
            const pk = backend.secretToPublicKey(sk);
            const sig = backend.sign(sk, msg);
            expect(backend.verify(pk, msg, sig)).toBe(true);
            expect(backend.verify(pk, flipBit(msg, seed % 256), sig)).toBe(false);
            expect(backend.verify(pk, msg, flipBit(sig, seed % 768))).toBe(false);
            expect(backend.verify(flipBit(pk, seed % 384), msg, sig)).toBe(false);
          }),
          { numRuns: runsFor(backend, 25, 4) },
        );
      });

      it('the aggregate of any non-empty subset verifies with exactly that subset', () => {
        const sks = [3n, 5n, 7n, 11n, 13n].map(secretKey);
        const msg = new Uint8Array(32).fill(0x33);
        const pks = sks.map((sk) => backend.secretToPublicKey(sk));
        const prepared = pks.map((pk) => backend.preparePublicKey(pk));
        const sigs = sks.map((sk) => backend.sign(sk, msg));
        fc.assert(
          fc.property(fc.subarray([0, 1, 2, 3, 4], { minLength: 1 }), (subset) => {
            const agg = backend.aggregateSignatures(subset.map((i) => sigs[i]!));
            expect(
              backend.fastAggregateVerify(
                subset.map((i) => pks[i]!),
                msg,
                agg,
              ),
            ).toBe(true);
            expect(
              backend.fastAggregateVerifyPrepared(
                subset.map((i) => prepared[i]!),
                msg,
                agg,
              ),
            ).toBe(true);
            expect(backend.verify(backend.aggregatePublicKeys(subset.map((i) => pks[i]!)), msg, agg)).toBe(true);
            const missing = [0, 1, 2, 3, 4].find((i) => !subset.includes(i));
            if (missing !== undefined)
              expect(
                backend.fastAggregateVerifyPrepared(
                  [...subset, missing].map((i) => prepared[i]!),
                  msg,
                  agg,
                ),
              ).toBe(false);
            if (subset.length > 1)
              expect(
                backend.fastAggregateVerify(
                  subset.slice(1).map((i) => pks[i]!),
                  msg,
                  agg,
                ),
              ).toBe(false);
          }),
          { numRuns: runsFor(backend, 20, 3) },
        );
      });

      it('aggregateVerify over distinct messages round-trips', () => {
        fc.assert(
          fc.property(fc.array(fc.tuple(arbSecretKey, arbMessage), { minLength: 1, maxLength: 4 }), (pairs) => {
            const pks = pairs.map(([sk]) => backend.secretToPublicKey(sk));
            const msgs = pairs.map(([, m]) => m);
            const agg = backend.aggregateSignatures(pairs.map(([sk, m]) => backend.sign(sk, m)));
            expect(backend.aggregateVerify(pks, msgs, agg)).toBe(true);
            expect(
              backend.aggregateVerify(
                pks,
                msgs.map((m, i) => (i === 0 ? flipBit(m, 0) : m)),
                agg,
              ),
            ).toBe(false);
          }),
          { numRuns: runsFor(backend, 10, 2) },
        );
      });
    });
  });
}

describe('differential: every backend gives the same answers', () => {
  const msg = new Uint8Array(32).fill(0x99);
  const sks = [1n, 2n, 0x1234567890abcdefn].map(secretKey);

  it('same public keys and (deterministic) signatures for random keys and messages of any length', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: CURVE_ORDER - 1n }), fc.uint8Array({ maxLength: 80 }), (v, m) => {
        const sk = secretKey(v);
        const pks = backends.map((b) => hex(b.secretToPublicKey(sk)));
        const sigs = backends.map((b) => hex(b.sign(sk, m)));
        expect(new Set(pks).size).toBe(1);
        expect(new Set(sigs).size).toBe(1);
        for (const b of backends) expect(b.verify(hexToBytes(pks[0]!), m, hexToBytes(sigs[0]!))).toBe(true);
      }),
      { numRuns: 5 },
    );
  });

  it('KeyValidate agrees on valid, crafted-invalid and randomly mutated keys', () => {
    const valid = sks.map((sk) => nobleBackend.secretToPublicKey(sk));
    const candidates: Uint8Array[] = [
      ...valid,
      ...valid.map(negate),
      infinity(48),
      g1NonCanonical(0n),
      g1NotOnCurve(),
      g1PointOutsideSubgroup(),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.integer({ min: 0, max: 383 }), (pk, bit) => {
        const mutated = flipBit(pk, bit);
        const answers = backends.map((b) => b.keyValidate(mutated));
        expect(new Set(answers).size, hex(mutated)).toBe(1);
      }),
      { numRuns: 60 },
    );
    for (const pk of candidates) {
      const answers = backends.map((b) => b.keyValidate(pk));
      expect(new Set(answers).size, hex(pk)).toBe(1);
    }
  });

  it('signature decoding (aggregateSignatures of one) and verify agree on mutated signatures', () => {
    const pk = nobleBackend.secretToPublicKey(sks[0]!);
    const sig = nobleBackend.sign(sks[0]!, msg);
    const decodes = (b: BlsBackend, s: Uint8Array): string => {
      try {
        return hex(b.aggregateSignatures([s]));
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        return 'DecodeError';
      }
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 767 }), (bit) => {
        const mutated = flipBit(sig, bit);
        expect(new Set(backends.map((b) => decodes(b, mutated))).size, `bit ${bit}`).toBe(1);
        expect(
          backends.every((b) => b.verify(pk, msg, mutated) === false),
          `bit ${bit}`,
        ).toBe(true);
      }),
      { numRuns: 12 },
    );
  });
});

describe('wasm aggregateVerify message length (documented limitation)', () => {
  it('answers false for non-32-byte messages where the other backends verify', () => {
    const sk = secretKey(5n);
    const m = new Uint8Array(31).fill(4);
    for (const b of backends) {
      const ok = b.aggregateVerify([b.secretToPublicKey(sk)], [m], b.sign(sk, m));
      expect(ok).toBe(b.name !== 'wasm');
    }
  });
});

function nobleUncompressedGenerator(): Uint8Array {
  // 96-byte uncompressed encoding of the G1 generator: a valid point, but not the 48-byte compressed form.
  return bls12_381.G1.Point.BASE.toBytes(false);
}
