/**
 * The head-first start's protocol over real devnet chains: `src/protocol/anchor.ts` (verifyHead,
 * linkParent, nextWalkStep, anchorAt) and the backfill's link check (`src/node/workflows/backfill.ts`).
 *
 * - known answers: the anchor at every head of an in-process devnet (PoW gaps 3..28, the first PoW
 *   over genesis) and at the head of the persisted 20,000-block chain is the ChainVerifier's own state
 *   after a genesis replay (signers aside: hash-linked blocks carry []);
 * - adversarial: forged approvals, a changed payload, broken links, a chain without PoW, and every
 *   AuxPoW defect of the devnet fault server on P (re-signed by the federation, so only the defect is
 *   wrong), each rejected with its check;
 * - property (fast-check, seeded): a head-first start at block c, following the chain to N and
 *   backfilling to genesis ends in the same verifier state and the same `b/` and `h/` records, byte
 *   for byte, as a genesis replay to N - on the in-process chain and on the persisted chain's first
 *   blocks (which carry peg-outs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevnet, type Devnet } from '../../src/devnet/devnet.js';
import { resign, type FaultContext } from '../../src/devnet/faults/block.js';
import { mutateAuxPow, powContext } from '../../src/devnet/faults/auxpow.js';
import { AUXPOW_FAULTS, FAULT_INFO, type AuxPowFault } from '../../src/devnet/faults/names.js';
import { Seeded } from '../../src/devnet/faults/seeded.js';
import { deriveFederation } from '../../src/devnet/consensus/keys.js';
import { openRecordFile } from '../../src/devnet/generate/persist.js';
import { createMemoryStore } from '../../src/node/storage/memory.js';
import { BlockStore, type AppendBlock } from '../../src/node/storage/block-store.js';
import { decodeMeta, type StoredMeta } from '../../src/node/storage/meta.js';
import type { KvStore } from '../../src/node/storage/kv.js';
import { checkRangeLength, historyTarget, linkRange, nextRange } from '../../src/node/workflows/backfill.js';
import {
  anchorAt,
  linkParent,
  nextWalkStep,
  verifyHead,
  type AnchorOptions,
  type WalkBlock,
  type WalkStep,
} from '../../src/protocol/anchor.js';
import { encodeAggregationBits, prepareAuthorities } from '../../src/protocol/approvals.js';
import { signingRoot } from '../../src/protocol/block.js';
import { createBlsBackend } from '../../src/protocol/bls/index.js';
import { toHex, type Hex } from '../../src/protocol/bytes.js';
import { ChainVerifier, type ChainVerifierSnapshot } from '../../src/protocol/chain-verifier.js';
import { parseChainSpecJson } from '../../src/protocol/chainspec.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../src/protocol/codec/msgpack.js';
import { specFingerprint } from '../../src/protocol/spec-fingerprint.js';
import type { ChainSpec, ConsensusBlock, SignedConsensusBlock } from '../../src/protocol/types.js';
import { bigChainDir } from '../helpers/big-chain.js';
import { expectCheck } from '../helpers/expect.js';

// ---------------------------------------------------------------- chains

/** PoW gaps of the in-process chain (each a PoW block `gap` blocks after the previous one), then a tail. */
const GAPS = [5, 12, 3, 20, 8, 28, 4, 10, 15, 6, 9, 25, 7, 11];
const TAIL = 6;

interface Chain {
  blocks: SignedConsensusBlock[];
  spec: ChainSpec;
  opts: AnchorOptions;
  /** Numbers of the PoW blocks above genesis. */
  pows: number[];
}

const numberOf = (b: SignedConsensusBlock): number => Number(b.message.executionPayload.blockNumber);

function chainOf(blocks: SignedConsensusBlock[], spec: ChainSpec, backend: AnchorOptions['backend']): Chain {
  const pows = blocks.filter((b, i) => i > 0 && b.message.auxpowHeader !== null).map(numberOf);
  return { blocks, spec, opts: { spec, authorities: prepareAuthorities(spec.authorities, backend), backend }, pows };
}

/** `blocks` more blocks; with `pow`, a merged-mining round over them and one more block carrying it. */
async function produce(devnet: Devnet, blocks: number, pow: boolean): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    const r = await devnet.produceNext();
    if (!('block' in r)) throw new Error(`the devnet did not produce a block: ${JSON.stringify(r)}`);
  }
  if (!pow) return;
  if ((await devnet.mineAuxPow()) !== 'submitted') throw new Error('the devnet had no merged-mining work');
  await devnet.produceNext();
}

