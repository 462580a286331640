/**
 * Execution-payload withdrawals = Alys minting (alys-protocol.md section 5.3, tagged [R]: read in
 * the source, no real Alys block with withdrawals was available to test against; `app/src/chain.rs`
 * `split_fees`, `fill_pegins`, `check_withdrawals`; `app/src/engine.rs` `ConsensusAmount`).
 *
 * Producer (what an honest block contains, in this order):
 * 1. only in a block with an AuxPowHeader and only if `fees > 0`: one withdrawal to the
 *    header's `fee_recipient` of `floor(fees·80/100)` wei, then one per chain-spec `federation`
 *    address of `floor((fees − miner)/len(federation))` wei, each converted to Gwei (floor);
 * 2. the queued peg-ins, walked in queue order (ascending txid, internal byte order), summed per
 *    EVM address; a peg-in whose address would be a 17th distinct address waits for a later
 *    block; the sums are appended in ascending address byte order as `sats × 10` Gwei.
 * Every withdrawal has `index = validatorIndex = 0`.
 *
 * Validator (`check_withdrawals`): the fee entries are collected into a map (a later duplicate
 * address overwrites an earlier one), then each peg-in listed in the block ADDS its Gwei to the
 * entry of its address; then, for each payload withdrawal in order, an entry whose address and
 * amount both match exactly is removed. The block is rejected only if an entry remains.
 * Quirks this reproduces: unexpected extra withdrawals are accepted; a second withdrawal to an
 * already matched address is ignored; when the miner is also a federation address the fee map
 * keeps only the federation share (so the producer's two entries still pass); a peg-in to the
 * miner/federation address in a PoW block makes producer and validator disagree (rejected).
 * The 16-distinct-address limit is a producer rule only; validators do not apply it.
 */
import { parseHex, toHex } from '../bytes.js';
import { DecodeError, ProtocolError, VerificationError } from '../errors.js';
import type { Hex, Withdrawal } from '../types.js';
import { satsToGwei, U256_MAX, U64_MAX, weiToGwei } from './units.js';

/** Alys `MAINNET_MAX_WITHDRAWALS`: distinct peg-in addresses per block. */
export const MAX_PEGIN_ADDRESSES_PER_BLOCK = 16;
/** Share of the fees that goes to the miner, in percent. */
export const MINER_FEE_PERCENT = 80n;

/** One fee withdrawal as `split_fees` produces it. */
export interface FeeShare {
  address: Hex;
  /** Gwei */
  amountGwei: bigint;
}

/** A peg-in as the withdrawal rules see it (from {@link parsePegIn} plus the queue order). */
export interface PegInCredit {
  evmAddress: Hex;
  amountSats: bigint;
}

export interface WithdrawalInputs {
  /**
   * Fees to pay out in wei: the parent's accumulated priority fees when the block carries an
   * AuxPowHeader, or `null` when it does not (then no fee withdrawals at all).
   */
  feesWei: bigint | null;
  /** `auxpow_header.fee_recipient` (the miner); required when `feesWei` is not null. */
  feeRecipient?: Hex | null;
  /** Chain-spec `federation` addresses, in spec order. */
  federation: readonly Hex[];
  /**
   * Peg-ins: for the producer view, the queue in Alys order (ascending txid, internal byte
   * order); for the validator view, the block's `pegins` in block order.
   */
  pegins: readonly PegInCredit[];
}

export interface ExpectedWithdrawals {
  /** The payload withdrawals an honest Alys producer builds, in order. */
  withdrawals: Withdrawal[];
  /** Indexes into `pegins` that the producer includes (at most 16 distinct addresses). */
  includedPegins: number[];
  /**
   * What Alys validators require (address → Gwei), built from the fee shares and ALL given
   * peg-ins, with `check_withdrawals`'s overwrite/add rules.
   */
  required: ReadonlyMap<Hex, bigint>;
}

function normaliseAddress(value: unknown, path: string): Hex {
  return toHex(parseHex(value, path, { prefix: 'required', length: 20 }));
}

function checkedAdd(a: bigint, b: bigint, what: string): bigint {
  const sum = a + b;
  if (sum > U64_MAX)
    throw new ProtocolError(
      'withdrawals.overflow',
      `${what} overflows Alys's u64 amount (${sum}); Alys would overflow here too`,
    );
  return sum;
}

/**
 * Alys `split_fees`: `[]` for zero fees, else the miner share then one equal share per
 * federation address, converted to Gwei (floor). Throws when `federation` is empty (Alys
 * divides by zero there).
 */
