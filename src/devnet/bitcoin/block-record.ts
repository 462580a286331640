/**
 * How the regtest chain holds a block: its raw bytes plus a table of its transactions (txid and
 * byte range, the same table persist.ts stores), decoded on first use; and the string map keys the
 * chain's indexes use for hashes, txids, outpoints and scripts.
 */
import { decodeHeader, HEADER_SIZE } from '../../protocol/bitcoin/header.js';
import { toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { decodeTransaction } from '../../protocol/bitcoin/tx.js';
import type { BitcoinHeader, Transaction } from '../../protocol/types.js';
import type { BitcoinBlockInfo } from '../types.js';
import { TX_ENTRY } from './persist.js';

export interface BlockRecord {
  height: number;
  hash: Uint8Array;
  raw: Uint8Array;
  /** 40 bytes per transaction: txid[32] | u32 LE offset in `raw` | u32 LE length (persist.ts) */
  txTable: Uint8Array;
  /** decoded on first use */
  header: BitcoinHeader | undefined;
  txs: Transaction[] | undefined;
}

export const txCountOf = (rec: BlockRecord): number => rec.txTable.length / TX_ENTRY;
export const txidAt = (rec: BlockRecord, i: number): Uint8Array =>
  rec.txTable.subarray(i * TX_ENTRY, i * TX_ENTRY + 32);

function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** The consensus bytes of transaction `i` (a view into the block's bytes). */
export function txBytesAt(rec: BlockRecord, i: number): Uint8Array {
  const off = u32At(rec.txTable, i * TX_ENTRY + 32);
  return rec.raw.subarray(off, off + u32At(rec.txTable, i * TX_ENTRY + 36));
}

/** The transaction table of a block: `ranges` holds [offset, length] per transaction. */
export function buildTxTable(txids: readonly Uint8Array[], ranges: Uint32Array): Uint8Array {
  const table = new Uint8Array(txids.length * TX_ENTRY);
  const dv = new DataView(table.buffer);
  txids.forEach((id, i) => {
    table.set(id, i * TX_ENTRY);
    dv.setUint32(i * TX_ENTRY + 32, ranges[2 * i]!, true);
    dv.setUint32(i * TX_ENTRY + 36, ranges[2 * i + 1]!, true);
  });
  return table;
}

/** Copies of a block's txids, in block order. */
export function txidsOf(rec: BlockRecord): Uint8Array[] {
  const out: Uint8Array[] = new Array(txCountOf(rec));
  for (let i = 0; i < out.length; i++) out[i] = txidAt(rec, i).slice();
  return out;
}

export function txsOf(rec: BlockRecord): Transaction[] {
  if (!rec.txs) {
    const txs: Transaction[] = new Array(txCountOf(rec));
    for (let i = 0; i < txs.length; i++) txs[i] = decodeTransaction(txBytesAt(rec, i), `block ${rec.height} tx ${i}`);
    rec.txs = txs;
  }
  return rec.txs;
}

export function headerOf(rec: BlockRecord): BitcoinHeader {
  return (rec.header ??= decodeHeader(rec.raw.subarray(0, HEADER_SIZE), `block ${rec.height} header`));
}

export function infoOf(rec: BlockRecord): BitcoinBlockInfo {
  return { height: rec.height, hash: rec.hash, header: headerOf(rec), transactions: txsOf(rec) };
}

/**
 * Map keys for hashes, outpoints and scripts: the bytes as a latin1 string (one char per byte,
 * made natively by Buffer; half the length of hex and much cheaper to build).
 */
export function key(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
export const outpointKey = (txidKey: string, vout: number): string => `${txidKey}:${vout}`;
export const displayOutpoint = (txid: Uint8Array, vout: number): string => `${toDisplayHex(txid)}:${vout}`;
