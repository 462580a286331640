/**
 * Raw transactions: decoding, sender recovery, derived fields and the JSON object, checked against
 * viem's independent serialisers and signers (every type 0-4, random fields) and against the protocol
 * library's JSON decoder/re-serialiser (the object we build must re-serialise to the raw bytes).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { getContractAddress, keccak256, hexToBytes, type Hex, type TransactionSerializable } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  createdContractAddress,
  decodeRawTransaction,
  decodeRpcTransaction,
  effectiveGasPrice,
  encodeRpcTransaction,
  recoverSender,
  toHex,
} from '../../../src/protocol/index.js';
import { formatTransaction } from '../../../src/node/engine/format.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const key = fc.bigInt({ min: 1n, max: N - 1n }).map((k) => `0x${k.toString(16).padStart(64, '0')}` as Hex);
const addr = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toHex(b));
const word = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b));
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const gas = fc.bigInt({ min: 21_000n, max: 30_000_000n });
const data = fc.uint8Array({ maxLength: 80 }).map((b) => toHex(b));
const accessList = fc.array(fc.record({ address: addr, storageKeys: fc.array(word, { maxLength: 2 }) }), {
  maxLength: 2,
});
const chainId = fc.integer({ min: 1, max: 2 ** 32 });
/** viem refuses a tip above the fee cap. */
const fees = fc
  .tuple(u64, u64)
  .map(([a, b]) =>
    a <= b ? { maxPriorityFeePerGas: a, maxFeePerGas: b } : { maxPriorityFeePerGas: b, maxFeePerGas: a },
  );

/** `tx` of eip7702 gets its signed authorizationList in the test (it needs the signing account). */
type Case = {
  kind: string;
  tx: TransactionSerializable | (Omit<TransactionSerializable, 'type'> & { type: 'eip7702' });
  authorizations?: { address: Hex; chainId: number; nonce: number }[];
};

const cases: fc.Arbitrary<Case> = fc.oneof(
  fc
    .record({ chainId, nonce: fc.nat(), to: fc.option(addr, { nil: undefined }), value: u64, gas, gasPrice: u64, data })
    .map((t) => ({ kind: 'legacy-155', tx: { type: 'legacy' as const, ...t } })),
  fc
    .record({ nonce: fc.nat(), to: addr, value: u64, gas, gasPrice: u64, data })
    .map((t) => ({ kind: 'legacy-pre155', tx: { type: 'legacy' as const, ...t } })),
  fc
    .record({
      chainId,
      nonce: fc.nat(),
      to: fc.option(addr, { nil: undefined }),
      value: u64,
      gas,
      gasPrice: u64,
      data,
      accessList,
    })
    .map((t) => ({ kind: 'eip2930', tx: { type: 'eip2930' as const, ...t } })),
  fc
    .record({
      chainId,
      nonce: fc.nat(),
      to: fc.option(addr, { nil: undefined }),
      value: u64,
      gas,
      fees,
      data,
      accessList,
    })
    .map(({ fees: f, ...t }) => ({ kind: 'eip1559', tx: { type: 'eip1559' as const, ...t, ...f } })),
  fc
    .record({
      chainId,
      nonce: fc.nat(),
      to: addr,
      value: u64,
      gas,
      fees,
      maxFeePerBlobGas: u64,
      data,
      blobVersionedHashes: fc.array(
        word.map((w) => `0x01${w.slice(4)}` as Hex),
        { minLength: 1, maxLength: 3 },
      ),
    })
    .map(({ fees: f, ...t }) => ({ kind: 'eip4844', tx: { type: 'eip4844' as const, ...t, ...f } })),
  fc
    .record({
      chainId,
      nonce: fc.nat(),
      to: addr,
      value: u64,
      gas,
      fees,
      data,
      auth: fc.array(fc.record({ address: addr, chainId: fc.nat(), nonce: fc.nat() }), { minLength: 1, maxLength: 2 }),
    })
    .map(({ auth, fees: f, ...t }) => ({
      kind: 'eip7702',
      tx: { type: 'eip7702' as const, ...t, ...f },
      authorizations: auth,
    })),
);

describe('raw transactions', () => {
  it('decodeRawTransaction + recoverSender give viem-signed transactions back (types 0-4, random fields)', async () => {
    const kinds = new Set<string>();
    await fc.assert(
      fc.asyncProperty(key, cases, fc.bigInt({ min: 0n, max: 10n ** 12n }), async (k, c, baseFee) => {
        const account = privateKeyToAccount(k);
        let tx = c.tx as TransactionSerializable;
        if (c.authorizations !== undefined) {
          const authorizationList = await Promise.all(
            c.authorizations.map((a) =>
              account.signAuthorization({ address: a.address, chainId: a.chainId, nonce: a.nonce }),
            ),
          );
          tx = { ...tx, authorizationList } as TransactionSerializable;
        }
        const rawHex = await account.signTransaction(tx);
        const raw = hexToBytes(rawHex);
        const d = decodeRawTransaction(raw);
        kinds.add(c.kind);
        expect(toHex(d.hash)).toBe(keccak256(rawHex));
        expect(toHex(recoverSender(d))).toBe(account.address.toLowerCase());
        expect(d.nonce).toBe(BigInt(tx.nonce!));
        expect(d.value).toBe(tx.value);
        expect(d.to === null ? undefined : toHex(d.to)).toBe(tx.to ?? undefined);
        // Derived fields.
        if (d.to === null)
          expect(toHex(createdContractAddress(recoverSender(d), d.nonce))).toBe(
            getContractAddress({ from: account.address, nonce: d.nonce }).toLowerCase(),
          );
        const price = effectiveGasPrice(d, baseFee);
        if (d.gasPrice !== undefined) expect(price).toBe(d.gasPrice);
        else
          expect(price).toBe(
            baseFee + d.maxPriorityFeePerGas! < d.maxFeePerGas! ? baseFee + d.maxPriorityFeePerGas! : d.maxFeePerGas!,
          );
        // The JSON object we build decodes (protocol) and re-serialises to the very raw bytes.
        const json = formatTransaction(d, recoverSender(d), {
          blockHash: `0x${'ab'.repeat(32)}`,
          blockNumber: 7n,
          index: 3,
          baseFeePerGas: baseFee,
        });
        const decoded = decodeRpcTransaction(json);
        expect(toHex(encodeRpcTransaction(decoded))).toBe(rawHex);
        expect(toHex(decoded.from)).toBe(account.address.toLowerCase());
        expect(decoded.transactionIndex).toBe(3);
      }),
      { numRuns: 120 },
    );
    expect([...kinds].sort()).toEqual(['eip1559', 'eip2930', 'eip4844', 'eip7702', 'legacy-155', 'legacy-pre155']);
  });

  it('refuses malformed raw transactions with a DecodeError naming the field', () => {
    expect(() => decodeRawTransaction(new Uint8Array(0))).toThrow(/empty transaction/);
    expect(() => decodeRawTransaction(Uint8Array.of(0x05, 0xc0))).toThrow(/unsupported transaction type 0x5/);
    expect(() => decodeRawTransaction(Uint8Array.of(0x02, 0xc0))).toThrow(/has 12 fields, got 0/);
    expect(() => decodeRawTransaction(Uint8Array.of(0x02, 0xc1))).toThrow(/truncated/);
  });
});
