/**
 * The regtest chain's mempool: accepted transactions in acceptance order (which keeps parents
 * before children) and which outpoint each spends. What may enter is policy.ts's call.
 */
import { equalBytes } from '../../protocol/bytes.js';
import type { Transaction, TxOut } from '../../protocol/types.js';
import { key, outpointKey } from './block-record.js';

export interface MempoolEntry {
  /** internal order */
  txid: Uint8Array;
  tx: Transaction;
  /** consensus encoding (witness form when it has witnesses) */
  raw: Uint8Array;
  fee: bigint;
  weight: number;
  vsize: number;
  /** the outputs its inputs spend, in input order */
  prevouts: TxOut[];
}

export interface Mempool {
  /** Entries in acceptance order. */
  entries(): IterableIterator<MempoolEntry>;
  /** By txid key (see block-record.ts `key`). */
  get(txidKey: string): MempoolEntry | undefined;
  has(txidKey: string): boolean;
  /** The txid key of the entry spending an outpoint key, if any. */
  spenderOf(outpoint: string): string | undefined;
  add(txidKey: string, entry: MempoolEntry): void;
  /** Forget a transaction that a block confirmed (no-op if it was not in the mempool). */
  removeConfirmed(txidKey: string): void;
  /** Txids (copies) of the entries paying to or spending from `scriptPubkey`, in acceptance order. */
  touching(scriptPubkey: Uint8Array): Uint8Array[];
}

export function createMempool(): Mempool {
  const txs = new Map<string, MempoolEntry>();
  /** outpoint key -> txid key of the mempool transaction spending it */
  const spends = new Map<string, string>();

  return {
    entries: () => txs.values(),
    get: (txidKey) => txs.get(txidKey),
    has: (txidKey) => txs.has(txidKey),
    spenderOf: (outpoint) => spends.get(outpoint),
    add(txidKey, entry) {
      txs.set(txidKey, entry);
      for (const txin of entry.tx.inputs) spends.set(outpointKey(key(txin.prevTxid), txin.prevVout), txidKey);
    },
    removeConfirmed(txidKey) {
      const pooled = txs.get(txidKey);
      if (!pooled) return;
      txs.delete(txidKey);
      for (const input of pooled.tx.inputs) spends.delete(outpointKey(key(input.prevTxid), input.prevVout));
    },
    touching(scriptPubkey) {
      const out: Uint8Array[] = [];
      for (const e of txs.values()) {
        const touches =
          e.tx.outputs.some((o) => equalBytes(o.scriptPubkey, scriptPubkey)) ||
          e.prevouts.some((p) => equalBytes(p.scriptPubkey, scriptPubkey));
        if (touches) out.push(e.txid.slice());
      }
      return out;
    },
  };
}
