/**
 * Receipt reads: the verified receipts of a block, and the claims an endpoint makes beside them.
 *
 * The block's receipts (`eth_getBlockReceipts`) are verified against the payload's receiptsRoot, gasUsed,
 * logsBloom and transaction hashes (protocol `verifyBlockReceipts`); an endpoint without
 * eth_getBlockReceipts is asked eth_getTransactionReceipt per transaction instead. Fields no root commits
 * to (`from`, `to`, `contractAddress`, `effectiveGasPrice`) are derived from the verified raw transaction,
 * and the endpoint's claims about them are checked (`receipt.*`).
 */
import { equalBytes, parseHex, toHex } from '../../../protocol/bytes.js';
import {
  createdContractAddress,
  decodeRpcBlockReceipts,
  effectiveGasPrice,
  verifyBlockReceipts,
  type DecodedTransaction,
  type RpcReceipt,
} from '../../../protocol/execution/index.js';
import { readObject } from '../../../protocol/json-fields.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import type { EndpointHandle } from '../endpoints.js';
import { EndpointRequestError } from '../errors.js';
import { formatReceipt } from '../format.js';
import type { BlockRef, RpcReceiptJson } from '../types.js';
import { checkRef, lower, payloadOrNull, type ReadContext } from './context.js';

/** JSON-RPC 'method not found'. */
const METHOD_NOT_FOUND = -32601;

/** What a receipt reports that no root commits to, derived from the verified transaction. */
interface DerivedReceiptFields {
  tx: DecodedTransaction;
  from: Uint8Array;
  to: Uint8Array | null;
  contractAddress: Uint8Array | null;
  effectiveGasPrice: bigint;
}

/** The receipts JSON of a block: eth_getBlockReceipts, or one eth_getTransactionReceipt per transaction. */
async function requestReceipts(
  ep: EndpointHandle,
  payload: ExecutionPayloadCapella,
  txHashes: readonly Uint8Array[],
): Promise<unknown> {
  let json: unknown;
  try {
    json = await ep.request('eth_getBlockReceipts', [lower(payload.blockHash)]);
  } catch (e) {
    // Endpoints without eth_getBlockReceipts (method not found): one eth_getTransactionReceipt per
    // transaction of the verified payload, verified the same way as a whole.
    if (!(e instanceof EndpointRequestError && e.rpcCode === METHOD_NOT_FOUND)) throw e;
    json = await Promise.all(txHashes.map((h) => ep.request('eth_getTransactionReceipt', [toHex(h)])));
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
  return json;
}

/** Fetch and verify a block's receipts from one endpoint (consensus fields only; see checkReceiptClaims). */
async function fetchReceipts(
  ctx: ReadContext,
  ep: EndpointHandle,
  payload: ExecutionPayloadCapella,
): Promise<{ receipts: RpcReceipt[]; json: unknown[] }> {
  const txs = ctx.cache.blockTxs(payload);
  const json = await requestReceipts(ep, payload, txs.hashes);
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
  ctx.cache.storeVerifiedReceipts(payload, receipts);
  return { receipts, json: json as unknown[] };
}

/** Receipts of a verified block, from the cache or the first endpoint that serves verifiable ones. */
export async function blockReceipts(ctx: ReadContext, payload: ExecutionPayloadCapella): Promise<RpcReceipt[]> {
  const cached = ctx.cache.verifiedReceipts(payload);
  if (cached !== undefined) return cached;
  return ctx.pool.run(
    `receipts of block ${payload.blockNumber} (${payload.blockHash})`,
    async (ep) => (await fetchReceipts(ctx, ep, payload)).receipts,
  );
}

function derivedReceiptFields(ctx: ReadContext, payload: ExecutionPayloadCapella, index: number): DerivedReceiptFields {
  const tx = ctx.cache.decodedTx(ctx.cache.blockTxs(payload), index);
  const from = ctx.cache.senderOf(tx);
  return {
    tx,
    from,
    to: tx.to,
    contractAddress: tx.to === null ? createdContractAddress(from, tx.nonce) : null,
    effectiveGasPrice: effectiveGasPrice(tx, payload.baseFeePerGas),
  };
}

/** Check what an endpoint claims beside the receipts root (sender, recipient, created contract, price). */
function checkReceiptClaims(ep: EndpointHandle, json: unknown, r: RpcReceipt, d: DerivedReceiptFields): void {
  const o = readObject(json, '$');
  const at = `receipt of ${toHex(r.transactionHash)}`;
  if (r.type !== d.tx.type) throw ep.lie('receipt.type', `${at} has type ${r.type}, the transaction's is ${d.tx.type}`);
  if (r.from !== undefined && !equalBytes(r.from, d.from))
    throw ep.lie('receipt.from', `${at} claims from ${toHex(r.from)}, the signature recovers ${toHex(d.from)}`);
  const same = (a: Uint8Array | null, b: Uint8Array | null) =>
    a === null ? b === null : b !== null && equalBytes(a, b);
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
export async function receiptsWithClaims(
  ctx: ReadContext,
  payload: ExecutionPayloadCapella,
  indices: readonly number[],
): Promise<RpcReceiptJson[]> {
  // Derived from trusted data before any attempt (a problem with it is never blamed on an endpoint).
  const derived = indices.map((i) => derivedReceiptFields(ctx, payload, i));
  const format = (receipts: RpcReceipt[]) => indices.map((i, k) => formatReceipt(receipts[i]!, derived[k]!));
  const cached = ctx.cache.verifiedReceipts(payload);
  if (cached !== undefined) return format(cached);
  return ctx.pool.run(`receipts of block ${payload.blockNumber} (${payload.blockHash})`, async (ep) => {
    const { receipts, json } = await fetchReceipts(ctx, ep, payload);
    indices.forEach((i, k) => {
      checkReceiptClaims(ep, json[i], receipts[i]!, derived[k]!);
    });
    return format(receipts);
  });
}

export async function getBlockReceipts(ctx: ReadContext, ref: BlockRef): Promise<RpcReceiptJson[] | null> {
  const payload = await payloadOrNull(ctx, checkRef(ref));
  if (payload === undefined) return null;
  return receiptsWithClaims(
    ctx,
    payload,
    payload.transactions.map((_, i) => i),
  );
}
