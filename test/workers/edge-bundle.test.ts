/**
 * The edge Worker's `POST /verify/bundle` inside workerd: the bundles a light node made on the devnet
 * (test/helpers/bundles.ts, built in Node by the global setup) verify with the facts the node's
 * verified provider answered (200); tampered ones are 422 with the check named, or 400 with the code
 * (unknown version, over a cap, not a bundle). The devnet's spec reaches the Worker as ALYS_CHAIN_SPEC.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import { createRouter } from '../../workers/edge/router.js';
import { bundleRoute } from '../../workers/edge/routes/bundle.js';
import { verifyRoute } from '../../workers/edge/routes/verify.js';

const { specJson, otherSpecJson, valid, tampered } = inject('bundleCases');
const route = createRouter([verifyRoute, bundleRoute]);

async function post(text: string, spec = specJson) {
  const res = await route(new Request('http://edge.test/verify/bundle', { method: 'POST', body: text }), {
    ALYS_CHAIN_SPEC: JSON.stringify(spec),
  });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('POST /verify/bundle: bundles from the light node', () => {
  it('a balance at latest: 200 with the balance and nonce the node verified', async () => {
    const c = valid[0]!;
    const { status, body } = await post(c.text);
    expect(status).toBe(200);
    expect(body).toMatchObject({ kind: 'bundle', valid: true, finalized: false, block: { number: c.expected!.block } });
    expect(body.account).toMatchObject({ balance: c.expected!.balance, nonce: c.expected!.nonce });
  });

  it('a balance at finalized: finalized true', async () => {
    const c = valid[1]!;
    const { status, body } = await post(c.text);
    expect(status).toBe(200);
    expect(body).toMatchObject({ finalized: true, block: { number: c.expected!.block } });
    expect(body.account.balance).toBe(c.expected!.balance);
  });

  it('a storage slot', async () => {
    const c = valid[2]!;
    const { status, body } = await post(c.text);
    expect(status).toBe(200);
    expect(body.account.storage).toEqual([{ key: c.expected!.slot, value: c.expected!.value }]);
  });

  it('a receipt', async () => {
    const c = valid[3]!;
    const { status, body } = await post(c.text);
    expect(status).toBe(200);
    expect(body.receipt).toMatchObject({ transactionHash: c.expected!.transactionHash, status: c.expected!.status });
    expect(body.receipt.logs).toHaveLength(c.expected!.logs as number);
  });

  it('the deployed route (SELF, ALYS_CHAIN=dev): a devnet bundle is for another chain spec', async () => {
    const res = await SELF.fetch('http://edge.test/verify/bundle', { method: 'POST', body: valid[0]!.text });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ kind: 'bundle', valid: false, check: 'bundle.chain-spec' });
  });
});

describe('POST /verify/bundle: tampered bundles', () => {
  it.each(tampered.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const { status, body } = await post(c.text, c.spec === 'other' ? otherSpecJson : specJson);
    if (c.check !== undefined) {
      expect(status).toBe(422);
      expect(body).toMatchObject({ kind: 'bundle', valid: false, check: c.check });
    } else {
      expect(status).toBe(400);
      // over 1 MiB the Worker refuses the body while streaming it, before the bundle decoder sees it
      expect(body).toMatchObject({
        kind: 'bundle',
        valid: false,
        code: c.code === 'bundle.too-large' ? 'edge.body-too-large' : c.code,
      });
    }
  });

  it('a body that is not JSON is 400', async () => {
    const { status, body } = await post('{not json');
    expect(status).toBe(400);
    expect(body).toMatchObject({ kind: 'bundle', valid: false });
  });
});
