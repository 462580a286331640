/**
 * Engine snapshots (Node only): what a persisted devnet keeps of its execution layer, and a restored
 * engine that serves it again without re-executing anything.
 *
 * A snapshot is
 * - one record per block (msgpack: the payload, the header fields the JSON-RPC shows, the receipts
 *   with their logs), encoded by {@link encodeBlockRecord};
 * - per block its hash and state root (so a restored engine knows every block without decoding it);
 * - a transaction index: every transaction hash with its block and position, sorted by hash
 *   (38 bytes each; looked up by binary search, never loaded into a Map);
 * - the state trie nodes the engine keeps (the latest `historyBlocks` states) and contract code.
 *
 * {@link restoreEngine} builds a normal {@link DevnetEngine} (createEngine's `restore` hook) whose
 * blocks are lazy: a block is decoded when a query first touches it, and at most
 * {@link DECODED_CACHE} decoded blocks are held at once. Head-state queries (eth_getBalance,
 * eth_getProof, eth_call, ...) work for the states that were kept; older blocks answer the engine's
 * "historical state ... is not available" error.
 */
import { createBlockHeader, type BlockHeader } from '@ethereumjs/block';
import { Address } from '@ethereumjs/util';
import { decode, encode } from '@msgpack/msgpack';
import type { ExecutionPayloadCapella, Hex, Withdrawal } from '../../protocol/types.js';
import { createDevnetCommon } from './crypto.js';
import { createEngine, type BlockRecord, type DevnetEngine, type EngineOptions, type ReceiptRecord } from './engine.js';
import { EngineError } from './errors.js';
import { bigintFromBytes, bytesOf, hex } from './hex.js';

/** Decoded blocks held at once by a restored engine. */
export const DECODED_CACHE = 1024;
/** Bytes per transaction-index entry: hash[32] | u32 block | u16 position. */
export const TX_ENTRY_BYTES = 38;

export class SnapshotError extends EngineError {
  constructor(what: string, message: string) {
    super(`snapshot.${what}`, message);
  }
}

type Bin = Uint8Array;
const u = (n: bigint): Bin => {
  if (n === 0n) return new Uint8Array(0);
  const h = n.toString(16);
  return bytesOf(h.length % 2 ? `0${h}` : h);
};
const b = (h: Hex | string): Bin => bytesOf(h);

// ---------------------------------------------------------------- block records

/** One block as msgpack (see the module comment). */
export function encodeBlockRecord(r: BlockRecord): Uint8Array {
  const p = r.payload;
  return encode([
    [
      b(p.parentHash),
      b(p.feeRecipient),
      b(p.stateRoot),
      b(p.receiptsRoot),
      b(p.logsBloom),
      b(p.prevRandao),
      u(p.blockNumber),
      u(p.gasLimit),
      u(p.gasUsed),
      u(p.timestamp),
      b(p.extraData),
      u(p.baseFeePerGas),
      b(p.blockHash),
    ],
    p.transactions.map(b),
    p.withdrawals.map((w) => [u(w.index), u(w.validatorIndex), b(w.address), u(w.amount)]),
    [b(r.transactionsRoot), b(r.withdrawalsRoot), u(r.difficulty), b(r.nonce), r.size],
    r.receipts.map((x) => [
      b(x.transactionHash),
      b(x.from),
      x.to === null ? null : b(x.to),
      x.type,
      x.status === 'success' ? 1 : 0,
      u(x.gasUsed),
      u(x.cumulativeGasUsed),
      u(x.effectiveTipPerGas),
      u(x.effectiveGasPrice),
      x.contractAddress === null ? null : b(x.contractAddress),
      x.logs.map((l) => [b(l.address), l.topics.map(b), b(l.data)]),
    ]),
  ]);
}

/** A stored block as decoded from its record, before its number, hash and state root are attached. */
type DecodedBlock = Omit<BlockRecord, 'number' | 'hash' | 'stateRoot'>;

function fail(number: number, what: string): never {
  throw new SnapshotError(
    'block',
    `EL block ${number} in the snapshot is malformed (${what}); the snapshot is corrupt: generate it again`,
  );
}

function binAt(v: unknown, number: number, what: string, length?: number): Bin {
  if (!(v instanceof Uint8Array) || (length !== undefined && v.length !== length)) fail(number, what);
  return v;
}

function arr(v: unknown, number: number, what: string, length?: number): unknown[] {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) fail(number, what);
  return v;
}

