/**
 * What the regtest mempool accepts, as Bitcoin Core's `sendrawtransaction` decides it for the spend
 * types the devnet uses: decoding, `CheckTransaction` and the standardness rules that matter here,
 * finality (`IsFinalTx`), BIP68 relative lock times, inputs that exist, are unspent and mature,
 * amounts, the minimum relay fee and the input scripts (verify.ts). Rejections are TxRejectedError
 * with Core's reason and RPC code.
 */
import { toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { decodeTransaction, encodeTransaction, txid as computeTxid } from '../../protocol/bitcoin/tx.js';
import { DecodeError } from '../../protocol/errors.js';
import type { Transaction, TxOut } from '../../protocol/types.js';
import { displayOutpoint, key, outpointKey } from './block-record.js';
import { isCoinbase, MAX_MONEY, txWeight } from './block.js';
import { RPC_DESERIALIZATION_ERROR, RPC_VERIFY_ALREADY_IN_CHAIN, RPC_VERIFY_ERROR, TxRejectedError } from './errors.js';
import type { Mempool, MempoolEntry } from './mempool.js';
import { isUnspendable } from './script.js';
import type { UtxoSet } from './utxo-set.js';
import { verifyInputScripts } from './verify.js';

const MAX_STANDARD_TX_WEIGHT = 400_000;
const LOCKTIME_THRESHOLD = 500_000_000;
const SEQUENCE_FINAL = 0xffffffff;
const SEQUENCE_DISABLE_FLAG = 0x80000000;
const SEQUENCE_TYPE_FLAG = 0x00400000;
const SEQUENCE_MASK = 0x0000ffff;

/** What acceptance reads of the chain (nothing here changes it). */
export interface PolicyContext {
  coinbaseMaturity: number;
  /** sat/vB */
  minRelayFeeRate: number;
  tipHeight(): number;
  medianTimePast(height: number): number;
  /** [height, position] of a confirmed transaction, by txid key. */
  findTx(txidKey: string): [number, number] | undefined;
  utxos: UtxoSet;
  mempool: Mempool;
}

/**
 * Check a transaction for the mempool. Returns its txid and key, and the entry to add, or no entry
 * when the mempool already holds it (sendrawtransaction then answers with the txid).
 */
export function checkForMempool(
  input: Transaction | Uint8Array,
  ctx: PolicyContext,
): { id: Uint8Array; idKey: string; entry: MempoolEntry | undefined } {
  const { tx, raw } = decodeInput(input);
  const id = computeTxid(tx);
  const idKey = key(id);
  if (ctx.mempool.has(idKey)) return { id, idKey, entry: undefined };
  const confirmedAt = ctx.findTx(idKey);
  if (confirmedAt)
    throw new TxRejectedError(
      'Transaction already in block chain',
      `${toDisplayHex(id)} is confirmed at height ${confirmedAt[0]}`,
      RPC_VERIFY_ALREADY_IN_CHAIN,
    );
  const { weight, vsize, baseSize } = txWeight(tx);
  checkContextFree(tx, weight, baseSize);
  const spendHeight = ctx.tipHeight() + 1;
  checkFinal(tx, spendHeight, ctx);
  const { prevouts, valueIn } = checkInputs(tx, spendHeight, ctx);
  const valueOut = tx.outputs.reduce((a, o) => a + o.value, 0n);
  if (valueIn < valueOut)
    throw new TxRejectedError(
      'bad-txns-in-belowout',
      `value in (${formatMoney(valueIn)}) < value out (${formatMoney(valueOut)})`,
    );
  const fee = valueIn - valueOut;
  const minFee = BigInt(Math.ceil(vsize * ctx.minRelayFeeRate));
  if (fee < minFee)
    throw new TxRejectedError(
      'min relay fee not met',
      `${fee} < ${minFee} (${vsize} vB at ${ctx.minRelayFeeRate} sat/vB)`,
    );
  verifyInputScripts(tx, prevouts);
  return { id, idKey, entry: { txid: id, tx, raw, fee, weight, vsize, prevouts } };
}

/** Every input: not spent in the mempool, existing, mature, past its relative lock. */
function checkInputs(tx: Transaction, spendHeight: number, ctx: PolicyContext): { prevouts: TxOut[]; valueIn: bigint } {
  const prevouts: TxOut[] = [];
  let valueIn = 0n;
  tx.inputs.forEach((txin, i) => {
    const prevKey = key(txin.prevTxid);
    const spender = ctx.mempool.spenderOf(outpointKey(prevKey, txin.prevVout));
    if (spender !== undefined)
      throw new TxRejectedError(
        'txn-mempool-conflict',
        `input ${i} spends ${displayOutpoint(txin.prevTxid, txin.prevVout)}, which mempool transaction ${toDisplayHex(ctx.mempool.get(spender)!.txid)} already spends (replacement is not supported)`,
      );
    const coin = findCoin(prevKey, txin.prevVout, ctx);
    if (!coin) {
      const where =
        ctx.findTx(prevKey) || ctx.mempool.has(prevKey)
          ? 'is already spent or does not exist'
          : 'refers to an unknown transaction';
      throw new TxRejectedError(
        'bad-txns-inputs-missingorspent',
        `input ${i} (${displayOutpoint(txin.prevTxid, txin.prevVout)}) ${where}`,
        RPC_VERIFY_ERROR,
      );
    }
    if (coin.coinbase && spendHeight - coin.height < ctx.coinbaseMaturity)
      throw new TxRejectedError(
        'bad-txns-premature-spend-of-coinbase',
        `tried to spend coinbase at depth ${spendHeight - coin.height} (input ${i}; coinbase outputs need ${ctx.coinbaseMaturity} confirmations, so mine ${ctx.coinbaseMaturity - (spendHeight - coin.height)} more block(s))`,
      );
    checkSequenceLock(tx, i, coin, spendHeight, ctx);
    prevouts.push(coin.output);
    valueIn += coin.output.value;
  });
  return { prevouts, valueIn };
}

/** Decode raw bytes, or copy a Transaction object; either way also its consensus bytes. */
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
      throw new TxRejectedError('bad-txns-vout-toolarge', `output ${i} pays ${o.value} sats, more than 21 million BTC`);
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
function checkFinal(tx: Transaction, spendHeight: number, ctx: PolicyContext): void {
  if (tx.lockTime === 0) return;
  const limit = tx.lockTime < LOCKTIME_THRESHOLD ? spendHeight : ctx.medianTimePast(ctx.tipHeight());
  if (tx.lockTime < limit) return;
  if (tx.inputs.every((i) => i.sequence === SEQUENCE_FINAL)) return;
  throw new TxRejectedError(
    'non-final',
    tx.lockTime < LOCKTIME_THRESHOLD
      ? `lock time is height ${tx.lockTime}; the next block is ${spendHeight}`
      : `lock time is ${tx.lockTime}; the median time past is ${limit}`,
  );
}

/** An output an input may spend. */
interface Coin {
  output: TxOut;
  /** confirmed height, or -1 for a mempool output */
  height: number;
  coinbase: boolean;
}

/** The unspent confirmed output, or the spendable output of a mempool transaction. */
function findCoin(txidKey: string, vout: number, ctx: PolicyContext): Coin | undefined {
  const confirmed = ctx.utxos.get(outpointKey(txidKey, vout));
  if (confirmed) return { output: confirmed.output, height: confirmed.height, coinbase: confirmed.coinbase };
  const parent = ctx.mempool.get(txidKey);
  const output = parent?.tx.outputs[vout];
  if (output && !isUnspendable(output.scriptPubkey)) return { output, height: -1, coinbase: false };
  return undefined;
}

/** BIP68 relative lock times (Core `CalculateSequenceLocks` / `EvaluateSequenceLocks`). */
function checkSequenceLock(tx: Transaction, index: number, coin: Coin, spendHeight: number, ctx: PolicyContext): void {
  if (tx.version < 2) return;
  const seq = tx.inputs[index]!.sequence;
  if (seq & SEQUENCE_DISABLE_FLAG) return;
  const value = seq & SEQUENCE_MASK;
  const coinHeight = coin.height < 0 ? spendHeight : coin.height;
  if (seq & SEQUENCE_TYPE_FLAG) {
    const tipMtp = ctx.medianTimePast(ctx.tipHeight());
    const coinTime = coin.height < 0 ? tipMtp : ctx.medianTimePast(Math.max(coinHeight - 1, 0));
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

/** Core's FormatMoney: BTC with up to 8 decimals, at least 2. */
function formatMoney(sats: bigint): string {
  const neg = sats < 0n;
  const abs = neg ? -sats : sats;
  let frac = (abs % 100_000_000n).toString().padStart(8, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${neg ? '-' : ''}${abs / 100_000_000n}.${frac}`;
}
