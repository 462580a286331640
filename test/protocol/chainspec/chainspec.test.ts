/**
 * Chain specs (alys-protocol.md 1.9 and 9): the shipped JSON specs from alys-real.json parse to
 * the built-in constants, `#[serde(default)]` semantics, and every field broken in turn gives a
 * DecodeError naming it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '../../../src/protocol/bytes.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import type { ChainSpec } from '../../../src/protocol/types.js';
import {
  CHAIN_DEV_JSON_SPEC,
  chainSpecToJson,
  DEV_CHAIN_SPEC,
  getChainSpec,
  parseChainSpec,
  parseChainSpecDetailed,
  parseChainSpecJson,
  parseChainSpecJsonUnchecked,
  TESTNET_CHAIN_SPEC,
  TESTNET_FULL_CHAIN_SPEC,
} from '../../../src/protocol/chainspec.js';
import { checkChainSpecKeys, isCompressedSecp256k1Point } from '../../../src/protocol/chainspec-keys.js';
import { createBlsBackend } from '../../../src/protocol/bls/index.js';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';

const sk = (k: number) => {
  const b = new Uint8Array(32);
  b[31] = k & 0xff;
  b[30] = k >> 8;
  return b;
};
const blsPk = (k: number) => `0x${bls12_381.longSignatures.getPublicKey(sk(k)).toHex(true)}`;
const btcPk = (k: number) => bytesToHex(secp256k1.getPublicKey(sk(k), true));

describeVectors('shipped specs (alys-real.json chain_specs) parse to the constants', () => {
  const specs = loadVectors('alys-real.json').chain_specs;
  const table: [string, unknown, ChainSpec, string][] = [
    ['etc/config/chain.json', specs.testnet_chain_json.spec, TESTNET_CHAIN_SPEC, 'testnet'],
    ['etc/config/chain-full.json', specs.full_node_chain_json.spec, TESTNET_FULL_CHAIN_SPEC, 'testnet-full'],
    ['etc/config/chain-dev.json', specs.dev_chain_json.spec, CHAIN_DEV_JSON_SPEC, 'chain-dev'],
    ['app/src/spec.rs DEV', specs.builtin_dev_spec.spec, DEV_CHAIN_SPEC, 'dev'],
  ];
  for (const [name, json, constant, key] of table) {
    it(`${name} = ${key}`, () => {
      const detailed = parseChainSpecDetailed(json, { rejectUnknownKeys: true });
      expect(detailed.spec).toEqual(constant);
      expect(getChainSpec(key as never)).toEqual(constant);
      expect(detailed.unknownKeys).toEqual([]);
    });
  }
  it('the keys each file leaves out take the DEV value (serde default)', () => {
    expect(parseChainSpecDetailed(specs.testnet_chain_json.spec).defaultedKeys).toEqual(['executionTimeoutLength']);
    expect(parseChainSpecDetailed(specs.dev_chain_json.spec).defaultedKeys.sort()).toEqual(
      ['executionTimeoutLength', 'isValidator', 'requiredBtcTxnConfirmations'].sort(),
    );
  });
  it('parseChainSpecJson reads the file text form', () => {
    expect(parseChainSpecJson(JSON.stringify(specs.testnet_chain_json.spec, null, 2))).toEqual(TESTNET_CHAIN_SPEC);
  });
});

describe('built-in specs', () => {
  it('DEV authority and BTC key are the keys of secret 1 (spec 9.1)', () => {
    expect(DEV_CHAIN_SPEC.authorities).toEqual([blsPk(1)]);
    expect(DEV_CHAIN_SPEC.federationBitcoinPubkeys).toEqual([btcPk(1)]);
  });
  it('the constants are frozen and getChainSpec returns independent copies', () => {
    expect(Object.isFrozen(DEV_CHAIN_SPEC.authorities)).toBe(true);
    expect(Object.isFrozen(TESTNET_CHAIN_SPEC.retargetParams)).toBe(true);
    const copy = getChainSpec('testnet');
    copy.authorities.push('0x00');
    copy.retargetParams.powTargetSpacing = 1;
    expect(TESTNET_CHAIN_SPEC.authorities.length).toBe(3);
    expect(getChainSpec('testnet').retargetParams.powTargetSpacing).toBe(5);
    expect(() => getChainSpec('mainnet' as never)).toThrow(DecodeError);
  });
  it('every built-in spec is accepted by the parser (round trip through JSON)', () => {
    for (const s of [DEV_CHAIN_SPEC, TESTNET_CHAIN_SPEC, TESTNET_FULL_CHAIN_SPEC, CHAIN_DEV_JSON_SPEC])
      expect(parseChainSpec(JSON.parse(JSON.stringify(chainSpecToJson(s))))).toEqual(s);
  });
});

/** The one key a spec cannot leave out. */
const DEV_AUTH = { authorities: [...DEV_CHAIN_SPEC.authorities] };

