/**
 * Lying Esplora endpoints (issue 16): each a loopback HTTP server in front of the devnet's Esplora that
 * tells one lie (a fake tx, a wrong merkle proof, headers with too little work or the wrong difficulty,
 * a wrong tip height and tx status). Each lie is rejected with an SpvError naming the check, the liar is
 * charged through `onFault`, and with one honest endpoint beside it `lookupTx` + `confirmations` give
 * the answer the devnet's own chain gives. The hidden reorg (a liar serving a stale lighter branch) and
 * an honest reorg need a chain that forks: two regtest chains from one snapshot, in-process, each served
 * over loopback HTTP (the devnet's chain only ever appends).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWallet, importChain, type RegtestChain } from '../../../src/devnet/bitcoin/index.js';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { createBitcoinSpv, type BitcoinSpv, type BitcoinSpvOptions } from '../../../src/node/bridge/spv.js';
import type { SourceFault } from '../../../src/node/workflows/scores.js';
import { bytesToHex } from '../../../src/protocol/bytes.js';
import { hashMeetsTarget, toDisplayHex } from '../../../src/protocol/bitcoin/hash.js';
import { encodeHeader, headerHash } from '../../../src/protocol/bitcoin/header.js';
import { decodeCompact } from '../../../src/protocol/bitcoin/pow.js';
import { encodeTransaction } from '../../../src/protocol/bitcoin/tx.js';
import type { AlysLightError } from '../../../src/errors.js';
import { chainWithFaucet, steppingClock } from '../../devnet/bitcoin/helpers.js';
import { type EsploraLie, startEsploraProxy } from '../../helpers/esplora-proxy.js';
import { Cleanup, startDevnet } from '../helpers.js';

interface Fault {
  endpoint: string;
  kind: SourceFault;
  code: string;
  check?: string;
}

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

function spvOn(endpoints: string[], over: Partial<BitcoinSpvOptions> = {}): { spv: BitcoinSpv; faults: Fault[] } {
  const faults: Fault[] = [];
  const spv = createBitcoinSpv({
    ...over,
    endpoints,
    network: 'regtest',
    checkpoint: { height: 0 },
    onFault: (endpoint, kind, error: AlysLightError) =>
      faults.push({ endpoint, kind, code: String(error.code), check: (error.cause as { check?: string })?.check }),
  });
  return { spv, faults };
}

/** The cause's check of an SpvError, when there is a protocol error underneath. */
const codes = (faults: Fault[], endpoint: string) => faults.filter((f) => f.endpoint === endpoint).map((f) => f.code);

