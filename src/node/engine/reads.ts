/**
 * Verified EVM reads: account state, blocks, transactions, receipts and logs read from untrusted EVM
 * JSON-RPC endpoints and checked against verified consensus data (a {@link VerifiedPayloadSource}).
 *
 * What each read trusts and checks:
 * - Account state (balance, nonce, code, storage): `eth_getProof` at the verified block (EIP-1898
 *   `{ blockHash }`), decoded and verified against the payload's stateRoot (protocol
 *   `verifyGetProofResponse`: account proof, every claimed field, every storage proof). Code: the
 *   `eth_getCode` bytes must hash to the proven codeHash (`code.hash`).
 * - Blocks: `eth_getBlockByHash(payload.blockHash)`; the header must hash to its claimed hash (protocol
 *   `verifyRpcBlock`), that hash must be the payload's (`el-block.hash`), the header fields must equal the
 *   payload's (`el-block.number`, `el-block.state-root`, `el-block.receipts-root`, …), the transactions root
 *   must be the root of the payload's raw transactions and the listed hashes theirs; full transaction
 *   objects must re-serialise to the raw transactions and claim the sender recovered from the signature
 *   (`el-block.tx-from`).
 * - Transactions and receipts: the endpoint's `eth_getTransactionByHash` only *locates* the transaction
 *   (a candidate block number). The payload of that verified block must contain the transaction at the
 *   claimed index (`tx-location.*`); the block's receipts (`eth_getBlockReceipts`) are verified against
 *   the payload's receiptsRoot, gasUsed, logsBloom and transaction hashes (protocol `verifyBlockReceipts`);
 *   an endpoint without eth_getBlockReceipts is asked eth_getTransactionReceipt per transaction instead.
 *   Fields no root commits to (`from`, `to`, `contractAddress`, `effectiveGasPrice`) are derived from the
 *   verified raw transaction, and the endpoint's claims about them are checked (`receipt.*`, `tx.*`).
 * - Logs: never `eth_getLogs`. The verified logsBloom of each payload in the range selects the blocks that
 *   may match; their receipts are fetched and verified as above and the filter is applied locally.
 *
 * Results are built from verified values only (format.ts). Absence cannot be proven: a transaction that
 * no endpoint knows (or only as pending, or in a block not verified yet) reads as null once every
 * endpoint was asked.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { parseHex, toHex, type Hex } from '../../protocol/bytes.js';
import { DecodeError } from '../../protocol/errors.js';
import {
  createdContractAddress,
  decodeGetProofResponse,
  decodeRawTransaction,
  effectiveGasPrice,
  recoverSender,
  type DecodedTransaction,
  decodeRpcBlockReceipts,
  decodeRpcTransaction,
  encodeRpcTransaction,
  transactionsRoot,
  verifyBlockReceipts,
  verifyGetProofResponse,
  verifyRpcBlock,
  withdrawalsRoot,
  type RpcBlockHeader,
  type RpcReceipt,
} from '../../protocol/execution/index.js';
import {
  data as jsonData,
  expectObject,
  quantity as jsonQuantity,
  quantityNumber,
} from '../../protocol/execution/json.js';
import { bytesEqual } from '../../protocol/execution/util.js';
import type { ExecutionPayloadCapella } from '../../protocol/types.js';
import { ABSENT, createEndpointPool, type EndpointHandle, type EndpointPool } from './endpoints.js';
import { BlockNotVerifiedError, EndpointRequestError, LogQueryLimitError, type EndpointFault } from './errors.js';
import { blockSize, formatBlock, formatLog, formatReceipt, formatTransaction, quantity } from './format.js';
import { bloomMayMatch, compileLogFilter, logMatches } from './logs.js';
import type {
  BlockRef,
  CheckedElBlock,
  EndpointStats,
  LogFilter,
  RpcBlockJson,
  RpcLogJson,
  RpcProofJson,
  RpcReceiptJson,
  RpcTransactionJson,
  VerifiedAccount,
  VerifiedPayloadSource,
} from './types.js';

export interface VerifiedReadsOptions {
  /** One or more EVM JSON-RPC URLs, in order of preference. */
  evmRpc: readonly string[];
  /** Verified consensus data (the chain side of the node). */
  payloads: VerifiedPayloadSource;
  /** Per HTTP request (default 10,000 ms). */
  timeoutMs?: number;
  /** fetch for the HTTP transport (default: the global fetch). */
  fetch?: typeof fetch;
  /** Called for every endpoint fault (a lie: EndpointVerificationError; a failure: EndpointRequestError). */
  onEndpointFault?: (url: string, error: EndpointFault) => void;
  /** Most blocks one getLogs query may span (default 2,000). */
  maxLogBlockRange?: number;
  /** Most logs one getLogs query may return (default 10,000, as geth). */
  maxLogs?: number;
  /** Blocks whose receipts getLogs fetches at once (default 4). */
  logConcurrency?: number;
  /** How long an endpoint that faulted is tried after the healthy ones (default 60,000 ms). */
  faultCooldownMs?: number;
  /** Clock for the cooldown (default Date.now). */
  now?: () => number;
}

