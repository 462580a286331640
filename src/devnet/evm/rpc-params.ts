/**
 * JSON-RPC parameter decoding with geth's rules and wording (go-ethereum's hexutil / common types):
 * every parameter of every method goes through here, and a bad one becomes
 * `-32602 invalid argument <i>: <problem>` before anything runs.
 */
import type { Hex } from '../../protocol/types.js';
import { RpcCode, RpcError, invalidArgument } from './errors.js';

/** A parameter problem; the dispatcher turns it into `invalid argument <i>: <message>`. */
export class ParamError extends Error {}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

function notString(v: unknown, goType: string): ParamError {
  return new ParamError(`json: cannot unmarshal ${jsonType(v)} into Go value of type ${goType}`);
}

function hexDigits(s: string, allowOdd: boolean): string {
  if (s.length === 0) throw new ParamError('empty hex string');
  if (!(s.startsWith('0x') || s.startsWith('0X'))) throw new ParamError('hex string without 0x prefix');
  const body = s.slice(2);
  if (!/^[0-9a-fA-F]*$/.test(body)) throw new ParamError('invalid hex string');
  if (!allowOdd && body.length % 2 !== 0) throw new ParamError('hex string of odd length');
  return body;
}

/** hexutil.Bytes: 0x-prefixed, even length (possibly empty). */
export function bytesParam(v: unknown, goType = 'hexutil.Bytes'): Uint8Array {
  if (typeof v !== 'string') throw notString(v, goType);
  const body = hexDigits(v, false);
  return new Uint8Array(Buffer.from(body, 'hex'));
}

/** common.Address / common.Hash: exact length. */
export function fixedParam(v: unknown, bytes: number, goType: string): Hex {
  if (typeof v !== 'string') throw notString(v, goType);
  const body = hexDigits(v, true);
  if (body.length !== bytes * 2)
    throw new ParamError(`hex string has length ${body.length}, want ${bytes * 2} for ${goType}`);
  return `0x${body.toLowerCase()}` as Hex;
}

export const addressParam = (v: unknown): Hex => fixedParam(v, 20, 'common.Address');
export const hashParam = (v: unknown): Hex => fixedParam(v, 32, 'common.Hash');

/** hexutil.Uint64 / hexutil.Big: canonical QUANTITY (no leading zeros, not "0x"). */
export function quantityParam(v: unknown, bits: 64 | 256 = 64): bigint {
  const goType = bits === 64 ? 'hexutil.Uint64' : '*hexutil.Big';
  if (typeof v !== 'string') throw notString(v, goType);
  const body = hexDigits(v, true);
  if (body.length === 0) throw new ParamError('hex string "0x"');
  if (body.length > 1 && body[0] === '0') throw new ParamError('hex number with leading zero digits');
  if (body.length > bits / 4) throw new ParamError(`hex number > ${bits} bits`);
  return BigInt(`0x${body}`);
}

export function boolParam(v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ParamError(`json: cannot unmarshal ${jsonType(v)} into Go value of type bool`);
  return v;
}

export type BlockTag = 'latest' | 'earliest' | 'pending' | 'safe' | 'finalized';
export type BlockRef = { tag: BlockTag } | { number: bigint } | { hash: Hex; requireCanonical: boolean };

const TAGS = new Set<string>(['latest', 'earliest', 'pending', 'safe', 'finalized']);

/** rpc.BlockNumber: a tag or a QUANTITY. */
export function blockNumberParam(v: unknown): BlockRef {
  if (typeof v !== 'string') throw notString(v, 'rpc.BlockNumber');
  if (TAGS.has(v)) return { tag: v as BlockTag };
  const n = quantityParam(v, 64);
  if (n > 0x7fffffffffffffffn) throw new ParamError('block number larger than int64');
  return { number: n };
}

