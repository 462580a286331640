/**
 * What every read family works over: the verified payloads (the only trusted input), the endpoint pool
 * (untrusted EVM JSON-RPC), the cache, the log limits; and the resolution of a block reference to a
 * verified payload.
 */
import { parseHex, toHex, type Hex } from '../../../protocol/bytes.js';
import { DecodeError } from '../../../protocol/errors.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import type { EndpointPool } from '../endpoints.js';
import { BlockNotVerifiedError } from '../errors.js';
import type { BlockRef, VerifiedPayloadSource } from '../types.js';
import type { ReadCache } from './cache.js';

export interface LogLimits {
  /** Most blocks one getLogs query may span. */
  maxLogBlockRange: number;
  /** Most logs one getLogs query may return. */
  maxLogs: number;
  /** Blocks whose receipts getLogs fetches at once. */
  logConcurrency: number;
}

export interface ReadContext {
  readonly source: VerifiedPayloadSource;
  readonly pool: EndpointPool;
  readonly cache: ReadCache;
  readonly limits: LogLimits;
}

/** A hex string in lowercase (the form of every hash the reads send and return). */
export const lower = (h: string) => h.toLowerCase() as Hex;

const TAGS = new Set(['latest', 'safe', 'finalized', 'earliest']);

/** Validate a block reference from a caller (a hash is returned in lowercase). Throws DecodeError. */
export function checkRef(ref: BlockRef): BlockRef {
  if (typeof ref === 'bigint') {
    if (ref < 0n || ref >= 1n << 64n) throw new DecodeError('block', `block number ${ref} out of range`);
    return ref;
  }
  if (typeof ref !== 'string')
    throw new DecodeError('block', 'expected a block tag, a bigint number or a 32-byte hash');
  if (TAGS.has(ref)) return ref;
  return toHex(parseHex(ref, 'block', { prefix: 'required', length: 32 }));
}

function isTag(ref: BlockRef): boolean {
  return typeof ref === 'string' && TAGS.has(ref);
}

/**
 * The verified payload `ref` names; undefined when no verified block has that number or hash. A tag
 * without a verified block throws BlockNotVerifiedError (the node is not synced).
 */
export async function payloadOrNull(ctx: ReadContext, ref: BlockRef): Promise<ExecutionPayloadCapella | undefined> {
  const p = await ctx.source.payload(ref);
  if (p === undefined && isTag(ref)) throw new BlockNotVerifiedError(ref);
  return p;
}

/** The verified payload `ref` names; BlockNotVerifiedError when there is none. */
export async function payloadFor(ctx: ReadContext, ref: BlockRef): Promise<ExecutionPayloadCapella> {
  const p = await ctx.source.payload(ref);
  if (p === undefined) throw new BlockNotVerifiedError(ref);
  return p;
}
