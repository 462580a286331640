/**
 * The devnet federation: every key derived deterministically from a seed, and the chain spec
 * (Alys JSON form, spec 1.9) that a light node uses to follow the devnet.
 *
 * Derivation: sha256("alys-devnet/<seed>/<purpose>/<index>") reduced into each curve's scalar range
 * (a devnet convenience: these keys are public by construction and must never hold real value).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { privateKeyToAddress } from 'viem/accounts';
import { bytesToHex, toHex, type Hex } from '../../protocol/bytes.js';
import type { ChainSpec, RetargetParams } from '../../protocol/types.js';

export interface DevnetKeysOptions {
  seed: string;
  /** Number of authorities (= federation members), 1..15. */
  authorities: number;
}

export interface FederationMember {
  index: number;
  /** BLS secret key (32 bytes) signing block approvals. */
  blsSecretKey: Uint8Array;
  blsPublicKey: Hex;
  /** secp256k1 secret key for the federation's Bitcoin multisig (peg-out signatures). */
  btcSecretKey: Uint8Array;
  /** 33-byte compressed key, hex without 0x (the chain spec's form). */
  btcPublicKey: string;
  /** EVM address receiving the member's share of fees. */
  feeAddress: Hex;
}

function scalar(seed: string, purpose: string, index: number, order: bigint): Uint8Array {
  for (let attempt = 0; ; attempt++) {
    const h = sha256(new TextEncoder().encode(`alys-devnet/${seed}/${purpose}/${index}/${attempt}`));
    const n = BigInt(`0x${bytesToHex(h)}`);
    if (n > 0n && n < order) return h;
  }
}

/** A deterministic secp256k1 key for devnet users (load generator, faucets, demos). */
export function devnetAccountKey(seed: string, purpose: string, index: number): Uint8Array {
  return scalar(seed, purpose, index, secp256k1.Point.Fn.ORDER);
}

export function deriveFederation(opts: DevnetKeysOptions): FederationMember[] {
  if (!Number.isInteger(opts.authorities) || opts.authorities < 1 || opts.authorities > 15)
    throw new RangeError(`authorities must be 1..15 (Alys's bitlist holds 15), got ${opts.authorities}`);
  return Array.from({ length: opts.authorities }, (_, index) => {
    const blsSecretKey = scalar(opts.seed, 'bls', index, bls12_381.fields.Fr.ORDER);
    const btcSecretKey = scalar(opts.seed, 'btc', index, secp256k1.Point.Fn.ORDER);
    const feeKey = scalar(opts.seed, 'fee', index, secp256k1.Point.Fn.ORDER);
    return {
      index,
      blsSecretKey,
      blsPublicKey: toHex(bls12_381.longSignatures.getPublicKey(blsSecretKey).toBytes(true)),
      btcSecretKey,
      btcPublicKey: bytesToHex(secp256k1.getPublicKey(btcSecretKey, true)),
      feeAddress: privateKeyToAddress(toHex(feeKey)).toLowerCase() as Hex,
    };
  });
}

export interface DevnetSpecOptions {
  slotDuration: number;
  chainId: number;
  /** Compact target of the merged-mining parent blocks (regtest-easy by default). */
  bits: number;
  maxBlocksWithoutPow: number;
  requiredBtcTxnConfirmations: number;
  retargetParams: RetargetParams;
}

export const DEVNET_SPEC_DEFAULTS: DevnetSpecOptions = {
  slotDuration: 2000,
  chainId: 121212,
  bits: 0x207fffff,
  maxBlocksWithoutPow: 30,
  requiredBtcTxnConfirmations: 2,
  // retargeting on (exercises the code path); the miner aims at one PoW per 10 blocks
  retargetParams: {
    powNoRetargeting: false,
    powLimit: 0x207fffff,
    powLowerLimit: 0x1d00ffff,
    powTargetTimespan: 100,
    powTargetSpacing: 10,
    maxPowAdjustment: 20,
  },
};

/**
 * The devnet's chain spec, as the ChainSpec a light node loads. `executionGenesisHash` (the devnet
 * EL's block 0 hash) makes its genesis a trust root for the light node; without it the node waits
 * for block 1's approvals to pin block 0.
 */
export function devnetChainSpec(
  members: readonly FederationMember[],
  opts: Partial<DevnetSpecOptions> & { executionGenesisHash?: Hex } = {},
): ChainSpec {
  const o = { ...DEVNET_SPEC_DEFAULTS, ...opts };
  return {
    slotDuration: o.slotDuration,
    authorities: members.map((m) => m.blsPublicKey),
    federation: members.map((m) => m.feeAddress),
    federationBitcoinPubkeys: members.map((m) => m.btcPublicKey),
    bits: o.bits,
    chainId: o.chainId,
    maxBlocksWithoutPow: o.maxBlocksWithoutPow,
    bitcoinStartHeight: 0,
    retargetParams: { ...o.retargetParams },
    isValidator: false,
    executionTimeoutLength: 3,
    requiredBtcTxnConfirmations: o.requiredBtcTxnConfirmations,
    ...(opts.executionGenesisHash === undefined ? {} : { executionGenesisHash: opts.executionGenesisHash }),
  };
}
