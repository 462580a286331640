/**
 * The block-import workflow (src/node/workflows/block-import.ts) on real, federation-signed devnet
 * blocks: summaries from `summarizeBlock` (as the verifier pool builds them), msgpack block bytes,
 * the ChainVerifier options of the ChainActor (approvals 'all' in full mode, 'deferred' in
 * pow-checkpoint mode). Nothing is mocked; every expected value comes from the devnet chain.
 *
 * The honest chain has a PoW block every 6 heights (6, 12, 18, 24); each finalizes the blocks since
 * the last finalized one: 6 covers 1..5, then p covers (p - 6)..(p - 1). Competing branches are built with the devnet's fault tooling: a
 * re-signed sibling at height k (`equivocate`: another slot, the honest parent) and its children
 * (the honest blocks re-parented onto it and re-signed by every authority), so both branches are
 * validly signed and only a verified AuxPoW decides between them.
 *
 * Storage is modelled by `Store`, which applies each PersistBatch the way the StorageActor does
 * (truncate first, then append) and checks that the batches are contiguous.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevnet, type Devnet } from '../../../src/devnet/devnet.js';
import { mutateAuxPow, powContext } from '../../../src/devnet/faults/auxpow.js';
import { cloneMessage, equivocate, resign, type FaultContext } from '../../../src/devnet/faults/block.js';
import type { AuxPowFault } from '../../../src/devnet/faults/names.js';
import { Seeded } from '../../../src/devnet/faults/seeded.js';
import {
  BlockImport,
  type BatchResult,
  type ImportItem,
  type PersistBatch,
} from '../../../src/node/workflows/block-import.js';
import { prepareAuthorities } from '../../../src/protocol/approvals.js';
import { signingRoot } from '../../../src/protocol/block.js';
import { createBlsBackend } from '../../../src/protocol/bls/index.js';
import { toHex } from '../../../src/protocol/bytes.js';
import {
  summarizeBlock,
  type BlockSummary,
  type ChainVerifierOptions,
  type ChainVerifierSnapshot,
} from '../../../src/protocol/chain-verifier.js';
import { encodeSignedBlockMsgpack } from '../../../src/protocol/codec/msgpack.js';
import { computePayloadBlockHash } from '../../../src/protocol/execution/payload.js';
import type { Hex, SignedConsensusBlock } from '../../../src/protocol/types.js';

type Mode = 'full' | 'deferred';

const TIP = 24;
const POW_EVERY = 6;
const SEED = 'workflow-block-import';

let devnet: Devnet;
let base: Omit<ChainVerifierOptions, 'approvals'>;
let faults: FaultContext;
/** The honest chain 0..TIP, and the signing root of each block. */
const honest: SignedConsensusBlock[] = [];
const honestHash: Hex[] = [];
/** Every block a test built (honest or not), by signing root. */
const known = new Map<Hex, SignedConsensusBlock>();

beforeAll(async () => {
  devnet = await createDevnet({ noServers: true, users: 4, seed: SEED });
  for (let h = 1; h <= TIP; h++) {
    if (h % POW_EVERY === 0) expect(await devnet.mineAuxPow()).toBe('submitted');
    await devnet.produceNext();
  }
  for (let n = 0; n <= TIP; n++) {
    const b = devnet.chain.at(n)!;
    honest.push(b.signed);
    honestHash.push(b.hash);
    known.set(b.hash, b.signed);
  }
  const backend = await createBlsBackend('auto');
  base = { spec: devnet.spec, authorities: prepareAuthorities(devnet.spec.authorities, backend), backend };
  faults = { devnet, rng: new Seeded(SEED, 'equivocation') };
});

afterAll(async () => {
  await devnet?.stop();
});

// ------------------------------------------------------------------------------------------ helpers

const hashOf = (b: SignedConsensusBlock): Hex => toHex(signingRoot(b.message));
const remember = (b: SignedConsensusBlock): SignedConsensusBlock => (known.set(hashOf(b), b), b);

function opts(mode: Mode): ChainVerifierOptions {
  return { ...base, approvals: mode === 'full' ? 'all' : 'deferred' };
}

const newImport = (mode: Mode) => new BlockImport(opts(mode), honest[0]!);

const summaries = new Map<string, BlockSummary>();
/** What the verifier pool hands the ChainActor: approvals verified in full mode (and for PoW blocks always). */
function summary(b: SignedConsensusBlock, mode: Mode): BlockSummary {
  const key = `${mode}/${hashOf(b)}`;
  let s = summaries.get(key);
  if (!s) {
    const approvals = mode === 'full';
    s = summarizeBlock(b, { ...base, approvals, payloadHash: approvals || b.message.auxpowHeader !== null });
    summaries.set(key, s);
  }
  return s;
}

const bytes = new Map<Hex, Uint8Array>();
function item(b: SignedConsensusBlock, mode: Mode, source = 'honest'): ImportItem {
  const hash = hashOf(b);
  let block = bytes.get(hash);
  if (!block) bytes.set(hash, (block = encodeSignedBlockMsgpack(b)));
  return { summary: summary(b, mode), block, source };
}