describe('lying Esplora endpoints in front of the devnet', () => {
  let devnet: Devnet;
  let txid: string;
  let expected: { height: number; blockHash: string };
  beforeAll(async () => {
    devnet = await startDevnet(cleanup, 'spv-lying');
    const sent = devnet.faucet.send(createWallet(devnet.bitcoin, 'spv-lying-bob').address, 42_000n);
    devnet.mineBitcoin(4);
    txid = toDisplayHex(sent.txid);
    const block = devnet.bitcoin.locate(sent.txid)!.block;
    expected = { height: block.height, blockHash: toDisplayHex(block.hash) };
  });

  const honestConfirmations = () => devnet.bitcoin.tipHeight() - expected.height + 1;

  /** With the liar first and the honest devnet second: the honest answer, the liar charged with `code`. */
  async function withLiar(lie: EsploraLie, code: string): Promise<Fault[]> {
    const proxy = await startEsploraProxy(devnet.urls.esplora, lie);
    cleanup.add(() => proxy.close());
    const { spv, faults } = spvOn([proxy.url, devnet.urls.esplora]);
    await spv.sync();
    expect(spv.tip()).toEqual({ height: devnet.bitcoin.tipHeight(), hash: toDisplayHex(devnet.bitcoin.tip().hash) });
    const seen = await spv.lookupTx(txid);
    expect(seen?.inclusion).toEqual(expected);
    expect(spv.confirmations(seen!.inclusion!)).toBe(honestConfirmations());
    expect(codes(faults, proxy.url)).toContain(code);
    expect(codes(faults, devnet.urls.esplora)).toEqual([]);
    for (const f of faults) expect(f.endpoint).toBe(proxy.url);
    return faults;
  }

  it('a fake tx (bytes that do not hash to the txid) is rejected and charged: spv.tx-mismatch', async () => {
    // a real transaction of the chain (the tip's coinbase), served for another txid
    const other = encodeTransaction(devnet.bitcoin.tip().transactions[0]!);
    const faults = await withLiar(
      (path) => (path === `/tx/${txid}/raw` ? { body: other } : undefined),
      'spv.tx-mismatch',
    );
    expect(faults.find((f) => f.code === 'spv.tx-mismatch')?.kind).toBe('invalid');
  });

  it('junk bytes for a tx are rejected and charged: spv.tx-mismatch (the decode error underneath)', async () => {
    const faults = await withLiar(
      (path) => (path === `/tx/${txid}/raw` ? { body: Uint8Array.of(1, 2, 3) } : undefined),
      'spv.tx-mismatch',
    );
    expect(faults.find((f) => f.code === 'spv.tx-mismatch')?.check).toBeUndefined();
  });

  it('a wrong merkle proof is rejected and charged: spv.merkle-proof (merkle.branch-root)', async () => {
    const faults = await withLiar(async (path, upstream) => {
      if (path !== `/tx/${txid}/merkle-proof`) return undefined;
      const proof = JSON.parse(new TextDecoder().decode((await upstream(path)).body));
      proof.merkle[0] = proof.merkle[0].replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
      return { body: JSON.stringify(proof), contentType: 'application/json' };
    }, 'spv.merkle-proof');
    expect(faults.find((f) => f.code === 'spv.merkle-proof')).toMatchObject({
      kind: 'invalid',
      check: 'merkle.branch-root',
    });
  });

  it('a merkle proof pointing at another verified block is rejected and charged: spv.merkle-proof', async () => {
    await withLiar(async (path, upstream) => {
      if (path !== `/tx/${txid}/merkle-proof`) return undefined;
      const proof = JSON.parse(new TextDecoder().decode((await upstream(path)).body));
      return {
        body: JSON.stringify({ ...proof, block_height: proof.block_height + 1 }),
        contentType: 'application/json',
      };
    }, 'spv.merkle-proof');
  });

  it('headers with too little work (PoW not met) are rejected and charged: spv.header', async () => {
    const fake = fakeChild(devnet.bitcoin, { meetTarget: false });
    const faults = await withLiar(lieAboutTip(fake), 'spv.header');
    expect(faults.find((f) => f.code === 'spv.header')?.kind).toBe('invalid');
  });

  it('a header with the wrong difficulty bits is rejected and charged: spv.header (bitcoin.header.bits)', async () => {
    const fake = fakeChild(devnet.bitcoin, { meetTarget: true, bits: 0x207ffffe });
    const faults = await withLiar(lieAboutTip(fake), 'spv.header');
    expect(faults.find((f) => f.code === 'spv.header')?.check).toBe('bitcoin.header.bits');
  });

  it('a wrong tip height and a wrong tx status (a wrong confirmation count) change nothing and are charged', async () => {
    const faults = await withLiar((path) => {
      if (path === '/blocks/tip/height') return { body: String(devnet.bitcoin.tipHeight() + 100) };
      if (path === `/tx/${txid}/status`)
        return {
          contentType: 'application/json',
          body: JSON.stringify({ confirmed: true, block_height: expected.height - 3, block_hash: expected.blockHash }),
        };
      return undefined;
    }, 'spv.tx-status');
    expect(codes(faults, faults[0]!.endpoint)).toContain('spv.tip-height');
  });

  it('a header that does not hash to the block asked for is rejected and charged: spv.header-hash', async () => {
    const tipHash = toDisplayHex(devnet.bitcoin.tip().hash);
    const parent = encodeHeader(devnet.bitcoin.block(devnet.bitcoin.tipHeight() - 1)!.header);
    await withLiar(
      (path) => (path === `/block/${tipHash}/header` ? { body: bytesToHex(parent) } : undefined),
      'spv.header-hash',
    );
  });

  it('a checkpoint the endpoints disagree on is refused; the odd one out is charged', async () => {
    const other = toDisplayHex(devnet.bitcoin.block(1)!.hash);
    const lie: EsploraLie = (path) => (path === '/block-height/0' ? { body: other } : undefined);
    const proxy = await startEsploraProxy(devnet.urls.esplora, lie);
    const honest = await startEsploraProxy(devnet.urls.esplora);
    cleanup.add(() => proxy.close());
    cleanup.add(() => honest.close());

    const three = spvOn([proxy.url, devnet.urls.esplora, honest.url]);
    await expect(three.spv.sync()).rejects.toMatchObject({ code: 'spv.checkpoint-disagreement' });
    expect(three.faults.map((f) => [f.endpoint, f.code])).toEqual([[proxy.url, 'spv.checkpoint-disagreement']]);
    expect(three.spv.tip()).toBeNull();

    const two = spvOn([proxy.url, devnet.urls.esplora]);
    await expect(two.spv.sync()).rejects.toMatchObject({ code: 'spv.checkpoint-disagreement' });
    expect(two.faults).toEqual([]); // one against one: nobody can be blamed, nothing is believed
  });

  it('alone, a liar gets nothing believed', async () => {
    const proxy = await startEsploraProxy(devnet.urls.esplora, async (path, upstream) => {
      if (path === `/tx/${txid}/merkle-proof`) {
        const proof = JSON.parse(new TextDecoder().decode((await upstream(path)).body));
        return { body: JSON.stringify({ ...proof, pos: proof.pos ^ 1 }), contentType: 'application/json' };
      }
      return undefined;
    });
    cleanup.add(() => proxy.close());
    const { spv, faults } = spvOn([proxy.url]);
    await spv.sync();
    expect((await spv.lookupTx(txid))?.inclusion).toBeNull();
    expect(codes(faults, proxy.url)).toContain('spv.merkle-proof');
  });
});

