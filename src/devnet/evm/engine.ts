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
 * State history: see state.ts (mark-and-sweep over a shared node map) and state-history.ts. Blocks,
 * receipts and logs are kept for the whole chain; the state of the last `historyBlocks` blocks
 * (default 128) is kept, older block tags get a JSON-RPC error that says so.
 *
 * This file composes the engine from its parts, each a factory over what it is given: the chain of
 * blocks (block-store.ts), the kept states (state-history.ts), the mempool (mempool.ts), block
 * building (payload-builder.ts) and eth_call / eth_estimateGas (simulate.ts). Everything touching
 * state runs on one serial queue created here.
 */
import { createBlockHeader, type BlockHeader } from '@ethereumjs/block';
import { MerklePatriciaTrie } from '@ethereumjs/mpt';
import { Caches, type MerkleStateManager } from '@ethereumjs/statemanager';
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx';
import { Account, Address } from '@ethereumjs/util';
import { createVM, type VM } from '@ethereumjs/vm';
import type { Hex } from '../../protocol/types.js';
import type { BuiltPayload, ExecutionEngine, PayloadAttributes } from '../types.js';
import { createBlockStore, type BlockStore } from './block-store.js';
import { createDevnetCommon, keccak256, type DevnetCommon } from './crypto.js';
import { EngineError, RpcError } from './errors.js';
import { BatchFlushStateManager } from './flush.js';
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
import { serveRpc } from './http.js';
import { createMempool } from './mempool.js';
import { createPayloadBuilder } from './payload-builder.js';
import type { BlockRecord, CallMessage, CallOutcome, EngineRestore, PoolTx } from './records.js';
import { createRpcHandler } from './rpc.js';
import { createSimulator } from './simulate.js';
import { createStateHistory } from './state-history.js';
import { createStateNodeStore } from './state.js';
import { bytesOf } from './hex.js';

export type {
  BlockRecord,
  CallMessage,
  CallOutcome,
  EngineRestore,
  LogRecord,
  PoolTx,
  ReceiptRecord,
} from './records.js';
export { gethTxError } from './transaction.js';

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

