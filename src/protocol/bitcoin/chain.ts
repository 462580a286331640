/**
 * Bitcoin header-chain verification (SPV): linkage, proof of work, difficulty retargeting
 * (Bitcoin Core `GetNextWorkRequired` / `CalculateNextWorkRequired`), the testnet
 * min-difficulty rule, BIP94 (testnet4), median-time-past, future-time and minimum-version rules,
 * and chain work.
 *
 * The verifier is a pure step function over a {@link HeaderChainTip}: it carries exactly the
 * context the next header needs (period start, last non-min-difficulty bits, the last 11
 * timestamps, chain work), so a light client can start from any checkpoint without the full chain.
 */
import { equalBytes } from '../bytes.js';
import { DecodeError, VerificationError } from '../errors.js';
import type { BitcoinHeader } from '../types.js';
import { hashMeetsTarget, toDisplayHex } from './hash.js';
import { decodeHeader, encodeHeader, headerHash } from './header.js';
import { decodeCompact, encodeCompact, U256_MAX, workFromBits } from './pow.js';

export interface BitcoinNetworkParams {
  name: string;
  /** Highest allowed target (Core `consensus.powLimit`). */
  powLimit: bigint;
  /** seconds; 14 days on every public network */
  powTargetTimespan: number;
  /** seconds; 10 minutes */
  powTargetSpacing: number;
  /** testnet rule: a block more than 2 x spacing after its parent may use the pow limit */
  allowMinDifficultyBlocks: boolean;
  /** regtest: the difficulty never changes */
  noRetargeting: boolean;
  /** testnet4: retarget from the period's first block bits; timewarp rule */
  enforceBip94: boolean;
  /** Heights from which versions below 2/3/4 are invalid (BIP34/BIP66/BIP65); omit to skip the rule. */
  minVersionHeights?: { bip34: number; bip66: number; bip65: number };
}

const LIMIT_1D00FFFF = 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffn;

export const BITCOIN_MAINNET: BitcoinNetworkParams = {
  name: 'mainnet',
  powLimit: LIMIT_1D00FFFF,
  powTargetTimespan: 14 * 24 * 60 * 60,
  powTargetSpacing: 10 * 60,
  allowMinDifficultyBlocks: false,
  noRetargeting: false,
  enforceBip94: false,
  minVersionHeights: { bip34: 227931, bip66: 363725, bip65: 388381 },
};

export const BITCOIN_TESTNET3: BitcoinNetworkParams = {
  name: 'testnet',
  powLimit: LIMIT_1D00FFFF,
  powTargetTimespan: 14 * 24 * 60 * 60,
  powTargetSpacing: 10 * 60,
  allowMinDifficultyBlocks: true,
  noRetargeting: false,
  enforceBip94: false,
  minVersionHeights: { bip34: 21111, bip66: 330776, bip65: 581885 },
};

export const BITCOIN_TESTNET4: BitcoinNetworkParams = {
  name: 'testnet4',
  powLimit: LIMIT_1D00FFFF,
  powTargetTimespan: 14 * 24 * 60 * 60,
  powTargetSpacing: 10 * 60,
  allowMinDifficultyBlocks: true,
  noRetargeting: false,
  enforceBip94: true,
  minVersionHeights: { bip34: 1, bip66: 1, bip65: 1 },
};

export const BITCOIN_REGTEST: BitcoinNetworkParams = {
  name: 'regtest',
  powLimit: 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
  powTargetTimespan: 14 * 24 * 60 * 60,
  powTargetSpacing: 10 * 60,
  allowMinDifficultyBlocks: true,
  noRetargeting: true,
  enforceBip94: false,
  minVersionHeights: { bip34: 1, bip66: 1, bip65: 1 },
};

/** Core's MAX_TIMEWARP (BIP94). */
const MAX_TIMEWARP = 600;
/** Core's MAX_FUTURE_BLOCK_TIME. */
const MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60;
const MEDIAN_TIME_SPAN = 11;

const limitBitsCache = new WeakMap<BitcoinNetworkParams, number>();
/** Compact form of the pow limit (cached per params object: it is needed for every header). */
function powLimitBits(params: BitcoinNetworkParams): number {
  let bits = limitBitsCache.get(params);
  if (bits === undefined) {
    bits = encodeCompact(params.powLimit);
    limitBitsCache.set(params, bits);
  }
  return bits;
}

export function difficultyAdjustmentInterval(params: BitcoinNetworkParams): number {
  return Math.floor(params.powTargetTimespan / params.powTargetSpacing);
}

