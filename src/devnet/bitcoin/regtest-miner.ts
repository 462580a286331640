/**
 * Mining the regtest chain: the genesis block, then blocks of the mempool's transactions in
 * acceptance order (as many as fit) under a coinbase paying the subsidy plus fees, at regtest
 * difficulty, on the chain's clock (`now`, or parent + 600 s; strictly increasing).
 */
import { txMerkleRoot } from '../../protocol/bitcoin/merkle.js';
import { txid as computeTxid } from '../../protocol/bitcoin/tx.js';
import { NUMS_INTERNAL_KEY, p2trScriptPubkey } from '../../protocol/bridge/taproot.js';
import type { Transaction } from '../../protocol/types.js';
import type { BitcoinBlockInfo } from '../types.js';
import { type BlockRecord, buildTxTable, headerOf, infoOf } from './block-record.js';
import {
  BLOCK_VERSION,
  blockSubsidy,
  buildCoinbase,
  encodeBlock,
  MAX_BLOCK_WEIGHT,
  mineHeader,
  REGTEST_BITS,
} from './block.js';
import type { ChainIndex } from './chain-index.js';
import { BitcoinChainError } from './errors.js';
import type { Mempool, MempoolEntry } from './mempool.js';

const GENESIS_MESSAGE = 'Alys Light devnet regtest genesis';
/** Space kept for the coinbase when filling a block. */
const COINBASE_WEIGHT_RESERVE = 4_000;

export interface RegtestMinerDeps {
  index: ChainIndex;
  mempool: Mempool;
  /** Apply a mined block to the UTXO set and the mempool. */
  connect(rec: BlockRecord, txs: readonly Transaction[]): unknown;
  halvingInterval: number;
  /** Clock in seconds (block times); undefined: parent time + 600. */
  now: (() => number) | undefined;
  /** Text pushed after the BIP34 height in every coinbase. */
  tag: Uint8Array;
  /** Script `mine()` pays when none is given. */
  defaultCoinbaseScript: Uint8Array;
}

export interface RegtestMiner {
  /** Mine and connect the genesis block (the chain must be empty; `time` a checked u32). */
  connectGenesis(time: number): void;
  /** Mine `count` blocks including the mempool; the coinbase pays `coinbaseScript`. */
  mine(count: number, coinbaseScript?: Uint8Array): BitcoinBlockInfo[];
}

export function createRegtestMiner(deps: RegtestMinerDeps): RegtestMiner {
  const { index, mempool, connect, halvingInterval, tag, defaultCoinbaseScript } = deps;

  function nextBlockTime(parentTime: number): number {
    const t = deps.now ? Math.floor(deps.now()) : parentTime + 600;
    const time = Number.isFinite(t) ? Math.max(t, parentTime + 1) : parentTime + 1;
    if (time > 0xffffffff) throw new BitcoinChainError(`block time ${time} does not fit the header's u32`);
    return time;
  }

  function connectGenesis(time: number): void {
    const coinbase = buildCoinbase({
      height: 0,
      value: 5_000_000_000n,
      payTo: p2trScriptPubkey(NUMS_INTERNAL_KEY),
      transactions: [],
      tag: new TextEncoder().encode(GENESIS_MESSAGE),
    });
    const rec = buildBlock(0, new Uint8Array(32), time, [coinbase], 1);
    index.append(rec);
    connect(rec, [coinbase]);
  }

  function mineOne(payTo: Uint8Array): BitcoinBlockInfo {
    const parent = index.tip();
    const height = parent.height + 1;
    const selected: MempoolEntry[] = [];
    let weight = COINBASE_WEIGHT_RESERVE;
    let fees = 0n;
    // Acceptance order keeps parents before children; stop at the first that does not fit so
    // the selection stays a prefix (no child without its parent).
    for (const entry of mempool.entries()) {
      if (weight + entry.weight > MAX_BLOCK_WEIGHT) break;
      selected.push(entry);
      weight += entry.weight;
      fees += entry.fee;
    }
    const txs = selected.map((e) => e.tx);
    const coinbase = buildCoinbase({
      height,
      value: blockSubsidy(height, halvingInterval) + fees,
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
    index.append(rec);
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

  return { connectGenesis, mine };
}

/** Mine a block of `txs` on `prevHash` at regtest difficulty. */
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