/** Honest items from..to (inclusive). */
function honestItems(from: number, to: number, mode: Mode, source = 'honest'): ImportItem[] {
  const out: ImportItem[] = [];
  for (let n = from; n <= to; n++) out.push(item(honest[n]!, mode, source));
  return out;
}

/** The verified approvals of the pending tail (what the verifier pool answers the ChainActor). */
function tailSigners(bi: BlockImport): Map<Hex, number[]> {
  return new Map(bi.pendingTail().map((t) => [t.hash, summary(known.get(t.hash)!, 'full').signers!]));
}

/** A federation-signed sibling of honest block n (same content, another slot, the honest parent). */
function sibling(n: number): SignedConsensusBlock {
  return remember(equivocate(faults, devnet.chain.at(n)!).block);
}

/** `b` with another parent, re-signed by every authority. */
function reparent(b: SignedConsensusBlock, parentHash: Hex): SignedConsensusBlock {
  const message = cloneMessage(b.message);
  message.parentHash = parentHash;
  return remember(resign(faults, message));
}

const branches = new Map<string, SignedConsensusBlock[]>();
/** A competing, validly signed branch k..to: a sibling of honest k, then the honest blocks re-parented onto it. */
function branch(k: number, to: number): SignedConsensusBlock[] {
  const key = `${k}-${to}`;
  let out = branches.get(key);
  if (!out) {
    out = [sibling(k)];
    for (let n = k + 1; n <= to; n++) out.push(reparent(honest[n]!, hashOf(out[out.length - 1]!)));
    branches.set(key, out);
  }
  return out;
}

/** Honest PoW block p with one AuxPoW defect (re-mined, re-signed by every authority). */
function badPow(p: number, fault: AuxPowFault): SignedConsensusBlock {
  const ctx: FaultContext = { devnet, rng: new Seeded(SEED, fault) };
  return remember(mutateAuxPow(ctx, fault, powContext(ctx, devnet.chain.at(p)!)!).block);
}

/** Honest block p claiming another block number (payload hash recomputed, re-signed): valid on its own. */
function renumbered(p: number, number: number): SignedConsensusBlock {
  const message = cloneMessage(honest[p]!.message);
  message.executionPayload.blockNumber = BigInt(number);
  message.executionPayload.blockHash = computePayloadBlockHash(message.executionPayload);
  return remember(resign(faults, message));
}

/** The last height the honest chain's PoW blocks 1..through finalize (0: none). */
function finalizedBy(through: number): number {
  let f = 0;
  for (let n = 1; n <= through; n++) {
    const header = honest[n]!.message.auxpowHeader;
    if (header) f = Math.max(f, devnet.chain.get(header.rangeEnd)!.number);
  }
  return f;
}

/** Storage as the StorageActor keeps it: truncate, then append; every batch contiguous. */
class Store {
  readonly blocks = new Map<number, Hex>([[0, honestHash[0]!]]);
  snapshot: ChainVerifierSnapshot | undefined;
  truncations: number[] = [];

  get head(): number {
    return this.blocks.size - 1;
  }

  apply(p: PersistBatch | null): void {
    if (!p) return;
    if (p.truncate) {
      expect(p.truncate.to, 'a truncation drops persisted blocks').toBeLessThan(this.head);
      expect(p.truncate.snapshot.head.number).toBe(p.truncate.to);
      expect(p.truncate.snapshot.head.hash).toBe(this.blocks.get(p.truncate.to));
      for (const n of [...this.blocks.keys()]) if (n > p.truncate.to) this.blocks.delete(n);
      this.truncations.push(p.truncate.to);
    }
    for (const b of p.blocks) {
      expect(b.number, 'persisted blocks are contiguous').toBe(this.head + 1);
      expect(b.summary.hash).toBe(b.hash);
      expect(b.summary.number).toBe(b.number);
      this.blocks.set(b.number, b.hash);
    }
    this.snapshot = p.snapshot;
    expect(p.snapshot.head.number).toBe(this.head);
    expect(p.snapshot.head.hash).toBe(this.blocks.get(this.head));
  }

  hashes(): Hex[] {
    return Array.from({ length: this.blocks.size }, (_, n) => this.blocks.get(n)!);
  }
}

/** Apply a result's persist batch to the store; returns the result. */
function run(store: Store, r: BatchResult): BatchResult {
  store.apply(r.persist);
  return r;
}

const numbers = (xs: readonly { number: number }[] | undefined) => (xs ?? []).map((x) => x.number);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Everything observable about a BlockImport (to check that a failed attempt changed nothing). */
function observe(bi: BlockImport) {
  return {
    chainHead: bi.chainHead,
    authenticatedHead: bi.authenticatedHead(),
    finalizedThrough: bi.finalizedThrough,
    forkCount: bi.forkCount,
    pendingTail: bi.pendingTail().map((t) => ({ hash: t.hash, number: t.number, source: t.source })),
    snapshot: bi.snapshot(),
  };
}

// ------------------------------------------------------------------------------------------ full mode