/** Everything needed to verify the header after `height`. Treat as immutable. */
export interface HeaderChainTip {
  height: number;
  /** internal byte order */
  hash: Uint8Array;
  header: BitcoinHeader;
  /** time and bits of the first block of the retarget period containing `height` */
  periodStart: { time: number; bits: number };
  /** bits of the last block of this period not mined under the min-difficulty rule (testnet) */
  lastNormalBits: number;
  /** up to the 11 latest timestamps, oldest first, ending with `header.time` */
  recentTimes: number[];
  /** cumulative work up to and including this header */
  chainWork: bigint;
}

export interface CheckpointInput {
  height: number;
  header: BitcoinHeader | Uint8Array;
  /** Required unless `height` starts a retarget period. */
  periodStart?: { time: number; bits: number };
  /** Testnet only, required when the checkpoint itself is a min-difficulty block mid-period. */
  lastNormalBits?: number;
  /** Earlier timestamps (oldest first, may include the checkpoint's own as the last); fewer than 11 disables MTP until enough are seen. */
  recentTimes?: number[];
  /** Chain work at the checkpoint (from a trusted source); defaults to 0 (then only differences are meaningful). */
  chainWork?: bigint;
}

/** Build a tip from a trusted checkpoint header. */
export function tipFromCheckpoint(cp: CheckpointInput, params: BitcoinNetworkParams): HeaderChainTip {
  const header = cp.header instanceof Uint8Array ? decodeHeader(cp.header, 'checkpoint.header') : cp.header;
  const interval = difficultyAdjustmentInterval(params);
  if (!Number.isSafeInteger(cp.height) || cp.height < 0)
    throw new DecodeError('checkpoint.height', `expected a block height, got ${cp.height}`);
  const startsPeriod = cp.height % interval === 0;
  let periodStart = cp.periodStart;
  if (startsPeriod) periodStart ??= { time: header.time, bits: header.bits };
  else if (!periodStart && !params.noRetargeting)
    throw new DecodeError(
      'checkpoint.periodStart',
      `height ${cp.height} is inside a retarget period: pass the time and bits of block ${cp.height - (cp.height % interval)}`,
    );
  const limitBits = powLimitBits(params);
  let lastNormalBits = cp.lastNormalBits;
  if (lastNormalBits === undefined) {
    if (startsPeriod || !params.allowMinDifficultyBlocks || header.bits !== limitBits) lastNormalBits = header.bits;
    else
      throw new DecodeError(
        'checkpoint.lastNormalBits',
        `checkpoint ${cp.height} is a min-difficulty block: pass the bits of the last block of its period not mined under that rule`,
      );
  }
  const times = (cp.recentTimes ?? []).slice();
  if (times.length === 0 || times[times.length - 1] !== header.time) times.push(header.time);
  return {
    height: cp.height,
    hash: headerHash(header),
    header,
    periodStart: periodStart ?? { time: header.time, bits: header.bits },
    lastNormalBits,
    recentTimes: times.slice(-MEDIAN_TIME_SPAN),
    chainWork: cp.chainWork ?? 0n,
  };
}

/**
 * Bitcoin Core `CalculateNextWorkRequired`: scale the target by the clamped actual timespan
 * (at most 4x either way), cap at the pow limit, and encode with the truncating compact form.
 * `baseBits` is the last block's bits (or, under BIP94, the period's first block's bits).
 */
export function calculateNextWorkRequired(
  firstBlockTime: number,
  lastBlockTime: number,
  baseBits: number,
  params: BitcoinNetworkParams,
): number {
  if (params.noRetargeting) return baseBits;
  const timespan = params.powTargetTimespan;
  let actual = lastBlockTime - firstBlockTime;
  if (actual < Math.floor(timespan / 4)) actual = Math.floor(timespan / 4);
  if (actual > timespan * 4) actual = timespan * 4;
  // arith_uint256 arithmetic: the product wraps at 2^256 (cannot happen with real pow limits).
  let target = decodeCompact(baseBits).target;
  target = ((target * BigInt(actual)) & U256_MAX) / BigInt(timespan);
  if (target > params.powLimit) target = params.powLimit;
  return encodeCompact(target);
}

/** Bitcoin Core `GetNextWorkRequired` for the block after `tip`, whose timestamp is `newTime`. */
export function nextRequiredBits(tip: HeaderChainTip, newTime: number, params: BitcoinNetworkParams): number {
  const interval = difficultyAdjustmentInterval(params);
  const height = tip.height + 1;
  if (height % interval !== 0) {
    if (params.allowMinDifficultyBlocks) {
      // testnet: a block more than 20 minutes after its parent may be mined at the pow limit
      if (newTime > tip.header.time + params.powTargetSpacing * 2) return powLimitBits(params);
      return tip.lastNormalBits;
    }
    return tip.header.bits;
  }
  if (params.noRetargeting) return tip.header.bits;
  const base = params.enforceBip94 ? tip.periodStart.bits : tip.header.bits;
  return calculateNextWorkRequired(tip.periodStart.time, tip.header.time, base, params);
}

