/**
 * The MetricsActor's restart policy is `never()` (issue 13 item 12): after one crash it stays down, by
 * design. That must not leave `node.metrics()` and the status server opaque: the failure is a health
 * event, `node.metrics()` / `metricsSnapshot()` reject with code `metrics.unavailable`, `/metrics` and
 * `/healthz` answer 503 saying "metrics unavailable", and the rest of the node goes on (status, sync).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatus } from '../../src/cli/serve-status.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { LightNodeError } from '../../src/node/errors.js';
import { Cleanup, growChain, startDevnet, startNode, waitFor, waitSynced } from './helpers.js';

const METRICS = '/alys/storage/metrics';
const cleanup = new Cleanup();
let devnet: Devnet;
afterAll(() => cleanup.run(), 30_000);
beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'metrics-unavailable');
  await growChain(devnet, 4, 10);
}, 30_000);

describe('the metrics actor given up after a crash', () => {
  it('node.metrics(), /metrics and /healthz say "metrics unavailable"; the node goes on', async () => {
    const { node, events } = await startNode(cleanup, devnet);
    await waitSynced(node, devnet);
    const server = await serveStatus(node, 0);
    cleanup.add(() => server.close());
    expect(await node.metrics()).toContain('alys_light_head');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    node.system!.registry.get(METRICS)!.child.crash(new Error('chaos: metrics'));
    // visible: a health event for the metrics actor, given up
    await waitFor(
      () => events.health.some((h) => h.address === METRICS && h.state === 'child-gave-up'),
      () => `a child-gave-up health event for ${METRICS}: ${JSON.stringify(events.health)}`,
    );

    const e = await node.metrics().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LightNodeError);
    expect((e as LightNodeError).code).toBe('metrics.unavailable');
    const s = await node.metricsSnapshot().catch((x: unknown) => x);
    expect((s as LightNodeError).code).toBe('metrics.unavailable');

    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(503);
    expect(await metrics.text()).toMatch(/^metrics unavailable/);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    const body = await health.json();
    expect(body).toMatchObject({ running: true, down: [METRICS], metrics: 'unavailable' });
    expect(body.error).toMatch(/^metrics unavailable/);

    // the rest of the node is unaffected
    await growChain(devnet, 2, 10);
    await waitSynced(node, devnet);
    expect((await fetch(`${server.url}/status`)).status).toBe(200);
  });
});
