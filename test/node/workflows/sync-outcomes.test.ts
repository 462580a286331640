/**
 * The SyncActor's decisions (src/node/workflows/sync-outcomes.ts): whether gossip covers a range,
 * which source serves it, the fault a bad block costs its source, and the step after an import.
 */
import { describe, expect, it } from 'vitest';
import type { ImportItem } from '../../../src/node/workflows/block-import.js';
import {
  faultOfBadBlock,
  GOSSIP_SOURCE,
  gossipedRange,
  importStep,
  judgeRange,
  pickSource,
} from '../../../src/node/workflows/sync-outcomes.js';
import type { Request } from '../../../src/node/workflows/sync-plan.js';
import type { VerifyResult } from '../../../src/node/verify/verify-response.js';

const req = (start: number, count: number, avoid: string[] = []): Request => ({ start, count, attempt: 1, avoid });
const good = (source: string): VerifyResult => ({ ok: true, source, summary: {} as never, block: new Uint8Array() });
const item = (source: string): ImportItem => ({ summary: {} as never, block: new Uint8Array(), source });

describe('gossipedRange', () => {
  const gossiped = new Map([10, 11, 12].map((h) => [h, new Uint8Array([h])]));
  it('hands back the blocks when gossip brought the whole range, in height order', () => {
    expect(gossipedRange(req(10, 3), gossiped)).toEqual([10, 11, 12].map((h) => ({ msgpack: new Uint8Array([h]) })));
  });
  it('is undefined when a height is missing, or the range already failed with gossiped blocks', () => {
    expect(gossipedRange(req(11, 3), gossiped)).toBeUndefined();
    expect(gossipedRange(req(10, 3, [GOSSIP_SOURCE]), gossiped)).toBeUndefined();
  });
});

describe('pickSource', () => {
  const claimed = new Map([
    ['a', 100],
    ['b', 5],
    ['c', 100],
  ]);
  it('takes turns among the usable sources that claim the range and did not fail it', () => {
    const usable = ['a', 'b', 'c'];
    expect([0, 1, 2, 3].map((turn) => pickSource(req(10, 5), usable, claimed, turn))).toEqual(['a', 'c', 'a', 'c']);
    expect(pickSource(req(10, 5, ['a']), usable, claimed, 0)).toBe('c');
  });
  it('falls back to any usable source when none qualifies', () => {
    expect(pickSource(req(200, 5), ['b', 'c'], claimed, 1)).toBe('c');
  });
});

describe('faultOfBadBlock', () => {
  it('charges a missing block as withheld and names the check', () => {
    expect(faultOfBadBlock({ ok: false, source: 'a', kind: 'missing', message: 'null' }, 'block 7')).toEqual({
      kind: 'withheld',
      reason: 'block 7: null',
    });
    expect(
      faultOfBadBlock({ ok: false, source: 'a', kind: 'invalid', check: 'parent', message: 'no' }, 'block 7'),
    ).toEqual({ kind: 'invalid', reason: 'block 7: parent: no' });
  });
});

describe('judgeRange', () => {
  const claimed = new Map([['a', 11]]);
  it('passes a range whose blocks all verified', () => {
    expect(judgeRange(10, 'a', [good('a'), good('a')], claimed)).toEqual({ ok: true, blocks: [good('a'), good('a')] });
  });
  it('blames the source for the first bad block', () => {
    const bad: VerifyResult = { ok: false, source: 'a', kind: 'invalid', check: 'sig', message: 'bad' };
    expect(judgeRange(10, 'a', [good('a'), bad, bad], claimed)).toEqual({
      ok: false,
      height: 11,
      fault: { kind: 'invalid', reason: 'block 11: sig: bad' },
    });
  });
  it('blames nobody for gossip, nor for a block missing above the head the source claimed', () => {
    const missing: VerifyResult = { ok: false, source: 'a', kind: 'missing', message: 'null' };
    expect(judgeRange(12, 'a', [missing], claimed)).toEqual({ ok: false, height: 12 });
    expect(judgeRange(11, 'a', [missing], claimed)).toMatchObject({ fault: { kind: 'withheld' } });
    expect(judgeRange(11, GOSSIP_SOURCE, [good(GOSSIP_SOURCE), missing], claimed)).toEqual({ ok: false, height: 12 });
  });
});

describe('importStep', () => {
  const items = [item('a'), item(GOSSIP_SOURCE), item('b'), item('a')];
  const failure = { index: 2, source: 'b', check: 'link', message: 'no' };
  it('credits every source but gossip once for a whole batch', () => {
    expect(importStep(10, items, {})).toEqual({ kind: 'done', imported: 4, sources: ['a', 'b'] });
  });
  it('retries from the start, blaming nobody, when the ChainActor did not answer', () => {
    expect(importStep(10, items, undefined)).toEqual({ kind: 'rewind', imported: 0, at: 10 });
  });
  it('follows the chain where it is', () => {
    expect(importStep(10, items, { failure: { ...failure, resumeAt: 3 } })).toEqual({
      kind: 'rewind',
      imported: 0,
      at: 3,
    });
  });
  it('blames the source of a dropped pending block and rewinds to it', () => {
    expect(importStep(10, items, { failure: { ...failure, rewindTo: 8 } })).toEqual({
      kind: 'rewind',
      imported: 0,
      at: 8,
      blame: { source: 'b', fault: { kind: 'invalid', reason: 'block 8: link: no' } },
    });
  });
  it('resolves an orphan before blaming anyone', () => {
    const orphan = { number: 12, parentHash: '0xab' as const };
    expect(importStep(10, items, { failure: { ...failure, orphan } })).toEqual({
      kind: 'orphan',
      imported: 2,
      orphan: { height: 12, source: 'b', want: '0xab', ancestors: [] },
    });
  });
  it('keeps the blocks before a bad one and blames its source', () => {
    expect(importStep(10, items, { failure })).toEqual({
      kind: 'rewind',
      imported: 2,
      at: 12,
      blame: { source: 'b', fault: { kind: 'invalid', reason: 'block 12: link: no' } },
    });
  });
});