describe('serde(default) semantics', () => {
  it('{ authorities } is DEV', () => {
    expect(parseChainSpec(DEV_AUTH)).toEqual(DEV_CHAIN_SPEC);
  });
  it('a missing authorities is an error naming the key, never the DEV authority', () => {
    expect(() => parseChainSpec({})).toThrow(DecodeError);
    const { authorities, ...rest } = chainSpecToJson(TESTNET_CHAIN_SPEC);
    for (const json of [rest, { ...rest, authoritys: authorities }]) {
      const err = (() => {
        try {
          parseChainSpec(json);
        } catch (e) {
          return e as DecodeError;
        }
        throw new Error('parsed');
      })();
      expect(err).toBeInstanceOf(DecodeError);
      expect(err.message).toContain('$.authorities');
      expect(err.message).toContain('missing');
    }
    expect(() => parseChainSpec({ ...rest, authoritys: authorities })).toThrow(/found "authoritys"/);
  });
  it('each other missing top-level key takes DEV’s value', () => {
    const full = chainSpecToJson(TESTNET_CHAIN_SPEC);
    for (const key of Object.keys(full)) {
      if (key === 'authorities') continue;
      const { [key]: _, ...rest } = full;
      const parsed = parseChainSpecDetailed(rest);
      expect(parsed.spec[key as keyof ChainSpec]).toEqual(DEV_CHAIN_SPEC[key as keyof ChainSpec]);
      expect(parsed.defaultedKeys).toEqual([key]);
    }
  });
  it('missing retargetParams keys default to zero/false (not to DEV)', () => {
    const parsed = parseChainSpec({ ...DEV_AUTH, retargetParams: { powNoRetargeting: true } });
    expect(parsed.retargetParams).toEqual({
      powNoRetargeting: true,
      powLimit: 0,
      powLowerLimit: 0,
      powTargetTimespan: 0,
      powTargetSpacing: 0,
      maxPowAdjustment: 0,
    });
    expect(
      parseChainSpec({ ...DEV_AUTH, retargetParams: { powTargetSpacing: 7, powTargetTimespan: 70 } }).retargetParams,
    ).toEqual({
      powNoRetargeting: false,
      powLimit: 0,
      powLowerLimit: 0,
      powTargetTimespan: 70,
      powTargetSpacing: 7,
      maxPowAdjustment: 0,
    });
  });
  it('normalises hex: lowercase, 0x on EVM addresses, none on BTC keys', () => {
    const parsed = parseChainSpec({
      authorities: [blsPk(2).replace(/[a-f]/g, (c) => c.toUpperCase())],
      federation: ['8C483D6BF33288318143DA93BB533D599DE04E72', '0x11a96B2A888141953203df5C745C14449477D65d'],
      federationBitcoinPubkeys: [btcPk(3).toUpperCase()],
    });
    expect(parsed.authorities).toEqual([blsPk(2)]);
    expect(parsed.federation).toEqual([
      '0x8c483d6bf33288318143da93bb533d599de04e72',
      '0x11a96b2a888141953203df5c745c14449477d65d',
    ]);
    expect(parsed.federationBitcoinPubkeys).toEqual([btcPk(3)]);
  });
  it('unknown keys are ignored like serde, reported, and refused on request', () => {
    const r = parseChainSpecDetailed({
      ...DEV_AUTH,
      slot_duration: 1,
      chainId: 7,
      retargetParams: { ...DEV_CHAIN_SPEC.retargetParams, extra: true },
    });
    expect(r.unknownKeys).toEqual(['$.slot_duration', '$.retargetParams.extra']);
    expect(r.spec.slotDuration).toBe(DEV_CHAIN_SPEC.slotDuration); // the snake_case key does nothing
    expect(r.spec.chainId).toBe(7);
    expect(() => parseChainSpec({ ...DEV_AUTH, slot_duration: 1 }, { rejectUnknownKeys: true })).toThrow(
      expect.objectContaining({ path: '$.slot_duration' }),
    );
    expect(() =>
      parseChainSpec(
        { ...DEV_AUTH, retargetParams: { ...DEV_CHAIN_SPEC.retargetParams, x: 1 } },
        { rejectUnknownKeys: true },
      ),
    ).toThrow(expect.objectContaining({ path: '$.retargetParams.x' }));
  });
  it('edge values that Alys accepts are accepted', () => {
    const ok = parseChainSpec({
      bits: 0xffffffff,
      chainId: 0,
      bitcoinStartHeight: 0xffffffff,
      executionTimeoutLength: 65535,
      requiredBtcTxnConfirmations: 0,
      maxBlocksWithoutPow: Number.MAX_SAFE_INTEGER,
      authorities: Array.from({ length: 15 }, (_, i) => blsPk(i + 1)),
      retargetParams: { powNoRetargeting: true, maxPowAdjustment: 255, powLimit: 0xffffffff, powLowerLimit: 0 },
    });
    expect(ok.authorities.length).toBe(15);
    expect(ok.retargetParams.maxPowAdjustment).toBe(255);
  });
  it('property: chainSpecToJson / parseChainSpec round-trips', () => {
    const keys = Array.from({ length: 4 }, (_, i) => blsPk(i + 10));
    const arb = fc.record({
      slotDuration: fc.integer({ min: 1, max: 2 ** 40 }),
      authorities: fc.subarray(keys, { minLength: 1 }),
      federation: fc.array(
        fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${bytesToHex(b)}`),
        { minLength: 1, maxLength: 5 },
      ),
      federationBitcoinPubkeys: fc.subarray([btcPk(1), btcPk(2), btcPk(3)], { minLength: 1 }),
      bits: fc.nat({ max: 0xffffffff }),
      chainId: fc.nat({ max: 0xffffffff }),
      maxBlocksWithoutPow: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      bitcoinStartHeight: fc.nat({ max: 0xffffffff }),
      retargetParams: fc.record({
        powNoRetargeting: fc.boolean(),
        powLimit: fc.nat({ max: 0xffffffff }),
        powLowerLimit: fc.nat({ max: 0xffffffff }),
        powTargetSpacing: fc.integer({ min: 1, max: 1000 }),
        powTargetTimespan: fc.integer({ min: 1000, max: 100000 }),
        maxPowAdjustment: fc.nat({ max: 255 }),
      }),
      isValidator: fc.boolean(),
      executionTimeoutLength: fc.nat({ max: 65535 }),
      requiredBtcTxnConfirmations: fc.nat({ max: 65535 }),
    });
    fc.assert(
      fc.property(arb, (spec) => {
        expect(parseChainSpec(JSON.parse(JSON.stringify(chainSpecToJson(spec as ChainSpec))))).toEqual(spec);
      }),
      { numRuns: 50 },
    );
  });
});

// ---------------------------------------------------------------- adversarial

/** A compressed G1 encoding of a point on the curve but outside the prime-order subgroup (x = 4). */
function nonSubgroupG1(): string {
  const { Fp } = bls12_381.fields;
  const x = 4n;
  const y = Fp.sqrt(Fp.add(Fp.pow(x, 3n), 4n));
  const pt = bls12_381.G1.Point.fromAffine({ x, y });
  expect(pt.isTorsionFree()).toBe(false);
  const bytes = Uint8Array.from(Buffer.from(x.toString(16).padStart(96, '0'), 'hex'));
  bytes[0]! |= 0x80;
  if (y > Fp.neg(y)) bytes[0]! |= 0x20;
  return `0x${bytesToHex(bytes)}`;
}

describe('adversarial chain-spec JSON: each broken field is a DecodeError naming it', () => {
  const base = chainSpecToJson(TESTNET_CHAIN_SPEC);
  const good = blsPk(1);
  const goodBtc = btcPk(1);
  const evm = '0x8c483d6bf33288318143da93bb533d599de04e72';
  const infinity = '0xc0' + '00'.repeat(47);
  const notOnCurveBls = '0x80' + '00'.repeat(46) + '01'; // x = 1: 1 + 4 = 5 is not a square mod p
  const uncompressedBtc = bytesToHex(secp256k1.getPublicKey(sk(1), false));
  const noX = '02' + '05'.padStart(64, '0'); // x = 5 is not on secp256k1
  const cases: [string, unknown, string][] = [
    // top level
    ['$', null, '$'],
    ['$', [], '$'],
    ['$', 'chain.json', '$'],
    ['$', 42, '$'],
    // numbers
    ...(['slotDuration', 'maxBlocksWithoutPow'] as const).flatMap((k): [string, unknown, string][] => [
      [k, -1, `$.${k}`],
      [k, 1.5, `$.${k}`],
      [k, '5000', `$.${k}`],
      [k, null, `$.${k}`],
      [k, true, `$.${k}`],
      [k, 2 ** 53, `$.${k}`],
      [k, Number.NaN, `$.${k}`],
      [k, Number.POSITIVE_INFINITY, `$.${k}`],
    ]),
    ['slotDuration', 0, '$.slotDuration'],
    ...(['bits', 'chainId', 'bitcoinStartHeight'] as const).flatMap((k): [string, unknown, string][] => [
      [k, -1, `$.${k}`],
      [k, 2 ** 32, `$.${k}`],
      [k, 0.5, `$.${k}`],
      [k, '1', `$.${k}`],
      [k, null, `$.${k}`],
      [k, [], `$.${k}`],
    ]),
    ...(['executionTimeoutLength', 'requiredBtcTxnConfirmations'] as const).flatMap(
      (k): [string, unknown, string][] => [
        [k, 65536, `$.${k}`],
        [k, -1, `$.${k}`],
        [k, '6', `$.${k}`],
      ],
    ),
    ['isValidator', 'true', '$.isValidator'],
    ['isValidator', 1, '$.isValidator'],
    ['isValidator', null, '$.isValidator'],
    // authorities
    ['authorities', good, '$.authorities'],
    ['authorities', {}, '$.authorities'],
    ['authorities', [], '$.authorities'],
    ['authorities', Array.from({ length: 16 }, (_, i) => blsPk(i + 1)), '$.authorities'],
    ['authorities', [good, 7], '$.authorities[1]'],
    ['authorities', [good, good.slice(2)], '$.authorities[1]'],
    ['authorities', [good, '0X' + good.slice(2)], '$.authorities[1]'],
    ['authorities', [good, good.slice(0, -1)], '$.authorities[1]'],
    ['authorities', [good, good + '0'], '$.authorities[1]'],
    ['authorities', [good, good + '00'], '$.authorities[1]'],
    ['authorities', [good, good.slice(0, -2) + 'zz'], '$.authorities[1]'],
    ['authorities', [good, infinity], '$.authorities[1]'],
    ['authorities', [good, notOnCurveBls], '$.authorities[1]'],
    ['authorities', [good, nonSubgroupG1()], '$.authorities[1]'],
    ['authorities', [good, '0x00' + good.slice(4)], '$.authorities[1]'],
    // federation
    ['federation', evm, '$.federation'],
    ['federation', [], '$.federation'],
    ['federation', [evm, 5], '$.federation[1]'],
    ['federation', [evm, evm.slice(0, -1)], '$.federation[1]'],
    ['federation', [evm, evm + '00'], '$.federation[1]'],
    ['federation', [evm, '0X' + evm.slice(2)], '$.federation[1]'],
    ['federation', [evm, '0x0x' + evm.slice(4)], '$.federation[1]'],
    ['federation', [evm, evm.slice(0, -1) + 'g'], '$.federation[1]'],
    ['federation', [evm, Array.from({ length: 20 }, (_, i) => i)], '$.federation[1]'],
    // federationBitcoinPubkeys
    ['federationBitcoinPubkeys', goodBtc, '$.federationBitcoinPubkeys'],
    ['federationBitcoinPubkeys', [], '$.federationBitcoinPubkeys'],
    ['federationBitcoinPubkeys', [goodBtc, 1], '$.federationBitcoinPubkeys[1]'],
    ['federationBitcoinPubkeys', [goodBtc, '0x' + goodBtc], '$.federationBitcoinPubkeys[1]'],
    ['federationBitcoinPubkeys', [goodBtc, uncompressedBtc], '$.federationBitcoinPubkeys[1]'],
    ['federationBitcoinPubkeys', [goodBtc, '06' + uncompressedBtc.slice(2)], '$.federationBitcoinPubkeys[1]'],
    ['federationBitcoinPubkeys', [goodBtc, '04' + goodBtc.slice(2)], '$.federationBitcoinPubkeys[1]'],
    ['federationBitcoinPubkeys', [goodBtc, goodBtc.slice(2)], '$.federationBitcoinPubkeys[1]'],
    ['federationBitcoinPubkeys', [goodBtc, goodBtc + '0'], '$.federationBitcoinPubkeys[1]'],
    ['federationBitcoinPubkeys', [goodBtc, noX], '$.federationBitcoinPubkeys[1]'],
    ['federationBitcoinPubkeys', [goodBtc, goodBtc.slice(0, -1) + 'x'], '$.federationBitcoinPubkeys[1]'],
    // retargetParams
    ['retargetParams', null, '$.retargetParams'],
    ['retargetParams', [], '$.retargetParams'],
    ['retargetParams', 'x', '$.retargetParams'],
  ];
  const retargetBase = TESTNET_CHAIN_SPEC.retargetParams;
  const retargetCases: [string, unknown, string][] = [
    ['powLimit', 2 ** 32, 'powLimit'],
    ['powLimit', -1, 'powLimit'],
    ['powLowerLimit', 2 ** 32, 'powLowerLimit'],
    ['powLowerLimit', '0', 'powLowerLimit'],
    ['powTargetTimespan', -1, 'powTargetTimespan'],
    ['powTargetTimespan', 2 ** 53, 'powTargetTimespan'],
    ['powTargetSpacing', 1.5, 'powTargetSpacing'],
    ['powTargetSpacing', 0, 'powTargetSpacing'],
    ['powTargetSpacing', null, 'powTargetSpacing'],
    ['powTargetTimespan', 4, 'powTargetTimespan'], // < spacing 5: interval 0
    ['powNoRetargeting', 'false', 'powNoRetargeting'],
    ['powNoRetargeting', 0, 'powNoRetargeting'],
    ['maxPowAdjustment', 256, 'maxPowAdjustment'],
    ['maxPowAdjustment', -1, 'maxPowAdjustment'],
  ];

  for (const [field, value, path] of cases) {
    it(`${field} = ${JSON.stringify(value)?.slice(0, 40)} → ${path}`, () => {
      const json = field === '$' ? value : { ...base, [field]: value };
      let error: unknown;
      try {
        parseChainSpec(json);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).path).toBe(path);
    });
  }
  // the page's way (createLightNode({ chainSpec: jsonText })): read without the curve checks, the node
  // checks the keys where it runs; together they must refuse exactly what parseChainSpec refuses, alike
  for (const name of ['noble', 'wasm'] as const)
    it(`read unchecked + checkChainSpecKeys (${name} backend) = parseChainSpec, errors included`, async () => {
      const bls = await createBlsBackend(name);
      const outcome = (run: () => ChainSpec) => {
        try {
          return { spec: run() };
        } catch (e) {
          return { error: e instanceof DecodeError ? [e.name, e.path, e.message] : e };
        }
      };
      const twoStage = (text: string) => () => {
        const spec = parseChainSpecJsonUnchecked(text);
        checkChainSpecKeys(spec, bls);
        return spec;
      };
      const jsons = [
        base,
        chainSpecToJson(DEV_CHAIN_SPEC),
        ...cases.map(([f, v]) => (f === '$' ? v : { ...base, [f]: v })),
      ];
      for (const text of jsons.map((j) => JSON.stringify(j)))
        expect(outcome(twoStage(text))).toEqual(outcome(() => parseChainSpecJson(text)));
    });
  it('the unchecked reader leaves the curve checks out (and only those)', () => {
    const spec = parseChainSpecJsonUnchecked(
      JSON.stringify({ ...base, authorities: [good, notOnCurveBls, infinity], federationBitcoinPubkeys: [noX] }),
    );
    expect(spec.authorities).toEqual([good, notOnCurveBls, infinity]);
    expect(spec.federationBitcoinPubkeys).toEqual([noX]);
  });
  it('isCompressedSecp256k1Point agrees with noble on random x (and on x >= p)', () => {
    const nobleSays = (bytes: Uint8Array) => {
      try {
        secp256k1.Point.fromBytes(bytes).assertValidity();
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(
      fc.property(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 32, maxLength: 32 }), (prefix, x) => {
        const bytes = Uint8Array.of(prefix, ...x);
        expect(isCompressedSecp256k1Point(bytes)).toBe(nobleSays(bytes));
      }),
      { numRuns: 300 },
    );
    const p = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
    for (const x of [p, p + 1n, 2n ** 256n - 1n, p - 1n, 0n]) {
      const bytes = Uint8Array.from(Buffer.from(`02${x.toString(16).padStart(64, '0')}`, 'hex'));
      expect(isCompressedSecp256k1Point(bytes)).toBe(nobleSays(bytes));
    }
    for (let k = 1; k < 20; k++) expect(isCompressedSecp256k1Point(secp256k1.getPublicKey(sk(k), true))).toBe(true);
  });
  for (const [field, value, key] of retargetCases) {
    it(`retargetParams.${field} = ${JSON.stringify(value)} → $.retargetParams.${key}`, () => {
      let error: unknown;
      try {
        parseChainSpec({ ...base, retargetParams: { ...retargetBase, [field]: value } });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).path).toBe(`$.retargetParams.${key}`);
    });
  }
  it('spacing 0 and timespan < spacing are fine when retargeting is off', () => {
    parseChainSpec({
      ...base,
      retargetParams: { ...retargetBase, powNoRetargeting: true, powTargetSpacing: 0, powTargetTimespan: 0 },
    });
  });
  it('retargetParams {} (all zero, retargeting on) is refused: stricter than Alys, which would divide by zero later', () => {
    expect(() => parseChainSpec({ ...DEV_AUTH, retargetParams: {} })).toThrow(
      expect.objectContaining({ path: '$.retargetParams.powTargetSpacing' }),
    );
  });
  it('parseChainSpecJson: invalid JSON is a DecodeError at $', () => {
    expect(() => parseChainSpecJson('{"slotDuration": 5000,')).toThrow(expect.objectContaining({ path: '$' }));
  });
  it('messages say what failed', () => {
    expect(() => parseChainSpec({ ...base, bits: 2 ** 32 })).toThrow(/\$\.bits: 4294967296 does not fit a u32/);
    expect(() => parseChainSpec({ ...base, maxBlocksWithoutPow: 2 ** 53 })).toThrow(/2\^53/);
  });
});
