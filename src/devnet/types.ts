/**
 * The contracts between the devnet's parts (Node only). The devnet is a local Alys network whose
 * every byte follows spec/alys-protocol.md:
 *
 *   consensus/  federation (authorities, Aura slots, approvals), block production, chain store,
 *               peg-in scanning, fee accumulation, peg-out proposals and signing,
 *               merged mining (createauxblock / submitauxblock) and the consensus JSON-RPC
 *   engine/     the execution layer: a real EVM (ethereumjs) driven the way Alys drives geth/reth,
 *               with the standard Ethereum JSON-RPC
 *   bitcoin/    a Bitcoin regtest chain with real-format blocks, wallets and an Esplora REST subset
 *   miner.ts    a merged miner that uses the consensus RPC like a real one
 *
 * Amounts: EVM values in wei (bigint), withdrawals in Gwei (bigint), Bitcoin values in sats (bigint).
 * Hashes: consensus and EVM hashes as lowercase 0x hex (Hex); Bitcoin hashes as internal-order bytes.
 */
import type { EvmReceipt } from '../protocol/bridge/pegout.js';
import type { BitcoinHeader, ExecutionPayloadCapella, Hex, Transaction, TxOut, Withdrawal } from '../protocol/types.js';

// ---------------------------------------------------------------- execution engine

/** What Alys passes to engine_forkchoiceUpdatedV2 as payload attributes (spec 5.1), plus the transactions. */
export interface PayloadAttributes {
  /** Must be the engine's current head (the devnet has one producer, no forks on the EL). */
  parentHash: Hex;
  /** Seconds; strictly greater than the parent's. */
  timestamp: bigint;
  /** Alys always uses 0x000000000000000000000000000000000000dEaD. */
  suggestedFeeRecipient: Hex;
  /** Alys always uses zero. */
  prevRandao: Hex;
  /** Peg-ins and fee payouts (spec 5.3); amounts in Gwei. */
  withdrawals: Withdrawal[];
  /**
   * Raw signed transactions to include, in order (the fast generator passes them explicitly).
   * Omitted: take from the mempool (nonce order per sender, at most the block gas limit); a
   * transaction that fails validation is dropped from the mempool, as geth would.
   */
  transactions?: Uint8Array[];
  /**
   * The senders of `transactions` (20 bytes each, same order), recovered from those exact bytes by
   * another thread with `recoverRawSender` (engine/crypto.ts) (as geth's sender cacher recovers senders in
   * parallel before a block is processed). The engine then skips its own recovery and trusts them:
   * only for callers inside the devnet process (the fast generator), never from the network.
   */
  senders?: Uint8Array[];
}

/** A receipt as the devnet needs it for fees (spec 5.3) and peg-outs (spec 6.3). */
export interface EngineReceipt extends EvmReceipt {
  transactionHash: Hex;
  /** `from` of the transaction */
  from: Hex;
  status: 'success' | 'reverted';
  gasUsed: bigint;
  /** min(maxPriorityFeePerGas, maxFeePerGas - baseFee); gasPrice - baseFee for legacy/2930 txs. */
  effectiveTipPerGas: bigint;
}

export interface BuiltPayload {
  /** Exactly the ExecutionPayloadCapella Alys would put in the block (block_hash = the EL's own hash). */
  payload: ExecutionPayloadCapella;
  receipts: EngineReceipt[];
  /** sum(effectiveTipPerGas * gasUsed) over the block's transactions, wei (spec 5.3 fees(block)). */
  priorityFeesWei: bigint;
}

export interface ExecutionEngine {
  readonly chainId: bigint;
  /** EL block 0 as Alys maps it into the genesis consensus block (spec 2.5). */
  genesisPayload(): ExecutionPayloadCapella;
  /** The current head's block hash. */
  headHash(): Hex;
  /** Build, execute and make canonical the next block on top of the head. */
  buildPayload(attrs: PayloadAttributes): Promise<BuiltPayload>;
  /** Add a signed transaction to the mempool (eth_sendRawTransaction semantics); returns its hash. */
  sendRawTransaction(raw: Uint8Array): Promise<Hex>;
  /**
   * Alys's forkchoice: the consensus layer marks EL blocks safe/finalized (the payload of the
   * last finalized consensus block); the `safe`/`finalized` block tags answer with it.
   */
  setFinalized(blockHash: Hex): void;
  /** Receipts of a block of this engine, in transaction order (for peg-out filtering of the parent). */
  receipts(blockHash: Hex): Promise<EngineReceipt[]>;
  /** Handle one JSON-RPC request object (the HTTP server and tests use it). */
  handleRpc(request: unknown): Promise<unknown>;
  /** Serve the Ethereum JSON-RPC over HTTP on 127.0.0.1 (port 0 = any free port). */
  serve(opts: { port: number }): Promise<{ url: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- bitcoin regtest chain

export interface BitcoinBlockInfo {
  height: number;
  /** internal order */
  hash: Uint8Array;
  header: BitcoinHeader;
  transactions: Transaction[];
}

export interface Utxo {
  /** internal order */
  txid: Uint8Array;
  vout: number;
  output: TxOut;
  /** height of the block that confirmed it */
  height: number;
}

export interface BitcoinChain {
  tipHeight(): number;
  block(height: number): BitcoinBlockInfo | undefined;
  blockByHash(hash: Uint8Array): BitcoinBlockInfo | undefined;
  /** Confirmations of a block (tip height - its height + 1), 0 if unknown. */
  confirmations(blockHash: Uint8Array): number;
  /** Mine `count` blocks (regtest difficulty) including the mempool; coinbase pays `coinbaseScript`. */
  mine(count: number, coinbaseScript?: Uint8Array): BitcoinBlockInfo[];
  /** Validate (inputs exist and are unspent, amounts, signatures) and add to the mempool; returns the txid. */
  broadcast(tx: Transaction | Uint8Array): Uint8Array;
  /** Unspent outputs locked by `scriptPubkey` (confirmed only, mempool spends excluded). */
  utxos(scriptPubkey: Uint8Array): Utxo[];
  /** The transaction and the block it is in, if confirmed. */
  transaction(txid: Uint8Array): { tx: Transaction; block?: BitcoinBlockInfo } | undefined;
  /** Esplora-compatible REST subset on 127.0.0.1. */
  serve(opts: { port: number }): Promise<{ url: string; close(): Promise<void> }>;
}