function medianTimePast(times: number[]): number {
  const sorted = times.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export interface VerifyHeaderOptions {
  /** Unix seconds "now"; when given, headers more than 2 hours in the future are rejected. */
  now?: number;
}

/**
 * Verify that `next` extends `tip` and return the new tip. Throws VerificationError (check names
 * `bitcoin.header.*`, message names the height) on the first broken rule.
 */
export function verifyNextHeader(
  tip: HeaderChainTip,
  next: BitcoinHeader | Uint8Array,
  params: BitcoinNetworkParams,
  opts: VerifyHeaderOptions = {},
): HeaderChainTip {
  const height = tip.height + 1;
  const bytes = next instanceof Uint8Array ? next : encodeHeader(next);
  const header = next instanceof Uint8Array ? decodeHeader(next, `header ${height}`) : next;
  const hash = headerHash(bytes);
  const interval = difficultyAdjustmentInterval(params);

  if (!equalBytes(header.prevBlockhash, tip.hash))
    throw new VerificationError(
      'bitcoin.header.prev-hash',
      `header at height ${height} (${toDisplayHex(hash)}) points to parent ${toDisplayHex(header.prevBlockhash)}, but the block at ${tip.height} is ${toDisplayHex(tip.hash)}`,
    );

  const required = nextRequiredBits(tip, header.time, params);
  if (header.bits !== required)
    throw new VerificationError(
      'bitcoin.header.bits',
      `header at height ${height} has bits 0x${header.bits.toString(16).padStart(8, '0')}, the difficulty rules require 0x${required.toString(16).padStart(8, '0')}`,
    );

  if (tip.recentTimes.length >= MEDIAN_TIME_SPAN) {
    const mtp = medianTimePast(tip.recentTimes);
    if (header.time <= mtp)
      throw new VerificationError(
        'bitcoin.header.time-too-old',
        `header at height ${height} has time ${header.time}, not after the median time past ${mtp}`,
      );
  }
  if (opts.now !== undefined && header.time > opts.now + MAX_FUTURE_BLOCK_TIME)
    throw new VerificationError(
      'bitcoin.header.time-too-new',
      `header at height ${height} has time ${header.time}, more than 2 hours after ${opts.now}`,
    );
  if (params.enforceBip94 && height % interval === 0 && header.time < tip.header.time - MAX_TIMEWARP)
    throw new VerificationError(
      'bitcoin.header.timewarp',
      `header at height ${height} starts a retarget period with time ${header.time}, more than ${MAX_TIMEWARP} s before its parent's ${tip.header.time}`,
    );
  const mv = params.minVersionHeights;
  if (mv) {
    const min = height >= mv.bip65 ? 4 : height >= mv.bip66 ? 3 : height >= mv.bip34 ? 2 : 0;
    if (header.version < min)
      throw new VerificationError(
        'bitcoin.header.version',
        `header at height ${height} has version ${header.version}, at least ${min} is required`,
      );
  }

  // proof of work last: the contextual rules above name the more specific problem first
  const { target, negative, overflow } = decodeCompact(header.bits);
  if (negative || overflow || target === 0n || target > params.powLimit || !hashMeetsTarget(hash, target))
    throw new VerificationError(
      'bitcoin.header.pow',
      `header at height ${height} (${toDisplayHex(hash)}) does not meet its target 0x${header.bits.toString(16).padStart(8, '0')}`,
    );

  const startsPeriod = height % interval === 0;
  const limitBits = powLimitBits(params);
  const times = tip.recentTimes.length >= MEDIAN_TIME_SPAN ? tip.recentTimes.slice(1) : tip.recentTimes.slice();
  times.push(header.time);
  return {
    height,
    hash,
    header,
    periodStart: startsPeriod ? { time: header.time, bits: header.bits } : tip.periodStart,
    lastNormalBits: startsPeriod || header.bits !== limitBits ? header.bits : tip.lastNormalBits,
    recentTimes: times,
    chainWork: tip.chainWork + workFromBits(header.bits),
  };
}

/** Verify `headers` (consecutive, starting at `tip.height + 1`) and return the final tip. */
export function verifyHeaderChain(
  tip: HeaderChainTip,
  headers: Iterable<BitcoinHeader | Uint8Array>,
  params: BitcoinNetworkParams,
  opts: VerifyHeaderOptions = {},
): HeaderChainTip {
  let current = tip;
  for (const h of headers) current = verifyNextHeader(current, h, params, opts);
  return current;
}
