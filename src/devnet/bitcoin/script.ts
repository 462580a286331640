/**
 * Output-script helpers for the regtest chain and its Esplora API: building the few scripts the
 * devnet writes (P2WPKH, OP_RETURN data, BIP34 coinbase heights, the segwit witness commitment),
 * classifying scripts the way Esplora labels them, rendering rust-bitcoin-style ASM, and scripts
 * to regtest addresses.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32, bech32m, createBase58check } from '@scure/base';
import { bytesToHex, concatBytes } from '../../protocol/bytes.js';
import { scriptPushInt } from '../../protocol/bridge/taproot.js';

const base58check = /* @__PURE__ */ createBase58check(sha256);

export const OP_0 = 0x00;
export const OP_PUSHDATA1 = 0x4c;
export const OP_PUSHDATA2 = 0x4d;
export const OP_PUSHDATA4 = 0x4e;
export const OP_1 = 0x51;
export const OP_RETURN = 0x6a;
export const OP_DUP = 0x76;
export const OP_EQUAL = 0x87;
export const OP_EQUALVERIFY = 0x88;
export const OP_HASH160 = 0xa9;
export const OP_CHECKSIG = 0xac;

/** Minimal push of `data` (what Bitcoin Core's `CScript() << data` writes). */
export function pushData(data: Uint8Array): Uint8Array {
  const n = data.length;
  if (n === 0) return Uint8Array.of(OP_0);
  if (n <= 75) return concatBytes(Uint8Array.of(n), data);
  if (n <= 0xff) return concatBytes(Uint8Array.of(OP_PUSHDATA1, n), data);
  if (n <= 0xffff) return concatBytes(Uint8Array.of(OP_PUSHDATA2, n & 0xff, n >>> 8), data);
  return concatBytes(Uint8Array.of(OP_PUSHDATA4, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24), data);
}

/**
 * `OP_RETURN <data>` exactly as `bitcoin-cli createrawtransaction [...] '{"data":"<hex>"}'` makes it
 * (`CScript() << OP_RETURN << data`): 20 bytes give `6a 14 <20 bytes>`.
 */
export function opReturnScript(data: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(OP_RETURN), pushData(data));
}

/** `OP_0 OP_PUSHBYTES_20 <hash160(pubkey)>` */
export function p2wpkhScript(pubkeyHash: Uint8Array): Uint8Array {
  if (pubkeyHash.length !== 20) throw new RangeError(`a P2WPKH program is 20 bytes, got ${pubkeyHash.length}`);
  return concatBytes(Uint8Array.of(OP_0, 20), pubkeyHash);
}

/** `OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG`: the BIP143 scriptCode of a P2WPKH spend. */
export function p2pkhScript(pubkeyHash: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(OP_DUP, OP_HASH160, 20), pubkeyHash, Uint8Array.of(OP_EQUALVERIFY, OP_CHECKSIG));
}

/**
 * Coinbase scriptSig: the BIP34 height (`CScript() << height`, i.e. OP_0 / OP_1..OP_16 / minimal
 * script number), then a push of `extra` (keeps the script at least 2 bytes, as consensus requires).
 */
export function coinbaseScriptSig(height: number, extra: Uint8Array): Uint8Array {
  return concatBytes(scriptPushInt(height), pushData(extra));
}

/** Segwit witness commitment header (BIP141): `OP_RETURN OP_PUSHBYTES_36 aa21a9ed`. */
export const WITNESS_COMMITMENT_HEADER = Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed);

export function witnessCommitmentScript(commitment: Uint8Array): Uint8Array {
  return concatBytes(WITNESS_COMMITMENT_HEADER, commitment);
}

// ---------------------------------------------------------------- classification

export type OutputKind =
  | { kind: 'p2wpkh'; program: Uint8Array }
  | { kind: 'p2tr'; program: Uint8Array }
  | { kind: 'p2wsh'; program: Uint8Array }
  | { kind: 'p2pkh'; hash: Uint8Array }
  | { kind: 'p2sh'; hash: Uint8Array }
  | { kind: 'op_return' }
  | { kind: 'other' };

