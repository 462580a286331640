/**
 * A libp2p peer as a BlockSource (alys-protocol.md 7.3-7.4). Alys has no status request, so a peer's
 * head is found by probing `blocks_by_range(h, 1)`: up from the last known height (or the last block
 * it gossiped) in growing steps until a request comes back empty, then by bisection; a dozen tiny
 * requests. Blocks come back as msgpack, unverified; heights a peer did not send are `missing`.
 */
import type { P2pError, P2pHostApi } from '../network/p2p-host.js';
import { decodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import { SourceError } from './consensus-rpc.js';
import type { BlockSource, RawBlock } from './source.js';

/** No Alys chain is near this height (a slot per 2 s for 10^5 years); a peer claiming more is lying. */
const MAX_PROBE_HEIGHT = 2 ** 40;

export interface PeerSourceOptions {
  timeoutMs: () => number;
  /** Highest height this peer is known to have (a gossiped block, an earlier probe). */
  hint?: () => number;
}

/** What a failed request costs the peer as a source: a RateLimited answer nothing (`busy`), junk the most. */
const P2P_SOURCE_KIND: Record<P2pError['kind'], SourceError['kind']> = {
  timeout: 'timeout',
  dial: 'network',
  'rate-limited': 'busy',
  decode: 'unusable',
  oversize: 'unusable',
  'remote-error': 'unusable',
  gossip: 'unusable',
};

function sourceError(peer: string, e: unknown): SourceError {
  const p = e as P2pError;
  const kind = p?.name === 'P2pError' ? P2P_SOURCE_KIND[p.kind] : 'network';
  return new SourceError(peer, kind, (e as Error).message, { cause: e });
}

export function peerBlockSource(host: P2pHostApi, peer: string, opts: PeerSourceOptions): BlockSource {
  let known = 0;
  const fetch = async (start: number, count: number): Promise<Uint8Array[]> => {
    // a peer that left is not at fault: the range goes to another source, free of charge, until the
    // sync drops the source (charging each request would ban a lone bootstrap peer that only hung up,
    // and the redial would then skip it for the whole ban)
    if (!host.peers().includes(peer))
      throw new SourceError(peer, 'busy', 'not connected (the peer left; the request goes to another source)');
    try {
      return await host.requestRawBlocksByRange(peer, BigInt(start), count, { timeoutMs: opts.timeoutMs() });
    } catch (e) {
      throw sourceError(peer, e);
    }
  };
  /** Whether the peer has block `h`; the block it sends must be block `h` (decoded here: a handful of probes). */
  const has = async (h: number): Promise<boolean> => {
    if (h > MAX_PROBE_HEIGHT)
      throw new SourceError(peer, 'unusable', `claims blocks beyond height ${MAX_PROBE_HEIGHT}`);
    const [b] = await fetch(h, 1);
    if (b === undefined) return false;
    let n: number;
    try {
      n = Number(decodeSignedBlockMsgpack(b).message.executionPayload.blockNumber);
    } catch (e) {
      throw new SourceError(peer, 'unusable', `probe of height ${h}: ${(e as Error).message}`);
    }
    if (n !== h) throw new SourceError(peer, 'unusable', `asked for block ${h}, sent block ${n}`);
    return true;
  };
  return {
    id: peer,
    kind: 'peer',
    async headHeight() {
      let low = Math.max(known, opts.hint?.() ?? 0);
      if (low > 0 && !(await has(low))) low = 0; // it forgot (restarted), or the hint was wrong
      let step = 1;
      let high = low + step;
      while (await has(high)) {
        low = high;
        step *= 4;
        high = low + step;
      }
      while (high - low > 1) {
        const mid = low + Math.floor((high - low) / 2);
        if (await has(mid)) low = mid;
        else high = mid;
      }
      known = low;
      return low;
    },
    async headBlock() {
      const [b] = await fetch(await this.headHeight(), 1);
      return { msgpack: b ?? null };
    },
    async range(start, count) {
      const got = await fetch(start, count);
      const out: RawBlock[] = [];
      for (let i = 0; i < count; i++) out.push({ msgpack: got[i] ?? null });
      if (got.length > 0) known = Math.max(known, start + Math.min(got.length, count) - 1);
      return out;
    },
    async byHash(_hash, height) {
      const [b] = await fetch(height, 1);
      return { msgpack: b ?? null };
    },
  };
}
