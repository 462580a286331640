/**
 * The sync's progress report (src/node/workflows/sync-progress.ts): status, ETA, the smoothed
 * import rate, and the stalled phase after too many failed attempts.
 */
import { describe, expect, it } from 'vitest';
import {
  measureRate,
  noSourceReason,
  phaseAfterRetries,
  startRate,
  syncStatus,
} from '../../../src/node/workflows/sync-progress.js';

describe('syncStatus', () => {
  it('reports nothing before the sync started', () => {
    expect(syncStatus(undefined, 'starting', 0, undefined)).toEqual({
      phase: 'starting',
      current: 0,
      target: 0,
      rate: 0,
      etaSeconds: 0,
      inFlight: 0,
    });
  });
  it('estimates the time left from the rate (unknown at rate 0), and shows the detail only when stalled', () => {
    const plan = { importFrom: 101, targetHeight: 300, inFlight: 2 };
    expect(syncStatus(plan, 'syncing', 40.04, 'why')).toEqual({
      phase: 'syncing',
      current: 100,
      target: 300,
      rate: 40,
      etaSeconds: 5,
      inFlight: 2,
    });
    expect(syncStatus(plan, 'stalled', 0, 'why')).toMatchObject({ etaSeconds: null, detail: 'why' });
  });
});

describe('import rate', () => {
  it('takes the first measure as is, then a moving average; no time passed, no change', () => {
    const r0 = startRate(0, 1_000);
    const r1 = measureRate(r0, 100, 2_000);
    expect(r1).toEqual({ perSecond: 100, at: 2_000, height: 100 });
    expect(measureRate(r1, 150, 3_000).perSecond).toBeCloseTo(90);
    expect(measureRate(r1, 500, 2_000)).toBe(r1);
  });
});

describe('phases', () => {
  it('stalls after more than `retries` failures of a range and recovers when none is over', () => {
    expect(phaseAfterRetries('syncing', 4, 3)).toEqual({ phase: 'syncing' });
    expect(phaseAfterRetries('syncing', 5, 3)).toEqual({
      phase: 'stalled',
      stalledBecause: 'a range failed 4 times (retries = 3); still retrying',
    });
    expect(phaseAfterRetries('stalled', 5, 3)).toEqual({ phase: 'stalled' });
    expect(phaseAfterRetries('stalled', 1, 3)).toEqual({ phase: 'syncing' });
  });
  it('says why no source can serve the sync', () => {
    expect(noSourceReason(2, false)).toBe('every consensus source is banned or failing; retrying');
    expect(noSourceReason(0, true)).toBe('no peer connected yet (the bootstrap peers are redialled)');
    expect(noSourceReason(0, false)).toBe('no consensus source configured');
  });
});