/** Decode a record written by {@link encodeBlockRecord}; `number` and `hash` must match. */
export function decodeBlockRecord(bytes: Uint8Array, number: number, hash: Hex): DecodedBlock {
  let top: unknown[];
  try {
    top = arr(decode(bytes), number, 'not a msgpack array', 5);
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    fail(number, (e as Error).message);
  }
  const h = arr(top[0], number, 'payload header', 13);
  const hx = (i: number, len?: number): Hex => hex(binAt(h[i], number, `payload field ${i}`, len));
  const n = (v: unknown, what: string): bigint => bigintFromBytes(binAt(v, number, what));
  const payload: ExecutionPayloadCapella = {
    parentHash: hx(0, 32),
    feeRecipient: hx(1, 20),
    stateRoot: hx(2, 32),
    receiptsRoot: hx(3, 32),
    logsBloom: hx(4, 256),
    prevRandao: hx(5, 32),
    blockNumber: n(h[6], 'block number'),
    gasLimit: n(h[7], 'gas limit'),
    gasUsed: n(h[8], 'gas used'),
    timestamp: n(h[9], 'timestamp'),
    extraData: hx(10),
    baseFeePerGas: n(h[11], 'base fee'),
    blockHash: hx(12, 32),
    transactions: arr(top[1], number, 'transactions').map((t) => hex(binAt(t, number, 'transaction'))),
    withdrawals: arr(top[2], number, 'withdrawals').map((w): Withdrawal => {
      const f = arr(w, number, 'withdrawal', 4);
      return {
        index: n(f[0], 'withdrawal index'),
        validatorIndex: n(f[1], 'validator index'),
        address: hex(binAt(f[2], number, 'withdrawal address', 20)),
        amount: n(f[3], 'withdrawal amount'),
      };
    }),
  };
  if (payload.blockNumber !== BigInt(number) || payload.blockHash !== hash)
    fail(number, `it holds block ${payload.blockNumber} ${payload.blockHash}, the index says ${number} ${hash}`);
  const x = arr(top[3], number, 'header extras', 5);
  const receipts = arr(top[4], number, 'receipts').map((v): ReceiptRecord => {
    const r = arr(v, number, 'receipt', 11);
    return {
      transactionHash: hex(binAt(r[0], number, 'transaction hash', 32)),
      from: hex(binAt(r[1], number, 'from', 20)),
      to: r[2] === null ? null : hex(binAt(r[2], number, 'to', 20)),
      type: typeof r[3] === 'number' ? r[3] : fail(number, 'receipt type'),
      status: r[4] === 1 ? 'success' : 'reverted',
      gasUsed: n(r[5], 'gas used'),
      cumulativeGasUsed: n(r[6], 'cumulative gas'),
      effectiveTipPerGas: n(r[7], 'tip'),
      effectiveGasPrice: n(r[8], 'gas price'),
      contractAddress: r[9] === null ? null : hex(binAt(r[9], number, 'contract address', 20)),
      logs: arr(r[10], number, 'logs').map((l) => {
        const f = arr(l, number, 'log', 3);
        return {
          address: hex(binAt(f[0], number, 'log address', 20)),
          topics: arr(f[1], number, 'topics').map((t) => hex(binAt(t, number, 'topic', 32))),
          data: hex(binAt(f[2], number, 'log data')),
        };
      }),
    };
  });
  if (receipts.length !== payload.transactions.length)
    fail(number, `${receipts.length} receipts for ${payload.transactions.length} transactions`);
  return {
    payload,
    transactionsRoot: hex(binAt(x[0], number, 'transactions root', 32)),
    withdrawalsRoot: hex(binAt(x[1], number, 'withdrawals root', 32)),
    difficulty: n(x[2], 'difficulty'),
    nonce: hex(binAt(x[3], number, 'nonce', 8)),
    size: typeof x[4] === 'number' ? x[4] : fail(number, 'size'),
    bloom: bytesOf(payload.logsBloom),
    txHashes: receipts.map((r) => r.transactionHash),
    receipts,
  };
}

// ---------------------------------------------------------------- snapshot

export interface EngineSnapshot {
  /** Encoded block records, block 0 first. */
  blocks: Uint8Array[];
  /** count x (hash[32] | stateRoot[32]) */
  blockIndex: Uint8Array;
  /** Sorted transaction index (TX_ENTRY_BYTES per transaction). */
  txIndex: Uint8Array;
  /** Node store entries: key (the store's hex key, as bytes) and value. */
  stateNodes: Array<[Uint8Array, Uint8Array]>;
  /** The finalized block's hash, if any. */
  finalized: Hex | null;
}

