/**
 * Shared test fixtures for the engine: deterministic dev keys, a fast native signer (ethereumjs with
 * the devnet Common) for load, and ABI helpers via viem.
 */
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx';
import { Address, createAddressFromPrivateKey } from '@ethereumjs/util';
import { encodeFunctionData, type Hex } from 'viem';
import { BRIDGE_ARTIFACT, LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { createDevnetCommon } from '../../../src/devnet/evm/crypto.js';
import { DEFAULT_CHAIN_ID, LOAD_TOKEN_ADDRESS, type GenesisAccount } from '../../../src/devnet/evm/genesis.js';
import type { PayloadAttributes } from '../../../src/devnet/types.js';

export const ZERO32 = `0x${'00'.repeat(32)}` as const;
export const DEAD = '0x000000000000000000000000000000000000dead' as const;

export interface DevKey {
  key: Uint8Array;
  keyHex: Hex;
  address: Hex;
}

/** n deterministic keys (seeded, never zero). */
export function devKeys(n: number, seed = 1): DevKey[] {
  return Array.from({ length: n }, (_, i) => {
    const key = new Uint8Array(32);
    key[0] = 0x42;
    key[1] = seed & 0xff;
    new DataView(key.buffer).setUint32(24, i + 1);
    const address = createAddressFromPrivateKey(key).toString() as Hex;
    return { key, keyHex: `0x${Buffer.from(key).toString('hex')}` as Hex, address };
  });
}

export function prefund(keys: readonly DevKey[], balance = 10n ** 24n): Record<string, GenesisAccount> {
  return Object.fromEntries(keys.map((k) => [k.address, { balance }]));
}

export function attrs(parentHash: Hex, timestamp: bigint, extra: Partial<PayloadAttributes> = {}): PayloadAttributes {
  return { parentHash, timestamp, suggestedFeeRecipient: DEAD, prevRandao: ZERO32, withdrawals: [], ...extra };
}

const common = createDevnetCommon(DEFAULT_CHAIN_ID);

export interface TxFields {
  nonce: bigint;
  to?: Hex;
  value?: bigint;
  data?: Hex;
  gasLimit?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  gasPrice?: bigint;
}

/** Sign natively (fast): type 2 by default, 1 or 0 (EIP-155) on request. */
export function signTx(key: DevKey, f: TxFields, type: 0 | 1 | 2 = 2): Uint8Array {
  const base = {
    nonce: f.nonce,
    to: f.to === undefined ? undefined : new Address(Buffer.from(f.to.slice(2), 'hex')),
    value: f.value ?? 0n,
    data: f.data === undefined ? new Uint8Array(0) : Buffer.from(f.data.slice(2), 'hex'),
    gasLimit: f.gasLimit ?? 21_000n,
  };
  if (type === 2)
    return createFeeMarket1559Tx(
      {
        ...base,
        chainId: DEFAULT_CHAIN_ID,
        maxFeePerGas: f.maxFeePerGas ?? 2_000_000_000n,
        maxPriorityFeePerGas: f.maxPriorityFeePerGas ?? 1_000_000n,
      },
      { common },
    )
      .sign(key.key)
      .serialize();
  if (type === 1)
    return createAccessList2930Tx(
      { ...base, chainId: DEFAULT_CHAIN_ID, gasPrice: f.gasPrice ?? 2_000_000_000n },
      { common },
    )
      .sign(key.key)
      .serialize();
  return createLegacyTx({ ...base, gasPrice: f.gasPrice ?? 2_000_000_000n }, { common })
    .sign(key.key)
    .serialize();
}

export function tokenMint(to: Hex, amount: bigint): Hex {
  return encodeFunctionData({ abi: LOAD_TOKEN_ARTIFACT.abi, functionName: 'mint', args: [to, amount] });
}

export function tokenTransfer(to: Hex, amount: bigint): Hex {
  return encodeFunctionData({ abi: LOAD_TOKEN_ARTIFACT.abi, functionName: 'transfer', args: [to, amount] });
}

export function pegOut(btcAddress: string): Hex {
  return encodeFunctionData({
    abi: BRIDGE_ARTIFACT.abi,
    functionName: 'requestPegOut',
    args: [`0x${Buffer.from(btcAddress).toString('hex')}` as Hex],
  });
}

export { LOAD_TOKEN_ADDRESS };