describe('BlockImport, full mode (approvals: all)', () => {
  it('persists a contiguous import at once; finalizedThrough follows the PoW ranges', () => {
    const bi = newImport('full');
    const store = new Store();
    let r = run(store, bi.importBatch(honestItems(1, 5, 'full')));
    expect(r.failure).toBeUndefined();
    expect(r.imported).toBe(5);
    expect(numbers(r.persist?.blocks)).toEqual(range(1, 5));
    expect(r.head).toMatchObject({ number: 5, hash: honestHash[5] });
    expect(r.finalizedThrough).toBe(0);
    expect(r.newlyFinalized).toBeNull();

    // PoW 6 finalizes 1..5, PoW 12 finalizes 6..11: one newlyFinalized span for the batch
    r = run(store, bi.importBatch(honestItems(6, 13, 'full')));
    expect(r.failure).toBeUndefined();
    expect(r.imported).toBe(8);
    expect(r.finalizedThrough).toBe(finalizedBy(13));
    expect(r.finalizedThrough).toBe(11);
    expect(r.newlyFinalized).toEqual({ from: 1, to: 11 });
    expect(r.head).toMatchObject({ number: 13, hash: honestHash[13] });

    for (let n = 14; n <= TIP; n++) {
      r = run(store, bi.importBatch(honestItems(n, n, 'full')));
      expect(r.failure).toBeUndefined();
      expect(r.finalizedThrough).toBe(finalizedBy(n));
      expect(r.newlyFinalized).toEqual(
        honest[n]!.message.auxpowHeader ? { from: finalizedBy(n - 1) + 1, to: finalizedBy(n) } : null,
      );
    }
    expect(store.hashes()).toEqual(honestHash);
    expect(store.snapshot!.head.hash).toBe(honestHash[TIP]);
    expect(bi.chainHead.hash).toBe(honestHash[TIP]);
    expect(bi.authenticatedHead().hash).toBe(honestHash[TIP]);
    expect(bi.pendingTail()).toEqual([]);
    expect(bi.forkCount).toBe(0);
  });

  it('a batch that does not start at head + 1 fails with resumeAt (nothing imported, nothing changed)', () => {
    const bi = newImport('full');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 10, 'full')));
    const before = observe(bi);

    let r = run(store, bi.importBatch(honestItems(12, 14, 'full')));
    expect(r.imported).toBe(0);
    expect(r.failure).toMatchObject({ index: 0, check: 'import.gap', resumeAt: 11, source: 'honest' });
    expect(r.failure?.orphan).toBeUndefined();
    expect(r.persist).toBeNull();
    expect(r.head.number).toBe(10);
    expect(observe(bi)).toEqual(before);

    // an old batch from the finalized past: the same
    r = run(store, bi.importBatch(honestItems(2, 4, 'full')));
    expect(r.failure).toMatchObject({ index: 0, check: 'import.gap', resumeAt: 11 });
    expect(observe(bi)).toEqual(before);

    // a gap inside a batch: what comes before it is imported and persisted
    r = run(store, bi.importBatch([item(honest[11]!, 'full'), item(honest[13]!, 'full')]));
    expect(r.imported).toBe(1);
    expect(r.failure).toMatchObject({ index: 1, check: 'import.gap', resumeAt: 12 });
    expect(numbers(r.persist?.blocks)).toEqual([11]);
    expect(store.hashes()).toEqual(honestHash.slice(0, 12));
  });

  it('a block at head + 1 whose parent is not the head is an orphan (to resolve, not to blame)', () => {
    const bi = newImport('full');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 8, 'full')));
    const before = observe(bi);
    const unknownParent = toHex(new Uint8Array(32).fill(0xab));
    for (const parent of [unknownParent, honestHash[7]!, honestHash[3]!]) {
      const bad = reparent(honest[9]!, parent);
      const r = run(store, bi.importBatch([item(bad, 'full', 'liar')]));
      expect(r.imported).toBe(0);
      expect(r.failure).toMatchObject({
        index: 0,
        source: 'liar',
        check: 'block.parent-hash',
        orphan: { number: 9, parentHash: parent },
      });
      expect(r.forks).toBeUndefined();
      expect(r.persist).toBeNull();
      expect(observe(bi)).toEqual(before);
    }
    // the honest block still imports
    const r = run(store, bi.importBatch(honestItems(9, 9, 'full')));
    expect(r.failure).toBeUndefined();
    expect(store.hashes()).toEqual(honestHash.slice(0, 10));
  });

  it('an invalid block fails with its check and the source that served it; the blocks before it are kept', () => {
    const bi = newImport('full');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 5, 'full')));
    // PoW 6 with a parent header that misses the target
    const r = run(store, bi.importBatch([item(badPow(6, 'auxpow-pow'), 'full', 'liar'), ...honestItems(7, 8, 'full')]));
    expect(r.imported).toBe(0);
    expect(r.failure).toMatchObject({ index: 0, source: 'liar', check: 'pow.parent-pow' });
    expect(r.failure?.orphan).toBeUndefined();
    expect(r.failure?.resumeAt).toBeUndefined();
    expect(bi.chainHead.number).toBe(5);
    expect(r.finalizedThrough).toBe(0);
  });
});

// ------------------------------------------------------------------------------------------ deferred mode