/** Everything a restored engine needs, from a live engine. */
export function snapshotEngine(engine: DevnetEngine): EngineSnapshot {
  const head = Number(engine.core.head().number);
  const blocks: Uint8Array[] = new Array(head + 1);
  const blockIndex = new Uint8Array((head + 1) * 64);
  let txCount = 0;
  for (let n = 0; n <= head; n++) {
    const r = engine.core.blockByNumber(BigInt(n))!;
    blocks[n] = encodeBlockRecord(r);
    blockIndex.set(bytesOf(r.hash), n * 64);
    blockIndex.set(r.stateRoot, n * 64 + 32);
    txCount += r.receipts.length;
  }
  const txIndex = new Uint8Array(txCount * TX_ENTRY_BYTES);
  const dv = new DataView(txIndex.buffer);
  let at = 0;
  for (let n = 0; n <= head; n++) {
    engine.core.blockByNumber(BigInt(n))!.receipts.forEach((r, i) => {
      txIndex.set(bytesOf(r.transactionHash), at);
      dv.setUint32(at + 32, n, true);
      dv.setUint16(at + 36, i, true);
      at += TX_ENTRY_BYTES;
    });
  }
  sortEntries(txIndex, txCount);
  const stateNodes: Array<[Uint8Array, Uint8Array]> = [];
  for (const [k, v] of engine.stateNodes) stateNodes.push([bytesOf(k), v]);
  return { blocks, blockIndex, txIndex, stateNodes, finalized: engine.core.finalized()?.hash ?? null };
}

/** Sort the index entries by hash: a counting sort on the first two bytes, then each bucket. */
function sortEntries(index: Uint8Array, count: number): void {
  const E = TX_ENTRY_BYTES;
  const src = Uint8Array.from(index);
  const starts = new Uint32Array(65537);
  for (let i = 0; i < count; i++) starts[((src[i * E]! << 8) | src[i * E + 1]!) + 1]!++;
  for (let k = 1; k <= 65536; k++) starts[k]! += starts[k - 1]!;
  const fill = starts.slice(0, 65536);
  for (let i = 0; i < count; i++) {
    const k = (src[i * E]! << 8) | src[i * E + 1]!;
    index.set(src.subarray(i * E, (i + 1) * E), fill[k]!++ * E);
  }
  const buf = Buffer.from(index.buffer, index.byteOffset, index.byteLength);
  for (let k = 0; k < 65536; k++) {
    const from = starts[k]!;
    const to = starts[k + 1]!;
    if (to - from < 2) continue;
    const entries = Array.from({ length: to - from }, (_, i) =>
      Buffer.from(buf.subarray((from + i) * E, (from + i + 1) * E)),
    );
    entries.sort((a, c) => Buffer.compare(a.subarray(0, 32), c.subarray(0, 32)));
    for (const [i, e] of entries.entries()) buf.set(e, (from + i) * E);
  }
}

// ---------------------------------------------------------------- restore

export interface SnapshotSource {
  /** Number of blocks (head + 1). */
  count: number;
  /** The encoded record of block n (read on demand). */
  block(n: number): Uint8Array;
  blockIndex: Uint8Array;
  txIndex: Uint8Array;
  stateNodes: Iterable<[Uint8Array, Uint8Array]>;
  finalized: Hex | null;
}

/** A block known by hash, number and state root, decoded on first use (LRU of DECODED_CACHE). */
class LazyBlock {
  private d: DecodedBlock | undefined;

  constructor(
    readonly number: bigint,
    readonly hash: Hex,
    readonly stateRoot: Uint8Array,
    private readonly load: (self: LazyBlock) => DecodedBlock,
  ) {}

  private get x(): DecodedBlock {
    return (this.d ??= this.load(this));
  }
  drop(): void {
    this.d = undefined;
  }
  get payload() {
    return this.x.payload;
  }
  get transactionsRoot() {
    return this.x.transactionsRoot;
  }
  get withdrawalsRoot() {
    return this.x.withdrawalsRoot;
  }
  get difficulty() {
    return this.x.difficulty;
  }
  get nonce() {
    return this.x.nonce;
  }
  get size() {
    return this.x.size;
  }
  get bloom() {
    return this.x.bloom;
  }
  get txHashes() {
    return this.x.txHashes;
  }
  get receipts() {
    return this.x.receipts;
  }
}

