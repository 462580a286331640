/**
 * The backfill's decisions (src/node/workflows/backfill.ts) on a real devnet chain: how far down the
 * history goes (`sync.history`, a checkpoint), the ranges it asks for, and `linkRange` - a range is
 * the chain below the lowest stored block only if each block's recomputed root is the parent hash
 * of the block above it; reaching block 0, the genesis must be the spec's trust root (a genesis the
 * federation's re-signed block 1 links to is still refused when the spec pins the EL genesis).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevnet, type Devnet } from '../../../src/devnet/devnet.js';
import { resign, sign, type FaultContext } from '../../../src/devnet/faults/block.js';
import { genesisForgedPayload, genesisStateRoot } from '../../../src/devnet/faults/genesis.js';
import { Seeded } from '../../../src/devnet/faults/seeded.js';
import { checkRangeLength, historyTarget, linkRange, nextRange } from '../../../src/node/workflows/backfill.js';
import { signingRoot } from '../../../src/protocol/block.js';
import { toHex } from '../../../src/protocol/bytes.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../../src/protocol/codec/msgpack.js';
import type { SignedConsensusBlock } from '../../../src/protocol/types.js';
import { expectCheck } from '../../helpers/expect.js';

let devnet: Devnet;
let blocks: SignedConsensusBlock[];
let ctx: FaultContext;

beforeAll(async () => {
  devnet = await createDevnet({ seed: 'backfill', noServers: true });
  for (let i = 0; i < 12; i++) await devnet.produceNext();
  blocks = Array.from({ length: devnet.chain.height + 1 }, (_, i) => devnet.chain.at(i)!.signed);
  ctx = { devnet, rng: new Seeded('backfill-test', 'genesis') };
}, 60_000);

afterAll(async () => {
  await devnet?.stop();
});

/** Block 1 re-linked to `genesis` (root and payload) and re-signed by the whole federation (a majority forgery). */
function childOf(genesis: SignedConsensusBlock): SignedConsensusBlock {
  const message = structuredClone(blocks[1]!.message);
  message.parentHash = toHex(signingRoot(genesis.message));
  message.executionPayload.parentHash = genesis.message.executionPayload.blockHash;
  return resign(ctx, message);
}

describe('historyTarget', () => {
  const stored = { from: 900, head: 1_000 };

  it('all: genesis; none: the stored range; a number: that many blocks below the head, never below 0', () => {
    expect(historyTarget('all', stored, undefined)).toBe(0);
    expect(historyTarget('none', stored, undefined)).toBe(900);
    expect(historyTarget(50, stored, undefined)).toBe(900);
    expect(historyTarget(300, stored, undefined)).toBe(700);
    expect(historyTarget(5_000, stored, undefined)).toBe(0);
  });

  it('stops at a checkpoint below the stored range, and never goes above what is stored', () => {
    expect(historyTarget('all', stored, 123)).toBe(123);
    expect(historyTarget(300, stored, 800)).toBe(800);
    expect(historyTarget(300, stored, 600)).toBe(700);
    expect(historyTarget('all', stored, 950)).toBe(900);
  });
});

describe('nextRange', () => {
  it('asks for at most `batch` blocks right below `from`, not below the target; nothing once there', () => {
    expect(nextRange(900, 0, 100)).toEqual({ start: 800, count: 100 });
    expect(nextRange(900, 850, 100)).toEqual({ start: 850, count: 50 });
    expect(nextRange(5, 0, 100)).toEqual({ start: 0, count: 5 });
    expect(nextRange(850, 850, 100)).toBeUndefined();
    expect(nextRange(0, 0, 100)).toBeUndefined();
  });

  it('covers target..from - 1 exactly once, newest ranges first', () => {
    const seen: number[] = [];
    let from = 1_000;
    for (let r = nextRange(from, 77, 64); r; r = nextRange(from, 77, 64)) {
      for (let n = r.start + r.count - 1; n >= r.start; n--) seen.push(n);
      from = r.start;
    }
    expect(seen).toEqual(Array.from({ length: 1_000 - 77 }, (_, i) => 999 - i));
  });
});

