/**
 * Approvals (alys-protocol.md 1.8, 3.1, 3.3): the BitList<15> codec, the 2/3 threshold, aggregate
 * and individual approval verification with distinct failure checks, signing and aggregation.
 * Property tests use the fastest backend that loads; a cross-backend block runs on every backend.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import {
  EMPTY_AGGREGATE_APPROVAL,
  MAX_AUTHORITIES,
  countSigners,
  encodeAggregationBits,
  parseAggregationBits,
  prepareAuthorities,
  requiredApprovals,
  signerIndices,
  verifyAggregateApproval,
  verifyIndividualApproval,
} from '../../../src/protocol/approvals.js';
import { aggregateApprovals, signApproval } from '../../../src/protocol/approvals-sign.js';
import type { AggregateApproval, Hex, IndividualApproval } from '../../../src/protocol/types.js';
import type { BlsBackend } from '../../../src/protocol/bls/backend.js';
import { DecodeError, ProtocolError, VerificationError } from '../../../src/protocol/errors.js';
import { flipBit, infinity, loadNodeBackends, secretKey } from './helpers.js';

const backends = await loadNodeBackends();
const fast = backends.find((b) => b.name === 'blst') ?? backends.find((b) => b.name === 'wasm')!;
const hex = (bytes: Uint8Array): Hex => `0x${bytesToHex(bytes)}`;

/** Test authorities: secret keys 1001..1015 (made up for the tests). */
const SECRET_KEYS = Array.from({ length: MAX_AUTHORITIES }, (_, i) => secretKey(BigInt(1001 + i)));
const ROOT = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);

function chain(backend: BlsBackend, n: number) {
  const keys = SECRET_KEYS.slice(0, n).map((sk) => backend.secretToPublicKey(sk));
  const authorities = prepareAuthorities(keys.map(hex), backend);
  const approvals = SECRET_KEYS.slice(0, n).map((sk, i) => signApproval(sk, ROOT, i, backend));
  return { keys, authorities, approvals };
}

/** The check name of the VerificationError thrown by fn (fails the test for anything else). */
function failedCheck(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof VerificationError) return error.check;
    throw error;
  }
  throw new Error('expected a VerificationError, nothing was thrown');
}

function setBits(approval: AggregateApproval, mask: number): AggregateApproval {
  return { ...approval, aggregationBits: encodeAggregationBits(mask) };
}

describe('aggregation bits: SSZ BitList<15>', () => {
  it('decodes and encodes the spec 1.8 examples', () => {
    expect(parseAggregationBits('0x0080')).toBe(0);
    expect(parseAggregationBits('0x0180')).toBe(1);
    expect(parseAggregationBits('0x0780')).toBe(0b111);
    expect(encodeAggregationBits([])).toBe('0x0080');
    expect(encodeAggregationBits([0])).toBe('0x0180');
    expect(encodeAggregationBits([0, 1, 2])).toBe('0x0780');
  });

  it('puts authority 8..14 in the second byte, LSB first, below the delimiter', () => {
    expect(encodeAggregationBits([8])).toBe('0x0081');
    expect(encodeAggregationBits([14])).toBe('0x00c0');
    expect(encodeAggregationBits([7, 8])).toBe('0x8081');
    expect(encodeAggregationBits(signerIndices(0x7fff))).toBe('0xffff');
    expect(parseAggregationBits('0xFFFF')).toBe(0x7fff); // upper-case hex is read, normalised on encode
  });

  it('round-trips every 15-bit mask (mask -> hex -> mask, indices -> hex)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fff }), (mask) => {
        const encoded = encodeAggregationBits(mask);
        expect(encoded).toMatch(/^0x[0-9a-f]{4}$/);
        expect(parseAggregationBits(encoded)).toBe(mask);
        expect(encodeAggregationBits(signerIndices(mask))).toBe(encoded);
        expect(countSigners(mask)).toBe(signerIndices(mask).length);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips every valid 2-byte encoding (hex -> mask -> hex)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0x80, max: 0xff }), (lo, hi) => {
        const h = `0x${lo.toString(16).padStart(2, '0')}${hi.toString(16)}` as Hex;
        expect(encodeAggregationBits(parseAggregationBits(h))).toBe(h);
      }),
    );
  });

  it('rejects every 2-byte value without the length-15 delimiter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0x7f }), (lo, hi) => {
        const h = `0x${lo.toString(16).padStart(2, '0')}${hi.toString(16).padStart(2, '0')}`;
        expect(() => parseAggregationBits(h, '$.signature.aggregation_bits')).toThrow(DecodeError);
      }),
    );
  });

  it.each([
    ['0x', 'empty'],
    ['0x01', 'length-0 SSZ list (valid SSZ, not length 15)'],
    ['0x0501', 'length-8 SSZ list (valid SSZ; stricter than Alys)'],
    ['0x008000', '3 bytes'],
    ['0080', 'no 0x prefix'],
    ['0xzz80', 'not hex'],
    ['0x080', 'odd digits'],
  ])('rejects %s (%s) with a DecodeError naming the path', (value) => {
    expect(() => parseAggregationBits(value, '$.signature.aggregation_bits')).toThrow(DecodeError);
    expect(() => parseAggregationBits(value, '$.signature.aggregation_bits')).toThrow(
      /\$\.signature\.aggregation_bits/,
    );
  });

  it('rejects non-string values', () => {
    for (const v of [0x80, null, undefined, [0, 0x80], new Uint8Array([0, 0x80])])
      expect(() => parseAggregationBits(v)).toThrow(DecodeError);
  });

  it('refuses to encode indices outside 0..14 or masks over 15 bits', () => {
    for (const bad of [[15], [-1], [1.5], [255]]) expect(() => encodeAggregationBits(bad)).toThrow(DecodeError);
    for (const bad of [0x8000, -1, 0.5]) expect(() => encodeAggregationBits(bad)).toThrow(DecodeError);
  });
});

