/**
 * Signed federation updates (src/protocol/federation-update.ts, docs/federation-updates.md): the digest
 * layout as a known answer built by hand, sign/verify round trips, each rejection with its check, and a
 * property test that any single bit flip of a signed field or of the signature is rejected.
 * The layout is ours (Alys signs nothing here, spec 10.1), so the known answer pins our own format.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  FEDERATION_UPDATE_DOMAIN,
  federationUpdateDigest,
  signFederationUpdate,
  verifyFederationUpdate,
  type FederationUpdateInput,
  type VerifyFederationUpdateContext,
} from '../../src/protocol/federation-update.js';
import { prepareAuthorities, requiredApprovals } from '../../src/protocol/approvals.js';
import { createBlsBackend } from '../../src/protocol/bls/index.js';
import { VerificationError } from '../../src/protocol/errors.js';
import type { Hex } from '../../src/protocol/bytes.js';
import { expectCheck } from '../helpers/expect.js';
import { secretKey } from './bls/helpers.js';

const bls = await createBlsBackend('wasm');
const CHAIN_ID = 121212;
const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;

/** Current authorities: secret keys 2001..2004 (made up); the new set: 3001..3005. */
const CURRENT_SK = [2001n, 2002n, 2003n, 2004n].map(secretKey);
const CURRENT = CURRENT_SK.map((sk) => hex(bls.secretToPublicKey(sk)));
const NEW_SK = [3001n, 3002n, 3003n, 3004n, 3005n].map(secretKey);
const prepared = prepareAuthorities(CURRENT, bls);

function member(i: number) {
  return {
    memberId: `0x${(i + 1).toString(16).padStart(2, '0').repeat(20)}`,
    publicKey: bls.secretToPublicKey(NEW_SK[i]!),
    weight: 1,
    active: true,
  };
}

function unsigned(n = 5, height = 120): FederationUpdateInput {
  const members = Array.from({ length: n }, (_, i) => member(i));
  const parameters: Record<string, string> = {};
  members.forEach((m, i) => {
    parameters[`bitcoin_pubkey:${m.memberId}`] = bytesToHex(secp256k1.getPublicKey(secretKey(BigInt(4001 + i)), true));
  });
  return {
    updateType: 1,
    members,
    effectiveHeight: BigInt(height),
    config: { signatureThreshold: requiredApprovals(n), memberCount: n, parameters },
  };
}

function signed(update: FederationUpdateInput, signers = [0, 1, 2], chainId = CHAIN_ID): FederationUpdateInput {
  const sig = signFederationUpdate(
    update,
    chainId,
    signers.map((index) => ({ index, secretKey: CURRENT_SK[index]! })),
    bls,
  );
  return { ...update, updateSignature: sig };
}

const ctx = (over: Partial<VerifyFederationUpdateContext> = {}): VerifyFederationUpdateContext => ({
  current: prepared,
  chainId: CHAIN_ID,
  lastEffectiveHeight: 0,
  headHeight: 100,
  backend: bls,
  ...over,
});

describe('federationUpdateDigest: the byte layout', () => {
  it('is sha256 of the documented preimage (built here by hand)', () => {
    const pk = bls.secretToPublicKey(secretKey(1n));
    const id = `0x${'ab'.repeat(20)}`;
    const btc = `02${'79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'}`;
    const update: FederationUpdateInput = {
      updateType: 3,
      members: [{ memberId: id, publicKey: pk, weight: 1, active: true }],
      effectiveHeight: 0x0102n,
      config: { signatureThreshold: 1, memberCount: 1, parameters: { zeta: 'z', [`bitcoin_pubkey:${id}`]: btc } },
    };
    const str = (s: string) => s.length.toString(16).padStart(8, '0') + bytesToHex(new TextEncoder().encode(s));
    const preimage = [
      str('alys-light/federation-update/v1'),
      '000000000001d97c', // chain id 121212
      '00000003', // CONFIG_CHANGE
      '0000000000000102', // effective height
      '00000001', // one member
      str(id),
      '00000030' + bytesToHex(pk),
      '00000001', // weight
      '01', // active
      '01', // has config
      '00000001', // threshold
      '00000001', // member_count
      '00000002', // two parameters, sorted by key bytes: "bitcoin_pubkey:..." < "zeta"
      str(`bitcoin_pubkey:${id}`),
      str(btc),
      str('zeta'),
      str('z'),
    ].join('');
    expect(FEDERATION_UPDATE_DOMAIN).toBe('alys-light/federation-update/v1');
    const digest = federationUpdateDigest(update, CHAIN_ID);
    expect(bytesToHex(digest)).toBe(bytesToHex(sha256(hexToBytes(preimage))));
    // pinned: a change of layout must be a deliberate change of this value (and of docs/federation-updates.md)
    expect(bytesToHex(digest)).toBe('259b54d52c3c9ef676ead29b4ae6584ca96b83398b3efeca3f7c229826baa0ae');
  });

  it('without a config ends with has_config = 0', () => {
    const u = unsigned(1);
    const { config: _, ...bare } = u;
    expect(bytesToHex(federationUpdateDigest(bare, CHAIN_ID))).not.toBe(
      bytesToHex(federationUpdateDigest(u, CHAIN_ID)),
    );
    // the active flag is covered too (verification refuses inactive members anyway)
    const inactive = { ...u, members: [{ ...u.members[0]!, active: false }] };
    expect(federationUpdateDigest(inactive, CHAIN_ID)).not.toEqual(federationUpdateDigest(u, CHAIN_ID));
  });

  it('parameter order does not matter (sorted), the signature field is not covered', () => {
    const u = unsigned(3);
    const reversed = Object.fromEntries(Object.entries(u.config!.parameters).reverse());
    const v = { ...u, config: { ...u.config!, parameters: reversed }, updateSignature: new Uint8Array(98) };
    expect(federationUpdateDigest(v, CHAIN_ID)).toEqual(federationUpdateDigest(u, CHAIN_ID));
  });
});

