/**
 * Transaction reads (`getTransaction`, `getTransactionReceipt`).
 *
 * The endpoint's `eth_getTransactionByHash` only *locates* the transaction (a candidate block number).
 * The payload of that verified block must contain the transaction at the claimed index
 * (`tx-location.*`); the transaction object is rebuilt from the verified raw bytes (the endpoint's object
 * must re-serialise to them: `tx.*`), the receipt from the block's verified receipts (receipts.ts).
 *
 * Absence cannot be proven: a transaction that no endpoint knows (or only as pending, or in a block not
 * verified yet) reads as null once every endpoint was asked.
 */
import { equalBytes, parseHex, toHex, type Hex } from '../../../protocol/bytes.js';
import { decodeRpcTransaction, effectiveGasPrice, encodeRpcTransaction } from '../../../protocol/execution/index.js';
import { data as jsonData, parseQuantity, parseQuantityNumber } from '../../../protocol/execution/json.js';
import { readObject } from '../../../protocol/json-fields.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import { ABSENT, type Absent, type EndpointHandle } from '../endpoints.js';
import { BlockNotVerifiedError } from '../errors.js';
import { formatTransaction } from '../format.js';
import type { RpcReceiptJson, RpcTransactionJson } from '../types.js';
import type { BlockTxs } from './cache.js';
import { lower, type ReadContext } from './context.js';
import { receiptsWithClaims } from './receipts.js';

/** A mined transaction's place: a verified payload and its index there. */
interface Location {
  payload: ExecutionPayloadCapella;
  index: number;
}

/** The endpoint's transaction object must be the verified one (same signed bytes, sender, price). */
function checkTransactionObject(
  ctx: ReadContext,
  ep: EndpointHandle,
  json: unknown,
  txHash: Hex,
  txs: BlockTxs,
  location: Location,
): void {
  const claimed = decodeRpcTransaction(json);
  const tx = ctx.cache.decodedTx(txs, location.index);
  if (!equalBytes(encodeRpcTransaction(claimed), tx.raw))
    throw ep.lie('tx.body', `transaction ${txHash}: the object does not re-serialise to the verified raw transaction`);
  const sender = ctx.cache.senderOf(tx);
  if (!equalBytes(claimed.from, sender))
    throw ep.lie(
      'tx.from',
      `transaction ${txHash} claims sender ${toHex(claimed.from)}, the signature recovers ${toHex(sender)}`,
    );
  const price = effectiveGasPrice(tx, location.payload.baseFeePerGas);
  if ('gasPrice' in claimed && claimed.gasPrice !== undefined && claimed.gasPrice !== price)
    throw ep.lie('tx.gas-price', `transaction ${txHash} claims gasPrice ${claimed.gasPrice}, it paid ${price}`);
}

/**
 * One endpoint's answer to "where is `txHash`": its eth_getTransactionByHash names a candidate block; the
 * verified payload with that number must contain the transaction, at the claimed index and block hash.
 * ABSENT when the endpoint does not know it, knows it as pending, or places it in a block the node has
 * not verified (`onUnverifiable` is told the block number).
 */
async function locateAt(
  ctx: ReadContext,
  ep: EndpointHandle,
  txHash: Hex,
  checkObject: boolean,
  onUnverifiable: (number: bigint) => void,
): Promise<Location | Absent> {
  const json = await ep.request('eth_getTransactionByHash', [txHash]);
  if (json === null) return ABSENT;
  const o = readObject(json, '$');
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
  const number = parseQuantity(o['blockNumber'], '$.blockNumber', 8);
  const blockHash = toHex(jsonData(o['blockHash'], '$.blockHash', 32));
  const index = parseQuantityNumber(o['transactionIndex'], '$.transactionIndex');
  const payload = await ctx.source.payload(number);
  if (payload === undefined) {
    // Not verified (yet): the node may be behind the endpoint. Ask the others; null if none locates it.
    onUnverifiable(number);
    return ABSENT;
  }
  const txs = ctx.cache.blockTxs(payload);
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
  const location = { payload, index: at };
  if (checkObject) checkTransactionObject(ctx, ep, json, txHash, txs, location);
  return location;
}

/**
 * Where a mined transaction is, asking the endpoints in turn (see locateAt). With `checkObject`, the
 * endpoint's transaction object must also be the verified one (same signed bytes, the recovered sender,
 * the effective gas price).
 */
async function locate(ctx: ReadContext, hash: Hex, checkObject: boolean): Promise<Location | undefined> {
  const txHash = toHex(parseHex(hash, 'hash', { prefix: 'required', length: 32 }));
  let unverifiable: bigint | undefined;
  const found = await ctx.pool.runAllowingAbsence<Location>(`transaction ${txHash}`, (ep) =>
    locateAt(ctx, ep, txHash, checkObject, (number) => {
      unverifiable ??= number;
    }),
  );
  if (found === undefined && unverifiable !== undefined) {
    // Located only in a block the node has not verified: below its history, or ahead of its head.
    const head = await ctx.source.payload('latest');
    if (head !== undefined && unverifiable <= head.blockNumber) throw new BlockNotVerifiedError(unverifiable);
  }
  return found;
}

export async function getTransaction(ctx: ReadContext, hash: Hex): Promise<RpcTransactionJson | null> {
  const loc = await locate(ctx, hash, true);
  if (loc === undefined) return null;
  const tx = ctx.cache.decodedTx(ctx.cache.blockTxs(loc.payload), loc.index);
  return formatTransaction(tx, ctx.cache.senderOf(tx), {
    blockHash: lower(loc.payload.blockHash),
    blockNumber: loc.payload.blockNumber,
    index: loc.index,
    baseFeePerGas: loc.payload.baseFeePerGas,
  });
}

export async function getTransactionReceipt(ctx: ReadContext, hash: Hex): Promise<RpcReceiptJson | null> {
  const loc = await locate(ctx, hash, false);
  if (loc === undefined) return null;
  const [receipt] = await receiptsWithClaims(ctx, loc.payload, [loc.index]);
  return receipt!;
}
