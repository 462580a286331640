/**
 * The devnet's Bitcoin regtest chain: real-format blocks mined at regtest difficulty on a
 * deterministic clock, a UTXO set with coinbase maturity, and a mempool that validates like
 * Bitcoin Core's `sendrawtransaction` for the spend types the devnet uses (see verify.ts).
 *
 * Genesis is our own regtest-like block, not Bitcoin's. Same as Bitcoin's regtest genesis: block
 * version 1, null parent, bits 0x207fffff, one coinbase paying 50 BTC that is NOT in the UTXO
 * set, default time 1296688602. Different: the coinbase scriptSig is a BIP34-style height push
 * (OP_0) followed by the text "Alys Light devnet regtest genesis" (not The Times headline), the
 * coinbase is a version-2 transaction paying an unspendable P2TR (the BIP341 NUMS key) instead
 * of Satoshi's P2PK, and the nonce is whatever our miner finds. So its hash is not
 * 0f9188f1...2206 (it is 12058a79...abfb with the default time).
 *
 * Block times come from `opts.now()` (seconds), forced strictly increasing (at least parent + 1);
 * without `now`, each block is 600 s after its parent. Nothing ever waits.
 *
 * Not modelled: reorgs (one chain, blocks are only appended), RBF, package relay, sigop limits,
 * block-level re-validation of transactions (blocks are built from the validated mempool).
 *
 * This file composes the chain from its parts and connects blocks: the blocks and what finds things
 * in them (chain-index.ts, over block-record.ts), the UTXO set (utxo-set.ts), the mempool
 * (mempool.ts) and what it accepts (policy.ts), mining (regtest-miner.ts), and export/load
 * (chain-snapshot.ts).
 */
import { merkleBranchFor } from '../../protocol/bitcoin/merkle.js';
import { NUMS_INTERNAL_KEY, p2trScriptPubkey } from '../../protocol/bridge/taproot.js';
import type { Transaction, TxOut } from '../../protocol/types.js';
import type { BitcoinBlockInfo, BitcoinChain, Utxo } from '../types.js';
import { type BlockRecord, infoOf, key, outpointKey, txBytesAt, txidAt, txidsOf, txsOf } from './block-record.js';
import { createChainIndex } from './chain-index.js';
import { exportSnapshot, loadSnapshot, type SnapshotParts } from './chain-snapshot.js';
import { BitcoinChainError } from './errors.js';
import { serveEsplora } from './esplora.js';
import { createMempool, type MempoolEntry } from './mempool.js';
import { decodeSnapshot, type ChainSnapshot } from './persist.js';
import { checkForMempool, type PolicyContext } from './policy.js';
import { isUnspendable } from './script.js';
import { createRegtestMiner } from './regtest-miner.js';
import { createUtxoSet, type UtxoEntry } from './utxo-set.js';

export type { MempoolEntry } from './mempool.js';

export interface BitcoinChainOptions {
  /** Clock in seconds (block times). Default: parent time + 600 per block. */
  now?: () => number;
  /** Genesis block time. Default 1296688602 (Bitcoin regtest's). */
  genesisTime?: number;
  /** Confirmations before a coinbase output may be spent (Bitcoin: 100). */
  coinbaseMaturity?: number;
  /** Blocks per subsidy halving (regtest: 150). */
  halvingInterval?: number;
  /** Minimum fee rate for the mempool, sat/vB (Core's default min relay fee: 1). */
  minRelayFeeRate?: number;
  /** Script `mine()` pays when none is given. Default: an unspendable P2TR (NUMS key). */
  coinbaseScript?: Uint8Array;
  /** Text pushed after the BIP34 height in every coinbase. */
  coinbaseTag?: string;
}

/** A UTXO with its coinbase flag (the maturity rule needs it). */
export interface RegtestUtxo extends Utxo {
  coinbase: boolean;
}

export interface TxLocation {
  block: BitcoinBlockInfo;
  /** position in the block */
  index: number;
}

