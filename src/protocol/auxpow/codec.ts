/**
 * AuxPow consensus encoding (alys-protocol.md 1.5), identical to Namecoin's CAuxPow layout:
 *
 *   AuxPow       = Tx || block_hash[32] || MerkleBranch(coinbase) || MerkleBranch(chain) || Header[80]
 *   MerkleBranch = CompactSize(n) || n x hash[32] (internal order) || side_mask u32 LE
 *
 * The transaction uses rust-bitcoin 0.30.2's encoding (see ../bitcoin/tx.ts), so an Alys dev-miner
 * coinbase with zero inputs round-trips in BIP144 form. This is the hex carried by
 * `submitauxblock`.
 */
import { ByteReader, ByteWriter, parseHex } from '../bytes.js';
import { DecodeError } from '../errors.js';
import type { AuxPow, MerkleBranch } from '../types.js';
import { readHeader, writeHeader } from '../bitcoin/header.js';
import { readTransaction, writeTransaction } from '../bitcoin/tx.js';

export type { AuxPow, MerkleBranch };

export function readMerkleBranch(r: ByteReader, what: string): MerkleBranch {
  const at = r.offset;
  const n = r.compactSize(`${what} length`);
  if (n * 32 > r.remaining)
    throw new DecodeError(
      `auxpow@${at}`,
      `truncated: ${what} of ${n} hashes needs ${n * 32} bytes, have ${r.remaining}`,
    );
  const branchHash: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) branchHash[i] = r.take(32, `${what} hash ${i}`).slice();
  const branchSideMask = r.u32le(`${what} side mask`);
  return { branchHash, branchSideMask };
}

export function writeMerkleBranch(w: ByteWriter, branch: MerkleBranch): void {
  if (!Number.isInteger(branch.branchSideMask) || branch.branchSideMask < 0 || branch.branchSideMask > 0xffffffff)
    throw new DecodeError('merkleBranch.branchSideMask', `expected a u32, got ${branch.branchSideMask}`);
  w.compactSize(branch.branchHash.length);
  branch.branchHash.forEach((h, i) => {
    if (h.length !== 32) throw new DecodeError(`merkleBranch.branchHash[${i}]`, `expected 32 bytes, got ${h.length}`);
    w.bytes(h);
  });
  w.u32le(branch.branchSideMask);
}

/** Read an AuxPow from `r` (used for a Namecoin-style header followed by its AuxPow). */
export function readAuxPow(r: ByteReader): AuxPow {
  const coinbaseTxn = readTransaction(r);
  const blockHash = r.take(32, 'auxpow block_hash').slice();
  const coinbaseBranch = readMerkleBranch(r, 'coinbase branch');
  const blockchainBranch = readMerkleBranch(r, 'blockchain branch');
  const parentBlock = readHeader(r);
  return { coinbaseTxn, blockHash, coinbaseBranch, blockchainBranch, parentBlock };
}

/** Decode exactly one AuxPow (trailing bytes are an error). */
export function decodeAuxPow(bytes: Uint8Array): AuxPow {
  const r = new ByteReader(bytes, 'auxpow');
  const auxpow = readAuxPow(r);
  r.end();
  return auxpow;
}

export function writeAuxPow(w: ByteWriter, auxpow: AuxPow): void {
  writeTransaction(w, auxpow.coinbaseTxn, { witness: true });
  if (auxpow.blockHash.length !== 32)
    throw new DecodeError('auxpow.blockHash', `expected 32 bytes, got ${auxpow.blockHash.length}`);
  w.bytes(auxpow.blockHash);
  writeMerkleBranch(w, auxpow.coinbaseBranch);
  writeMerkleBranch(w, auxpow.blockchainBranch);
  writeHeader(w, auxpow.parentBlock);
}

/** Consensus encoding of an AuxPow (rust-bitcoin `serialize(&auxpow)`). */
export function encodeAuxPow(auxpow: AuxPow): Uint8Array {
  const w = new ByteWriter();
  writeAuxPow(w, auxpow);
  return w.finish();
}

/**
 * Parse the two `submitauxblock` params: `[aux hash hex (64 digits, raw byte order, no 0x), AuxPow
 * consensus hex]`. The hash is used as raw bytes (no reversal), like the `hash` of `createauxblock`.
 */
export function parseSubmitAuxBlockParams(params: unknown): { auxHash: Uint8Array; auxpow: AuxPow } {
  if (!Array.isArray(params) || params.length !== 2)
    throw new DecodeError('$.params', 'submitauxblock takes exactly two params: [aux hash hex, auxpow hex]');
  const auxHash = parseHex(params[0], '$.params[0]', { prefix: 'forbidden', length: 32 });
  const bytes = parseHex(params[1], '$.params[1]', { prefix: 'forbidden' });
  return { auxHash, auxpow: decodeAuxPow(bytes) };
}
