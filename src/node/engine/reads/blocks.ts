/**
 * Block reads (`getBlock`) and the import-time check that an endpoint has a verified payload's EL block
 * (`checkElBlock`).
 *
 * `eth_getBlockByHash(payload.blockHash)`; the header must hash to its claimed hash (protocol
 * `verifyRpcBlock`), that hash must be the payload's (`el-block.hash`), the header fields must equal the
 * payload's (`el-block.number`, `el-block.state-root`, `el-block.receipts-root`, …), the transactions root
 * must be the root of the payload's raw transactions and the listed hashes theirs; full transaction
 * objects must re-serialise to the raw transactions and claim the sender recovered from the signature
 * (`el-block.tx-from`).
 */
import { equalBytes, parseHex, toHex, type Hex } from '../../../protocol/bytes.js';
import { verifyRpcBlock, type RpcBlockHeader, type VerifiedRpcBlock } from '../../../protocol/execution/index.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import type { EndpointHandle } from '../endpoints.js';
import { blockSize, formatBlock, formatTransaction } from '../format.js';
import type { BlockRef, CheckedElBlock, RpcBlockJson } from '../types.js';
import { checkRef, lower, payloadOrNull, type ReadContext } from './context.js';

/** The header fields a payload commits to must be the payload's (`el-block.<field>`). */
function checkHeaderFields(ep: EndpointHandle, h: RpcBlockHeader, payload: ExecutionPayloadCapella): void {
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
}

/** The roots must commit to the payload's withdrawals and transactions, the listed hashes be theirs. */
function checkBlockBody(
  ctx: ReadContext,
  ep: EndpointHandle,
  v: VerifiedRpcBlock,
  payload: ExecutionPayloadCapella,
  full: boolean,
): void {
  const h = v.header;
  const roots = ctx.cache.payloadRoots(payload);
  if (h.withdrawalsRoot === undefined || !equalBytes(h.withdrawalsRoot, roots.withdrawalsRoot))
    throw ep.lie(
      'el-block.withdrawals-root',
      `block ${payload.blockHash}: withdrawalsRoot does not commit to the verified payload's withdrawals`,
    );
  if (!equalBytes(h.transactionsRoot, roots.transactionsRoot))
    throw ep.lie(
      'el-block.transactions-root',
      `block ${payload.blockHash}: transactionsRoot ${toHex(h.transactionsRoot)} is not the root of the verified payload's transactions ${toHex(roots.transactionsRoot)}`,
    );
  const txs = ctx.cache.blockTxs(payload);
  if (v.transactionHashes.length !== txs.hashes.length)
    throw ep.lie(
      'el-block.tx-count',
      `block ${payload.blockHash} lists ${v.transactionHashes.length} transactions, the verified payload has ${txs.hashes.length}`,
    );
  v.transactionHashes.forEach((hash, i) => {
    if (!equalBytes(hash, txs.hashes[i]!))
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
      const sender = ctx.cache.senderOf(ctx.cache.decodedTx(txs, i));
      if (!equalBytes(tx.from, sender))
        throw ep.lie(
          'el-block.tx-from',
          `transaction ${i} of block ${payload.blockHash} claims sender ${toHex(tx.from)}, its signature recovers ${toHex(sender)}`,
        );
    });
  }
}

/** Verify an EL block JSON against a verified payload. Returns the verified header. */
function verifyElBlock(
  ctx: ReadContext,
  ep: EndpointHandle,
  json: unknown,
  payload: ExecutionPayloadCapella,
  full: boolean,
): RpcBlockHeader {
  // Self-consistency first: header hash, withdrawals root, uncles; full objects vs their own root.
  const v = verifyRpcBlock(json);
  if (v.hash !== lower(payload.blockHash))
    throw ep.lie(
      'el-block.hash',
      `asked for block ${payload.blockHash}, got block ${v.hash} (number ${v.header.number})`,
    );
  checkHeaderFields(ep, v.header, payload);
  checkBlockBody(ctx, ep, v, payload, full);
  return v.header;
}

/** The block as JSON-RPC returns it, from the verified header and the payload's transactions. */
function blockJson(
  ctx: ReadContext,
  header: RpcBlockHeader,
  payload: ExecutionPayloadCapella,
  full: boolean,
): RpcBlockJson {
  const txs = ctx.cache.blockTxs(payload);
  const hash = lower(payload.blockHash);
  const transactions = full
    ? txs.raw.map((_, i) => {
        const tx = ctx.cache.decodedTx(txs, i);
        return formatTransaction(tx, ctx.cache.senderOf(tx), {
          blockHash: hash,
          blockNumber: payload.blockNumber,
          index: i,
          baseFeePerGas: payload.baseFeePerGas,
        });
      })
    : txs.hashes.map(toHex);
  return formatBlock(header, payload, transactions, blockSize(header, txs.raw, payload));
}

export async function getBlock(
  ctx: ReadContext,
  ref: BlockRef,
  includeTransactions = false,
): Promise<RpcBlockJson | null> {
  const payload = await payloadOrNull(ctx, checkRef(ref));
  if (payload === undefined) return null;
  const full = includeTransactions === true;
  // Trusted-data work first (outside the attempt, so a problem with it is never blamed on an endpoint).
  ctx.cache.payloadRoots(payload);
  if (full) {
    const txs = ctx.cache.blockTxs(payload);
    for (let i = 0; i < txs.raw.length; i++) ctx.cache.senderOf(ctx.cache.decodedTx(txs, i));
  }
  return ctx.pool.run(`block ${payload.blockNumber} (${payload.blockHash})`, async (ep) => {
    const json = await ep.request('eth_getBlockByHash', [lower(payload.blockHash), full]);
    if (json === null)
      throw ep.missing(
        'eth_getBlockByHash',
        `does not have verified block ${payload.blockNumber} (${payload.blockHash})`,
      );
    const header = verifyElBlock(ctx, ep, json, payload, full);
    return blockJson(ctx, header, payload, full);
  });
}

/** Fetch the EL block of a (verified) payload and check that it is that block. */
export async function checkElBlock(ctx: ReadContext, payload: ExecutionPayloadCapella): Promise<CheckedElBlock> {
  parseHex(payload?.blockHash, 'payload.blockHash', { prefix: 'required', length: 32 });
  ctx.cache.payloadRoots(payload);
  return ctx.pool.run(`EL block ${payload.blockNumber} (${payload.blockHash})`, async (ep) => {
    const json = await ep.request('eth_getBlockByHash', [lower(payload.blockHash), false]);
    if (json === null)
      throw ep.missing('eth_getBlockByHash', `does not have block ${payload.blockNumber} (${payload.blockHash})`);
    const header = verifyElBlock(ctx, ep, json, payload, false);
    return { endpoint: ep.url, hash: toHex(header.hash), number: header.number };
  });
}
