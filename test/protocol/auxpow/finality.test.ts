/**
 * PoW-block validation (4.5 steps 1-7) and finality bookkeeping (4.7, 4.8), with AuxPoWs mined in
 * the test over real aggregate hashes of made-up block roots.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, toHex, type Hex } from '../../../src/protocol/bytes.js';
import type { AuxPow, AuxPowHeader, RetargetParams, Transaction } from '../../../src/protocol/types.js';
import { txid } from '../../../src/protocol/bitcoin/tx.js';
import { checkAuxPowProofOfWork } from '../../../src/protocol/auxpow/check.js';
import {
  applyFinalityEvent,
  checkFinalizedPegouts,
  followFinality,
  genesisFinalityState,
  HISTORICAL_EXEMPTIONS,
  isFinalized,
  lastFinalizedOf,
  powContextFromState,
  validatePowBlock,
  type FinalityEvent,
  type FinalityState,
  type PowBlockInput,
} from '../../../src/protocol/auxpow/finality.js';
import { expectCheck } from '../../helpers/expect.js';

const dsha = (b: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(createHash('sha256').update(b).digest()).digest());

/** Fake consensus block roots: block i has root sha256("block i"). */
const rootOf = (i: number): Hex => toHex(new Uint8Array(createHash('sha256').update(`block ${i}`).digest()));

const EASY = 0x207fffff;
const CHAIN_ID = 121212;
const NO_RETARGET: RetargetParams = {
  powNoRetargeting: true,
  powLimit: 0,
  powLowerLimit: 0,
  powTargetTimespan: 60,
  powTargetSpacing: 5,
  maxPowAdjustment: 20,
};
const SPEC = { chainId: CHAIN_ID, retargetParams: NO_RETARGET };

function mine(aggregate: Uint8Array, bits: number): AuxPow {
  const commitment = concatBytes(
    Uint8Array.of(0xfa, 0xbe, 0x6d, 0x6d),
    aggregate,
    Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0),
  );
  const empty = { value: 0n, scriptPubkey: new Uint8Array(0) };
  const coinbase: Transaction = {
    version: 0,
    lockTime: 0,
    inputs: [],
    outputs: [empty, empty, { value: 0n, scriptPubkey: commitment }],
  };
  const auxpow: AuxPow = {
    coinbaseTxn: coinbase,
    blockHash: new Uint8Array(32),
    coinbaseBranch: { branchHash: [], branchSideMask: 0 },
    blockchainBranch: { branchHash: [], branchSideMask: 0 },
    parentBlock: {
      version: 1 << 16,
      prevBlockhash: new Uint8Array(32),
      merkleRoot: txid(coinbase),
      time: 0,
      bits: 0,
      nonce: 0,
    },
  };
  for (let nonce = 0; nonce < 1_000_000; nonce++) {
    auxpow.parentBlock.nonce = nonce;
    if (checkAuxPowProofOfWork(auxpow, bits)) return auxpow;
  }
  throw new Error('could not mine');
}

/** Independent aggregate (4.1) with node:crypto. */
function aggregateOf(from: number, to: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = from; i <= to; i++) parts.push(Buffer.from(rootOf(i).slice(2), 'hex'));
  return dsha(concatBytes(...parts));
}

function powHeader(from: number, to: number, bits = EASY, auxpow?: AuxPow | null): AuxPowHeader {
  return {
    rangeStart: rootOf(from),
    rangeEnd: rootOf(to),
    bits,
    chainId: CHAIN_ID,
    height: 1,
    auxpow: auxpow === undefined ? mine(aggregateOf(from, to), EASY) : auxpow,
    feeRecipient: '0x0000000000000000000000000000000000000000',
  };
}

function input(n: number, from: number, to: number, over: Partial<PowBlockInput> = {}): PowBlockInput {
  return {
    blockNumber: n,
    header: powHeader(from, to),
    lastPow: { blockNumber: 0, bits: EASY },
    lastFinalizedHash: rootOf(from - 1),
    rangeStart: { number: from, parentHash: rootOf(from - 1) },
    rangeRoots: Array.from({ length: to - from + 1 }, (_, i) => rootOf(from + i)),
    rangeEndNumber: to,
    chainSpec: SPEC,
    historicalExemptions: false,
    ...over,
  };
}

