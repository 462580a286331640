/**
 * The regtest chain to and from its persisted form (persist.ts's format): export the blocks, UTXO
 * set and mempool; load them back with linkage and tip checks, or with `verify` a full replay of
 * every block (proof of work, merkle roots, txids, BIP34 heights, coinbase amounts, the UTXO set).
 */
import { buildCoinbase, blockSubsidy, decodeBlock, findWitnessCommitment, isCoinbase, REGTEST_BITS } from './block.js';
import { equalBytes } from '../../protocol/bytes.js';
import { DecodeError } from '../../protocol/errors.js';
import { headerHash, HEADER_SIZE } from '../../protocol/bitcoin/header.js';
import { hashMeetsTarget, toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { txMerkleRoot } from '../../protocol/bitcoin/merkle.js';
import { decodeCompact } from '../../protocol/bitcoin/pow.js';
import { txid as computeTxid, usesWitnessSerialization } from '../../protocol/bitcoin/tx.js';
import { scriptPushInt } from '../../protocol/bridge/taproot.js';
import type { Transaction } from '../../protocol/types.js';
import { type BlockRecord, buildTxTable, displayOutpoint, key, outpointKey } from './block-record.js';
import type { ChainIndex } from './chain-index.js';
import type { Mempool } from './mempool.js';
import { encodeSnapshot, type ChainSnapshot } from './persist.js';
import type { UtxoSet } from './utxo-set.js';

/** The chain's parts that export and load read and fill. */
export interface SnapshotParts {
  coinbaseMaturity: number;
  halvingInterval: number;
  index: ChainIndex;
  utxos: UtxoSet;
  mempool: Mempool;
  /** Apply a block to the UTXO set and the mempool; returns its fees. */
  connect(rec: BlockRecord, txs: readonly Transaction[]): bigint;
  /** Offer a transaction to the mempool (throws if policy rejects it). */
  broadcast(raw: Uint8Array): unknown;
}

/** Persist: raw blocks + index + UTXO set + mempool (see persist.ts). */
export function exportSnapshot(parts: SnapshotParts): Uint8Array {
  return encodeSnapshot({
    coinbaseMaturity: parts.coinbaseMaturity,
    halvingInterval: parts.halvingInterval,
    blocks: parts.index.records().map((b) => ({ hash: b.hash, raw: b.raw, txTable: b.txTable })),
    utxos: parts.utxos.toSnapshot(),
    mempool: [...parts.mempool.entries()].map((e) => e.raw),
  });
}

/**
 * Take over a snapshot (whose checksum decodeSnapshot has verified). Also checked here: every
 * header's parent field equals the indexed hash of the block before, and the tip header hashes
 * to the indexed tip hash. Hashing every header, the merkle roots, txids and the UTXO set are
 * left to `verify` (a full replay).
 */
export function loadSnapshot(parts: SnapshotParts, snap: ChainSnapshot, verify: boolean): void {
  const zero = new Uint8Array(32);
  snap.blocks.forEach((b, height) => {
    const parent = height === 0 ? zero : snap.blocks[height - 1]!.hash;
    // header bytes 4..36 are prev_blockhash
    for (let i = 0; i < 32; i++)
      if (b.raw[4 + i] !== parent[i])
        throw new DecodeError(`chain.blocks[${height}]`, `block ${height} does not link to block ${height - 1}`);
    const rec: BlockRecord = {
      height,
      hash: b.hash,
      raw: b.raw,
      txTable: b.txTable,
      header: undefined,
      txs: undefined,
    };
    if (verify) replayBlock(parts, rec);
    else parts.index.append(rec);
  });
  const tip = parts.index.tip();
  const tipHash = headerHash(tip.raw.subarray(0, HEADER_SIZE));
  if (!equalBytes(tipHash, tip.hash))
    throw new DecodeError(
      'chain.blocks',
      `the tip header hashes to ${toDisplayHex(tipHash)}, the index says ${toDisplayHex(tip.hash)}`,
    );
  if (verify) compareUtxos(parts.utxos, snap);
  else parts.utxos.setPending(snap.utxos);
  for (const raw of snap.mempool) {
    try {
      parts.broadcast(raw);
    } catch {
      // no longer valid against the loaded chain: dropped, as a node restart would
    }
  }
}

/** `verify`: check a stored block in full, append and connect it, and check its coinbase amount. */
function replayBlock(parts: SnapshotParts, rec: BlockRecord): void {
  const { height } = rec;
  const hash = headerHash(rec.raw.subarray(0, HEADER_SIZE));
  if (!equalBytes(hash, rec.hash))
    throw new DecodeError(
      `chain.blocks[${height}]`,
      `header hashes to ${toDisplayHex(hash)}, the index says ${toDisplayHex(rec.hash)}`,
    );
  verifyStoredBlock(rec);
  parts.index.append(rec);
  const fees = parts.connect(rec, rec.txs!);
  const paid = rec.txs![0]!.outputs.reduce((a, o) => a + o.value, 0n);
  if (height > 0 && paid > blockSubsidy(height, parts.halvingInterval) + fees)
    throw new DecodeError(`chain.blocks[${height}]`, `the coinbase pays ${paid} sats, more than the subsidy plus fees`);
}

/** `verify`: the UTXO set the replay built must be the stored one. */
function compareUtxos(utxos: UtxoSet, snap: ChainSnapshot): void {
  if (utxos.size() !== snap.utxos.length)
    throw new DecodeError(
      'chain.utxos',
      `replaying the blocks gives ${utxos.size()} UTXOs, the file stores ${snap.utxos.length}`,
    );
  for (const u of snap.utxos) {
    const e = utxos.get(outpointKey(key(u.txid), u.vout));
    if (
      !e ||
      e.height !== u.height ||
      e.coinbase !== u.coinbase ||
      e.output.value !== u.value ||
      !equalBytes(e.output.scriptPubkey, u.script)
    )
      throw new DecodeError(
        'chain.utxos',
        `stored UTXO ${displayOutpoint(u.txid, u.vout)} differs from the one the blocks create`,
      );
  }
}

/** Full check of a stored block (import with `verify`): PoW, merkle root, txids, coinbase height. */
function verifyStoredBlock(rec: BlockRecord): void {
  const where = `chain.blocks[${rec.height}]`;
  const decoded = decodeBlock(rec.raw, `block ${rec.height}`);
  const header = decoded.header;
  const { target } = decodeCompact(header.bits);
  if (header.bits !== REGTEST_BITS || !hashMeetsTarget(rec.hash, target))
    throw new DecodeError(where, 'the header does not meet the regtest target');
  const txids = decoded.transactions.map(computeTxid);
  if (!equalBytes(buildTxTable(txids, decoded.txRanges), rec.txTable))
    throw new DecodeError(where, 'the stored txids or transaction offsets do not match the block');
  if (!equalBytes(txMerkleRoot(txids), header.merkleRoot))
    throw new DecodeError(where, 'the merkle root does not match the transactions');
  const coinbase = decoded.transactions[0]!;
  if (!isCoinbase(coinbase)) throw new DecodeError(where, 'the first transaction is not a coinbase');
  const push = coinbase.inputs[0]!.scriptSig;
  const expectHeight = scriptPushInt(rec.height);
  if (!expectHeight.every((b, i) => push[i] === b))
    throw new DecodeError(where, `the coinbase does not start with the BIP34 height ${rec.height}`);
  const others = decoded.transactions.slice(1);
  if (others.some(usesWitnessSerialization)) {
    const rebuilt = buildCoinbase({
      height: rec.height,
      value: 0n,
      payTo: new Uint8Array(0),
      transactions: others,
      tag: new Uint8Array(0),
    });
    const want = findWitnessCommitment(rebuilt)!;
    const got = findWitnessCommitment(coinbase);
    if (!got || !equalBytes(got, want))
      throw new DecodeError(where, 'the block has witness transactions but no valid witness commitment');
  }
  rec.txs = decoded.transactions;
}
