/**
 * The regtest chain's persisted form: raw blocks plus an index, so loading needs no transaction
 * decoding and no UTXO replay.
 *
 * Layout (integers little-endian):
 *
 *   magic "ALYSBTC1" | u32 format version (1) | u32 coinbase maturity | u32 halving interval
 *   u32 block count B | u32 transaction count T | u32 UTXO count U | u32 mempool count M
 *   u64 blob length (raw blocks, concatenated)
 *   B x block entry (44 bytes): hash[32] | u32 blob offset | u32 raw length | u32 transaction count
 *   T x transaction entry (40 bytes), block by block: txid[32] | u32 offset in block | u32 length
 *   U x UTXO: txid[32] | u32 vout | u32 height | u8 coinbase | u64 value | u32 script length | script
 *   M x mempool transaction: u32 length | raw (in mempool order, re-validated on load)
 *   blob
 *   SHA-256 of everything above (32 bytes)
 *
 * The checksum catches any corruption or truncation (native SHA-256: ~15 ms for 7 MB); every
 * table entry is also checked against the lengths while reading, and the chain checks header
 * linkage and the tip hash (see `importChain`; `verify` replays everything).
 */
import { createHash } from 'node:crypto';
import { DecodeError } from '../../protocol/errors.js';

export const SNAPSHOT_MAGIC = 'ALYSBTC1';
export const SNAPSHOT_VERSION = 1;

export interface SnapshotBlock {
  hash: Uint8Array;
  raw: Uint8Array;
  /** 40 bytes per transaction: txid[32] | u32 LE offset in `raw` | u32 LE length */
  txTable: Uint8Array;
}

/** Bytes per transaction in a block's table. */
export const TX_ENTRY = 40;

export interface SnapshotUtxo {
  txid: Uint8Array;
  vout: number;
  height: number;
  coinbase: boolean;
  value: bigint;
  script: Uint8Array;
}

export interface ChainSnapshot {
  coinbaseMaturity: number;
  halvingInterval: number;
  blocks: SnapshotBlock[];
  utxos: SnapshotUtxo[];
  mempool: Uint8Array[];
}

const HEAD = 8 + 4 * 7 + 8;
const CHECKSUM = 32;
const BLOCK_ENTRY = 44;

export function encodeSnapshot(s: ChainSnapshot): Uint8Array {
  const txCount = s.blocks.reduce((a, b) => a + b.txTable.length / TX_ENTRY, 0);
  const blobLength = s.blocks.reduce((a, b) => a + b.raw.length, 0);
  const utxoBytes = s.utxos.reduce((a, u) => a + 32 + 4 + 4 + 1 + 8 + 4 + u.script.length, 0);
  const mempoolBytes = s.mempool.reduce((a, m) => a + 4 + m.length, 0);
  const total =
    HEAD + s.blocks.length * BLOCK_ENTRY + txCount * TX_ENTRY + utxoBytes + mempoolBytes + blobLength + CHECKSUM;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (let i = 0; i < 8; i++) out[at++] = SNAPSHOT_MAGIC.charCodeAt(i);
  const u32 = (v: number): void => {
    dv.setUint32(at, v, true);
    at += 4;
  };
  u32(SNAPSHOT_VERSION);
  u32(s.coinbaseMaturity);
  u32(s.halvingInterval);
  u32(s.blocks.length);
  u32(txCount);
  u32(s.utxos.length);
  u32(s.mempool.length);
  dv.setBigUint64(at, BigInt(blobLength), true);
  at += 8;
  let blobAt = 0;
  for (const b of s.blocks) {
    out.set(b.hash, at);
    at += 32;
    u32(blobAt);
    u32(b.raw.length);
    u32(b.txTable.length / TX_ENTRY);
    blobAt += b.raw.length;
  }
  for (const b of s.blocks) {
    out.set(b.txTable, at);
    at += b.txTable.length;
  }
  for (const u of s.utxos) {
    out.set(u.txid, at);
    at += 32;
    u32(u.vout);
    u32(u.height);
    out[at++] = u.coinbase ? 1 : 0;
    dv.setBigUint64(at, u.value, true);
    at += 8;
    u32(u.script.length);
    out.set(u.script, at);
    at += u.script.length;
  }
  for (const m of s.mempool) {
    u32(m.length);
    out.set(m, at);
    at += m.length;
  }
  for (const b of s.blocks) {
    out.set(b.raw, at);
    at += b.raw.length;
  }
  out.set(checksum(out.subarray(0, at)), at);
  return out;
}

