/**
 * Header-chain verification: real mainnet retargets (bitcoin-headers.json) and synthetic
 * testnet / testnet4 / regtest chains mined in the test at easy targets.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../src/protocol/bytes.js';
import type { BitcoinHeader } from '../../../src/protocol/types.js';
import {
  BITCOIN_MAINNET,
  BITCOIN_REGTEST,
  BITCOIN_TESTNET3,
  calculateNextWorkRequired,
  nextRequiredBits,
  tipFromCheckpoint,
  verifyHeaderChain,
  verifyNextHeader,
  type BitcoinNetworkParams,
  type HeaderChainTip,
} from '../../../src/protocol/bitcoin/chain.js';
import { fromDisplayHex, toDisplayHex } from '../../../src/protocol/bitcoin/hash.js';
import { decodeHeader, headerHash } from '../../../src/protocol/bitcoin/header.js';
import { checkProofOfWorkCore, decodeCompact, encodeCompact } from '../../../src/protocol/bitcoin/pow.js';
import { describeVectors, loadVectors, vectorsAvailable } from '../../helpers/vectors.js';
import { expectCheck } from '../../helpers/expect.js';

describeVectors('header chain: bitcoin-headers.json (mainnet)', () => {
  if (!vectorsAvailable) return; // describe.skip still runs this body: do not touch the files
  const v = loadVectors('bitcoin-headers.json');
  const span: string[] = v.retarget_span.headers;
  const start = v.retarget_span.start_height;

  const spanTip = (): HeaderChainTip =>
    tipFromCheckpoint(
      { height: start, header: fromHex(span[0]!), chainWork: BigInt(v.chainwork[String(start)]) },
      BITCOIN_MAINNET,
    );

  it('the 2017-header span verifies: linkage, PoW, the retarget at 828576, and chain work', () => {
    const tip = verifyHeaderChain(spanTip(), span.slice(1).map(fromHex), BITCOIN_MAINNET);
    expect(tip.height).toBe(v.retarget_span.end_height);
    expect(toDisplayHex(tip.hash)).toBe(v.retarget_span.selected[String(v.retarget_span.end_height)].hash);
    expect(tip.header.bits).toBe(Number(v.retarget_example.new_bits_expected));
    expect(tip.chainWork).toBe(BigInt(v.chainwork[String(v.retarget_span.end_height)]));
  });

  it('chain work after 828575 matches too', () => {
    const tip = verifyHeaderChain(spanTip(), span.slice(1, -1).map(fromHex), BITCOIN_MAINNET);
    expect(tip.height).toBe(828575);
    expect(tip.chainWork).toBe(BigInt(v.chainwork['828575']));
  });

  it('retarget_example: CalculateNextWorkRequired reproduces the worked numbers', () => {
    const ex = v.retarget_example;
    expect(ex.last_time - ex.first_time).toBe(ex.actual_timespan);
    const oldTarget = decodeCompact(Number(ex.old_bits)).target;
    expect(oldTarget).toBe(BigInt('0x' + ex.old_target_hex));
    expect((oldTarget * BigInt(ex.actual_timespan)) / BigInt(ex.target_timespan)).toBe(
      BigInt('0x' + ex.new_target_unrounded_hex),
    );
    const bits = calculateNextWorkRequired(ex.first_time, ex.last_time, Number(ex.old_bits), BITCOIN_MAINNET);
    expect(bits).toBe(Number(ex.new_bits_expected));
    expect(decodeCompact(bits).target).toBe(BigInt('0x' + ex.new_target_from_bits_hex));
  });

  it('all 413 retarget_table boundaries reproduce the next bits (and link, and meet PoW)', () => {
    expect(v.retarget_table.length).toBe(413);
    let changed = 0;
    for (const row of v.retarget_table) {
      const first = decodeHeader(fromHex(row.first_prev_header));
      const last = decodeHeader(fromHex(row.last_prev_header));
      const tip = tipFromCheckpoint(
        { height: row.height - 1, header: last, periodStart: { time: first.time, bits: first.bits } },
        BITCOIN_MAINNET,
      );
      const header = decodeHeader(fromHex(row.header));
      expect(nextRequiredBits(tip, header.time, BITCOIN_MAINNET)).toBe(header.bits);
      const next = verifyNextHeader(tip, fromHex(row.header), BITCOIN_MAINNET);
      expect(next.height).toBe(row.height);
      expect(next.periodStart).toEqual({ time: header.time, bits: header.bits });
      if (header.bits !== last.bits) changed++;
    }
    // the first real change is at 32256; many later boundaries change too
    expect(changed).toBeGreaterThan(300);
    const row32256 = v.retarget_table.find((r: any) => r.height === 32256);
    expect(decodeHeader(fromHex(row32256.header)).bits).not.toBe(decodeHeader(fromHex(row32256.last_prev_header)).bits);
    for (const row of v.retarget_table.filter((r: any) => r.height < 32256))
      expect(decodeHeader(fromHex(row.header)).bits).toBe(0x1d00ffff);
  });

  it('every retarget_table boundary with wrong bits is rejected as bitcoin.header.bits naming the height', () => {
    for (const row of v.retarget_table.slice(-5)) {
      const first = decodeHeader(fromHex(row.first_prev_header));
      const tip = tipFromCheckpoint(
        {
          height: row.height - 1,
          header: fromHex(row.last_prev_header),
          periodStart: { time: first.time, bits: first.bits },
        },
        BITCOIN_MAINNET,
      );
      const header = decodeHeader(fromHex(row.header));
      expectCheck(
        () => verifyNextHeader(tip, { ...header, bits: header.bits + 1 }, BITCOIN_MAINNET),
        'bitcoin.header.bits',
        new RegExp(`height ${row.height}`),
      );
    }
  });

  it('negatives in the span: broken link, bad PoW, kept old bits at the retarget, MTP, future time', () => {
    const headers = span.map((h) => decodeHeader(fromHex(h)));
    const tip = spanTip();
    // linkage: skip header 826561
    expectCheck(
      () => verifyHeaderChain(tip, [headers[2]!], BITCOIN_MAINNET),
      'bitcoin.header.prev-hash',
      /height 826561/,
    );
    // PoW: change the nonce
    expectCheck(
      () => verifyNextHeader(tip, { ...headers[1]!, nonce: (headers[1]!.nonce + 1) >>> 0 }, BITCOIN_MAINNET),
      'bitcoin.header.pow',
      /height 826561/,
    );
    // at the boundary, keeping the old bits is wrong
    const before = verifyHeaderChain(tip, headers.slice(1, -1), BITCOIN_MAINNET);
    expectCheck(
      () => verifyNextHeader(before, { ...headers[2016]!, bits: headers[2015]!.bits }, BITCOIN_MAINNET),
      'bitcoin.header.bits',
      /height 828576/,
    );
    // mid-period, a different difficulty is wrong
    expectCheck(
      () => verifyNextHeader(tip, { ...headers[1]!, bits: 0x1703ba5d }, BITCOIN_MAINNET),
      'bitcoin.header.bits',
    );
    // median time past: once 11 times are known, a time equal to the median is refused
    const eleven = verifyHeaderChain(tip, headers.slice(1, 12), BITCOIN_MAINNET);
    expect(eleven.recentTimes.length).toBe(11);
    const mtp = eleven.recentTimes.slice().sort((a, b) => a - b)[5]!;
    const tooOld: BitcoinHeader = { ...headers[12]!, time: mtp };
    expectCheck(
      () => verifyNextHeader(eleven, tooOld, BITCOIN_MAINNET),
      'bitcoin.header.time-too-old',
      /height 826572/,
    );
    // future time with a clock
    expectCheck(
      () => verifyNextHeader(tip, headers[1]!, BITCOIN_MAINNET, { now: headers[1]!.time - 7201 }),
      'bitcoin.header.time-too-new',
    );
    expect(verifyNextHeader(tip, headers[1]!, BITCOIN_MAINNET, { now: headers[1]!.time - 7200 }).height).toBe(826561);
  });

  it('the stale header 823226 is a valid fork block on its own parent, but does not extend the span', () => {
    const stale = v.stale_headers[0];
    const header = decodeHeader(fromHex(stale.header_hex));
    // its period starts at 822528, which is a retarget_table boundary header
    const boundary = decodeHeader(fromHex(v.retarget_table.find((r: any) => r.height === 822528).header));
    expect(boundary.bits).toBe(header.bits);
    const parentTip: HeaderChainTip = {
      height: stale.height - 1,
      hash: fromDisplayHex(stale.prev),
      header: { ...boundary, time: header.time - 600 }, // only time/bits of the parent are consulted
      periodStart: { time: boundary.time, bits: boundary.bits },
      lastNormalBits: boundary.bits,
      recentTimes: [],
      chainWork: 0n,
    };
    expect(toDisplayHex(verifyNextHeader(parentTip, header, BITCOIN_MAINNET).hash)).toBe(stale.hash);
    // negative: it cannot follow the span's last header (wrong parent) ...
    const end = verifyHeaderChain(spanTip(), span.slice(1).map(fromHex), BITCOIN_MAINNET);
    expectCheck(() => verifyNextHeader(end, header, BITCOIN_MAINNET), 'bitcoin.header.prev-hash', /height 828577/);
    // ... nor replace a span header
    expectCheck(
      () => verifyNextHeader(spanTip(), header, BITCOIN_MAINNET),
      'bitcoin.header.prev-hash',
      /height 826561/,
    );
  });

  it('a checkpoint inside a period needs the period start', () => {
    expect(() => tipFromCheckpoint({ height: start + 5, header: fromHex(span[5]!) }, BITCOIN_MAINNET)).toThrow(
      /checkpoint\.periodStart/,
    );
  });
});

// ---------------------------------------------------------------- synthetic chains

/** Mine a header on top of `tip` (easy targets only). */
function mine(
  tip: HeaderChainTip,
  time: number,
  bits: number,
  params: BitcoinNetworkParams,
  version = 4,
): BitcoinHeader {
  const { target } = decodeCompact(bits);
  const header: BitcoinHeader = {
    version,
    prevBlockhash: tip.hash,
    merkleRoot: new Uint8Array(32).fill(7),
    time,
    bits,
    nonce: 0,
  };
  for (let nonce = 0; nonce < 1_000_000; nonce++) {
    header.nonce = nonce;
    if (checkProofOfWorkCore(headerHash(header), bits, params.powLimit > target ? params.powLimit : target))
      return { ...header };
  }
  throw new Error('could not mine');
}

