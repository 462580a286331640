/**
 * Source scores (src/node/workflows/scores.ts): every source starts at 100; a fault costs its
 * penalty, a success earns 1 back (at most 100); at 0 a source is banned for `banMs` and, once the
 * ban ran out, `usable()` brings it back on probation. The property checks the class against an
 * independent model of those rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PENALTY, Scores, type SourceFault } from '../../../src/node/workflows/scores.js';

const FAULTS: readonly SourceFault[] = ['invalid', 'unusable', 'withheld', 'stale', 'timeout', 'network', 'busy'];
const MAX = 100;
const PROBATION = 30;
const BAN = 60_000;

describe('Scores', () => {
  it('starts every source at full score, usable, best first then by id', () => {
    const s = new Scores(['b', 'a', 'c']);
    expect(s.all()).toEqual(
      ['b', 'a', 'c'].map((id) => ({ id, score: MAX, bannedUntil: 0, faults: 0, faultsByKind: {}, successes: 0 })),
    );
    expect(s.usable(0).map((x) => x.id)).toEqual(['a', 'b', 'c']);
    s.fault('a', 'timeout', 0);
    s.success('c'); // already at the maximum
    expect(s.usable(0).map((x) => [x.id, x.score])).toEqual([
      ['b', 100],
      ['c', 100],
      ['a', 90],
    ]);
  });

  it('charges each fault its penalty: bad data costs the most, timeouts the least', () => {
    expect(PENALTY.invalid).toBeGreaterThan(PENALTY.unusable);
    expect(PENALTY.unusable).toBeGreaterThan(PENALTY.withheld);
    expect(PENALTY.stale).toBeLessThan(PENALTY.invalid); // signed blocks a PoW fork replaced
    expect(PENALTY.timeout).toBeLessThanOrEqual(PENALTY.stale);
    for (const kind of FAULTS) {
      const s = new Scores(['x']);
      expect(s.fault('x', kind, 0)).toEqual({
        id: 'x',
        score: MAX - PENALTY[kind],
        bannedUntil: 0,
        faults: 1,
        faultsByKind: { [kind]: 1 },
        successes: 0,
      });
    }
  });

  it('bans a source at 0 until banMs later, then brings it back on probation', () => {
    const s = new Scores(['x', 'y'], BAN);
    s.fault('x', 'invalid', 1_000); // 40
    const banned = s.fault('x', 'invalid', 2_000); // 0
    expect(banned).toEqual({
      id: 'x',
      score: 0,
      bannedUntil: 2_000 + BAN,
      faults: 2,
      faultsByKind: { invalid: 2 },
      successes: 0,
    });
    expect(s.usable(2_000).map((x) => x.id)).toEqual(['y']);
    expect(s.usable(2_000 + BAN - 1).map((x) => x.id)).toEqual(['y']);
    // successes while banned do not lift the ban
    s.success('x');
    expect(s.usable(2_000 + BAN - 1).map((x) => x.id)).toEqual(['y']);
    const back = s.usable(2_000 + BAN);
    expect(back.map((x) => [x.id, x.score, x.bannedUntil])).toEqual([
      ['y', MAX, 0],
      ['x', PROBATION, 0],
    ]);
    // on probation, one more bad answer bans it again
    expect(s.fault('x', 'unusable', 3_000 + BAN)).toMatchObject({ score: 0, bannedUntil: 3_000 + 2 * BAN });
  });

  it('successes earn the score back one at a time, up to the maximum', () => {
    const s = new Scores(['x']);
    s.fault('x', 'unusable', 0);
    for (let i = 1; i <= 40; i++) {
      s.success('x');
      expect(s.all()[0]!.score).toBe(Math.min(MAX, MAX - PENALTY.unusable + i));
    }
    expect(s.all()[0]).toMatchObject({ faults: 1, successes: 40 });
  });

  it('ignores unknown sources; setSources keeps the listed scores, adds new ones, forgets the rest', () => {
    const s = new Scores(['a', 'b']);
    expect(s.fault('nope', 'invalid', 0)).toBeUndefined();
    s.success('nope');
    s.fault('a', 'invalid', 0);
    s.fault('b', 'timeout', 0);
    s.setSources(['b', 'c']);
    expect(s.all()).toEqual([
      { id: 'b', score: 90, bannedUntil: 0, faults: 1, faultsByKind: { timeout: 1 }, successes: 0 },
      { id: 'c', score: MAX, bannedUntil: 0, faults: 0, faultsByKind: {}, successes: 0 },
    ]);
    // a source removed and added again starts afresh
    s.setSources(['a', 'b', 'c']);
    expect(s.all().find((x) => x.id === 'a')).toEqual({
      id: 'a',
      score: MAX,
      bannedUntil: 0,
      faults: 0,
      faultsByKind: {},
      successes: 0,
    });
  });

  it('hands out copies: changing them does not change the scores', () => {
    const s = new Scores(['x']);
    s.all()[0]!.score = 0;
    s.usable(0)[0]!.bannedUntil = 1e12;
    const f = s.fault('x', 'timeout', 0)!;
    f.score = 0;
    f.faultsByKind.invalid = 5;
    expect(s.all()[0]).toEqual({
      id: 'x',
      score: 90,
      bannedUntil: 0,
      faults: 1,
      faultsByKind: { timeout: 1 },
      successes: 0,
    });
  });

  it('a busy source (RateLimited, HTTP 429) is counted but not charged, however often', () => {
    expect(PENALTY.busy).toBe(0);
    const s = new Scores(['x']);
    for (let i = 0; i < 1_000; i++) s.fault('x', 'busy', i);
    expect(s.all()[0]).toMatchObject({ score: MAX, bannedUntil: 0, faults: 1_000, faultsByKind: { busy: 1_000 } });
  });

  it('property: scores stay in [0, 100] and follow the rules (model), bans expire, usable = not banned', () => {
    type Op =
      | { kind: 'fault'; id: number; fault: SourceFault; dt: number }
      | { kind: 'success'; id: number; dt: number }
      | { kind: 'usable'; dt: number };
    const ids = ['s0', 's1', 's2'];
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('fault' as const),
        id: fc.nat(2),
        fault: fc.constantFrom(...FAULTS),
        dt: fc.nat(2_000),
      }),
      fc.record({ kind: fc.constant('success' as const), id: fc.nat(2), dt: fc.nat(2_000) }),
      fc.record({ kind: fc.constant('usable' as const), dt: fc.integer({ min: 0, max: 3 * BAN }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 * BAN }), fc.array(op, { maxLength: 200 }), (banMs, ops) => {
        const s = new Scores(ids, banMs);
        // the model: score, ban end, counters
        const m = new Map(
          ids.map((id) => [
            id,
            {
              score: MAX,
              bannedUntil: 0,
              faults: 0,
              faultsByKind: {} as Partial<Record<SourceFault, number>>,
              successes: 0,
            },
          ]),
        );
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          if (o.kind === 'usable') {
            const usable = s.usable(now);
            for (const x of m.values())
              if (x.bannedUntil !== 0 && x.bannedUntil <= now) {
                x.bannedUntil = 0;
                x.score = PROBATION;
              }
            const expected = ids.filter((id) => m.get(id)!.bannedUntil <= now);
            expect(usable.map((x) => x.id).sort()).toEqual(expected);
            for (let i = 1; i < usable.length; i++)
              expect(usable[i - 1]!.score).toBeGreaterThanOrEqual(usable[i]!.score);
          } else if (o.kind === 'fault') {
            const x = m.get(ids[o.id]!)!;
            if (x.bannedUntil !== 0 && x.bannedUntil <= now) {
              // a ban that ran out: the fault counts from probation, noticed by usable() or not
              x.bannedUntil = 0;
              x.score = PROBATION;
            }
            const before = x.score;
            x.faults++;
            x.faultsByKind[o.fault] = (x.faultsByKind[o.fault] ?? 0) + 1;
            x.score = Math.max(0, x.score - PENALTY[o.fault]);
            // a free fault (busy) never starts or extends a ban
            if (x.score === 0 && PENALTY[o.fault] > 0) x.bannedUntil = now + banMs;
            const got = s.fault(ids[o.id]!, o.fault, now)!;
            expect(got).toEqual({ id: ids[o.id], ...x });
            expect(got.score).toBeLessThanOrEqual(before);
          } else {
            const x = m.get(ids[o.id]!)!;
            x.successes++;
            x.score = Math.min(MAX, x.score + 1);
            s.success(ids[o.id]!);
          }
          for (const got of s.all()) {
            expect(got.score).toBeGreaterThanOrEqual(0);
            expect(got.score).toBeLessThanOrEqual(MAX);
            expect(got).toEqual({ id: got.id, ...m.get(got.id)! });
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  // Regression (fixed; src/node/workflows/scores.ts, fault/success): an expired ban is only lifted inside usable().
  // A fault that arrives after the ban ran out but before the next usable() call still sees the
  // score 0 and bans the source for another full banMs (a 10-point timeout on probation would leave
  // it at 20); all() keeps reporting it at 0 in the meantime. The outcome depends on whether someone
  // polled usable() in between.
  it('a fault after a ban ran out counts from probation, whether or not usable() was called in between', () => {
    const polled = new Scores(['x'], BAN);
    const unpolled = new Scores(['x'], BAN);
    for (const s of [polled, unpolled]) {
      s.fault('x', 'invalid', 0);
      s.fault('x', 'invalid', 0); // banned until BAN
    }
    polled.usable(BAN + 1);
    const a = polled.fault('x', 'timeout', BAN + 2)!;
    const b = unpolled.fault('x', 'timeout', BAN + 2)!;
    expect(a).toMatchObject({ score: PROBATION - PENALTY.timeout, bannedUntil: 0 });
    expect(b).toEqual(a);
  });
});