export function classifyScript(s: Uint8Array): OutputKind {
  if (s.length === 22 && s[0] === OP_0 && s[1] === 20) return { kind: 'p2wpkh', program: s.subarray(2) };
  if (s.length === 34 && s[0] === OP_0 && s[1] === 32) return { kind: 'p2wsh', program: s.subarray(2) };
  if (s.length === 34 && s[0] === OP_1 && s[1] === 32) return { kind: 'p2tr', program: s.subarray(2) };
  if (
    s.length === 25 &&
    s[0] === OP_DUP &&
    s[1] === OP_HASH160 &&
    s[2] === 20 &&
    s[23] === OP_EQUALVERIFY &&
    s[24] === OP_CHECKSIG
  )
    return { kind: 'p2pkh', hash: s.subarray(3, 23) };
  if (s.length === 23 && s[0] === OP_HASH160 && s[1] === 20 && s[22] === OP_EQUAL)
    return { kind: 'p2sh', hash: s.subarray(2, 22) };
  if (s.length > 0 && s[0] === OP_RETURN) return { kind: 'op_return' };
  return { kind: 'other' };
}

/** Bitcoin Core `IsUnspendable`: OP_RETURN scripts and scripts over 10,000 bytes never enter the UTXO set. */
export function isUnspendable(script: Uint8Array): boolean {
  return (script.length > 0 && script[0] === OP_RETURN) || script.length > 10_000;
}

/** A witness program (`OP_n <2..40 bytes>`), as rust-bitcoin's `is_witness_program`. */
function witnessProgram(s: Uint8Array): { version: number; program: Uint8Array } | null {
  if (s.length < 4 || s.length > 42) return null;
  const op = s[0]!;
  const version = op === OP_0 ? 0 : op >= OP_1 && op <= 0x60 ? op - OP_1 + 1 : -1;
  if (version < 0) return null;
  if (s[1] !== s.length - 2) return null;
  const program = s.subarray(2);
  if (version === 0 && program.length !== 20 && program.length !== 32) return null;
  return { version, program };
}

/** Esplora's `scriptpubkey_type` (Blockstream electrs `TxOutValue::new`). */
export function esploraScriptType(s: Uint8Array): string {
  if (s.length === 0) return 'empty';
  if (s[0] === OP_RETURN) return 'op_return';
  if (
    (s.length === 67 && s[0] === 0x41 && s[66] === OP_CHECKSIG) ||
    (s.length === 35 && s[0] === 0x21 && s[34] === OP_CHECKSIG)
  )
    return 'p2pk';
  const c = classifyScript(s);
  switch (c.kind) {
    case 'p2pkh':
      return 'p2pkh';
    case 'p2sh':
      return 'p2sh';
    case 'p2wpkh':
      return 'v0_p2wpkh';
    case 'p2wsh':
      return 'v0_p2wsh';
    case 'p2tr':
      return 'v1_p2tr';
    default:
      return 'unknown';
  }
}

/** The regtest address of an output script (rust-bitcoin `Address::from_script`), or undefined. */
export function scriptToAddress(s: Uint8Array): string | undefined {
  const c = classifyScript(s);
  if (c.kind === 'p2pkh') return base58check.encode(concatBytes(Uint8Array.of(0x6f), c.hash));
  if (c.kind === 'p2sh') return base58check.encode(concatBytes(Uint8Array.of(0xc4), c.hash));
  const wp = witnessProgram(s);
  if (!wp) return undefined;
  const words = [wp.version, ...bech32.toWords(wp.program)];
  return wp.version === 0 ? bech32.encode('bcrt', words) : bech32m.encode('bcrt', words);
}

// ---------------------------------------------------------------- ASM (rust-bitcoin 0.32 `Script` Debug/Display)