const EASY_LIMIT = 0x7fffffn << 232n; // bits 0x207fffff
const T0 = 1_700_000_000;

/**
 * testnet3 rules scaled down so a retarget is reachable and mining is instant: spacing 1 s, a 4-block
 * period, and targets small enough that target x timespan stays below 2^256 (see the wrap test).
 */
const TESTNET_SMALL: BitcoinNetworkParams = {
  name: 'testnet-small',
  powLimit: EASY_LIMIT,
  powTargetTimespan: 4,
  powTargetSpacing: 1,
  allowMinDifficultyBlocks: true,
  noRetargeting: false,
  enforceBip94: false,
};
const LIMIT_BITS = 0x207fffff;
const NORMAL_BITS = 0x1f3fffff; // ~2^246: about 1000 tries to mine

function genesisTip(params: BitcoinNetworkParams, bits: number): HeaderChainTip {
  const g: BitcoinHeader = {
    version: 4,
    prevBlockhash: new Uint8Array(32),
    merkleRoot: new Uint8Array(32),
    time: T0,
    bits,
    nonce: 0,
  };
  return tipFromCheckpoint({ height: 0, header: g }, params);
}

/** A tip whose parent-side context is given directly (no mining); only used with nextRequiredBits. */
function contextTip(
  height: number,
  time: number,
  bits: number,
  lastNormalBits: number,
  periodStart = { time: T0, bits },
): HeaderChainTip {
  return {
    height,
    hash: new Uint8Array(32),
    header: { version: 4, prevBlockhash: new Uint8Array(32), merkleRoot: new Uint8Array(32), time, bits, nonce: 0 },
    periodStart,
    lastNormalBits,
    recentTimes: [time],
    chainWork: 0n,
  };
}

