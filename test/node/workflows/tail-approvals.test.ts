/**
 * Settling the pending tail (src/node/workflows/tail-approvals.ts): when the ChainActor checks it,
 * and how the verifier pool's answers are applied (drop from the first bad block, blaming its
 * source; else authenticate the tail). The block-import flow is a stub recording what it was told:
 * its own behaviour is test/node/workflows/block-import.test.ts's.
 */
import { describe, expect, it } from 'vitest';
import type { BatchResult, BlockImport } from '../../../src/node/workflows/block-import.js';
import { checksTail, settleTail, type PendingTail } from '../../../src/node/workflows/tail-approvals.js';
import type { Hex } from '../../../src/protocol/bytes.js';

const head = (number: number) => ({ number, hash: `0x${number}` as Hex }) as BatchResult['head'];
const result = (over: Partial<BatchResult> = {}): BatchResult => ({
  imported: 3,
  persist: null,
  head: head(5),
  finalizedThrough: 2,
  newlyFinalized: null,
  ...over,
});
const tail: PendingTail = [6, 7, 8].map((n) => ({
  hash: `0x${n}` as Hex,
  number: n,
  block: new Uint8Array(),
  source: `s${n}`,
}));

function stubFlow() {
  const calls: unknown[] = [];
  const flow = {
    dropFrom: (n: number) => (calls.push(['dropFrom', n]), result({ imported: 0, head: head(n - 1) })),
    authenticateTail: (signers: Map<Hex, number[]>) => (
      calls.push(['authenticateTail', [...signers]]), result({ imported: 0, head: head(8), finalizedThrough: 4 })
    ),
  } as unknown as BlockImport;
  return { flow, calls };
}

describe('checksTail', () => {
  it('at the tip after a clean import, and for an orphan; not after another failure', () => {
    expect(checksTail(true, {})).toBe(true);
    expect(checksTail(false, {})).toBe(false);
    const failure = { index: 0, source: 'a', check: 'c', message: 'm' };
    expect(checksTail(true, { failure })).toBe(false);
    expect(checksTail(false, { failure: { ...failure, orphan: { number: 3, parentHash: '0x1' } } })).toBe(true);
  });
});

describe('settleTail', () => {
  it('authenticates the tail with the signers of each block when every answer is good', () => {
    const { flow, calls } = stubFlow();
    const answers = tail.map((_, i) => ({ ok: true as const, signers: [i] }));
    const out = settleTail(flow, tail, answers, result(), 3);
    expect(calls).toEqual([
      [
        'authenticateTail',
        [
          ['0x6', [0]],
          ['0x7', [1]],
          ['0x8', [2]],
        ],
      ],
    ]);
    expect(out.kind).toBe('authenticated');
    expect(out.result).toEqual(result({ head: head(8), finalizedThrough: 4 }));
  });

  it('drops the tail from the first bad block and blames its source', () => {
    const { flow, calls } = stubFlow();
    const answers = [
      { ok: true as const, signers: [0] },
      { ok: false as const, check: 'approvals', message: 'bad' },
      { ok: false as const, check: 'other', message: 'worse' },
    ];
    const out = settleTail(flow, tail, answers, result(), 3);
    expect(calls).toEqual([['dropFrom', 7]]);
    expect(out).toEqual({
      kind: 'dropped',
      result: result({
        imported: 3,
        head: head(6),
        failure: { index: 3, source: 's7', check: 'approvals', message: 'bad', rewindTo: 7 },
      }),
    });
  });
});
