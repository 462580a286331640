/**
 * Proof bundles end to end in Node: a light node on the devnet produces bundles (`alys_getProofBundle`)
 * for a balance (latest and finalized), a storage slot and a receipt; each verifies offline with
 * `verifyBundle` against the chain spec alone and states what the node's verified provider answered.
 * Tampered bundles are each rejected with the check (or decode code) named.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DecodeError,
  nobleBackend,
  parseChainSpecJson,
  VerificationError,
  verifyBundle,
  type ChainSpec,
} from '../../src/protocol/index.js';
import { buildBundleCases, type BundleCases } from '../helpers/bundles.js';

let cases: BundleCases;
let spec: ChainSpec;
let otherSpec: ChainSpec;

beforeAll(async () => {
  cases = await buildBundleCases();
  spec = parseChainSpecJson(JSON.stringify(cases.specJson));
  otherSpec = parseChainSpecJson(JSON.stringify(cases.otherSpecJson));
}, 60_000);

const verify = (text: string, s = spec) => verifyBundle(text, { spec: s, backend: nobleBackend });

describe('bundles from the light node verify offline', () => {
  it('a balance at latest: the node verified the same balance and nonce at that block', () => {
    const c = cases.valid[0]!;
    const facts = verify(c.text);
    expect(facts.block.number).toBe(c.expected!.block);
    expect(facts.finalized).toBe(false);
    expect(facts.account).toMatchObject({ balance: c.expected!.balance, nonce: c.expected!.nonce, exists: true });
    expect(facts.block.signers.length).toBeGreaterThanOrEqual(facts.block.required);
  });

  it('a balance at finalized carries the finality walk and says finalized', () => {
    const c = cases.valid[1]!;
    const facts = verify(c.text);
    expect(facts).toMatchObject({ finalized: true, block: { number: c.expected!.block } });
    expect(facts.account!.balance).toBe(c.expected!.balance);
    expect(facts.finality!.finalized.number).toBeGreaterThanOrEqual(Number(c.expected!.block));
  });

  it('a storage slot: the value the node proved', () => {
    const c = cases.valid[2]!;
    const facts = verify(c.text);
    expect(facts.block.number).toBe(c.expected!.block);
    expect(facts.account!.storage).toEqual([{ key: c.expected!.slot, value: c.expected!.value }]);
    expect(BigInt(c.expected!.value as string)).toBe(5_000n);
  });

  it('a receipt: the transaction, its status and logs as the node verified them', () => {
    const c = cases.valid[3]!;
    const facts = verify(c.text);
    expect(facts.block.number).toBe(c.expected!.block);
    expect(facts.receipt).toMatchObject({ transactionHash: c.expected!.transactionHash, status: c.expected!.status });
    expect(facts.receipt!.logs).toHaveLength(c.expected!.logs as number);
    expect(c.expected!.transferInSameBlock).toBe(true); // so the receipt is not at index 0
    expect(facts.receipt!.index).toBeGreaterThan(0);
  });
});

describe('tampered bundles are rejected, the check named', () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])('case %i', (i) => {
    const c = cases.tampered[i]!;
    let err: unknown;
    try {
      verify(c.text, c.spec === 'other' ? otherSpec : spec);
    } catch (e) {
      err = e;
    }
    if (c.check !== undefined) {
      expect(err, c.name).toBeInstanceOf(VerificationError);
      expect((err as VerificationError).check, c.name).toBe(c.check);
    } else {
      expect(err, c.name).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).code, c.name).toBe(c.code);
    }
  });

  it('every tampered case is above', () => expect(cases.tampered).toHaveLength(15));
});
