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
import { toQuantity } from '../../protocol/execution/json.js';
import { encodeBytes, encodeList } from '../../protocol/execution/rlp.js';
import { effectiveGasPrice, type DecodedTransaction } from '../../protocol/execution/raw-transaction.js';
import type { ExecutionPayloadCapella } from '../../protocol/types.js';
import type { RpcBlockJson, RpcLogJson, RpcReceiptJson, RpcTransactionJson } from './types.js';

export function formatLog(log: RpcLog): RpcLogJson {
  return {
    address: toHex(log.address),
    topics: log.topics.map(toHex),
    data: toHex(log.data),
    blockNumber: toQuantity(log.blockNumber),
    transactionHash: toHex(log.transactionHash),
    transactionIndex: toQuantity(log.transactionIndex),
    blockHash: toHex(log.blockHash),
    logIndex: toQuantity(log.logIndex),
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
    blockNumber: toQuantity(r.blockNumber),
    contractAddress: derived.contractAddress === null ? null : toHex(derived.contractAddress),
    cumulativeGasUsed: toQuantity(r.cumulativeGasUsed),
    effectiveGasPrice: toQuantity(derived.effectiveGasPrice),
    from: toHex(derived.from),
    gasUsed: toQuantity(r.gasUsed),
    logs: r.logs.map(formatLog),
    logsBloom: toHex(r.logsBloom),
    status: r.status === 1 ? '0x1' : '0x0',
    to: derived.to === null ? null : toHex(derived.to),
    transactionHash: toHex(r.transactionHash),
    transactionIndex: toQuantity(r.transactionIndex),
    type: toQuantity(r.type),
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
    difficulty: toQuantity(header.difficulty),
    extraData: toHex(header.extraData),
    gasLimit: toQuantity(header.gasLimit),
    gasUsed: toQuantity(header.gasUsed),
    hash: toHex(header.hash),
    logsBloom: toHex(header.logsBloom),
    miner: toHex(header.beneficiary),
    mixHash: toHex(header.mixHash),
    nonce: toHex(header.nonce),
    number: toQuantity(header.number),
    parentHash: toHex(header.parentHash),
    receiptsRoot: toHex(header.receiptsRoot),
    sha3Uncles: toHex(header.ommersHash),
    size: toQuantity(size),
    stateRoot: toHex(header.stateRoot),
    timestamp: toQuantity(header.timestamp),
    transactions,
    transactionsRoot: toHex(header.transactionsRoot),
    uncles: [],
  };
  if (header.baseFeePerGas !== undefined) out.baseFeePerGas = toQuantity(header.baseFeePerGas);
  if (header.withdrawalsRoot !== undefined) {
    out.withdrawalsRoot = toHex(header.withdrawalsRoot);
    out.withdrawals = payload.withdrawals.map((w) => ({
      index: toQuantity(w.index),
      validatorIndex: toQuantity(w.validatorIndex),
      address: w.address.toLowerCase() as Hex,
      amount: toQuantity(w.amount),
    }));
  }
  if (header.blobGasUsed !== undefined) out.blobGasUsed = toQuantity(header.blobGasUsed);
  if (header.excessBlobGas !== undefined) out.excessBlobGas = toQuantity(header.excessBlobGas);
  if (header.parentBeaconBlockRoot !== undefined) out.parentBeaconBlockRoot = toHex(header.parentBeaconBlockRoot);
  if (header.requestsHash !== undefined) out.requestsHash = toHex(header.requestsHash);
  return out;
}

/** geth's transaction object for a mined transaction, built from verified raw bytes and the recovered sender. */
export function formatTransaction(
  tx: DecodedTransaction,
  from: Uint8Array,
  position: { blockHash: Hex; blockNumber: bigint; index: number; baseFeePerGas: bigint | undefined },
): RpcTransactionJson {
  const out: RpcTransactionJson = {
    blockHash: position.blockHash,
    blockNumber: toQuantity(position.blockNumber),
    from: toHex(from),
    gas: toQuantity(tx.gas),
    gasPrice: toQuantity(
      position.baseFeePerGas === undefined
        ? (tx.gasPrice ?? tx.maxFeePerGas!)
        : effectiveGasPrice(tx, position.baseFeePerGas),
    ),
    hash: toHex(tx.hash),
    input: toHex(tx.input),
    nonce: toQuantity(tx.nonce),
    to: tx.to === null ? null : toHex(tx.to),
    transactionIndex: toQuantity(position.index),
    value: toQuantity(tx.value),
    type: toQuantity(tx.type),
    v: toQuantity(tx.v),
    r: toQuantity(tx.r),
    s: toQuantity(tx.s),
  };
  if (tx.chainId !== undefined) out.chainId = toQuantity(tx.chainId);
  if (tx.type !== 0) out.yParity = toQuantity(tx.yParity);
  if (tx.maxFeePerGas !== undefined) {
    out.maxFeePerGas = toQuantity(tx.maxFeePerGas);
    out.maxPriorityFeePerGas = toQuantity(tx.maxPriorityFeePerGas!);
  }
  if (tx.accessList !== undefined)
    out.accessList = tx.accessList.map((e) => ({ address: toHex(e.address), storageKeys: e.storageKeys.map(toHex) }));
  if (tx.maxFeePerBlobGas !== undefined) out.maxFeePerBlobGas = toQuantity(tx.maxFeePerBlobGas);
  if (tx.blobVersionedHashes !== undefined) out.blobVersionedHashes = tx.blobVersionedHashes.map(toHex);
  if (tx.authorizationList !== undefined)
    out.authorizationList = tx.authorizationList.map((a) => ({
      chainId: toQuantity(a.chainId),
      address: toHex(a.address),
      nonce: toQuantity(a.nonce),
      yParity: toQuantity(a.yParity),
      r: toQuantity(a.r),
      s: toQuantity(a.s),
    }));
  return out;
}