describe('BlockImport, pow-checkpoint mode (approvals: deferred)', () => {
  it('keeps blocks without PoW coverage pending (not persisted, not reported) until a PoW block covers them', () => {
    const bi = newImport('deferred');
    const store = new Store();
    let r = run(store, bi.importBatch(honestItems(1, 5, 'deferred', 'src-a')));
    expect(r.failure).toBeUndefined();
    expect(r.imported).toBe(5);
    expect(r.persist).toBeNull();
    expect(r.head).toMatchObject({ number: 0, hash: honestHash[0] });
    expect(bi.chainHead.number).toBe(5);
    const tail = bi.pendingTail();
    expect(tail.map((t) => t.number)).toEqual(range(1, 5));
    expect(tail.map((t) => t.hash)).toEqual(honestHash.slice(1, 6));
    expect(tail.every((t) => t.source === 'src-a')).toBe(true);
    expect(tail.map((t) => t.block)).toEqual(honest.slice(1, 6).map((b) => encodeSignedBlockMsgpack(b)));

    // PoW 6 (approvals always verified) authenticates its range through its AuxPoW
    r = run(store, bi.importBatch(honestItems(6, 6, 'deferred')));
    expect(numbers(r.persist?.blocks)).toEqual(range(1, 6));
    expect(r.head).toMatchObject({ number: 6, hash: honestHash[6] });
    expect(r.finalizedThrough).toBe(5);
    expect(r.newlyFinalized).toEqual({ from: 1, to: 5 });
    expect(bi.pendingTail()).toEqual([]);

    r = run(store, bi.importBatch(honestItems(7, 10, 'deferred')));
    expect(r.persist).toBeNull();
    expect(r.head.number).toBe(6);
    expect(bi.pendingTail().map((t) => t.number)).toEqual(range(7, 10));
    expect(store.head).toBe(6);

    // PoW 12 covers 6..11: 7..12 are authenticated and persisted together
    r = run(store, bi.importBatch(honestItems(11, 12, 'deferred')));
    expect(numbers(r.persist?.blocks)).toEqual(range(7, 12));
    expect(r.head).toMatchObject({ number: 12, hash: honestHash[12] });
    expect(r.finalizedThrough).toBe(11);
    expect(store.hashes()).toEqual(honestHash.slice(0, 13));
    expect(store.snapshot!.window.every((w) => w.block.signers !== null)).toBe(true);
  });

  it('authenticateTail(signers) authenticates and persists the pending tail', () => {
    const bi = newImport('deferred');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 10, 'deferred')));
    expect(store.head).toBe(6);
    const signers = tailSigners(bi);
    expect([...signers.keys()]).toEqual(honestHash.slice(7, 11));

    const r = run(store, bi.authenticateTail(signers));
    expect(r.imported).toBe(0);
    expect(r.failure).toBeUndefined();
    expect(numbers(r.persist?.blocks)).toEqual(range(7, 10));
    expect(r.head).toMatchObject({ number: 10, hash: honestHash[10] });
    expect(r.finalizedThrough).toBe(5);
    expect(bi.pendingTail()).toEqual([]);
    expect(r.persist!.snapshot.window.map((w) => w.block.signers)).toEqual(
      [6, 7, 8, 9, 10].map((n) => summary(honest[n]!, 'full').signers),
    );
    expect(r.persist!.snapshot).toEqual(bi.snapshot());

    // and the import goes on from there
    const next = run(store, bi.importBatch(honestItems(11, 13, 'deferred')));
    expect(next.failure).toBeUndefined();
    expect(numbers(next.persist?.blocks)).toEqual([11, 12]);
    expect(bi.pendingTail().map((t) => t.number)).toEqual([13]);
    expect(store.hashes()).toEqual(honestHash.slice(0, 13));
  });

  it('authenticateTail without the approvals of every pending block throws and changes nothing', () => {
    const bi = newImport('deferred');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 10, 'deferred')));
    const before = observe(bi);
    for (const missing of [7, 9, 10]) {
      const signers = tailSigners(bi);
      signers.delete(honestHash[missing]!);
      expect(() => bi.authenticateTail(signers)).toThrow(expect.objectContaining({ check: 'approvals.unverified' }));
      expect(observe(bi)).toEqual(before);
    }
  });
});

// ------------------------------------------------------------------------------------------ forks

