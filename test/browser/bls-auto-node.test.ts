/**
 * A head-first node in real Chromium with `bls: 'auto'` against the devnet of
 * test/setup/browser-devnet.ts (src/protocol/bls/auto.ts): its first verified head is verified with
 * noble, before anything fetched the BLS wasm; once its start is done the page's backend is on the
 * wasm, and the verifier in its Web Worker switched to the wasm before its first batch.
 */
import { expect, inject, it } from 'vitest';
import { createLightNode, type NodeEvents } from '../../src/index.js';
import type { VerifierActor } from '../../src/node/actors/verifier.js';
import { verifierAddress } from '../../src/node/tree.js';
import { type AutoBlsBackend, createBlsBackend } from '../../src/protocol/bls/index.js';
import { parseChainSpec } from '../../src/protocol/chainspec.js';

const devnet = inject('devnet');

/** Resources this page fetched that carry the BLS wasm (bls-eth-wasm embeds it in its module). */
const wasmFetched = () =>
  performance.getEntriesByType('resource').filter((e) => /bls-eth-wasm|\.wasm(\?|$)/.test(e.name)).length;

async function produce(blocks: number): Promise<{ head: { number: number } }> {
  const r = await fetch(`${devnet.control}/produce`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ blocks, pow: true }),
  });
  if (!r.ok) throw new Error(`produce: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

it('verifies its first head with noble, then the page and the verifier worker switch to the wasm', {
  timeout: 60_000,
}, async () => {
  // this realm's auto backend: the one the in-page node uses
  const auto = (await createBlsBackend('auto')) as AutoBlsBackend;
  expect(auto.name).toBe('auto');
  expect(auto.active).toBe('noble');
  const node = createLightNode({
    chainSpec: parseChainSpec(devnet.chainSpec),
    rpc: [devnet.consensus],
    evmRpc: [devnet.evm],
    storage: 'memory',
    verifierWorkers: 1,
    logLevel: 'silent',
    placement: 'page', // the page's realm holds the node's backend; node.system reaches the verifier
    sync: { followIntervalMs: 100 },
  });
  let atHead: { active: string; verified: object; wasmFetched: number } | undefined;
  const heads: number[] = [];
  const started = new Promise<NodeEvents['storage']>((resolve) =>
    node.on('storage', (s) => s.kind === 'cold-start' && resolve(s)),
  );
  node.on('head', (h) => {
    heads.push(h.number);
    atHead ??= { active: auto.active, verified: { ...auto.verified }, wasmFetched: wasmFetched() };
  });
  try {
    await node.start();
    const start = await started;
    expect(start.detail).toMatch(/started at verified head/);
    // the first head: its approvals checked by noble, no wasm fetched
    expect(atHead).toEqual({ active: 'noble', verified: { noble: expect.any(Number) }, wasmFetched: 0 });
    // after the start: the node's own background upgrade (this test does not ask for it)
    await expect.poll(() => auto.active, { timeout: 30_000 }).toBe('wasm');
    expect(wasmFetched()).toBeGreaterThan(0);

    // new blocks: the verifier (in its worker) verifies them, on the wasm from its first batch
    const grown = await produce(3);
    await expect.poll(() => heads.at(-1), { timeout: 30_000 }).toBe(grown.head.number);
    const verifier = node.system!.registry.get(verifierAddress(0));
    expect(verifier?.placement).toBe('worker');
    const bls = await node.system!.ref<typeof VerifierActor>(verifierAddress(0)).ask({ type: 'bls' });
    expect(bls.name).toBe('auto');
    expect(bls.active).toBe('wasm');
    expect(bls.verified.noble).toBeUndefined();
    expect(bls.verified.wasm).toBeGreaterThan(0);
  } finally {
    await node.stop();
  }
});