describe('linkRange', () => {
  it('links a range (oldest first) to the block above it, newest first, as the store prepends them', () => {
    const out = linkRange(blocks.slice(4, 9), blocks[9]!, devnet.spec);
    expect(out.map((b) => b.number)).toEqual([8, 7, 6, 5, 4]);
    expect(out.map((b) => b.hash)).toEqual([8, 7, 6, 5, 4].map((n) => devnet.chain.at(n)!.hash));
    expect(out.map((b) => decodeSignedBlockMsgpack(b.block))).toEqual(blocks.slice(4, 9).reverse());
    expect(out[0]!.block).toEqual(encodeSignedBlockMsgpack(blocks[8]!));
  });

  it('reaches genesis: the spec-derived block 0 with its pinned EL payload', () => {
    const out = linkRange(blocks.slice(0, 3), blocks[3]!, devnet.spec);
    expect(out.at(-1)).toMatchObject({ number: 0, hash: devnet.chain.genesis.hash });
  });

  it('rejects a range that does not end at the parent, has a gap, or holds another block', () => {
    expectCheck(() => linkRange(blocks.slice(3, 8), blocks[9]!, devnet.spec), 'block.parent-hash');
    expectCheck(
      () => linkRange([...blocks.slice(3, 5), ...blocks.slice(6, 9)], blocks[9]!, devnet.spec),
      'block.parent-hash',
    );
    const changed = structuredClone(blocks.slice(4, 9));
    changed[2]!.message.slot += 1;
    expectCheck(() => linkRange(changed, blocks[9]!, devnet.spec), 'block.parent-hash');
    // a block re-signed by the federation after a change is still not the parent the chain above names
    const resigned = blocks.slice(4, 9);
    resigned[4] = resign(ctx, { ...structuredClone(blocks[8]!.message), slot: blocks[8]!.message.slot + 1 });
    expectCheck(() => linkRange(resigned, blocks[9]!, devnet.spec), 'block.parent-hash');
  });

  it('refuses a genesis the federation-signed block 1 links to when the spec pins another EL genesis', () => {
    const forged = genesisForgedPayload(ctx, devnet.chain.genesis).block;
    expectCheck(() => linkRange([forged], childOf(forged), devnet.spec), 'genesis.el-hash');
    const stateRoot = genesisStateRoot(ctx, devnet.chain.genesis).block;
    expectCheck(() => linkRange([stateRoot], childOf(stateRoot), devnet.spec), 'genesis.payload-hash');
    // without the pin, block 0 is what block 1 links to (a custom spec trusts block 1's approvals for it)
    const { executionGenesisHash: _, ...unpinned } = devnet.spec;
    expect(linkRange([forged], childOf(forged), unpinned).at(-1)!.number).toBe(0);
  });

  it('refuses a block 0 that is not the genesis the spec derives, or that carries approvals', () => {
    const other = structuredClone(blocks[0]!);
    other.message.auxpowHeader!.bits += 1;
    expectCheck(() => linkRange([other], childOf(other), devnet.spec), 'genesis.derived');
    const signed = { message: blocks[0]!.message, signature: sign(ctx, signingRoot(blocks[0]!.message)) };
    expectCheck(() => linkRange([signed], blocks[1]!, devnet.spec), 'genesis.signed');
  });
});

describe('checkRangeLength', () => {
  it('accepts exactly the blocks asked for; a withheld or extra block is the source lying', () => {
    expect(() => checkRangeLength(64, 64)).not.toThrow();
    expectCheck(() => checkRangeLength(63, 64), 'backfill.range-length', /asked for 64 blocks, the source sent 63/);
    expectCheck(() => checkRangeLength(65, 64), 'backfill.range-length');
  });
});
