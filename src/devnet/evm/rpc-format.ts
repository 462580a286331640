/**
 * JSON-RPC result objects in geth's shapes (go-ethereum internal/ethapi, v1.14): blocks, transactions,
 * receipts, logs. Numbers are QUANTITYs, byte strings DATA, absent values `null`.
 */
import { Capability, type TypedTransaction } from '@ethereumjs/tx';
import { Bloom } from '@ethereumjs/vm';
import { toQuantity } from '../../protocol/execution/json.js';
import type { Hex } from '../../protocol/types.js';
import type { BlockRecord, EngineCore, LogRecord, PoolTx, ReceiptRecord } from './engine.js';
import { bytesOf, hex } from './hex.js';

const EMPTY_OMMERS_HASH: Hex = '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** geth's RPCTransaction. `block` absent = pending. */
export function formatTransaction(
  core: EngineCore,
  tx: TypedTransaction,
  hash: Hex,
  from: Hex,
  block?: { record: BlockRecord; index: number },
): Json {
  const j = tx.toJSON() as Record<string, string | undefined | { address: string; storageKeys: string[] }[]>;
  const out: Record<string, Json> = {
    blockHash: block === undefined ? null : block.record.hash,
    blockNumber: block === undefined ? null : toQuantity(block.record.number),
    from,
    gas: toQuantity(tx.gasLimit),
    gasPrice: '0x0',
    hash,
    input: hex(tx.data),
    nonce: toQuantity(tx.nonce),
    to: tx.to === undefined ? null : hex(tx.to.bytes),
    transactionIndex: block === undefined ? null : toQuantity(block.index),
    value: toQuantity(tx.value),
    type: toQuantity(tx.type),
  };
  if (tx.supports(Capability.EIP1559FeeMarket)) {
    const t = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    out['maxFeePerGas'] = toQuantity(t.maxFeePerGas);
    out['maxPriorityFeePerGas'] = toQuantity(t.maxPriorityFeePerGas);
    // geth: the effective price once mined, the fee cap while pending.
    out['gasPrice'] =
      block === undefined
        ? toQuantity(t.maxFeePerGas)
        : toQuantity(block.record.receipts[block.index]!.effectiveGasPrice);
  } else {
    out['gasPrice'] = toQuantity((tx as unknown as { gasPrice: bigint }).gasPrice);
  }
  if (tx.type !== 0) {
    out['accessList'] = ((j['accessList'] as { address: string; storageKeys: string[] }[] | undefined) ?? []).map(
      (e) => ({
        address: e.address.toLowerCase(),
        storageKeys: e.storageKeys.map((k) => k.toLowerCase()),
      }),
    );
    out['chainId'] = toQuantity(core.chainId);
  } else if (tx.supports(Capability.EIP155ReplayProtection)) {
    out['chainId'] = toQuantity(core.chainId);
  }
  out['v'] = toQuantity(tx.v ?? 0n);
  out['r'] = toQuantity(tx.r ?? 0n);
  out['s'] = toQuantity(tx.s ?? 0n);
  if (tx.type !== 0) out['yParity'] = toQuantity(tx.v ?? 0n);
  return out;
}

export function formatPendingTransaction(core: EngineCore, p: PoolTx): Json {
  return formatTransaction(core, p.tx, p.hash, p.from);
}

export function formatMinedTransaction(core: EngineCore, record: BlockRecord, index: number): Json {
  const raw = record.payload.transactions[index]!;
  const r = record.receipts[index]!;
  return formatTransaction(core, core.decodeTx(raw), r.transactionHash, r.from, { record, index });
}

export function formatBlock(core: EngineCore, record: BlockRecord, fullTransactions: boolean): Json {
  const p = record.payload;
  return {
    baseFeePerGas: toQuantity(p.baseFeePerGas),
    difficulty: toQuantity(record.difficulty),
    extraData: p.extraData,
    gasLimit: toQuantity(p.gasLimit),
    gasUsed: toQuantity(p.gasUsed),
    hash: record.hash,
    logsBloom: p.logsBloom,
    miner: p.feeRecipient,
    mixHash: p.prevRandao,
    nonce: record.nonce,
    number: toQuantity(p.blockNumber),
    parentHash: p.parentHash,
    receiptsRoot: p.receiptsRoot,
    sha3Uncles: EMPTY_OMMERS_HASH,
    size: toQuantity(record.size),
    stateRoot: p.stateRoot,
    timestamp: toQuantity(p.timestamp),
    // The chain's total difficulty is the genesis difficulty (every later block has difficulty 0).
    // Geth dropped the field in 2024, but Alys's ELs (reth 1.1.3, geth of its time) and anvil send it.
    totalDifficulty: toQuantity(core.blockByNumber(0n)!.difficulty),
    transactions: fullTransactions
      ? p.transactions.map((_, i) => formatMinedTransaction(core, record, i))
      : [...record.txHashes],
    transactionsRoot: record.transactionsRoot,
    uncles: [],
    withdrawals: p.withdrawals.map((w) => ({
      index: toQuantity(w.index),
      validatorIndex: toQuantity(w.validatorIndex),
      address: w.address,
      amount: toQuantity(w.amount),
    })),
    withdrawalsRoot: record.withdrawalsRoot,
  };
}

/** Index in the block of receipt `index`'s first log. */
export function firstLogIndex(record: BlockRecord, index: number): number {
  let n = 0;
  for (let i = 0; i < index; i++) n += record.receipts[i]!.logs.length;
  return n;
}

export function formatLog(record: BlockRecord, txIndex: number, log: LogRecord, logIndex: number): Json {
  return {
    address: log.address,
    topics: [...log.topics],
    data: log.data,
    blockNumber: toQuantity(record.number),
    transactionHash: record.receipts[txIndex]!.transactionHash,
    transactionIndex: toQuantity(txIndex),
    blockHash: record.hash,
    logIndex: toQuantity(logIndex),
    removed: false,
  };
}

export function receiptBloom(core: EngineCore, r: ReceiptRecord): Hex {
  const bloom = new Bloom(undefined, core.common);
  for (const log of r.logs) {
    bloom.add(bytesOf(log.address));
    for (const t of log.topics) bloom.add(bytesOf(t));
  }
  return hex(bloom.bitvector);
}

/** geth's receipt object (eth_getTransactionReceipt, eth_getBlockReceipts). */
export function formatReceipt(
  core: EngineCore,
  record: BlockRecord,
  index: number,
  logIndexStart = firstLogIndex(record, index),
): Json {
  const r = record.receipts[index]!;
  return {
    blockHash: record.hash,
    blockNumber: toQuantity(record.number),
    contractAddress: r.contractAddress,
    cumulativeGasUsed: toQuantity(r.cumulativeGasUsed),
    effectiveGasPrice: toQuantity(r.effectiveGasPrice),
    from: r.from,
    gasUsed: toQuantity(r.gasUsed),
    logs: r.logs.map((log, k) => formatLog(record, index, log, logIndexStart + k)),
    logsBloom: receiptBloom(core, r),
    status: r.status === 'success' ? '0x1' : '0x0',
    to: r.to,
    transactionHash: r.transactionHash,
    transactionIndex: toQuantity(index),
    type: toQuantity(r.type),
  };
}

export function formatBlockReceipts(core: EngineCore, record: BlockRecord): Json {
  const out: Json[] = [];
  let logIndex = 0;
  for (let i = 0; i < record.receipts.length; i++) {
    out.push(formatReceipt(core, record, i, logIndex));
    logIndex += record.receipts[i]!.logs.length;
  }
  return out;
}
