/**
 * The devnet federation on Alys's p2p protocol (issue 6 part 3): a libp2p host on loopback (TCP and
 * WebSockets) that serves `blocks_by_range` from the devnet's chain exactly as an Alys node does
 * (ascending from the start height, up to `count`, stopping at its head) and gossips every new block
 * on `consensus_block`, so the light node's p2p path is tested against the producer itself.
 *
 * Difference from Alys, on purpose for now: the gossiped block already carries the federation's
 * aggregate approval (Alys's proposer gossips it with its own signature and the others follow with
 * `approve_block`); the light node accepts both forms.
 */
import { createP2pHost, type P2pHost } from '../node/network/p2p-host.js';
import { LOOPBACK_LISTEN, nodeTransports } from '../platform/node/p2p.js';
import type { ChainStore } from './consensus/chain.js';

export interface DevnetPeerOptions {
  listen?: string[];
  /** Called for each block the peer fails to gossip (over 64 KiB, nobody subscribed). */
  log?: (line: string) => void;
}

export interface DevnetPeer {
  host: P2pHost;
  /** Listening multiaddrs (with /p2p/<id>): TCP first, then WebSockets. */
  addresses: string[];
  stop(): Promise<void>;
}

export async function startDevnetPeer(chain: ChainStore, opts: DevnetPeerOptions = {}): Promise<DevnetPeer> {
  const host = await createP2pHost({
    transports: nodeTransports(),
    listen: opts.listen ?? LOOPBACK_LISTEN,
    allowPrivateAddresses: true,
    serveBlocks: (start, count) => {
      if (start > BigInt(chain.height)) return [];
      const from = Number(start);
      return chain.range(from, Math.min(chain.height, from + count - 1)).map((b) => b.signed);
    },
  });
  await host.start();
  const unsubscribe = chain.onAppend((block) => {
    void host.publish({ type: 'ConsensusBlock', block: block.signed }).then((sent) => {
      if (!sent) opts.log?.(`block ${block.number} not gossiped (no subscribers yet, or over 64 KiB)`);
    });
  });
  return {
    host,
    addresses: host.multiaddrs(),
    async stop() {
      unsubscribe();
      await host.stop();
    },
  };
}
