/**
 * The dashboard's Storage card (web/storage-card.ts): a damaged block found after the start is
 * counted beside the start kind and never replaces it.
 */
import { describe, expect, it } from 'vitest';
import type { NodeEvents } from '../../src/index.js';
import { EMPTY_STORAGE_CARD, storageCard, storageCardLine } from '../../web/storage-card.js';

type E = NodeEvents['storage'];
const warm: E = { kind: 'warm-start', detail: 'loaded 120 blocks', ms: 42, head: 120 } as E;
const damaged = (n: number): E => ({ kind: 'damaged', detail: `block ${n}: checksum mismatch` }) as E;

describe('dashboard storage card', () => {
  it('keeps the start kind when damaged blocks are found later, and counts them', () => {
    let card = storageCard(EMPTY_STORAGE_CARD, warm);
    expect(card.kind).toBe('warm-start');
    expect(storageCardLine(card)).toBe('loaded 120 blocks in 42 ms');
    card = storageCard(card, damaged(7));
    card = storageCard(card, damaged(9));
    expect(card).toMatchObject({ kind: 'warm-start', damaged: 2, lastDamage: 'block 9: checksum mismatch' });
    expect(storageCardLine(card)).toBe(
      'loaded 120 blocks in 42 ms · 2 damaged blocks found since (not served, fetched again): block 9: checksum mismatch',
    );
  });

  it('a damage before any start event leaves the kind unknown', () => {
    const card = storageCard(EMPTY_STORAGE_CARD, damaged(1));
    expect(card.kind).toBeUndefined();
    expect(storageCardLine(card)).toContain('1 damaged block found since');
  });
});