describe('validatePowBlock (4.5 steps 1-6)', () => {
  it('accepts a PoW block committing to its range; returns aggregate, bits and what it finalizes', () => {
    const r = validatePowBlock(input(5, 1, 4));
    expect(bytesToHex(r.aggregateHash)).toBe(bytesToHex(aggregateOf(1, 4)));
    expect(r.requiredBits).toBe(EASY);
    expect(r.powChecked).toBe(true);
    expect(r.finalizes).toBe(rootOf(4));
    expect(r.auxpow.commitmentOutput).toBe(2);
  });

  it('a single-block range works', () => {
    expect(validatePowBlock(input(2, 1, 1)).finalizes).toBe(rootOf(1));
  });

  it('pow.range-continuity: range_start must follow the last finalized block', () => {
    expectCheck(
      () => validatePowBlock(input(60000, 54000, 54010, { lastFinalizedHash: rootOf(53990) })),
      'pow.range-continuity',
      /block 60000/,
    );
  });

  it('historical exemption: continuity is not checked for range_start <= 53143 (only when enabled)', () => {
    const bad = input(60000, 53143, 53150, { lastFinalizedHash: rootOf(1) });
    expectCheck(() => validatePowBlock(bad), 'pow.range-continuity');
    expect(validatePowBlock({ ...bad, historicalExemptions: true }).finalizes).toBe(rootOf(53150));
    const after = input(60000, HISTORICAL_EXEMPTIONS.rangeContinuityThrough + 1, 53150, {
      lastFinalizedHash: rootOf(1),
      historicalExemptions: true,
    });
    expectCheck(() => validatePowBlock(after), 'pow.range-continuity');
  });

  it('pow.range-roots and pow.range-order', () => {
    const base = input(10, 3, 6);
    expectCheck(
      () => validatePowBlock({ ...base, rangeRoots: base.rangeRoots.slice(1), rangeEndNumber: undefined }),
      'pow.range-roots',
      /first range root/,
    );
    expectCheck(
      () => validatePowBlock({ ...base, rangeRoots: base.rangeRoots.slice(0, -1), rangeEndNumber: undefined }),
      'pow.range-roots',
      /last range root/,
    );
    expectCheck(
      () => validatePowBlock({ ...base, rangeRoots: base.rangeRoots.slice(0, -1) }),
      'pow.range-roots',
      /has 4 blocks, got 3/,
    );
    expectCheck(() => validatePowBlock({ ...base, rangeRoots: [], rangeEndNumber: undefined }), 'pow.range-roots');
    expectCheck(() => validatePowBlock({ ...base, rangeEndNumber: 10 }), 'pow.range-order');
    expectCheck(() => validatePowBlock({ ...base, rangeEndNumber: 2 }), 'pow.range-order');
  });

  it('a different middle root changes the aggregate: auxpow.coinbase-outputs (commitment not found)', () => {
    const base = input(10, 3, 6);
    const roots = base.rangeRoots.slice();
    roots[1] = rootOf(99);
    expectCheck(
      () => validatePowBlock({ ...base, rangeRoots: roots }),
      'auxpow.coinbase-outputs',
      /output 2: it commits to/,
    );
  });

  it('pow.parent-pow: the parent must meet the retargeted bits (not header.bits) ...', () => {
    const hard = input(600000, 599990, 599995, { lastPow: { blockNumber: 599000, bits: 0x1d00ffff } });
    expectCheck(() => validatePowBlock(hard), 'pow.parent-pow', /block 600000/);
    // header.bits is not consulted (like Alys): an easy header.bits does not help
    expectCheck(() => validatePowBlock({ ...hard, header: { ...hard.header, bits: EASY } }), 'pow.parent-pow');
  });

  it('... except at or below block 533683 with the historical exemptions on', () => {
    const old = input(HISTORICAL_EXEMPTIONS.powCheckThrough, 533600, 533680, {
      lastPow: { blockNumber: 533000, bits: 0x1d00ffff },
      historicalExemptions: true,
    });
    const r = validatePowBlock(old);
    expect(r.powChecked).toBe(false);
    expect(r.requiredBits).toBe(0x1d00ffff);
    expectCheck(
      () => validatePowBlock({ ...old, blockNumber: HISTORICAL_EXEMPTIONS.powCheckThrough + 1 }),
      'pow.parent-pow',
    );
    expectCheck(() => validatePowBlock({ ...old, historicalExemptions: false }), 'pow.parent-pow');
    // the AuxPoW itself is still checked when PoW is skipped
    const roots = old.rangeRoots.slice();
    roots[3] = rootOf(1);
    expectCheck(() => validatePowBlock({ ...old, rangeRoots: roots }), 'auxpow.coinbase-outputs');
  });

  it('required bits come from the retarget of 4.6 with head = N - 1', () => {
    const retarget: RetargetParams = { ...NO_RETARGET, powNoRetargeting: false };
    // last PoW at 1 with bits 0x2000ffff; N = 14 -> head 13, diff 13 > 12 -> ratio 13/5 = 2.6 -> 1.2 -> 120%
    // (the spec example 0x1d00ffff -> 0x1d013331, one exponent up; the parent is mined at that target)
    const header = powHeader(2, 13, 0x2000ffff, mine(aggregateOf(2, 13), 0x20013331));
    const base = input(14, 2, 13, {
      header,
      lastPow: { blockNumber: 1, bits: 0x2000ffff },
      chainSpec: { ...SPEC, retargetParams: retarget },
    });
    const r = validatePowBlock(base);
    expect(r.requiredBits).toBe(0x20013331);
    // with head 12 (N = 13, a retarget height) and diff 1 the target drops to 20%: this parent no longer qualifies
    expectCheck(
      () =>
        validatePowBlock({
          ...base,
          blockNumber: 13,
          lastPow: { blockNumber: 12, bits: 0x2000ffff },
          rangeEndNumber: undefined,
        }),
      'pow.parent-pow',
    );
  });

  it('auxpow.chain-id: the spec chain id is required by default (stricter than Alys), optional off', () => {
    const base = input(5, 1, 4);
    const other = { ...base, header: { ...base.header, chainId: 727272 } };
    expectCheck(() => validatePowBlock(other), 'auxpow.chain-id', /chain id 727272, the chain spec says 121212/);
    expect(validatePowBlock({ ...other, requireSpecChainId: false }).finalizes).toBe(rootOf(4));
  });

  it('pow.auxpow-missing and pow.genesis', () => {
    const base = input(5, 1, 4);
    expectCheck(() => validatePowBlock({ ...base, header: { ...base.header, auxpow: null } }), 'pow.auxpow-missing');
    expectCheck(() => validatePowBlock({ ...base, blockNumber: 0 }), 'pow.genesis');
  });

  it('lastFinalizedOf: genesis finalizes itself, other PoW blocks their range_end', () => {
    expect(lastFinalizedOf({ hash: rootOf(0), header: { height: 0, rangeEnd: rootOf(123) } })).toBe(rootOf(0));
    expect(lastFinalizedOf({ hash: rootOf(9), header: { height: 5, rangeEnd: rootOf(8) } })).toBe(rootOf(8));
  });
});