/** The ethereumjs header of a block record (its hash must come out as the record's hash). */
function headerOf(r: BlockRecord, chainId: bigint): BlockHeader {
  const p = r.payload;
  const header = createBlockHeader(
    {
      parentHash: bytesOf(p.parentHash),
      coinbase: new Address(bytesOf(p.feeRecipient)),
      stateRoot: bytesOf(p.stateRoot),
      transactionsTrie: bytesOf(r.transactionsRoot),
      receiptTrie: bytesOf(p.receiptsRoot),
      logsBloom: bytesOf(p.logsBloom),
      difficulty: r.difficulty,
      number: p.blockNumber,
      gasLimit: p.gasLimit,
      gasUsed: p.gasUsed,
      timestamp: p.timestamp,
      extraData: bytesOf(p.extraData),
      mixHash: bytesOf(p.prevRandao),
      nonce: bytesOf(r.nonce),
      baseFeePerGas: p.baseFeePerGas,
      withdrawalsRoot: bytesOf(r.withdrawalsRoot),
    },
    { common: createDevnetCommon(chainId) },
  );
  if (hex(header.hash()) !== r.hash)
    throw new SnapshotError(
      'head',
      `the head block's fields hash to ${hex(header.hash())}, not ${r.hash}: the snapshot is corrupt`,
    );
  return header;
}

/**
 * A DevnetEngine over a snapshot: nothing is re-executed; blocks decode lazily. `opts` are the
 * engine options of the chain that was persisted (chain id, history).
 */
export async function restoreEngine(
  source: SnapshotSource,
  opts: Omit<EngineOptions, 'restore'> = {},
): Promise<DevnetEngine> {
  const chainId = opts.chainId ?? 121212n;
  if (source.count < 1 || source.blockIndex.length !== source.count * 64)
    throw new SnapshotError(
      'index',
      `the block index holds ${source.blockIndex.length} bytes for ${source.count} blocks (64 each): the snapshot is corrupt`,
    );
  if (source.txIndex.length % TX_ENTRY_BYTES !== 0)
    throw new SnapshotError(
      'tx-index',
      'the transaction index length is not a multiple of its entry size: the snapshot is corrupt',
    );
  const cache = new Set<LazyBlock>();
  const load = (self: LazyBlock): DecodedBlock => {
    const d = decodeBlockRecord(source.block(Number(self.number)), Number(self.number), self.hash);
    cache.add(self);
    if (cache.size > DECODED_CACHE) {
      const oldest = cache.values().next().value!;
      cache.delete(oldest);
      oldest.drop();
    }
    return d;
  };
  const blocks: BlockRecord[] = new Array(source.count);
  for (let n = 0; n < source.count; n++) {
    const at = n * 64;
    blocks[n] = new LazyBlock(
      BigInt(n),
      hex(source.blockIndex.subarray(at, at + 32)),
      source.blockIndex.slice(at + 32, at + 64),
      load,
    ) as unknown as BlockRecord;
  }
  const stateNodes = new Map<string, Uint8Array>();
  for (const [k, v] of source.stateNodes) stateNodes.set(Buffer.from(k).toString('hex'), v);
  const head = blocks[source.count - 1]!;
  const headRoot = Buffer.from(head.stateRoot).toString('hex');
  if (!stateNodes.has(headRoot))
    throw new SnapshotError(
      'state',
      `the snapshot has no state for its head block ${head.number} (root 0x${headRoot}): it is corrupt or incomplete`,
    );
  const txs = Buffer.from(source.txIndex.buffer, source.txIndex.byteOffset, source.txIndex.byteLength);
  const txCount = source.txIndex.length / TX_ENTRY_BYTES;
  const findTx = (hash: string): { block: BlockRecord; index: number } | undefined => {
    if (!/^0x[0-9a-f]{64}$/.test(hash)) return undefined;
    const key = Buffer.from(hash.slice(2), 'hex');
    let lo = 0;
    let hi = txCount - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = txs.compare(key, 0, 32, mid * TX_ENTRY_BYTES, mid * TX_ENTRY_BYTES + 32);
      if (c === 0) {
        const block = blocks[txs.readUInt32LE(mid * TX_ENTRY_BYTES + 32)];
        const index = txs.readUInt16LE(mid * TX_ENTRY_BYTES + 36);
        if (block === undefined || index >= block.receipts.length || block.receipts[index]!.transactionHash !== hash)
          throw new SnapshotError(
            'tx-index',
            `the transaction index points ${hash} at a block that does not hold it: the snapshot is corrupt`,
          );
        return { block, index };
      }
      // c = compare(txs[mid], key): > 0 when the entry is after the key
      if (c > 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return undefined;
  };
  return createEngine({
    ...opts,
    chainId,
    restore: {
      blocks,
      stateNodes,
      headHeader: headerOf(head, chainId),
      ...(source.finalized ? { finalized: source.finalized } : {}),
      findTx,
    },
  });
}