export interface VerifiedReads {
  /** The configured endpoint URLs. */
  readonly endpoints: readonly string[];
  /** The verified head's EL block number. */
  blockNumber(): Promise<bigint>;
  getBalance(address: Hex, ref?: BlockRef): Promise<bigint>;
  getTransactionCount(address: Hex, ref?: BlockRef): Promise<bigint>;
  /** Code whose keccak is the proven codeHash ('0x' for accounts without code). */
  getCode(address: Hex, ref?: BlockRef): Promise<Hex>;
  /** The proven value of a storage slot as 32 bytes (eth_getStorageAt's form). */
  getStorageAt(address: Hex, slot: bigint | Hex, ref?: BlockRef): Promise<Hex>;
  /** The proven account and slots, with the verified proof. */
  getProof(address: Hex, slots?: readonly (bigint | Hex)[], ref?: BlockRef): Promise<VerifiedAccount>;
  /**
   * A verified block; null when no verified block has that number/hash. A tag ('latest', …) without a
   * verified block throws BlockNotVerifiedError (the node is not synced).
   */
  getBlock(ref: BlockRef, includeTransactions?: boolean): Promise<RpcBlockJson | null>;
  /** Verified receipts of a block (null as getBlock). */
  getBlockReceipts(ref: BlockRef): Promise<RpcReceiptJson[] | null>;
  /** A mined transaction in a verified block; null if no endpoint locates it in one. */
  getTransaction(hash: Hex): Promise<RpcTransactionJson | null>;
  /** The verified receipt of a mined transaction; null if no endpoint locates it in a verified block. */
  getTransactionReceipt(hash: Hex): Promise<RpcReceiptJson | null>;
  /** Logs from verified receipts, filtered locally (bounded ranges: LogQueryLimitError). */
  getLogs(filter: LogFilter): Promise<RpcLogJson[]>;
  /** Fetch the EL block of a (verified) payload and check that it is that block. The node runs this on import. */
  checkElBlock(payload: ExecutionPayloadCapella): Promise<CheckedElBlock>;
  /** An UNVERIFIED request, with transport failover across the endpoints (for pass-through methods). */
  forward(method: string, params?: unknown): Promise<unknown>;
  /** Per-endpoint counters. */
  endpointStats(): EndpointStats[];
}

const DEFAULTS = {
  timeoutMs: 10_000,
  maxLogBlockRange: 2_000,
  maxLogs: 10_000,
  logConcurrency: 4,
  faultCooldownMs: 60_000,
};
const TAGS = new Set(['latest', 'safe', 'finalized', 'earliest']);
/** JSON-RPC 'method not found'. */
const METHOD_NOT_FOUND = -32601;

/** Small LRU over a Map (insertion order = recency). */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
}

/** What the engine derives from a verified payload, once per block. */
interface BlockTxs {
  raw: Uint8Array[];
  hashes: Uint8Array[];
  indexByHash: Map<Hex, number>;
  decoded: (DecodedTransaction | undefined)[];
}

function checkRef(ref: BlockRef): BlockRef {
  if (typeof ref === 'bigint') {
    if (ref < 0n || ref >= 1n << 64n) throw new DecodeError('block', `block number ${ref} out of range`);
    return ref;
  }
  if (typeof ref !== 'string')
    throw new DecodeError('block', 'expected a block tag, a bigint number or a 32-byte hash');
  if (TAGS.has(ref)) return ref;
  return toHex(parseHex(ref, 'block', { prefix: 'required', length: 32 }));
}

function isTag(ref: BlockRef): boolean {
  return typeof ref === 'string' && TAGS.has(ref);
}

function addressBytes(address: unknown, path = 'address'): Uint8Array {
  return parseHex(address, path, { prefix: 'required', length: 20 });
}

function slotBytes(slot: unknown, path: string): Uint8Array {
  let n: bigint;
  if (typeof slot === 'bigint') n = slot;
  else if (typeof slot === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(slot)) n = BigInt(slot);
  else throw new DecodeError(path, 'expected a bigint or 0x hex of at most 32 bytes');
  if (n < 0n || n >= 1n << 256n) throw new DecodeError(path, 'storage slot out of range');
  return parseHex(`0x${n.toString(16).padStart(64, '0')}`, path, { prefix: 'required', length: 32 });
}

