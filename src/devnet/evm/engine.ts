/**
 * The devnet's execution layer: a real EVM (ethereumjs 10.1.3) driven the way Alys drives geth/reth
 * (alys-protocol.md 5.1-5.3): the consensus side asks for the next block with payload attributes
 * (timestamp, prevRandao 0, fee recipient 0x…dEaD, withdrawals in Gwei that mint value) and gets back
 * the exact ExecutionPayloadCapella, whose block_hash is ethereumjs's own header hash.
 *
 * Speed (the devnet generates >= 20,000 blocks of >= 20 transactions in under 10 minutes on 2 cores):
 * besides the Common and native crypto of crypto.ts, the state manager runs with `Caches`, so account
 * and storage writes reach the trie once per block (at the flush that ends the block) instead of once
 * per transaction, and blocks are assembled here directly with runTx against one context block (the
 * stock BlockBuilder re-creates a Block with all previous transactions before every transaction).
 * Measured here (2 shared cores, test/devnet/evm/bench-engine.ts, 1,000 blocks): 15-16.5 ms per block
 * of 20 transfers, 24-27 ms per block of 20 mixed transactions (60% token/bridge calls); stock
 * ethereumjs takes ~180 ms per block of 20 transfers.
 *
 * State history: see state.ts (mark-and-sweep over a shared node map). Blocks, receipts and logs are
 * kept for the whole chain; the state of the last `historyBlocks` blocks (default 128) is kept, older
 * block tags get a JSON-RPC error that says so.
 */
import { createBlock, createBlockHeader, type Block, type BlockHeader } from '@ethereumjs/block';
import { MerklePatriciaTrie } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager';
import {
  Capability,
  createAccessList2930Tx,
  createFeeMarket1559Tx,
  createLegacyTx,
  createTxFromRLP,
  type TypedTransaction,
} from '@ethereumjs/tx';
import { Account, Address, createWithdrawal, generateAddress, bigIntToUnpaddedBytes } from '@ethereumjs/util';
import { createVM, encodeReceipt, runTx, type RunTxResult, type VM } from '@ethereumjs/vm';
import { withdrawalsRoot } from '../../protocol/execution/payload.js';
import { orderedTrieRoot } from '../../protocol/execution/trie.js';
import type { ExecutionPayloadCapella, Hex, Withdrawal } from '../../protocol/types.js';
import type { BuiltPayload, EngineReceipt, ExecutionEngine, PayloadAttributes } from '../types.js';
import { createDevnetCommon, keccak256, type DevnetCommon } from './crypto.js';
import { EngineError, RpcCode, RpcError } from './errors.js';
import {
  DEFAULT_CHAIN_ID,
  DEFAULT_GAS_LIMIT,
  DEFAULT_GENESIS_EXTRA_DATA,
  DEFAULT_GENESIS_TIMESTAMP,
  GENESIS_BASE_FEE,
  GENESIS_DIFFICULTY,
  GENESIS_NONCE,
  LOAD_TOKEN_ADDRESS,
  genesisAlloc,
  type GenesisAccount,
} from './genesis.js';
import { createRpcHandler } from './rpc.js';
import { serveRpc } from './http.js';
import { BatchFlushStateManager } from './flush.js';
import { createStateNodeStore, type StateNodeStore } from './state.js';
import { bytesOf, createSerialQueue, hex } from './util.js';

export interface EngineOptions {
  /** EVM chain id (default 121212, Alys's dev chain). */
  chainId?: bigint;
  /** Prefunded accounts etc. (address -> account); the bridge predeploy is always added. */
  alloc?: Record<string, GenesisAccount>;
  /** Predeploy the load token (LoadToken.sol) here; `false` for none. Default {@link LOAD_TOKEN_ADDRESS}. */
  loadTokenAddress?: Hex | false;
  /** Genesis timestamp in seconds (default 0x63A1E047, as Alys's dev genesis). */
  genesisTimestamp?: bigint;
  /** Genesis extraData (at most 32 bytes). */
  genesisExtraData?: Hex;
  /** Block gas limit (default 0x1c9c380). */
  gasLimit?: bigint;
  /** States kept for queries at older blocks (default 128, at least 1). */
  historyBlocks?: number;
  /** web3_clientVersion */
  clientVersion?: string;
  /** Gas cap of eth_call / eth_estimateGas (geth's --rpc.gascap default: 50,000,000). */
  rpcGasCap?: bigint;
  /** eth_getLogs refuses queries with more results than this (default 10,000). */
  maxLogs?: number;
  /** Start from a persisted chain instead of genesis (see persist.ts). */
  restore?: EngineRestore;
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
  findTx(hash: string): { block: BlockRecord; index: number } | undefined;
}

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