const blocksOf = (devnet: Devnet) =>
  Array.from({ length: devnet.chain.height + 1 }, (_, i) => devnet.chain.at(i)!.signed);

/** Blocks `from..to` of a persisted chain (decoded from consensus.bin; `blocks[n]` is block n) and its spec. */
function persisted(dir: string, from: number, to: number): { blocks: SignedConsensusBlock[]; spec: ChainSpec } {
  const file = openRecordFile(new Uint8Array(readFileSync(join(dir, 'consensus.bin'))), 'consensus-blocks', dir);
  const spec = parseChainSpecJson(readFileSync(join(dir, 'chain-spec.json'), 'utf8'));
  const blocks: SignedConsensusBlock[] = [];
  for (let n = from; n <= to; n++) blocks[n] = decodeSignedBlockMsgpack(file.get(n));
  return { blocks, spec };
}

// ---------------------------------------------------------------- the walk, as sources/head.ts does it

interface Walked {
  chain: WalkBlock[];
  step: WalkStep;
  /** Blocks fetched below the head. */
  fetched: number;
}

/** The finality walk down from `head` over `blocks` (by height), ranges of `first` blocks doubling up to 64. */
function walk(blocks: readonly SignedConsensusBlock[], head: WalkBlock, spec: ChainSpec, first = 8): Walked {
  const chain: WalkBlock[] = [head];
  let range = first;
  let fetched = 0;
  for (;;) {
    const step = nextWalkStep(chain, spec);
    if (step.kind !== 'need') return { chain, step, fetched };
    const start = Math.max(0, step.below - range);
    for (let n = step.below - 1; n >= start; n--) chain.push(linkParent(chain[chain.length - 1]!.block, blocks[n]!));
    fetched += step.below - start;
    range = Math.min(64, range * 2);
  }
}

/** Walk from block `c` and anchor there (throws what the walk or the anchor throws). */
function anchorFrom(ch: Chain, blocks: readonly SignedConsensusBlock[], c: number, first = 8) {
  const head = verifyHead(blocks[c]!, ch.opts);
  const w = walk(blocks, head, ch.spec, first);
  if (w.step.kind !== 'complete') throw new Error(`the walk from ${c} ended with ${w.step.kind}`);
  return { walked: w, anchor: anchorAt(w.chain, w.step, head.signers, ch.opts) };
}

// ---------------------------------------------------------------- genesis replay

/** The ChainVerifier's snapshot after a genesis replay to each height. */
function replay(ch: Chain): ChainVerifierSnapshot[] {
  const v = new ChainVerifier(ch.opts, ch.blocks[0]!);
  const out = [v.snapshot()];
  for (const b of ch.blocks.slice(1)) {
    v.import(b);
    out.push(v.snapshot());
  }
  return out;
}

/** A snapshot without signers (a genesis replay records who signed; an anchor has [] for hash-linked blocks). */
function unsigned(s: ChainVerifierSnapshot) {
  const strip = <T extends { signers: unknown }>(b: T) => ({ ...b, signers: 'x' });
  return { finality: s.finality, head: strip(s.head), window: s.window.map((w) => ({ ...w, block: strip(w.block) })) };
}

// ---------------------------------------------------------------- forging (the devnet federation's keys)

/**
 * What the devnet fault server's mutations need: the federation's keys (they re-sign), and for the
 * AuxPoW ones the devnet's chain store (`powContext` reads P's range from it).
 */
function faultContext(ch: Chain, members: Devnet['members'], devnet?: Devnet, fault = 'anchor'): FaultContext {
  const chain = devnet?.chain ?? (undefined as never); // re-signing alone never reads it
  return { devnet: { spec: ch.spec, members, chain, bls: ch.opts.backend }, rng: new Seeded('anchor-test', fault) };
}

/** `blocks` with block n replaced by `forged`, and every block above re-linked to it and re-signed. */
function relinkFrom(
  ctx: FaultContext,
  blocks: readonly SignedConsensusBlock[],
  n: number,
  forged: SignedConsensusBlock,
): SignedConsensusBlock[] {
  const out = blocks.slice();
  out[n] = forged;
  for (let i = n + 1; i < out.length; i++) {
    const message = structuredClone(out[i]!.message);
    message.parentHash = toHex(signingRoot(out[i - 1]!.message));
    out[i] = resign(ctx, message);
  }
  return out;
}

/** `b` with `change` applied to a copy of its message, re-signed by every member. */
function edit(ctx: FaultContext, b: SignedConsensusBlock, change: (m: ConsensusBlock) => void): SignedConsensusBlock {
  const message = structuredClone(b.message);
  change(message);
  return resign(ctx, message);
}