describe('requiredApprovals = floor((2n + 2) / 3)', () => {
  it('matches the spec 3.3 table', () => {
    const table: [number, number][] = [
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 3],
      [5, 4],
      [15, 10],
    ];
    for (const [n, required] of table) expect(requiredApprovals(n)).toBe(required);
  });
  it('is ceil(2n/3) for every n up to 1000', () => {
    for (let n = 0; n <= 1000; n++) expect(requiredApprovals(n)).toBe(Math.ceil((2 * n) / 3));
  });
  it('refuses negative or fractional counts', () => {
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => requiredApprovals(bad)).toThrow(ProtocolError);
  });
});

describe('prepareAuthorities', () => {
  it('prepares the DEV authority key of spec 9.1', () => {
    const dev = '0x97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb';
    const prepared = prepareAuthorities([dev], fast);
    expect(prepared.count).toBe(1);
    expect(prepared.backend).toBe(fast.name);
    expect(hex(prepared.keys[0]!.bytes)).toBe(dev);
  });
  it('rejects an invalid key with a DecodeError at its index (Alys rejects such a spec too)', () => {
    const good = hex(fast.secretToPublicKey(SECRET_KEYS[0]!));
    expect(() => prepareAuthorities([good, hex(infinity(48))], fast)).toThrow(/\$\.authorities\[1\]/);
    expect(() => prepareAuthorities([good, '0x1234' as Hex], fast)).toThrow(/\$\.authorities\[1\]/);
    expect(() => prepareAuthorities([good, good.slice(2) as Hex], fast)).toThrow(DecodeError);
  });
  it('rejects an empty authority list (stricter than Alys: nothing could ever be approved)', () => {
    expect(() => prepareAuthorities([], fast)).toThrow(DecodeError);
  });
  it('accepts raw bytes as well as hex', () => {
    const key = fast.secretToPublicKey(SECRET_KEYS[0]!);
    expect(prepareAuthorities([key], fast).count).toBe(1);
  });
});

