/**
 * A subscription made before `start()` gets the head verified while the node was starting: a head-first
 * cold start emits the verified head from the chain actor's start, before `start()` resolves and before
 * the provider's reads answer; that head must still reach `newHeads` (and `connect`), not wait for the
 * next block. (The example wallet subscribes before starting, and a page's first head came that way.)
 */
import { expect, it } from 'vitest';
import type { Hex } from 'viem';
import { Cleanup, growChain, makeNode, startDevnet, waitFor } from '../helpers.js';

it('newHeads subscribed before start() delivers the head verified during the start', async () => {
  const cleanup = new Cleanup();
  try {
    const devnet = await startDevnet(cleanup, 'subscriptions-start');
    await growChain(devnet, 6, 3);
    const { node, events } = makeNode(cleanup, devnet, { sync: { start: 'head' } });
    const heads: Array<{ number: Hex; hash: Hex }> = [];
    let connected = false;
    const subscription = await node.provider.request({ method: 'eth_subscribe', params: ['newHeads'] });
    node.provider.on('connect', () => {
      connected = true;
    });
    node.provider.on('message', (m: any) => {
      if (m.type === 'eth_subscription' && m.data.subscription === subscription) heads.push(m.data.result);
    });
    await node.start();
    // the head came during the start (no block is produced after it)
    expect(events.head.map((h) => h.number)).toContain(devnet.chain.height);
    await waitFor(
      () => heads.length > 0,
      () => `a newHeads delivery (head events: ${events.head.map((h) => h.number).join(', ')})`,
    );
    expect(heads.map((h) => Number(h.number))).toEqual([devnet.chain.height]);
    expect(connected).toBe(true);
  } finally {
    await cleanup.run();
  }
}, 60_000);
