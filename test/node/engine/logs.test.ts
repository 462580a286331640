/**
 * Local log filtering: geth's matching rules against a naive reference on random logs and filters, and
 * the bloom pre-filter never skips a block that holds a match (no false negatives).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { logsBloom, toHex, type Log } from '../../../src/protocol/index.js';
import { bloomMayMatch, compileLogFilter, logMatches } from '../../../src/node/engine/logs.js';
import type { Hex, LogFilter } from '../../../src/node/engine/index.js';

// Small pools so that matches happen often.
const addresses = [1, 2, 3].map((i) => toHex(new Uint8Array(20).fill(i)));
const topics = [1, 2, 3, 4].map((i) => toHex(new Uint8Array(32).fill(i)));
const bytes = (h: Hex) =>
  Uint8Array.from(
    h
      .slice(2)
      .match(/../g)!
      .map((b) => parseInt(b, 16)),
  );

const log: fc.Arbitrary<Log> = fc.record({
  address: fc.constantFrom(...addresses).map(bytes),
  topics: fc.array(fc.constantFrom(...topics).map(bytes), { maxLength: 4 }),
  data: fc.uint8Array({ maxLength: 8 }),
});

const position = fc.oneof(
  fc.constant(null),
  fc.constantFrom(...topics),
  fc.array(fc.constantFrom(...topics), { maxLength: 3 }),
);
const filter: fc.Arbitrary<LogFilter> = fc.record(
  {
    address: fc.oneof(fc.constantFrom(...addresses), fc.array(fc.constantFrom(...addresses), { maxLength: 3 })),
    topics: fc.array(position, { maxLength: 4 }),
  },
  { requiredKeys: [] },
);

/** geth's rule, written out plainly. */
function reference(l: Log, f: LogFilter): boolean {
  const addrs = f.address === undefined ? [] : typeof f.address === 'string' ? [f.address] : [...f.address];
  if (addrs.length > 0 && !addrs.includes(toHex(l.address))) return false;
  const t = f.topics ?? [];
  if (t.length > l.topics.length) return false;
  return t.every((p, i) => {
    if (p === null) return true;
    const options = typeof p === 'string' ? [p] : [...p];
    return options.length === 0 || options.includes(toHex(l.topics[i]!));
  });
}

describe('log filters', () => {
  it('match exactly as geth (reference) on random logs and filters', () => {
    fc.assert(
      fc.property(log, filter, (l, f) => {
        expect(logMatches(l, compileLogFilter(f))).toBe(reference(l, f));
      }),
      { numRuns: 3000 },
    );
  });

  it('the bloom pre-filter never skips a block holding a matching log', () => {
    fc.assert(
      fc.property(fc.array(log, { maxLength: 6 }), filter, (logs, f) => {
        const c = compileLogFilter(f);
        if (logs.some((l) => logMatches(l, c))) expect(bloomMayMatch(logsBloom(logs), c)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses malformed filters without touching them', () => {
    const f = Object.freeze({ address: Object.freeze(['0x12']) as readonly Hex[] });
    expect(() => compileLogFilter(f)).toThrow(/filter\.address\[0\]: expected 20 bytes/);
    expect(() => compileLogFilter({ topics: [null, null, null, null, null] })).toThrow(/at most 4/);
    expect(() => compileLogFilter({ topics: ['0x1234'] })).toThrow(/filter\.topics\[0\]/);
  });
});