// ---------------------------------------------------------------- stores

const appended = new WeakMap<SignedConsensusBlock, AppendBlock>();
/** A block as the stores take it (cached: the genesis replay's store is built again for every run). */
function appendOf(b: SignedConsensusBlock): AppendBlock {
  let a = appended.get(b);
  if (!a) {
    a = { number: numberOf(b), hash: toHex(signingRoot(b.message)), block: encodeSignedBlockMsgpack(b) };
    appended.set(b, a);
  }
  return a;
}

function newStore(spec: ChainSpec): BlockStore {
  return new BlockStore(createMemoryStore(), { chainId: spec.chainId, spec: specFingerprint(spec), mode: 'full' });
}

/** Every record under `prefix`, key -> hex value. */
async function dump(kv: KvStore, prefix: string): Promise<Map<string, string>> {
  const keys = await kv.keys(prefix, 1e9);
  const values = await kv.getMany(keys);
  return new Map(keys.map((k, i) => [k, toHex(values[i]!)]));
}

async function meta(kv: KvStore) {
  const m = decodeMeta((await kv.get('meta'))!) as StoredMeta;
  return { ...m, snapshot: unsigned(m.snapshot) };
}

/** A genesis replay's store: block 0, then 1..n in batches of `batch`, each with the replay's snapshot. */
async function genesisStore(ch: Chain, snaps: ChainVerifierSnapshot[], n: number, batch: number): Promise<BlockStore> {
  const store = newStore(ch.spec);
  await store.init([appendOf(ch.blocks[0]!)], snaps[0]!);
  for (let from = 1; from <= n; from += batch) {
    const to = Math.min(n, from + batch - 1);
    await store.append(ch.blocks.slice(from, to + 1).map(appendOf), snaps[to]!);
  }
  return store;
}

/** The backfill to genesis: ranges of `batch` below the lowest stored block, each linked and prepended. */
async function backfill(ch: Chain, store: BlockStore, batch: number): Promise<number> {
  const target = historyTarget('all', { from: store.historyFrom!, head: store.stored!.head.number }, undefined);
  let ranges = 0;
  for (let r = nextRange(store.historyFrom!, target, batch); r; r = nextRange(store.historyFrom!, target, batch)) {
    const got = ch.blocks.slice(r.start, r.start + r.count);
    checkRangeLength(got.length, r.count);
    const child = (await store.block(store.historyFrom!))!;
    await store.prepend(linkRange(got, child, ch.spec));
    ranges++;
  }
  return ranges;
}

/**
 * Head-first at `c` then follow to `n` and backfill, against a genesis replay to `n`: the same
 * verifier state and head, the same records byte for byte, the same meta (signers aside).
 */
async function headFirstEqualsReplay(
  ch: Chain,
  snaps: ChainVerifierSnapshot[],
  p: { n: number; c: number; first: number; batch: number; fill: number },
): Promise<void> {
  const { n, c } = p;
  const head = verifyHead(ch.blocks[c]!, ch.opts);
  const w = walk(ch.blocks, head, ch.spec, p.first);
  const lastPow = ch.pows.filter((x) => x <= c).pop();
  if (w.step.kind === 'genesis') {
    expect(lastPow).toBeUndefined(); // only a chain without PoW above genesis falls back to the genesis replay
    return;
  }
  expect(w.step.kind).toBe('complete');
  const anchor = anchorAt(w.chain, w.step as Extract<WalkStep, { kind: 'complete' }>, head.signers, ch.opts);
  // known answers: P is the latest PoW block, it finalizes the block before it, history from its range_start
  const rangeStart = ch.blocks.findIndex((b) => toHex(signingRoot(b.message)) === anchor.lowest.hash);
  expect(anchor.pow.number).toBe(lastPow);
  expect(anchor.finalized.number).toBe(lastPow! - 1);
  expect(anchor.lowest.number).toBe(rangeStart);
  expect(rangeStart).toBe(ch.pows.filter((x) => x < lastPow!).pop() ?? 1);
  expect(unsigned(anchor.snapshot)).toEqual(unsigned(snaps[c]!));

  const store = newStore(ch.spec);
  await store.init(w.chain.map((b) => appendOf(b.block)).reverse(), anchor.snapshot);
  const v = new ChainVerifier(ch.opts, anchor.snapshot);
  for (let from = c + 1; from <= n; from += p.batch) {
    const to = Math.min(n, from + p.batch - 1);
    for (const b of ch.blocks.slice(from, to + 1)) v.import(b);
    await store.append(ch.blocks.slice(from, to + 1).map(appendOf), v.snapshot());
  }
  await backfill(ch, store, p.fill);
  expect(store.historyFrom).toBe(0);

  const replayed = await genesisStore(ch, snaps, n, p.batch);
  expect(v.state).toEqual(snaps[n]!.finality);
  expect({ ...v.head, signers: 'x' }).toEqual({ ...snaps[n]!.head, signers: 'x' });
  expect(unsigned(v.snapshot())).toEqual(unsigned(snaps[n]!));
  for (const prefix of ['b/', 'h/']) {
    const [a, b] = [await dump(store.kv, prefix), await dump(replayed.kv, prefix)];
    expect(a.size).toBe(n + 1);
    expect(a).toEqual(b);
  }
  expect(await meta(store.kv)).toEqual(await meta(replayed.kv));
  expect((await store.load()).kind).toBe('ok');
}

