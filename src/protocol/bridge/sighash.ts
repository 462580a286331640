/**
 * BIP-341 signature hash for a taproot SCRIPT-PATH spend with SIGHASH_DEFAULT, all prevouts,
 * no annex and no OP_CODESEPARATOR — the only form Alys federation members sign
 * (rust-bitcoin 0.30 `SighashCache::taproot_script_spend_signature_hash(idx, Prevouts::All,
 * ScriptPath::with_defaults(script), TapSighashType::Default)`).
 *
 * SigMsg = epoch 0x00 ‖ hash_type 0x00 ‖ version ‖ lock_time ‖ sha_prevouts ‖ sha_amounts ‖
 *          sha_scriptpubkeys ‖ sha_sequences ‖ sha_outputs ‖ spend_type 0x02 ‖ input_index ‖
 *          tapleaf_hash ‖ key_version 0x00 ‖ codesep_pos 0xffffffff
 * sighash = tagged_hash("TapSighash", SigMsg)
 *
 * The per-transaction hashes are computed once by {@link taprootSighashes} for all inputs.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ByteWriter } from '../bytes.js';
import { DecodeError } from '../errors.js';
import type { Transaction, TxOut } from '../types.js';
import { tapLeafHash, TAPSCRIPT_LEAF_VERSION } from './taproot.js';

/** The spent outputs, one per input, in input order (BIP-341 needs every amount and script). */
export type Prevouts = readonly TxOut[];

function checkPrevouts(tx: Transaction, prevouts: Prevouts): void {
  if (!Array.isArray(prevouts) || prevouts.length !== tx.inputs.length)
    throw new DecodeError(
      'prevouts',
      `expected one spent output per input (${tx.inputs.length}), got ${Array.isArray(prevouts) ? prevouts.length : typeof prevouts}`,
    );
}

/**
 * Script-path SIGHASH_DEFAULT digests for every input of `tx`, spending the leaf `script`
 * (leaf version 0xc0) with the given spent outputs.
 */
export function taprootSighashes(tx: Transaction, prevouts: Prevouts, script: Uint8Array): Uint8Array[] {
  checkPrevouts(tx, prevouts);
  const prevoutsW = new ByteWriter();
  const sequencesW = new ByteWriter();
  for (const input of tx.inputs) {
    if (input.prevTxid.length !== 32)
      throw new DecodeError('tx.inputs.prevTxid', `expected 32 bytes, got ${input.prevTxid.length}`);
    prevoutsW.bytes(input.prevTxid).u32le(input.prevVout);
    sequencesW.u32le(input.sequence);
  }
  const amountsW = new ByteWriter();
  const scriptsW = new ByteWriter();
  for (const out of prevouts) {
    amountsW.u64le(out.value);
    scriptsW.compactSize(out.scriptPubkey.length).bytes(out.scriptPubkey);
  }
  const outputsW = new ByteWriter();
  for (const out of tx.outputs) outputsW.u64le(out.value).compactSize(out.scriptPubkey.length).bytes(out.scriptPubkey);

  const shaPrevouts = sha256(prevoutsW.finish());
  const shaAmounts = sha256(amountsW.finish());
  const shaScripts = sha256(scriptsW.finish());
  const shaSequences = sha256(sequencesW.finish());
  const shaOutputs = sha256(outputsW.finish());
  const leafHash = tapLeafHash(script, TAPSCRIPT_LEAF_VERSION);

  return tx.inputs.map((_, index) => {
    const w = new ByteWriter();
    w.u8(0x00) // epoch
      .u8(0x00) // hash_type: SIGHASH_DEFAULT
      .i32le(tx.version)
      .u32le(tx.lockTime)
      .bytes(shaPrevouts)
      .bytes(shaAmounts)
      .bytes(shaScripts)
      .bytes(shaSequences)
      .bytes(shaOutputs)
      .u8(0x02) // spend_type: ext_flag 1 (script path), no annex
      .u32le(index)
      .bytes(leafHash)
      .u8(0x00) // key_version
      .u32le(0xffffffff); // no OP_CODESEPARATOR executed
    return schnorr.utils.taggedHash('TapSighash', w.finish());
  });
}

/** The digest for one input (see {@link taprootSighashes}). */
export function taprootSighash(
  tx: Transaction,
  inputIndex: number,
  prevouts: Prevouts,
  script: Uint8Array,
): Uint8Array {
  if (!Number.isInteger(inputIndex) || inputIndex < 0 || inputIndex >= tx.inputs.length)
    throw new DecodeError('inputIndex', `input ${inputIndex} does not exist (the transaction has ${tx.inputs.length})`);
  return taprootSighashes(tx, prevouts, script)[inputIndex]!;
}