export function splitFees(feesWei: bigint, minerAddress: Hex, federation: readonly Hex[]): FeeShare[] {
  if (typeof feesWei !== 'bigint' || feesWei < 0n || feesWei > U256_MAX)
    throw new DecodeError('feesWei', `expected a u256 bigint, got ${String(feesWei)}`);
  if (feesWei === 0n) return [];
  const miner = normaliseAddress(minerAddress, 'feeRecipient');
  if (federation.length === 0)
    throw new ProtocolError(
      'withdrawals.no-federation',
      'cannot split fees over an empty federation (Alys divides by zero here)',
    );
  if (feesWei * MINER_FEE_PERCENT > U256_MAX)
    throw new ProtocolError('withdrawals.overflow', 'fees × 80 overflows u256 (Alys panics here)');
  const minerWei = (feesWei * MINER_FEE_PERCENT) / 100n;
  const federationWei = (feesWei - minerWei) / BigInt(federation.length);
  const federationGwei = weiToGwei(federationWei);
  return [
    { address: miner, amountGwei: weiToGwei(minerWei) },
    ...federation.map((a, i) => ({ address: normaliseAddress(a, `federation[${i}]`), amountGwei: federationGwei })),
  ];
}

/**
 * Both views of a block's withdrawals: the producer's list and the validators' requirement.
 * See the module comment for the exact rules.
 */
export function expectedWithdrawals(inputs: WithdrawalInputs): ExpectedWithdrawals {
  const fees =
    inputs.feesWei === null
      ? []
      : splitFees(inputs.feesWei, (inputs.feeRecipient ?? undefined) as Hex, inputs.federation);

  const pegins = inputs.pegins.map((p, i) => ({
    address: normaliseAddress(p.evmAddress, `pegins[${i}].evmAddress`),
    gwei: satsToGwei(p.amountSats),
    sats: p.amountSats,
  }));

  // Producer: per-address sums of sats (u64 in Alys), honouring the distinct-address limit.
  const sums = new Map<Hex, bigint>();
  const includedPegins: number[] = [];
  pegins.forEach((p, i) => {
    if (sums.size < MAX_PEGIN_ADDRESSES_PER_BLOCK || sums.has(p.address)) {
      sums.set(p.address, checkedAdd(sums.get(p.address) ?? 0n, p.sats, `peg-in sum for ${p.address}`));
      includedPegins.push(i);
    }
  });
  // Lowercase hex of equal length sorts like the 20 address bytes (H160's Ord).
  const pegInEntries = [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const withdrawals: Withdrawal[] = [
    ...fees.map((f) => ({ index: 0n, validatorIndex: 0n, address: f.address, amount: f.amountGwei })),
    ...pegInEntries.map(([address, sats]) => ({ index: 0n, validatorIndex: 0n, address, amount: satsToGwei(sats) })),
  ];

  // Validator: fee map with overwrite, then every peg-in added.
  const required = new Map<Hex, bigint>();
  for (const f of fees) required.set(f.address, f.amountGwei);
  for (const p of pegins)
    required.set(p.address, checkedAdd(required.get(p.address) ?? 0n, p.gwei, `expected amount for ${p.address}`));

  return { withdrawals, includedPegins, required };
}

/**
 * Alys `check_withdrawals`: every required (address, Gwei) entry must be matched exactly by some
 * payload withdrawal; extra withdrawals are allowed. `index` and `validatorIndex` are ignored.
 * Throws VerificationError `withdrawals.missing` naming the unmatched entries.
 */
export function checkWithdrawals(
  expected: ExpectedWithdrawals | ReadonlyMap<Hex, bigint>,
  actual: readonly Withdrawal[],
): void {
  const source = expected instanceof Map ? expected : (expected as ExpectedWithdrawals).required;
  const remaining = new Map<Hex, bigint>();
  for (const [address, amount] of source) remaining.set(normaliseAddress(address, 'expected'), amount);
  actual.forEach((w, i) => {
    const address = normaliseAddress(w.address, `withdrawals[${i}].address`);
    const want = remaining.get(address);
    if (want !== undefined && want === w.amount) remaining.delete(address);
  });
  if (remaining.size > 0) {
    const list = [...remaining].map(([a, v]) => `${a}: ${v} Gwei`).join(', ');
    throw new VerificationError(
      'withdrawals.missing',
      `the payload lacks ${remaining.size} required withdrawal(s): ${list}`,
      {
        details:
          'Alys requires one withdrawal with exactly this address and amount for every fee share and peg-in (section 5.3).',
      },
    );
  }
}