describe('BlockImport, fork choice', () => {
  it('the first block seen at a height stays; competing valid blocks are kept in the fork set', () => {
    const bi = newImport('full');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 8, 'full')));
    run(store, bi.importBatch(branch(9, 11).map((b) => item(b, 'full', 'liar'))));
    const before = observe(bi);
    const r = run(store, bi.importBatch(honestItems(9, 11, 'full')));
    expect(r.failure).toBeUndefined();
    expect(r.imported).toBe(3);
    expect(r.forks).toEqual(range(9, 11).map((n) => ({ number: n, hash: honestHash[n], source: 'honest' })));
    expect(r.rolledBack).toBeUndefined();
    expect(r.persist).toBeNull();
    expect(bi.forkCount).toBe(3);
    expect({ ...observe(bi), forkCount: 0 }).toEqual({ ...before, forkCount: 0 });
    expect(bi.chainHead.hash).toBe(hashOf(branch(9, 11)[2]!));
  });

  // Regression: authenticateTail() used to record the state at the tail's end (b) as the state after
  // each tail block, so a rollback to a fork point k-1 < b restored b's state and the switch failed.
  for (const mode of ['deferred', 'full'] as const)
    for (const k of [7, 9, 11])
      it(`${mode}: a PoW block extending a fork from ${k} (below the authenticated tail's end 11) switches to it`, () => {
        const bi = newImport(mode);
        const store = new Store();
        run(store, bi.importBatch(honestItems(1, k - 1, mode)));
        const ours = branch(k, 11);
        let r = run(store, bi.importBatch(ours.map((b) => item(b, mode, 'liar'))));
        expect(r.failure).toBeUndefined();
        if (mode === 'deferred') {
          expect(bi.pendingTail().map((t) => t.number)).toEqual(range(7, 11));
          r = run(store, bi.authenticateTail(tailSigners(bi)));
          expect(bi.pendingTail()).toEqual([]);
        }
        expect(store.head).toBe(11);
        expect(store.hashes().slice(k)).toEqual(ours.map(hashOf));
        const persistedBefore = store.hashes();

        // the honest branch from k, then its PoW block 12 (range 6..11, verified)
        r = run(store, bi.importBatch(honestItems(k, 12, mode)));
        expect(r.failure).toBeUndefined();
        expect(r.imported).toBe(12 - k + 1);
        expect(numbers(r.forks)).toEqual(range(k, 11));
        expect(r.rolledBack).toEqual({ from: k, to: 11, sources: ['liar'] });
        // storage drops k..11 first: back to the state after k-1, not after 11
        expect(r.persist?.truncate?.to).toBe(k - 1);
        expect(r.persist!.truncate!.snapshot.head).toMatchObject({ number: k - 1, hash: honestHash[k - 1] });
        expect(r.persist!.truncate!.snapshot.finality.head).toBe(k - 1);
        expect(r.persist!.truncate!.snapshot.window.map((w) => w.block.number)).toEqual(range(6, k - 1));
        expect(r.persist!.truncate!.snapshot.window.every((w) => w.block.signers !== null)).toBe(true);
        expect(numbers(r.persist!.blocks)).toEqual(range(k, 12));
        expect(store.truncations).toEqual([k - 1]);
        expect(store.hashes()).toEqual(honestHash.slice(0, 13));
        expect(store.hashes().slice(0, k)).toEqual(persistedBefore.slice(0, k));
        expect(r.head).toMatchObject({ number: 12, hash: honestHash[12] });
        expect(bi.chainHead.hash).toBe(honestHash[12]);
        expect(r.finalizedThrough).toBe(11);
        expect(bi.forkCount).toBe(0);
        expect(bi.pendingTail()).toEqual([]);

        // and the import goes on along the honest chain
        r = run(store, bi.importBatch(honestItems(13, 18, mode)));
        expect(r.failure).toBeUndefined();
        expect(store.hashes()).toEqual(honestHash.slice(0, 19));
        expect(r.finalizedThrough).toBe(17);
      });

  // Regression (found by test/node/kill9.test.ts): a node restarted while its stored head was a fork
  // block resumed from the stored snapshot alone, without the per-block states below its head, so a
  // switch to the fork with the verified PoW failed (fork.unknown-parent) and the source was banned.
  for (const mode of ['deferred', 'full'] as const)
    for (const k of [7, 9, 11])
      it(`${mode}: resumed from the stored state at a fork block, a PoW block extending a fork from ${k} switches to it`, () => {
        const ours = branch(k, 11);
        const upToFork = (bi: BlockImport, store: Store) => {
          run(store, bi.importBatch(honestItems(1, k - 1, mode)));
          run(store, bi.importBatch(ours.map((b) => item(b, mode, 'liar'))));
          if (mode === 'deferred') run(store, bi.authenticateTail(tailSigners(bi)));
          expect(store.head).toBe(11);
        };
        // without a restart, for comparison
        const uninterrupted = newImport(mode);
        upToFork(uninterrupted, new Store());
        const expected = uninterrupted.importBatch(honestItems(k, 12, mode));
        expect(expected.failure).toBeUndefined();

        const store = new Store();
        upToFork(newImport(mode), store);
        // the restart: a new BlockImport from the stored snapshot (head: the fork block 11)
        const resumed = new BlockImport(opts(mode), store.snapshot!);
        const r = run(store, resumed.importBatch(honestItems(k, 12, mode)));
        expect(r.failure).toBeUndefined();
        expect(r.rolledBack).toEqual({ from: k, to: 11, sources: [] });
        expect(r.persist!.truncate).toEqual(expected.persist!.truncate);
        expect(r.persist!.snapshot).toEqual(expected.persist!.snapshot);
        expect(store.hashes()).toEqual(honestHash.slice(0, 13));
        expect(r.finalizedThrough).toBe(11);
      });

  it('deferred: a fork switch over a tail that was never authenticated needs no truncation', () => {
    const bi = newImport('deferred');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 8, 'deferred')));
    run(store, bi.importBatch(branch(9, 11).map((b) => item(b, 'deferred', 'liar'))));
    expect(store.head).toBe(6);
    expect(bi.pendingTail().map((t) => t.number)).toEqual(range(7, 11));
    const r = run(store, bi.importBatch(honestItems(9, 12, 'deferred')));
    expect(r.failure).toBeUndefined();
    expect(r.rolledBack).toEqual({ from: 9, to: 11, sources: ['liar'] });
    expect(r.persist?.truncate).toBeUndefined();
    expect(numbers(r.persist?.blocks)).toEqual(range(7, 12));
    expect(store.hashes()).toEqual(honestHash.slice(0, 13));
    expect(bi.pendingTail()).toEqual([]);
  });

  it('an orphan resolved through addForkBlocks (its ancestors, oldest first) then switches on re-import', () => {
    const bi = newImport('full');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 8, 'full')));
    run(store, bi.importBatch(branch(9, 11).map((b) => item(b, 'full', 'liar'))));
    let r = run(store, bi.importBatch(honestItems(12, 12, 'full')));
    expect(r.failure).toMatchObject({
      index: 0,
      check: 'block.parent-hash',
      orphan: { number: 12, parentHash: honestHash[11] },
    });
    // the sync fetches the ancestors one by one until they link to our chain
    expect(bi.addForkBlocks(honestItems(11, 11, 'full'))).toBe('unknown-parent');
    expect(bi.addForkBlocks(honestItems(10, 11, 'full'))).toBe('unknown-parent');
    expect(bi.addForkBlocks(honestItems(9, 11, 'full'))).toBe('linked');
    expect(bi.forkCount).toBe(3);
    // our own blocks are skipped, not added
    expect(bi.addForkBlocks(honestItems(7, 8, 'full'))).toBe('linked');
    expect(bi.forkCount).toBe(3);
    expect(bi.chainHead.hash).toBe(hashOf(branch(9, 11)[2]!));

    r = run(store, bi.importBatch(honestItems(12, 12, 'full')));
    expect(r.failure).toBeUndefined();
    expect(r.rolledBack).toEqual({ from: 9, to: 11, sources: ['liar'] });
    expect(r.persist?.truncate?.to).toBe(8);
    expect(store.hashes()).toEqual(honestHash.slice(0, 13));
  });

  describe('a PoW block that extends a fork but fails its own import leaves everything as it was', () => {
    const setups = [
      { name: 'full', mode: 'full' as const, authenticate: false },
      { name: 'deferred, tail pending', mode: 'deferred' as const, authenticate: false },
      { name: 'deferred, tail authenticated', mode: 'deferred' as const, authenticate: true },
    ];
    const defects: Array<{ name: string; block: () => SignedConsensusBlock; check: string }> = [
      { name: 'parent header misses the target', block: () => badPow(12, 'auxpow-pow'), check: 'pow.parent-pow' },
      {
        name: 'range does not start after the last finalized block',
        block: () => badPow(12, 'auxpow-range-gap'),
        check: 'pow.range-continuity',
      },
      {
        name: 'AuxPoW commits to another range',
        block: () => badPow(12, 'auxpow-aggregate'),
        check: 'auxpow.commitment-missing',
      },
    ];
    for (const setup of setups)
      for (const defect of defects)
        it(`${setup.name}: ${defect.name}`, () => {
          const { mode } = setup;
          const bi = newImport(mode);
          const store = new Store();
          run(store, bi.importBatch(honestItems(1, 8, mode)));
          run(store, bi.importBatch(branch(9, 11).map((b) => item(b, mode, 'liar'))));
          if (setup.authenticate) run(store, bi.authenticateTail(tailSigners(bi)));
          run(store, bi.importBatch(honestItems(9, 11, mode)));
          expect(bi.forkCount).toBe(3);
          const before = observe(bi);
          const storeBefore = store.hashes();

          const r = run(store, bi.importBatch([item(defect.block(), mode, 'miner')]));
          expect(r.imported).toBe(0);
          expect(r.failure).toMatchObject({ index: 0, source: 'miner', check: defect.check });
          expect(r.rolledBack).toBeUndefined();
          expect(r.persist).toBeNull();
          expect(r.head).toEqual(before.authenticatedHead);
          expect(observe(bi)).toEqual(before);
          expect(store.hashes()).toEqual(storeBefore);

          // the verified PoW block still wins afterwards
          const ok = run(store, bi.importBatch(honestItems(12, 12, mode)));
          expect(ok.failure).toBeUndefined();
          expect(ok.rolledBack).toEqual({ from: 9, to: 11, sources: ['liar'] });
          expect(store.hashes()).toEqual(honestHash.slice(0, 13));
        });

    // Regression (fixed in src/node/workflows/block-import.ts, importBatch): the fork switch runs before the gap
    // check, and the gap check returns its failure without calling `undo`. A federation-signed block
    // with an AuxPowHeader whose parent is a fork block but whose number is not parent + 1 rolls the
    // chain over to the fork without any AuxPoW being verified.
    it('a PoW block on a fork whose number does not follow its parent is rejected without switching', () => {
      const bi = newImport('full');
      const store = new Store();
      run(store, bi.importBatch(honestItems(1, 8, 'full')));
      run(store, bi.importBatch(branch(9, 11).map((b) => item(b, 'full', 'liar'))));
      run(store, bi.importBatch(honestItems(9, 11, 'full')));
      const before = observe(bi);
      const storeBefore = store.hashes();
      const r = run(store, bi.importBatch([item(renumbered(12, 14), 'full', 'miner')]));
      expect(r.failure).toBeDefined();
      expect(r.rolledBack).toBeUndefined();
      expect(observe(bi)).toEqual(before);
      expect(store.hashes()).toEqual(storeBefore);
    });
  });

  // Regression (fixed in src/node/workflows/block-import.ts, importBatch): `rolledBack` is overwritten by each fork
  // switch of a batch, so a batch with two switches reports only the second one.
  it('two fork switches in one batch report every rolled-back height and source', () => {
    const bi = newImport('full');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 8, 'full')));
    run(store, bi.importBatch(branch(9, 11).map((b) => item(b, 'full', 'liar'))));
    run(store, bi.importBatch(honestItems(9, 11, 'full')));
    // sibling(12) carries honest 12's AuxPoW (range 6..11): a verified PoW block extending the fork
    // 9..11 (switch 1). The honest 12..17 then form a fork of it, and PoW 18 extends that (switch 2).
    const r = run(store, bi.importBatch([item(sibling(12), 'full', 'equivocator'), ...honestItems(12, 18, 'full')]));
    expect(r.failure).toBeUndefined();
    expect(bi.chainHead.hash).toBe(honestHash[18]);
    expect(store.hashes()).toEqual(honestHash.slice(0, 19));
    expect(r.persist?.truncate?.to).toBe(8);
    expect(r.rolledBack?.from).toBe(9);
    expect(r.rolledBack?.sources.sort()).toEqual(['equivocator', 'liar']);
  });
});

