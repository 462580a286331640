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
import { Cleanup, FAST_SYNC, makeNode, sleep, startDevnet, startProxy, waitFor } from './helpers.js';

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
