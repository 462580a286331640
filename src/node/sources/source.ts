/**
 * A block source for the SyncActor: a consensus RPC endpoint or a libp2p peer, behind one interface.
 * What a source returns is raw and untrusted (RPC response text or a peer's msgpack block); the
 * verifier pool decodes and verifies it. `headHeight` is a claim, only used to plan.
 */
import type { Hex } from '../../protocol/bytes.js';
import type { VerifyRequest } from '../verify/verify-response.js';
import { SourceError, type ConsensusRpcSource } from './consensus-rpc.js';

/** The raw form of one block as the verifier takes it. */
export type RawBlock = Pick<VerifyRequest, 'text' | 'msgpack'>;

export interface BlockSource {
  readonly id: string;
  readonly kind: 'rpc' | 'peer';
  /** The head height the source claims. Throws SourceError. */
  headHeight(): Promise<number>;
  /** The block the source calls its head (a head-first start verifies it). Throws SourceError. */
  headBlock(): Promise<RawBlock>;
  /** Blocks start..start+count-1, exactly `count` entries (a missing block is an entry the verifier reports missing). */
  range(start: number, count: number): Promise<RawBlock[]>;
  /** The block with this hash, expected at `height` (peers can only ask by height). */
  byHash(hash: Hex, height: number): Promise<RawBlock>;
}

/** The head height a getheadblock response claims (untrusted: only used to plan). */
export function claimedHeight(text: string): number {
  const r = JSON.parse(text) as { result?: { message?: { execution_payload?: { block_number?: unknown } } } };
  const n = Number(r.result?.message?.execution_payload?.block_number);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error('no block number in the head response');
  return n;
}

/** An RPC endpoint as a BlockSource: one getblockbyheight per block, `width` of them in flight. */
export function rpcBlockSource(rpc: ConsensusRpcSource, width: () => number): BlockSource {
  return {
    id: rpc.id,
    kind: 'rpc',
    async headHeight() {
      const text = await rpc.head();
      try {
        return claimedHeight(text);
      } catch (e) {
        throw new SourceError(rpc.id, 'unusable', (e as Error).message);
      }
    },
    async headBlock() {
      return { text: await rpc.head() };
    },
    async range(start, count) {
      const out = new Array<RawBlock>(count);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(count, width()) }, async () => {
          while (next < count) {
            const i = next++;
            out[i] = { text: await rpc.blockAt(start + i) };
          }
        }),
      );
      return out;
    },
    async byHash(hash) {
      return { text: await rpc.blockByHash(hash) };
    },
  };
}
