/**
 * A stalled sync (no usable source: every one banned) keeps exactly one head refresh going.
 *
 * Regression: while stalled, each refresh scheduled two more (one from `pump`'s stall path, one from
 * the refresh itself), so refreshes doubled every follow interval; when a ban ended, thousands of
 * them asked the sources for their head at once. A 1-hour soak died of it (EMFILE: 8,000 sockets to one
 * consensus endpoint within seconds, under CPU load that had every source banned for a while).
 * Real devnet, real HTTP (a proxy that makes the only endpoint's head unusable), real clock.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Cleanup, FAST_SYNC, growChain, makeNode, sleep, startDevnet, startProxy, waitFor } from './helpers.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

/** Messages the SyncActor handled so far (`actor_messages_processed_total`, from the Prometheus text). */
function syncMessages(metrics: string): number {
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith('actor_messages_processed_total{address="/alys/network/sync"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('a sync with every source banned', () => {
  it('refreshes the heads once per interval, not twice as often each time', async () => {
    const devnet = await startDevnet(cleanup, 'sync-stall');
    // the only endpoint's head answer is unusable: 4 charges (30 each) ban it for 60 s
    const proxy = await startProxy(cleanup, devnet.urls.consensus, {
      tamper: (call, reply) => (call.method === 'getheadblock' ? { ...reply, result: 'not a block' } : undefined),
    });
    const followIntervalMs = 100;
    const { node, events } = makeNode(cleanup, devnet, {
      rpc: [proxy.url],
      sync: { ...FAST_SYNC, followIntervalMs, backoffMaxMs: 400 },
    });
    await node.start();
    await waitFor(
      () => events.source.some((e) => e.id === proxy.url && e.banned),
      () => 'the endpoint was never banned',
    );
    const before = syncMessages(await node.metrics());
    const windowMs = 1_500;
    await sleep(windowMs);
    const during = syncMessages(await node.metrics()) - before;
    // a refresh and its (empty) answer per interval, plus slack for timer jitter; doubling would be
    // thousands by now
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThanOrEqual(2 * 2 * (windowMs / followIntervalMs) + 8);
    expect((await node.status()).sync?.phase).toBe('stalled');
  });
});

describe('a retry that is due while every request slot is taken', () => {
  it('waits for a slot to free instead of pumping every millisecond', async () => {
    // Regression: the retry timer was set to max(1 ms, due - now), so a due retry with no free slot
    // re-ran the pump (and asked the NetworkActor for usable sources) every millisecond until a
    // request on the wire came back: up to its timeout.
    const devnet = await startDevnet(cleanup, 'sync-slots');
    await growChain(devnet, 24, 1000);
    let tampered = false;
    const proxy = await startProxy(cleanup, devnet.urls.consensus, {
      // every range but the first waits on the wire until released
      hold: (call) => call.method === 'getblockbyheight' && Number(call.params) >= 9,
      // the first range fails once (an unusable block at height 1): it waits for its retry
      tamper: (call, reply) => {
        if (call.method !== 'getblockbyheight' || Number(call.params) !== 1 || tampered) return undefined;
        tampered = true;
        return { ...reply, result: 'not a block' };
      },
    });
    const { node } = makeNode(cleanup, devnet, {
      rpc: [proxy.url],
      sync: { ...FAST_SYNC, parallelism: 2, requestTimeoutMs: 30_000, backoffInitialMs: 20 },
    });
    await node.start();
    // ranges 9-16 and 17-24 are held: both slots taken, the retry of 1-8 due
    await waitFor(
      () => tampered && proxy.held >= 2,
      () => `held ${proxy.held}`,
    );
    await sleep(100);
    const before = syncMessages(await node.metrics());
    await sleep(1_000);
    const during = syncMessages(await node.metrics()) - before;
    // nothing to do until a slot frees; spinning would be hundreds
    expect(during).toBeLessThanOrEqual(10);
    proxy.release();
    await waitFor(
      async () => ((await node.status()).head?.number ?? 0) >= 24,
      () => 'the sync did not finish once the slots freed',
    );
  });
});
