/**
 * Building the devnet EVM's next block from payload attributes (alys-protocol.md 5.1-5.3): check
 * the attributes, run the given transactions (or the mempool's best) with runTx against one context
 * block, apply the withdrawals, then seal the header and append the block to the block store.
 * Not serialised here: the engine runs every build on its serial queue.
 */
import { createBlock, createBlockHeader, type Block, type BlockHeader } from '@ethereumjs/block';
import type { TypedTransaction } from '@ethereumjs/tx';
import { Account, Address, bigIntToUnpaddedBytes, generateAddress } from '@ethereumjs/util';
import { encodeReceipt, runTx, type RunTxResult, type VM } from '@ethereumjs/vm';
import { withdrawalsRoot } from '../../protocol/execution/payload.js';
import { orderedTrieRoot } from '../../protocol/execution/trie.js';
import type { Hex, Withdrawal } from '../../protocol/types.js';
import type { BuiltPayload, PayloadAttributes } from '../types.js';
import type { BlockStore } from './block-store.js';
import { keccak256, type DevnetCommon } from './crypto.js';
import { EngineError, RpcError } from './errors.js';
import type { Mempool } from './mempool.js';
import type { BlockRecord, ReceiptRecord } from './records.js';
import { decodeRawTransaction, effectiveGasPrice, gethTxError, type DecodedTx } from './transaction.js';
import { bytesOf, hex } from './hex.js';

const GWEI = 1_000_000_000n;
const MAX_WITHDRAWALS = 16;
const HEX_RE = /^0x[0-9a-fA-F]*$/;

export interface PayloadBuilderDeps {
  common: DevnetCommon;
  /** The VM over the head state (its state manager is `state`). */
  vm: VM;
  state: { getAccount(address: Address): Promise<Account | undefined>; getStateRoot(): Promise<Uint8Array> };
  blocks: BlockStore;
  mempool: Mempool;
}

export interface PayloadBuilder {
  /** Build, execute and append the next block; throws EngineError for bad attributes or transactions. */
  build(attrs: PayloadAttributes): Promise<BuiltPayload>;
}

/** A transaction run into the block being built, with its result. */
interface Included {
  raw: Uint8Array;
  tx: TypedTransaction;
  from: Hex;
  hash: Hex;
  result: RunTxResult;
}

/** The block being built: its parent, number, base fee and the context block runTx executes in. */
interface BlockContext {
  parentHeader: BlockHeader;
  number: bigint;
  baseFee: bigint;
  coinbase: Address;
  mixHash: Uint8Array;
  block: Block;
}

