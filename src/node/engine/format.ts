/**
 * JSON-RPC result objects (geth's shapes: QUANTITY hex numbers, lowercase DATA) built only from
 * verified values, so that what the provider returns is exactly what was verified: nothing an endpoint
 * sent is passed through unchecked (e.g. `totalDifficulty`, which no header commits to, is left out).
 */
import { toHex, type Hex } from '../../protocol/bytes.js';
import {
  encodeExecutionHeader,
  encodeWithdrawal,
  type RpcBlockHeader,
  type RpcLog,
  type RpcReceipt,
} from '../../protocol/execution/index.js';
import { encodeBytes, encodeList } from '../../protocol/execution/rlp.js';
import type { ExecutionPayloadCapella } from '../../protocol/types.js';
import { quantity } from './transactions.js';
import type { RpcBlockJson, RpcLogJson, RpcReceiptJson, RpcTransactionJson } from './types.js';

export function formatLog(log: RpcLog): RpcLogJson {
  return {
    address: toHex(log.address),
    topics: log.topics.map(toHex),
    data: toHex(log.data),
    blockNumber: quantity(log.blockNumber),
    transactionHash: toHex(log.transactionHash),
    transactionIndex: quantity(log.transactionIndex),
    blockHash: toHex(log.blockHash),
    logIndex: quantity(log.logIndex),
    removed: false,
  };
}

/** A receipt from its verified consensus part plus the values derived from the verified transaction. */
export function formatReceipt(
  r: RpcReceipt,
  derived: { from: Uint8Array; to: Uint8Array | null; contractAddress: Uint8Array | null; effectiveGasPrice: bigint },
): RpcReceiptJson {
  return {
    blockHash: toHex(r.blockHash),
    blockNumber: quantity(r.blockNumber),
    contractAddress: derived.contractAddress === null ? null : toHex(derived.contractAddress),
    cumulativeGasUsed: quantity(r.cumulativeGasUsed),
    effectiveGasPrice: quantity(derived.effectiveGasPrice),
    from: toHex(derived.from),
    gasUsed: quantity(r.gasUsed),
    logs: r.logs.map(formatLog),
    logsBloom: toHex(r.logsBloom),
    status: r.status === 1 ? '0x1' : '0x0',
    to: derived.to === null ? null : toHex(derived.to),
    transactionHash: toHex(r.transactionHash),
    transactionIndex: quantity(r.transactionIndex),
    type: quantity(r.type),
  };
}

/**
 * geth's `size`: the byte length of rlp([header, transactions, uncles = [], withdrawals]) (a legacy
 * transaction is embedded as its RLP list, a typed one as a byte string).
 */
export function blockSize(
  header: RpcBlockHeader,
  rawTransactions: readonly Uint8Array[],
  payload: ExecutionPayloadCapella,
): number {
  const txs = rawTransactions.map((raw) => (raw[0]! >= 0xc0 ? raw : encodeBytes(raw)));
  const items = [encodeExecutionHeader(header), encodeList(txs), encodeList([])];
  if (header.withdrawalsRoot !== undefined)
    items.push(encodeList(payload.withdrawals.map((w, i) => encodeWithdrawal(w, `withdrawals[${i}]`))));
  return encodeList(items).length;
}

export function formatBlock(
  header: RpcBlockHeader,
  payload: ExecutionPayloadCapella,
  transactions: Hex[] | RpcTransactionJson[],
  size: number,
): RpcBlockJson {
  const out: RpcBlockJson = {
    difficulty: quantity(header.difficulty),
    extraData: toHex(header.extraData),
    gasLimit: quantity(header.gasLimit),
    gasUsed: quantity(header.gasUsed),
    hash: toHex(header.hash),
    logsBloom: toHex(header.logsBloom),
    miner: toHex(header.beneficiary),
    mixHash: toHex(header.mixHash),
    nonce: toHex(header.nonce),
    number: quantity(header.number),
    parentHash: toHex(header.parentHash),
    receiptsRoot: toHex(header.receiptsRoot),
    sha3Uncles: toHex(header.ommersHash),
    size: quantity(size),
    stateRoot: toHex(header.stateRoot),
    timestamp: quantity(header.timestamp),
    transactions,
    transactionsRoot: toHex(header.transactionsRoot),
    uncles: [],
  };
  if (header.baseFeePerGas !== undefined) out.baseFeePerGas = quantity(header.baseFeePerGas);
  if (header.withdrawalsRoot !== undefined) {
    out.withdrawalsRoot = toHex(header.withdrawalsRoot);
    out.withdrawals = payload.withdrawals.map((w) => ({
      index: quantity(w.index),
      validatorIndex: quantity(w.validatorIndex),
      address: w.address.toLowerCase() as Hex,
      amount: quantity(w.amount),
    }));
  }
  if (header.blobGasUsed !== undefined) out.blobGasUsed = quantity(header.blobGasUsed);
  if (header.excessBlobGas !== undefined) out.excessBlobGas = quantity(header.excessBlobGas);
  if (header.parentBeaconBlockRoot !== undefined) out.parentBeaconBlockRoot = toHex(header.parentBeaconBlockRoot);
  if (header.requestsHash !== undefined) out.requestsHash = toHex(header.requestsHash);
  return out;
}
