/**
 * Log reads (`getLogs`). Never `eth_getLogs`: the verified logsBloom of each payload in the range selects
 * the blocks that may match; their receipts are fetched and verified (receipts.ts) and the filter is
 * applied locally (../logs.ts, geth's rules).
 */
import { parseHex, toHex } from '../../../protocol/bytes.js';
import { DecodeError } from '../../../protocol/errors.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import { LogQueryLimitError } from '../errors.js';
import { formatLog } from '../format.js';
import { bloomMayMatch, compileLogFilter, logMatches, type CompiledLogFilter } from '../logs.js';
import type { BlockRef, LogFilter, RpcLogJson } from '../types.js';
import { checkRef, payloadFor, type ReadContext } from './context.js';
import { blockReceipts } from './receipts.js';

/**
 * The verified payloads a filter covers: its blockHash, or fromBlock..toBlock (default 'latest'; an end
 * beyond the verified head is clamped to it, a start beyond it gives none). Over maxLogBlockRange blocks:
 * LogQueryLimitError.
 */
async function payloadsInFilter(ctx: ReadContext, filter: LogFilter): Promise<ExecutionPayloadCapella[]> {
  if (filter.blockHash !== undefined) {
    if (filter.fromBlock !== undefined || filter.toBlock !== undefined)
      throw new DecodeError('filter', 'blockHash cannot be combined with fromBlock/toBlock');
    return [
      await payloadFor(ctx, toHex(parseHex(filter.blockHash, 'filter.blockHash', { prefix: 'required', length: 32 }))),
    ];
  }
  const head = await payloadFor(ctx, 'latest');
  const resolve = async (ref: BlockRef | undefined): Promise<bigint> => {
    const r = checkRef(ref ?? 'latest');
    if (typeof r === 'bigint') return r > head.blockNumber ? head.blockNumber : r;
    return (await payloadFor(ctx, r)).blockNumber;
  };
  const fromRef = checkRef(filter.fromBlock ?? 'latest');
  if (typeof fromRef === 'bigint' && fromRef > head.blockNumber) return [];
  const from = await resolve(fromRef);
  const to = await resolve(filter.toBlock);
  if (from > to) throw new DecodeError('filter', `fromBlock ${from} is after toBlock ${to}`);
  const span = to - from + 1n;
  const { maxLogBlockRange } = ctx.limits;
  if (span > BigInt(maxLogBlockRange)) throw new LogQueryLimitError('blocks', maxLogBlockRange, span.toString());
  const payloads: ExecutionPayloadCapella[] = [];
  for (let n = from; n <= to; n++) payloads.push(await payloadFor(ctx, n));
  return payloads;
}

/**
 * The matching logs of `candidates`, in block order, fetching up to logConcurrency blocks' receipts at
 * once. Over maxLogs logs: LogQueryLimitError (and no further block is started).
 */
async function matchingLogs(
  ctx: ReadContext,
  f: CompiledLogFilter,
  candidates: readonly ExecutionPayloadCapella[],
): Promise<RpcLogJson[]> {
  const { maxLogs, logConcurrency } = ctx.limits;
  const perBlock: RpcLogJson[][] = new Array(candidates.length);
  let total = 0;
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < candidates.length && !failed) {
      const i = next++;
      const receipts = await blockReceipts(ctx, candidates[i]!);
      const out: RpcLogJson[] = [];
      for (const r of receipts) for (const log of r.logs) if (logMatches(log, f)) out.push(formatLog(log));
      total += out.length;
      if (total > maxLogs) throw new LogQueryLimitError('logs', maxLogs, `at least ${total}`);
      perBlock[i] = out;
    }
  };
  const guarded = () =>
    worker().catch((e: unknown) => {
      failed = true;
      throw e;
    });
  await Promise.all(Array.from({ length: Math.min(logConcurrency, candidates.length) }, guarded));
  return perBlock.flat();
}

export async function getLogs(ctx: ReadContext, filter: LogFilter): Promise<RpcLogJson[]> {
  if (filter === null || typeof filter !== 'object') throw new DecodeError('filter', 'expected a filter object');
  const f = compileLogFilter(filter);
  const payloads = await payloadsInFilter(ctx, filter);
  const candidates = payloads.filter((p) =>
    bloomMayMatch(parseHex(p.logsBloom, 'payload.logsBloom', { prefix: 'required', length: 256 }), f),
  );
  return matchingLogs(ctx, f, candidates);
}
