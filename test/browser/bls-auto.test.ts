/**
 * The `auto` BLS backend in real Chromium (src/protocol/bls/auto.ts): noble answers until the wasm
 * backend is loaded in the background, and keys prepared before the switch keep working after it
 * (test/browser/bls-auto-node.test.ts: the same in a node). One backend per realm, and each test file
 * runs in its own: this file's backend starts on noble.
 */
import { describe, expect, it } from 'vitest';
import { prepareAuthorities, verifyAggregateApproval } from '../../src/protocol/approvals.js';
import { aggregateApprovals, signApproval } from '../../src/protocol/approvals-sign.js';
import { type AutoBlsBackend, createBlsBackend } from '../../src/protocol/bls/index.js';

/** Resources this page fetched that carry the BLS wasm (bls-eth-wasm embeds it in its module). */
const wasmFetched = () =>
  performance.getEntriesByType('resource').filter((e) => /bls-eth-wasm|\.wasm(\?|$)/.test(e.name)).length;

async function autoBackend(): Promise<AutoBlsBackend> {
  const backend = await createBlsBackend('auto');
  expect(backend.name).toBe('auto');
  return backend as AutoBlsBackend;
}

describe('the auto BLS backend', () => {
  it('verifies with noble, then with the wasm after the upgrade, with the same prepared keys', async () => {
    // a fresh realm per test file: nothing loaded the wasm yet
    const auto = await autoBackend();
    expect(await createBlsBackend('auto')).toBe(auto);
    expect(auto.active).toBe('noble');
    const sks = [31, 32, 33].map((v) => Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? v : 0)));
    const root = new Uint8Array(32).fill(0x5c);
    const authorities = prepareAuthorities(
      sks.map((sk) => auto.secretToPublicKey(sk)),
      auto,
    );
    const approval = aggregateApprovals([signApproval(sks[0]!, root, 0, auto), signApproval(sks[1]!, root, 1, auto)], {
      backend: auto,
    });
    expect(verifyAggregateApproval({ root, approval, authorities, backend: auto })).toEqual([0, 1]);
    expect(auto.verified).toEqual({ noble: 1 });
    expect(wasmFetched()).toBe(0);

    expect(await auto.upgrade()).toBe('wasm');
    expect(auto.active).toBe('wasm');
    expect(wasmFetched()).toBeGreaterThan(0);
    // the authorities prepared by noble, now checked by the wasm
    expect(verifyAggregateApproval({ root, approval, authorities, backend: auto })).toEqual([0, 1]);
    const wrongRoot = new Uint8Array(32).fill(0x5d);
    expect(() => verifyAggregateApproval({ root: wrongRoot, approval, authorities, backend: auto })).toThrow();
    expect(auto.verified).toEqual({ noble: 1, wasm: 2 });
    // a key prepared by another backend is refused, as by every backend
    const noble = await createBlsBackend('noble');
    expect(() =>
      auto.fastAggregateVerifyPrepared([noble.preparePublicKey(auto.secretToPublicKey(sks[0]!))], root, root),
    ).toThrow(/backend "noble"/);
  });
});
