/**
 * Sender recovery: secp256k1 public-key recovery over a decoded transaction's signing hash
 * (raw-transaction.ts decodes). Its own module because it is the node's only use of noble's
 * secp256k1 on the read path: the read cache imports it on the first read that shows a sender
 * (src/node/engine/reads/cache.ts), so a node loads the curve code only then.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { DecodeError } from '../errors.js';
import type { DecodedTransaction } from './raw-transaction.js';

/**
 * The sender: the address of the public key recovered from (r, s, yParity) over the signing hash.
 * Throws DecodeError if the signature cannot be recovered (not possible for a transaction in a valid block).
 */
export function recoverSender(tx: DecodedTransaction): Uint8Array {
  let pub: Uint8Array;
  try {
    pub = new secp256k1.Signature(tx.r, tx.s)
      .addRecoveryBit(tx.yParity)
      .recoverPublicKey(tx.signingHash)
      .toBytes(false);
  } catch (e) {
    throw new DecodeError(
      'transaction.signature',
      `cannot recover the sender (${e instanceof Error ? e.message : String(e)})`,
      { cause: e },
    );
  }
  return keccak_256(pub.subarray(1)).slice(12);
}