// ------------------------------------------------------------------------------------------ dropFrom

describe('BlockImport.dropFrom', () => {
  it('refuses persisted heights and restores the state after number - 1', () => {
    const bi = newImport('deferred');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 10, 'deferred', 'src-a')));
    expect(store.head).toBe(6);
    for (const n of [0, 1, 3, 6]) expect(() => bi.dropFrom(n)).toThrow(RangeError);
    expect(() => bi.dropFrom(12)).toThrow(RangeError); // no state after 11

    // a no-op at head + 1
    const same = bi.snapshot();
    let r = run(store, bi.dropFrom(11));
    expect(bi.snapshot()).toEqual(same);

    r = run(store, bi.dropFrom(9));
    expect(r.imported).toBe(0);
    expect(r.persist).toBeNull();
    expect(r.head).toMatchObject({ number: 6, hash: honestHash[6] });
    expect(bi.chainHead).toMatchObject({ number: 8, hash: honestHash[8] });
    expect(bi.pendingTail().map((t) => t.number)).toEqual([7, 8]);
    expect(bi.snapshot().window.map((w) => w.block.hash)).toEqual(honestHash.slice(6, 9));

    // the dropped heights import again (e.g. from another source)
    r = run(store, bi.importBatch(honestItems(9, 12, 'deferred', 'src-b')));
    expect(r.failure).toBeUndefined();
    expect(numbers(r.persist?.blocks)).toEqual(range(7, 12));
    expect(store.hashes()).toEqual(honestHash.slice(0, 13));

    // right above the persisted head: back to the persisted state
    run(store, bi.importBatch(honestItems(13, 15, 'deferred')));
    r = run(store, bi.dropFrom(13));
    expect(bi.chainHead.hash).toBe(honestHash[12]);
    expect(bi.snapshot()).toEqual(store.snapshot);
    expect(bi.pendingTail()).toEqual([]);
  });

  it('drops a bad block of the pending tail and what follows it (the dispute path)', () => {
    const bi = newImport('deferred');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 8, 'deferred')));
    const liar = branch(9, 11);
    run(store, bi.importBatch(liar.map((b) => item(b, 'deferred', 'liar'))));
    expect(bi.pendingTail().map((t) => t.hash)).toEqual([...honestHash.slice(7, 9), ...liar.map(hashOf)]);
    const r = run(store, bi.dropFrom(9));
    expect(r.persist).toBeNull();
    expect(bi.chainHead.hash).toBe(honestHash[8]);
    expect(bi.pendingTail().map((t) => t.number)).toEqual([7, 8]);
    // then the honest blocks import as the head (no fork, no rollback)
    const next = run(store, bi.importBatch(honestItems(9, 12, 'deferred')));
    expect(next.failure).toBeUndefined();
    expect(next.forks).toBeUndefined();
    expect(next.rolledBack).toBeUndefined();
    expect(store.hashes()).toEqual(honestHash.slice(0, 13));
  });

  it('full mode: every imported block is persisted, so nothing can be dropped', () => {
    const bi = newImport('full');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 7, 'full')));
    for (const n of [1, 5, 7]) expect(() => bi.dropFrom(n)).toThrow(RangeError);
    expect(bi.chainHead.hash).toBe(honestHash[7]);
  });
});