function checksum(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/**
 * Parse a snapshot. The returned byte arrays are views into one private copy of `input` (so the
 * caller may reuse its buffer, and loading does not allocate per block).
 */
export function decodeSnapshot(input: Uint8Array): ChainSnapshot {
  if (!(input instanceof Uint8Array)) throw new DecodeError('chain', 'expected the bytes of an exported chain');
  if (input.length < HEAD + CHECKSUM)
    throw new DecodeError('chain@0', `truncated: ${input.length} bytes cannot hold an exported chain`);
  const magicText = String.fromCharCode(...input.subarray(0, 8));
  if (magicText !== SNAPSHOT_MAGIC)
    throw new DecodeError(
      'chain@0',
      `not an exported regtest chain (magic ${JSON.stringify(magicText)}, expected ${SNAPSHOT_MAGIC})`,
    );
  const body = input.length - CHECKSUM;
  const sum = checksum(input.subarray(0, body));
  for (let i = 0; i < CHECKSUM; i++)
    if (sum[i] !== input[body + i])
      throw new DecodeError(`chain@${body}`, 'checksum mismatch: the file is corrupt or truncated');
  const bytes = input.slice(0, body);
  const dv = new DataView(bytes.buffer);
  let at = 0;
  const need = (n: number, what: string): void => {
    if (at + n > bytes.length)
      throw new DecodeError(`chain@${at}`, `truncated: need ${n} bytes for ${what}, have ${bytes.length - at}`);
  };
  const u32 = (what: string): number => {
    need(4, what);
    const v = dv.getUint32(at, true);
    at += 4;
    return v;
  };
  at = 8;
  const version = u32('version');
  if (version !== SNAPSHOT_VERSION)
    throw new DecodeError('chain@8', `unsupported format version ${version} (this code reads ${SNAPSHOT_VERSION})`);
  const coinbaseMaturity = u32('coinbase maturity');
  const halvingInterval = u32('halving interval');
  const blockCount = u32('block count');
  const txCount = u32('transaction count');
  const utxoCount = u32('UTXO count');
  const mempoolCount = u32('mempool count');
  const blobLength = Number(dv.getBigUint64(at, true));
  at += 8;
  if (blockCount === 0) throw new DecodeError('chain', 'the chain has no blocks (not even genesis)');
  if (halvingInterval === 0) throw new DecodeError('chain', 'halving interval 0');
  need(blockCount * BLOCK_ENTRY + txCount * TX_ENTRY, 'the block and transaction tables');
  const blobStart = bytes.length - blobLength;
  if (blobLength > bytes.length || blobStart < at)
    throw new DecodeError('chain', `blob length ${blobLength} does not fit the ${bytes.length}-byte file`);

  const blocks: SnapshotBlock[] = new Array(blockCount);
  const txCounts = new Uint32Array(blockCount);
  for (let i = 0; i < blockCount; i++) {
    const hash = bytes.subarray(at, at + 32);
    at += 32;
    const offset = u32('block offset');
    const length = u32('block length');
    txCounts[i] = u32('block transaction count');
    if (offset + length > blobLength || length < 81)
      throw new DecodeError(`chain.blocks[${i}]`, `block bytes [${offset}, +${length}) outside the blob or too short`);
    blocks[i] = {
      hash,
      raw: bytes.subarray(blobStart + offset, blobStart + offset + length),
      txTable: bytes.subarray(0, 0),
    };
  }
  let seen = 0;
  for (let i = 0; i < blockCount; i++) {
    const b = blocks[i]!;
    const n = txCounts[i]!;
    if (n === 0 || seen + n > txCount)
      throw new DecodeError(
        `chain.blocks[${i}]`,
        `transaction count ${n} is inconsistent with the table (${txCount} in total)`,
      );
    seen += n;
    b.txTable = bytes.subarray(at, at + n * TX_ENTRY);
    for (let k = 0; k < n; k++, at += TX_ENTRY) {
      const off = dv.getUint32(at + 32, true);
      const len = dv.getUint32(at + 36, true);
      if (off < 81 || off + len > b.raw.length)
        throw new DecodeError(`chain.blocks[${i}].tx[${k}]`, `transaction bytes [${off}, +${len}) outside the block`);
    }
  }
  if (seen !== txCount)
    throw new DecodeError('chain', `the block table lists ${seen} transactions, the header says ${txCount}`);

  need(utxoCount * 53 + mempoolCount * 4, 'the UTXO and mempool tables');
  const utxos: SnapshotUtxo[] = new Array(utxoCount);
  for (let i = 0; i < utxoCount; i++) {
    need(32 + 4 + 4 + 1 + 8 + 4, `UTXO ${i}`);
    const txid = bytes.subarray(at, at + 32);
    at += 32;
    const vout = u32('vout');
    const height = u32('height');
    const coinbase = bytes[at++] === 1;
    const value = dv.getBigUint64(at, true);
    at += 8;
    const len = u32('script length');
    need(len, `UTXO ${i} script`);
    utxos[i] = { txid, vout, height, coinbase, value, script: bytes.subarray(at, at + len) };
    at += len;
  }
  const mempool: Uint8Array[] = new Array(mempoolCount);
  for (let i = 0; i < mempoolCount; i++) {
    const len = u32('mempool transaction length');
    need(len, `mempool transaction ${i}`);
    mempool[i] = bytes.subarray(at, at + len);
    at += len;
  }
  if (at !== blobStart)
    throw new DecodeError(`chain@${at}`, `${blobStart - at} unexpected bytes before the block data`);
  return { coinbaseMaturity, halvingInterval, blocks, utxos, mempool };
}
