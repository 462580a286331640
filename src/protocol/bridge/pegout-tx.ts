/**
 * Peg-out payment proposals and their finalisation (alys-protocol.md section 6.4, tagged [R]: no
 * real Alys peg-out transaction exists in the vectors; Alys
 * `UtxoManager::check_payment_proposal`, `check_transaction_signatures`, `check_input_signatures`,
 * `PartiallySignedTaprootTransaction::finalize_transaction` in
 * `crates/federation/src/bitcoin_signing.rs`, and the `finalized_pegouts` loop of
 * `Chain::process_block` in `app/src/chain.rs`).
 *
 * What the caller must supply, because it needs Bitcoin data: which outpoints are unspent
 * federation UTXOs (Alys asks its wallet, falling back to bitcoind) and the spent outputs
 * (prevouts) of a finalized peg-out. Historical exemptions (block 70132 skips the proposal check,
 * blocks ≤ 533683 skip the finalized signature check; section 4.8) are the caller's business too.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, equalBytes, reverse } from '../bytes.js';
import { DecodeError, VerificationError } from '../errors.js';
import type { Transaction, TxIn, TxOut } from '../types.js';
import { txid as computeTxid } from '../bitcoin/tx.js';
import { taprootSighashes, type Prevouts } from './sighash.js';
import type { Federation } from './taproot.js';

/** Alys builds peg-out transactions with version 2 and lock time 0. */
export const PEGOUT_TX_VERSION = 2;
export const PEGOUT_LOCK_TIME = 0;
/** Sequence of every proposal input (rust-bitcoin `Sequence::ENABLE_RBF_NO_LOCKTIME`). */
export const PEGOUT_INPUT_SEQUENCE = 0xfffffffd;

/** `"<txid display hex>:<vout>"`, the form rust-bitcoin prints an OutPoint in. */
export function outpointKey(txid: Uint8Array, vout: number): string {
  return `${bytesToHex(reverse(txid))}:${vout}`;
}

/** Unspent federation UTXOs: a set of {@link outpointKey} strings, or a predicate. */
export type SpendableOutpoints = ReadonlySet<string> | ((txid: Uint8Array, vout: number) => boolean);

function isSpendable(spendable: SpendableOutpoints, input: TxIn): boolean {
  return typeof spendable === 'function'
    ? spendable(input.prevTxid, input.prevVout)
    : spendable.has(outpointKey(input.prevTxid, input.prevVout));
}

function federationScriptOf(federation: Federation | Uint8Array): Uint8Array {
  if (federation instanceof Uint8Array) return federation;
  if (federation && federation.scriptPubkey instanceof Uint8Array) return federation.scriptPubkey;
  throw new DecodeError('federation', 'expected a Federation or the federation scriptPubKey bytes');
}

/**
 * Alys `check_payment_proposal`, with the checks in Alys's order:
 * - no proposal: fine iff nothing is required (`pegout.missing-proposal`);
 * - `#required + 1` outputs: the last must pay the federation script (`pegout.change-output`);
 *   otherwise exactly `#required` outputs (`pegout.output-count`);
 * - output i pays required i's script with a value ≤ the required value (`pegout.output`;
 *   fees are deducted from the outputs, so there is no lower bound);
 * - every input spends an unspent federation UTXO (`pegout.unspendable-input`);
 * - version 2 and lock time 0 (`pegout.header`).
 * The fee amount is not checked (as in Alys).
 */