// ---------------------------------------------------------------- the in-process chains

let devnet: Devnet;
let main: Chain;
let mainSnaps: ChainVerifierSnapshot[];
/** A chain with no PoW for 45 blocks (built with max_blocks_without_pow 100), then PoW block 46 and 3 more. */
let slow: Devnet;
let slowChain: Chain;

beforeAll(async () => {
  // a chain id below 65536, so the parent-chain-id AuxPoW defect applies
  devnet = await createDevnet({ seed: 'anchor', noServers: true, chainId: 21_212 });
  for (const gap of GAPS) await produce(devnet, gap - 1, true);
  await produce(devnet, TAIL, false);
  const backend = await createBlsBackend('auto');
  main = chainOf(blocksOf(devnet), devnet.spec, backend);
  mainSnaps = replay(main);

  slow = await createDevnet({ seed: 'anchor-slow', noServers: true, maxBlocksWithoutPow: 100 });
  await produce(slow, 45, true);
  await produce(slow, 3, false);
  slowChain = chainOf(blocksOf(slow), slow.spec, backend);
}, 60_000);

afterAll(async () => {
  await devnet?.stop();
  await slow?.stop();
});

const HEAD = () => main.blocks.length - 1;
/** A PoW block whose previous PoW block is not genesis, and whose range has several blocks. */
const P = () => main.pows[3]!;

describe('verifyHead', () => {
  it('accepts the devnet head: its signing root, number and signers', () => {
    const h = verifyHead(main.blocks[HEAD()]!, main.opts);
    expect(h.root).toBe(devnet.chain.head.hash);
    expect(h.number).toBe(HEAD());
    expect(h.signers).toEqual([0, 1, 2]);
  });

  it("rejects a head carrying another block's aggregate approval", () => {
    const b = main.blocks[HEAD()]!;
    expectCheck(
      () => verifyHead({ message: b.message, signature: main.blocks[HEAD() - 1]!.signature }, main.opts),
      'approvals.signature',
    );
  });

  it('rejects a head with an aggregation bit cleared (the aggregate no longer matches) or below the threshold', () => {
    const b = main.blocks[HEAD()]!;
    const bits = (mask: number) => ({
      message: b.message,
      signature: { ...b.signature, aggregationBits: encodeAggregationBits(mask) },
    });
    expectCheck(() => verifyHead(bits(0b011), main.opts), 'approvals.signature');
    expectCheck(() => verifyHead(bits(0b001), main.opts), 'approvals.threshold');
    expectCheck(() => verifyHead(bits(0b1011), main.opts), 'approvals.bits-beyond-authorities');
  });

  it('rejects a head whose payload field changed, though the federation signed it: the payload hash', () => {
    const ctx = faultContext(main, devnet.members);
    const b = edit(ctx, main.blocks[HEAD()]!, (m) => {
      m.executionPayload.gasLimit += 1n;
    });
    expectCheck(() => verifyHead(b, main.opts), 'payload.block-hash');
  });
});