// ------------------------------------------------------------------------------------------ duplicates

describe('BlockImport, batches of blocks it already has', () => {
  // Regression (fixed in src/node/workflows/block-import.ts, importBatch): a re-sent block of our own unfinalized
  // chain passes `isForkCandidate` (its parent is ours), fails the parent link against the head and
  // is stored in the fork set and reported as a fork.
  it('a re-sent block of our own chain is not reported as a fork', () => {
    const bi = newImport('full');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 10, 'full')));
    const r = run(store, bi.importBatch(honestItems(9, 10, 'full')));
    expect(r.forks).toBeUndefined();
    expect(bi.forkCount).toBe(0);
  });

  // Regression, the consequence: once our block 11 sits in the fork set, a re-sent PoW block 12 "extends a
  // fork", the switch cannot find the state before 11 (finalized, pruned) and the batch fails with
  // fork.unknown-parent - a failure without resumeAt/orphan, which the SyncActor blames on the
  // (honest) source as `invalid`.
  it('a re-sent batch of our own blocks never fails with a check that blames its source', () => {
    const bi = newImport('full');
    const store = new Store();
    run(store, bi.importBatch(honestItems(1, 11, 'full')));
    run(store, bi.importBatch(honestItems(11, 11, 'full'))); // re-sent (e.g. after an ask timeout)
    run(store, bi.importBatch(honestItems(12, 13, 'full')));
    const r = run(store, bi.importBatch(honestItems(12, 13, 'full'))); // re-sent again
    expect(r.failure === undefined || r.failure.resumeAt !== undefined).toBe(true);
    expect(r.failure?.check).not.toBe('fork.unknown-parent');
  });
});

