/**
 * Bitcoin transaction consensus encoding, byte-compatible with rust-bitcoin 0.30.2
 * (alys-protocol.md 1.5, 1.7).
 *
 * rust-bitcoin's quirks that matter for Alys (all reproduced here):
 * - A transaction with **zero inputs** is always written in BIP144 form (`00 01` marker/flag,
 *   empty input list, outputs, no witness data, lock time). The Alys dev miner builds such a
 *   coinbase. A legacy-form zero-input transaction therefore cannot be read back: the output
 *   count is taken for the segwit flag.
 * - A transaction whose inputs all have empty witnesses is written in legacy form.
 * - Reading BIP144 form with at least one input but no witness data at all is an error
 *   ("witness flag set but no witnesses present").
 * - Any segwit flag other than 1 is an error.
 * - `txid` always hashes the legacy (witness-stripped) form, including for zero-input
 *   transactions (there the legacy form is `version 00 outputs locktime`).
 *
 * Byte vectors (scripts, witness elements) longer than rust-bitcoin's MAX_VEC_SIZE
 * (4,000,000 bytes) are refused, as rust-bitcoin does. CompactSize values must be canonical.
 */
import { ByteReader, ByteWriter } from '../bytes.js';
import { DecodeError } from '../errors.js';
import type { Transaction, TxIn, TxOut } from '../types.js';
import { sha256d } from './hash.js';

export type { Transaction, TxIn, TxOut };

/** rust-bitcoin's `MAX_VEC_SIZE`: the largest byte vector a consensus decoder accepts. */
export const MAX_VEC_SIZE = 4_000_000;

/** Smallest encodings, used to bound counts before looping (so a bogus count fails fast). */
const MIN_TXIN_BYTES = 32 + 4 + 1 + 4;
const MIN_TXOUT_BYTES = 8 + 1;

function readVarBytes(r: ByteReader, what: string): Uint8Array {
  const at = r.offset;
  const len = r.compactSize(`${what} length`);
  if (len > MAX_VEC_SIZE)
    throw new DecodeError(`${labelOf(r)}@${at}`, `${what} is ${len} bytes, more than the ${MAX_VEC_SIZE}-byte limit`);
  // slice: the decoded value must not alias the caller's buffer
  return r.take(len, what).slice();
}

function labelOf(r: ByteReader): string {
  return r.label;
}

function readCount(r: ByteReader, what: string, minItemBytes: number): number {
  const at = r.offset;
  const n = r.compactSize(`${what} count`);
  if (n * minItemBytes > r.remaining)
    throw new DecodeError(
      `${labelOf(r)}@${at}`,
      `truncated: ${what} count ${n} needs at least ${n * minItemBytes} more bytes, have ${r.remaining}`,
    );
  return n;
}

function readTxIn(r: ByteReader, i: number): TxIn {
  const prevTxid = r.take(32, `input ${i} previous txid`).slice();
  const prevVout = r.u32le(`input ${i} previous vout`);
  const scriptSig = readVarBytes(r, `input ${i} script_sig`);
  const sequence = r.u32le(`input ${i} sequence`);
  return { prevTxid, prevVout, scriptSig, sequence, witness: [] };
}

function readTxOut(r: ByteReader, i: number): TxOut {
  const value = r.u64le(`output ${i} value`);
  const scriptPubkey = readVarBytes(r, `output ${i} script_pubkey`);
  return { value, scriptPubkey };
}

function readInputs(r: ByteReader): TxIn[] {
  const n = readCount(r, 'input', MIN_TXIN_BYTES);
  const inputs: TxIn[] = new Array(n);
  for (let i = 0; i < n; i++) inputs[i] = readTxIn(r, i);
  return inputs;
}

function readOutputs(r: ByteReader): TxOut[] {
  const n = readCount(r, 'output', MIN_TXOUT_BYTES);
  const outputs: TxOut[] = new Array(n);
  for (let i = 0; i < n; i++) outputs[i] = readTxOut(r, i);
  return outputs;
}

function readWitness(r: ByteReader, i: number): Uint8Array[] {
  const n = readCount(r, `input ${i} witness element`, 1);
  const items: Uint8Array[] = new Array(n);
  for (let j = 0; j < n; j++) items[j] = readVarBytes(r, `input ${i} witness element ${j}`);
  return items;
}

/**
 * Read one transaction from `r` (rust-bitcoin 0.30.2 `Transaction::consensus_decode`), leaving the
 * reader after its last byte. Used directly by decoders of containing structures (AuxPow, blocks).
 */
