/**
 * What the verified reads keep between calls, all keyed by EL block hash or transaction hash: immutable
 * data, so always safe to reuse. Values derived from a verified payload (its transactions' hashes,
 * decoded transactions, recovered senders, transaction and withdrawal roots) and receipts that passed
 * verification against a payload.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { parseHex, toHex, type Hex } from '../../../protocol/bytes.js';
import {
  decodeRawTransaction,
  transactionsRoot,
  withdrawalsRoot,
  type DecodedTransaction,
  type RpcReceipt,
} from '../../../protocol/execution/index.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import { lower } from './context.js';

/** Small LRU over a Map (insertion order = recency). */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  delete(key: K): void {
    this.map.delete(key);
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
}

/** What the engine derives from a verified payload's transactions, once per block. */
export interface BlockTxs {
  raw: Uint8Array[];
  hashes: Uint8Array[];
  indexByHash: Map<Hex, number>;
  /** Decoded on first use (see ReadCache.decodedTx). */
  decoded: (DecodedTransaction | undefined)[];
}

/** The roots a payload's transactions and withdrawals commit to. */
export interface PayloadRoots {
  transactionsRoot: Uint8Array;
  withdrawalsRoot: Uint8Array;
}

export interface ReadCache {
  /** The raw transactions of a payload with their hashes. */
  blockTxs(payload: ExecutionPayloadCapella): BlockTxs;
  /** Transaction `i` of a block, decoded. Throws DecodeError (trusted data: not an endpoint's fault). */
  decodedTx(txs: BlockTxs, i: number): DecodedTransaction;
  /**
   * Load sender recovery (noble's secp256k1, imported on first use): every read that shows or checks
   * a sender awaits this before it calls {@link senderOf} (reads.ts does, per method).
   */
  loadSenderRecovery(): Promise<void>;
  /** The sender recovered from a transaction's signature; throws unless {@link loadSenderRecovery} has resolved. */
  senderOf(tx: DecodedTransaction): Uint8Array;
  payloadRoots(payload: ExecutionPayloadCapella): PayloadRoots;
  /** Receipts already verified against this payload, if any. */
  verifiedReceipts(payload: ExecutionPayloadCapella): RpcReceipt[] | undefined;
  /** Keep receipts that were verified against this payload. */
  storeVerifiedReceipts(payload: ExecutionPayloadCapella, receipts: RpcReceipt[]): void;
}

export function createReadCache(): ReadCache {
  const txsCache = new Lru<Hex, BlockTxs>(256);
  const receiptsCache = new Lru<Hex, RpcReceipt[]>(128);
  const senderCache = new Lru<Hex, Uint8Array>(8192);
  const rootCache = new Lru<Hex, PayloadRoots>(256);

  function blockTxs(payload: ExecutionPayloadCapella): BlockTxs {
    const key = lower(payload.blockHash);
    let t = txsCache.get(key);
    if (t === undefined) {
      const raw = payload.transactions.map((tx, i) =>
        parseHex(tx, `payload.transactions[${i}]`, { prefix: 'required' }),
      );
      const hashes = raw.map((r) => keccak_256(r));
      t = { raw, hashes, indexByHash: new Map(hashes.map((h, i) => [toHex(h), i])), decoded: new Array(raw.length) };
      txsCache.set(key, t);
    }
    return t;
  }

  function decodedTx(t: BlockTxs, i: number): DecodedTransaction {
    let d = t.decoded[i];
    if (d === undefined) d = t.decoded[i] = decodeRawTransaction(t.raw[i]!, `transactions[${i}]`);
    return d;
  }

  let recoverSender: ((tx: DecodedTransaction) => Uint8Array) | undefined;
  let loading: Promise<void> | undefined;
  function loadSenderRecovery(): Promise<void> {
    loading ??= import('../../../protocol/execution/sender.js').then(
      (m) => void (recoverSender = m.recoverSender),
      (e: unknown) => {
        loading = undefined;
        throw e;
      },
    );
    return loading;
  }

  function senderOf(tx: DecodedTransaction): Uint8Array {
    const key = toHex(tx.hash);
    let s = senderCache.get(key);
    if (s === undefined) {
      if (!recoverSender) throw new Error('internal: sender recovery used before loadSenderRecovery()');
      s = recoverSender(tx);
      senderCache.set(key, s);
    }
    return s;
  }

  function payloadRoots(payload: ExecutionPayloadCapella): PayloadRoots {
    const key = lower(payload.blockHash);
    let r = rootCache.get(key);
    if (r === undefined) {
      r = {
        transactionsRoot: transactionsRoot(blockTxs(payload).raw),
        withdrawalsRoot: withdrawalsRoot(payload.withdrawals),
      };
      rootCache.set(key, r);
    }
    return r;
  }

  return {
    blockTxs,
    decodedTx,
    loadSenderRecovery,
    senderOf,
    payloadRoots,
    verifiedReceipts: (payload) => receiptsCache.get(lower(payload.blockHash)),
    storeVerifiedReceipts: (payload, receipts) => receiptsCache.set(lower(payload.blockHash), receipts),
  };
}
