/**
 * The Worker's light node routes without an object behind them: a Worker deployed without the
 * `ALYS_NODE` binding answers 500 naming it (the verify routes keep working); wrong methods are 405.
 */
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../workers/edge/router.js';
import { nodeRoutes } from '../../workers/edge/routes/node.js';

const route = createRouter(nodeRoutes);

describe('the node routes on the Worker', () => {
  it('without the ALYS_NODE binding: 500 naming it', async () => {
    const res = await route(new Request('http://edge.test/status'), { ALYS_CHAIN: 'dev' });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: 'edge.config', key: 'ALYS_NODE' });
  });

  it('POST /status and GET /rpc are 405', async () => {
    expect(
      (await route(new Request('http://edge.test/status', { method: 'POST' }), { ALYS_CHAIN: 'dev' })).status,
    ).toBe(405);
    expect((await route(new Request('http://edge.test/rpc'), { ALYS_CHAIN: 'dev' })).status).toBe(405);
  });
});