const lower = (h: string) => h.toLowerCase() as Hex;

export function createVerifiedReads(options: VerifiedReadsOptions): VerifiedReads {
  if (!Array.isArray(options.evmRpc) || options.evmRpc.length === 0)
    throw new TypeError('createVerifiedReads: evmRpc needs at least one URL');
  for (const url of options.evmRpc) {
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url))
      throw new TypeError(`createVerifiedReads: not an http(s) URL: ${String(url)}`);
  }
  if (typeof options.payloads?.payload !== 'function')
    throw new TypeError('createVerifiedReads: payloads must be a VerifiedPayloadSource');
  const cfg = {
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    maxLogBlockRange: options.maxLogBlockRange ?? DEFAULTS.maxLogBlockRange,
    maxLogs: options.maxLogs ?? DEFAULTS.maxLogs,
    logConcurrency: options.logConcurrency ?? DEFAULTS.logConcurrency,
    faultCooldownMs: options.faultCooldownMs ?? DEFAULTS.faultCooldownMs,
  };
  for (const key of ['maxLogBlockRange', 'maxLogs', 'logConcurrency', 'timeoutMs'] as const)
    if (!Number.isSafeInteger(cfg[key]) || cfg[key] < 1)
      throw new RangeError(`createVerifiedReads: ${key} must be a positive integer`);
  const source = options.payloads;
  const pool: EndpointPool = createEndpointPool({
    urls: [...options.evmRpc],
    timeoutMs: cfg.timeoutMs,
    fetch: options.fetch,
    onFault: options.onEndpointFault,
    faultCooldownMs: cfg.faultCooldownMs,
    now: options.now ?? (() => Date.now()),
  });

  // Caches keyed by EL block hash / tx hash: immutable data, so always safe to reuse.
  const txsCache = new Lru<Hex, BlockTxs>(256);
  const receiptsCache = new Lru<Hex, RpcReceipt[]>(128);
  const senderCache = new Lru<Hex, Uint8Array>(8192);
  const rootCache = new Lru<Hex, { transactionsRoot: Uint8Array; withdrawalsRoot: Uint8Array }>(256);

  async function payloadOrNull(ref: BlockRef): Promise<ExecutionPayloadCapella | undefined> {
    const p = await source.payload(ref);
    if (p === undefined && isTag(ref)) throw new BlockNotVerifiedError(ref);
    return p;
  }

  async function payloadFor(ref: BlockRef): Promise<ExecutionPayloadCapella> {
    const p = await source.payload(ref);
    if (p === undefined) throw new BlockNotVerifiedError(ref);
    return p;
  }

  function blockTxs(payload: ExecutionPayloadCapella): BlockTxs {
    const key = lower(payload.blockHash);
    let t = txsCache.get(key);
    if (t === undefined) {
      const raw = payload.transactions.map((tx, i) =>
        parseHex(tx, `payload.transactions[${i}]`, { prefix: 'required' }),
      );
      const hashes = raw.map((r) => keccak_256(r));
      t = { raw, hashes, indexByHash: new Map(hashes.map((h, i) => [toHex(h), i])), decoded: new Array(raw.length) };
      txsCache.set(key, t);
    }
    return t;
  }

  function decodedTx(t: BlockTxs, i: number): DecodedTransaction {
    let d = t.decoded[i];
    if (d === undefined) d = t.decoded[i] = decodeRawTransaction(t.raw[i]!, `transactions[${i}]`);
    return d;
  }

  function senderOf(tx: DecodedTransaction): Uint8Array {
    const key = toHex(tx.hash);
    let s = senderCache.get(key);
    if (s === undefined) {
      s = recoverSender(tx);
      senderCache.set(key, s);
    }
    return s;
  }

  function payloadRoots(payload: ExecutionPayloadCapella) {
    const key = lower(payload.blockHash);
    let r = rootCache.get(key);
    if (r === undefined) {
      r = {
        transactionsRoot: transactionsRoot(blockTxs(payload).raw),
        withdrawalsRoot: withdrawalsRoot(payload.withdrawals),
      };
      rootCache.set(key, r);
    }
    return r;
  }

  // ---------------------------------------------------------------- account state

  async function proveAccount(
    address: Hex,
    slots: readonly (bigint | Hex)[],
    ref: BlockRef,
    withCode: boolean,
  ): Promise<VerifiedAccount & { code?: Hex }> {
    const addr = addressBytes(address);
    const keys = slots.map((s, i) => slotBytes(s, `slots[${i}]`));
    const payload = await payloadFor(checkRef(ref));
    const at = { blockHash: lower(payload.blockHash) };
    return pool.run(`eth_getProof(${toHex(addr)}) at block ${payload.blockNumber}`, async (ep) => {
      const [proofJson, codeJson] = await Promise.all([
        ep.request('eth_getProof', [toHex(addr), keys.map(toHex), at]),
        withCode ? ep.request('eth_getCode', [toHex(addr), at]) : undefined,
      ]);
      if (proofJson === null) throw ep.missing('eth_getProof', `no proof for block ${payload.blockHash}`);
      // Parallel requests: name the method explicitly (lastMethod may be eth_getCode).
      const response = ep.check('eth_getProof', () => decodeGetProofResponse(proofJson));
      const verified = ep.check('eth_getProof', () =>
        verifyGetProofResponse(payload.stateRoot, response, { address: addr, storageKeys: keys }),
      );
      const { account, storage } = verified;
      let code: Hex | undefined;
      if (withCode) {
        const bytes = ep.check('eth_getCode', () => jsonData(codeJson, '$'));
        const hash = keccak_256(bytes);
        if (!bytesEqual(hash, account.codeHash))
          throw ep.lie(
            'code.hash',
            `code of ${toHex(addr)} hashes to ${toHex(hash)}, the proven codeHash is ${toHex(account.codeHash)}`,
            'eth_getCode',
          );
        code = toHex(bytes);
      }
      const proof: RpcProofJson = {
        address: toHex(addr),
        accountProof: response.accountProof.map(toHex),
        balance: quantity(account.balance),
        codeHash: toHex(account.codeHash),
        nonce: quantity(account.nonce),
        storageHash: toHex(account.storageHash),
        storageProof: response.storageProof.map((e, i) => ({
          key: toHex(e.key),
          value: quantity(storage[i]!.value),
          proof: e.proof.map(toHex),
        })),
      };
      return {
        blockHash: at.blockHash,
        blockNumber: payload.blockNumber,
        exists: account.exists,
        nonce: account.nonce,
        balance: account.balance,
        storageHash: toHex(account.storageHash),
        codeHash: toHex(account.codeHash),
        storage: storage.map((s) => ({ slot: toHex(s.key), value: s.value })),
        proof,
        ...(code === undefined ? {} : { code }),
      };
    });
  }

  // ---------------------------------------------------------------- blocks

  /** Verify an EL block JSON against a verified payload. Returns the verified header. */
  function verifyElBlock(
    ep: EndpointHandle,
    json: unknown,
    payload: ExecutionPayloadCapella,
    full: boolean,
  ): RpcBlockHeader {
    // Self-consistency first: header hash, withdrawals root, uncles; full objects vs their own root.
    const v = verifyRpcBlock(json);
    const h = v.header;
    if (v.hash !== lower(payload.blockHash))
      throw ep.lie('el-block.hash', `asked for block ${payload.blockHash}, got block ${v.hash} (number ${h.number})`);
    const eq = (check: string, what: string, got: Uint8Array | bigint, want: Hex | bigint) => {
      const ok = typeof got === 'bigint' ? got === want : toHex(got) === lower(want as Hex);
      if (!ok)
        throw ep.lie(
          check,
          `block ${payload.blockHash}: ${what} is ${typeof got === 'bigint' ? got : toHex(got)}, the verified payload's is ${want}`,
        );
    };
    eq('el-block.number', 'number', h.number, payload.blockNumber);
    eq('el-block.state-root', 'stateRoot', h.stateRoot, payload.stateRoot);
    eq('el-block.receipts-root', 'receiptsRoot', h.receiptsRoot, payload.receiptsRoot);
    eq('el-block.parent-hash', 'parentHash', h.parentHash, payload.parentHash);
    eq('el-block.miner', 'miner', h.beneficiary, payload.feeRecipient);
    eq('el-block.logs-bloom', 'logsBloom', h.logsBloom, payload.logsBloom);
    eq('el-block.mix-hash', 'mixHash', h.mixHash, payload.prevRandao);
    eq('el-block.gas-limit', 'gasLimit', h.gasLimit, payload.gasLimit);
    eq('el-block.gas-used', 'gasUsed', h.gasUsed, payload.gasUsed);
    eq('el-block.timestamp', 'timestamp', h.timestamp, payload.timestamp);
    eq('el-block.extra-data', 'extraData', h.extraData, payload.extraData);
    if (h.baseFeePerGas !== payload.baseFeePerGas)
      throw ep.lie(
        'el-block.base-fee',
        `block ${payload.blockHash}: baseFeePerGas is ${h.baseFeePerGas}, the verified payload's is ${payload.baseFeePerGas}`,
      );
    const roots = payloadRoots(payload);
    if (h.withdrawalsRoot === undefined || !bytesEqual(h.withdrawalsRoot, roots.withdrawalsRoot))
      throw ep.lie(
        'el-block.withdrawals-root',
        `block ${payload.blockHash}: withdrawalsRoot does not commit to the verified payload's withdrawals`,
      );
    if (!bytesEqual(h.transactionsRoot, roots.transactionsRoot))
      throw ep.lie(
        'el-block.transactions-root',
        `block ${payload.blockHash}: transactionsRoot ${toHex(h.transactionsRoot)} is not the root of the verified payload's transactions ${toHex(roots.transactionsRoot)}`,
      );
    const txs = blockTxs(payload);
    if (v.transactionHashes.length !== txs.hashes.length)
      throw ep.lie(
        'el-block.tx-count',
        `block ${payload.blockHash} lists ${v.transactionHashes.length} transactions, the verified payload has ${txs.hashes.length}`,
      );
    v.transactionHashes.forEach((hash, i) => {
      if (!bytesEqual(hash, txs.hashes[i]!))
        throw ep.lie(
          'el-block.tx-hash',
          `transaction ${i} of block ${payload.blockHash} is ${toHex(hash)}, the verified payload's is ${toHex(txs.hashes[i]!)}`,
        );
    });
    if (full) {
      if (v.transactions === undefined && txs.hashes.length > 0)
        throw ep.lie('el-block.tx-objects', `asked for full transactions of block ${payload.blockHash}, got hashes`);
      // Objects re-serialise to the raw transactions (verifyRpcBlock + the root above); `from` is not signed data.
      v.transactions?.forEach((tx, i) => {
        const sender = senderOf(decodedTx(txs, i));
        if (!bytesEqual(tx.from, sender))
          throw ep.lie(
            'el-block.tx-from',
            `transaction ${i} of block ${payload.blockHash} claims sender ${toHex(tx.from)}, its signature recovers ${toHex(sender)}`,
          );
      });
    }
    return h;
  }

  function blockJson(header: RpcBlockHeader, payload: ExecutionPayloadCapella, full: boolean): RpcBlockJson {
    const txs = blockTxs(payload);
    const hash = lower(payload.blockHash);
    const transactions = full
      ? txs.raw.map((_, i) => {
          const tx = decodedTx(txs, i);
          return formatTransaction(tx, senderOf(tx), {
            blockHash: hash,
            blockNumber: payload.blockNumber,
            index: i,
            baseFeePerGas: payload.baseFeePerGas,
          });
        })
      : txs.hashes.map(toHex);
    return formatBlock(header, payload, transactions, blockSize(header, txs.raw, payload));
  }

  async function getBlock(ref: BlockRef, includeTransactions = false): Promise<RpcBlockJson | null> {
    const payload = await payloadOrNull(checkRef(ref));
    if (payload === undefined) return null;
    const full = includeTransactions === true;
    // Trusted-data work first (outside the attempt, so a problem with it is never blamed on an endpoint).
    payloadRoots(payload);
    if (full) {
      const txs = blockTxs(payload);
      txs.raw.forEach((_, i) => senderOf(decodedTx(txs, i)));
    }
    return pool.run(`block ${payload.blockNumber} (${payload.blockHash})`, async (ep) => {
      const json = await ep.request('eth_getBlockByHash', [lower(payload.blockHash), full]);
      if (json === null)
        throw ep.missing(
          'eth_getBlockByHash',
          `does not have verified block ${payload.blockNumber} (${payload.blockHash})`,
        );
      const header = verifyElBlock(ep, json, payload, full);
      return blockJson(header, payload, full);
    });
  }

  async function checkElBlock(payload: ExecutionPayloadCapella): Promise<CheckedElBlock> {
    parseHex(payload?.blockHash, 'payload.blockHash', { prefix: 'required', length: 32 });
    payloadRoots(payload);
    return pool.run(`EL block ${payload.blockNumber} (${payload.blockHash})`, async (ep) => {
      const json = await ep.request('eth_getBlockByHash', [lower(payload.blockHash), false]);
      if (json === null)
        throw ep.missing('eth_getBlockByHash', `does not have block ${payload.blockNumber} (${payload.blockHash})`);
      const header = verifyElBlock(ep, json, payload, false);
      return { endpoint: ep.url, hash: toHex(header.hash), number: header.number };
    });
  }

  // ---------------------------------------------------------------- receipts

  /** Fetch and verify a block's receipts from one endpoint (consensus fields only; see checkReceiptClaims). */
  async function fetchReceipts(
    ep: EndpointHandle,
    payload: ExecutionPayloadCapella,
  ): Promise<{ receipts: RpcReceipt[]; json: unknown[] }> {
    const txs = blockTxs(payload);
    let json: unknown;
    try {
      json = await ep.request('eth_getBlockReceipts', [lower(payload.blockHash)]);
    } catch (e) {
      // Endpoints without eth_getBlockReceipts (method not found): one eth_getTransactionReceipt per
      // transaction of the verified payload, verified the same way as a whole.
      if (!(e instanceof EndpointRequestError && e.rpcCode === METHOD_NOT_FOUND)) throw e;
      json = await Promise.all(txs.hashes.map((h) => ep.request('eth_getTransactionReceipt', [toHex(h)])));
      if ((json as unknown[]).some((r) => r === null))
        throw ep.missing(
          'eth_getTransactionReceipt',
          `does not have every receipt of verified block ${payload.blockNumber} (${payload.blockHash})`,
        );
    }
    if (json === null)
      throw ep.missing(
        'eth_getBlockReceipts',
        `does not have the receipts of verified block ${payload.blockNumber} (${payload.blockHash})`,
      );
    const receipts = decodeRpcBlockReceipts(json);
    verifyBlockReceipts(
      {
        receiptsRoot: parseHex(payload.receiptsRoot, 'payload.receiptsRoot', { prefix: 'required', length: 32 }),
        hash: parseHex(payload.blockHash, 'payload.blockHash', { prefix: 'required', length: 32 }),
        number: payload.blockNumber,
        gasUsed: payload.gasUsed,
        logsBloom: parseHex(payload.logsBloom, 'payload.logsBloom', { prefix: 'required', length: 256 }),
      },
      receipts,
      txs.hashes,
    );
    receiptsCache.set(lower(payload.blockHash), receipts);
    return { receipts, json: json as unknown[] };
  }

  /** Receipts of a verified block, from the cache or the first endpoint that serves verifiable ones. */
  async function blockReceipts(payload: ExecutionPayloadCapella): Promise<RpcReceipt[]> {
    const cached = receiptsCache.get(lower(payload.blockHash));
    if (cached !== undefined) return cached;
    return pool.run(
      `receipts of block ${payload.blockNumber} (${payload.blockHash})`,
      async (ep) => (await fetchReceipts(ep, payload)).receipts,
    );
  }

  function derivedReceiptFields(payload: ExecutionPayloadCapella, index: number) {
    const tx = decodedTx(blockTxs(payload), index);
    const from = senderOf(tx);
    return {
      tx,
      from,
      to: tx.to,
      contractAddress: tx.to === null ? createdContractAddress(from, tx.nonce) : null,
      effectiveGasPrice: effectiveGasPrice(tx, payload.baseFeePerGas),
    };
  }

  /** Check what an endpoint claims beside the receipts root (sender, recipient, created contract, price). */
  function checkReceiptClaims(
    ep: EndpointHandle,
    json: unknown,
    r: RpcReceipt,
    d: ReturnType<typeof derivedReceiptFields>,
  ): void {
    const o = expectObject(json, '$');
    const at = `receipt of ${toHex(r.transactionHash)}`;
    if (r.type !== d.tx.type)
      throw ep.lie('receipt.type', `${at} has type ${r.type}, the transaction's is ${d.tx.type}`);
    if (r.from !== undefined && !bytesEqual(r.from, d.from))
      throw ep.lie('receipt.from', `${at} claims from ${toHex(r.from)}, the signature recovers ${toHex(d.from)}`);
    const same = (a: Uint8Array | null, b: Uint8Array | null) =>
      a === null ? b === null : b !== null && bytesEqual(a, b);
    if (o['to'] !== undefined && !same(r.to, d.to))
      throw ep.lie(
        'receipt.to',
        `${at} claims to ${r.to ? toHex(r.to) : 'null'}, the transaction's is ${d.to ? toHex(d.to) : 'null'}`,
      );
    if (o['contractAddress'] !== undefined && !same(r.contractAddress, d.contractAddress))
      throw ep.lie(
        'receipt.contract-address',
        `${at} claims contractAddress ${r.contractAddress ? toHex(r.contractAddress) : 'null'}, expected ${d.contractAddress ? toHex(d.contractAddress) : 'null'}`,
      );
    if (r.effectiveGasPrice !== undefined && r.effectiveGasPrice !== d.effectiveGasPrice)
      throw ep.lie(
        'receipt.effective-gas-price',
        `${at} claims effectiveGasPrice ${r.effectiveGasPrice}, the transaction paid ${d.effectiveGasPrice}`,
      );
  }

  /** Verified receipts of `payload`, with the endpoint's claims checked for the receipts at `indices`. */
  async function receiptsWithClaims(
    payload: ExecutionPayloadCapella,
    indices: readonly number[],
  ): Promise<RpcReceiptJson[]> {
    // Derived from trusted data before any attempt (a problem with it is never blamed on an endpoint).
    const derived = indices.map((i) => derivedReceiptFields(payload, i));
    const format = (receipts: RpcReceipt[]) => indices.map((i, k) => formatReceipt(receipts[i]!, derived[k]!));
    const cached = receiptsCache.get(lower(payload.blockHash));
    if (cached !== undefined) return format(cached);
    return pool.run(`receipts of block ${payload.blockNumber} (${payload.blockHash})`, async (ep) => {
      const { receipts, json } = await fetchReceipts(ep, payload);
      indices.forEach((i, k) => checkReceiptClaims(ep, json[i], receipts[i]!, derived[k]!));
      return format(receipts);
    });
  }

  async function getBlockReceipts(ref: BlockRef): Promise<RpcReceiptJson[] | null> {
    const payload = await payloadOrNull(checkRef(ref));
    if (payload === undefined) return null;
    return receiptsWithClaims(
      payload,
      payload.transactions.map((_, i) => i),
    );
  }

  // ---------------------------------------------------------------- transactions

  interface Location {
    payload: ExecutionPayloadCapella;
    index: number;
  }

  /**
   * Where a mined transaction is: each endpoint's eth_getTransactionByHash names a candidate block; the
   * verified payload with that number must contain the transaction, at the claimed index and block hash.
   * With `checkObject`, the endpoint's transaction object must also be the verified one (same signed
   * bytes, the recovered sender, the effective gas price).
   */
  async function locate(hash: Hex, checkObject: boolean): Promise<Location | undefined> {
    const txHash = toHex(parseHex(hash, 'hash', { prefix: 'required', length: 32 }));
    let unverifiable: bigint | undefined;
    const found = await pool.runAllowingAbsence<Location>(`transaction ${txHash}`, async (ep) => {
      const json = await ep.request('eth_getTransactionByHash', [txHash]);
      if (json === null) return ABSENT;
      const o = expectObject(json, '$');
      if (
        o['blockNumber'] === null ||
        o['blockNumber'] === undefined ||
        o['blockHash'] === null ||
        o['blockHash'] === undefined
      )
        return ABSENT; // pending
      const claimedHash = jsonData(o['hash'], '$.hash', 32);
      if (toHex(claimedHash) !== txHash)
        throw ep.lie('tx-location.hash', `asked for transaction ${txHash}, got ${toHex(claimedHash)}`);
      const number = jsonQuantity(o['blockNumber'], '$.blockNumber', 8);
      const blockHash = toHex(jsonData(o['blockHash'], '$.blockHash', 32));
      const index = quantityNumber(o['transactionIndex'], '$.transactionIndex');
      const payload = await source.payload(number);
      if (payload === undefined) {
        // Not verified (yet): the node may be behind the endpoint. Ask the others; null if none locates it.
        unverifiable ??= number;
        return ABSENT;
      }
      const txs = blockTxs(payload);
      const at = txs.indexByHash.get(txHash);
      if (at === undefined)
        throw ep.lie(
          'tx-location.block',
          `says transaction ${txHash} is in block ${number}, but verified block ${number} (${payload.blockHash}) does not contain it`,
        );
      if (blockHash !== lower(payload.blockHash))
        throw ep.lie(
          'tx-location.block-hash',
          `says transaction ${txHash} is in block ${blockHash}, the verified block ${number} is ${payload.blockHash}`,
        );
      if (index !== at)
        throw ep.lie(
          'tx-location.index',
          `says transaction ${txHash} has index ${index} in block ${number}, it has index ${at}`,
        );
      if (checkObject) {
        const claimed = decodeRpcTransaction(json);
        const tx = decodedTx(txs, at);
        if (!bytesEqual(encodeRpcTransaction(claimed), tx.raw))
          throw ep.lie(
            'tx.body',
            `transaction ${txHash}: the object does not re-serialise to the verified raw transaction`,
          );
        const sender = senderOf(tx);
        if (!bytesEqual(claimed.from, sender))
          throw ep.lie(
            'tx.from',
            `transaction ${txHash} claims sender ${toHex(claimed.from)}, the signature recovers ${toHex(sender)}`,
          );
        const price = effectiveGasPrice(tx, payload.baseFeePerGas);
        if ('gasPrice' in claimed && claimed.gasPrice !== undefined && claimed.gasPrice !== price)
          throw ep.lie('tx.gas-price', `transaction ${txHash} claims gasPrice ${claimed.gasPrice}, it paid ${price}`);
      }
      return { payload, index: at };
    });
    if (found === undefined && unverifiable !== undefined) {
      // Located only in a block the node has not verified: below its history, or ahead of its head.
      const head = await source.payload('latest');
      if (head !== undefined && unverifiable <= head.blockNumber) throw new BlockNotVerifiedError(unverifiable);
    }
    return found;
  }

  async function getTransaction(hash: Hex): Promise<RpcTransactionJson | null> {
    const loc = await locate(hash, true);
    if (loc === undefined) return null;
    const txs = blockTxs(loc.payload);
    const tx = decodedTx(txs, loc.index);
    return formatTransaction(tx, senderOf(tx), {
      blockHash: lower(loc.payload.blockHash),
      blockNumber: loc.payload.blockNumber,
      index: loc.index,
      baseFeePerGas: loc.payload.baseFeePerGas,
    });
  }

  async function getTransactionReceipt(hash: Hex): Promise<RpcReceiptJson | null> {
    const loc = await locate(hash, false);
    if (loc === undefined) return null;
    const [receipt] = await receiptsWithClaims(loc.payload, [loc.index]);
    return receipt!;
  }

  // ---------------------------------------------------------------- logs

  async function getLogs(filter: LogFilter): Promise<RpcLogJson[]> {
    if (filter === null || typeof filter !== 'object') throw new DecodeError('filter', 'expected a filter object');
    const f = compileLogFilter(filter);
    let payloads: ExecutionPayloadCapella[];
    if (filter.blockHash !== undefined) {
      if (filter.fromBlock !== undefined || filter.toBlock !== undefined)
        throw new DecodeError('filter', 'blockHash cannot be combined with fromBlock/toBlock');
      payloads = [
        await payloadFor(toHex(parseHex(filter.blockHash, 'filter.blockHash', { prefix: 'required', length: 32 }))),
      ];
    } else {
      const head = await payloadFor('latest');
      const resolve = async (ref: BlockRef | undefined): Promise<bigint> => {
        const r = checkRef(ref ?? 'latest');
        if (typeof r === 'bigint') return r > head.blockNumber ? head.blockNumber : r;
        return (await payloadFor(r)).blockNumber;
      };
      const fromRef = checkRef(filter.fromBlock ?? 'latest');
      if (typeof fromRef === 'bigint' && fromRef > head.blockNumber) return [];
      const from = await resolve(fromRef);
      const to = await resolve(filter.toBlock);
      if (from > to) throw new DecodeError('filter', `fromBlock ${from} is after toBlock ${to}`);
      const span = to - from + 1n;
      if (span > BigInt(cfg.maxLogBlockRange))
        throw new LogQueryLimitError('blocks', cfg.maxLogBlockRange, span.toString());
      payloads = [];
      for (let n = from; n <= to; n++) payloads.push(await payloadFor(n));
    }
    const candidates = payloads.filter((p) =>
      bloomMayMatch(parseHex(p.logsBloom, 'payload.logsBloom', { prefix: 'required', length: 256 }), f),
    );
    const perBlock: RpcLogJson[][] = new Array(candidates.length);
    let total = 0;
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < candidates.length && !failed) {
        const i = next++;
        const receipts = await blockReceipts(candidates[i]!);
        const out: RpcLogJson[] = [];
        for (const r of receipts) for (const log of r.logs) if (logMatches(log, f)) out.push(formatLog(log));
        total += out.length;
        if (total > cfg.maxLogs) throw new LogQueryLimitError('logs', cfg.maxLogs, `at least ${total}`);
        perBlock[i] = out;
      }
    };
    const guarded = () =>
      worker().catch((e: unknown) => {
        failed = true;
        throw e;
      });
    await Promise.all(Array.from({ length: Math.min(cfg.logConcurrency, candidates.length) }, guarded));
    return perBlock.flat();
  }

  // ---------------------------------------------------------------- API

  return {
    endpoints: pool.urls,
    blockNumber: async () => (await payloadFor('latest')).blockNumber,
    getBalance: async (address, ref = 'latest') => (await proveAccount(address, [], ref, false)).balance,
    getTransactionCount: async (address, ref = 'latest') => (await proveAccount(address, [], ref, false)).nonce,
    getCode: async (address, ref = 'latest') => (await proveAccount(address, [], ref, true)).code!,
    getStorageAt: async (address, slot, ref = 'latest') => {
      const a = await proveAccount(address, [slot], ref, false);
      return `0x${a.storage[0]!.value.toString(16).padStart(64, '0')}`;
    },
    getProof: async (address, slots = [], ref = 'latest') => {
      const { code: _code, ...account } = await proveAccount(address, slots, ref, false);
      return account;
    },
    getBlock,
    getBlockReceipts,
    getTransaction,
    getTransactionReceipt,
    getLogs,
    checkElBlock,
    forward: (method, params) => pool.forward(method, params),
    endpointStats: () => pool.stats(),
  };
}