// ------------------------------------------------------------------------------------------ property

describe('BlockImport, property: any batching of the honest chain', () => {
  type Op = { kind: 'next' | 'resend' | 'ahead' | 'authenticate'; len: number; back: number };
  const opArb: fc.Arbitrary<Op> = fc.record({
    kind: fc.constantFrom<Op['kind']>('next', 'next', 'next', 'resend', 'ahead', 'authenticate'),
    len: fc.integer({ min: 1, max: 8 }),
    back: fc.integer({ min: 0, max: 12 }),
  });

  it('persists a contiguous prefix of the honest chain; the head never passes what was imported', () => {
    fc.assert(
      fc.property(fc.constantFrom<Mode>('full', 'deferred'), fc.array(opArb, { maxLength: 30 }), (mode, ops) => {
        const bi = newImport(mode);
        const store = new Store();
        let fed = 0; // the highest height handed to importBatch so far
        const check = (r: BatchResult) => {
          store.apply(r.persist);
          // storage holds the honest blocks 0..head, nothing else
          expect(store.hashes()).toEqual(honestHash.slice(0, store.head + 1));
          expect(r.head.number).toBe(store.head);
          expect(r.head.hash).toBe(honestHash[r.head.number]);
          expect(bi.chainHead.hash).toBe(honestHash[bi.chainHead.number]);
          expect(bi.chainHead.number).toBeLessThanOrEqual(fed);
          expect(bi.chainHead.number).toBeGreaterThanOrEqual(store.head);
          expect(r.finalizedThrough).toBe(finalizedBy(bi.chainHead.number));
          if (mode === 'full') expect(store.head).toBe(bi.chainHead.number);
          expect(r.rolledBack).toBeUndefined();
          expect(r.persist?.truncate).toBeUndefined();
        };
        const feed = (from: number, to: number) => {
          fed = Math.max(fed, to);
          const r = bi.importBatch(honestItems(from, to, mode));
          check(r);
          return r;
        };
        for (const op of ops) {
          const head = bi.chainHead.number;
          if (op.kind === 'authenticate') {
            if (mode === 'deferred') check(bi.authenticateTail(tailSigners(bi)));
          } else if (op.kind === 'next') {
            if (head >= TIP) continue;
            const r = feed(head + 1, Math.min(TIP, head + op.len));
            expect(r.failure).toBeUndefined();
            expect(r.imported).toBe(Math.min(TIP, head + op.len) - head);
          } else if (op.kind === 'resend') {
            const from = Math.max(1, head - op.back);
            feed(from, Math.min(TIP, from + op.len - 1));
          } else {
            const from = head + 2 + (op.back % 3);
            if (from > TIP) continue;
            const r = feed(from, Math.min(TIP, from + op.len - 1));
            expect(r.imported).toBe(0);
            expect(r.failure).toMatchObject({ index: 0, check: 'import.gap', resumeAt: head + 1 });
          }
        }
        // then the rest of the chain in order: everything ends up persisted
        while (bi.chainHead.number < TIP)
          expect(feed(bi.chainHead.number + 1, Math.min(TIP, bi.chainHead.number + 5)).failure).toBeUndefined();
        if (mode === 'deferred') check(bi.authenticateTail(tailSigners(bi)));
        expect(store.hashes()).toEqual(honestHash);
        expect(store.snapshot).toEqual(bi.snapshot());
      }),
      { numRuns: 60 },
    );
  });
});