export function checkPegoutProposal(
  proposal: Transaction | null,
  required: readonly TxOut[],
  federation: Federation | Uint8Array,
  spendable: SpendableOutpoints,
): void {
  const federationScript = federationScriptOf(federation);
  if (proposal === null || proposal === undefined) {
    if (required.length === 0) return;
    throw new VerificationError(
      'pegout.missing-proposal',
      `the block has no peg-out proposal but ${required.length} peg-out(s) are required`,
    );
  }
  const outputs = proposal.outputs;
  if (outputs.length === required.length + 1) {
    if (!equalBytes(outputs[outputs.length - 1]!.scriptPubkey, federationScript))
      throw new VerificationError(
        'pegout.change-output',
        `the proposal has ${outputs.length} outputs for ${required.length} peg-out(s), so the last must be change to the federation, but it pays ${bytesToHex(outputs[outputs.length - 1]!.scriptPubkey)}`,
      );
  } else if (outputs.length !== required.length) {
    throw new VerificationError(
      'pegout.output-count',
      `the proposal has ${outputs.length} outputs but ${required.length} peg-out(s) are required`,
    );
  }
  required.forEach((want, i) => {
    const got = outputs[i]!;
    if (!equalBytes(got.scriptPubkey, want.scriptPubkey))
      throw new VerificationError(
        'pegout.output',
        `output ${i} pays ${bytesToHex(got.scriptPubkey)}, the request is for ${bytesToHex(want.scriptPubkey)}`,
      );
    if (got.value > want.value)
      throw new VerificationError(
        'pegout.output',
        `output ${i} pays ${got.value} sats, more than the requested ${want.value}`,
      );
  });
  proposal.inputs.forEach((input, i) => {
    if (!isSpendable(spendable, input))
      throw new VerificationError(
        'pegout.unspendable-input',
        `input ${i} spends ${outpointKey(input.prevTxid, input.prevVout)}, which is not an unspent federation UTXO`,
      );
  });
  if (proposal.lockTime !== PEGOUT_LOCK_TIME || proposal.version !== PEGOUT_TX_VERSION)
    throw new VerificationError(
      'pegout.header',
      `a peg-out must have version 2 and lock time 0, got version ${proposal.version} and lock time ${proposal.lockTime}`,
    );
}

/**
 * Alys `check_transaction_signatures` for one signed peg-out, plus the `txid == proposal txid`
 * check done before it in `process_block`. Per input (witness position j pairs with
 * `pubkeys[n−1−j]`):
 * - exactly n + 2 witness elements and exactly `threshold` non-empty ones among the first n
 *   (`pegout.witness-length`);
 * - each non-empty one is a 64-byte BIP-340 signature (no sighash byte) over the script-path
 *   SIGHASH_DEFAULT digest, valid for its key (`pegout.signature`);
 * - the last two elements are the tapscript and the control block (`pegout.witness-script`).
 * `prevouts` are the spent outputs, one per input in order.
 *
 * Note: BIP-340 verification uses @noble/curves, which also rejects s = 0 (libsecp256k1 does
 * not); an honest signer produces s = 0 with negligible probability.
 */
export function checkFinalizedPegout(
  tx: Transaction,
  proposal: Transaction,
  federation: Federation,
  prevouts: Prevouts,
): void {
  const got = computeTxid(tx);
  const want = computeTxid(proposal);
  if (!equalBytes(got, want))
    throw new VerificationError(
      'pegout.finalized-txid',
      `finalized peg-out ${bytesToHex(reverse(got))} is not the proposal ${bytesToHex(reverse(want))}`,
    );
  checkPegoutSignatures(tx, federation, prevouts);
}

/** The witness checks of {@link checkFinalizedPegout} alone (Alys `check_transaction_signatures`). */
export function checkPegoutSignatures(tx: Transaction, federation: Federation, prevouts: Prevouts): void {
  const messages = taprootSighashes(tx, prevouts, federation.script);
  const n = federation.pubkeys.length;
  tx.inputs.forEach((input, i) => {
    const witness = input.witness;
    let nonEmpty = 0;
    for (let j = 0; j < Math.min(n, witness.length); j++) if (witness[j]!.length > 0) nonEmpty++;
    if (witness.length !== n + 2 || nonEmpty !== federation.threshold)
      throw new VerificationError(
        'pegout.witness-length',
        `input ${i}: expected ${n + 2} witness elements with ${federation.threshold} signature(s), got ${witness.length} elements with ${nonEmpty}`,
      );
    for (let j = 0; j < n; j++) {
      const sig = witness[j]!;
      if (sig.length === 0) continue;
      const key = federation.xOnlyPubkeys[n - 1 - j]!;
      if (sig.length !== 64 || !schnorr.verify(sig, messages[i]!, key))
        throw new VerificationError(
          'pegout.signature',
          `input ${i}: witness element ${j} is not a valid 64-byte BIP-340 signature by federation key ${n - 1 - j} (${bytesToHex(federation.pubkeys[n - 1 - j]!)})`,
        );
    }
    if (!equalBytes(witness[n]!, federation.script) || !equalBytes(witness[n + 1]!, federation.controlBlock))
      throw new VerificationError(
        'pegout.witness-script',
        `input ${i}: the last two witness elements must be the federation tapscript and control block`,
      );
  });
}

/** One member's signatures for every input of a proposal (Alys `SingleMemberTransactionSignatures`). */
export interface MemberSignatures {
  /** 33-byte compressed key of the signer. */
  pubkey: Uint8Array;
  /** 64-byte BIP-340 signatures, one per input. */
  signatures: Uint8Array[];
}

