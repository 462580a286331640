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
 */
import { equalBytes } from '../../protocol/bytes.js';
import { DecodeError } from '../../protocol/errors.js';
import type { BitcoinHeader, Transaction, TxOut } from '../../protocol/types.js';
import type { BitcoinBlockInfo, BitcoinChain, Utxo } from '../types.js';
import {
  decodeTransaction,
  encodeTransaction,
  txid as computeTxid,
  usesWitnessSerialization,
} from '../../protocol/bitcoin/tx.js';
import { decodeHeader, headerHash, HEADER_SIZE } from '../../protocol/bitcoin/header.js';
import { hashMeetsTarget, toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { decodeCompact } from '../../protocol/bitcoin/pow.js';
import { merkleBranchFor, txMerkleRoot } from '../../protocol/bitcoin/merkle.js';
import { NUMS_INTERNAL_KEY, p2trScriptPubkey, scriptPushInt } from '../../protocol/bridge/taproot.js';
import {
  BLOCK_VERSION,
  blockSubsidy,
  buildCoinbase,
  decodeBlock,
  encodeBlock,
  findWitnessCommitment,
  isCoinbase,
  MAX_BLOCK_WEIGHT,
  MAX_MONEY,
  mineHeader,
  REGTEST_BITS,
  txWeight,
} from './block.js';
import {
  BitcoinChainError,
  RPC_DESERIALIZATION_ERROR,
  RPC_VERIFY_ALREADY_IN_CHAIN,
  RPC_VERIFY_ERROR,
  TxRejectedError,
} from './errors.js';
import { decodeSnapshot, encodeSnapshot, TX_ENTRY, type ChainSnapshot, type SnapshotUtxo } from './persist.js';
import { isUnspendable } from './script.js';
import { verifyInputScripts } from './verify.js';
import { serveEsplora } from './esplora.js';

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
const GENESIS_MESSAGE = 'Alys Light devnet regtest genesis';
const DEFAULT_TAG = 'alys-light devnet';
const MAX_STANDARD_TX_WEIGHT = 400_000;
const LOCKTIME_THRESHOLD = 500_000_000;
const SEQUENCE_FINAL = 0xffffffff;
const SEQUENCE_DISABLE_FLAG = 0x80000000;
const SEQUENCE_TYPE_FLAG = 0x00400000;
const SEQUENCE_MASK = 0x0000ffff;
/** Space kept for the coinbase when filling a block. */
const COINBASE_WEIGHT_RESERVE = 4_000;

interface BlockRecord {
  height: number;
  hash: Uint8Array;
  raw: Uint8Array;
  /** 40 bytes per transaction: txid[32] | u32 LE offset in `raw` | u32 LE length (persist.ts) */
  txTable: Uint8Array;
  /** decoded on first use */
  header: BitcoinHeader | undefined;
  txs: Transaction[] | undefined;
}

const txCountOf = (rec: BlockRecord): number => rec.txTable.length / TX_ENTRY;
const txidAt = (rec: BlockRecord, i: number): Uint8Array => rec.txTable.subarray(i * TX_ENTRY, i * TX_ENTRY + 32);
function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
function txBytesAt(rec: BlockRecord, i: number): Uint8Array {
  const off = u32At(rec.txTable, i * TX_ENTRY + 32);
  return rec.raw.subarray(off, off + u32At(rec.txTable, i * TX_ENTRY + 36));
}
function buildTxTable(txids: readonly Uint8Array[], ranges: Uint32Array): Uint8Array {
  const table = new Uint8Array(txids.length * TX_ENTRY);
  const dv = new DataView(table.buffer);
  txids.forEach((id, i) => {
    table.set(id, i * TX_ENTRY);
    dv.setUint32(i * TX_ENTRY + 32, ranges[2 * i]!, true);
    dv.setUint32(i * TX_ENTRY + 36, ranges[2 * i + 1]!, true);
  });
  return table;
}

interface UtxoEntry {
  txid: Uint8Array;
  vout: number;
  output: TxOut;
  height: number;
  coinbase: boolean;
}

interface ChainState {
  coinbaseMaturity: number;
  halvingInterval: number;
}

/**
 * Map keys for hashes, outpoints and scripts: the bytes as a latin1 string (one char per byte,
 * made natively by Buffer; half the length of hex and much cheaper to build).
 */
function key(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
const outpointKey = (txidKey: string, vout: number): string => `${txidKey}:${vout}`;
const displayOutpoint = (txid: Uint8Array, vout: number): string => `${toDisplayHex(txid)}:${vout}`;

/** Core's FormatMoney: BTC with up to 8 decimals, at least 2. */
function formatMoney(sats: bigint): string {
  const neg = sats < 0n;
  const abs = neg ? -sats : sats;
  let frac = (abs % 100_000_000n).toString().padStart(8, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${neg ? '-' : ''}${abs / 100_000_000n}.${frac}`;
}

function checkPositiveInt(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new BitcoinChainError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

function cloneTx(tx: Transaction): Transaction {
  return {
    version: tx.version,
    lockTime: tx.lockTime,
    inputs: tx.inputs.map((i) => ({
      prevTxid: i.prevTxid.slice(),
      prevVout: i.prevVout,
      scriptSig: i.scriptSig.slice(),
      sequence: i.sequence,
      witness: i.witness.map((w) => w.slice()),
    })),
    outputs: tx.outputs.map((o) => ({ value: o.value, scriptPubkey: o.scriptPubkey.slice() })),
  };
}

/** A new regtest chain holding only its genesis block. */
export function createBitcoinChain(opts: BitcoinChainOptions = {}): RegtestChain {
  const state: ChainState = {
    coinbaseMaturity: checkPositiveInt(opts.coinbaseMaturity ?? 100, 'coinbaseMaturity', 0),
    halvingInterval: checkPositiveInt(opts.halvingInterval ?? 150, 'halvingInterval', 1),
  };
  const chain = buildChain(state, opts);
  chain.connectGenesis(opts.genesisTime ?? DEFAULT_GENESIS_TIME);
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

  const blocks: BlockRecord[] = [];
  // The hash and txid indexes cover blocks[0 .. indexed) and catch up on use, so loading a chain
  // does not pay for them; the UTXO set of a loaded chain is materialised on first use.
  const heightByHash = new Map<string, number>();
  let hashIndexed = 0;
  /** txid key -> height * 2^20 + position (a block holds fewer than 2^20 transactions) */
  const txIndex = new Map<string, number>();
  let txIndexed = 0;
  const utxoSet = new Map<string, UtxoEntry>();
  const utxosByScript = new Map<string, Set<string>>();
  let pendingUtxos: SnapshotUtxo[] | undefined;
  const mempoolTxs = new Map<string, MempoolEntry>();
  /** outpoint key -> txid hex of the mempool transaction spending it */
  const mempoolSpends = new Map<string, string>();
  /** address history (built lazily up to `historyHeight`): script hex -> flat [height, index, ...] ascending */
  const history = new Map<string, number[]>();
  let historyHeight = -1;
  const servers = new Set<{ close(): Promise<void> }>();

  // ------------------------------------------------------------ records

  function txsOf(rec: BlockRecord): Transaction[] {
    if (!rec.txs) {
      const txs: Transaction[] = new Array(txCountOf(rec));
      for (let i = 0; i < txs.length; i++) txs[i] = decodeTransaction(txBytesAt(rec, i), `block ${rec.height} tx ${i}`);
      rec.txs = txs;
    }
    return rec.txs;
  }

  function headerOf(rec: BlockRecord): BitcoinHeader {
    return (rec.header ??= decodeHeader(rec.raw.subarray(0, HEADER_SIZE), `block ${rec.height} header`));
  }

  function infoOf(rec: BlockRecord): BitcoinBlockInfo {
    return { height: rec.height, hash: rec.hash, header: headerOf(rec), transactions: txsOf(rec) };
  }

  function tipRecord(): BlockRecord {
    return blocks[blocks.length - 1]!;
  }

  function recordByHash(hash: Uint8Array): BlockRecord | undefined {
    if (!(hash instanceof Uint8Array) || hash.length !== 32) return undefined;
    for (; hashIndexed < blocks.length; hashIndexed++) heightByHash.set(key(blocks[hashIndexed]!.hash), hashIndexed);
    const h = heightByHash.get(key(hash));
    return h === undefined ? undefined : blocks[h];
  }

  /** [height, position] of a confirmed transaction. */
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

  // ------------------------------------------------------------ UTXO set

  /** The UTXO set, materialised from a loaded snapshot on first use. */
  function utxoMap(): Map<string, UtxoEntry> {
    if (pendingUtxos) {
      const list = pendingUtxos;
      pendingUtxos = undefined;
      for (const u of list)
        addUtxo({
          txid: u.txid,
          vout: u.vout,
          height: u.height,
          coinbase: u.coinbase,
          output: { value: u.value, scriptPubkey: u.script },
        });
    }
    return utxoSet;
  }

  function addUtxo(e: UtxoEntry): void {
    const outpoint = outpointKey(key(e.txid), e.vout);
    utxoSet.set(outpoint, e);
    const sk = key(e.output.scriptPubkey);
    let set = utxosByScript.get(sk);
    if (!set) utxosByScript.set(sk, (set = new Set()));
    set.add(outpoint);
  }

  /** Remove a UTXO; returns its value. */
  function spendUtxo(outpoint: string): bigint {
    const e = utxoMap().get(outpoint);
    if (!e) throw new BitcoinChainError('a block spends an output that is not in the UTXO set');
    utxoSet.delete(outpoint);
    const sk = key(e.output.scriptPubkey);
    const set = utxosByScript.get(sk);
    set?.delete(outpoint);
    if (set && set.size === 0) utxosByScript.delete(sk);
    return e.output.value;
  }

  /** Apply a block's transactions to the UTXO set, the tx index and the mempool; returns the fees. */
  function connect(rec: BlockRecord, txs: readonly Transaction[]): bigint {
    let fees = 0n;
    utxoMap();
    txs.forEach((tx, index) => {
      const id = txidAt(rec, index);
      const idHex = key(id);
      if (index > 0) {
        for (const input of tx.inputs) fees += spendUtxo(outpointKey(key(input.prevTxid), input.prevVout));
        for (const o of tx.outputs) fees -= o.value;
      }
      // Bitcoin's genesis coinbase is not spendable; ours neither.
      if (rec.height > 0)
        tx.outputs.forEach((output, vout) => {
          if (!isUnspendable(output.scriptPubkey))
            addUtxo({ txid: id, vout, output, height: rec.height, coinbase: index === 0 });
        });
      const pooled = mempoolTxs.get(idHex);
      if (pooled) {
        mempoolTxs.delete(idHex);
        for (const input of pooled.tx.inputs) mempoolSpends.delete(outpointKey(key(input.prevTxid), input.prevVout));
      }
    });
    return fees;
  }

  function appendRecord(rec: BlockRecord): void {
    blocks.push(rec);
  }

  // ------------------------------------------------------------ mining

  function nextBlockTime(parentTime: number): number {
    const t = opts.now ? Math.floor(opts.now()) : parentTime + 600;
    const time = Number.isFinite(t) ? Math.max(t, parentTime + 1) : parentTime + 1;
    if (time > 0xffffffff) throw new BitcoinChainError(`block time ${time} does not fit the header's u32`);
    return time;
  }

  function buildBlock(
    height: number,
    prevHash: Uint8Array,
    time: number,
    txs: Transaction[],
    version: number,
  ): BlockRecord {
    const txids = txs.map(computeTxid);
    const { header, bytes, hash } = mineHeader({
      version,
      prevBlockhash: prevHash,
      merkleRoot: txMerkleRoot(txids),
      time,
      bits: REGTEST_BITS,
      nonce: 0,
    });
    const { raw, txRanges } = encodeBlock(bytes, txs);
    return { height, hash, header, raw, txTable: buildTxTable(txids, txRanges), txs };
  }

  function connectGenesis(time: number): void {
    checkPositiveInt(time, 'genesisTime', 0);
    const coinbase = buildCoinbase({
      height: 0,
      value: 5_000_000_000n,
      payTo: p2trScriptPubkey(NUMS_INTERNAL_KEY),
      transactions: [],
      tag: new TextEncoder().encode(GENESIS_MESSAGE),
    });
    const rec = buildBlock(0, new Uint8Array(32), time, [coinbase], 1);
    appendRecord(rec);
    connect(rec, [coinbase]);
  }

  function mineOne(payTo: Uint8Array): BitcoinBlockInfo {
    const parent = tipRecord();
    const height = parent.height + 1;
    const selected: MempoolEntry[] = [];
    let weight = COINBASE_WEIGHT_RESERVE;
    let fees = 0n;
    // Acceptance order keeps parents before children; stop at the first that does not fit so
    // the selection stays a prefix (no child without its parent).
    for (const entry of mempoolTxs.values()) {
      if (weight + entry.weight > MAX_BLOCK_WEIGHT) break;
      selected.push(entry);
      weight += entry.weight;
      fees += entry.fee;
    }
    const txs = selected.map((e) => e.tx);
    const coinbase = buildCoinbase({
      height,
      value: blockSubsidy(height, state.halvingInterval) + fees,
      payTo,
      transactions: txs,
      tag,
    });
    const rec = buildBlock(
      height,
      parent.hash,
      nextBlockTime(headerOf(parent).time),
      [coinbase, ...txs],
      BLOCK_VERSION,
    );
    appendRecord(rec);
    connect(rec, rec.txs!);
    return infoOf(rec);
  }

  function mine(count: number, coinbaseScript?: Uint8Array): BitcoinBlockInfo[] {
    if (!Number.isSafeInteger(count) || count < 0)
      throw new BitcoinChainError(`mine: count must be a non-negative integer, got ${count}`);
    if (coinbaseScript !== undefined && !(coinbaseScript instanceof Uint8Array))
      throw new BitcoinChainError('mine: coinbaseScript must be the bytes of an output script');
    const payTo = (coinbaseScript ?? defaultCoinbaseScript).slice();
    const out: BitcoinBlockInfo[] = [];
    for (let i = 0; i < count; i++) out.push(mineOne(payTo));
    return out;
  }

  // ------------------------------------------------------------ mempool acceptance

  function decodeInput(input: Transaction | Uint8Array): { tx: Transaction; raw: Uint8Array } {
    try {
      if (input instanceof Uint8Array) {
        const tx = decodeTransaction(input, 'tx');
        return { tx, raw: encodeTransaction(tx) };
      }
      if (!input || typeof input !== 'object' || !Array.isArray(input.inputs) || !Array.isArray(input.outputs))
        throw new DecodeError('tx', 'expected a Transaction object or raw transaction bytes');
      const tx = cloneTx(input);
      const raw = encodeTransaction(tx);
      // What we store must read back as the same transaction (rust-bitcoin's codec rules).
      decodeTransaction(raw, 'tx');
      return { tx, raw };
    } catch (cause) {
      const msg = cause instanceof Error ? cause.message : String(cause);
      throw new TxRejectedError('TX decode failed', msg, RPC_DESERIALIZATION_ERROR);
    }
  }

  /** Core `CheckTransaction` plus the standardness rules that matter here. */
  function checkContextFree(tx: Transaction, weight: number, baseSize: number): void {
    if (tx.inputs.length === 0) throw new TxRejectedError('bad-txns-vin-empty', 'the transaction has no inputs');
    if (tx.outputs.length === 0) throw new TxRejectedError('bad-txns-vout-empty', 'the transaction has no outputs');
    if (tx.version < 1 || tx.version > 3)
      throw new TxRejectedError('version', `transaction version ${tx.version} is not standard (1..3)`);
    if (weight > MAX_STANDARD_TX_WEIGHT)
      throw new TxRejectedError('tx-size', `weight ${weight} exceeds the standard limit ${MAX_STANDARD_TX_WEIGHT}`);
    if (baseSize < 65)
      throw new TxRejectedError('tx-size-small', `the non-witness size is ${baseSize} bytes, below the minimum of 65`);
    let total = 0n;
    tx.outputs.forEach((o, i) => {
      if (o.value > MAX_MONEY)
        throw new TxRejectedError(
          'bad-txns-vout-toolarge',
          `output ${i} pays ${o.value} sats, more than 21 million BTC`,
        );
      total += o.value;
      if (total > MAX_MONEY)
        throw new TxRejectedError('bad-txns-txouttotal-toolarge', 'the outputs add up to more than 21 million BTC');
    });
    if (isCoinbase(tx)) throw new TxRejectedError('coinbase', 'a coinbase transaction cannot be broadcast');
    const seen = new Set<string>();
    tx.inputs.forEach((input, i) => {
      if (input.prevVout === 0xffffffff && input.prevTxid.every((b) => b === 0))
        throw new TxRejectedError('bad-txns-prevout-null', `input ${i} spends the null outpoint`);
      const outpoint = outpointKey(key(input.prevTxid), input.prevVout);
      if (seen.has(outpoint))
        throw new TxRejectedError(
          'bad-txns-inputs-duplicate',
          `input ${i} spends ${displayOutpoint(input.prevTxid, input.prevVout)} a second time`,
        );
      seen.add(outpoint);
    });
  }

  /** Core `IsFinalTx` for the next block. */
  function checkFinal(tx: Transaction, spendHeight: number): void {
    if (tx.lockTime === 0) return;
    const limit = tx.lockTime < LOCKTIME_THRESHOLD ? spendHeight : medianTimePast(tipRecord().height);
    if (tx.lockTime < limit) return;
    if (tx.inputs.every((i) => i.sequence === SEQUENCE_FINAL)) return;
    throw new TxRejectedError(
      'non-final',
      tx.lockTime < LOCKTIME_THRESHOLD
        ? `lock time is height ${tx.lockTime}; the next block is ${spendHeight}`
        : `lock time is ${tx.lockTime}; the median time past is ${limit}`,
    );
  }

  interface Coin {
    output: TxOut;
    /** confirmed height, or -1 for a mempool output */
    height: number;
    coinbase: boolean;
  }

  function findCoin(txidHex: string, vout: number): Coin | undefined {
    const confirmed = utxoMap().get(outpointKey(txidHex, vout));
    if (confirmed) return { output: confirmed.output, height: confirmed.height, coinbase: confirmed.coinbase };
    const parent = mempoolTxs.get(txidHex);
    const output = parent?.tx.outputs[vout];
    if (output && !isUnspendable(output.scriptPubkey)) return { output, height: -1, coinbase: false };
    return undefined;
  }

  /** BIP68 relative lock times (Core `CalculateSequenceLocks` / `EvaluateSequenceLocks`). */
  function checkSequenceLock(tx: Transaction, index: number, coin: Coin, spendHeight: number): void {
    if (tx.version < 2) return;
    const seq = tx.inputs[index]!.sequence;
    if (seq & SEQUENCE_DISABLE_FLAG) return;
    const value = seq & SEQUENCE_MASK;
    const coinHeight = coin.height < 0 ? spendHeight : coin.height;
    if (seq & SEQUENCE_TYPE_FLAG) {
      const tipMtp = medianTimePast(tipRecord().height);
      const coinTime = coin.height < 0 ? tipMtp : medianTimePast(Math.max(coinHeight - 1, 0));
      const minTime = coinTime + value * 512 - 1;
      if (minTime >= tipMtp)
        throw new TxRejectedError(
          'non-BIP68-final',
          `input ${index} has a relative time lock until median time ${minTime + 1}; it is ${tipMtp}`,
        );
    } else {
      const minHeight = coinHeight + value - 1;
      if (minHeight >= spendHeight)
        throw new TxRejectedError(
          'non-BIP68-final',
          `input ${index} has a relative lock of ${value} blocks; it can be mined at height ${minHeight + 1}`,
        );
    }
  }

  function broadcast(input: Transaction | Uint8Array): Uint8Array {
    const { tx, raw } = decodeInput(input);
    const id = computeTxid(tx);
    const idKey = key(id);
    if (mempoolTxs.has(idKey)) return id; // already accepted: sendrawtransaction answers with the txid
    const confirmedAt = findTx(idKey);
    if (confirmedAt)
      throw new TxRejectedError(
        'Transaction already in block chain',
        `${toDisplayHex(id)} is confirmed at height ${confirmedAt[0]}`,
        RPC_VERIFY_ALREADY_IN_CHAIN,
      );
    const { weight, vsize, baseSize } = txWeight(tx);
    checkContextFree(tx, weight, baseSize);
    const spendHeight = tipRecord().height + 1;
    checkFinal(tx, spendHeight);

    const prevouts: TxOut[] = [];
    let valueIn = 0n;
    tx.inputs.forEach((txin, i) => {
      const prevKey = key(txin.prevTxid);
      const spender = mempoolSpends.get(outpointKey(prevKey, txin.prevVout));
      if (spender !== undefined)
        throw new TxRejectedError(
          'txn-mempool-conflict',
          `input ${i} spends ${displayOutpoint(txin.prevTxid, txin.prevVout)}, which mempool transaction ${toDisplayHex(mempoolTxs.get(spender)!.txid)} already spends (replacement is not supported)`,
        );
      const coin = findCoin(prevKey, txin.prevVout);
      if (!coin) {
        const where =
          findTx(prevKey) || mempoolTxs.has(prevKey)
            ? 'is already spent or does not exist'
            : 'refers to an unknown transaction';
        throw new TxRejectedError(
          'bad-txns-inputs-missingorspent',
          `input ${i} (${displayOutpoint(txin.prevTxid, txin.prevVout)}) ${where}`,
          RPC_VERIFY_ERROR,
        );
      }
      if (coin.coinbase && spendHeight - coin.height < state.coinbaseMaturity)
        throw new TxRejectedError(
          'bad-txns-premature-spend-of-coinbase',
          `tried to spend coinbase at depth ${spendHeight - coin.height} (input ${i}; coinbase outputs need ${state.coinbaseMaturity} confirmations, so mine ${state.coinbaseMaturity - (spendHeight - coin.height)} more block(s))`,
        );
      checkSequenceLock(tx, i, coin, spendHeight);
      prevouts.push(coin.output);
      valueIn += coin.output.value;
    });
    const valueOut = tx.outputs.reduce((a, o) => a + o.value, 0n);
    if (valueIn < valueOut)
      throw new TxRejectedError(
        'bad-txns-in-belowout',
        `value in (${formatMoney(valueIn)}) < value out (${formatMoney(valueOut)})`,
      );
    const fee = valueIn - valueOut;
    const minFee = BigInt(Math.ceil(vsize * minRelayFeeRate));
    if (fee < minFee)
      throw new TxRejectedError(
        'min relay fee not met',
        `${fee} < ${minFee} (${vsize} vB at ${minRelayFeeRate} sat/vB)`,
      );
    verifyInputScripts(tx, prevouts);

    mempoolTxs.set(idKey, { txid: id, tx, raw, fee, weight, vsize, prevouts });
    for (const txin of tx.inputs) mempoolSpends.set(outpointKey(key(txin.prevTxid), txin.prevVout), idKey);
    return id.slice();
  }

  // ------------------------------------------------------------ queries

  function toUtxo(e: UtxoEntry): RegtestUtxo {
    return {
      txid: e.txid.slice(),
      vout: e.vout,
      output: { value: e.output.value, scriptPubkey: e.output.scriptPubkey.slice() },
      height: e.height,
      coinbase: e.coinbase,
    };
  }

  function utxos(scriptPubkey: Uint8Array): RegtestUtxo[] {
    if (!(scriptPubkey instanceof Uint8Array))
      throw new BitcoinChainError('utxos: expected the bytes of an output script');
    const set = utxoMap();
    const outpoints = utxosByScript.get(key(scriptPubkey));
    if (!outpoints) return [];
    const out: RegtestUtxo[] = [];
    for (const outpoint of outpoints) if (!mempoolSpends.has(outpoint)) out.push(toUtxo(set.get(outpoint)!));
    return out.sort((a, b) => a.height - b.height || compareBytes(a.txid, b.txid) || a.vout - b.vout);
  }

  function spendableUtxos(scriptPubkey: Uint8Array): RegtestUtxo[] {
    const next = tipRecord().height + 1;
    return utxos(scriptPubkey).filter((u) => !u.coinbase || next - u.height >= state.coinbaseMaturity);
  }

  function findTxBytes(id: Uint8Array): [number, number] | undefined {
    return id instanceof Uint8Array && id.length === 32 ? findTx(key(id)) : undefined;
  }

  function locate(id: Uint8Array): TxLocation | undefined {
    const at = findTxBytes(id);
    return at ? { block: infoOf(blocks[at[0]]!), index: at[1] } : undefined;
  }

  function transaction(id: Uint8Array): { tx: Transaction; block?: BitcoinBlockInfo } | undefined {
    if (!(id instanceof Uint8Array) || id.length !== 32) return undefined;
    const at = findTxBytes(id);
    if (at) {
      const rec = blocks[at[0]]!;
      return { tx: txsOf(rec)[at[1]]!, block: infoOf(rec) };
    }
    const pooled = mempoolTxs.get(key(id));
    return pooled ? { tx: pooled.tx } : undefined;
  }

  function rawTransaction(id: Uint8Array): Uint8Array | undefined {
    if (!(id instanceof Uint8Array) || id.length !== 32) return undefined;
    const at = findTxBytes(id);
    if (at) return txBytesAt(blocks[at[0]]!, at[1]).slice();
    return mempoolTxs.get(key(id))?.raw.slice();
  }

  function output(id: Uint8Array, vout: number): TxOut | undefined {
    const at = findTxBytes(id);
    if (at) return txsOf(blocks[at[0]]!)[at[1]]!.outputs[vout];
    return mempoolTxs.get(key(id))?.tx.outputs[vout];
  }

  function txidsOf(rec: BlockRecord): Uint8Array[] {
    const out: Uint8Array[] = new Array(txCountOf(rec));
    for (let i = 0; i < out.length; i++) out[i] = txidAt(rec, i).slice();
    return out;
  }

  function merkleProof(id: Uint8Array): { height: number; branch: Uint8Array[]; index: number } | undefined {
    const at = findTxBytes(id);
    if (!at) return undefined;
    return { height: at[0], branch: merkleBranchFor(txidsOf(blocks[at[0]]!), at[1]), index: at[1] };
  }

  function indexHistoryTo(height: number): void {
    const note = (scriptKey: string, h: number, index: number): void => {
      let list = history.get(scriptKey);
      if (!list) history.set(scriptKey, (list = []));
      if (list.length >= 2 && list[list.length - 2] === h && list[list.length - 1] === index) return;
      list.push(h, index);
    };
    for (let h = historyHeight + 1; h <= height; h++) {
      const txs = txsOf(blocks[h]!);
      txs.forEach((tx, index) => {
        if (index > 0)
          for (const input of tx.inputs) {
            const prev = output(input.prevTxid, input.prevVout);
            if (prev) note(key(prev.scriptPubkey), h, index);
          }
        for (const o of tx.outputs) note(key(o.scriptPubkey), h, index);
      });
    }
    historyHeight = Math.max(historyHeight, height);
  }

  function historyOf(scriptPubkey: Uint8Array): ReturnType<RegtestChain['history']> {
    if (!(scriptPubkey instanceof Uint8Array))
      throw new BitcoinChainError('history: expected the bytes of an output script');
    indexHistoryTo(tipRecord().height);
    const flat = history.get(key(scriptPubkey)) ?? [];
    const confirmed: { txid: Uint8Array; height: number; index: number }[] = [];
    for (let i = flat.length - 2; i >= 0; i -= 2) {
      const height = flat[i]!;
      const index = flat[i + 1]!;
      confirmed.push({ txid: txidAt(blocks[height]!, index).slice(), height, index });
    }
    const pooled: Uint8Array[] = [];
    for (const e of mempoolTxs.values()) {
      const touches =
        e.tx.outputs.some((o) => equalBytes(o.scriptPubkey, scriptPubkey)) ||
        e.prevouts.some((p) => equalBytes(p.scriptPubkey, scriptPubkey));
      if (touches) pooled.push(e.txid.slice());
    }
    return { confirmed, mempool: pooled.reverse() };
  }

  // ------------------------------------------------------------ persistence

  function exportChain(): Uint8Array {
    const snapshotUtxos: SnapshotUtxo[] =
      pendingUtxos ??
      [...utxoSet.values()].map((u) => ({
        txid: u.txid,
        vout: u.vout,
        height: u.height,
        coinbase: u.coinbase,
        value: u.output.value,
        script: u.output.scriptPubkey,
      }));
    return encodeSnapshot({
      coinbaseMaturity: state.coinbaseMaturity,
      halvingInterval: state.halvingInterval,
      blocks: blocks.map((b) => ({ hash: b.hash, raw: b.raw, txTable: b.txTable })),
      utxos: snapshotUtxos,
      mempool: [...mempoolTxs.values()].map((e) => e.raw),
    });
  }

  /**
   * Take over a snapshot (whose checksum decodeSnapshot has verified). Also checked here: every
   * header's parent field equals the indexed hash of the block before, and the tip header hashes
   * to the indexed tip hash. Hashing every header, the merkle roots, txids and the UTXO set are
   * left to `verify` (a full replay).
   */
  function load(snap: ChainSnapshot, verify: boolean): void {
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
      if (verify) {
        const hash = headerHash(b.raw.subarray(0, HEADER_SIZE));
        if (!equalBytes(hash, b.hash))
          throw new DecodeError(
            `chain.blocks[${height}]`,
            `header hashes to ${toDisplayHex(hash)}, the index says ${toDisplayHex(b.hash)}`,
          );
        verifyStoredBlock(rec);
        appendRecord(rec);
        const fees = connect(rec, rec.txs!);
        const paid = rec.txs![0]!.outputs.reduce((a, o) => a + o.value, 0n);
        if (height > 0 && paid > blockSubsidy(height, state.halvingInterval) + fees)
          throw new DecodeError(
            `chain.blocks[${height}]`,
            `the coinbase pays ${paid} sats, more than the subsidy plus fees`,
          );
      } else appendRecord(rec);
    });
    const tip = tipRecord();
    const tipHash = headerHash(tip.raw.subarray(0, HEADER_SIZE));
    if (!equalBytes(tipHash, tip.hash))
      throw new DecodeError(
        'chain.blocks',
        `the tip header hashes to ${toDisplayHex(tipHash)}, the index says ${toDisplayHex(tip.hash)}`,
      );
    if (verify) {
      if (utxoSet.size !== snap.utxos.length)
        throw new DecodeError(
          'chain.utxos',
          `replaying the blocks gives ${utxoSet.size} UTXOs, the file stores ${snap.utxos.length}`,
        );
      for (const u of snap.utxos) {
        const e = utxoSet.get(outpointKey(key(u.txid), u.vout));
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
    } else pendingUtxos = snap.utxos;
    for (const raw of snap.mempool) {
      try {
        broadcast(raw);
      } catch {
        // no longer valid against the loaded chain: dropped, as a node restart would
      }
    }
  }

  // ------------------------------------------------------------ API

  const api: RegtestChain = {
    coinbaseMaturity: state.coinbaseMaturity,
    halvingInterval: state.halvingInterval,
    tipHeight: () => tipRecord().height,
    tip: () => infoOf(tipRecord()),
    block(height) {
      if (!Number.isSafeInteger(height) || height < 0 || height >= blocks.length) return undefined;
      return infoOf(blocks[height]!);
    },
    blockByHash(hash) {
      const rec = recordByHash(hash);
      return rec ? infoOf(rec) : undefined;
    },
    confirmations(hash) {
      const rec = recordByHash(hash);
      return rec ? tipRecord().height - rec.height + 1 : 0;
    },
    rawBlock(hash) {
      return recordByHash(hash)?.raw.slice();
    },
    mine,
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
    mempool: () => [...mempoolTxs.values()],
    mempoolEntry: (id) => (id instanceof Uint8Array && id.length === 32 ? mempoolTxs.get(key(id)) : undefined),
    merkleProof,
    history: historyOf,
    medianTimePast,
    exportChain,
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

  return { api, connectGenesis, load };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
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
