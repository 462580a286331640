/**
 * The authority schedule (src/protocol/authority-schedule.ts): the spec's set from height 0, then
 * changes with strictly increasing heights; `at(h)` is the set of the last change at or below h,
 * prepared once per set; bad changes are refused with a typed error and change nothing. Then the
 * verifiers that take it: a candidate pool checks each candidate against the set at its height.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from '@noble/hashes/utils.js';
import { authorityIndexBound, prepareAuthorities, requiredApprovals } from '../../src/protocol/approvals.js';
import { aggregateApprovals, signApproval } from '../../src/protocol/approvals-sign.js';
import {
  AuthoritySchedule,
  AuthorityScheduleError,
  type AuthoritySetChange,
} from '../../src/protocol/authority-schedule.js';
import { signingRoot } from '../../src/protocol/block.js';
import { createCandidatePool } from '../../src/protocol/candidates.js';
import type { ConsensusBlock, Hex } from '../../src/protocol/types.js';
import { loadNodeBackends, secretKey } from './bls/helpers.js';
import { defaultBlock } from './codec/model.js';

const backends = await loadNodeBackends();
const backend = backends.find((b) => b.name === 'blst') ?? backends.find((b) => b.name === 'wasm')!;
const noble = backends.find((b) => b.name === 'noble')!;
const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;
const SECRET = Array.from({ length: 8 }, (_, i) => secretKey(BigInt(9100 + i)));
const KEYS = SECRET.map((sk) => hex(backend.secretToPublicKey(sk)));
const BTC = (i: number) => `02${i.toString(16).padStart(2, '0').repeat(32)}`;
const SPEC = {
  authorities: KEYS.slice(0, 3),
  federation: ['0x00000000000000000000000000000000000000aa' as Hex],
  federationBitcoinPubkeys: [BTC(1)],
};
const gov = (n: number) => ({ kind: 'governance' as const, digest: `0x${n.toString(16).padStart(64, '0')}` as Hex });
const change = (effectiveHeight: number, keys: number[], extra: Partial<AuthoritySetChange> = {}) => ({
  effectiveHeight,
  authorities: keys.map((i) => KEYS[i]!),
  source: gov(effectiveHeight),
  ...extra,
});

function refused(f: () => unknown, code: string): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(AuthorityScheduleError);
  expect((err as AuthorityScheduleError).code).toBe(code);
}

describe('AuthoritySchedule', () => {
  it('answers the spec set below the first change and the changed set from its height on', () => {
    const s = AuthoritySchedule.create(SPEC, backend, [change(10, [3, 4, 5, 6])]);
    expect(s.at(0).count).toBe(3);
    expect(s.at(9).keys).toEqual(prepareAuthorities(SPEC.authorities, backend).keys.map(() => expect.anything()));
    expect(s.at(9).count).toBe(3);
    expect(s.at(10).count).toBe(4);
    expect(s.at(1e15).count).toBe(4);
    // prepared once per set
    expect(s.at(10)).toBe(s.at(11));
    expect(s.at(0)).toBe(s.at(9));
    expect(s.setAt(9)).toMatchObject({ from: 0, until: 10, source: { kind: 'spec' }, authorities: SPEC.authorities });
    expect(s.setAt(10)).toMatchObject({ from: 10, until: null, source: gov(10), authorities: KEYS.slice(3, 7) });
  });

  it('inherits the federation addresses and Bitcoin keys from the last change that set them', () => {
    const fed = ['0x00000000000000000000000000000000000000bb' as Hex];
    const s = AuthoritySchedule.create(SPEC, backend, [
      change(5, [0, 1]),
      change(8, [2], { federationBitcoinPubkeys: [BTC(2), BTC(3)] }),
      change(12, [3], { federation: fed }),
    ]);
    expect(s.setAt(6)).toMatchObject({ federation: SPEC.federation, federationSource: { kind: 'spec' } });
    expect(s.setAt(9)).toMatchObject({ federationBitcoinPubkeys: [BTC(2), BTC(3)], bitcoinSource: gov(8) });
    expect(s.setAt(12)).toMatchObject({ federation: fed, federationSource: gov(12), bitcoinSource: gov(8) });
  });

  it('refuses a change at or below the last one, and a malformed one, and changes nothing', () => {
    const s = AuthoritySchedule.create(SPEC, backend, [change(10, [3])]);
    refused(() => s.add(change(10, [4])), 'authority-schedule.height');
    refused(() => s.add(change(7, [4])), 'authority-schedule.height');
    refused(() => s.add({ ...change(20, [4]), authorities: ['0x1234'] }), 'authority-schedule.change');
    // 48 bytes, but not a point on the curve
    refused(() => s.add({ ...change(20, [4]), authorities: [`0x${'ab'.repeat(48)}`] }), 'authority-schedule.change');
    refused(() => s.add({ ...change(20, []) }), 'authority-schedule.change');
    refused(() => s.add(change(20, [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7])), 'authority-schedule.change');
    refused(() => s.add({ ...change(20, [4]), federation: ['0xabc'] }), 'authority-schedule.change');
    refused(() => s.add({ ...change(20, [4]), federationBitcoinPubkeys: ['04ab'] }), 'authority-schedule.change');
    refused(
      () => s.add({ ...change(20, [4]), source: { kind: 'governance', digest: '0x12' } }),
      'authority-schedule.change',
    );
    refused(() => s.add({ ...change(20, [4]), effectiveHeight: 20.5 }), 'authority-schedule.change');
    refused(() => s.add(null), 'authority-schedule.change');
    refused(() => s.at(-1), 'authority-schedule.height');
    expect(s.changes()).toEqual([change(10, [3])]);
    expect(s.at(30).count).toBe(1);
  });

  it('shares one change list between backend views', () => {
    const a = AuthoritySchedule.create(SPEC, backend);
    const b = a.withBackend(noble);
    a.add(change(4, [5, 6]));
    expect(b.at(4).backend).toBe('noble');
    expect(b.at(4).count).toBe(2);
    expect(b.changes()).toEqual(a.changes());
  });

  it('bounds early approval indices by every set at or above a height', () => {
    const s = AuthoritySchedule.create(SPEC, backend, [change(10, [0, 1, 2, 3, 4]), change(20, [5])]);
    expect(authorityIndexBound(s, 0)).toBe(5);
    expect(authorityIndexBound(s, 20)).toBe(1);
    expect(authorityIndexBound(prepareAuthorities(SPEC.authorities, backend), 0)).toBe(3);
  });
});

/** Increasing heights and key subsets for a schedule. */
const changesArb = fc
  .array(
    fc.record({
      gap: fc.integer({ min: 1, max: 50 }),
      keys: fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 8 }),
    }),
    { maxLength: 6 },
  )
  .map((list) => {
    let h = 0;
    return list.map(({ gap, keys }) => change((h += gap), keys));
  });

