/**
 * Memory of the block-import workflow over a long unfinalized tail (issue 13 item 4): a devnet run of
 * 4,100 blocks without PoW (the spec's maxBlocksWithoutPow raised to allow it; testnet allows 50,000),
 * imported through BlockImport - the ChainActor's import logic - driven directly with the real,
 * federation-signed blocks (summaries from `summarizeBlock` as the verifier pool builds them, msgpack
 * bytes), in batches like the sync's, in full mode (every batch persisted) and in pow-checkpoint
 * mode (the pending tail authenticated every few batches, as the ChainActor does).
 *
 * The retained heap (after a full GC) must grow at most linearly with the tail: from 1,000 to 4,000
 * blocks at most 5x what the first 1,000 took, that taken as at least NOISE_FLOOR (one snapshot per
 * block, each with the whole window, grows 15x, hundreds of MB; it is checked at 2,000 blocks too,
 * before it runs out of memory). A logical bound on bytes, not a timing one. Driving the whole node instead would take minutes and measure its
 * worker threads and caches with it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevnet, type Devnet } from '../../../src/devnet/devnet.js';
import { BlockImport, type ImportItem } from '../../../src/node/workflows/block-import.js';
import { prepareAuthorities } from '../../../src/protocol/approvals.js';
import { createBlsBackend } from '../../../src/protocol/bls/index.js';
import {
  summarizeBlock,
  type ChainVerifierOptions,
  type ChainVerifierSnapshot,
} from '../../../src/protocol/chain-verifier.js';
import { encodeSignedBlockMsgpack } from '../../../src/protocol/codec/msgpack.js';
import type { Hex, SignedConsensusBlock } from '../../../src/protocol/types.js';

const WARMUP = 100;
const BLOCKS = 4_000;
const BATCH = 32;
/** Growth of the first 1,000 blocks assumed at least this (2 KB a block): GC'd heap readings vary by a few hundred KB. */
const NOISE_FLOOR = 2 * 1024 * 1024;
/** pow-checkpoint mode: the pending tail is authenticated every this many blocks. */
const TAIL_EVERY = 256;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Retained heap bytes, after full collections. */
function retained(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

let devnet: Devnet;
let base: Omit<ChainVerifierOptions, 'approvals'>;
let genesis: SignedConsensusBlock;
/** Blocks 1..WARMUP+BLOCKS as the verifier pool hands them over, full mode (approvals verified). */
const items: ImportItem[] = [];

beforeAll(async () => {
  devnet = await createDevnet({ noServers: true, users: 4, seed: 'block-import-memory', maxBlocksWithoutPow: 10_000 });
  for (let i = 0; i < WARMUP + BLOCKS; i++) await devnet.produceNext();
  const backend = await createBlsBackend('auto');
  base = { spec: devnet.spec, authorities: prepareAuthorities(devnet.spec.authorities, backend), backend };
  genesis = devnet.chain.at(0)!.signed;
  for (let n = 1; n <= WARMUP + BLOCKS; n++) {
    const signed = devnet.chain.at(n)!.signed;
    expect(signed.message.auxpowHeader, `block ${n} carries no PoW`).toBeNull();
    items.push({ summary: summarizeBlock(signed, base), block: encodeSignedBlockMsgpack(signed), source: 'devnet' });
  }
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
});

/**
 * Import items[from, to) in batches; pow-checkpoint mode authenticates the pending tail every
 * TAIL_EVERY blocks. Returns the verifier snapshot of the last persist batch.
 */
function importRange(bi: BlockImport, deferred: boolean, from: number, to: number): ChainVerifierSnapshot | undefined {
  let persisted: ChainVerifierSnapshot | undefined;
  for (let i = from; i < to; i += BATCH) {
    const batch = items
      .slice(i, Math.min(i + BATCH, to))
      .map((it) => (deferred ? { ...it, summary: { ...it.summary, signers: null } } : it));
    const r = bi.importBatch(batch);
    expect(r.failure).toBeUndefined();
    expect(r.imported).toBe(batch.length);
    persisted = r.persist?.snapshot ?? persisted;
    if (deferred && (Math.floor((i + BATCH) / TAIL_EVERY) > Math.floor(i / TAIL_EVERY) || i + BATCH >= to)) {
      const signers = new Map<Hex, number[]>(
        bi.pendingTail().map((t) => [t.hash, items[t.number - 1]!.summary.signers!]),
      );
      const t = bi.authenticateTail(signers);
      expect(t.failure).toBeUndefined();
      persisted = t.persist?.snapshot ?? persisted;
    }
  }
  return persisted;
}

describe('the unfinalized tail costs memory linear in its length', () => {
  for (const mode of ['full', 'pow-checkpoint'] as const) {
    it(`${mode}: ${BLOCKS} blocks without PoW`, () => {
      const deferred = mode === 'pow-checkpoint';
      const bi = new BlockImport({ ...base, approvals: deferred ? 'deferred' : 'all' }, genesis);
      importRange(bi, deferred, 0, WARMUP);
      const at0 = retained();
      importRange(bi, deferred, WARMUP, WARMUP + 1_000);
      const at1000 = retained();
      importRange(bi, deferred, WARMUP + 1_000, WARMUP + 2_000);
      const at2000 = retained();
      // below the floor the heap's own noise (a few hundred KB either way) would decide
      const first = Math.max(at1000 - at0, NOISE_FLOOR);
      // linear: about 1x; one snapshot per block (the window in each): 3x
      expect((at2000 - at1000) / first, `growth 1000->2000 over 0->1000 (${first} bytes)`).toBeLessThan(2);
      const persisted = importRange(bi, deferred, WARMUP + 2_000, WARMUP + BLOCKS);
      const at4000 = retained();
      // linear: about 3x; quadratic: 15x
      expect((at4000 - at1000) / first, `growth 1000->4000 over 0->1000 (${first} bytes)`).toBeLessThan(5);
      expect(bi.chainHead.number).toBe(WARMUP + BLOCKS);
      expect(bi.authenticatedHead().number).toBe(WARMUP + BLOCKS);
      expect(bi.finalizedThrough).toBe(0);
      // the state stored with the head, rebuilt from the per-block records, is the verifier's own
      expect(bi.snapshot().window).toHaveLength(WARMUP + BLOCKS);
      expect(persisted).toEqual(bi.snapshot());
    }, 60_000);
  }
});
