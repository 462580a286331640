/**
 * `lazyLightNode` (src/node/lazy.ts): the browser entry's in-page node, imported on first use. Over a
 * real node on the devnet, whose arrival the test holds back (the import's promise): listeners added
 * before it arrives get its events, one removed meanwhile gets none, calls before `start()` answer as
 * the node's own, and a failed import is every call's error, not an unhandled rejection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import { lazyLightNode } from '../../src/node/lazy.js';
import type { LightNode } from '../../src/node/types.js';
import { Cleanup, growChain, makeNode, startDevnet, waitFor, withCleanup } from './helpers.js';

/** A promise the test resolves: the import arriving. */
function gate<T>(): { promise: Promise<T>; open(value: T): void; fail(err: Error): void } {
  let open!: (value: T) => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

describe('lazyLightNode: the in-page node imported on first use', () => {
  const c = new Cleanup();
  let devnet: Devnet;
  beforeAll(async () => {
    devnet = await startDevnet(c, 'lazy-node');
    await growChain(devnet, 6, 3);
  }, 60_000);
  afterAll(() => c.run());

  it('attaches listeners added before the node arrives, and not one removed meanwhile', async () => {
    await withCleanup(async (cl) => {
      const { node: inner } = makeNode(cl, devnet);
      const arrival = gate<LightNode>();
      const node = lazyLightNode(inner.spec, inner.config, () => arrival.promise);
      cl.add(() => node.stop());
      const heads: number[] = [];
      const removed: number[] = [];
      const connects: unknown[] = [];
      node.on('head', (h) => heads.push(h.number));
      const off = node.on('head', (h) => removed.push(h.number));
      off();
      const onConnect = (info: unknown) => connects.push(info);
      node.provider.on('connect', onConnect);
      const dropped: unknown[] = [];
      const onDropped = (info: unknown) => dropped.push(info);
      node.provider.on('connect', onDropped).removeListener('connect', onDropped);
      // before the node is there: its spec and config, no actor system
      expect(node.spec).toBe(inner.spec);
      expect(node.config).toBe(inner.config);
      expect(node.system).toBeUndefined();

      const started = node.start();
      arrival.open(inner);
      await started;
      expect(node.system).toBe(inner.system);
      await waitFor(
        () => heads.length > 0 && connects.length > 0,
        () => `a head and connect (heads ${heads}, connects ${connects.length})`,
      );
      expect(removed).toEqual([]);
      expect(dropped).toEqual([]);
      const head = await node.provider.request({ method: 'eth_blockNumber' });
      expect(head).toBe(await inner.provider.request({ method: 'eth_blockNumber' }));
    });
  });

  it('answers status and provider requests before start() as the node itself does', async () => {
    await withCleanup(async (cl) => {
      const { node: inner } = makeNode(cl, devnet);
      const arrival = gate<LightNode>();
      const node = lazyLightNode(inner.spec, inner.config, () => arrival.promise);
      const status = node.status();
      const request = node.provider.request({ method: 'eth_blockNumber' }).then(
        () => 'answered',
        (e: { code?: unknown; name?: string }) => ({ name: e.name, code: e.code }),
      );
      arrival.open(inner);
      expect(await status).toEqual(await inner.status());
      const own = await inner.provider.request({ method: 'eth_blockNumber' }).then(
        () => 'answered',
        (e: { code?: unknown; name?: string }) => ({ name: e.name, code: e.code }),
      );
      expect(await request).toEqual(own);
      expect(await node.metrics()).toBe(await inner.metrics());
    });
  });

  it('a failed import is the error of every call', async () => {
    const arrival = gate<LightNode>();
    const { node: inner } = makeNode(c, devnet);
    const node = lazyLightNode(inner.spec, inner.config, () => arrival.promise);
    const failure = new Error('the in-page node could not be imported');
    arrival.fail(failure);
    await expect(node.start()).rejects.toBe(failure);
    await expect(node.status()).rejects.toBe(failure);
    await expect(node.provider.request({ method: 'eth_chainId' })).rejects.toBe(failure);
  });
});
