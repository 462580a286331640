/**
 * The p2p host's own waits run on the runtime's Clock (src/node/network/timers.ts), so a test clock
 * replays them: bootstrap redial backoff (redial.ts), ban expiry (bans.ts), request deadlines.
 */
import type { Libp2p } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import { createTestClock } from '../../../src/actors/clock.js';
import { createBans } from '../../../src/node/network/bans.js';
import { bootstrapPeerId, bootstrapRedial, redialDelay } from '../../../src/node/network/redial.js';
import { every, timeoutSignal } from '../../../src/node/network/timers.js';

const PEER = '12D3KooWRDi1VUGWDobqFaJY9wPAK91Xq8GHT58TVCqSwcjGaP31';
const BOOTSTRAP = `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`;

/** Just enough of libp2p for the redial: nobody connected, and every dial refused. */
function unreachable(clock: { now(): number }, dials: number[]): Libp2p {
  return {
    getConnections: () => [],
    dial: async () => {
      dials.push(clock.now());
      throw new Error('connection refused');
    },
  } as unknown as Libp2p;
}

describe('bootstrap redial', () => {
  it('backs off 1 s, 2 s, 4 s ... up to maxMs, on the clock it was given', async () => {
    const clock = createTestClock();
    const dials: number[] = [];
    const faults: string[] = [];
    const redial = bootstrapRedial({
      libp2p: unreachable(clock, dials),
      clock,
      bootstrap: [BOOTSTRAP],
      maxMs: 5_000,
      isBanned: () => false,
      fault: (peer, kind) => faults.push(`${kind} ${peer}`),
    });
    await redial.start();
    await clock.advance(20_000);
    expect(dials).toEqual([0, 1_000, 3_000, 7_000, 12_000, 17_000]);
    expect(faults).toEqual(dials.map(() => `dial ${BOOTSTRAP}`));
    redial.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('leaves a banned bootstrap peer alone', async () => {
    const clock = createTestClock();
    const dials: number[] = [];
    const redial = bootstrapRedial({
      libp2p: unreachable(clock, dials),
      clock,
      bootstrap: [BOOTSTRAP],
      isBanned: (peer) => peer === PEER,
      fault: () => {},
    });
    await redial.start();
    await clock.advance(5_000);
    redial.stop();
    expect(dials).toEqual([]);
  });

  it('delays and peer ids', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => redialDelay(n, 30_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
    expect(bootstrapPeerId(BOOTSTRAP)).toBe(PEER);
    expect(bootstrapPeerId('/ip4/127.0.0.1/tcp/4001')).toBeUndefined();
  });
});

describe('timers and bans on the clock', () => {
  it('a ban ends when the clock passes it', async () => {
    const clock = createTestClock(1, 1_000);
    const bans = createBans(clock);
    bans.ban(PEER, 2_000);
    expect(bans.isBanned(PEER)).toBe(true);
    await clock.advance(1_000);
    expect(bans.isBanned(PEER)).toBe(false);
  });

  it('timeoutSignal aborts with a TimeoutError after its time, not before, and not once cleared', async () => {
    const clock = createTestClock();
    const a = timeoutSignal(clock, 1_000);
    const b = timeoutSignal(clock, 1_000);
    b.clear();
    await clock.advance(999);
    expect(a.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(a.signal.aborted).toBe(true);
    expect((a.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(b.signal.aborted).toBe(false);
  });

  it('every ticks until stopped', async () => {
    const clock = createTestClock();
    const ticks: number[] = [];
    const stop = every(clock, 1_000, () => ticks.push(clock.now()));
    await clock.advance(3_500);
    stop();
    await clock.advance(5_000);
    expect(ticks).toEqual([1_000, 2_000, 3_000]);
    expect(clock.pendingTimers()).toBe(0);
  });
});