describe('verifyAggregateApproval', () => {
  const n = 4; // required 3
  const { authorities, approvals } = chain(fast, n);
  const valid = aggregateApprovals(approvals.slice(0, 3), { backend: fast });

  it('accepts a threshold aggregate and returns the signers', () => {
    expect(valid.aggregationBits).toBe('0x0780');
    expect(verifyAggregateApproval({ root: ROOT, approval: valid, authorities, backend: fast })).toEqual([0, 1, 2]);
    expect(verifyAggregateApproval({ root: hex(ROOT), approval: valid, authorities, backend: fast })).toEqual([
      0, 1, 2,
    ]);
    const all = aggregateApprovals(approvals, { backend: fast });
    expect(verifyAggregateApproval({ root: ROOT, approval: all, authorities, backend: fast })).toEqual([0, 1, 2, 3]);
  });

  it('approvals.bits-beyond-authorities: a bit at index >= n (stricter than Alys, which counts it)', () => {
    // Signers 0,1 (valid signature) + bit 5: Alys would count 3 bits >= 3 required and verify
    // the signature over keys 0,1 only, so it would import this block. We refuse it.
    const twoSigned = aggregateApprovals(approvals.slice(0, 2), { backend: fast });
    for (const extra of [4, 5, 14]) {
      const padded = setBits(twoSigned, 0b11 | (1 << extra));
      expect(
        failedCheck(() => verifyAggregateApproval({ root: ROOT, approval: padded, authorities, backend: fast })),
      ).toBe('approvals.bits-beyond-authorities');
    }
  });

  it('approvals.threshold: fewer than required bits, including the genesis empty approval', () => {
    const twoSigned = aggregateApprovals(approvals.slice(0, 2), { backend: fast });
    expect(
      failedCheck(() => verifyAggregateApproval({ root: ROOT, approval: twoSigned, authorities, backend: fast })),
    ).toBe('approvals.threshold');
    expect(
      failedCheck(() =>
        verifyAggregateApproval({ root: ROOT, approval: EMPTY_AGGREGATE_APPROVAL, authorities, backend: fast }),
      ),
    ).toBe('approvals.threshold');
  });

  it('approvals.empty-aggregate: enough bits but the all-zero signature', () => {
    const empty = { ...valid, aggregateSignature: EMPTY_AGGREGATE_APPROVAL.aggregateSignature };
    expect(
      failedCheck(() => verifyAggregateApproval({ root: ROOT, approval: empty, authorities, backend: fast })),
    ).toBe('approvals.empty-aggregate');
  });

  it('approvals.signature: wrong root, wrong signer set, infinity or tampered signature', () => {
    const cases: [Uint8Array, AggregateApproval][] = [
      [flipBit(ROOT, 0), valid],
      [ROOT, setBits(valid, 0b1011)], // claims 0,1,3 but 0,1,2 signed
      [ROOT, setBits(valid, 0b1111)], // claims one more signer
      [ROOT, { ...valid, aggregateSignature: hex(infinity(96)) }],
      [ROOT, { ...valid, aggregateSignature: hex(flipBit(hexToBytes(valid.aggregateSignature.slice(2)), 100)) }],
    ];
    for (const [root, approval] of cases)
      expect(failedCheck(() => verifyAggregateApproval({ root, approval, authorities, backend: fast }))).toBe(
        'approvals.signature',
      );
  });

  it('any single bit flip of the aggregation bits is rejected with the right error', () => {
    const mask = parseAggregationBits(valid.aggregationBits);
    for (let bit = 0; bit < 16; bit++) {
      const bytes = hexToBytes(valid.aggregationBits.slice(2));
      bytes[bit >> 3]! ^= 1 << (bit & 7);
      const approval = { ...valid, aggregationBits: hex(bytes) };
      const run = () => verifyAggregateApproval({ root: ROOT, approval, authorities, backend: fast });
      if (bit === 15) {
        expect(run, 'delimiter').toThrow(DecodeError);
        continue;
      }
      const flipped = mask ^ (1 << bit);
      const expected =
        bit >= n
          ? 'approvals.bits-beyond-authorities'
          : countSigners(flipped) < requiredApprovals(n)
            ? 'approvals.threshold'
            : 'approvals.signature';
      expect(failedCheck(run), `bit ${bit}`).toBe(expected);
    }
  });

  it('any subset below the threshold is rejected as approvals.threshold, any other subset verifies (n = 15)', () => {
    const big = chain(fast, 15);
    fc.assert(
      fc.property(fc.subarray([...Array(15).keys()], { minLength: 1 }), (subset) => {
        const approval = aggregateApprovals(
          subset.map((i) => big.approvals[i]!),
          { backend: fast },
        );
        const run = () =>
          verifyAggregateApproval({ root: ROOT, approval, authorities: big.authorities, backend: fast });
        if (subset.length < 10) expect(failedCheck(run)).toBe('approvals.threshold');
        else expect(run()).toEqual([...subset].sort((a, b) => a - b));
      }),
      { numRuns: 40 },
    );
  });

  it('decode errors name the JSON path', () => {
    const badSig = { ...valid, aggregateSignature: valid.aggregateSignature.slice(0, -2) as Hex };
    expect(() => verifyAggregateApproval({ root: ROOT, approval: badSig, authorities, backend: fast })).toThrow(
      /\$\.signature\.aggregate_signature/,
    );
    const badBits = { ...valid, aggregationBits: '0x07' as Hex };
    expect(() =>
      verifyAggregateApproval({
        root: ROOT,
        approval: badBits,
        authorities,
        backend: fast,
        path: '$.blocks[3].signature',
      }),
    ).toThrow(/\$\.blocks\[3\]\.signature\.aggregation_bits/);
    expect(() =>
      verifyAggregateApproval({ root: ROOT.subarray(1), approval: valid, authorities, backend: fast }),
    ).toThrow(DecodeError);
    expect(() => verifyAggregateApproval({ root: ROOT, approval: null as never, authorities, backend: fast })).toThrow(
      DecodeError,
    );
  });

  it('refuses authorities prepared with another backend', () => {
    const other = backends.find((b) => b.name !== fast.name)!;
    expect(() => verifyAggregateApproval({ root: ROOT, approval: valid, authorities, backend: other })).toThrow(
      ProtocolError,
    );
  });
});

