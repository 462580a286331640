/**
 * The ChainActor's recent verified execution payloads (no I/O): by block number and by execution
 * block hash, bounded (the oldest goes first), and emptied above a rollback. `payloadNumber` says
 * which block a read (`latest`, `finalized`, a number, an execution block hash) means.
 */
import type { Hex } from '../../protocol/bytes.js';
import type { ExecutionPayloadCapella } from '../../protocol/types.js';

/** A block a read asks for: a tag, a block number, or an execution block hash. */
export type PayloadRef = 'latest' | 'safe' | 'finalized' | 'earliest' | bigint | Hex;

export class PayloadCache {
  private readonly byNumber = new Map<number, ExecutionPayloadCapella>();
  private readonly byElHash = new Map<Hex, number>();

  constructor(readonly limit: number) {}

  get(number: number): ExecutionPayloadCapella | undefined {
    return this.byNumber.get(number);
  }

  /** The number of the cached block whose execution payload has this hash (lower-case hex). */
  numberOf(elHash: Hex): number | undefined {
    return this.byElHash.get(elHash);
  }

  /** Keep a verified payload; past `limit`, the oldest remembered goes. */
  remember(number: number, payload: ExecutionPayloadCapella): void {
    this.byNumber.set(number, payload);
    this.byElHash.set(payload.blockHash, number);
    if (this.byNumber.size > this.limit) {
      const oldest = this.byNumber.keys().next().value!;
      this.byElHash.delete(this.byNumber.get(oldest)!.blockHash);
      this.byNumber.delete(oldest);
    }
  }

  /** Forget the payloads from `number` up (they were rolled back: they must not answer reads any more). */
  dropFrom(number: number): void {
    for (const n of [...this.byNumber.keys()])
      if (n >= number) {
        this.byElHash.delete(this.byNumber.get(n)!.blockHash);
        this.byNumber.delete(n);
      }
  }
}

/**
 * The number of the block `ref` means, given the authenticated head and the finalized height;
 * undefined if none: a number above the head, or a hash the cache does not know.
 */
export function payloadNumber(
  ref: PayloadRef,
  head: number,
  finalized: number,
  cache: PayloadCache,
): number | undefined {
  if (ref === 'latest') return head;
  if (ref === 'safe' || ref === 'finalized') return Math.min(finalized, head);
  if (ref === 'earliest') return 0;
  if (typeof ref === 'bigint') return ref > BigInt(head) ? undefined : Number(ref);
  return cache.numberOf(ref.toLowerCase() as Hex);
}
