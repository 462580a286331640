/**
 * Federation taproot address (alys-protocol.md 6.1). Known answers: every output key and address
 * of the spec 6.1 table (the DEV regtest address is also the one in Alys's README). Cross-check:
 * @scure/btc-signer's independent p2tr/tapLeafHash implementation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as btc from '@scure/btc-signer';
import { tapLeafHash as btcTapLeafHash } from '@scure/btc-signer/payment.js';
import { tagSchnorr } from '@scure/btc-signer/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, fromHex } from '../../../src/protocol/bytes.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import {
  DEV_CHAIN_SPEC,
  TESTNET_CHAIN_SPEC,
  TESTNET_FULL_CHAIN_SPEC,
  CHAIN_DEV_JSON_SPEC,
} from '../../../src/protocol/chainspec.js';
import {
  createFederation,
  federationAddress,
  federationThreshold,
  NUMS_INTERNAL_KEY,
  p2trAddress,
  paysFederation,
  scriptPushInt,
  tapLeafHash,
  type BitcoinNetwork,
} from '../../../src/protocol/bridge/taproot.js';
import { pubkeyHexOf, pubkeyOf } from './helpers.js';

/** The table of alys-protocol.md section 6.1 (values from the spec text). */
const SPEC_6_1 = [
  {
    name: 'DEV / chain-dev.json (1 key)',
    pubkeys: DEV_CHAIN_SPEC.federationBitcoinPubkeys,
    threshold: 1,
    outputKey: '8c06c75814b105f303f0ac4c5f62ea60701ac95e3cec794b82c2167b55eb58cb',
    addresses: {
      regtest: 'bcrt1p3srvwkq5kyzlxqls43x97ch2vpcp4j278nk8jjuzcgt8k40ttr9s4vj934',
      testnet: 'tb1p3srvwkq5kyzlxqls43x97ch2vpcp4j278nk8jjuzcgt8k40ttr9sc4cry0',
      mainnet: 'bc1p3srvwkq5kyzlxqls43x97ch2vpcp4j278nk8jjuzcgt8k40ttr9s0awv7q',
    },
  },
  {
    name: 'chain.json / chain-full.json (3 keys)',
    pubkeys: TESTNET_CHAIN_SPEC.federationBitcoinPubkeys,
    threshold: 2,
    outputKey: 'a3e5b5909f85c43ae5cc126ff5005efd03260b22eca2fd8d67e6cc1b301c6e11',
    addresses: {
      testnet: 'tb1p50jmtyylshzr4ewvzfhl2qz7l5pjvzezaj30mrt8umxpkvqudcgs6pqcl3',
      regtest: 'bcrt1p50jmtyylshzr4ewvzfhl2qz7l5pjvzezaj30mrt8umxpkvqudcgshc272t',
      mainnet: 'bc1p50jmtyylshzr4ewvzfhl2qz7l5pjvzezaj30mrt8umxpkvqudcgsdfkh97',
    },
  },
  {
    name: 'local 3-node scripts (secret keys 1,2,3)',
    pubkeys: [1, 2, 3].map(pubkeyHexOf),
    threshold: 2,
    outputKey: '2486b11832f304190b5660614c2bb2bdb8159c1652a78685a2545cdfd25e684e',
    addresses: { regtest: 'bcrt1pyjrtzxpj7vzpjz6kvps5c2ajhkupt8qk22ncdpdz23wdl5j7dp8qexkr43' },
  },
] as const;

