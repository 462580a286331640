/**
 * The ChainActor's payload cache (src/node/workflows/payload-cache.ts): bounded, by number and by
 * execution block hash, emptied above a rollback; and which block a read reference means.
 */
import { describe, expect, it } from 'vitest';
import { PayloadCache, payloadNumber } from '../../../src/node/workflows/payload-cache.js';
import type { Hex } from '../../../src/protocol/bytes.js';
import type { ExecutionPayloadCapella } from '../../../src/protocol/types.js';

const payload = (n: number) =>
  ({ blockHash: `0x${n.toString(16).padStart(4, '0')}` as Hex }) as ExecutionPayloadCapella;

describe('PayloadCache', () => {
  it('keeps the most recent `limit` payloads, findable by number and by hash', () => {
    const cache = new PayloadCache(3);
    for (let n = 1; n <= 5; n++) cache.remember(n, payload(n));
    expect([1, 2, 3, 4, 5].map((n) => cache.get(n) !== undefined)).toEqual([false, false, true, true, true]);
    expect(cache.numberOf(payload(4).blockHash)).toBe(4);
    expect(cache.numberOf(payload(1).blockHash)).toBeUndefined();
  });
  it('forgets everything from a rolled-back height up', () => {
    const cache = new PayloadCache(10);
    for (let n = 1; n <= 5; n++) cache.remember(n, payload(n));
    cache.dropFrom(4);
    expect(cache.get(3)).toBeDefined();
    expect(cache.get(4)).toBeUndefined();
    expect(cache.numberOf(payload(5).blockHash)).toBeUndefined();
  });
});

describe('payloadNumber', () => {
  const cache = new PayloadCache(10);
  cache.remember(7, { blockHash: '0xabcd' as Hex } as ExecutionPayloadCapella);
  it('resolves tags against the authenticated head and the finalized height', () => {
    expect(payloadNumber('latest', 9, 4, cache)).toBe(9);
    expect(payloadNumber('safe', 9, 4, cache)).toBe(4);
    expect(payloadNumber('finalized', 3, 4, cache)).toBe(3);
    expect(payloadNumber('earliest', 9, 4, cache)).toBe(0);
  });
  it('refuses numbers above the head; finds cached hashes in any case', () => {
    expect(payloadNumber(9n, 9, 4, cache)).toBe(9);
    expect(payloadNumber(10n, 9, 4, cache)).toBeUndefined();
    expect(payloadNumber('0xABCD' as Hex, 9, 4, cache)).toBe(7);
    expect(payloadNumber('0x1234' as Hex, 9, 4, cache)).toBeUndefined();
  });
});
