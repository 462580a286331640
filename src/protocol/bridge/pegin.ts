/**
 * Peg-in detection (alys-protocol.md section 6.2, tagged [R]: read in the source, not executed
 * against a Rust build; Alys `Bridge::pegin_info` in `crates/federation/src/lib.rs`, rust-bitcoin
 * 0.30.2). The one real peg-in vector (Alys's `test_pegin_info`) is the normal form only.
 *
 * A Bitcoin transaction is a peg-in when
 * 1. some output's scriptPubKey equals the federation's P2TR script — the FIRST such output's
 *    value is the amount (no minimum), and
 * 2. some output yields an EVM address — the FIRST output, in output order, for which the
 *    extraction below succeeds.
 *
 * EVM address extraction replicates Alys exactly, quirks included: the script must start with
 * OP_RETURN (0x6a); it is rendered as rust-bitcoin ASM, split at spaces, and the LAST token is
 * hex-decoded. If those bytes are not valid UTF-8, the token itself must parse as an H160 (so the
 * push must be exactly 20 bytes). If they ARE valid UTF-8, the text must parse as an H160: exactly
 * 40 hex digits of either case, optionally after a lowercase `0x`. Consequence: a raw 20-byte
 * address whose bytes happen to be valid UTF-8 (e.g. all bytes < 0x80) is rejected.
 */
import { bytesToHex, equalBytes } from '../bytes.js';
import { DecodeError } from '../errors.js';
import type { Hex, Transaction } from '../types.js';
import type { Federation } from './taproot.js';
import { decodeTransaction, txid as computeTxid } from '../bitcoin/tx.js';

const OP_RETURN = 0x6a;
const OP_PUSHDATA1 = 0x4c;
const OP_PUSHDATA2 = 0x4d;
const OP_PUSHDATA4 = 0x4e;

export interface PegIn {
  /** Value of the first output paying the federation, in satoshis. */
  amountSats: bigint;
  /** Recipient on Alys, lowercase. */
  evmAddress: Hex;
}

/**
 * The bytes of the last ASM token of `script` when that token is hex, i.e. the data of the final
 * instruction if it is a complete push of at least one byte; `null` otherwise.
 *
 * Equivalent to rust-bitcoin 0.30 `Script::to_asm_string()` + `split(' ').last()` + hex decode:
 * opcode names ("OP_…", including "OP_0" and a zero-length OP_PUSHDATAn) and the error markers
 * "<unexpected end>" / "<push past end>" never decode as hex, and the ASM loop stops at the first
 * malformed push. Returns a subarray of `script` (no copy).
 */
export function lastAsmPushData(script: Uint8Array): Uint8Array | null {
  let last: Uint8Array | null = null;
  let i = 0;
  const end = script.length;
  while (i < end) {
    const op = script[i++]!;
    let len: number;
    if (op <= 0x4b) {
      len = op;
    } else if (op === OP_PUSHDATA1 || op === OP_PUSHDATA2 || op === OP_PUSHDATA4) {
      const width = op === OP_PUSHDATA1 ? 1 : op === OP_PUSHDATA2 ? 2 : 4;
      if (i + width > end) return null; // "<unexpected end>"
      len = 0;
      for (let k = width - 1; k >= 0; k--) len = len * 256 + script[i + k]!;
      i += width;
    } else {
      last = null; // an opcode name is the last token so far
      continue;
    }
    if (len === 0) {
      last = null; // "OP_0" or "OP_PUSHDATAn" with no data: a name token
      continue;
    }
    if (len > end - i) return null; // "<push past end>"
    last = script.subarray(i, i + len);
    i += len;
  }
  return last;
}

/**
 * Strict UTF-8 validation with Rust's `String::from_utf8` rules (= WHATWG fatal decoding): no
 * overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences.
 * A leading BOM is ordinary valid text here (TextDecoder would silently strip it).
 */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 === 0xe0) lo = 0xa0; // overlong
      if (b0 === 0xed) hi = 0x9f; // surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 === 0xf0) lo = 0x90; // overlong
      if (b0 === 0xf4) hi = 0x8f; // > U+10FFFF
    } else return false;
    if (i + need >= n) return false; // truncated sequence
    const b1 = bytes[i + 1]!;
    if (b1 < lo || b1 > hi) return false;
    for (let k = 2; k <= need; k++) {
      const b = bytes[i + k]!;
      if (b < 0x80 || b > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}

const H160_TEXT = /^(?:0x)?([0-9a-fA-F]{40})$/;

/**
 * The EVM address an output script carries, per Alys's `extract_evm_address`; `null` if none.
 * (`is_provably_unspendable() && is_op_return()` reduces to "first byte is OP_RETURN".)
 */
export function extractEvmAddress(script: Uint8Array): Hex | null {
  if (script.length === 0 || script[0] !== OP_RETURN) return null;
  const data = lastAsmPushData(script);
  if (data === null) return null;
  if (!isValidUtf8(data)) {
    // Alys parses the hex token itself as an H160: exactly 40 hex digits, i.e. 20 bytes.
    return data.length === 20 ? (`0x${bytesToHex(data)}` as Hex) : null;
  }
  // Valid UTF-8: only pure-ASCII hex (optionally 0x-prefixed) can parse as an H160.
  let text = '';
  for (let k = 0; k < data.length; k++) {
    const c = data[k]!;
    if (c >= 0x80) return null;
    text += String.fromCharCode(c);
  }
  const m = H160_TEXT.exec(text);
  return m ? (`0x${m[1]!.toLowerCase()}` as Hex) : null;
}

function federationScriptOf(federation: Federation | Uint8Array): Uint8Array {
  if (federation instanceof Uint8Array) return federation;
  if (federation && federation.scriptPubkey instanceof Uint8Array) return federation.scriptPubkey;
  throw new DecodeError('federation', 'expected a Federation or the federation scriptPubKey bytes');
}

/**
 * Peg-in information of `tx` for the federation (a {@link Federation} or its scriptPubKey), or
 * `null` if `tx` is not a peg-in. Confirmation depth and "already processed" are not checked
 * here: they need Bitcoin/wallet state (see section 5.3).
 */
export function parsePegIn(tx: Transaction, federation: Federation | Uint8Array): PegIn | null {
  const federationScript = federationScriptOf(federation);
  let amountSats: bigint | null = null;
  for (const out of tx.outputs) {
    if (equalBytes(out.scriptPubkey, federationScript)) {
      amountSats = out.value;
      break;
    }
  }
  if (amountSats === null) return null;
  for (const out of tx.outputs) {
    const evmAddress = extractEvmAddress(out.scriptPubkey);
    if (evmAddress !== null) return { amountSats, evmAddress };
  }
  return null;
}

/**
 * {@link parsePegIn} over raw transaction bytes (segwit or legacy serialization), decoded with
 * `decodeTransaction`. Also returns the txid (internal byte order). Throws DecodeError when the
 * bytes are not a transaction.
 */
export function parsePegInRaw(
  bytes: Uint8Array,
  federation: Federation | Uint8Array,
): (PegIn & { txid: Uint8Array }) | null {
  const tx = decodeTransaction(bytes);
  const info = parsePegIn(tx, federation);
  return info === null ? null : { ...info, txid: computeTxid(tx) };
}
