/**
 * One execution of a call in the EVM against proven state, with geth's transaction-level rules that a
 * bare `evm.runCall` does not apply: intrinsic gas (Shanghai: 21,000, calldata 4/16 per byte, creation
 * 32,000 + EIP-3860 init-code words, EIP-2930 access list), the EIP-2929 warm set (precompiles, sender,
 * recipient, EIP-3651 coinbase, the access list), buying gas when a gas price is given (geth's
 * "insufficient funds for gas * price + value"), and the EIP-3529 refund cap in the gas used.
 *
 * Only the outcome is returned; the caller decides what a revert or a failure means (call.ts, estimate.ts).
 */
import { Address } from '@ethereumjs/util';
import { fromHex, toHex, type Hex } from '../../../protocol/bytes.js';
import { CallExecutionError } from '../errors.js';
import type { VerifiedPayloadSource } from '../types.js';
import { evmBlock } from './block.js';
import { createCallEvm } from './evm.js';
import type { CallRequest } from './request.js';
import type { BlockState } from './state.js';

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000' as Hex;

export interface CallEnv {
  chainId: bigint;
  state: BlockState;
  source: VerifiedPayloadSource;
}

export interface Execution {
  /** The ethereumjs error ('revert', 'out of gas', 'invalid opcode', ...), undefined on success. */
  error: string | undefined;
  returnValue: Uint8Array;
  /** Gas the transaction would use (intrinsic + execution - capped refund). */
  gasUsed: bigint;
  /** The refund that was applied. */
  refund: bigint;
}

/** Shanghai intrinsic gas of the call as a transaction. */
export function intrinsicGas(req: CallRequest): bigint {
  const data = req.data === undefined ? new Uint8Array(0) : fromHex(req.data);
  let gas = 21_000n;
  for (const b of data) gas += b === 0 ? 4n : 16n;
  if (req.to === undefined || req.to === null) gas += 32_000n + 2n * BigInt(Math.ceil(data.length / 32));
  for (const e of req.accessList ?? []) gas += 2_400n + 1_900n * BigInt(e.storageKeys.length);
  return gas;
}

/** The gas price the call pays (geth's eth_call: 0 unless a price is given). */
export function effectiveGasPrice(req: CallRequest, baseFee: bigint): bigint {
  if (req.gasPrice !== undefined) return req.gasPrice;
  if (req.maxFeePerGas === undefined && req.maxPriorityFeePerGas === undefined) return 0n;
  const maxFee = req.maxFeePerGas ?? baseFee + (req.maxPriorityFeePerGas ?? 0n);
  if (maxFee === 0n) return 0n;
  if (maxFee < baseFee)
    throw new CallExecutionError(
      `max fee per gas less than block base fee: maxFeePerGas: ${maxFee}, baseFee: ${baseFee}`,
    );
  const tip = req.maxPriorityFeePerGas ?? 0n;
  return baseFee + tip < maxFee ? baseFee + tip : maxFee;
}

export async function execute(env: CallEnv, req: CallRequest, gasLimit: bigint): Promise<Execution> {
  const intrinsic = intrinsicGas(req);
  if (gasLimit < intrinsic) throw new CallExecutionError(`intrinsic gas too low: have ${gasLimit}, want ${intrinsic}`);
  const { payload } = env.state;
  const price = effectiveGasPrice(req, payload.baseFeePerGas);
  const { evm, state } = await createCallEvm(env.chainId, env.state, env.source);
  const from = req.from ?? ZERO_ADDRESS;
  const caller = new Address(fromHex(from));
  const to = req.to === undefined || req.to === null ? undefined : new Address(fromHex(req.to));
  const value = req.value ?? 0n;

  const account = await state.getAccount(caller);
  const balance = account?.balance ?? 0n;
  const cost = gasLimit * price + value;
  if (balance < cost)
    throw new CallExecutionError(
      `insufficient funds for gas * price + value: address ${from} have ${balance} want ${cost}`,
    );
  if (price > 0n) await state.modifyAccountFields(caller, { balance: balance - gasLimit * price });

  const journal = evm.journal as unknown as {
    addAlwaysWarmAddress(a: string): void;
    addAlwaysWarmSlot(a: string, s: string): void;
  };
  for (const [precompile] of evm.precompiles) journal.addAlwaysWarmAddress(precompile);
  journal.addAlwaysWarmAddress(from);
  if (to !== undefined) journal.addAlwaysWarmAddress(req.to!);
  journal.addAlwaysWarmAddress(payload.feeRecipient.toLowerCase());
  for (const e of req.accessList ?? []) {
    journal.addAlwaysWarmAddress(e.address);
    for (const k of e.storageKeys) journal.addAlwaysWarmSlot(e.address, k.slice(2));
  }

  const result = await evm.runCall({
    block: evmBlock(payload),
    gasPrice: price,
    origin: caller,
    caller,
    ...(to === undefined ? {} : { to }),
    value,
    data: req.data === undefined ? new Uint8Array(0) : fromHex(req.data),
    gasLimit: gasLimit - intrinsic,
  });
  const r = result.execResult;
  const used = intrinsic + r.executionGasUsed;
  const error = r.exceptionError?.error;
  const refund = error !== undefined ? 0n : min(r.gasRefund ?? 0n, used / 5n);
  return { error, returnValue: r.returnValue, gasUsed: used - refund, refund };
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

const PANIC: Record<number, string> = {
  0: 'generic panic',
  1: 'assert(false)',
  17: 'arithmetic underflow or overflow',
  18: 'division or modulo by zero',
  33: 'enum overflow',
  34: 'invalid encoded storage byte array accessed',
  49: 'out-of-bounds array access; popping on an empty array',
  50: 'out-of-bounds access of an array or bytesN',
  65: 'out of memory',
  81: 'uninitialized function',
};

/** geth's reason for revert data: the Error(string) message, or a Panic(uint256) description. */
export function revertReason(data: Uint8Array): string | undefined {
  const hex = toHex(data);
  const word = (at: number) => BigInt(`0x${hex.slice(2 + at * 2, 2 + (at + 32) * 2) || '0'}`);
  try {
    if (hex.startsWith('0x08c379a0') && data.length >= 68) {
      const offset = Number(word(4));
      const length = Number(word(4 + offset));
      if (4 + offset + 32 + length > data.length) return undefined;
      return new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(4 + offset + 32, 4 + offset + 32 + length));
    }
    if (hex.startsWith('0x4e487b71') && data.length === 36) {
      const code = word(4);
      return PANIC[Number(code)] ?? `unknown panic code: 0x${code.toString(16)}`;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