/**
 * Sign input `inputIndex` of an (unsigned) peg-out with a federation member's secret key:
 * BIP-340 over the script-path SIGHASH_DEFAULT digest. `auxRand` defaults to 32 random bytes
 * (libsecp256k1's `sign_schnorr` also uses fresh randomness); pass it for reproducible output.
 */
export function signPegoutInput(
  tx: Transaction,
  inputIndex: number,
  prevouts: Prevouts,
  federation: Federation,
  secretKey: Uint8Array,
  auxRand: Uint8Array = randomBytes(32),
): Uint8Array {
  if (!Number.isInteger(inputIndex) || inputIndex < 0 || inputIndex >= tx.inputs.length)
    throw new DecodeError('inputIndex', `input ${inputIndex} does not exist (the transaction has ${tx.inputs.length})`);
  return schnorr.sign(taprootSighashes(tx, prevouts, federation.script)[inputIndex]!, secretKey, auxRand);
}

/** Sign every input (Alys `BitcoinSigner::get_input_signatures`). */
export function signPegout(
  tx: Transaction,
  prevouts: Prevouts,
  federation: Federation,
  secretKey: Uint8Array,
  auxRand?: (inputIndex: number) => Uint8Array,
): MemberSignatures {
  const messages = taprootSighashes(tx, prevouts, federation.script);
  return {
    pubkey: publicKeyOf(secretKey),
    signatures: messages.map((m, i) => schnorr.sign(m, secretKey, auxRand ? auxRand(i) : randomBytes(32))),
  };
}

/**
 * Alys `check_input_signatures`: one signature per input, each valid for the member's key.
 * Throws `pegout.signature-count` or `pegout.signature`.
 */
export function checkMemberSignatures(
  tx: Transaction,
  prevouts: Prevouts,
  federation: Federation,
  member: MemberSignatures,
): void {
  const messages = taprootSighashes(tx, prevouts, federation.script);
  if (member.signatures.length !== messages.length)
    throw new VerificationError(
      'pegout.signature-count',
      `expected ${messages.length} signature(s), one per input, got ${member.signatures.length}`,
    );
  const key = xOnly(member.pubkey);
  member.signatures.forEach((sig, i) => {
    if (sig.length !== 64 || !schnorr.verify(sig, messages[i]!, key))
      throw new VerificationError('pegout.signature', `signature ${i} by ${bytesToHex(member.pubkey)} does not verify`);
  });
}

/**
 * Alys `finalize_transaction`: exactly `threshold` distinct signers (a later entry for the same
 * key replaces an earlier one, as in Alys's map); each input's witness is, in REVERSE federation
 * key order, the signer's 64-byte signature or an empty element, then the tapscript, then the
 * control block. Signatures are not re-verified here (Alys verifies them when they arrive; use
 * {@link checkMemberSignatures}).
 */
export function finalizePegout(
  unsignedTx: Transaction,
  federation: Federation,
  members: readonly MemberSignatures[],
): Transaction {
  const byKey = new Map<string, Uint8Array[]>();
  for (const m of members) byKey.set(bytesToHex(m.pubkey), m.signatures);
  if (byKey.size !== federation.threshold)
    throw new VerificationError(
      'pegout.signature-count',
      `finalising needs exactly ${federation.threshold} signer(s), got ${byKey.size}`,
    );
  const inputs: TxIn[] = unsignedTx.inputs.map((input, i) => {
    const perKey = federation.pubkeys.map((pk) => {
      const sigs = byKey.get(bytesToHex(pk));
      if (sigs === undefined) return new Uint8Array(0);
      const sig = sigs[i];
      if (sig === undefined)
        throw new VerificationError(
          'pegout.missing-signature',
          `signer ${bytesToHex(pk)} has no signature for input ${i}`,
        );
      return sig.slice();
    });
    return { ...input, witness: [...perKey.reverse(), federation.script.slice(), federation.controlBlock.slice()] };
  });
  return { ...unsignedTx, inputs };
}

function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32)
    throw new DecodeError('secretKey', 'expected a 32-byte secret key');
  // Alys reports `keypair.public_key()`: the full compressed key, not the x-only one.
  return secp256k1.getPublicKey(secretKey, true);
}

function xOnly(pubkey: Uint8Array): Uint8Array {
  if (pubkey.length === 33) return pubkey.subarray(1);
  if (pubkey.length === 32) return pubkey;
  throw new DecodeError('pubkey', `expected a 33-byte compressed or 32-byte x-only key, got ${pubkey.length} bytes`);
}
