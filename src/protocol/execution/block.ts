/**
 * Verifying a whole `eth_getBlockByNumber`/`eth_getBlockByHash` result against its own header hash.
 *
 * What is checked (each failure is a VerificationError with the named check):
 * - `rpc-block.hash`: keccak(rlp(header fields)) equals the claimed `hash`;
 * - `rpc-block.withdrawals-root`: when `withdrawals` is present, their trie root equals `withdrawalsRoot`;
 * - `rpc-block.ommers-hash`: when `uncles` is an empty list, `sha3Uncles` is keccak(rlp([])) (non-empty
 *   uncle lists cannot be checked without the uncle headers; reported as unchecked);
 * - transactions, when their raw bytes are known (full transaction objects, re-serialised by
 *   {@link encodeRpcTransaction}, or `options.rawTransactions`): `rpc-block.tx-count`, `rpc-block.tx-hash`
 *   (keccak(raw) equals the listed/claimed hash), `rpc-block.transactions-root`;
 * - for full transaction objects: `rpc-block.tx-position` (blockHash, blockNumber, transactionIndex agree
 *   with the block), `rpc-block.tx-gas-price` (the reported effective gas price of fee-market transactions
 *   equals min(maxFeePerGas, baseFee + maxPriorityFeePerGas)), `rpc-block.blob-gas-used` (Cancun:
 *   131072 gas per blob hash).
 * A block that lists only transaction hashes and comes without raw transactions has its hash and
 * withdrawals checked, but not its transactions (`checked.transactionsRoot = false`).
 */
import { equalBytes, toHex, type Hex } from '../bytes.js';
import { DecodeError, VerificationError } from '../errors.js';
import type { Withdrawal } from '../types.js';
import { decodeRpcBlockHeader, EMPTY_OMMERS_HASH, hashExecutionHeader, type RpcBlockHeader } from './header.js';
import { readArray, readObject } from '../json-fields.js';
import { data } from './json.js';
import { decodeRpcWithdrawal, transactionsRoot, withdrawalsRoot } from './payload.js';
import { decodeRpcTransaction, encodeRpcTransaction, transactionHash, type RpcTransaction } from './transactions.js';

/** Gas charged per blob (EIP-4844 GAS_PER_BLOB). */
const GAS_PER_BLOB = 131072n;

export interface VerifyRpcBlockOptions {
  /**
   * Raw EIP-2718 transactions of the block, in order (e.g. from a beacon/Alys payload or
   * `debug_getRawBlock`); lets a block that lists only hashes have its transactions root checked.
   */
  rawTransactions?: readonly (Hex | Uint8Array)[];
}

export interface VerifiedRpcBlock {
  header: RpcBlockHeader;
  /** The verified block hash. */
  hash: Hex;
  /** Decoded transaction objects, or undefined when the block lists hashes only. */
  transactions: RpcTransaction[] | undefined;
  /** Transaction hashes in block order (listed, or taken from the objects). */
  transactionHashes: Uint8Array[];
  /** Decoded withdrawals, or undefined when the response has none (pre-Shanghai). */
  withdrawals: Withdrawal[] | undefined;
  /** Which parts were actually checked. The header hash always is. */
  checked: { transactionsRoot: boolean; withdrawalsRoot: boolean; ommersHash: boolean };
}

function fail(check: string, problem: string, details: string): never {
  throw new VerificationError(check, problem, { details });
}

const LYING = 'the endpoint returned inconsistent block data; do not trust this response, query another endpoint';