describe('linkParent', () => {
  const n = () => 30;

  it('authenticates the parent by its recomputed signing root', () => {
    const linked = linkParent(main.blocks[n()]!, main.blocks[n() - 1]!);
    expect(linked.root).toBe(devnet.chain.at(n() - 1)!.hash);
  });

  it('rejects another block at the same height, and the parent with a field changed', () => {
    const child = main.blocks[n()]!;
    expectCheck(() => linkParent(child, slowChain.blocks[n() - 1]!), 'block.parent-hash');
    const changed = structuredClone(main.blocks[n() - 1]!);
    changed.message.slot += 1;
    expectCheck(() => linkParent(child, changed), 'block.parent-hash');
    expectCheck(() => linkParent(child, main.blocks[n() - 2]!), 'block.parent-hash');
  });

  it("rejects a child whose payload parent or number is not the parent's", () => {
    const parent = main.blocks[n() - 1]!;
    const payloadParent = structuredClone(main.blocks[n()]!);
    payloadParent.message.executionPayload.parentHash = main.blocks[n() - 2]!.message.executionPayload.blockHash;
    expectCheck(() => linkParent(payloadParent, parent), 'block.payload-parent');
    const number = structuredClone(main.blocks[n()]!);
    number.message.executionPayload.blockNumber += 1n;
    expectCheck(() => linkParent(number, parent), 'block.number');
  });
});

describe('nextWalkStep', () => {
  it("says 'need' until the PoW block and its range_start are in, then 'complete' with their indices", () => {
    const p = P();
    const prev = main.pows[2]!;
    const c = p + 3;
    const chain: WalkBlock[] = [verifyHead(main.blocks[c]!, main.opts)];
    const steps: WalkStep[] = [];
    for (;;) {
      const step = nextWalkStep(chain, main.spec);
      steps.push(step);
      if (step.kind !== 'need') break;
      expect(step.below).toBe(numberOf(chain[chain.length - 1]!.block));
      chain.push(linkParent(chain[chain.length - 1]!.block, main.blocks[step.below - 1]!));
    }
    // one block at a time: 'need' down to P's range_start (the previous PoW block), then complete
    expect(steps.slice(0, -1).every((s) => s.kind === 'need')).toBe(true);
    expect(steps.length).toBe(c - prev + 1);
    expect(steps[steps.length - 1]).toEqual({ kind: 'complete', pow: c - p, rangeStart: c - prev });
  });

  it("says 'genesis' for a young chain without PoW above genesis", () => {
    expect(main.pows[0]).toBeGreaterThan(4);
    const w = walk(main.blocks, verifyHead(main.blocks[4]!, main.opts), main.spec, 1);
    expect(w.step).toEqual({ kind: 'genesis' });
    expect(w.chain.map((b) => numberOf(b.block))).toEqual([4, 3, 2, 1]);
  });

  // the walk's answer does not depend on how far its ranges reach: one block at a time, or all at once
  it.each([1, 64])(
    'throws anchor.no-pow when no PoW block lies within max_blocks_without_pow + 1 of the head (ranges from %i)',
    (first) => {
      const spec = { ...slowChain.spec, maxBlocksWithoutPow: 30 };
      const head = verifyHead(slowChain.blocks[45]!, slowChain.opts);
      // the same chain under its own spec (100) is young: genesis
      expect(walk(slowChain.blocks, head, slowChain.spec, first).step).toEqual({ kind: 'genesis' });
      expectCheck(() => walk(slowChain.blocks, head, spec, first), 'anchor.no-pow');
    },
  );

  it('anchor.no-pow: the bound is 31 blocks below the head (max_blocks_without_pow + 1)', () => {
    const spec = { ...slowChain.spec, maxBlocksWithoutPow: 30 };
    const chain: WalkBlock[] = [verifyHead(slowChain.blocks[45]!, slowChain.opts)];
    for (let i = 44; i >= 14; i--) chain.push(linkParent(chain[chain.length - 1]!.block, slowChain.blocks[i]!));
    expect(nextWalkStep(chain, spec)).toEqual({ kind: 'need', below: 14 });
    chain.push(linkParent(chain[chain.length - 1]!.block, slowChain.blocks[13]!));
    expectCheck(() => nextWalkStep(chain, spec), 'anchor.no-pow');
    // a young chain: the head at most 31 above block 1
    const young: WalkBlock[] = [verifyHead(slowChain.blocks[32]!, slowChain.opts)];
    for (let i = 31; i >= 0; i--) young.push(linkParent(young[young.length - 1]!.block, slowChain.blocks[i]!));
    expect(nextWalkStep(young, spec)).toEqual({ kind: 'genesis' });
    expect(nextWalkStep(young.slice(0, -1), spec)).toEqual({ kind: 'genesis' });
  });

  it.each([1, 64])(
    "throws anchor.range-start when P's range_start is not within max_blocks_without_pow + 1 below P (ranges from %i)",
    (first) => {
      const spec = { ...slowChain.spec, maxBlocksWithoutPow: 30 };
      const head = verifyHead(slowChain.blocks[49]!, slowChain.opts);
      expect(slowChain.pows).toEqual([46]);
      expectCheck(() => walk(slowChain.blocks, head, spec, first), 'anchor.range-start', /block 46: its range_start/);
      // under its own spec the walk goes down to block 1 (range_start) and anchors
      const w = walk(slowChain.blocks, head, slowChain.spec, first);
      expect(w.step).toEqual({ kind: 'complete', pow: 3, rangeStart: 48 });
    },
  );
});

