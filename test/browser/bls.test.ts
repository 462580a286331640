/**
 * The official Ethereum BLS vectors in real Chromium, on the two backends meant for browsers:
 * noble (pure JS) and wasm (bls-eth-wasm, which compiles its embedded wasm from bytes; allowed
 * in browsers). The vectors come from Node through provide/inject (test/setup/browser-vectors.ts).
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createBlsBackend, type BlsBackend } from '../../src/protocol/bls/index.js';
import { blsVectorSuite } from '../protocol/bls/suite.js';
import { prepareAuthorities, verifyAggregateApproval } from '../../src/protocol/approvals.js';
import { aggregateApprovals, signApproval } from '../../src/protocol/approvals-sign.js';

const vectors = inject('blsVectors');

it('runs in a real browser', () => {
  expect(typeof window).toBe('object');
  expect(navigator.userAgent).toMatch(/Chrome/);
});

it('the blst backend is refused in the browser with bls.backend-unavailable', async () => {
  await expect(createBlsBackend('blst')).rejects.toMatchObject({ code: 'bls.backend-unavailable' });
});

for (const name of ['noble', 'wasm'] as const) {
  const title = `official BLS vectors in Chromium (${name})`;
  if (vectors === null) {
    describe.skip(`${title} (skipped: no vectors at ${inject('vectorsDir')}; set ALYS_VECTORS)`, () => {});
    continue;
  }
  describe(title, () => {
    let backend: BlsBackend;
    beforeAll(async () => {
      backend = await createBlsBackend(name);
      expect(backend.name).toBe(name);
    });
    blsVectorSuite(vectors, () => backend);

    it('a 2-of-3 approval round trip', () => {
      const sks = [21n, 22n, 23n].map((v) => {
        const b = new Uint8Array(32);
        b[31] = Number(v);
        return b;
      });
      const root = new Uint8Array(32).fill(0xab);
      const authorities = prepareAuthorities(
        sks.map((sk) => backend.secretToPublicKey(sk)),
        backend,
      );
      const approval = aggregateApprovals(
        [signApproval(sks[0]!, root, 0, backend), signApproval(sks[2]!, root, 2, backend)],
        {
          backend,
        },
      );
      expect(approval.aggregationBits).toBe('0x0580');
      expect(verifyAggregateApproval({ root, approval, authorities, backend })).toEqual([0, 2]);
    });
  });
}