describe('header chain: testnet 20-minute min-difficulty rule', () => {
  it('real testnet3 parameters: more than 1200 s after the parent requires the pow limit, else the last normal bits', () => {
    const p = BITCOIN_TESTNET3;
    expect(encodeCompact(p.powLimit)).toBe(0x1d00ffff);
    const tip = contextTip(100, T0, 0x1c00ffff, 0x1b0404cb); // a min-difficulty-looking parent is irrelevant here
    expect(nextRequiredBits(tip, T0 + 1200, p)).toBe(0x1b0404cb);
    expect(nextRequiredBits(tip, T0 + 1201, p)).toBe(0x1d00ffff);
    // mainnet never allows it
    expect(nextRequiredBits(tip, T0 + 100000, BITCOIN_MAINNET)).toBe(0x1c00ffff);
    // at a retarget height the rule does not apply
    const boundary = contextTip(2015, T0 + 1_209_600, 0x1b0404cb, 0x1b0404cb, { time: T0, bits: 0x1b0404cb });
    expect(nextRequiredBits(boundary, T0 + 2_000_000, p)).toBe(
      calculateNextWorkRequired(T0, T0 + 1_209_600, 0x1b0404cb, p),
    );
    expect(nextRequiredBits(boundary, T0 + 2_000_000, p)).toBe(0x1b0404cb); // exactly on schedule: unchanged
  });

  it('mined chain: min difficulty only after more than 2 x spacing, then back to the last normal bits; retarget from the last block', () => {
    const p = TESTNET_SMALL;
    let tip = genesisTip(p, NORMAL_BITS);
    // block 1, on schedule: normal bits required; the limit is refused
    expectCheck(() => verifyNextHeader(tip, mine(tip, T0 + 1, LIMIT_BITS, p), p), 'bitcoin.header.bits', /height 1 /);
    tip = verifyNextHeader(tip, mine(tip, T0 + 1, NORMAL_BITS, p), p);
    // block 2 exactly 2 x spacing later: still normal (the rule is "more than")
    expect(nextRequiredBits(tip, T0 + 3, p)).toBe(NORMAL_BITS);
    // one second more: the pow limit is required (not merely allowed)
    expect(nextRequiredBits(tip, T0 + 4, p)).toBe(LIMIT_BITS);
    expectCheck(() => verifyNextHeader(tip, mine(tip, T0 + 4, NORMAL_BITS, p), p), 'bitcoin.header.bits', /height 2 /);
    tip = verifyNextHeader(tip, mine(tip, T0 + 4, LIMIT_BITS, p), p);
    expect(tip.lastNormalBits).toBe(NORMAL_BITS);
    // block 3 soon after: back to the last non-min-difficulty bits
    expect(nextRequiredBits(tip, T0 + 5, p)).toBe(NORMAL_BITS);
    tip = verifyNextHeader(tip, mine(tip, T0 + 5, NORMAL_BITS, p), p);
    // block 4 = retarget: first = block 0 (T0), last = block 3 (T0+5), base = block 3's bits
    const expected = calculateNextWorkRequired(T0, T0 + 5, NORMAL_BITS, p);
    expect(nextRequiredBits(tip, T0 + 6, p)).toBe(expected);
    // independent arithmetic: actual 5 within [1, 16]; target * 5 / 4, truncating compact
    expect(decodeCompact(expected).target).toBe(
      decodeCompact(encodeCompact((decodeCompact(NORMAL_BITS).target * 5n) / 4n)).target,
    );
    tip = verifyNextHeader(tip, mine(tip, T0 + 6, expected, p), p);
    expect(tip.periodStart).toEqual({ time: T0 + 6, bits: expected });
  });

  it('a retarget after a min-difficulty last block is based on the pow limit (testnet3); BIP94 uses the first block', () => {
    const p = TESTNET_SMALL;
    let tip = genesisTip(p, NORMAL_BITS);
    tip = verifyNextHeader(tip, mine(tip, T0 + 1, NORMAL_BITS, p), p);
    tip = verifyNextHeader(tip, mine(tip, T0 + 2, NORMAL_BITS, p), p);
    tip = verifyNextHeader(tip, mine(tip, T0 + 10, LIMIT_BITS, p), p); // block 3 at min difficulty
    expect(nextRequiredBits(tip, T0 + 11, p)).toBe(calculateNextWorkRequired(T0, T0 + 10, LIMIT_BITS, p));
    const p4 = { ...p, enforceBip94: true };
    expect(nextRequiredBits(tip, T0 + 11, p4)).toBe(calculateNextWorkRequired(T0, T0 + 10, NORMAL_BITS, p4));
    expect(nextRequiredBits(tip, T0 + 11, p4)).not.toBe(nextRequiredBits(tip, T0 + 11, p));
  });

  it('CalculateNextWorkRequired: 4x clamp both ways, pow-limit cap, and arith_uint256 wrap of the product', () => {
    const p = TESTNET_SMALL;
    const t = decodeCompact(NORMAL_BITS).target;
    const enc = (x: bigint) => encodeCompact(x);
    expect(calculateNextWorkRequired(T0, T0 + 0, NORMAL_BITS, p)).toBe(enc((t * 1n) / 4n)); // clamped up to timespan/4
    expect(calculateNextWorkRequired(T0, T0 + 1000, NORMAL_BITS, p)).toBe(enc((t * 16n) / 4n)); // clamped down to 4x
    const lowLimit = { ...p, powLimit: 0xffffn << 224n };
    expect(calculateNextWorkRequired(T0, T0 + 1000, 0x1f00ffff, lowLimit)).toBe(0x1f00ffff); // 4x easier, capped at the pow limit
    expect(calculateNextWorkRequired(T0, T0 + 2, 0x1f00ffff, lowLimit)).toBe(enc(((0xffffn << 224n) * 2n) / 4n)); // harder: no cap
    // Core multiplies in 256 bits: a huge target times the timespan wraps (real networks never get here)
    const big = decodeCompact(0x207fffff).target;
    expect(calculateNextWorkRequired(T0, T0 + 16, 0x207fffff, p)).toBe(enc(((big * 16n) % (1n << 256n)) / 4n));
    expect(calculateNextWorkRequired(T0, T0 + 16, 0x207fffff, { ...p, noRetargeting: true })).toBe(0x207fffff);
  });

  it('BIP94 timewarp: a period-start block may not be more than 600 s before its parent', () => {
    const p4 = { ...TESTNET_SMALL, powTargetTimespan: 4 * 600, powTargetSpacing: 600, enforceBip94: true };
    let tip = genesisTip(p4, LIMIT_BITS);
    for (let i = 1; i <= 3; i++) tip = verifyNextHeader(tip, mine(tip, T0 + 600 * i, LIMIT_BITS, p4), p4);
    const time = T0 + 1800 - 601;
    const bits = nextRequiredBits(tip, time, p4);
    expectCheck(() => verifyNextHeader(tip, mine(tip, time, bits, p4), p4), 'bitcoin.header.timewarp', /height 4/);
    const ok = T0 + 1800 - 600;
    expect(verifyNextHeader(tip, mine(tip, ok, nextRequiredBits(tip, ok, p4), p4), p4).height).toBe(4);
  });

  it('minimum versions (BIP34/66/65 heights)', () => {
    const p = { ...TESTNET_SMALL, minVersionHeights: { bip34: 1, bip66: 2, bip65: 3 } };
    let tip = genesisTip(p, NORMAL_BITS);
    expectCheck(
      () => verifyNextHeader(tip, mine(tip, T0 + 1, NORMAL_BITS, p, 1), p),
      'bitcoin.header.version',
      /height 1 .*at least 2/,
    );
    tip = verifyNextHeader(tip, mine(tip, T0 + 1, NORMAL_BITS, p, 2), p);
    expectCheck(
      () => verifyNextHeader(tip, mine(tip, T0 + 2, NORMAL_BITS, p, 2), p),
      'bitcoin.header.version',
      /at least 3/,
    );
  });
});

describe('header chain: regtest', () => {
  it('no retargeting across a 2016-block boundary; PoW above the limit is refused', () => {
    const p = BITCOIN_REGTEST;
    let tip = genesisTip(p, 0x207fffff);
    const headers: BitcoinHeader[] = [];
    for (let i = 1; i <= 2017; i++) {
      const h = mine(tip, T0 + i, 0x207fffff, p);
      headers.push(h);
      tip = verifyNextHeader(tip, h, p);
    }
    expect(tip.height).toBe(2017);
    expect(tip.header.bits).toBe(0x207fffff);
    expect(nextRequiredBits(tip, T0 + 5000, p)).toBe(0x207fffff);
    // re-verify in one call
    expect(verifyHeaderChain(genesisTip(p, 0x207fffff), headers, p).hash).toEqual(tip.hash);
    // bits easier than the regtest limit
    const bad = { ...mine(tip, T0 + 3000, 0x207fffff, p), bits: 0x2100ffff };
    expectCheck(() => verifyNextHeader(tip, bad, p), 'bitcoin.header.bits');
  });
});
