/**
 * Orphan resolution steps (src/node/workflows/orphan.ts): each verified ancestor is prepended and
 * names the next one; a bad ancestor, or no link within MAX_ANCESTORS, blames the orphan's source.
 */
import { describe, expect, it } from 'vitest';
import type { Hex } from '../../../src/protocol/bytes.js';
import {
  addAncestor,
  afterLinking,
  MAX_ANCESTORS,
  wantedHeight,
  type Orphan,
} from '../../../src/node/workflows/orphan.js';

const orphan: Orphan = { height: 20, source: 'a', want: '0x19', ancestors: [] };
const ancestor = (parentHash: Hex) => ({
  ok: true as const,
  source: 'a',
  summary: { parentHash } as never,
  block: new Uint8Array(),
});

describe('orphan resolution', () => {
  it('prepends each verified ancestor and asks for its parent next, one height lower', () => {
    expect(wantedHeight(orphan)).toBe(19);
    const one = addAncestor(orphan, ancestor('0x18'));
    if (!('next' in one)) throw new Error('expected the next step');
    expect(one.next.want).toBe('0x18');
    expect(wantedHeight(one.next)).toBe(18);
    const two = addAncestor(one.next, ancestor('0x17'));
    if (!('next' in two)) throw new Error('expected the next step');
    expect(two.next.ancestors.map((a) => a.summary.parentHash)).toEqual(['0x17', '0x18']);
  });

  it('ends with a fault when an ancestor fails verification', () => {
    expect(addAncestor(orphan, { ok: false, source: 'a', kind: 'missing', message: 'gone' })).toEqual({
      blame: { kind: 'withheld', reason: 'ancestor 0x19 of orphan block 20: gone' },
    });
  });

  it('resumes once linked (or when our own actor failed), else fetches on up to MAX_ANCESTORS', () => {
    expect(afterLinking(orphan, 'linked')).toEqual({ resume: true });
    expect(afterLinking(orphan, 'error')).toEqual({ resume: true });
    expect(afterLinking(orphan, 'unknown-parent')).toEqual({ resume: false });
    const deep = { ...orphan, ancestors: Array.from({ length: MAX_ANCESTORS }, () => ({}) as never) };
    expect(afterLinking(deep, 'unknown-parent')).toEqual({
      resume: true,
      blame: {
        kind: 'invalid',
        reason: `orphan block 20: no ancestor within ${MAX_ANCESTORS} blocks links to our chain`,
      },
    });
  });
});
