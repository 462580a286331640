/**
 * Verified `eth_call` and `eth_estimateGas`: the entry of the call path, loaded by reads.ts with
 * `await import('./call/run.js')` on first use (it pulls in the EVM; see evm.ts).
 *
 * A call at a verified block: (1) the access-list hint from an endpoint; (2) in one JSON-RPC batch, one proof
 * per account (the sender, the recipient with its code, what the hint names, with the hinted slots); then
 * the EVM runs locally, every read answered from proofs (a read nothing prefetched is fetched and
 * proven on demand). Common case: two sequential round trips; with the state cached, one (the hint).
 *
 * estimateGas is geth's estimator (eth/gasestimator): the call at the cap (the gas given, else the
 * block's gas limit, lowered to what the sender's balance pays for at a given price); a plain transfer
 * to an account without code is 21,000; otherwise an optimistic try at (used + refund + 2,300) * 64/63,
 * then binary search until within 1.5%. The answer is always a gas limit at which the call was executed
 * and succeeded (the search's upper bound only ever moves to such limits).
 */
import { toHex, type Hex } from '../../../protocol/bytes.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import { CallExecutionError, ExecutionRevertedError } from '../errors.js';
import { lower, type ReadContext } from '../reads/context.js';
import { execute, type CallEnv, type Execution, effectiveGasPrice, revertReason, ZERO_ADDRESS } from './execute.js';
import { fetchHint } from './hint.js';
import type { CallRequest } from './request.js';
import { createBlockState, createProvenStateCache, type PrefetchItem } from './state.js';

/** geth's default RPC gas cap (`--rpc.gascap`): no call runs with more. */
export const RPC_GAS_CAP = 50_000_000n;

export interface CallEngine {
  /** The return data of the call at `payload` (ExecutionRevertedError / CallExecutionError otherwise). */
  call(payload: ExecutionPayloadCapella, req: CallRequest, chainId: bigint): Promise<Hex>;
  estimateGas(payload: ExecutionPayloadCapella, req: CallRequest, chainId: bigint): Promise<bigint>;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

function failure(x: Execution): Error {
  if (x.error === 'revert') return new ExecutionRevertedError(toHex(x.returnValue), revertReason(x.returnValue));
  return new CallExecutionError(x.error!);
}

export function createCallEngine(ctx: ReadContext): CallEngine {
  const cache = createProvenStateCache();

  /** The call's environment, with the hinted state prefetched. */
  async function prepare(payload: ExecutionPayloadCapella, req: CallRequest, chainId: bigint): Promise<CallEnv> {
    const state = createBlockState(ctx, cache, payload);
    const items: PrefetchItem[] = [{ address: req.from ?? ZERO_ADDRESS, slots: [], code: false }];
    if (req.to !== undefined && req.to !== null) items.push({ address: req.to, slots: [] });
    items.push(...(await fetchHint(ctx, req, lower(payload.blockHash))));
    await state.prefetch(items);
    return { chainId, state, source: ctx.source };
  }

  async function call(payload: ExecutionPayloadCapella, req: CallRequest, chainId: bigint): Promise<Hex> {
    const env = await prepare(payload, req, chainId);
    const x = await execute(env, req, min(req.gas ?? payload.gasLimit, RPC_GAS_CAP));
    if (x.error !== undefined) throw failure(x);
    return toHex(x.returnValue);
  }

  async function estimateGas(payload: ExecutionPayloadCapella, req: CallRequest, chainId: bigint): Promise<bigint> {
    const env = await prepare(payload, req, chainId);
    let hi = min(req.gas ?? payload.gasLimit, RPC_GAS_CAP);
    const price = effectiveGasPrice(req, payload.baseFeePerGas);
    if (price > 0n) {
      const { balance } = await env.state.account(req.from ?? ZERO_ADDRESS);
      const value = req.value ?? 0n;
      if (balance < value) throw new CallExecutionError('insufficient funds for transfer');
      const allowance = (balance - value) / price;
      if (allowance < hi) hi = allowance;
    }
    const run = (gas: bigint) =>
      execute(env, req, gas).catch((e) => {
        if (e instanceof CallExecutionError && e.shortMessage.startsWith('intrinsic gas too low')) return undefined;
        throw e;
      });
    // A plain transfer to an account without code costs exactly 21,000.
    if ((req.data === undefined || req.data === '0x') && req.to !== undefined && req.to !== null) {
      if ((await env.state.code(req.to)).length === 0 && hi >= 21_000n) {
        const plain = await run(21_000n);
        if (plain !== undefined && plain.error === undefined) return 21_000n;
      }
    }
    const first = await run(hi);
    if (first === undefined) throw new CallExecutionError(`intrinsic gas too low: have ${hi}`);
    if (first.error !== undefined) {
      if (first.error === 'revert') throw failure(first);
      if (first.error === 'out of gas') throw new CallExecutionError(`gas required exceeds allowance (${hi})`);
      throw failure(first);
    }
    let lo = first.gasUsed - 1n;
    const ok = async (gas: bigint) => {
      const x = await run(gas);
      return x !== undefined && x.error === undefined;
    };
    const optimistic = ((first.gasUsed + first.refund + 2_300n) * 64n) / 63n;
    if (optimistic < hi) {
      if (await ok(optimistic)) hi = optimistic;
      else lo = optimistic;
    }
    while (lo + 1n < hi) {
      if (((hi - lo) * 1000n) / hi < 15n) break;
      let mid = (hi + lo) / 2n;
      if (mid > lo * 2n) mid = lo * 2n;
      if (await ok(mid)) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  return { call, estimateGas };
}