describe('anchorAt', () => {
  it("equals the ChainVerifier's own state after a genesis replay, at every head (signers aside)", () => {
    for (let c = main.pows[0]!; c <= HEAD(); c++) {
      const { anchor, walked } = anchorFrom(main, main.blocks, c);
      expect(unsigned(anchor.snapshot)).toEqual(unsigned(mainSnaps[c]!));
      expect(anchor.head.hash).toBe(devnet.chain.at(c)!.hash);
      // the walk's cost: down to P's range_start, overshooting by less than its last range
      expect(c - anchor.lowest.number).toBeLessThanOrEqual(2 * Math.max(...GAPS));
      expect(walked.fetched).toBeLessThan(2 * (c - anchor.lowest.number) + 8);
    }
  });

  it('keeps the signers it verified (the head and P) and [] for the blocks linked to them', () => {
    const c = P() + 2;
    const { anchor } = anchorFrom(main, main.blocks, c);
    const signers = new Map(anchor.snapshot.window.map((w) => [w.block.number, w.block.signers]));
    expect(signers.get(c)).toEqual([0, 1, 2]);
    expect(signers.get(P())).toEqual([0, 1, 2]);
    expect(signers.get(P() + 1)).toEqual([]);
  });

  it("rejects P carrying another block's approvals (its approvals are checked below the head)", () => {
    const blocks = main.blocks.slice(0, P() + 3);
    blocks[P()] = { message: blocks[P()]!.message, signature: blocks[P() - 1]!.signature };
    expectCheck(() => anchorFrom(main, blocks, P() + 2), 'approvals.signature');
  });

  // every AuxPoW defect of the devnet fault server, on P re-signed by the federation: P as the head,
  // and P below the head (the blocks above re-linked and re-signed); the anchor finds what the
  // ChainVerifier finds, except a range that skips blocks: the anchor then misses the previous PoW block
  const auxpowCheck = (f: AuxPowFault) =>
    f === 'auxpow-range-gap' ? 'anchor.previous-pow' : FAULT_INFO[f].trips.split(' ')[0]!;
  it.each(AUXPOW_FAULTS.map((f) => [f, auxpowCheck(f)]))('rejects P with %s: %s', (fault, check) => {
    const ctx = faultContext(main, devnet.members, devnet, fault);
    const pc = powContext(ctx, devnet.chain.at(P())!)!;
    const forged = mutateAuxPow(ctx, fault as AuxPowFault, pc).block;
    expectCheck(() => anchorFrom(main, [...main.blocks.slice(0, P()), forged], P()), check);
    const above = relinkFrom(ctx, main.blocks.slice(0, P() + 4), P(), forged);
    expectCheck(() => anchorFrom(main, above, P() + 3), check);
  });

  it('rejects P with a byte of its coinbase or its coinbase merkle branch flipped (re-signed)', () => {
    const ctx = faultContext(main, devnet.members);
    const coinbase = edit(ctx, main.blocks[P()]!, (m) => {
      const out = m.auxpowHeader!.auxpow!.coinbaseTxn.outputs[0]!;
      out.scriptPubkey = out.scriptPubkey.slice();
      out.scriptPubkey[out.scriptPubkey.length - 1]! ^= 1;
    });
    expectCheck(() => anchorFrom(main, [...main.blocks.slice(0, P()), coinbase], P()), 'auxpow.coinbase-merkle-root');
    const branch = edit(ctx, main.blocks[P()]!, (m) => {
      const b = m.auxpowHeader!.auxpow!.coinbaseBranch;
      if (b.branchHash.length === 0) b.branchHash.push(new Uint8Array(32).fill(7));
      else b.branchHash[0] = b.branchHash[0]!.map((x, i) => (i === 0 ? x ^ 1 : x));
    });
    expectCheck(() => anchorFrom(main, [...main.blocks.slice(0, P()), branch], P()), 'auxpow.coinbase-merkle-root');
  });

  it('rejects P whose range_start is one block early (overlapping the last finalized block): range continuity', () => {
    const ctx = faultContext(main, devnet.members);
    const prev = main.pows[2]!;
    const early = edit(ctx, main.blocks[P()]!, (m) => {
      m.auxpowHeader!.rangeStart = toHex(signingRoot(main.blocks[prev - 1]!.message));
    });
    expectCheck(() => anchorFrom(main, [...main.blocks.slice(0, P()), early], P()), 'pow.range-continuity');
  });

  it('rejects P whose range_end is not in the walked range: pow.range-unknown', () => {
    const ctx = faultContext(main, devnet.members);
    const unknown = edit(ctx, main.blocks[P()]!, (m) => {
      m.auxpowHeader!.rangeEnd = `0x${'ab'.repeat(32)}` as Hex;
    });
    expectCheck(() => anchorFrom(main, [...main.blocks.slice(0, P()), unknown], P()), 'pow.range-unknown');
  });

  it('rejects a wrong finalized peg-out count on P, and finalized peg-outs on a block above P', () => {
    const ctx = faultContext(main, devnet.members);
    const tx = { version: 2, lockTime: 0, inputs: [], outputs: [{ value: 1000n, scriptPubkey: new Uint8Array(22) }] };
    const more = edit(ctx, main.blocks[P()]!, (m) => {
      m.finalizedPegouts = [...m.finalizedPegouts, tx];
    });
    expectCheck(
      () => anchorFrom(main, [...main.blocks.slice(0, P()), more], P()),
      'pow.finalized-pegouts-count',
      /has 0 peg-out proposals, but the block finalizes 1/,
    );
    const tail = edit(ctx, main.blocks[P() + 1]!, (m) => {
      m.finalizedPegouts = [tx];
    });
    const above = relinkFrom(ctx, main.blocks.slice(0, P() + 3), P() + 1, tail);
    expectCheck(() => anchorFrom(main, above, P() + 2), 'finality.unexpected-finalized-pegouts');
  });

  it("rejects P's range one block longer than max_blocks_without_pow allows, as a genesis replay does", () => {
    // P = 46 finalizes 1..45 over genesis: block 45 is 45 blocks past genesis
    const spec = { ...slowChain.spec, maxBlocksWithoutPow: 44 };
    const opts = { ...slowChain.opts, spec };
    const head = verifyHead(slowChain.blocks[49]!, slowChain.opts);
    const w = walk(slowChain.blocks, head, spec, 64);
    expect(w.step).toEqual({ kind: 'complete', pow: 3, rangeStart: 48 });
    const step = w.step as Extract<WalkStep, { kind: 'complete' }>;
    expectCheck(() => anchorAt(w.chain, step, head.signers, opts), 'finality.max-blocks-without-pow', /block 45 /);
    const v = new ChainVerifier(opts, slowChain.blocks[0]!);
    for (let n = 1; n < 45; n++) v.import(slowChain.blocks[n]!);
    expectCheck(() => v.import(slowChain.blocks[45]!), 'finality.max-blocks-without-pow', /block 45 /);
    expect(
      anchorAt(w.chain, step, head.signers, { ...opts, spec: { ...spec, maxBlocksWithoutPow: 45 } }).pow.number,
    ).toBe(46);
  });

  it('rejects a head too far past the last finalized block: finality.max-blocks-without-pow', () => {
    const head = verifyHead(slowChain.blocks[49]!, slowChain.opts);
    const w = walk(slowChain.blocks, head, slowChain.spec, 1);
    const step = w.step as Extract<WalkStep, { kind: 'complete' }>;
    expect(anchorAt(w.chain, step, head.signers, slowChain.opts).finalized.number).toBe(45);
    const strict = { ...slowChain.opts, spec: { ...slowChain.spec, maxBlocksWithoutPow: 3 } };
    expectCheck(() => anchorAt(w.chain, step, head.signers, strict), 'finality.max-blocks-without-pow');
  });
});