describe('verifyFederationUpdate', () => {
  it('accepts ceil(2n/3) of the current authorities and returns the new set', () => {
    const u = signed(unsigned());
    const v = verifyFederationUpdate(u, ctx());
    expect(v.effectiveHeight).toBe(120);
    expect(v.authorities).toEqual(u.members.map((m) => hex(m.publicKey)));
    expect(v.federation).toEqual(u.members.map((m) => m.memberId));
    expect(v.federationBitcoinPubkeys).toHaveLength(5);
    expect(v.threshold).toBe(4);
    expect(v.signers).toEqual([0, 1, 2]);
    expect(v.digest).toBe(hex(federationUpdateDigest(u, CHAIN_ID)));
    // the same with plain keys instead of a prepared set, and with every signer
    expect(verifyFederationUpdate(signed(unsigned(), [0, 1, 2, 3]), ctx({ current: CURRENT })).signers).toHaveLength(4);
  });

  it('rejects a forged signature (signed by keys not in the current set)', () => {
    const u = unsigned();
    const forged = signFederationUpdate(
      u,
      CHAIN_ID,
      NEW_SK.slice(0, 3).map((secretKey, index) => ({ index, secretKey })),
      bls,
    );
    expectCheck(() => verifyFederationUpdate({ ...u, updateSignature: forged }, ctx()), 'federation-update.signature');
  });

  it('rejects a signature for another chain id', () => {
    expectCheck(
      () => verifyFederationUpdate(signed(unsigned(), [0, 1, 2], CHAIN_ID + 1), ctx()),
      'federation-update.signature',
    );
  });

  it('rejects fewer than ceil(2n/3) signers', () => {
    expectCheck(() => verifyFederationUpdate(signed(unsigned(), [0, 1]), ctx()), 'federation-update.under-threshold');
  });

  it('rejects a replay (effective height not after the last applied update)', () => {
    const u = signed(unsigned(5, 120));
    expectCheck(() => verifyFederationUpdate(u, ctx({ lastEffectiveHeight: 120 })), 'federation-update.replayed');
    expectCheck(() => verifyFederationUpdate(u, ctx({ lastEffectiveHeight: 500 })), 'federation-update.replayed');
  });

  it('rejects an effective height at or below the verified head', () => {
    expectCheck(() => verifyFederationUpdate(signed(unsigned(5, 100)), ctx()), 'federation-update.height');
    expectCheck(
      () => verifyFederationUpdate(signed(unsigned(5, 120)), ctx({ headHeight: 130 })),
      'federation-update.height',
    );
    const huge = signed({ ...unsigned(), effectiveHeight: 1n << 60n });
    expectCheck(() => verifyFederationUpdate(huge, ctx()), 'federation-update.height');
  });

  it('rejects malformed members', () => {
    const u = unsigned();
    const cases: [FederationUpdateInput, string][] = [
      [{ ...u, members: [] }, 'federation-update.members'],
      [{ ...u, members: Array.from({ length: 16 }, () => u.members[0]!) }, 'federation-update.members'],
      [
        { ...u, members: [u.members[0]!, { ...u.members[1]!, publicKey: u.members[0]!.publicKey }] },
        'federation-update.members',
      ],
      [
        {
          ...u,
          members: [
            u.members[0]!,
            { ...u.members[1]!, memberId: u.members[0]!.memberId.toUpperCase().replace('0X', '0x') },
          ],
        },
        'federation-update.members',
      ],
      [{ ...u, members: [{ ...u.members[0]!, memberId: 'alice' }] }, 'federation-update.members'],
      [{ ...u, members: [{ ...u.members[0]!, active: false }] }, 'federation-update.members'],
      [{ ...u, members: [{ ...u.members[0]!, weight: 2 }] }, 'federation-update.members'],
      [{ ...u, members: [{ ...u.members[0]!, publicKey: new Uint8Array(47) }] }, 'federation-update.member-key'],
      [
        { ...u, members: [{ ...u.members[0]!, publicKey: Uint8Array.of(0xc0, ...new Uint8Array(47)) }] },
        'federation-update.member-key',
      ],
    ];
    for (const [bad, check] of cases) expectCheck(() => verifyFederationUpdate(signed(bad), ctx()), check);
  });

  it('rejects a config that does not fit the members, and bad Bitcoin keys', () => {
    const u = unsigned();
    const c = u.config!;
    const params = { ...c.parameters };
    const firstKey = `bitcoin_pubkey:${u.members[0]!.memberId}`;
    const cases: [FederationUpdateInput, string][] = [
      [{ ...u, config: { ...c, memberCount: 4 } }, 'federation-update.config'],
      [{ ...u, config: { ...c, signatureThreshold: 3 } }, 'federation-update.config'],
      [{ ...u, config: { ...c, signatureThreshold: 6 } }, 'federation-update.config'],
      [{ ...u, config: { ...c, parameters: { ...params, x: 'y'.repeat(300) } } }, 'federation-update.config'],
      [
        { ...u, config: { ...c, parameters: { ...params, [firstKey]: '04'.repeat(33) } } },
        'federation-update.bitcoin-key',
      ],
      [
        { ...u, config: { ...c, parameters: { ...params, [firstKey]: `02${'ff'.repeat(32)}` } } },
        'federation-update.bitcoin-key',
      ],
      [
        { ...u, config: { ...c, parameters: Object.fromEntries(Object.entries(params).slice(1)) } },
        'federation-update.bitcoin-key',
      ],
    ];
    for (const [bad, check] of cases) expectCheck(() => verifyFederationUpdate(signed(bad), ctx()), check);
  });

  it('rejects update types that carry no set, and malformed signature bytes', () => {
    for (const t of [0, 4, 99])
      expectCheck(
        () => verifyFederationUpdate(signed({ ...unsigned(), updateType: t }), ctx()),
        'federation-update.type',
      );
    const u = signed(unsigned());
    const sig = u.updateSignature!;
    expectCheck(
      () => verifyFederationUpdate({ ...u, updateSignature: sig.subarray(0, 97) }, ctx()),
      'federation-update.signature-encoding',
    );
    const noDelimiter = sig.slice();
    noDelimiter[1] = 0;
    expectCheck(
      () => verifyFederationUpdate({ ...u, updateSignature: noDelimiter }, ctx()),
      'federation-update.signature-encoding',
    );
    const beyond = sig.slice();
    beyond[0]! |= 1 << 5; // index 5: only 4 current authorities
    expectCheck(
      () => verifyFederationUpdate({ ...u, updateSignature: beyond }, ctx()),
      'federation-update.signature-encoding',
    );
  });

  it('property: any single bit flip of a signed field or of the signature is rejected', () => {
    const good = signed(unsigned(3));
    const fields = [
      'chainId',
      'type',
      'height',
      'memberId',
      'publicKey',
      'weight',
      'threshold',
      'parameter',
      'signature',
    ] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.nat(), (field, seed) => {
        const { update, chainId } = flip(good, field, seed);
        expect(() => verifyFederationUpdate(update, ctx({ chainId }))).toThrow(VerificationError);
      }),
      { numRuns: 150 },
    );
  });
});

