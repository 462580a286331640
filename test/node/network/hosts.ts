/** Test helpers for libp2p hosts: a started host cleaned up with its test, and the block-gossip mesh check. */
import { createP2pHost, type P2pHost, type P2pHostOptions } from '../../../src/node/network/p2p-host.js';
import { nodeTransports } from '../../../src/platform/nodejs/p2p.js';
import type { Cleanup } from '../helpers.js';

/** A started host with Node's transports, private addresses allowed, stopped by `c`; listens only where `opts.listen` says. */
export async function startHost(c: Cleanup, opts: Partial<P2pHostOptions> = {}): Promise<P2pHost> {
  const h = await createP2pHost({ transports: nodeTransports(), allowPrivateAddresses: true, ...opts });
  await h.start();
  c.add(() => h.stop());
  return h;
}

/** Whether `host` sees `peer` (any peer when omitted) subscribed to both block topics. */
export function inBlockMesh(host: P2pHost, peer?: string): boolean {
  return ['consensus_block', 'approve_block'].every((t) =>
    peer === undefined ? host.topicPeers(t).length > 0 : host.topicPeers(t).includes(peer),
  );
}