/** rpc.BlockNumberOrHash: a tag, a QUANTITY, a 32-byte hash, or {blockNumber} / {blockHash, requireCanonical}. */
export function blockNumberOrHashParam(v: unknown): BlockRef {
  if (typeof v === 'string' && v.length === 66) return { hash: hashParam(v), requireCanonical: false };
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (o['blockHash'] !== undefined && o['blockNumber'] !== undefined)
      throw new ParamError('cannot specify both BlockHash and BlockNumber, choose one or the other');
    if (o['blockHash'] !== undefined)
      return {
        hash: hashParam(o['blockHash']),
        requireCanonical: o['requireCanonical'] === undefined ? false : boolParam(o['requireCanonical']),
      };
    if (o['blockNumber'] !== undefined) return blockNumberParam(o['blockNumber']);
    throw new ParamError('invalid input: neither blockHash nor blockNumber');
  }
  return blockNumberParam(v);
}

function objectParam(v: unknown, goType: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw notString(v, goType);
  return v as Record<string, unknown>;
}

function optional<T>(o: Record<string, unknown>, key: string, decode: (v: unknown) => T): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  try {
    return decode(v);
  } catch (e) {
    if (e instanceof ParamError) throw new ParamError(`${key}: ${e.message}`);
    throw e;
  }
}

export interface AccessListParam {
  address: Hex;
  storageKeys: Hex[];
}

function accessListParam(v: unknown): AccessListParam[] {
  if (!Array.isArray(v)) throw notString(v, 'types.AccessList');
  return v.map((entry) => {
    const o = objectParam(entry, 'types.AccessTuple');
    const address = addressParam(o['address']);
    const keys = o['storageKeys'] ?? [];
    if (!Array.isArray(keys)) throw notString(keys, '[]common.Hash');
    return { address, storageKeys: keys.map(hashParam) };
  });
}

/** ethapi.TransactionArgs, for eth_call and eth_estimateGas. */
export interface TransactionArgs {
  from: Hex | undefined;
  to: Hex | undefined;
  gas: bigint | undefined;
  gasPrice: bigint | undefined;
  maxFeePerGas: bigint | undefined;
  maxPriorityFeePerGas: bigint | undefined;
  value: bigint;
  nonce: bigint | undefined;
  data: Uint8Array;
  accessList: AccessListParam[] | undefined;
  chainId: bigint | undefined;
}

export function transactionArgsParam(v: unknown): TransactionArgs {
  const o = objectParam(v, 'ethapi.TransactionArgs');
  const input = optional(o, 'input', bytesParam);
  const data = optional(o, 'data', bytesParam);
  if (input !== undefined && data !== undefined && !Buffer.from(input).equals(Buffer.from(data)))
    throw new ParamError(
      'both "data" and "input" are set and not equal. Please use "input" to pass transaction call data',
    );
  const args: TransactionArgs = {
    from: optional(o, 'from', addressParam),
    to: optional(o, 'to', addressParam),
    gas: optional(o, 'gas', (x) => quantityParam(x, 64)),
    gasPrice: optional(o, 'gasPrice', (x) => quantityParam(x, 256)),
    maxFeePerGas: optional(o, 'maxFeePerGas', (x) => quantityParam(x, 256)),
    maxPriorityFeePerGas: optional(o, 'maxPriorityFeePerGas', (x) => quantityParam(x, 256)),
    value: optional(o, 'value', (x) => quantityParam(x, 256)) ?? 0n,
    nonce: optional(o, 'nonce', (x) => quantityParam(x, 64)),
    data: input ?? data ?? new Uint8Array(0),
    accessList: optional(o, 'accessList', accessListParam),
    chainId: optional(o, 'chainId', (x) => quantityParam(x, 256)),
  };
  if (args.gasPrice !== undefined && (args.maxFeePerGas !== undefined || args.maxPriorityFeePerGas !== undefined))
    throw new ParamError('both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified');
  if (
    args.maxFeePerGas !== undefined &&
    args.maxPriorityFeePerGas !== undefined &&
    args.maxPriorityFeePerGas > args.maxFeePerGas
  )
    throw new ParamError(`maxFeePerGas (${args.maxFeePerGas}) < maxPriorityFeePerGas (${args.maxPriorityFeePerGas})`);
  return args;
}