const NAMES: string[] = (() => {
  const names: string[] = new Array(256);
  names[0x00] = 'OP_0';
  for (let i = 1; i <= 0x4b; i++) names[i] = `OP_PUSHBYTES_${i}`;
  names[0x4c] = 'OP_PUSHDATA1';
  names[0x4d] = 'OP_PUSHDATA2';
  names[0x4e] = 'OP_PUSHDATA4';
  names[0x4f] = 'OP_PUSHNUM_NEG1';
  names[0x50] = 'OP_RESERVED';
  for (let i = 1; i <= 16; i++) names[0x50 + i] = `OP_PUSHNUM_${i}`;
  const rest = [
    'OP_NOP',
    'OP_VER',
    'OP_IF',
    'OP_NOTIF',
    'OP_VERIF',
    'OP_VERNOTIF',
    'OP_ELSE',
    'OP_ENDIF',
    'OP_VERIFY',
    'OP_RETURN',
    'OP_TOALTSTACK',
    'OP_FROMALTSTACK',
    'OP_2DROP',
    'OP_2DUP',
    'OP_3DUP',
    'OP_2OVER',
    'OP_2ROT',
    'OP_2SWAP',
    'OP_IFDUP',
    'OP_DEPTH',
    'OP_DROP',
    'OP_DUP',
    'OP_NIP',
    'OP_OVER',
    'OP_PICK',
    'OP_ROLL',
    'OP_ROT',
    'OP_SWAP',
    'OP_TUCK',
    'OP_CAT',
    'OP_SUBSTR',
    'OP_LEFT',
    'OP_RIGHT',
    'OP_SIZE',
    'OP_INVERT',
    'OP_AND',
    'OP_OR',
    'OP_XOR',
    'OP_EQUAL',
    'OP_EQUALVERIFY',
    'OP_RESERVED1',
    'OP_RESERVED2',
    'OP_1ADD',
    'OP_1SUB',
    'OP_2MUL',
    'OP_2DIV',
    'OP_NEGATE',
    'OP_ABS',
    'OP_NOT',
    'OP_0NOTEQUAL',
    'OP_ADD',
    'OP_SUB',
    'OP_MUL',
    'OP_DIV',
    'OP_MOD',
    'OP_LSHIFT',
    'OP_RSHIFT',
    'OP_BOOLAND',
    'OP_BOOLOR',
    'OP_NUMEQUAL',
    'OP_NUMEQUALVERIFY',
    'OP_NUMNOTEQUAL',
    'OP_LESSTHAN',
    'OP_GREATERTHAN',
    'OP_LESSTHANOREQUAL',
    'OP_GREATERTHANOREQUAL',
    'OP_MIN',
    'OP_MAX',
    'OP_WITHIN',
    'OP_RIPEMD160',
    'OP_SHA1',
    'OP_SHA256',
    'OP_HASH160',
    'OP_HASH256',
    'OP_CODESEPARATOR',
    'OP_CHECKSIG',
    'OP_CHECKSIGVERIFY',
    'OP_CHECKMULTISIG',
    'OP_CHECKMULTISIGVERIFY',
    'OP_NOP1',
    'OP_CLTV',
    'OP_CSV',
    'OP_NOP4',
    'OP_NOP5',
    'OP_NOP6',
    'OP_NOP7',
    'OP_NOP8',
    'OP_NOP9',
    'OP_NOP10',
    'OP_CHECKSIGADD',
  ];
  for (const [i, name] of rest.entries()) names[0x61 + i] = name;
  for (let op = 0xbb; op <= 0xfe; op++) names[op] = `OP_RETURN_${op}`;
  names[0xff] = 'OP_INVALIDOPCODE';
  return names;
})();

/**
 * rust-bitcoin's ASM rendering (what Esplora puts in `*_asm` fields): opcode names separated by
 * spaces, push data as lowercase hex after its push opcode, `OP_0` for an empty push, and the
 * markers `<unexpected end>` / `<push past end>` for truncated scripts.
 */
export function scriptToAsm(s: Uint8Array): string {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const op = s[i++]!;
    let len = 0;
    if (op >= 0x01 && op <= 0x4b) len = op;
    else if (op === OP_PUSHDATA1 || op === OP_PUSHDATA2 || op === OP_PUSHDATA4) {
      const width = op === OP_PUSHDATA1 ? 1 : op === OP_PUSHDATA2 ? 2 : 4;
      if (i + width > s.length) {
        // rust-bitcoin writes this marker without a separating space
        if (out.length > 0) out[out.length - 1] += '<unexpected end>';
        else out.push('<unexpected end>');
        break;
      }
      for (let k = width - 1; k >= 0; k--) len = len * 256 + s[i + k]!;
      i += width;
    }
    let token = NAMES[op]!;
    if (len > 0) {
      if (len > s.length - i) {
        out.push(`${token} <push past end>`);
        break;
      }
      token += ' ' + bytesToHex(s.subarray(i, i + len));
      i += len;
    }
    out.push(token);
  }
  return out.join(' ');
}
