/**
 * The generator's native signer and load encoding against viem (an independent implementation):
 * byte-identical signed transactions, the right sender recovered, and ABI call data equal to viem's.
 */
import { describe, expect, it } from 'vitest';
import { encodeFunctionData, recoverTransactionAddress, type Hex as ViemHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { BRIDGE_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { createLoad, pegoutCallData, Rng } from '../../../src/devnet/generate/load.js';
import { signEip1559, signLegacy } from '../../../src/devnet/generate/txsign.js';
import { bytesToHex, fromHex, toHex } from '../../../src/protocol/bytes.js';

const key = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318' as const;
const account = privateKeyToAccount(key);
const to = '0x00000000000000000000000000000000000010ad' as const;

describe('native transaction signing', () => {
  it('EIP-1559 transactions are byte-identical to viem and recover the sender', async () => {
    for (const [nonce, value, data] of [
      [0n, 0n, '0x'],
      [1n, 10n ** 18n, '0x40c10f19'],
      [255n, 1n, `0x${'ab'.repeat(100)}`],
      [70_000n, 123_456_789n, '0x00'],
    ] as const) {
      const mine = signEip1559(
        121212n,
        {
          nonce,
          to: fromHex(to),
          value,
          data: fromHex(data),
          gasLimit: 120_000n,
          maxFeePerGas: 2_000_000_000n,
          maxPriorityFeePerGas: 1_000_000n,
        },
        fromHex(key),
      );
      const viem = await account.signTransaction({
        type: 'eip1559',
        chainId: 121212,
        nonce: Number(nonce),
        to,
        value,
        data: data as ViemHex,
        gas: 120_000n,
        maxFeePerGas: 2_000_000_000n,
        maxPriorityFeePerGas: 1_000_000n,
      });
      expect(toHex(mine)).toBe(viem);
      expect(await recoverTransactionAddress({ serializedTransaction: toHex(mine) as `0x02${string}` })).toBe(
        account.address,
      );
    }
  });

  it('EIP-155 legacy transactions are byte-identical to viem', async () => {
    const mine = signLegacy(
      121212n,
      { nonce: 7n, to: fromHex(to), value: 5n, data: fromHex('0x1234'), gasLimit: 50_000n, gasPrice: 2_000_000_000n },
      fromHex(key),
    );
    const viem = await account.signTransaction({
      type: 'legacy',
      chainId: 121212,
      nonce: 7,
      to,
      value: 5n,
      data: '0x1234',
      gas: 50_000n,
      gasPrice: 2_000_000_000n,
    });
    expect(toHex(mine)).toBe(viem);
  });

  it('peg-out call data is the ABI encoding of requestPegOut(bytes)', () => {
    for (const address of ['bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 'bcrt1p' + 'q'.repeat(58), 'x']) {
      const viem = encodeFunctionData({
        abi: BRIDGE_ARTIFACT.abi,
        functionName: 'requestPegOut',
        args: [toHex(new TextEncoder().encode(address)) as ViemHex],
      });
      expect(toHex(pegoutCallData(address))).toBe(viem);
    }
  });

  it('the load is deterministic from the seed and averages the requested size', () => {
    const users = [1, 2, 3].map((i) => ({
      privateKey: fromHex(`0x${i.toString(16).padStart(64, '0')}`),
      address: fromHex(privateKeyToAccount(`0x${i.toString(16).padStart(64, '0')}`).address),
    }));
    const make = (seed: string) =>
      createLoad({
        seed,
        chainId: 121212n,
        users,
        txPerBlock: 20,
        pegoutAddresses: ['bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'],
        pegoutEvery: 2,
      });
    const a = make('s');
    const b = make('s');
    const c = make('t');
    let total = 0;
    for (let i = 0; i < 100; i++) {
      const la = a.next();
      expect(la.transactions.map(bytesToHex)).toEqual(b.next().transactions.map(bytesToHex));
      if (i === 0) expect(bytesToHex(c.next().transactions[0]!)).not.toBe(bytesToHex(la.transactions[0]!));
      total += la.transactions.length;
    }
    expect(total / 100).toBeGreaterThan(19);
    expect(total / 100).toBeLessThan(21);
    expect(a.tally.transfers).toBeGreaterThan(0);
    expect(a.tally.tokenCalls).toBeGreaterThan(0);
    expect(a.tally.pegouts).toBeGreaterThan(25);
    expect(new Rng('x').next()).toBe(new Rng('x').next());
    expect(new Rng('x').next()).not.toBe(new Rng('y').next());
  });
});