describe('AuthoritySchedule properties', () => {
  it('at(h) is the set of the last change with effectiveHeight <= h (the spec set when none)', () => {
    fc.assert(
      fc.property(changesArb, fc.integer({ min: 0, max: 400 }), (changes, h) => {
        const s = AuthoritySchedule.create(SPEC, backend, changes);
        const last = changes.filter((c) => c.effectiveHeight <= h).at(-1);
        expect(s.setAt(h).authorities).toEqual(last ? last.authorities : SPEC.authorities);
        expect(s.at(h).count).toBe((last ?? SPEC).authorities.length);
      }),
      { numRuns: 60 },
    );
  });

  it('adding a change never changes the set below its height', () => {
    fc.assert(
      fc.property(changesArb, fc.integer({ min: 1, max: 50 }), (changes, gap) => {
        const s = AuthoritySchedule.create(SPEC, backend, changes);
        const next = change((changes.at(-1)?.effectiveHeight ?? 0) + gap, [7]);
        const before = Array.from({ length: next.effectiveHeight }, (_, h) => s.at(h));
        s.add(next);
        for (let h = 0; h < next.effectiveHeight; h++) expect(s.at(h)).toBe(before[h]);
        expect(s.at(next.effectiveHeight).count).toBe(1);
      }),
      { numRuns: 60 },
    );
  });
});

describe('a candidate pool on a schedule', () => {
  function blockAt(height: number): ConsensusBlock {
    const b = defaultBlock();
    return { ...b, executionPayload: { ...b.executionPayload, blockNumber: BigInt(height) } };
  }
  /** Block at `height` proposed by `members[0]` of the set there, approved by the rest (by set index). */
  function offerAll(pool: ReturnType<typeof createCandidatePool>, height: number, members: number[], head: number) {
    const message = blockAt(height);
    const root = signingRoot(message);
    const own = signApproval(SECRET[members[0]!]!, root, 0, backend);
    const first = pool.offerBlock({ message, signature: aggregateApprovals([own], { backend }) }, head);
    const rest = members
      .slice(1)
      .map((m, i) =>
        pool.offerApproval({ blockHash: hex(root), signature: signApproval(SECRET[m]!, root, i + 1, backend) }, head),
      );
    return [first, ...rest];
  }

  it('checks each candidate against the set at its height (its signatures and its majority)', () => {
    const schedule = AuthoritySchedule.create(SPEC, backend, [change(10, [3, 4, 5, 6, 7])]);
    const pool = createCandidatePool({ authorities: schedule, backend });
    // block 9: the spec set (3 members, 2 needed)
    const old = offerAll(pool, 9, [0, 1, 2], 8);
    expect(old.map((o) => o.verdict)).toEqual(['accept', 'accept', 'accept']);
    expect(old.findIndex((o) => o.complete)).toBe(1);
    // block 10: the new set (5 members, 4 needed)
    const next = offerAll(pool, 10, [3, 4, 5, 6, 7], 9);
    expect(next.map((o) => o.verdict)).toEqual(['accept', 'accept', 'accept', 'accept', 'accept']);
    expect(next.findIndex((o) => o.complete)).toBe(requiredApprovals(5) - 1);
    // block 11 signed by the old set: refused
    const stale = offerAll(pool, 11, [0, 1, 2], 10);
    expect(stale[0]!.verdict).toBe('reject');
    expect(stale[0]!.reason).toMatch(/does not verify/);
  });
});