describe('individual approvals', () => {
  const n = 3;
  const { authorities, approvals } = chain(fast, n);

  it('signApproval output verifies for its own index', () => {
    for (const approval of approvals) verifyIndividualApproval({ root: ROOT, approval, authorities, backend: fast });
  });

  it('a wrong index, a wrong root or a tampered signature fails as approvals.signature', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: n - 1 }),
        fc.integer({ min: 1, max: n - 1 }),
        fc.nat(767),
        (i, shift, bit) => {
          const a = approvals[i]!;
          const wrongIndex = { ...a, authorityIndex: (i + shift) % n };
          expect(
            failedCheck(() =>
              verifyIndividualApproval({ root: ROOT, approval: wrongIndex, authorities, backend: fast }),
            ),
          ).toBe('approvals.signature');
          expect(
            failedCheck(() =>
              verifyIndividualApproval({ root: flipBit(ROOT, bit % 256), approval: a, authorities, backend: fast }),
            ),
          ).toBe('approvals.signature');
          const tampered = { ...a, signature: hex(flipBit(hexToBytes(a.signature.slice(2)), bit)) };
          expect(
            failedCheck(() => verifyIndividualApproval({ root: ROOT, approval: tampered, authorities, backend: fast })),
          ).toBe('approvals.signature');
        },
      ),
      { numRuns: 15 },
    );
  });

  it('an index with no authority fails as approvals.authority-index; a non-u8 index is a DecodeError', () => {
    const a = approvals[0]!;
    for (const index of [3, 14, 15, 255])
      expect(
        failedCheck(() =>
          verifyIndividualApproval({
            root: ROOT,
            approval: { ...a, authorityIndex: index },
            authorities,
            backend: fast,
          }),
        ),
      ).toBe('approvals.authority-index');
    for (const index of [-1, 256, 1.5, '0'] as number[])
      expect(() =>
        verifyIndividualApproval({ root: ROOT, approval: { ...a, authorityIndex: index }, authorities, backend: fast }),
      ).toThrow(/\$\.signature\.authority_index/);
  });

  it('signApproval refuses indices that cannot enter the bitlist and bad secret keys', () => {
    expect(() => signApproval(SECRET_KEYS[0]!, ROOT, 15, fast)).toThrow(DecodeError);
    expect(() => signApproval(SECRET_KEYS[0]!, ROOT, -1, fast)).toThrow(DecodeError);
    expect(() => signApproval(secretKey(0n), ROOT, 0, fast)).toThrow(DecodeError);
    expect(() => signApproval(SECRET_KEYS[0]!, ROOT.subarray(2), 0, fast)).toThrow(DecodeError);
  });
});