export interface PoolTx {
  hash: Hex;
  raw: Uint8Array;
  tx: TypedTransaction;
  from: Hex;
  nonce: bigint;
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

/** What the JSON-RPC layer reads (rpc.ts). Everything touching state runs on one serial queue. */
export interface EngineCore {
  readonly chainId: bigint;
  readonly common: DevnetCommon;
  readonly clientVersion: string;
  readonly historyBlocks: number;
  readonly rpcGasCap: bigint;
  readonly maxLogs: number;
  head(): BlockRecord;
  blockByNumber(n: bigint): BlockRecord | undefined;
  blockByHash(hash: string): BlockRecord | undefined;
  finalized(): BlockRecord | undefined;
  txLocation(hash: string): { block: BlockRecord; index: number } | undefined;
  pendingTx(hash: string): PoolTx | undefined;
  /** Decode a stored raw transaction (already validated when it was included). */
  decodeTx(raw: Hex | Uint8Array): TypedTransaction;
  /** Throws RpcError if the state of `block` is no longer kept. */
  assertStateAvailable(block: BlockRecord): void;
  /** Run `fn` with a read-only state manager at `block` (serialised with block building). */
  withState<T>(block: BlockRecord, fn: (state: MerkleStateManager, trie: MerklePatriciaTrie) => Promise<T>): Promise<T>;
  /** Whether the mempool holds a transaction of `from` with this nonce. */
  poolHasNonce(from: string, nonce: bigint): boolean;
  /** Run `fn` with a simulator at `block`: each `run` starts from the block's state again. */
  withSimulator<T>(
    block: BlockRecord,
    fn: (run: (msg: CallMessage, gas: bigint) => Promise<CallOutcome>, state: MerkleStateManager) => Promise<T>,
  ): Promise<T>;
  sendRawTransaction(raw: Uint8Array): Promise<Hex>;
}

export interface DevnetEngine extends ExecutionEngine {
  /** Internals for the JSON-RPC layer and tests. */
  readonly core: EngineCore;
  /** Stats for benchmarks: stored trie nodes, mempool size, pruning runs. */
  stats(): { blocks: number; stateNodes: number; mempool: number; gcRuns: number; gcMs: number };
  /** The state trie nodes kept (for persist.ts; read-only). */
  readonly stateNodes: ReadonlyMap<string, Uint8Array>;
}

const ZERO_HASH = new Uint8Array(32);
const GWEI = 1_000_000_000n;
const MAX_WITHDRAWALS = 16;
const MAX_INITCODE_SIZE = 49_152;
const HEX_RE = /^0x[0-9a-fA-F]*$/;

function blockHashBytes(h: Hex): Uint8Array {
  return bytesOf(h);
}

function checkHex(value: unknown, path: string, bytes?: number): Hex {
  if (
    typeof value !== 'string' ||
    !HEX_RE.test(value) ||
    value.length % 2 !== 0 ||
    (bytes !== undefined && value.length !== 2 + 2 * bytes)
  )
    throw new EngineError(
      'payload-attributes',
      `${path} must be 0x hex${bytes === undefined ? '' : ` of ${bytes} bytes`}, got ${String(value).slice(0, 80)}`,
    );
  return value.toLowerCase() as Hex;
}

function rlpLengthOfString(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n === 1 && bytes[0]! < 0x80) return 1;
  return n + headerLength(n);
}

function headerLength(payloadLength: number): number {
  if (payloadLength < 56) return 1;
  let lenBytes = 0;
  for (let v = payloadLength; v > 0; v = Math.floor(v / 256)) lenBytes++;
  return 1 + lenBytes;
}

/** geth's block `size`: length of rlp([header, txs, uncles, withdrawals]). */
function blockSize(
  headerRlp: Uint8Array,
  rawTxs: readonly Uint8Array[],
  withdrawalsRlp: readonly Uint8Array[],
): number {
  let txs = 0;
  for (const raw of rawTxs) txs += raw[0]! >= 0xc0 ? raw.length : rlpLengthOfString(raw);
  let ws = 0;
  for (const w of withdrawalsRlp) ws += w.length;
  const body = headerRlp.length + txs + headerLength(txs) + 1 + ws + headerLength(ws);
  return body + headerLength(body);
}

function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint): bigint {
  if (tx.supports(Capability.EIP1559FeeMarket)) {
    const t = tx as TypedTransaction & { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    const viaTip = baseFee + t.maxPriorityFeePerGas;
    return viaTip < t.maxFeePerGas ? viaTip : t.maxFeePerGas;
  }
  return (tx as TypedTransaction & { gasPrice: bigint }).gasPrice;
}

function maxFeeOf(tx: TypedTransaction): bigint {
  return tx.supports(Capability.EIP1559FeeMarket)
    ? (tx as unknown as { maxFeePerGas: bigint }).maxFeePerGas
    : (tx as unknown as { gasPrice: bigint }).gasPrice;
}

function tipCapOf(tx: TypedTransaction): bigint {
  return tx.supports(Capability.EIP1559FeeMarket)
    ? (tx as unknown as { maxPriorityFeePerGas: bigint }).maxPriorityFeePerGas
    : (tx as unknown as { gasPrice: bigint }).gasPrice;
}

/** geth's error wording for what ethereumjs's runTx refuses (the transaction is invalid, not reverted). */
export function gethTxError(e: unknown, tx: TypedTransaction | undefined, from: Hex | undefined): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/doesn't have enough funds|insufficient/i.test(msg)) {
    const have = /only has: (\d+)/.exec(msg)?.[1];
    const want = /cost is: (\d+)/.exec(msg)?.[1];
    return `insufficient funds for gas * price + value: address ${from ?? '?'} have ${have ?? '?'} want ${want ?? '?'}`;
  }
  if (/correct nonce/.test(msg)) {
    const state = /account has nonce of: (\d+)/.exec(msg)?.[1];
    const txNonce = /tx has nonce of: (\d+)/.exec(msg)?.[1];
    if (state !== undefined && txNonce !== undefined && BigInt(txNonce) < BigInt(state))
      return `nonce too low: address ${from ?? '?'}, tx: ${txNonce} state: ${state}`;
    return `nonce too high: address ${from ?? '?'}, tx: ${txNonce ?? '?'} state: ${state ?? '?'}`;
  }
  if (/INTRINSIC_GAS_TOO_LOW|lower than the minimum gas limit/.test(msg)) {
    const have = /tx gas limit (\d+)/.exec(msg)?.[1];
    const need = /minimum gas limit of (\d+)/.exec(msg)?.[1];
    return `intrinsic gas too low: gas ${have ?? tx?.gasLimit ?? '?'}, minimum needed ${need ?? '?'}`;
  }
  if (/less than the block's baseFeePerGas/.test(msg)) {
    const fee = tx === undefined ? '?' : maxFeeOf(tx).toString();
    const base = /baseFeePerGas \((\d+)\)/.exec(msg)?.[1];
    return `max fee per gas less than block base fee: address ${from ?? '?'}, maxFeePerGas: ${fee}, baseFee: ${base ?? '?'}`;
  }
  if (/not EOA/.test(msg)) return `sender not an eoa: address ${from ?? '?'}`;
  if (/higher gas limit than the remaining gas|gas limit.*block/i.test(msg)) return 'gas limit reached';
  return msg.replace(/ \(tx type=.*$/s, '');
}