describe('checkFinalizedPegouts (4.5 step 7)', () => {
  const tx = (lockTime: number): Transaction => ({
    version: 2,
    lockTime,
    inputs: [
      { prevTxid: new Uint8Array(32), prevVout: 0, scriptSig: new Uint8Array(), sequence: 0xfffffffd, witness: [] },
    ],
    outputs: [{ value: 1000n, scriptPubkey: Uint8Array.of(0x51) }],
  });
  const signed = (t: Transaction): Transaction => ({
    ...t,
    inputs: t.inputs.map((i) => ({ ...i, witness: [new Uint8Array(64)] })),
  });

  it('counts proposals in the range (nulls skipped) and compares txids (witness does not change the txid)', () => {
    checkFinalizedPegouts([null, tx(0), null, tx(1)], [signed(tx(0)), signed(tx(1))], { compareTxids: true });
    checkFinalizedPegouts([null, null], []);
    expectCheck(
      () => checkFinalizedPegouts([tx(0)], [], { blockNumber: 7 }),
      'pow.finalized-pegouts-count',
      /block 7: the finalized range has 1/,
    );
    expectCheck(() => checkFinalizedPegouts([], [tx(0)]), 'pow.finalized-pegouts-count');
    // non-validators only compare the count
    checkFinalizedPegouts([tx(0), tx(1)], [tx(1), tx(0)]);
    expectCheck(
      () => checkFinalizedPegouts([tx(0), tx(1)], [tx(1), tx(0)], { compareTxids: true }),
      'pow.finalized-pegouts-txid',
      /finalized peg-out 0/,
    );
  });
});