/** filters.FilterCriteria for eth_getLogs. */
export interface LogFilter {
  blockHash: Hex | undefined;
  fromBlock: BlockRef | undefined;
  toBlock: BlockRef | undefined;
  /** empty = any address */
  addresses: Hex[];
  /** per position: null = any, else one of */
  topics: (Hex[] | null)[];
}

export function logFilterParam(v: unknown): LogFilter {
  const o = objectParam(v, 'filters.FilterCriteria');
  const blockHash = optional(o, 'blockHash', hashParam);
  const fromBlock = optional(o, 'fromBlock', blockNumberParam);
  const toBlock = optional(o, 'toBlock', blockNumberParam);
  if (blockHash !== undefined && (fromBlock !== undefined || toBlock !== undefined))
    throw new ParamError('cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other');
  let addresses: Hex[] = [];
  const a = o['address'];
  if (typeof a === 'string') addresses = [addressParam(a)];
  else if (Array.isArray(a))
    addresses = a.map((x, i) => {
      try {
        return addressParam(x);
      } catch (e) {
        throw e instanceof ParamError ? new ParamError(`invalid address at index ${i}: ${e.message}`) : e;
      }
    });
  else if (a !== undefined && a !== null) throw new ParamError('invalid addresses in query');
  const t = o['topics'];
  let topics: (Hex[] | null)[] = [];
  if (t !== undefined && t !== null) {
    if (!Array.isArray(t)) throw new ParamError('invalid topic(s)');
    if (t.length > 4) throw new ParamError('exceed max topics');
    topics = t.map((pos) => {
      if (pos === null) return null;
      if (typeof pos === 'string') return [hashParam(pos)];
      if (Array.isArray(pos)) {
        if (pos.some((x) => x === null)) return null;
        return pos.map(hashParam);
      }
      throw new ParamError('invalid topic(s)');
    });
  }
  return { blockHash, fromBlock, toBlock, addresses, topics };
}

/** blockCount of eth_feeHistory: math.HexOrDecimal64 (a QUANTITY or a decimal number / string). */
export function hexOrDecimal64Param(v: unknown): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new ParamError(`json: cannot unmarshal number ${v} into Go value of type math.HexOrDecimal64`);
    return BigInt(v);
  }
  if (typeof v !== 'string') throw notString(v, 'math.HexOrDecimal64');
  if (/^0[xX][0-9a-fA-F]+$/.test(v) && v.length <= 18) return BigInt(v);
  if (/^[0-9]+$/.test(v) && BigInt(v) < 1n << 64n) return BigInt(v);
  throw new ParamError(`invalid hex or decimal integer "${v}"`);
}

export function floatArrayParam(v: unknown): number[] {
  if (!Array.isArray(v)) throw notString(v, '[]float64');
  return v.map((x) => {
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new ParamError(`json: cannot unmarshal ${jsonType(x)} into Go value of type float64`);
    return x;
  });
}

/**
 * Positional arguments as geth reads them: `params` may be absent/null (no arguments) or an array;
 * `required` leading ones must be present (and not null), at most `max` in all.
 */
export function positional(params: unknown, required: number, max: number): unknown[] {
  if (params === undefined || params === null) params = [];
  if (!Array.isArray(params)) throw new RpcError(RpcCode.invalidParams, 'non-array args');
  if (params.length > max) throw new RpcError(RpcCode.invalidParams, `too many arguments, want at most ${max}`);
  for (let i = 0; i < required; i++)
    if (params[i] === undefined || params[i] === null)
      throw new RpcError(RpcCode.invalidParams, `missing value for required argument ${i}`);
  return params;
}

/** Decode argument `i` with `decode`, mapping a ParamError to geth's -32602 wording. */
export function arg<T>(params: unknown[], i: number, decode: (v: unknown) => T): T {
  try {
    return decode(params[i]);
  } catch (e) {
    if (e instanceof ParamError) throw invalidArgument(i, e.message);
    throw e;
  }
}

/** Like {@link arg} for an optional argument (absent or null -> undefined). */
export function optionalArg<T>(params: unknown[], i: number, decode: (v: unknown) => T): T | undefined {
  const v = params[i];
  return v === undefined || v === null ? undefined : arg(params, i, decode);
}
