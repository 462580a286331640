/**
 * ChainVerifier on a real (devnet) chain: full and deferred approvals, authentication of pending
 * blocks by a PoW range, a forged unsigned segment never authenticated, snapshot/restore.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevnet, type Devnet } from '../../src/devnet/devnet.js';
import {
  ChainVerifier,
  nobleBackend,
  prepareAuthorities,
  signingRoot,
  summarizeBlock,
  toHex,
  verifyAggregateApproval,
  VerificationError,
  type SignedConsensusBlock,
} from '../../src/protocol/index.js';

let devnet: Devnet;
let blocks: SignedConsensusBlock[];

beforeAll(async () => {
  devnet = await createDevnet({ seed: 'chain-verifier', noServers: true });
  for (let i = 1; i <= 24; i++) {
    await devnet.produceNext();
    if (i % 7 === 0) await devnet.mineAuxPow();
  }
  blocks = Array.from({ length: devnet.chain.height + 1 }, (_, i) => devnet.chain.at(i)!.signed);
  await devnet.stop();
});

const opts = () => ({
  spec: devnet.spec,
  authorities: prepareAuthorities(devnet.spec.authorities, nobleBackend),
  backend: nobleBackend,
});

describe('ChainVerifier', () => {
  it('full mode: every block verifies, finality follows the PoW ranges', () => {
    const v = new ChainVerifier(opts(), blocks[0]!);
    let finalized = 0;
    for (const b of blocks.slice(1)) {
      const out = v.import(b);
      expect(out.block.signers).not.toBeNull();
      expect(out.authenticated).toEqual([]);
      if (out.finalized) finalized = out.finalized.to;
    }
    expect(v.head.number).toBe(devnet.chain.height);
    expect(finalized).toBe(v.finalizedThrough);
    expect(v.finalizedThrough).toBe(devnet.chain.lastFinalized.number);
  });

  it('deferred mode: only PoW blocks are BLS-checked; each PoW authenticates the pending blocks it covers; the tail is verified on demand', () => {
    const o = opts();
    const v = new ChainVerifier({ ...o, approvals: 'deferred' }, blocks[0]!);
    let bls = 0;
    const authenticated: number[] = [];
    for (const b of blocks.slice(1)) {
      const pow = b.message.auxpowHeader !== null;
      const s = summarizeBlock(b, { ...o, approvals: false });
      if (pow) bls++;
      expect(s.signers === null).toBe(!pow);
      const out = v.importSummary(s);
      authenticated.push(...out.authenticated.map((x) => x.number));
    }
    const pows = blocks.filter((b, i) => i > 0 && b.message.auxpowHeader).length;
    expect(bls).toBe(pows);
    // every block up to the last finalized one was authenticated exactly once
    const finalizedNonPow = blocks.slice(1, v.finalizedThrough + 1).filter((b) => !b.message.auxpowHeader).length;
    expect(new Set(authenticated).size).toBe(authenticated.length);
    expect(authenticated.filter((n) => n <= v.finalizedThrough)).toHaveLength(finalizedNonPow);
    // the tail: verify its approvals individually
    const tail = v.pending.map((p) => p.number);
    expect(tail.length).toBeGreaterThan(0);
    const done = v.authenticatePending((blk) =>
      verifyAggregateApproval({
        root: blk.hash,
        approval: blocks[blk.number]!.signature,
        authorities: o.authorities,
        backend: o.backend,
      }),
    );
    expect(done.map((d) => d.number)).toEqual(tail);
    expect(v.pending).toEqual([]);
  });

  it('deferred mode: a forged segment with valid links but no valid approvals is never authenticated', () => {
    const o = opts();
    const v = new ChainVerifier({ ...o, approvals: 'deferred' }, blocks[0]!);
    // honest up to the block before the first PoW block
    const firstPow = blocks.findIndex((b, i) => i > 0 && b.message.auxpowHeader !== null);
    for (const b of blocks.slice(1, firstPow - 1)) v.importSummary(summarizeBlock(b, { ...o, approvals: false }));
    // forge the last block before the PoW: changed content (a different slot), consistent links, junk approvals
    const real = blocks[firstPow - 1]!;
    const forged: SignedConsensusBlock = {
      message: { ...real.message, slot: real.message.slot + 1 },
      signature: blocks[1]!.signature,
    };
    const pending = v.importSummary(summarizeBlock(forged, { ...o, approvals: false }));
    expect(pending.block.signers).toBeNull();
    expect(pending.block.hash).toBe(toHex(signingRoot(forged.message)));
    // the real PoW block does not extend the forgery: it is refused and nothing gets authenticated
    const before = v.snapshot();
    expect(() => v.importSummary(summarizeBlock(blocks[firstPow]!, { ...o, approvals: false }))).toThrow(
      VerificationError,
    );
    expect(v.snapshot()).toEqual(before);
    expect(v.pending.map((p) => p.hash)).toContain(pending.block.hash);
    // and a PoW block is never imported with unverified approvals
    const s = summarizeBlock(blocks[firstPow]!, { ...o, approvals: false });
    expect(() => v.importSummary({ ...s, signers: null })).toThrow(/approvals were not verified/);
  });

  it('snapshot and restore resume exactly', () => {
    const o = opts();
    const a = new ChainVerifier(o, blocks[0]!);
    const b = new ChainVerifier(o, blocks[0]!);
    for (const blk of blocks.slice(1)) a.import(blk);
    for (const blk of blocks.slice(1, 12)) b.import(blk);
    const c = new ChainVerifier(o, blocks[0]!);
    c.restore(JSON.parse(JSON.stringify(b.snapshot())));
    for (const blk of blocks.slice(12)) c.import(blk);
    expect(c.snapshot()).toEqual(a.snapshot());
    expect(() => c.restore({ ...c.snapshot(), head: { ...c.head, number: 3 } })).toThrow(/disagrees/);
  });
});