describe('aggregateApprovals', () => {
  const n = 4; // required 3
  const { authorities, approvals } = chain(fast, n);
  const sigBytes = (a: IndividualApproval) => hexToBytes(a.signature.slice(2));

  it('deduplicates by authority index (first wins) and matches the plain signature aggregate', () => {
    const forged = { ...approvals[0]!, signature: approvals[2]!.signature }; // same index 0, other signature: ignored
    const agg = aggregateApprovals([approvals[1]!, approvals[0]!, forged, approvals[1]!, approvals[3]!], {
      backend: fast,
    });
    expect(agg.aggregationBits).toBe(encodeAggregationBits([0, 1, 3]));
    expect(agg.aggregateSignature).toBe(
      hex(fast.aggregateSignatures([approvals[0]!, approvals[1]!, approvals[3]!].map(sigBytes))),
    );
    expect(verifyAggregateApproval({ root: ROOT, approval: agg, authorities, backend: fast })).toEqual([0, 1, 3]);
  });

  it('is independent of order', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(approvals, { minLength: 1 }), (subset) => {
        const sorted = [...subset].sort((a, b) => a.authorityIndex - b.authorityIndex);
        expect(aggregateApprovals(subset, { backend: fast })).toEqual(aggregateApprovals(sorted, { backend: fast }));
      }),
      { numRuns: 20 },
    );
  });

  it('adds to a base aggregate (a gossiped block carries the proposer signature), skipping bits already set', () => {
    const base = aggregateApprovals([approvals[2]!], { backend: fast });
    const grown = aggregateApprovals([approvals[0]!, approvals[2]!, approvals[3]!], { backend: fast, base });
    expect(grown).toEqual(aggregateApprovals([approvals[0]!, approvals[2]!, approvals[3]!], { backend: fast }));
    expect(verifyAggregateApproval({ root: ROOT, approval: grown, authorities, backend: fast })).toEqual([0, 2, 3]);
    expect(aggregateApprovals([approvals[2]!], { backend: fast, base })).toEqual(base);
  });

  it('with nothing to aggregate returns the empty approval (0x0080 + zero signature)', () => {
    expect(aggregateApprovals([], { backend: fast })).toEqual(EMPTY_AGGREGATE_APPROVAL);
    expect(aggregateApprovals([approvals[0]!], { backend: fast, base: EMPTY_AGGREGATE_APPROVAL })).toEqual(
      aggregateApprovals([approvals[0]!], { backend: fast }),
    );
  });

  it('rejects bad indices and undecodable signatures with DecodeError at the element', () => {
    expect(() =>
      aggregateApprovals([approvals[0]!, { ...approvals[1]!, authorityIndex: 15 }], { backend: fast }),
    ).toThrow(/approvals\[1\]\.authority_index/);
    expect(() =>
      aggregateApprovals(
        [approvals[0]!, { ...approvals[1]!, signature: EMPTY_AGGREGATE_APPROVAL.aggregateSignature }],
        { backend: fast },
      ),
    ).toThrow(/signatures\[1\]/);
    expect(() => aggregateApprovals([{ ...approvals[1]!, signature: '0x1234' }], { backend: fast })).toThrow(
      /approvals\[0\]\.signature/,
    );
  });
});

describe('the same approval flow on every backend', () => {
  for (const backend of backends) {
    it(`${backend.name}: DEV single-authority chain (spec 9.1, sk = 1) and a 3-of-4 chain`, () => {
      const dev = prepareAuthorities([backend.secretToPublicKey(secretKey(1n))], backend);
      const devApproval = aggregateApprovals([signApproval(secretKey(1n), ROOT, 0, backend)], { backend });
      expect(devApproval.aggregationBits).toBe('0x0180');
      expect(verifyAggregateApproval({ root: ROOT, approval: devApproval, authorities: dev, backend })).toEqual([0]);

      const { authorities, approvals } = chain(backend, 4);
      const approval = aggregateApprovals([approvals[3]!, approvals[1]!, approvals[0]!], { backend });
      expect(verifyAggregateApproval({ root: ROOT, approval, authorities, backend })).toEqual([0, 1, 3]);
      expect(
        failedCheck(() => verifyAggregateApproval({ root: flipBit(ROOT, 7), approval, authorities, backend })),
      ).toBe('approvals.signature');
      verifyIndividualApproval({ root: ROOT, approval: approvals[2]!, authorities, backend });
    });
  }

  it('all backends produce byte-identical approvals', () => {
    const results = backends.map((backend) => {
      const { approvals } = chain(backend, 3);
      return aggregateApprovals(approvals, { backend });
    });
    for (const r of results) expect(r).toEqual(results[0]);
  });
});