export async function createEngine(opts: EngineOptions = {}): Promise<DevnetEngine> {
  const chainId = opts.chainId ?? DEFAULT_CHAIN_ID;
  if (chainId <= 0n || chainId >= 1n << 64n)
    throw new EngineError('options', `chainId must be a positive u64, got ${chainId}`);
  const historyBlocks = Math.max(1, Math.floor(opts.historyBlocks ?? 128));
  const gasLimit = opts.gasLimit ?? DEFAULT_GAS_LIMIT;
  const rpcGasCap = opts.rpcGasCap ?? 50_000_000n;
  const clientVersion = opts.clientVersion ?? 'alys-light-devnet/v0.1.0/ethereumjs-vm-10.1.3/node';
  const maxLogs = opts.maxLogs ?? 10_000;
  const common = createDevnetCommon(chainId);
  const store: StateNodeStore = createStateNodeStore(common);
  // (c) of the speed-ups: Caches make writes reach the trie once per block, at the flush.
  const stateManager = new BatchFlushStateManager(
    { common, trie: store.openTrie(), caches: new Caches() },
    store.nodes,
    keccak256,
  );

  const blocks: BlockRecord[] = [];
  const byHash = new Map<string, BlockRecord>();
  const txIndex = new Map<string, { block: BlockRecord; index: number }>();
  // transactions of restored blocks are found through the snapshot's own index
  let restoredTx: EngineRestore['findTx'] | undefined;
  const findTx = (hash: string) => txIndex.get(hash) ?? restoredTx?.(hash);
  const pool = new Map<string, PoolTx>();
  const poolBySender = new Map<string, Map<bigint, PoolTx>>();
  let poolArrival = 0;
  let finalizedBlock: BlockRecord | undefined;
  let headHeader: BlockHeader;
  let gcRuns = 0;
  let gcMs = 0;
  let closed = false;
  const serial = createSerialQueue();

  // BLOCKHASH reads the engine's own blocks (the EVM only asks for the last 256).
  const blockchain = {
    async getBlock(n: number) {
      const record = blocks[n];
      const hash = record === undefined ? ZERO_HASH : blockHashBytes(record.hash);
      return { hash: () => hash };
    },
    async putBlock() {},
    shallowCopy() {
      return blockchain;
    },
  };
  const vm: VM = await createVM({ common, stateManager, blockchain });

  // ------------------------------------------------------------ genesis
  const alloc = genesisAlloc(opts.alloc, opts.loadTokenAddress ?? LOAD_TOKEN_ADDRESS);
  await stateManager.checkpoint();
  for (const [address, account] of alloc) {
    const addr = new Address(bytesOf(address));
    await stateManager.putAccount(addr, new Account(account.nonce ?? 0n, account.balance ?? 0n));
    if (account.code !== undefined && account.code !== '0x') await stateManager.putCode(addr, bytesOf(account.code));
    for (const [slot, value] of Object.entries(account.storage ?? {})) {
      const key = new Uint8Array(32);
      const k = bytesOf(slot);
      key.set(k, 32 - k.length);
      await stateManager.putStorage(addr, key, bytesOf(value));
    }
  }
  await stateManager.commit();
  const genesisStateRoot = await stateManager.getStateRoot();
  const extraData = opts.genesisExtraData ?? DEFAULT_GENESIS_EXTRA_DATA;
  headHeader = createBlockHeader(
    {
      number: 0n,
      parentHash: ZERO_HASH,
      coinbase: new Address(new Uint8Array(20)),
      stateRoot: genesisStateRoot,
      difficulty: GENESIS_DIFFICULTY,
      gasLimit,
      gasUsed: 0n,
      timestamp: opts.genesisTimestamp ?? DEFAULT_GENESIS_TIMESTAMP,
      extraData: bytesOf(extraData),
      mixHash: ZERO_HASH,
      nonce: bytesOf(GENESIS_NONCE),
      baseFeePerGas: GENESIS_BASE_FEE,
      withdrawalsRoot: new MerklePatriciaTrie({ common }).root(),
    },
    { common },
  );
  addBlock(headHeader, [], [], [], new Uint8Array(256));
  if (opts.restore !== undefined) await restore(opts.restore);

  /** Replace the genesis-only chain by a persisted one (persist.ts checked it). */
  async function restore(r: EngineRestore): Promise<void> {
    blocks.length = 0;
    byHash.clear();
    txIndex.clear();
    for (const b of r.blocks) {
      blocks.push(b);
      byHash.set(b.hash, b);
    }
    for (const [k, v] of r.stateNodes) store.nodes.set(k, v);
    headHeader = r.headHeader;
    await stateManager.setStateRoot(headHeader.stateRoot);
    restoredTx = r.findTx;
    finalizedBlock = r.finalized === undefined ? undefined : byHash.get(r.finalized);
  }

  function addBlock(
    header: BlockHeader,
    rawTxs: Uint8Array[],
    withdrawals: Withdrawal[],
    receipts: ReceiptRecord[],
    bloom: Uint8Array,
  ): BlockRecord {
    const hash = hex(header.hash());
    const txHex = rawTxs.map(hex);
    const payload: ExecutionPayloadCapella = {
      parentHash: hex(header.parentHash),
      feeRecipient: hex(header.coinbase.bytes),
      stateRoot: hex(header.stateRoot),
      receiptsRoot: hex(header.receiptTrie),
      logsBloom: hex(header.logsBloom),
      prevRandao: hex(header.mixHash),
      blockNumber: header.number,
      gasLimit: header.gasLimit,
      gasUsed: header.gasUsed,
      timestamp: header.timestamp,
      extraData: hex(header.extraData),
      baseFeePerGas: header.baseFeePerGas!,
      blockHash: hash,
      transactions: txHex,
      withdrawals,
    };
    const withdrawalsRlp = withdrawals.map((w) => RLP.encode(createWithdrawal(w).raw()));
    const record: BlockRecord = {
      number: header.number,
      hash,
      payload,
      stateRoot: header.stateRoot,
      transactionsRoot: hex(header.transactionsTrie),
      withdrawalsRoot: hex(header.withdrawalsRoot!),
      difficulty: header.difficulty,
      nonce: hex(header.nonce),
      size: blockSize(header.serialize(), rawTxs, withdrawalsRlp),
      bloom,
      txHashes: receipts.map((r) => r.transactionHash),
      receipts,
    };
    blocks.push(record);
    byHash.set(hash, record);
    receipts.forEach((r, index) => txIndex.set(r.transactionHash, { block: record, index }));
    return record;
  }

  const head = (): BlockRecord => blocks[blocks.length - 1]!;

  // Addresses repeat across receipts and logs (a few thousand accounts, millions of mentions): keep
  // one string per address so 20,000 blocks of receipts do not hold millions of copies.
  const addressStrings = new Map<string, Hex>();
  function internAddress(bytes: Uint8Array): Hex {
    const h = hex(bytes);
    const known = addressStrings.get(h);
    if (known !== undefined) return known;
    if (addressStrings.size < 1_000_000) addressStrings.set(h, h);
    return h;
  }

  // ------------------------------------------------------------ transactions
  function decodeTx(raw: Hex | Uint8Array): TypedTransaction {
    return createTxFromRLP(typeof raw === 'string' ? bytesOf(raw) : raw, { common });
  }

  /**
   * Decode and check a raw transaction on its own (no state): what geth checks before the pool.
   * `knownSender`: the sender another thread already recovered from these bytes (PayloadAttributes.senders).
   */
  function decodeRawTransaction(
    raw: Uint8Array,
    knownSender?: Uint8Array,
  ): { tx: TypedTransaction; from: Hex; hash: Hex } {
    if (!(raw instanceof Uint8Array) || raw.length === 0)
      throw new RpcError(RpcCode.server, 'typed transaction too short');
    const first = raw[0]!;
    if (first <= 0x7f && first !== 1 && first !== 2)
      throw new RpcError(RpcCode.server, 'transaction type not supported');
    let tx: TypedTransaction;
    try {
      // Not frozen yet: the sender is computed once below and pinned on the object first.
      tx = createTxFromRLP(raw, { common, freeze: false });
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      if (/chain ID|chainId/i.test(m)) throw new RpcError(RpcCode.server, 'invalid chain id for signer');
      throw new RpcError(RpcCode.server, `rlp: ${m.replace(/ \(tx type=.*$/s, '')}`);
    }
    // @ethereumjs/rlp and the tx constructors are strict (no trailing bytes, minimal lengths, no leading
    // zeros in integers), so the raw bytes are the canonical encoding: hash them directly instead of
    // re-serialising (tx.hash() would), and build the transactions trie from them.
    if (!tx.isSigned()) throw new RpcError(RpcCode.server, 'invalid transaction v, r, s values');
    if (tx.type === 0 && !tx.supports(Capability.EIP155ReplayProtection))
      throw new RpcError(RpcCode.server, 'only replay-protected (EIP-155) transactions allowed over RPC');
    let from: Hex;
    try {
      // ethereumjs hashes the public key with noble's keccak on every getSenderAddress() call (runTx
      // calls it again); recover once, hash natively, and pin the result on the transaction.
      const sender = new Address(knownSender ?? keccak256(tx.getSenderPublicKey()).subarray(12));
      Object.defineProperty(tx, 'getSenderAddress', { value: () => sender });
      Object.freeze(tx);
      from = hex(sender.bytes);
    } catch {
      throw new RpcError(RpcCode.server, 'invalid sender');
    }
    if (tx.to === undefined && tx.data.length > MAX_INITCODE_SIZE)
      throw new RpcError(
        RpcCode.server,
        `max initcode size exceeded: code size ${tx.data.length} limit ${MAX_INITCODE_SIZE}`,
      );
    if (tx.supports(Capability.EIP1559FeeMarket) && tipCapOf(tx) > maxFeeOf(tx))
      throw new RpcError(
        RpcCode.server,
        `max priority fee per gas higher than max fee per gas: address ${from}, maxPriorityFeePerGas: ${tipCapOf(tx)}, maxFeePerGas: ${maxFeeOf(tx)}`,
      );
    return { tx, from, hash: hex(keccak256(raw)) };
  }

  async function sendRawTransactionLocked(raw: Uint8Array): Promise<Hex> {
    const { tx, from, hash } = decodeRawTransaction(raw);
    if (pool.has(hash) || findTx(hash) !== undefined) throw new RpcError(RpcCode.server, 'already known');
    const account = (await stateManager.getAccount(new Address(bytesOf(from)))) ?? new Account();
    if (tx.nonce < account.nonce)
      throw new RpcError(RpcCode.server, `nonce too low: address ${from}, tx: ${tx.nonce} state: ${account.nonce}`);
    if (tx.gasLimit > headHeader.gasLimit) throw new RpcError(RpcCode.server, 'exceeds block gas limit');
    const intrinsic = tx.getIntrinsicGas();
    if (tx.gasLimit < intrinsic)
      throw new RpcError(RpcCode.server, `intrinsic gas too low: gas ${tx.gasLimit}, minimum needed ${intrinsic}`);
    const cost = tx.gasLimit * maxFeeOf(tx) + tx.value;
    if (account.balance < cost)
      throw new RpcError(
        RpcCode.server,
        `insufficient funds for gas * price + value: address ${from} have ${account.balance} want ${cost}`,
      );
    const senderTxs = poolBySender.get(from) ?? new Map<bigint, PoolTx>();
    const existing = senderTxs.get(tx.nonce);
    if (existing !== undefined) {
      // geth's price bump: 10% on both the fee cap and the tip cap.
      const bump = (old: bigint) => old + old / 10n;
      if (maxFeeOf(tx) < bump(maxFeeOf(existing.tx)) || tipCapOf(tx) < bump(tipCapOf(existing.tx)))
        throw new RpcError(RpcCode.server, 'replacement transaction underpriced');
      pool.delete(existing.hash);
    }
    const entry: PoolTx = { hash, raw: new Uint8Array(raw), tx, from, nonce: tx.nonce, arrival: poolArrival++ };
    senderTxs.set(tx.nonce, entry);
    poolBySender.set(from, senderTxs);
    pool.set(hash, entry);
    return hash;
  }

  function removeFromPool(entry: PoolTx): void {
    pool.delete(entry.hash);
    const m = poolBySender.get(entry.from);
    if (m !== undefined && m.get(entry.nonce) === entry) {
      m.delete(entry.nonce);
      if (m.size === 0) poolBySender.delete(entry.from);
    }
  }

  /** After a block: forget included transactions and those whose nonce is now used. */
  async function prunePool(): Promise<void> {
    for (const [from, txs] of poolBySender) {
      const account = await stateManager.getAccount(new Address(bytesOf(from)));
      const nonce = account?.nonce ?? 0n;
      for (const entry of [...txs.values()])
        if (entry.nonce < nonce || findTx(entry.hash) !== undefined) removeFromPool(entry);
    }
  }

  // ------------------------------------------------------------ block building
  function validateAttributes(attrs: PayloadAttributes): void {
    if (attrs === null || typeof attrs !== 'object')
      throw new EngineError('payload-attributes', 'payload attributes must be an object');
    const parent = head();
    const parentHash = checkHex(attrs.parentHash, 'parentHash', 32);
    if (parentHash !== parent.hash)
      throw new EngineError(
        'payload-attributes.parent',
        `parentHash ${parentHash} is not the engine's head ${parent.hash} (block ${parent.number}); the devnet EL has no forks`,
      );
    if (
      typeof attrs.timestamp !== 'bigint' ||
      attrs.timestamp <= parent.payload.timestamp ||
      attrs.timestamp >= 1n << 64n
    )
      throw new EngineError(
        'payload-attributes.timestamp',
        `timestamp ${String(attrs.timestamp)} must be a u64 greater than the parent's ${parent.payload.timestamp}`,
      );
    checkHex(attrs.suggestedFeeRecipient, 'suggestedFeeRecipient', 20);
    checkHex(attrs.prevRandao, 'prevRandao', 32);
    if (!Array.isArray(attrs.withdrawals) || attrs.withdrawals.length > MAX_WITHDRAWALS)
      throw new EngineError(
        'payload-attributes.withdrawals',
        `withdrawals must be an array of at most ${MAX_WITHDRAWALS} (Lighthouse MainnetEthSpec)`,
      );
    attrs.withdrawals.forEach((w, i) => {
      for (const f of ['index', 'validatorIndex', 'amount'] as const)
        if (typeof w?.[f] !== 'bigint' || w[f] < 0n || w[f] >= 1n << 64n)
          throw new EngineError('payload-attributes.withdrawals', `withdrawals[${i}].${f} must be a u64 bigint`);
      checkHex(w.address, `withdrawals[${i}].address`, 20);
    });
    if (attrs.transactions !== undefined) {
      if (!Array.isArray(attrs.transactions))
        throw new EngineError('payload-attributes.transactions', 'transactions must be an array of raw transactions');
      attrs.transactions.forEach((t, i) => {
        if (!(t instanceof Uint8Array) || t.length === 0)
          throw new EngineError('payload-attributes.transactions', `transactions[${i}] must be non-empty bytes`);
      });
    }
    if (attrs.senders !== undefined) {
      if (
        !Array.isArray(attrs.senders) ||
        attrs.transactions === undefined ||
        attrs.senders.length !== attrs.transactions.length
      )
        throw new EngineError(
          'payload-attributes.senders',
          'senders must be an array with one 20-byte sender per transaction',
        );
      attrs.senders.forEach((s, i) => {
        if (!(s instanceof Uint8Array) || s.length !== 20)
          throw new EngineError('payload-attributes.senders', `senders[${i}] must be 20 bytes`);
      });
    }
  }

  interface Included {
    raw: Uint8Array;
    tx: TypedTransaction;
    from: Hex;
    hash: Hex;
    result: RunTxResult;
  }

  async function buildPayloadLocked(attrs: PayloadAttributes): Promise<BuiltPayload> {
    if (closed) throw new EngineError('closed', 'the engine is closed');
    validateAttributes(attrs);
    const parentHeader = headHeader;
    const number = parentHeader.number + 1n;
    const baseFee = parentHeader.calcNextBaseFee();
    const coinbase = new Address(bytesOf(attrs.suggestedFeeRecipient));
    const mixHash = bytesOf(attrs.prevRandao);
    const context: Block = createBlock(
      {
        header: {
          parentHash: parentHeader.hash(),
          number,
          timestamp: attrs.timestamp,
          gasLimit: parentHeader.gasLimit,
          baseFeePerGas: baseFee,
          coinbase,
          mixHash,
          difficulty: 0n,
        },
      },
      { common },
    );
    const included: Included[] = [];
    let gasUsed = 0n;
    await vm.evm.journal.checkpoint();
    try {
      const tryInclude = async (raw: Uint8Array, tx: TypedTransaction, from: Hex, hash: Hex): Promise<void> => {
        if (tx.gasLimit > parentHeader.gasLimit - gasUsed) throw new Error('gas limit reached');
        const result = await runTx(vm, { tx, block: context, blockGasUsed: gasUsed });
        gasUsed += result.totalGasSpent;
        included.push({ raw, tx, from, hash, result });
      };
      if (attrs.transactions !== undefined) {
        for (let i = 0; i < attrs.transactions.length; i++) {
          const raw = attrs.transactions[i]!;
          let decoded: { tx: TypedTransaction; from: Hex; hash: Hex } | undefined;
          try {
            decoded = decodeRawTransaction(raw, attrs.senders?.[i]);
            await tryInclude(raw, decoded.tx, decoded.from, decoded.hash);
          } catch (e) {
            throw new EngineError(
              'payload-attributes.transactions',
              `transactions[${i}] is invalid in block ${number}: ${e instanceof RpcError ? e.message : gethTxError(e, decoded?.tx, decoded?.from)}`,
              { cause: e },
            );
          }
        }
      } else {
        await includeFromPool(baseFee, parentHeader.gasLimit, () => gasUsed, tryInclude);
      }
      // Shanghai: withdrawals after the transactions; Gwei -> wei, zero amounts touch nothing (as geth).
      for (const w of attrs.withdrawals) {
        if (w.amount === 0n) continue;
        const addr = new Address(bytesOf(w.address));
        const account = (await stateManager.getAccount(addr)) ?? new Account();
        account.balance += w.amount * GWEI;
        await vm.evm.journal.putAccount(addr, account);
      }
      await vm.evm.journal.commit();
    } catch (e) {
      await vm.evm.journal.revert();
      throw e;
    }
    const stateRoot = await stateManager.getStateRoot();

    // Receipts encoded by ethereumjs (the EL's own); the transactions, receipts and withdrawals roots
    // by src/protocol's one-pass builder (synchronous, ~5x faster per block than ethereumjs's async
    // trie), which the known-answer tests check against real mainnet blocks and test/devnet/evm/
    // anvil.test.ts against anvil's roots for the same transactions.
    const encodedReceipts: Uint8Array[] = [];
    const bloom = new Uint8Array(256);
    const receipts: ReceiptRecord[] = [];
    let priorityFeesWei = 0n;
    for (let i = 0; i < included.length; i++) {
      const { tx, hash, result } = included[i]!;
      const from = internAddress(bytesOf(included[i]!.from));
      encodedReceipts.push(encodeReceipt(result.receipt, tx.type));
      const bits = result.receipt.bitvector;
      for (let b = 0; b < 256; b++) bloom[b]! |= bits[b]!;
      const price = effectiveGasPrice(tx, baseFee);
      const tip = price - baseFee;
      const used = result.totalGasSpent;
      priorityFeesWei += tip * used;
      const logs = (result.execResult.logs ?? []).map(([address, topics, data]) => ({
        address: internAddress(address),
        topics: topics.map(hex),
        data: hex(data),
      }));
      receipts.push({
        transactionHash: hash,
        from,
        to: tx.to === undefined ? null : internAddress(tx.to.bytes),
        status: result.execResult.exceptionError === undefined ? 'success' : 'reverted',
        gasUsed: used,
        effectiveTipPerGas: tip,
        logs,
        type: tx.type,
        cumulativeGasUsed: result.receipt.cumulativeBlockGasUsed,
        contractAddress:
          tx.to === undefined ? hex(generateAddress(bytesOf(from), bigIntToUnpaddedBytes(tx.nonce))) : null,
        effectiveGasPrice: price,
      });
    }
    const withdrawals: Withdrawal[] = attrs.withdrawals.map((w) => ({
      index: w.index,
      validatorIndex: w.validatorIndex,
      address: w.address.toLowerCase() as Hex,
      amount: w.amount,
    }));
    const header = createBlockHeader(
      {
        parentHash: parentHeader.hash(),
        coinbase,
        stateRoot,
        transactionsTrie: orderedTrieRoot(
          included.map((t) => t.raw),
          keccak256,
        ),
        receiptTrie: orderedTrieRoot(encodedReceipts, keccak256),
        logsBloom: bloom,
        difficulty: 0n,
        number,
        gasLimit: parentHeader.gasLimit,
        gasUsed,
        timestamp: attrs.timestamp,
        extraData: new Uint8Array(0),
        mixHash,
        nonce: new Uint8Array(8),
        baseFeePerGas: baseFee,
        withdrawalsRoot: withdrawalsRoot(withdrawals),
      },
      { common },
    );
    headHeader = header;
    const record = addBlock(
      header,
      included.map((t) => t.raw),
      withdrawals,
      receipts,
      bloom,
    );
    for (const t of included) {
      const entry = pool.get(t.hash);
      if (entry !== undefined) removeFromPool(entry);
    }
    if (pool.size > 0) await prunePool();
    maybeCollectGarbage();
    return { payload: record.payload, receipts, priorityFeesWei };
  }

  /**
   * geth-like selection: per sender the executable nonce sequence, across senders the highest
   * effective tip first (ties: arrival order). A transaction that fails validation is dropped with
   * the rest of its sender's sequence left for later; one that does not fit the remaining gas ends
   * its sender's turn in this block.
   */
  async function includeFromPool(
    baseFee: bigint,
    blockGasLimit: bigint,
    gasUsed: () => bigint,
    tryInclude: (raw: Uint8Array, tx: TypedTransaction, from: Hex, hash: Hex) => Promise<void>,
  ): Promise<void> {
    const queues: PoolTx[][] = [];
    for (const [from, txs] of poolBySender) {
      const account = await stateManager.getAccount(new Address(bytesOf(from)));
      let nonce = account?.nonce ?? 0n;
      const q: PoolTx[] = [];
      for (let t = txs.get(nonce); t !== undefined; t = txs.get(++nonce)) q.push(t);
      if (q.length > 0) queues.push(q);
    }
    const tipOf = (t: PoolTx) => {
      const price = effectiveGasPrice(t.tx, baseFee);
      return price - baseFee;
    };
    while (queues.length > 0 && blockGasLimit - gasUsed() >= 21_000n) {
      let best = 0;
      for (let i = 1; i < queues.length; i++) {
        const a = queues[i]![0]!;
        const b = queues[best]![0]!;
        const ta = tipOf(a);
        const tb = tipOf(b);
        if (ta > tb || (ta === tb && a.arrival < b.arrival)) best = i;
      }
      const q = queues[best]!;
      const entry = q[0]!;
      if (maxFeeOf(entry.tx) < baseFee || entry.tx.gasLimit > blockGasLimit - gasUsed()) {
        queues.splice(best, 1); // stays in the pool for a later block
        continue;
      }
      try {
        await tryInclude(entry.raw, entry.tx, entry.from, entry.hash);
        q.shift();
        if (q.length === 0) queues.splice(best, 1);
      } catch {
        removeFromPool(entry); // invalid now (e.g. balance spent meanwhile): dropped, as geth would
        queues.splice(best, 1);
      }
    }
  }

  function keptFrom(): bigint {
    const n = head().number - BigInt(historyBlocks);
    return n < 0n ? 0n : n;
  }

  // Marking costs ~10 µs per kept node, so sweeping every 256 blocks (or every historyBlocks, if more)
  // amortises it to well under a millisecond per block; at most historyBlocks + gcInterval states live.
  const gcInterval = BigInt(Math.max(historyBlocks, 256));

  function maybeCollectGarbage(): void {
    const h = head().number;
    if (h % gcInterval !== 0n) return;
    const roots: Uint8Array[] = [];
    for (let n = keptFrom(); n <= h; n++) roots.push(blocks[Number(n)]!.stateRoot);
    const r = store.collect(roots);
    gcRuns++;
    gcMs += r.ms;
  }

  // ------------------------------------------------------------ queries
  function assertStateAvailable(block: BlockRecord): void {
    if (block.number < keptFrom() || !store.hasRoot(block.stateRoot))
      throw new RpcError(
        RpcCode.server,
        `historical state ${hex(block.stateRoot)} is not available: block ${block.number} is older than the ${historyBlocks} most recent blocks whose state this devnet keeps (head ${head().number})`,
      );
  }

  function readerAt(block: BlockRecord): MerkleStateManager {
    return readerWithTrie(block).state;
  }

  function readerWithTrie(block: BlockRecord): { state: MerkleStateManager; trie: MerklePatriciaTrie } {
    assertStateAvailable(block);
    const trie = store.openTrie(block.stateRoot);
    return { state: new MerkleStateManager({ common, trie }), trie };
  }

  async function withState<T>(
    block: BlockRecord,
    fn: (state: MerkleStateManager, trie: MerklePatriciaTrie) => Promise<T>,
  ): Promise<T> {
    return serial(async () => {
      const { state, trie } = readerWithTrie(block);
      return fn(state, trie);
    });
  }

  let simulator: { block: BlockRecord; reader: MerkleStateManager; vm: VM } | undefined;

  function callTx(msg: CallMessage, gas: bigint, baseFee: bigint, nonce: bigint): TypedTransaction {
    const base = { nonce, gasLimit: gas, to: msg.to, value: msg.value, data: msg.data };
    let tx: TypedTransaction;
    if (msg.maxFeePerGas !== undefined || msg.maxPriorityFeePerGas !== undefined) {
      const maxFeePerGas = msg.maxFeePerGas ?? baseFee * 2n + (msg.maxPriorityFeePerGas ?? 0n);
      tx = createFeeMarket1559Tx(
        {
          ...base,
          chainId,
          maxFeePerGas,
          maxPriorityFeePerGas: msg.maxPriorityFeePerGas ?? 0n,
          accessList: msg.accessList ?? [],
        },
        { common, freeze: false },
      );
    } else if (msg.accessList !== undefined) {
      tx = createAccessList2930Tx(
        { ...base, chainId, gasPrice: msg.gasPrice ?? 0n, accessList: msg.accessList },
        { common, freeze: false },
      );
    } else {
      tx = createLegacyTx({ ...base, gasPrice: msg.gasPrice ?? 0n }, { common, freeze: false });
    }
    // An unsigned message "from" anyone, as geth's eth_call (the simulator's tx is never broadcast).
    (tx as { getSenderAddress: () => Address }).getSenderAddress = () => msg.from;
    return tx;
  }

  async function withSimulator<T>(
    block: BlockRecord,
    fn: (run: (msg: CallMessage, gas: bigint) => Promise<CallOutcome>, state: MerkleStateManager) => Promise<T>,
  ): Promise<T> {
    return serial(async () => {
      assertStateAvailable(block);
      // One simulator per block, reused by later calls at the same block (creating a VM costs ~5 ms);
      // every run is checkpointed and reverted, so it always starts from the block's state.
      if (simulator?.block !== block) {
        const reader = readerAt(block);
        simulator = { block, reader, vm: await createVM({ common, stateManager: reader, blockchain }) };
      }
      const { reader, vm: simVm } = simulator;
      const run = async (msg: CallMessage, gas: bigint): Promise<CallOutcome> => {
        // geth: with no fee fields the call runs with gas price 0 and the block context's base fee 0.
        const noFees =
          msg.gasPrice === undefined && msg.maxFeePerGas === undefined && msg.maxPriorityFeePerGas === undefined;
        const baseFee = noFees ? 0n : block.payload.baseFeePerGas;
        const ctx = createBlock(
          {
            header: {
              parentHash: bytesOf(block.payload.parentHash),
              number: block.number,
              timestamp: block.payload.timestamp,
              gasLimit: block.payload.gasLimit,
              baseFeePerGas: baseFee,
              coinbase: new Address(bytesOf(block.payload.feeRecipient)),
              mixHash: bytesOf(block.payload.prevRandao),
              difficulty: 0n,
            },
          },
          { common, skipConsensusFormatValidation: true },
        );
        const account = await reader.getAccount(msg.from);
        const tx = callTx(msg, gas, block.payload.baseFeePerGas, msg.nonce ?? account?.nonce ?? 0n);
        await simVm.evm.journal.checkpoint();
        try {
          const result = await runTx(simVm, {
            tx,
            block: ctx,
            skipNonce: true,
            skipBlockGasLimitValidation: true,
            skipHardForkValidation: true,
          });
          const err = result.execResult.exceptionError;
          return {
            success: err === undefined,
            reverted: err?.error === 'revert',
            error: err === undefined || err.error === 'revert' ? undefined : err.error,
            returnValue: result.execResult.returnValue,
            gasUsed: result.totalGasSpent,
            gasRefund: result.gasRefund,
          };
        } catch (e) {
          throw new RpcError(RpcCode.server, gethTxError(e, tx, hex(msg.from.bytes)));
        } finally {
          await simVm.evm.journal.revert();
        }
      };
      return fn(run, reader);
    });
  }

  const core: EngineCore = {
    chainId,
    common,
    clientVersion,
    historyBlocks,
    rpcGasCap,
    maxLogs,
    head,
    blockByNumber: (n) => (n >= 0n && n < BigInt(blocks.length) ? blocks[Number(n)] : undefined),
    blockByHash: (h) => byHash.get(h.toLowerCase()),
    finalized: () => finalizedBlock,
    txLocation: (h) => findTx(h.toLowerCase()),
    pendingTx: (h) => pool.get(h.toLowerCase()),
    decodeTx,
    assertStateAvailable,
    withState,
    withSimulator,
    poolHasNonce: (from, nonce) => poolBySender.get(from.toLowerCase())?.has(nonce) ?? false,
    sendRawTransaction: (raw) => serial(() => sendRawTransactionLocked(raw)),
  };

  const handleRpc = createRpcHandler(core);
  const servers = new Set<{ close(): Promise<void> }>();

  const engine: DevnetEngine = {
    chainId,
    core,
    genesisPayload: () => blocks[0]!.payload,
    headHash: () => head().hash,
    buildPayload: (attrs) => serial(() => buildPayloadLocked(attrs)),
    async sendRawTransaction(raw) {
      try {
        return await core.sendRawTransaction(raw);
      } catch (e) {
        if (e instanceof RpcError) throw new EngineError('transaction', e.message, { cause: e });
        throw e;
      }
    },
    setFinalized(blockHash) {
      const record = typeof blockHash === 'string' ? byHash.get(blockHash.toLowerCase()) : undefined;
      if (record === undefined)
        throw new EngineError('finalized', `setFinalized: ${String(blockHash)} is not a block of this engine`);
      if (finalizedBlock !== undefined && record.number < finalizedBlock.number)
        throw new EngineError(
          'finalized',
          `setFinalized: block ${record.number} is older than the finalized block ${finalizedBlock.number}; finality does not go back`,
        );
      finalizedBlock = record;
    },
    async receipts(blockHash) {
      const record = byHash.get(String(blockHash).toLowerCase());
      if (record === undefined)
        throw new EngineError('receipts', `receipts: ${String(blockHash)} is not a block of this engine`);
      return record.receipts;
    },
    handleRpc,
    async serve({ port }) {
      const server = await serveRpc(handleRpc, port);
      servers.add(server);
      return {
        url: server.url,
        close: async () => {
          servers.delete(server);
          await server.close();
        },
      };
    },
    async close() {
      closed = true;
      await Promise.all([...servers].map((s) => s.close()));
      servers.clear();
    },
    stateNodes: store.nodes,
    stats: () => ({ blocks: blocks.length, stateNodes: store.nodes.size, mempool: pool.size, gcRuns, gcMs }),
  };
  return engine;
}
