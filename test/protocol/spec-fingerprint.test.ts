/**
 * The chain spec fingerprint (src/protocol/spec-fingerprint.ts): deterministic, changed by every
 * field that decides validity (so the devnet and the shipped `dev` spec, which share chain id
 * 121212, differ), unchanged by the fields no block check reads, and sensitive to authority order.
 */
import { describe, expect, it } from 'vitest';
import { deriveFederation, devnetChainSpec } from '../../src/devnet/consensus/keys.js';
import { DEV_CHAIN_SPEC, getChainSpec, TESTNET_CHAIN_SPEC } from '../../src/protocol/chainspec.js';
import { shortSpecFingerprint, specFingerprint } from '../../src/protocol/spec-fingerprint.js';
import type { ChainSpec } from '../../src/protocol/types.js';

const base = (): ChainSpec => structuredClone(TESTNET_CHAIN_SPEC) as ChainSpec;
const fp = specFingerprint;

describe('specFingerprint', () => {
  it('is a 32-byte hash, the same for equal specs (a copy, upper-case hex keys)', () => {
    const a = fp(base());
    expect(a).toMatch(/^0x[0-9a-f]{64}$/);
    const upper = base();
    upper.authorities = upper.authorities.map((k) => `0x${k.slice(2).toUpperCase()}` as const);
    expect(fp(upper)).toBe(a);
    expect(shortSpecFingerprint(a)).toBe(a.slice(2, 10));
  });

  it('the devnet spec and the shipped dev spec share chain id 121212 but not a fingerprint', () => {
    const devnet = devnetChainSpec(deriveFederation({ seed: 'x', authorities: 1 }));
    expect(devnet.chainId).toBe(DEV_CHAIN_SPEC.chainId);
    expect(fp(devnet)).not.toBe(fp(DEV_CHAIN_SPEC));
    expect(fp(getChainSpec('dev'))).not.toBe(fp(TESTNET_CHAIN_SPEC));
  });

  const changes: Array<[string, (s: ChainSpec) => void]> = [
    ['chainId', (s) => (s.chainId += 1)],
    ['an authority', (s) => (s.authorities = [DEV_CHAIN_SPEC.authorities[0]!, ...s.authorities.slice(1)])],
    ['the authority order', (s) => s.authorities.reverse()],
    ['one authority fewer', (s) => s.authorities.pop()],
    ['bits', (s) => (s.bits += 1)],
    ['slotDuration', (s) => (s.slotDuration += 1)],
    ['maxBlocksWithoutPow', (s) => (s.maxBlocksWithoutPow += 1)],
    ['powNoRetargeting', (s) => (s.retargetParams.powNoRetargeting = !s.retargetParams.powNoRetargeting)],
    ['powTargetTimespan', (s) => (s.retargetParams.powTargetTimespan += 1)],
    ['powTargetSpacing', (s) => (s.retargetParams.powTargetSpacing += 1)],
    ['maxPowAdjustment', (s) => (s.retargetParams.maxPowAdjustment += 1)],
    ['executionGenesisHash set', (s) => (s.executionGenesisHash = `0x${'11'.repeat(32)}`)],
  ];
  it.each(changes)('changes with %s', (_, change) => {
    const s = base();
    change(s);
    expect(fp(s)).not.toBe(fp(base()));
  });

  const kept: Array<[string, (s: ChainSpec) => void]> = [
    [
      'powLimit / powLowerLimit (never used)',
      (s) => ((s.retargetParams.powLimit = 1), (s.retargetParams.powLowerLimit = 2)),
    ],
    ['federation (fee recipients)', (s) => s.federation.reverse()],
    ['federationBitcoinPubkeys', (s) => s.federationBitcoinPubkeys.pop()],
    ['bitcoinStartHeight', (s) => (s.bitcoinStartHeight += 1)],
    ['requiredBtcTxnConfirmations', (s) => (s.requiredBtcTxnConfirmations += 1)],
    ['isValidator', (s) => (s.isValidator = !s.isValidator)],
    ['executionTimeoutLength', (s) => (s.executionTimeoutLength += 1)],
  ];
  it.each(kept)('does not change with %s', (_, change) => {
    const s = base();
    change(s);
    expect(fp(s)).toBe(fp(base()));
  });
});