export async function createEngine(opts: EngineOptions = {}): Promise<DevnetEngine> {
  const chainId = opts.chainId ?? DEFAULT_CHAIN_ID;
  if (chainId <= 0n || chainId >= 1n << 64n)
    throw new EngineError('options', `chainId must be a positive u64, got ${chainId}`);
  const historyBlocks = Math.max(1, Math.floor(opts.historyBlocks ?? 128));
  const rpcGasCap = opts.rpcGasCap ?? 50_000_000n;
  const clientVersion = opts.clientVersion ?? 'alys-light-devnet/v0.1.0/ethereumjs-vm-10.1.3/node';
  const maxLogs = opts.maxLogs ?? 10_000;
  const common = createDevnetCommon(chainId);
  const store = createStateNodeStore(common);
  // (c) of the speed-ups: Caches make writes reach the trie once per block, at the flush.
  const stateManager = new BatchFlushStateManager(
    { common, trie: store.openTrie(), caches: new Caches() },
    store.nodes,
    keccak256,
  );
  const blocks = createBlockStore();
  const serial = createSerialQueue();
  let closed = false;

  // BLOCKHASH reads the engine's own blocks (the EVM only asks for the last 256).
  const blockchain = {
    async getBlock(n: number) {
      const record = blocks.byNumber(BigInt(n));
      const hash = record === undefined ? ZERO_HASH : bytesOf(record.hash);
      return { hash: () => hash };
    },
    async putBlock() {},
    shallowCopy() {
      return blockchain;
    },
  };
  const vm: VM = await createVM({ common, stateManager, blockchain });

  blocks.add(await writeGenesis(stateManager, common, opts), [], [], [], new Uint8Array(256));
  if (opts.restore !== undefined) {
    // Replace the genesis-only chain by a persisted one (persist.ts checked it).
    const r = opts.restore;
    blocks.replaceWith(r);
    for (const [k, v] of r.stateNodes) store.nodes.set(k, v);
    await stateManager.setStateRoot(r.headHeader.stateRoot);
  }

  const history = createStateHistory({ common, store, blocks, historyBlocks });
  const mempool = createMempool({
    common,
    getAccount: (address) => stateManager.getAccount(address),
    findTx: blocks.findTx,
    blockGasLimit: () => blocks.headHeader().gasLimit,
  });
  const builder = createPayloadBuilder({ common, vm, state: stateManager, blocks, mempool });
  const simulator = createSimulator({
    common,
    chainId,
    assertAvailable: history.assertAvailable,
    readerAt: (block) => history.readerAt(block).state,
    createVmOver: (reader) => createVM({ common, stateManager: reader, blockchain }),
  });

  const core: EngineCore = {
    chainId,
    common,
    clientVersion,
    historyBlocks,
    rpcGasCap,
    maxLogs,
    head: blocks.head,
    blockByNumber: blocks.byNumber,
    blockByHash: (h) => blocks.byHash(h.toLowerCase()),
    finalized: blocks.finalized,
    txLocation: (h) => blocks.findTx(h.toLowerCase()),
    pendingTx: (h) => mempool.get(h.toLowerCase()),
    decodeTx: (raw) => createTxFromRLP(typeof raw === 'string' ? bytesOf(raw) : raw, { common }),
    assertStateAvailable: history.assertAvailable,
    withState: (block, fn) =>
      serial(async () => {
        const { state, trie } = history.readerAt(block);
        return fn(state, trie);
      }),
    withSimulator: (block, fn) => serial(() => simulator.at(block, fn)),
    poolHasNonce: (from, nonce) => mempool.hasNonce(from.toLowerCase(), nonce),
    sendRawTransaction: (raw) => serial(() => mempool.add(raw)),
  };

  async function buildPayloadLocked(attrs: PayloadAttributes): Promise<BuiltPayload> {
    if (closed) throw new EngineError('closed', 'the engine is closed');
    const built = await builder.build(attrs);
    history.afterBlock();
    return built;
  }

  const handleRpc = createRpcHandler(core);
  const servers = new Set<{ close(): Promise<void> }>();

  const engine: DevnetEngine = {
    chainId,
    core,
    genesisPayload: () => blocks.byNumber(0n)!.payload,
    headHash: () => blocks.head().hash,
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
      setFinalized(blocks, blockHash);
    },
    async receipts(blockHash) {
      const record = blocks.byHash(String(blockHash).toLowerCase());
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
    stats: () => ({
      blocks: blocks.count(),
      stateNodes: store.nodes.size,
      mempool: mempool.size(),
      ...history.stats(),
    }),
  };
  return engine;
}

/** Mark `blockHash` finalized; finality only moves forward. */
function setFinalized(blocks: BlockStore, blockHash: unknown): void {
  const record = typeof blockHash === 'string' ? blocks.byHash(blockHash.toLowerCase()) : undefined;
  if (record === undefined)
    throw new EngineError('finalized', `setFinalized: ${String(blockHash)} is not a block of this engine`);
  const finalized = blocks.finalized();
  if (finalized !== undefined && record.number < finalized.number)
    throw new EngineError(
      'finalized',
      `setFinalized: block ${record.number} is older than the finalized block ${finalized.number}; finality does not go back`,
    );
  blocks.setFinalized(record);
}

/** Write the genesis allocation into the (empty) head state; returns the genesis header. */
async function writeGenesis(
  stateManager: MerkleStateManager,
  common: DevnetCommon,
  opts: EngineOptions,
): Promise<BlockHeader> {
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
  return createBlockHeader(
    {
      number: 0n,
      parentHash: ZERO_HASH,
      coinbase: new Address(new Uint8Array(20)),
      stateRoot: await stateManager.getStateRoot(),
      difficulty: GENESIS_DIFFICULTY,
      gasLimit: opts.gasLimit ?? DEFAULT_GAS_LIMIT,
      gasUsed: 0n,
      timestamp: opts.genesisTimestamp ?? DEFAULT_GENESIS_TIMESTAMP,
      extraData: bytesOf(opts.genesisExtraData ?? DEFAULT_GENESIS_EXTRA_DATA),
      mixHash: ZERO_HASH,
      nonce: bytesOf(GENESIS_NONCE),
      baseFeePerGas: GENESIS_BASE_FEE,
      withdrawalsRoot: new MerklePatriciaTrie({ common }).root(),
    },
    { common },
  );
}

/** Serialises async work: each call runs after the previous one settled. */
function createSerialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}
