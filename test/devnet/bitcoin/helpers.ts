/** Shared setup for the regtest chain tests: a deterministic clock, a funded faucet, keys 1..3. */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../../../src/protocol/bytes.js';
import type { Transaction, TxOut } from '../../../src/protocol/types.js';
import { encodeTransaction } from '../../../src/protocol/bitcoin/tx.js';
import {
  createBitcoinChain,
  createFaucet,
  type BitcoinChainOptions,
  type FaucetWallet,
  type RegtestChain,
} from '../../../src/devnet/bitcoin/index.js';

/** A clock that advances `step` seconds per call, starting at `start`. */
export function steppingClock(start = 1_700_000_000, step = 60): () => number {
  let t = start;
  return () => (t += step);
}

export function newChain(opts: BitcoinChainOptions = {}): RegtestChain {
  return createBitcoinChain({ now: steppingClock(), ...opts });
}

/** A chain with a faucet whose first coinbases are spendable. */
export function chainWithFaucet(opts: BitcoinChainOptions = {}): { chain: RegtestChain; faucet: FaucetWallet } {
  const chain = newChain(opts);
  const faucet = createFaucet(chain);
  return { chain, faucet };
}

/** 32-byte big-endian secret key k. */
export function secretKey(k: number): Uint8Array {
  return Uint8Array.from(Buffer.from(BigInt(k).toString(16).padStart(64, '0'), 'hex'));
}

export function pubkeyOf(k: number): Uint8Array {
  return secp256k1.getPublicKey(secretKey(k), true);
}

/** Flip one bit of a copy. */
export function flipBit(bytes: Uint8Array, index = 0): Uint8Array {
  const out = bytes.slice();
  out[index % out.length]! ^= 0x01;
  return out;
}

// ---------------------------------------------------------------- hand-built transactions

export const hash160 = (b: Uint8Array): Uint8Array => ripemd160(sha256(b));

/** OP_0 <hash160(pubkey of k)> */
export function p2wpkhOf(k: number): Uint8Array {
  return concatBytes(Uint8Array.of(0x00, 0x14), hash160(pubkeyOf(k)));
}

/** A version-2 transaction skeleton spending `ins` (internal-order txid, vout) to `outs`. */
export function unsignedTx(
  ins: { txid: Uint8Array; vout: number; sequence?: number }[],
  outs: TxOut[],
  lockTime = 0,
): Transaction {
  return {
    version: 2,
    lockTime,
    inputs: ins.map((i) => ({
      prevTxid: i.txid,
      prevVout: i.vout,
      scriptSig: new Uint8Array(0),
      sequence: i.sequence ?? 0xffffffff,
      witness: [],
    })),
    outputs: outs,
  };
}

/** Sign input `index` of `tx` as a P2WPKH spend by secret key k (SIGHASH_ALL), in place. */
export function signP2wpkhInput(
  tx: Transaction,
  index: number,
  prevout: TxOut,
  k: number,
  hashType = 0x01,
): Transaction {
  const signer = btc.Transaction.fromRaw(encodeTransaction(tx, { witness: false }), {
    allowUnknownOutputs: true,
    allowUnknownInputs: true,
    disableScriptCheck: true,
  });
  const pub = pubkeyOf(k);
  const scriptCode = concatBytes(Uint8Array.of(0x76, 0xa9, 0x14), hash160(pub), Uint8Array.of(0x88, 0xac));
  const digest = signer.preimageWitnessV0(index, scriptCode, hashType, prevout.value);
  const sig = secp256k1.sign(digest, secretKey(k), { prehash: false, format: 'der' });
  tx.inputs[index]!.witness = [concatBytes(sig, Uint8Array.of(hashType)), pub];
  return tx;
}