export interface RegtestChain extends BitcoinChain {
  readonly coinbaseMaturity: number;
  readonly halvingInterval: number;
  tip(): BitcoinBlockInfo;
  utxos(scriptPubkey: Uint8Array): RegtestUtxo[];
  /** UTXOs a transaction in the next block may spend: confirmed, mature, not spent in the mempool. */
  spendableUtxos(scriptPubkey: Uint8Array): RegtestUtxo[];
  /** Mempool transactions in acceptance order. */
  mempool(): MempoolEntry[];
  mempoolEntry(txid: Uint8Array): MempoolEntry | undefined;
  /** Where a confirmed transaction is. */
  locate(txid: Uint8Array): TxLocation | undefined;
  /** Consensus bytes of a transaction (confirmed or in the mempool). */
  rawTransaction(txid: Uint8Array): Uint8Array | undefined;
  /** The output `txid:vout` (confirmed or mempool; spent or not), if it exists. */
  output(txid: Uint8Array, vout: number): TxOut | undefined;
  /** Electrum-style inclusion proof of a confirmed transaction. */
  merkleProof(txid: Uint8Array): { height: number; branch: Uint8Array[]; index: number } | undefined;
  /**
   * Transactions that pay to or spend from `scriptPubkey`: confirmed ones newest first
   * (height descending, then position descending) and mempool ones newest first.
   */
  history(scriptPubkey: Uint8Array): {
    confirmed: { txid: Uint8Array; height: number; index: number }[];
    mempool: Uint8Array[];
  };
  /** Median time past of the block at `height` (Core `GetMedianTimePast`). */
  medianTimePast(height: number): number;
  /** Raw block bytes. */
  rawBlock(hash: Uint8Array): Uint8Array | undefined;
  /** Persist: raw blocks + index + UTXO set + mempool (see persist.ts). */
  exportChain(): Uint8Array;
  /** Close the Esplora servers started with `serve`. */
  close(): Promise<void>;
}

export const DEFAULT_GENESIS_TIME = 1_296_688_602;
const DEFAULT_TAG = 'alys-light devnet';

interface ChainState {
  coinbaseMaturity: number;
  halvingInterval: number;
}

