/**
 * The devnet EVM's chain of blocks: every block, receipt and log since genesis, indexed by number,
 * hash and transaction hash, plus the head header (the parent of the next block) and the finalized
 * block. Appended to by the payload builder; replaced wholesale by a restored chain.
 */
import type { BlockHeader } from '@ethereumjs/block';
import { RLP } from '@ethereumjs/rlp';
import { createWithdrawal } from '@ethereumjs/util';
import type { ExecutionPayloadCapella, Hex, Withdrawal } from '../../protocol/types.js';
import type { BlockRecord, EngineRestore, ReceiptRecord, TxLocation } from './records.js';
import { hex } from './hex.js';

export interface BlockStore {
  /** Blocks stored (head number + 1). */
  count(): number;
  head(): BlockRecord;
  /** The head's header: the parent of the next block. */
  headHeader(): BlockHeader;
  byNumber(n: bigint): BlockRecord | undefined;
  /** By lowercase 0x hash. */
  byHash(hash: string): BlockRecord | undefined;
  /** By lowercase 0x transaction hash. */
  findTx(hash: string): TxLocation | undefined;
  finalized(): BlockRecord | undefined;
  setFinalized(block: BlockRecord): void;
  /** Append the block of `header` (which becomes the head header) and index its transactions. */
  add(
    header: BlockHeader,
    rawTxs: Uint8Array[],
    withdrawals: Withdrawal[],
    receipts: ReceiptRecord[],
    bloom: Uint8Array,
  ): BlockRecord;
  /** Replace the whole chain by a persisted one (its blocks, head header and finalized block). */
  replaceWith(r: EngineRestore): void;
}

export function createBlockStore(): BlockStore {
  const blocks: BlockRecord[] = [];
  const byHash = new Map<string, BlockRecord>();
  const txIndex = new Map<string, TxLocation>();
  // transactions of restored blocks are found through the snapshot's own index
  let restoredTx: EngineRestore['findTx'] | undefined;
  let finalizedBlock: BlockRecord | undefined;
  let headHeader: BlockHeader | undefined;

  function add(
    header: BlockHeader,
    rawTxs: Uint8Array[],
    withdrawals: Withdrawal[],
    receipts: ReceiptRecord[],
    bloom: Uint8Array,
  ): BlockRecord {
    const hash = hex(header.hash());
    const record: BlockRecord = {
      number: header.number,
      hash,
      payload: payloadOf(header, hash, rawTxs, withdrawals),
      stateRoot: header.stateRoot,
      transactionsRoot: hex(header.transactionsTrie),
      withdrawalsRoot: hex(header.withdrawalsRoot!),
      difficulty: header.difficulty,
      nonce: hex(header.nonce),
      size: blockSize(
        header.serialize(),
        rawTxs,
        withdrawals.map((w) => RLP.encode(createWithdrawal(w).raw())),
      ),
      bloom,
      txHashes: receipts.map((r) => r.transactionHash),
      receipts,
    };
    headHeader = header;
    blocks.push(record);
    byHash.set(hash, record);
    receipts.forEach((r, index) => {
      txIndex.set(r.transactionHash, { block: record, index });
    });
    return record;
  }

  function replaceWith(r: EngineRestore): void {
    blocks.length = 0;
    byHash.clear();
    txIndex.clear();
    for (const b of r.blocks) {
      blocks.push(b);
      byHash.set(b.hash, b);
    }
    headHeader = r.headHeader;
    restoredTx = r.findTx;
    finalizedBlock = r.finalized === undefined ? undefined : byHash.get(r.finalized);
  }

  return {
    count: () => blocks.length,
    head: () => blocks[blocks.length - 1]!,
    headHeader: () => headHeader!,
    byNumber: (n) => (n >= 0n && n < BigInt(blocks.length) ? blocks[Number(n)] : undefined),
    byHash: (hash) => byHash.get(hash),
    findTx: (hash) => txIndex.get(hash) ?? restoredTx?.(hash),
    finalized: () => finalizedBlock,
    setFinalized: (block) => {
      finalizedBlock = block;
    },
    add,
    replaceWith,
  };
}

function payloadOf(
  header: BlockHeader,
  hash: Hex,
  rawTxs: Uint8Array[],
  withdrawals: Withdrawal[],
): ExecutionPayloadCapella {
  return {
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
    transactions: rawTxs.map(hex),
    withdrawals,
  };
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
