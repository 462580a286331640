/**
 * What the devnet EVM keeps per block, per transaction and per pending transaction, and the
 * message eth_call / eth_estimateGas simulate. Plain data shared by the engine's modules
 * (block-store.ts, mempool.ts, payload-builder.ts, simulate.ts) and the JSON-RPC layer.
 */
import type { BlockHeader } from '@ethereumjs/block';
import type { TypedTransaction } from '@ethereumjs/tx';
import type { Address } from '@ethereumjs/util';
import type { ExecutionPayloadCapella, Hex } from '../../protocol/types.js';
import type { EngineReceipt } from '../types.js';

export interface LogRecord {
  address: Hex;
  topics: Hex[];
  data: Hex;
}

/** What the engine keeps per transaction: the EngineReceipt plus what the JSON-RPC receipt needs. */
export interface ReceiptRecord extends EngineReceipt {
  logs: LogRecord[];
  to: Hex | null;
  type: number;
  cumulativeGasUsed: bigint;
  contractAddress: Hex | null;
  effectiveGasPrice: bigint;
}

export interface BlockRecord {
  number: bigint;
  hash: Hex;
  payload: ExecutionPayloadCapella;
  stateRoot: Uint8Array;
  transactionsRoot: Hex;
  withdrawalsRoot: Hex;
  difficulty: bigint;
  nonce: Hex;
  /** bytes of rlp([header, transactions, [], withdrawals]), as geth's `size` */
  size: number;
  bloom: Uint8Array;
  txHashes: Hex[];
  receipts: ReceiptRecord[];
}

/** Where a transaction of the chain is: its block and its position in the block. */
export interface TxLocation {
  block: BlockRecord;
  index: number;
}

/** A persisted chain to start from (built by persist.ts; the records may decode lazily). */
export interface EngineRestore {
  /** Blocks 0..head in order; `hash`, `number` and `stateRoot` are read for every block. */
  blocks: BlockRecord[];
  /** State trie nodes and contract code, keyed as the engine's node store keys them. */
  stateNodes: Map<string, Uint8Array>;
  /** The head's header (its hash must be the last block's hash). */
  headHeader: BlockHeader;
  /** Hash of the finalized block, if any. */
  finalized?: Hex;
  /** Where a transaction of a restored block is (lowercase 0x hash). */
  findTx(hash: string): TxLocation | undefined;
}

/** A transaction waiting in the mempool. */
export interface PoolTx {
  hash: Hex;
  raw: Uint8Array;
  tx: TypedTransaction;
  from: Hex;
  nonce: bigint;
  /** acceptance order (ties between equal tips go to the earlier one) */
  arrival: number;
}

/** A message for eth_call / eth_estimateGas (already validated). */
export interface CallMessage {
  from: Address;
  to: Address | undefined;
  gas: bigint | undefined;
  gasPrice: bigint | undefined;
  maxFeePerGas: bigint | undefined;
  maxPriorityFeePerGas: bigint | undefined;
  value: bigint;
  data: Uint8Array;
  nonce: bigint | undefined;
  accessList: { address: Hex; storageKeys: Hex[] }[] | undefined;
}

export interface CallOutcome {
  success: boolean;
  /** return data, or revert data */
  returnValue: Uint8Array;
  gasUsed: bigint;
  gasRefund: bigint;
  /** set when the EVM stopped with an exception other than a revert */
  error: string | undefined;
  reverted: boolean;
}