describe('federation taproot address: spec 6.1 table', () => {
  for (const row of SPEC_6_1) {
    describe(row.name, () => {
      const federation = createFederation(row.pubkeys);
      it(`threshold ${row.threshold}`, () => {
        expect(federation.threshold).toBe(row.threshold);
        expect(federationThreshold(row.pubkeys.length)).toBe(row.threshold);
      });
      it('output key', () => {
        expect(bytesToHex(federation.outputKey)).toBe(row.outputKey);
        expect(bytesToHex(federation.scriptPubkey)).toBe('5120' + row.outputKey);
      });
      for (const [network, address] of Object.entries(row.addresses)) {
        it(`${network} address`, () => {
          expect(federationAddress(federation, network as BitcoinNetwork)).toBe(address);
        });
      }
    });
  }

  it('chain-full.json and chain-dev.json use the same federations as chain.json and DEV', () => {
    expect(createFederation(TESTNET_FULL_CHAIN_SPEC.federationBitcoinPubkeys).outputKey).toEqual(
      createFederation(TESTNET_CHAIN_SPEC.federationBitcoinPubkeys).outputKey,
    );
    expect(createFederation(CHAIN_DEV_JSON_SPEC.federationBitcoinPubkeys).outputKey).toEqual(
      createFederation(DEV_CHAIN_SPEC.federationBitcoinPubkeys).outputKey,
    );
  });

  it('the DEV key is the secret-key-1 key (spec 9.1)', () => {
    expect(DEV_CHAIN_SPEC.federationBitcoinPubkeys[0]).toBe(pubkeyHexOf(1));
  });
});

describe('federation tapscript layout (spec 6.1)', () => {
  it('keys 1,2,3: <x1> CHECKSIG <x2> CHECKSIGADD <x3> CHECKSIGADD OP_2 GREATERTHANOREQUAL', () => {
    const f = createFederation([1, 2, 3].map(pubkeyOf));
    const x = [1, 2, 3].map((k) => bytesToHex(pubkeyOf(k).subarray(1)));
    expect(bytesToHex(f.script)).toBe(`20${x[0]}ac20${x[1]}ba20${x[2]}ba52a2`);
    expect(f.internalKey).toEqual(NUMS_INTERNAL_KEY);
    expect(f.controlBlock.length).toBe(33);
    expect(f.controlBlock[0]! & 0xfe).toBe(0xc0);
    expect(f.controlBlock.subarray(1)).toEqual(NUMS_INTERNAL_KEY);
  });

  it('the NUMS key is BIP-341 H = lift_x(sha256(G uncompressed))', async () => {
    const { sha256 } = await import('@noble/hashes/sha2.js');
    expect(NUMS_INTERNAL_KEY).toEqual(sha256(secp256k1.Point.BASE.toBytes(false)));
  });

  it('control-block parity bit is the parity of the output key (checked by lifting Q)', () => {
    for (const keys of [[1], [1, 2], [1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11, 12]]) {
      const f = createFederation(keys.map(pubkeyOf));
      const Q = secp256k1.Point.fromBytes(Uint8Array.of(0x02 | f.outputKeyParity, ...f.outputKey));
      // the internal point plus tweak·G must equal Q, with the same parity
      const t = BigInt('0x' + bytesToHex(tagSchnorr('TapTweak', f.internalKey, f.leafHash)));
      const P = secp256k1.Point.fromBytes(Uint8Array.of(0x02, ...f.internalKey));
      expect(P.add(secp256k1.Point.BASE.multiply(t)).equals(Q)).toBe(true);
      expect(f.controlBlock[0]).toBe(0xc0 | f.outputKeyParity);
    }
  });

  it('threshold = floor((2n+2)/3) for n = 0..30', () => {
    const expected = [0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 10, 10];
    for (const [n, t] of expected.entries()) expect(federationThreshold(n)).toBe(t);
    for (let n = 1; n <= 30; n++) expect(federationThreshold(n)).toBe(Math.floor((2 * n + 2) / 3));
  });

  it('push_int follows rust-bitcoin: OP_0, OP_1..OP_16, OP_1NEGATE, minimal script numbers', () => {
    expect(bytesToHex(scriptPushInt(0))).toBe('00');
    expect(bytesToHex(scriptPushInt(1))).toBe('51');
    expect(bytesToHex(scriptPushInt(16))).toBe('60');
    expect(bytesToHex(scriptPushInt(-1))).toBe('4f');
    expect(bytesToHex(scriptPushInt(17))).toBe('0111');
    expect(bytesToHex(scriptPushInt(127))).toBe('017f');
    expect(bytesToHex(scriptPushInt(128))).toBe('028000');
    expect(bytesToHex(scriptPushInt(255))).toBe('02ff00');
    expect(bytesToHex(scriptPushInt(256))).toBe('020001');
    expect(bytesToHex(scriptPushInt(-2))).toBe('0182');
    expect(bytesToHex(scriptPushInt(-128))).toBe('028080');
  });

  it('push_int agrees with btc-signer ScriptNum for -2^31..2^31', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), (v) => {
        const ours = scriptPushInt(v);
        if (v === -1 || (v >= 0 && v <= 16)) return; // opcodes, covered above
        const num = btc.ScriptNum().encode(BigInt(v));
        expect(bytesToHex(ours)).toBe(bytesToHex(Uint8Array.of(num.length, ...num)));
      }),
    );
  });
});

