/** Units and withdrawals = minting (alys-protocol.md 5.3), including Alys's validator quirks. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, ProtocolError, VerificationError } from '../../../src/protocol/errors.js';
import type { Hex, Withdrawal } from '../../../src/protocol/types.js';
import { gweiToWei, satsToGwei, satsToWei, U64_MAX, weiToGwei, weiToSats } from '../../../src/protocol/bridge/units.js';
import {
  checkWithdrawals,
  expectedWithdrawals,
  MAX_PEGIN_ADDRESSES_PER_BLOCK,
  splitFees,
} from '../../../src/protocol/bridge/withdrawals.js';
import { TESTNET_CHAIN_SPEC } from '../../../src/protocol/chainspec.js';

const addr = (n: number): Hex => `0x${n.toString(16).padStart(40, '0')}` as Hex;
const w = (address: Hex, amount: bigint, index = 0n): Withdrawal => ({ index, validatorIndex: index, address, amount });
const satsArb = fc.bigInt({ min: 0n, max: 21_000_000n * 100_000_000n });
// below u64 Gwei (1.8·10^28 wei), where Alys would overflow
const weiArb = fc.bigInt({ min: 0n, max: 10n ** 28n });

describe('units', () => {
  it('1 BTC = 10^8 sats = 10^18 wei = 10^9 Gwei', () => {
    expect(satsToWei(100_000_000n)).toBe(10n ** 18n);
    expect(satsToGwei(100_000_000n)).toBe(10n ** 9n);
    expect(weiToGwei(10n ** 18n)).toBe(10n ** 9n);
    expect(weiToSats(10n ** 18n)).toBe(100_000_000n);
    expect(gweiToWei(1n)).toBe(10n ** 9n);
  });
  it('round down', () => {
    expect(weiToGwei(999_999_999n)).toBe(0n);
    expect(weiToGwei(1_999_999_999n)).toBe(1n);
    expect(weiToSats(9_999_999_999n)).toBe(0n);
    expect(weiToSats(10_000_000_000n)).toBe(1n);
  });
  it('property: sats → wei → sats and sats → wei → Gwei are exact', () => {
    fc.assert(
      fc.property(satsArb, (s) => {
        expect(weiToSats(satsToWei(s))).toBe(s);
        expect(weiToGwei(satsToWei(s))).toBe(satsToGwei(s));
        expect(gweiToWei(satsToGwei(s))).toBe(satsToWei(s));
      }),
    );
  });
  it('property: wei → Gwei/sats floor brackets the input', () => {
    fc.assert(
      fc.property(weiArb, (wei) => {
        const g = weiToGwei(wei);
        expect(g * 10n ** 9n <= wei && wei < (g + 1n) * 10n ** 9n).toBe(true);
        const s = weiToSats(wei);
        expect(s * 10n ** 10n <= wei && wei < (s + 1n) * 10n ** 10n).toBe(true);
      }),
    );
  });
  it('rejects negative amounts and Alys overflows', () => {
    expect(() => satsToWei(-1n)).toThrow(ProtocolError);
    expect(() => weiToGwei(-1n)).toThrow(ProtocolError);
    expect(() => satsToGwei(U64_MAX)).toThrow(/overflow/);
    expect(() => weiToGwei((U64_MAX + 1n) * 10n ** 9n)).toThrow(/u64/);
    expect(() => weiToSats((U64_MAX + 1n) * 10n ** 10n)).toThrow(/u64/);
    expect(() => satsToWei(1 as unknown as bigint)).toThrow(ProtocolError);
  });
});

describe('splitFees (Alys split_fees)', () => {
  const fed = TESTNET_CHAIN_SPEC.federation;
  it('zero fees: nothing', () => {
    expect(splitFees(0n, addr(1), fed)).toEqual([]);
  });
  it('worked example: 10^12 + 7 wei over 3 federation addresses', () => {
    const fees = 10n ** 12n + 7n;
    // miner: floor(fees * 80 / 100) = 800000000005 wei → 800 Gwei; rest 200000000002 / 3 = 66666666667 wei → 66 Gwei
    expect(splitFees(fees, addr(1), fed)).toEqual([
      { address: addr(1), amountGwei: 800n },
      ...fed.map((a) => ({ address: a, amountGwei: 66n })),
    ]);
  });
  it('property: shares never exceed the fees (in wei and in Gwei)', () => {
    fc.assert(
      fc.property(
        weiArb.filter((f) => f > 0n),
        fc.integer({ min: 1, max: 15 }),
        (fees, n) => {
          const federation = Array.from({ length: n }, (_, i) => addr(100 + i));
          const shares = splitFees(fees, addr(1), federation);
          expect(shares.length).toBe(n + 1);
          const miner = (fees * 80n) / 100n;
          const each = (fees - miner) / BigInt(n);
          expect(miner + each * BigInt(n) <= fees).toBe(true);
          const totalGwei = shares.reduce((s, x) => s + x.amountGwei, 0n);
          expect(totalGwei * 10n ** 9n <= fees).toBe(true);
          expect(shares[0]!.amountGwei).toBe(miner / 10n ** 9n);
          for (const s of shares.slice(1)) expect(s.amountGwei).toBe(each / 10n ** 9n);
        },
      ),
    );
  });
  it('an empty federation cannot share fees (Alys divides by zero)', () => {
    expect(() => splitFees(1n, addr(1), [])).toThrow(ProtocolError);
  });
  it('bad inputs', () => {
    expect(() => splitFees(-1n, addr(1), fed)).toThrow(DecodeError);
    expect(() => splitFees(1n, '0x1234' as Hex, fed)).toThrow(DecodeError);
  });
});

describe('expectedWithdrawals: producer list', () => {
  const federation = [addr(0xf1), addr(0xf2)];
  it('fees first (miner, then federation in spec order), then peg-ins summed per address in ascending order', () => {
    const e = expectedWithdrawals({
      feesWei: 5n * 10n ** 9n * 100n, // 500 Gwei
      feeRecipient: addr(0xaa),
      federation,
      pegins: [
        { evmAddress: addr(0x30), amountSats: 7n },
        { evmAddress: addr(0x10), amountSats: 1n },
        { evmAddress: addr(0x30), amountSats: 3n },
      ],
    });
    expect(e.withdrawals).toEqual([
      w(addr(0xaa), 400n),
      w(addr(0xf1), 50n),
      w(addr(0xf2), 50n),
      w(addr(0x10), 10n),
      w(addr(0x30), 100n),
    ]);
    expect(e.includedPegins).toEqual([0, 1, 2]);
    checkWithdrawals(e, e.withdrawals);
  });

  it('no AuxPowHeader (feesWei null): no fee withdrawals at all', () => {
    const e = expectedWithdrawals({ feesWei: null, federation, pegins: [{ evmAddress: addr(5), amountSats: 2n }] });
    expect(e.withdrawals).toEqual([w(addr(5), 20n)]);
  });

  it('at most 16 distinct peg-in addresses; later peg-ins to an included address still join', () => {
    const pegins = Array.from({ length: MAX_PEGIN_ADDRESSES_PER_BLOCK + 1 }, (_, i) => ({
      evmAddress: addr(1000 + i),
      amountSats: 1n,
    }));
    pegins.push({ evmAddress: addr(1000), amountSats: 5n });
    const e = expectedWithdrawals({ feesWei: null, federation, pegins });
    expect(e.includedPegins).toEqual([...Array.from({ length: 16 }, (_, i) => i), 17]);
    expect(e.withdrawals.length).toBe(16);
    expect(e.withdrawals[0]).toEqual(w(addr(1000), 60n));
    expect(e.withdrawals.some((x) => x.address === addr(1016))).toBe(false);
  });

  it('addresses are compared case-insensitively and emitted lowercase', () => {
    const upper = ('0x' + 'AB'.repeat(20)) as Hex;
    const e = expectedWithdrawals({
      feesWei: null,
      federation,
      pegins: [
        { evmAddress: upper, amountSats: 1n },
        { evmAddress: upper.toLowerCase() as Hex, amountSats: 1n },
      ],
    });
    expect(e.withdrawals).toEqual([w(('0x' + 'ab'.repeat(20)) as Hex, 20n)]);
  });
});

describe('checkWithdrawals: Alys check_withdrawals semantics and quirks', () => {
  const federation = [addr(0xf1), addr(0xf2)];
  const base = {
    feesWei: 10n ** 12n,
    feeRecipient: addr(0xaa),
    federation,
    pegins: [{ evmAddress: addr(0x10), amountSats: 4n }],
  };

  it('accepts the honest list in any order, with extra withdrawals, and ignores index/validatorIndex', () => {
    const e = expectedWithdrawals(base);
    checkWithdrawals(e, [...e.withdrawals].reverse());
    checkWithdrawals(e, [
      w(addr(0x99), 1234n),
      ...e.withdrawals.map((x, i) => ({ ...x, index: BigInt(i + 7), validatorIndex: 3n })),
    ]);
  });

  it('rejects a missing, a short-paid or an over-paid entry, naming it', () => {
    const e = expectedWithdrawals(base);
    for (let i = 0; i < e.withdrawals.length; i++) {
      const missing = e.withdrawals.filter((_, j) => j !== i);
      expect(() => checkWithdrawals(e, missing)).toThrow(VerificationError);
      for (const delta of [-1n, 1n]) {
        const changed = e.withdrawals.map((x, j) => (j === i ? { ...x, amount: x.amount + delta } : x));
        try {
          checkWithdrawals(e, changed);
          expect.unreachable();
        } catch (err) {
          expect(err).toBeInstanceOf(VerificationError);
          expect((err as VerificationError).check).toBe('withdrawals.missing');
          expect((err as Error).message).toContain(e.withdrawals[i]!.address);
        }
      }
    }
  });

  it('a second withdrawal to an already matched address is ignored (not rejected)', () => {
    const e = expectedWithdrawals(base);
    checkWithdrawals(e, [...e.withdrawals, w(addr(0x10), 1n), w(addr(0x10), 40n)]);
  });

  it('a wrong-amount withdrawal before the right one does not hurt', () => {
    const e = expectedWithdrawals(base);
    checkWithdrawals(e, [w(addr(0x10), 39n), ...e.withdrawals]);
  });

  it('quirk: miner = a federation address → producer emits two entries, validator keeps only the federation share, and it passes', () => {
    const e = expectedWithdrawals({ ...base, feeRecipient: addr(0xf1), pegins: [] });
    expect(e.withdrawals.filter((x) => x.address === addr(0xf1)).length).toBe(2);
    expect(e.required.get(addr(0xf1))).toBe(e.withdrawals[1]!.amount);
    checkWithdrawals(e, e.withdrawals);
  });

  it('quirk: a peg-in to the miner in a PoW block makes the honest producer list fail validation', () => {
    const e = expectedWithdrawals({ ...base, pegins: [{ evmAddress: addr(0xaa), amountSats: 4n }] });
    // producer: separate fee and peg-in entries; validator: one entry with the sum
    expect(e.required.get(addr(0xaa))).toBe(800n + 40n);
    expect(() => checkWithdrawals(e, e.withdrawals)).toThrow(VerificationError);
  });

  it('quirk: validators do not apply the 16-address limit (a 17-address block cannot pass)', () => {
    const pegins = Array.from({ length: 17 }, (_, i) => ({ evmAddress: addr(2000 + i), amountSats: 1n }));
    const e = expectedWithdrawals({ feesWei: null, federation, pegins });
    expect(e.required.size).toBe(17);
    expect(() => checkWithdrawals(e, e.withdrawals)).toThrow(VerificationError);
  });

  it('a map can be passed directly; empty requirement accepts anything', () => {
    checkWithdrawals(new Map(), [w(addr(1), 1n)]);
    checkWithdrawals(new Map([[addr(1), 5n]]), [w(('0x' + addr(1).slice(2).toUpperCase()) as Hex, 5n)]);
    expect(() => checkWithdrawals(new Map([[addr(1), 5n]]), [])).toThrow(VerificationError);
  });

  it('property: passes iff every required (address, amount) occurs among the withdrawals', () => {
    const pool = [addr(1), addr(2), addr(3), addr(4)];
    const entryArb = fc.record({ a: fc.constantFrom(...pool), v: fc.bigInt({ min: 0n, max: 3n }) });
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 4 }), fc.array(entryArb, { maxLength: 8 }), (req, act) => {
        const required = new Map<Hex, bigint>(req.map((e) => [e.a, e.v]));
        const actual = act.map((e) => w(e.a, e.v));
        const model = [...required].every(([a, v]) => actual.some((x) => x.address === a && x.amount === v));
        let passed = true;
        try {
          checkWithdrawals(required, actual);
        } catch (err) {
          expect(err).toBeInstanceOf(VerificationError);
          passed = false;
        }
        expect(passed).toBe(model);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: an honest producer list always passes when peg-in addresses avoid the fee recipients', () => {
    const peginArb = fc.record({ evmAddress: fc.integer({ min: 0x100, max: 0x120 }).map(addr), amountSats: satsArb });
    fc.assert(
      fc.property(fc.option(weiArb), fc.array(peginArb, { maxLength: 24 }), (fees, pegins) => {
        const e = expectedWithdrawals({ feesWei: fees, feeRecipient: addr(0xaa), federation, pegins });
        // the validator sees the block's peg-ins = the ones the producer included
        const block = expectedWithdrawals({
          feesWei: fees,
          feeRecipient: addr(0xaa),
          federation,
          pegins: e.includedPegins.map((i) => pegins[i]!),
        });
        checkWithdrawals(block, e.withdrawals);
        const feeTotal = e.withdrawals.slice(0, fees ? federation.length + 1 : 0).reduce((s, x) => s + x.amount, 0n);
        expect(feeTotal * 10n ** 9n <= (fees ?? 0n)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