function flipString(s: string, seed: number): string {
  const bytes = new TextEncoder().encode(s);
  bytes[seed % bytes.length]! ^= 1 << ((seed >> 8) % 7);
  return new TextDecoder().decode(bytes);
}

function flip(
  good: FederationUpdateInput,
  field: string,
  seed: number,
): { update: FederationUpdateInput; chainId: number } {
  const u = structuredClone(good);
  const bit = 1 << (seed % 8);
  const m = u.members[seed % u.members.length]!;
  let chainId = CHAIN_ID;
  switch (field) {
    case 'chainId':
      chainId ^= 1 << (seed % 31);
      break;
    case 'type':
      u.updateType ^= 1 << (seed % 3);
      break;
    case 'height':
      u.effectiveHeight = BigInt(u.effectiveHeight) ^ (1n << BigInt(seed % 64));
      break;
    case 'memberId':
      m.memberId = flipString(m.memberId, seed);
      break;
    case 'publicKey':
      m.publicKey[(seed >> 3) % 48]! ^= bit;
      break;
    case 'weight':
      m.weight ^= 1 << (seed % 32);
      m.weight >>>= 0;
      break;
    case 'threshold':
      u.config!.signatureThreshold ^= 1 << (seed % 32);
      u.config!.signatureThreshold >>>= 0;
      break;
    case 'parameter': {
      const keys = Object.keys(u.config!.parameters);
      const key = keys[seed % keys.length]!;
      u.config!.parameters = { ...u.config!.parameters, [key]: flipString(u.config!.parameters[key]!, seed) };
      break;
    }
    case 'signature':
      u.updateSignature![(seed >> 3) % 98]! ^= bit;
      break;
  }
  return { update: u, chainId };
}