describe('head-first at c, follow to N, backfill to genesis = genesis replay to N (property)', () => {
  /** N in [minC, max], c in [minC, N] and at most `follow` below N (the blocks imported after the anchor cost BLS). */
  const cut = (max: number, minC: number, follow: number) =>
    fc
      .integer({ min: minC, max })
      .chain((n) => fc.record({ n: fc.constant(n), c: fc.integer({ min: Math.max(minC, n - follow), max: n }) }));
  const params = (max: number, minC = 1, follow = max) =>
    fc.record({
      cut: cut(max, minC, follow),
      first: fc.integer({ min: 1, max: 16 }),
      batch: fc.integer({ min: 1, max: 40 }),
      fill: fc.integer({ min: 1, max: 300 }),
    });

  it('on the in-process chain (PoW gaps 3..28)', async () => {
    await fc.assert(
      fc.asyncProperty(params(HEAD()), async ({ cut, ...p }) =>
        headFirstEqualsReplay(main, mainSnaps, { ...cut, ...p }),
      ),
      { numRuns: 25, seed: 12 },
    );
  });

  it("the store's prepend takes only the parent of its lowest block, and a refused batch writes nothing", async () => {
    const k = 12;
    const store = newStore(main.spec);
    await store.init(main.blocks.slice(k, k + 3).map(appendOf), mainSnaps[k + 2]!);
    const parent = appendOf(main.blocks[k - 1]!);
    const grand = appendOf(main.blocks[k - 2]!);
    const before = await dump(store.kv, '');
    const refused: [string, AppendBlock[]][] = [
      ['a root that is not the lowest block parent_hash', [{ ...parent, hash: grand.hash }]],
      ['the parent root over the grandparent bytes', [{ ...parent, block: grand.block }]],
      ['the parent root with another number', [{ ...parent, number: k - 2 }]],
      ['the grandparent first', [grand, parent]],
      ['a good parent, then a block that is not its parent', [parent, appendOf(main.blocks[k - 3]!)]],
    ];
    for (const [what, blocks] of refused) {
      await expect(store.prepend(blocks), what).rejects.toThrow(/is not the parent of the lowest stored block/);
      expect(await dump(store.kv, ''), what).toEqual(before);
      expect(store.historyFrom, what).toBe(k);
    }
    await store.prepend([parent, grand]);
    expect(store.historyFrom).toBe(k - 2);
    expect(await store.block(k - 2)).toEqual(main.blocks[k - 2]);
  });

  describe('on the first 600 blocks of the persisted 20,000-block chain (peg-outs)', () => {
    let big: Chain;
    let bigSnaps: ChainVerifierSnapshot[];
    let top: Chain;
    let manifest: { head: { number: number; hash: Hex; finalized: number } };
    beforeAll(async () => {
      const dir = await bigChainDir();
      const prefix = persisted(dir, 0, 599);
      big = chainOf(prefix.blocks, prefix.spec, main.opts.backend);
      bigSnaps = replay(big);
      manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      const last = persisted(dir, manifest.head.number - 40, manifest.head.number);
      top = chainOf(last.blocks, last.spec, main.opts.backend);
    }, 600_000);

    it('carries peg-out proposals and finalized peg-outs', () => {
      expect(big.blocks.filter((b) => b.message.pegoutPaymentProposal).length).toBeGreaterThan(10);
      expect(big.blocks.filter((b) => b.message.finalizedPegouts.length).length).toBeGreaterThan(5);
    });

    it('property', async () => {
      await fc.assert(
        fc.asyncProperty(params(big.blocks.length - 1, big.pows[0]!, 120), async ({ cut, ...p }) =>
          headFirstEqualsReplay(big, bigSnaps, { ...cut, ...p }),
        ),
        { numRuns: 20, seed: 20_000 },
      );
    });

    it("anchors at the chain's head (block 20,000) on the manifest's finalized block", () => {
      const { anchor, walked } = anchorFrom(top, top.blocks, manifest.head.number);
      expect(anchor.head.hash).toBe(manifest.head.hash);
      expect(anchor.finalized.number).toBe(manifest.head.finalized);
      expect(anchor.pow.number).toBe(manifest.head.number);
      // P is the head: the walk needs its range (one PoW gap, at most 13 blocks here), plus the overshoot
      expect(walked.chain.length).toBeLessThanOrEqual(1 + 13 + 16);
    });

    it("rejects a PoW block that drops one of its range's peg-outs (re-signed by the chain's federation)", () => {
      const members = deriveFederation({ seed: 'alys-light-big-chain', authorities: 3 });
      const ctx = faultContext(big, members);
      const p = big.pows.find((n) => big.blocks[n]!.message.finalizedPegouts.length >= 2)!;
      const honest = big.blocks[p]!;
      // the seed's keys are the chain's federation: re-signing the honest block gives its very approval
      expect(resign(ctx, honest.message).signature).toEqual(honest.signature);
      expect(anchorFrom(big, big.blocks, p).anchor.pow.number).toBe(p);
      const dropped = edit(ctx, honest, (m) => {
        m.finalizedPegouts = m.finalizedPegouts.slice(1);
      });
      const n = honest.message.finalizedPegouts.length;
      expectCheck(
        () => anchorFrom(big, [...big.blocks.slice(0, p), dropped], p),
        'pow.finalized-pegouts-count',
        new RegExp(`has ${n} peg-out proposals, but the block finalizes ${n - 1}`),
      );
    });
  });
});