export function createPayloadBuilder(deps: PayloadBuilderDeps): PayloadBuilder {
  const { common, vm, state, blocks, mempool } = deps;

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

  function contextFor(attrs: PayloadAttributes): BlockContext {
    const parentHeader = blocks.headHeader();
    const number = parentHeader.number + 1n;
    const baseFee = parentHeader.calcNextBaseFee();
    const coinbase = new Address(bytesOf(attrs.suggestedFeeRecipient));
    const mixHash = bytesOf(attrs.prevRandao);
    const block: Block = createBlock(
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
    return { parentHeader, number, baseFee, coinbase, mixHash, block };
  }

  /**
   * Run the block's transactions and withdrawals on the head state, all or nothing: the given
   * transactions (each must be valid) or the mempool's best, then the withdrawals.
   */
  async function execute(
    attrs: PayloadAttributes,
    ctx: BlockContext,
  ): Promise<{ included: Included[]; gasUsed: bigint }> {
    const { parentHeader, number } = ctx;
    const included: Included[] = [];
    let gasUsed = 0n;
    await vm.evm.journal.checkpoint();
    try {
      const tryInclude = async (raw: Uint8Array, tx: TypedTransaction, from: Hex, hash: Hex): Promise<void> => {
        if (tx.gasLimit > parentHeader.gasLimit - gasUsed) throw new Error('gas limit reached');
        const result = await runTx(vm, { tx, block: ctx.block, blockGasUsed: gasUsed });
        gasUsed += result.totalGasSpent;
        included.push({ raw, tx, from, hash, result });
      };
      if (attrs.transactions !== undefined) {
        for (let i = 0; i < attrs.transactions.length; i++) {
          const raw = attrs.transactions[i]!;
          let decoded: DecodedTx | undefined;
          try {
            decoded = decodeRawTransaction(common, raw, attrs.senders?.[i]);
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
        await mempool.fillBlock(ctx.baseFee, parentHeader.gasLimit, () => gasUsed, tryInclude);
      }
      // Shanghai: withdrawals after the transactions; Gwei -> wei, zero amounts touch nothing (as geth).
      for (const w of attrs.withdrawals) {
        if (w.amount === 0n) continue;
        const addr = new Address(bytesOf(w.address));
        const account = (await state.getAccount(addr)) ?? new Account();
        account.balance += w.amount * GWEI;
        await vm.evm.journal.putAccount(addr, account);
      }
      await vm.evm.journal.commit();
    } catch (e) {
      await vm.evm.journal.revert();
      throw e;
    }
    return { included, gasUsed };
  }

  /**
   * Receipts encoded by ethereumjs (the EL's own), the block's bloom, the JSON-RPC receipt records
   * and the priority fees paid.
   */
  function receiptsOf(included: readonly Included[], baseFee: bigint) {
    const encoded: Uint8Array[] = [];
    const bloom = new Uint8Array(256);
    const receipts: ReceiptRecord[] = [];
    let priorityFeesWei = 0n;
    for (let i = 0; i < included.length; i++) {
      const { tx, hash, result } = included[i]!;
      const from = internAddress(bytesOf(included[i]!.from));
      encoded.push(encodeReceipt(result.receipt, tx.type));
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
    return { encoded, bloom, receipts, priorityFeesWei };
  }

  async function build(attrs: PayloadAttributes): Promise<BuiltPayload> {
    validateAttributes(attrs, blocks.head());
    const ctx = contextFor(attrs);
    const { parentHeader, baseFee } = ctx;
    const { included, gasUsed } = await execute(attrs, ctx);
    const stateRoot = await state.getStateRoot();

    // The transactions, receipts and withdrawals roots by src/protocol's one-pass builder
    // (synchronous, ~5x faster per block than ethereumjs's async trie), which the known-answer tests
    // check against real mainnet blocks and test/devnet/evm/anvil.test.ts against anvil's roots for
    // the same transactions.
    const { encoded, bloom, receipts, priorityFeesWei } = receiptsOf(included, baseFee);
    const withdrawals: Withdrawal[] = attrs.withdrawals.map((w) => ({
      index: w.index,
      validatorIndex: w.validatorIndex,
      address: w.address.toLowerCase() as Hex,
      amount: w.amount,
    }));
    const header = createBlockHeader(
      {
        parentHash: parentHeader.hash(),
        coinbase: ctx.coinbase,
        stateRoot,
        transactionsTrie: orderedTrieRoot(
          included.map((t) => t.raw),
          keccak256,
        ),
        receiptTrie: orderedTrieRoot(encoded, keccak256),
        logsBloom: bloom,
        difficulty: 0n,
        number: ctx.number,
        gasLimit: parentHeader.gasLimit,
        gasUsed,
        timestamp: attrs.timestamp,
        extraData: new Uint8Array(0),
        mixHash: ctx.mixHash,
        nonce: new Uint8Array(8),
        baseFeePerGas: baseFee,
        withdrawalsRoot: withdrawalsRoot(withdrawals),
      },
      { common },
    );
    const record = blocks.add(
      header,
      included.map((t) => t.raw),
      withdrawals,
      receipts,
      bloom,
    );
    await mempool.afterBlock(included.map((t) => t.hash));
    return { payload: record.payload, receipts, priorityFeesWei };
  }

  return { build };
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

/** Check payload attributes against the parent (the head): shapes, ranges, parent hash, timestamp. */
function validateAttributes(attrs: PayloadAttributes, parent: BlockRecord): void {
  if (attrs === null || typeof attrs !== 'object')
    throw new EngineError('payload-attributes', 'payload attributes must be an object');
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
  validateWithdrawals(attrs.withdrawals);
  validateTransactions(attrs);
}

function validateWithdrawals(withdrawals: PayloadAttributes['withdrawals']): void {
  if (!Array.isArray(withdrawals) || withdrawals.length > MAX_WITHDRAWALS)
    throw new EngineError(
      'payload-attributes.withdrawals',
      `withdrawals must be an array of at most ${MAX_WITHDRAWALS} (Lighthouse MainnetEthSpec)`,
    );
  withdrawals.forEach((w, i) => {
    for (const f of ['index', 'validatorIndex', 'amount'] as const)
      if (typeof w?.[f] !== 'bigint' || w[f] < 0n || w[f] >= 1n << 64n)
        throw new EngineError('payload-attributes.withdrawals', `withdrawals[${i}].${f} must be a u64 bigint`);
    checkHex(w.address, `withdrawals[${i}].address`, 20);
  });
}

function validateTransactions(attrs: PayloadAttributes): void {
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
