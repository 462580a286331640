/**
 * The call object of `eth_call` / `eth_estimateGas` (geth's TransactionArgs subset that a call uses),
 * parsed from JSON-RPC into a {@link CallRequest}. Pure and free of the EVM: the provider imports it
 * statically; the execution (call/execute.ts and what it imports) is loaded lazily.
 *
 * Throws DecodeError (the provider answers -32602).
 */
import { DecodeError } from '../../../protocol/errors.js';
import type { Hex } from '../types.js';

export interface CallAccessListEntry {
  address: Hex;
  storageKeys: Hex[];
}

export interface CallRequest {
  /** Default: the zero address (as geth). */
  from?: Hex;
  /** Absent or null: a contract creation with `data` as init code. */
  to?: Hex | null;
  /** Gas limit (default: the block's gas limit; at most 50M, geth's RPC gas cap). */
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  value?: bigint;
  data?: Hex;
  accessList?: CallAccessListEntry[];
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;
const DATA = /^0x([0-9a-fA-F]{2})*$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;

function address(v: unknown, path: string): Hex {
  if (typeof v !== 'string' || !ADDRESS.test(v)) throw new DecodeError(path, 'expected a 20-byte 0x address');
  return v.toLowerCase() as Hex;
}

function quantity(v: unknown, path: string): bigint {
  if (typeof v !== 'string' || !QUANTITY.test(v)) throw new DecodeError(path, 'expected a hex quantity');
  return BigInt(v);
}

function data(v: unknown, path: string): Hex {
  if (typeof v !== 'string' || !DATA.test(v)) throw new DecodeError(path, 'expected 0x hex bytes');
  return v.toLowerCase() as Hex;
}

function accessList(v: unknown, path: string): CallAccessListEntry[] {
  if (!Array.isArray(v)) throw new DecodeError(path, 'expected a list');
  return v.map((e, i) => {
    if (e === null || typeof e !== 'object') throw new DecodeError(`${path}[${i}]`, 'expected an object');
    const o = e as Record<string, unknown>;
    const keys = o['storageKeys'] ?? [];
    if (!Array.isArray(keys)) throw new DecodeError(`${path}[${i}].storageKeys`, 'expected a list');
    return {
      address: address(o['address'], `${path}[${i}].address`),
      storageKeys: keys.map((k, j) => {
        if (typeof k !== 'string' || !HASH.test(k))
          throw new DecodeError(`${path}[${i}].storageKeys[${j}]`, 'expected a 32-byte key');
        return k.toLowerCase() as Hex;
      }),
    };
  });
}

const UNSUPPORTED = ['blobVersionedHashes', 'maxFeePerBlobGas', 'authorizationList'];

/** A JSON-RPC call object as a new CallRequest (the input is only read). */
export function parseCallRequest(v: unknown, path = 'call'): CallRequest {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DecodeError(path, 'expected a call object');
  const o = v as Record<string, unknown>;
  const has = (k: string) => o[k] !== undefined && o[k] !== null;
  for (const k of UNSUPPORTED)
    if (has(k))
      throw new DecodeError(`${path}.${k}`, 'not supported by verified calls (Shanghai: no blobs, no EIP-7702)');
  const out: CallRequest = {};
  if (has('from')) out.from = address(o['from'], `${path}.from`);
  if (has('to')) out.to = address(o['to'], `${path}.to`);
  if (has('gas')) out.gas = quantity(o['gas'], `${path}.gas`);
  if (has('gasPrice')) out.gasPrice = quantity(o['gasPrice'], `${path}.gasPrice`);
  if (has('maxFeePerGas')) out.maxFeePerGas = quantity(o['maxFeePerGas'], `${path}.maxFeePerGas`);
  if (has('maxPriorityFeePerGas'))
    out.maxPriorityFeePerGas = quantity(o['maxPriorityFeePerGas'], `${path}.maxPriorityFeePerGas`);
  if (out.gasPrice !== undefined && (out.maxFeePerGas !== undefined || out.maxPriorityFeePerGas !== undefined))
    throw new DecodeError(path, 'both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified');
  if (has('value')) out.value = quantity(o['value'], `${path}.value`);
  const input = has('input') ? data(o['input'], `${path}.input`) : undefined;
  const d = has('data') ? data(o['data'], `${path}.data`) : undefined;
  if (input !== undefined && d !== undefined && input !== d)
    throw new DecodeError(path, 'both "data" and "input" are set and not equal');
  const bytes = input ?? d;
  if (bytes !== undefined) out.data = bytes;
  if (has('accessList')) out.accessList = accessList(o['accessList'], `${path}.accessList`);
  return out;
}