export function readTransaction(r: ByteReader): Transaction {
  const start = r.offset;
  const version = r.i32le('version');
  let inputs = readInputs(r);
  let outputs: TxOut[];
  if (inputs.length === 0) {
    // Zero inputs: the next byte is the BIP144 flag (rust-bitcoin reads it unconditionally).
    const flagAt = r.offset;
    const flag = r.u8('segwit flag');
    if (flag !== 1)
      throw new DecodeError(
        `${labelOf(r)}@${flagAt}`,
        `unsupported segwit flag ${flag} (a transaction with zero inputs must use the BIP144 00 01 marker and flag)`,
      );
    inputs = readInputs(r);
    outputs = readOutputs(r);
    for (let i = 0; i < inputs.length; i++) inputs[i]!.witness = readWitness(r, i);
    if (inputs.length > 0 && inputs.every((input) => input.witness.length === 0))
      throw new DecodeError(
        `${labelOf(r)}@${start}`,
        'witness flag set but no witnesses present (rust-bitcoin refuses this encoding; re-encode the transaction in legacy form)',
      );
  } else {
    outputs = readOutputs(r);
  }
  const lockTime = r.u32le('lock_time');
  return { version, lockTime, inputs, outputs };
}

/** Decode exactly one transaction; trailing bytes are an error. */
export function decodeTransaction(bytes: Uint8Array, label = 'tx'): Transaction {
  const r = new ByteReader(bytes, label);
  const tx = readTransaction(r);
  r.end();
  return tx;
}

/** True when rust-bitcoin writes `tx` in BIP144 form: no inputs, or some input has witness data. */
export function usesWitnessSerialization(tx: Transaction): boolean {
  if (tx.inputs.length === 0) return true;
  for (const input of tx.inputs) if (input.witness.length > 0) return true;
  return false;
}

function checkTxFields(tx: Transaction): void {
  if (!Number.isInteger(tx.version) || tx.version < -0x80000000 || tx.version > 0x7fffffff)
    throw new DecodeError('tx.version', `expected an i32, got ${tx.version}`);
  checkU32(tx.lockTime, 'tx.lockTime');
  tx.inputs.forEach((input, i) => {
    if (input.prevTxid.length !== 32)
      throw new DecodeError(`tx.inputs[${i}].prevTxid`, `expected 32 bytes, got ${input.prevTxid.length}`);
    checkU32(input.prevVout, `tx.inputs[${i}].prevVout`);
    checkU32(input.sequence, `tx.inputs[${i}].sequence`);
  });
  tx.outputs.forEach((output, i) => {
    if (output.value < 0n || output.value > 0xffffffffffffffffn)
      throw new DecodeError(`tx.outputs[${i}].value`, `expected a u64, got ${output.value}`);
  });
}

function checkU32(v: number, path: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new DecodeError(path, `expected a u32, got ${v}`);
}

/**
 * Append `tx` to `w`. `witness: true` is rust-bitcoin's consensus encoding (BIP144 form when
 * {@link usesWitnessSerialization}); `witness: false` is the legacy form that `txid` hashes.
 */
export function writeTransaction(w: ByteWriter, tx: Transaction, opts: { witness: boolean }): void {
  checkTxFields(tx);
  const bip144 = opts.witness && usesWitnessSerialization(tx);
  w.i32le(tx.version);
  if (bip144) w.u8(0).u8(1);
  w.compactSize(tx.inputs.length);
  for (const input of tx.inputs) {
    w.bytes(input.prevTxid).u32le(input.prevVout);
    w.compactSize(input.scriptSig.length).bytes(input.scriptSig);
    w.u32le(input.sequence);
  }
  w.compactSize(tx.outputs.length);
  for (const output of tx.outputs) {
    w.u64le(output.value);
    w.compactSize(output.scriptPubkey.length).bytes(output.scriptPubkey);
  }
  if (bip144) {
    for (const input of tx.inputs) {
      w.compactSize(input.witness.length);
      for (const item of input.witness) w.compactSize(item.length).bytes(item);
    }
  }
  w.u32le(tx.lockTime);
}

/**
 * Consensus-encode `tx`. Default `{ witness: true }` gives exactly rust-bitcoin's
 * `serialize(&tx)`; `{ witness: false }` gives the legacy form (what `txid` hashes).
 */
export function encodeTransaction(tx: Transaction, opts: { witness?: boolean } = {}): Uint8Array {
  const w = new ByteWriter();
  writeTransaction(w, tx, { witness: opts.witness ?? true });
  return w.finish();
}

/** Transaction id: SHA256d of the legacy (witness-stripped) encoding, internal byte order. */
export function txid(tx: Transaction): Uint8Array {
  return sha256d(encodeTransaction(tx, { witness: false }));
}

/**
 * Witness transaction id: SHA256d of the full consensus encoding (equals `txid` for a
 * transaction written in legacy form). Internal byte order.
 */
export function wtxid(tx: Transaction): Uint8Array {
  return sha256d(encodeTransaction(tx, { witness: true }));
}