describe('cross-check with @scure/btc-signer', () => {
  it('random federations of 1..16 keys: leaf hash, output key, control block and address match p2tr', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 16 }), (keys) => {
        const f = createFederation(keys.map(pubkeyOf));
        expect(f.leafHash).toEqual(btcTapLeafHash(f.script, 0xc0));
        const pay = btc.p2tr(NUMS_INTERNAL_KEY, { script: f.script, leafVersion: 0xc0 }, btc.NETWORK, true);
        expect(bytesToHex(pay.tweakedPubkey)).toBe(bytesToHex(f.outputKey));
        expect(pay.address).toBe(federationAddress(f, 'mainnet'));
        expect(bytesToHex(pay.script)).toBe(bytesToHex(f.scriptPubkey));
        const leaf = pay.tapLeafScript![0]!;
        expect(bytesToHex(btc.TaprootControlBlock.encode(leaf[0]))).toBe(bytesToHex(f.controlBlock));
      }),
      { numRuns: 25 },
    );
  });

  it('tapLeafHash matches btc-signer for arbitrary scripts (incl. >252 bytes: 3-byte compact size)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (script) => {
        expect(tapLeafHash(script)).toEqual(btcTapLeafHash(script, 0xc0));
      }),
      { numRuns: 50 },
    );
  });

  it('p2trAddress: signet/testnet share tb, regtest uses bcrt', () => {
    const key = fromHex('8c06c75814b105f303f0ac4c5f62ea60701ac95e3cec794b82c2167b55eb58cb');
    expect(p2trAddress(key, 'signet')).toBe(p2trAddress(key, 'testnet'));
    expect(p2trAddress(key, 'regtest').startsWith('bcrt1p')).toBe(true);
  });
});

describe('adversarial federation keys', () => {
  const good = pubkeyHexOf(1);
  const cases: [string, unknown][] = [
    ['empty string', ''],
    ['0x prefix', '0x' + good],
    ['32 bytes', good.slice(2)],
    ['uncompressed 65 bytes', bytesToHex(secp256k1.getPublicKey(Uint8Array.of(...new Uint8Array(31), 1), false))],
    ['prefix 04 with 33 bytes', '04' + good.slice(2)],
    ['prefix 00', '00' + good.slice(2)],
    ['x not on the curve (x = 5)', '02' + '05'.padStart(64, '0')],
    ['x = p (not a field element)', '02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f'],
    ['non-hex', 'zz' + good.slice(2)],
  ];
  for (const [name, key] of cases) {
    it(`rejects ${name} with a DecodeError naming the key`, () => {
      const err = (() => {
        try {
          createFederation([good, key as string]);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).path).toBe('federationBitcoinPubkeys[1]');
    });
  }
  it('rejects an empty federation and a bad threshold', () => {
    expect(() => createFederation([])).toThrow(DecodeError);
    expect(() => createFederation([good], 2)).toThrow(DecodeError);
    expect(() => createFederation([good], 0)).toThrow(DecodeError);
  });
  it('paysFederation is byte equality with 5120||Q', () => {
    const f = createFederation([good]);
    expect(paysFederation(f.scriptPubkey, f)).toBe(true);
    const other = f.scriptPubkey.slice();
    other[33]! ^= 1;
    expect(paysFederation(other, f)).toBe(false);
    expect(paysFederation(f.scriptPubkey.subarray(0, 33), f)).toBe(false);
  });
});
