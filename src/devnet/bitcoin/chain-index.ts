/**
 * The regtest chain's blocks and what finds things in them: blocks by height and by hash,
 * confirmed transactions by txid, and the transactions touching an output script (address
 * history). The hash, txid and address indexes catch up lazily on use, so loading a chain does not
 * pay for them.
 */
import type { TxOut } from '../../protocol/types.js';
import { BitcoinChainError } from './errors.js';
import { type BlockRecord, headerOf, key, txCountOf, txidAt, txsOf } from './block-record.js';

/** Confirmed transactions touching a script, newest first (height descending, then position). */
export type ConfirmedHistory = { txid: Uint8Array; height: number; index: number }[];

export interface ChainIndex {
  /** Append the next block (its height must be the block count). */
  append(rec: BlockRecord): void;
  /** Blocks 0..tip in order (read-only). */
  records(): readonly BlockRecord[];
  count(): number;
  tip(): BlockRecord;
  /** The block at `height`, if any (no bounds check beyond the array's). */
  at(height: number): BlockRecord | undefined;
  byHash(hash: Uint8Array): BlockRecord | undefined;
  /** [height, position] of a confirmed transaction, by txid key. */
  findTx(txidKey: string): [number, number] | undefined;
  /** Median time past of the block at `height` (Core `GetMedianTimePast`). */
  medianTimePast(height: number): number;
  /**
   * Confirmed transactions that pay to or spend from `scriptPubkey`. `prevOutput` finds the output
   * an input spends.
   */
  history(
    scriptPubkey: Uint8Array,
    prevOutput: (txid: Uint8Array, vout: number) => TxOut | undefined,
  ): ConfirmedHistory;
}

export function createChainIndex(): ChainIndex {
  const blocks: BlockRecord[] = [];
  const heightByHash = new Map<string, number>();
  let hashIndexed = 0;
  /** txid key -> height * 2^20 + position (a block holds fewer than 2^20 transactions) */
  const txIndex = new Map<string, number>();
  let txIndexed = 0;
  /** address history (built lazily up to `historyHeight`): script key -> flat [height, index, ...] ascending */
  const scriptHistory = new Map<string, number[]>();
  let historyHeight = -1;

  function byHash(hash: Uint8Array): BlockRecord | undefined {
    if (!(hash instanceof Uint8Array) || hash.length !== 32) return undefined;
    for (; hashIndexed < blocks.length; hashIndexed++) heightByHash.set(key(blocks[hashIndexed]!.hash), hashIndexed);
    const h = heightByHash.get(key(hash));
    return h === undefined ? undefined : blocks[h];
  }

  function findTx(txidKey: string): [number, number] | undefined {
    for (; txIndexed < blocks.length; txIndexed++) {
      const rec = blocks[txIndexed]!;
      for (let i = 0, n = txCountOf(rec); i < n; i++) txIndex.set(key(txidAt(rec, i)), txIndexed * 0x100000 + i);
    }
    const v = txIndex.get(txidKey);
    return v === undefined ? undefined : [Math.floor(v / 0x100000), v % 0x100000];
  }

  function medianTimePast(height: number): number {
    if (!Number.isSafeInteger(height) || height < 0 || height >= blocks.length)
      throw new BitcoinChainError(`no block at height ${height}`);
    const times: number[] = [];
    for (let h = Math.max(0, height - 10); h <= height; h++) times.push(headerOf(blocks[h]!).time);
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  }

  function indexHistoryTo(height: number, prevOutput: (txid: Uint8Array, vout: number) => TxOut | undefined): void {
    const note = (scriptKey: string, h: number, index: number): void => {
      let list = scriptHistory.get(scriptKey);
      if (!list) scriptHistory.set(scriptKey, (list = []));
      if (list.length >= 2 && list[list.length - 2] === h && list[list.length - 1] === index) return;
      list.push(h, index);
    };
    for (let h = historyHeight + 1; h <= height; h++) {
      const txs = txsOf(blocks[h]!);
      txs.forEach((tx, index) => {
        if (index > 0)
          for (const input of tx.inputs) {
            const prev = prevOutput(input.prevTxid, input.prevVout);
            if (prev) note(key(prev.scriptPubkey), h, index);
          }
        for (const o of tx.outputs) note(key(o.scriptPubkey), h, index);
      });
    }
    historyHeight = Math.max(historyHeight, height);
  }

  function history(
    scriptPubkey: Uint8Array,
    prevOutput: (txid: Uint8Array, vout: number) => TxOut | undefined,
  ): ConfirmedHistory {
    indexHistoryTo(blocks.length - 1, prevOutput);
    const flat = scriptHistory.get(key(scriptPubkey)) ?? [];
    const confirmed: ConfirmedHistory = [];
    for (let i = flat.length - 2; i >= 0; i -= 2) {
      const height = flat[i]!;
      const index = flat[i + 1]!;
      confirmed.push({ txid: txidAt(blocks[height]!, index).slice(), height, index });
    }
    return confirmed;
  }

  return {
    append: (rec) => {
      blocks.push(rec);
    },
    records: () => blocks,
    count: () => blocks.length,
    tip: () => blocks[blocks.length - 1]!,
    at: (height) => blocks[height],
    byHash,
    findTx,
    medianTimePast,
    history,
  };
}