// ---------------------------------------------------------------- state machine

describe('finality state machine (4.5, 4.7, 4.8)', () => {
  const genesis = genesisFinalityState({ hash: rootOf(0), bits: EASY, chainId: CHAIN_ID });
  const OPTS = { maxBlocksWithoutPow: 20, historicalExemptions: false };
  const plain = (n: number, finalizedPegoutCount = 0): FinalityEvent => ({
    kind: 'plain',
    blockNumber: n,
    finalizedPegoutCount,
  });
  const pow = (
    n: number,
    from: number,
    to: number,
    extra: Partial<Extract<FinalityEvent, { kind: 'pow' }>> = {},
  ): FinalityEvent => ({
    kind: 'pow',
    blockNumber: n,
    blockHash: rootOf(n),
    header: powHeader(from, to, EASY, null),
    rangeStartNumber: from,
    rangeEndNumber: to,
    ...extra,
  });

  it('genesis is finalized; PoW blocks finalize their range, never themselves', () => {
    expect(isFinalized(genesis, 0)).toBe(true);
    expect(isFinalized(genesis, 1)).toBe(false);
    const events = [plain(1), plain(2), plain(3), plain(4), pow(5, 1, 4), plain(6), pow(7, 5, 6), plain(8)];
    const { state, finalized } = followFinality(genesis, events, OPTS);
    expect(finalized).toEqual([
      { from: 1, to: 4, by: 5 },
      { from: 5, to: 6, by: 7 },
    ]);
    expect(state.lastFinalized).toEqual({ blockNumber: 6, hash: rootOf(6) });
    expect(state.lastPow).toEqual({ blockNumber: 7, hash: rootOf(7), bits: EASY, chainId: CHAIN_ID });
    expect(isFinalized(state, 6)).toBe(true);
    expect(isFinalized(state, 7)).toBe(false);
    expect(state.head).toBe(8);
    // the inputs validatePowBlock needs come straight from the state
    expect(powContextFromState(state)).toEqual({
      lastPow: { blockNumber: 7, bits: EASY },
      lastFinalizedHash: rootOf(6),
    });
  });

  it('range continuity by number and, when given, by parent hash', () => {
    const s = followFinality(genesis, [plain(1), plain(2), plain(3), pow(4, 1, 2)], OPTS).state;
    expectCheck(
      () => applyFinalityEvent(s, pow(5, 4, 4), OPTS),
      'finality.range-continuity',
      /starts at block 4, but the last finalized block is 2/,
    );
    expect(applyFinalityEvent(s, pow(5, 3, 4), OPTS).newlyFinalized).toEqual({ from: 3, to: 4 });
    expectCheck(
      () => applyFinalityEvent(s, pow(5, 3, 4, { rangeStartParentHash: rootOf(1) }), OPTS),
      'finality.range-continuity',
    );
    expect(
      applyFinalityEvent(s, pow(5, 3, 4, { rangeStartParentHash: rootOf(2) }), OPTS).state.lastFinalized.blockNumber,
    ).toBe(4);
  });

  it('the 53143 exemption: an overlapping historical range is accepted only with exemptions on', () => {
    let s: FinalityState = {
      ...genesis,
      lastFinalized: { blockNumber: 53100, hash: rootOf(53100) },
      finalizedThrough: 53100,
      head: 53120,
    };
    const overlap = pow(53121, 53050, 53110);
    expectCheck(() => applyFinalityEvent(s, overlap, OPTS), 'finality.range-continuity');
    const step = applyFinalityEvent(s, overlap, { ...OPTS, historicalExemptions: true });
    expect(step.newlyFinalized).toEqual({ from: 53101, to: 53110 });
    // going backwards (possible in history): "last finalized" follows Alys, finalizedThrough never drops
    s = { ...s, lastFinalized: { blockNumber: 53115, hash: rootOf(53115) }, finalizedThrough: 53115 };
    const back = applyFinalityEvent(s, overlap, { ...OPTS, historicalExemptions: true });
    expect(back.state.lastFinalized.blockNumber).toBe(53110);
    expect(back.state.finalizedThrough).toBe(53115);
    expect(back.newlyFinalized).toBeNull();
    // above the exemption the rule applies again
    const s2: FinalityState = {
      ...genesis,
      lastFinalized: { blockNumber: 53200, hash: rootOf(53200) },
      finalizedThrough: 53200,
      head: 53300,
    };
    expectCheck(
      () => applyFinalityEvent(s2, pow(53301, 53144, 53250), { ...OPTS, historicalExemptions: true }),
      'finality.range-continuity',
    );
  });

  it('max_blocks_without_pow counts from the last finalized block (chain-dev.json: 20)', () => {
    const events: FinalityEvent[] = Array.from({ length: 20 }, (_, i) => plain(i + 1));
    const s = followFinality(genesis, events, OPTS).state;
    expect(s.head).toBe(20);
    expectCheck(
      () => applyFinalityEvent(s, plain(21), OPTS),
      'finality.max-blocks-without-pow',
      /21 blocks past the last finalized block 0; at most 20/,
    );
    // a PoW block is always allowed and resets the counter to its range_end
    const after = applyFinalityEvent(s, pow(21, 1, 15), OPTS).state;
    expect(applyFinalityEvent(after, plain(22), OPTS).state.head).toBe(22);
    const later: FinalityState = { ...after, head: 35 };
    expectCheck(() => applyFinalityEvent(later, plain(36), OPTS), 'finality.max-blocks-without-pow');
  });

  it('blocks come in order; ranges must be ordered and end before the PoW block; no finalized peg-outs without PoW', () => {
    expectCheck(() => applyFinalityEvent(genesis, plain(2), OPTS), 'finality.block-order');
    expectCheck(() => applyFinalityEvent(genesis, plain(0), OPTS), 'finality.block-order');
    const s = followFinality(genesis, [plain(1), plain(2)], OPTS).state;
    expectCheck(() => applyFinalityEvent(s, pow(3, 1, 3), OPTS), 'finality.range-order');
    expectCheck(() => applyFinalityEvent(s, pow(3, 2, 1), OPTS), 'finality.range-order');
    expectCheck(() => applyFinalityEvent(s, plain(3, 1), OPTS), 'finality.unexpected-finalized-pegouts');
  });

  it('state transitions do not mutate their input', () => {
    const s = followFinality(genesis, [plain(1), plain(2)], OPTS).state;
    const copy = JSON.parse(JSON.stringify(s));
    applyFinalityEvent(s, pow(3, 1, 2), OPTS);
    expect(JSON.parse(JSON.stringify(s))).toEqual(copy);
  });

  it('end to end: bookkeeping feeds validatePowBlock for each PoW block', () => {
    let state = genesis;
    const log: number[] = [];
    for (let n = 1; n <= 30; n++) {
      if (n % 7 === 0) {
        const from = state.lastFinalized.blockNumber + 1;
        const to = n - 1;
        const ctx = powContextFromState(state);
        const header = powHeader(from, to);
        validatePowBlock({
          blockNumber: n,
          header,
          ...ctx,
          rangeStart: { number: from, parentHash: rootOf(from - 1) },
          rangeRoots: Array.from({ length: to - from + 1 }, (_, i) => rootOf(from + i)),
          rangeEndNumber: to,
          chainSpec: SPEC,
          historicalExemptions: false,
        });
        const step = applyFinalityEvent(
          state,
          { kind: 'pow', blockNumber: n, blockHash: rootOf(n), header, rangeStartNumber: from, rangeEndNumber: to },
          OPTS,
        );
        state = step.state;
        log.push(step.newlyFinalized!.to);
      } else state = applyFinalityEvent(state, plain(n), OPTS).state;
    }
    expect(log).toEqual([6, 13, 20, 27]);
    expect(isFinalized(state, 27)).toBe(true);
    expect(isFinalized(state, 28)).toBe(false);
  });
});