function checkPositiveInt(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new BitcoinChainError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/** A new regtest chain holding only its genesis block. */
export function createBitcoinChain(opts: BitcoinChainOptions = {}): RegtestChain {
  const state: ChainState = {
    coinbaseMaturity: checkPositiveInt(opts.coinbaseMaturity ?? 100, 'coinbaseMaturity', 0),
    halvingInterval: checkPositiveInt(opts.halvingInterval ?? 150, 'halvingInterval', 1),
  };
  const chain = buildChain(state, opts);
  chain.connectGenesis(checkPositiveInt(opts.genesisTime ?? DEFAULT_GENESIS_TIME, 'genesisTime', 0));
  return chain.api;
}

export interface ImportOptions
  extends Omit<BitcoinChainOptions, 'coinbaseMaturity' | 'halvingInterval' | 'genesisTime'> {
  /**
   * Re-derive everything from the raw blocks instead of trusting the index: decode every block,
   * check header linkage, proof of work, merkle roots, BIP34 heights, rebuild the UTXO set and
   * compare it with the stored one. Slower (decodes every transaction).
   */
  verify?: boolean;
}

/**
 * Load a chain written by `exportChain()`: checksum, table bounds, header linkage and the tip
 * hash are always checked; `verify: true` also replays every block (see {@link ImportOptions}).
 * The hash/txid indexes and the UTXO set are built on first use. Mempool transactions are
 * re-validated (which builds the txid index); ones no longer valid are dropped.
 */
export function importChain(bytes: Uint8Array, opts: ImportOptions = {}): RegtestChain {
  const snap = decodeSnapshot(bytes);
  const chain = buildChain({ coinbaseMaturity: snap.coinbaseMaturity, halvingInterval: snap.halvingInterval }, opts);
  chain.load(snap, opts.verify === true);
  return chain.api;
}

interface ChainInternals {
  api: RegtestChain;
  connectGenesis(time: number): void;
  load(snap: ChainSnapshot, verify: boolean): void;
}

function buildChain(state: ChainState, opts: BitcoinChainOptions): ChainInternals {
  const minRelayFeeRate = opts.minRelayFeeRate ?? 1;
  if (!(minRelayFeeRate >= 0)) throw new BitcoinChainError(`minRelayFeeRate must be >= 0, got ${minRelayFeeRate}`);
  const defaultCoinbaseScript = (opts.coinbaseScript ?? p2trScriptPubkey(NUMS_INTERNAL_KEY)).slice();
  const tag = new TextEncoder().encode(opts.coinbaseTag ?? DEFAULT_TAG);
  // consensus: the coinbase scriptSig is 2..100 bytes (height push up to 5 bytes + this push)
  if (tag.length > 90)
    throw new BitcoinChainError(`coinbaseTag is ${tag.length} bytes; at most 90 fit in a coinbase scriptSig`);

  const index = createChainIndex();
  const utxoSet = createUtxoSet();
  const mempool = createMempool();
  const servers = new Set<{ close(): Promise<void> }>();
  const policy: PolicyContext = {
    coinbaseMaturity: state.coinbaseMaturity,
    minRelayFeeRate,
    tipHeight: () => index.tip().height,
    medianTimePast: index.medianTimePast,
    findTx: index.findTx,
    utxos: utxoSet,
    mempool,
  };
  const miner = createRegtestMiner({
    index,
    mempool,
    connect,
    halvingInterval: state.halvingInterval,
    now: opts.now,
    tag,
    defaultCoinbaseScript,
  });
  const snapshotParts: SnapshotParts = {
    coinbaseMaturity: state.coinbaseMaturity,
    halvingInterval: state.halvingInterval,
    index,
    utxos: utxoSet,
    mempool,
    connect,
    broadcast,
  };

  /** Apply a block's transactions to the UTXO set and the mempool; returns the fees. */
  function connect(rec: BlockRecord, txs: readonly Transaction[]): bigint {
    let fees = 0n;
    txs.forEach((tx, i) => {
      const id = txidAt(rec, i);
      if (i > 0) {
        for (const input of tx.inputs) fees += utxoSet.spend(outpointKey(key(input.prevTxid), input.prevVout));
        for (const o of tx.outputs) fees -= o.value;
      }
      // Bitcoin's genesis coinbase is not spendable; ours neither.
      if (rec.height > 0)
        tx.outputs.forEach((output, vout) => {
          if (!isUnspendable(output.scriptPubkey))
            utxoSet.add({ txid: id, vout, output, height: rec.height, coinbase: i === 0 });
        });
      mempool.removeConfirmed(key(id));
    });
    return fees;
  }

  function broadcast(input: Transaction | Uint8Array): Uint8Array {
    const { id, idKey, entry } = checkForMempool(input, policy);
    if (entry === undefined) return id; // already accepted: sendrawtransaction answers with the txid
    mempool.add(idKey, entry);
    return id.slice();
  }

  // ------------------------------------------------------------ queries

  function utxos(scriptPubkey: Uint8Array): RegtestUtxo[] {
    if (!(scriptPubkey instanceof Uint8Array))
      throw new BitcoinChainError('utxos: expected the bytes of an output script');
    const outpoints = utxoSet.outpointsOf(key(scriptPubkey));
    if (!outpoints) return [];
    const out: RegtestUtxo[] = [];
    for (const outpoint of outpoints)
      if (mempool.spenderOf(outpoint) === undefined) out.push(toUtxo(utxoSet.get(outpoint)!));
    return out.sort((a, b) => a.height - b.height || compareBytes(a.txid, b.txid) || a.vout - b.vout);
  }

  function spendableUtxos(scriptPubkey: Uint8Array): RegtestUtxo[] {
    const next = index.tip().height + 1;
    return utxos(scriptPubkey).filter((u) => !u.coinbase || next - u.height >= state.coinbaseMaturity);
  }

  /** [height, position] of a confirmed transaction, for any argument. */
  function findTxBytes(id: Uint8Array): [number, number] | undefined {
    return id instanceof Uint8Array && id.length === 32 ? index.findTx(key(id)) : undefined;
  }

  function locate(id: Uint8Array): TxLocation | undefined {
    const at = findTxBytes(id);
    return at ? { block: infoOf(index.at(at[0])!), index: at[1] } : undefined;
  }

  function transaction(id: Uint8Array): { tx: Transaction; block?: BitcoinBlockInfo } | undefined {
    if (!(id instanceof Uint8Array) || id.length !== 32) return undefined;
    const at = findTxBytes(id);
    if (at) {
      const rec = index.at(at[0])!;
      return { tx: txsOf(rec)[at[1]]!, block: infoOf(rec) };
    }
    const pooled = mempool.get(key(id));
    return pooled ? { tx: pooled.tx } : undefined;
  }

  function rawTransaction(id: Uint8Array): Uint8Array | undefined {
    if (!(id instanceof Uint8Array) || id.length !== 32) return undefined;
    const at = findTxBytes(id);
    if (at) return txBytesAt(index.at(at[0])!, at[1]).slice();
    return mempool.get(key(id))?.raw.slice();
  }

  function output(id: Uint8Array, vout: number): TxOut | undefined {
    const at = findTxBytes(id);
    if (at) return txsOf(index.at(at[0])!)[at[1]]!.outputs[vout];
    return mempool.get(key(id))?.tx.outputs[vout];
  }

  function merkleProof(id: Uint8Array): { height: number; branch: Uint8Array[]; index: number } | undefined {
    const at = findTxBytes(id);
    if (!at) return undefined;
    return { height: at[0], branch: merkleBranchFor(txidsOf(index.at(at[0])!), at[1]), index: at[1] };
  }

  function history(scriptPubkey: Uint8Array): ReturnType<RegtestChain['history']> {
    if (!(scriptPubkey instanceof Uint8Array))
      throw new BitcoinChainError('history: expected the bytes of an output script');
    const confirmed = index.history(scriptPubkey, output);
    return { confirmed, mempool: mempool.touching(scriptPubkey).reverse() };
  }

  // ------------------------------------------------------------ API

  const api: RegtestChain = {
    coinbaseMaturity: state.coinbaseMaturity,
    halvingInterval: state.halvingInterval,
    tipHeight: () => index.tip().height,
    tip: () => infoOf(index.tip()),
    block(height) {
      if (!Number.isSafeInteger(height) || height < 0 || height >= index.count()) return undefined;
      return infoOf(index.at(height)!);
    },
    blockByHash(hash) {
      const rec = index.byHash(hash);
      return rec ? infoOf(rec) : undefined;
    },
    confirmations(hash) {
      const rec = index.byHash(hash);
      return rec ? index.tip().height - rec.height + 1 : 0;
    },
    rawBlock(hash) {
      return index.byHash(hash)?.raw.slice();
    },
    mine: miner.mine,
    broadcast,
    utxos,
    spendableUtxos,
    transaction,
    locate,
    rawTransaction,
    output(id, vout) {
      if (!(id instanceof Uint8Array) || id.length !== 32 || !Number.isInteger(vout) || vout < 0) return undefined;
      return output(id, vout);
    },
    mempool: () => [...mempool.entries()],
    mempoolEntry: (id) => (id instanceof Uint8Array && id.length === 32 ? mempool.get(key(id)) : undefined),
    merkleProof,
    history,
    medianTimePast: index.medianTimePast,
    exportChain: () => exportSnapshot(snapshotParts),
    async serve({ port }) {
      const server = await serveEsplora(api, { port });
      const handle = {
        url: server.url,
        close: async () => {
          servers.delete(handle);
          await server.close();
        },
      };
      servers.add(handle);
      return handle;
    },
    async close() {
      await Promise.all([...servers].map((s) => s.close()));
    },
  };

  return {
    api,
    connectGenesis: miner.connectGenesis,
    load: (snap, verify) => loadSnapshot(snapshotParts, snap, verify),
  };
}

function toUtxo(e: UtxoEntry): RegtestUtxo {
  return {
    txid: e.txid.slice(),
    vout: e.vout,
    output: { value: e.output.value, scriptPubkey: e.output.scriptPubkey.slice() },
    height: e.height,
    coinbase: e.coinbase,
  };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