describe('reorgs (two regtest branches from one snapshot, served over loopback)', () => {
  let a: RegtestChain;
  let b: RegtestChain;
  let urlA: string;
  let urlB: string;
  let raw: Uint8Array;
  let txid: string;
  beforeAll(async () => {
    const base = chainWithFaucet();
    const snapshot = base.chain.exportChain();
    a = base.chain;
    const sent = base.faucet.send(createWallet(a, 'reorg-carol').address, 33_000n);
    raw = sent.raw;
    txid = toDisplayHex(sent.txid);
    a.mine(2); // branch A: the tx at tip-1, 2 blocks past the fork
    b = importChain(snapshot, { now: steppingClock(1_750_000_000) });
    b.mine(4); // branch B: 4 blocks past the fork, without the tx
    urlA = cleanup.add(() => a.close(), (await a.serve({ port: 0 })).url);
    urlB = cleanup.add(() => b.close(), (await b.serve({ port: 0 })).url);
  });

  it('an honest reorg below a tracked tx takes its confirmations to 0, and it is found again when re-mined', async () => {
    const endpoint = await startEsploraProxy(urlA);
    cleanup.add(() => endpoint.close());
    const { spv, faults } = spvOn([endpoint.url]);
    await spv.sync();
    const onA = (await spv.lookupTx(txid))!.inclusion!;
    expect(onA).toEqual({ height: a.tipHeight() - 1, blockHash: toDisplayHex(a.block(a.tipHeight() - 1)!.hash) });
    expect(spv.confirmations(onA)).toBe(2);

    endpoint.setUpstream(urlB);
    expect(await spv.sync()).toEqual({ height: b.tipHeight(), hash: toDisplayHex(b.tip().hash) });
    expect(spv.confirmations(onA)).toBe(0);
    expect(await spv.lookupTx(txid)).toBeNull();

    const copy = importChain(b.exportChain(), { now: steppingClock(1_760_000_000) });
    copy.broadcast(raw);
    copy.mine(1);
    endpoint.setUpstream((await copy.serve({ port: 0 })).url);
    cleanup.add(() => copy.close());
    await spv.sync();
    const onB = (await spv.lookupTx(txid))!.inclusion!;
    expect(onB.height).toBe(copy.tipHeight());
    expect(spv.confirmations(onB)).toBe(1);
    expect(spv.confirmations(onA)).toBe(0);
    expect(faults).toEqual([]);
  });

  it('a hidden reorg: a liar serving the stale lighter branch is not believed, and is charged', async () => {
    const { spv, faults } = spvOn([urlA, urlB]);
    expect(await spv.sync()).toEqual({ height: b.tipHeight(), hash: toDisplayHex(b.tip().hash) });
    const seen = await spv.lookupTx(txid);
    expect(seen?.inclusion).toBeNull(); // what the heavier branch says: not confirmed
    const staleInclusion = { height: a.tipHeight() - 1, blockHash: toDisplayHex(a.block(a.tipHeight() - 1)!.hash) };
    expect(spv.confirmations(staleInclusion)).toBe(0);
    expect(codes(faults, urlA)).toEqual(
      expect.arrayContaining(['spv.stale-branch', 'spv.merkle-proof', 'spv.tx-status']),
    );
    expect(faults.find((f) => f.code === 'spv.stale-branch')?.kind).toBe('stale');
    expect(codes(faults, urlB)).toEqual([]);
  });

  it('a fork below the verified window is refused (charged), the verified chain kept', async () => {
    const { spv, faults } = spvOn([urlA, urlB], { maxHeaders: 2 });
    expect(await spv.sync()).toEqual({ height: a.tipHeight(), hash: toDisplayHex(a.tip().hash) });
    expect(codes(faults, urlB)).toContain('spv.no-common-ancestor');
  });

  it('catches up in steps and keeps only the window (small bounds)', async () => {
    const { spv, faults } = spvOn([urlB], { maxHeadersPerSync: 7, maxHeaders: 10 });
    expect(await spv.sync()).toEqual({ height: b.tipHeight(), hash: toDisplayHex(b.tip().hash) });
    expect(faults).toEqual([]);
  });

  it('the order of the endpoints does not matter', async () => {
    const { spv, faults } = spvOn([urlB, urlA]);
    expect(await spv.sync()).toEqual({ height: b.tipHeight(), hash: toDisplayHex(b.tip().hash) });
    expect((await spv.lookupTx(txid))?.inclusion).toBeNull();
    expect(codes(faults, urlA)).toContain('spv.stale-branch');
    expect(codes(faults, urlB)).toEqual([]);
  });
});

// ------------------------------------------------------------------ fake headers

/** A header on top of `chain`'s tip whose hash does (or does not) meet its bits' target. */
function fakeChild(chain: RegtestChain, opts: { meetTarget: boolean; bits?: number }) {
  const tip = chain.tip();
  const header = {
    version: 0x20000000,
    prevBlockhash: tip.hash,
    merkleRoot: new Uint8Array(32).fill(7),
    time: tip.header.time + 600,
    bits: opts.bits ?? tip.header.bits,
    nonce: 0,
  };
  const target = decodeCompact(header.bits).target;
  while (hashMeetsTarget(headerHash(header), target) !== opts.meetTarget) header.nonce++;
  return { bytes: encodeHeader(header), hash: toDisplayHex(headerHash(header)), height: chain.tipHeight() + 1 };
}

/** A liar whose tip is `fake` (one header past the real tip). */
function lieAboutTip(fake: { bytes: Uint8Array; hash: string; height: number }): EsploraLie {
  return (path) => {
    if (path === '/blocks/tip/hash') return { body: fake.hash };
    if (path === '/blocks/tip/height') return { body: String(fake.height) };
    if (path === `/block/${fake.hash}/header`) return { body: bytesToHex(fake.bytes) };
    return undefined;
  };
}