/** Decode and verify a JSON-RPC block (the `result` object). See the module comment for the checks. */
export function verifyRpcBlock(json: unknown, options: VerifyRpcBlockOptions = {}, path = '$'): VerifiedRpcBlock {
  const o = readObject(json, path);
  const header = decodeRpcBlockHeader(o, path);
  const computed = hashExecutionHeader(header);
  if (!equalBytes(computed, header.hash))
    fail(
      'rpc-block.hash',
      `block ${header.number} claims hash ${toHex(header.hash)}, but its header fields hash to ${toHex(computed)}`,
      LYING,
    );

  // ---- withdrawals
  let withdrawals: Withdrawal[] | undefined;
  if (o['withdrawals'] !== undefined) {
    withdrawals = readArray(o['withdrawals'], `${path}.withdrawals`).map((w, i) =>
      decodeRpcWithdrawal(w, `${path}.withdrawals[${i}]`),
    );
    if (header.withdrawalsRoot === undefined)
      throw new DecodeError(`${path}.withdrawals`, 'present, but the header has no withdrawalsRoot');
    const root = withdrawalsRoot(withdrawals);
    if (!equalBytes(root, header.withdrawalsRoot))
      fail(
        'rpc-block.withdrawals-root',
        `withdrawals of block ${header.number} have root ${toHex(root)}, header says ${toHex(header.withdrawalsRoot)}`,
        LYING,
      );
  }

  // ---- ommers
  let ommersChecked = false;
  if (o['uncles'] !== undefined) {
    const uncles = readArray(o['uncles'], `${path}.uncles`).map((u, i) => data(u, `${path}.uncles[${i}]`, 32));
    const emptyOmmers = equalBytes(header.ommersHash, EMPTY_OMMERS_HASH);
    if (uncles.length === 0 && !emptyOmmers)
      fail(
        'rpc-block.ommers-hash',
        `block ${header.number} lists no uncles but sha3Uncles is not keccak(rlp([]))`,
        LYING,
      );
    if (uncles.length > 0 && emptyOmmers)
      fail(
        'rpc-block.ommers-hash',
        `block ${header.number} lists ${uncles.length} uncles but sha3Uncles commits to none`,
        LYING,
      );
    ommersChecked = uncles.length === 0;
  }

  // ---- transactions
  const txsJson = readArray(
    o['transactions'] === undefined ? missing(`${path}.transactions`) : o['transactions'],
    `${path}.transactions`,
  );
  let transactions: RpcTransaction[] | undefined;
  let hashes: Uint8Array[];
  let raw: Uint8Array[] | undefined;
  const allStrings = txsJson.every((t) => typeof t === 'string');
  if (allStrings) {
    hashes = txsJson.map((t, i) => data(t, `${path}.transactions[${i}]`, 32));
    // An empty body needs no raw bytes: its root must be the empty-trie root.
    if (hashes.length === 0) raw = [];
  } else {
    transactions = txsJson.map((t, i) => {
      if (typeof t === 'string')
        throw new DecodeError(`${path}.transactions[${i}]`, 'mixed transaction hashes and objects');
      return decodeRpcTransaction(t, `${path}.transactions[${i}]`);
    });
    hashes = transactions.map((t) => t.hash);
    raw = transactions.map(encodeRpcTransaction);
    checkTransactionObjects(header, transactions);
  }
  if (options.rawTransactions) {
    const given = options.rawTransactions.map((t, i) => (typeof t === 'string' ? data(t, `rawTransactions[${i}]`) : t));
    if (raw) {
      // Both: the re-serialised objects must be the raw transactions.
      given.forEach((g, i) => {
        if (i < raw!.length && !equalBytes(g, raw![i]!))
          fail(
            'rpc-block.tx-hash',
            `transaction ${i}: the JSON object does not re-serialise to the given raw transaction`,
            LYING,
          );
      });
    }
    if (given.length !== hashes.length)
      fail(
        'rpc-block.tx-count',
        `block ${header.number} lists ${hashes.length} transactions, ${given.length} raw transactions given`,
        'pass the raw transactions of this very block',
      );
    raw = given;
  }
  let transactionsChecked = false;
  if (raw) {
    raw.forEach((r, i) => {
      const h = transactionHash(r);
      if (!equalBytes(h, hashes[i]!))
        fail(
          'rpc-block.tx-hash',
          `transaction ${i} of block ${header.number}: keccak(raw) is ${toHex(h)}, listed hash is ${toHex(hashes[i]!)}`,
          LYING,
        );
    });
    const root = transactionsRoot(raw);
    if (!equalBytes(root, header.transactionsRoot))
      fail(
        'rpc-block.transactions-root',
        `transactions of block ${header.number} have root ${toHex(root)}, header says ${toHex(header.transactionsRoot)}`,
        LYING,
      );
    transactionsChecked = true;
  }
  return {
    header,
    hash: toHex(header.hash),
    transactions,
    transactionHashes: hashes,
    withdrawals,
    checked: {
      transactionsRoot: transactionsChecked,
      withdrawalsRoot: withdrawals !== undefined,
      ommersHash: ommersChecked,
    },
  };
}

function missing(path: string): never {
  throw new DecodeError(path, 'missing required field');
}

/** Cross-checks between full transaction objects and their block (fields not covered by the tx hash). */
function checkTransactionObjects(header: RpcBlockHeader, txs: readonly RpcTransaction[]): void {
  let blobs = 0n;
  txs.forEach((tx, i) => {
    if (tx.blockHash === null || !equalBytes(tx.blockHash, header.hash))
      fail(
        'rpc-block.tx-position',
        `transaction ${i} claims block hash ${tx.blockHash ? toHex(tx.blockHash) : 'null'}, not this block's`,
        LYING,
      );
    if (tx.blockNumber !== header.number)
      fail(
        'rpc-block.tx-position',
        `transaction ${i} claims block number ${tx.blockNumber}, block is ${header.number}`,
        LYING,
      );
    if (tx.transactionIndex !== i)
      fail('rpc-block.tx-position', `transaction at position ${i} claims index ${tx.transactionIndex}`, LYING);
    if (
      (tx.type === 2 || tx.type === 3 || tx.type === 4) &&
      tx.gasPrice !== undefined &&
      header.baseFeePerGas !== undefined
    ) {
      const tip = tx.maxFeePerGas - header.baseFeePerGas;
      const effective = header.baseFeePerGas + (tx.maxPriorityFeePerGas < tip ? tx.maxPriorityFeePerGas : tip);
      if (tx.gasPrice !== effective)
        fail(
          'rpc-block.tx-gas-price',
          `transaction ${i} reports gasPrice ${tx.gasPrice}, but its effective gas price in this block is ${effective}`,
          LYING,
        );
    }
    if (tx.type === 3) blobs += BigInt(tx.blobVersionedHashes.length);
  });
  if (header.blobGasUsed !== undefined && blobs * GAS_PER_BLOB !== header.blobGasUsed)
    fail(
      'rpc-block.blob-gas-used',
      `block ${header.number} has blobGasUsed ${header.blobGasUsed}, its transactions carry ${blobs} blobs`,
      LYING,
    );
}
