/**
 * Authority keys prepared by the caller (the edge Worker keeps them once per isolate): `verifyJson`
 * (kind block) and `verifyBundle` take them instead of preparing the spec's own per input, and they are
 * what the approvals are checked against: keys of another chain make the same valid input invalid.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  nobleBackend,
  parseChainSpecJson,
  prepareAuthorities,
  VerificationError,
  verifyBundle,
  type ChainSpec,
  type PreparedAuthorities,
} from '../../src/protocol/index.js';
import { verifyJson } from '../../src/protocol/verify-json.js';
import { buildBundleCases } from '../helpers/bundles.js';

let spec: ChainSpec;
let balance: string;
let own: PreparedAuthorities;
let other: PreparedAuthorities;

beforeAll(async () => {
  const cases = await buildBundleCases();
  spec = parseChainSpecJson(JSON.stringify(cases.specJson));
  balance = cases.valid[0]!.text;
  own = prepareAuthorities(spec.authorities, nobleBackend);
  other = prepareAuthorities(parseChainSpecJson(JSON.stringify(cases.otherSpecJson)).authorities, nobleBackend);
}, 60_000);

const blockCtx = (authorities?: PreparedAuthorities) => ({
  spec,
  chainGiven: true,
  bls: async () => nobleBackend,
  ...(authorities ? { authorities: async () => authorities } : {}),
});

describe('verifyJson block with prepared authorities', () => {
  it('the spec own keys prepared once: valid, the same line as without them', async () => {
    const block = JSON.parse(balance).block;
    const withKeys = await verifyJson('block', block, blockCtx(own));
    expect(withKeys.outcome).toBe('valid');
    expect(withKeys).toEqual(await verifyJson('block', block, blockCtx()));
  });

  it('keys of another chain: the approvals do not verify', async () => {
    const { outcome, line } = await verifyJson('block', JSON.parse(balance).block, blockCtx(other));
    expect(outcome).toBe('invalid');
    expect(line.check).toMatch(/^approvals\./);
  });
});

describe('verifyBundle with prepared authorities', () => {
  it('the spec own keys prepared once: the same facts as without them', () => {
    const facts = verifyBundle(balance, { spec, backend: nobleBackend, authorities: own });
    expect(facts).toEqual(verifyBundle(balance, { spec, backend: nobleBackend }));
  });

  it('keys of another chain: the approvals do not verify', () => {
    let error: unknown;
    try {
      verifyBundle(balance, { spec, backend: nobleBackend, authorities: other });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).check).toMatch(/^approvals\./);
  });
});
