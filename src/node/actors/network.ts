/**
 * NetworkActor: the registry of the node's block sources and their scores (consensus RPC endpoints
 * and libp2p peers alike). The SyncActor reports faults and successes here and
 * asks which sources to use.
 */
import { defineActor } from '../../actors/actor.js';
import { topicOf, type NodeEventMessage } from '../events.js';
import type { P2pHostApi } from '../network/p2p-host.js';
import { Scores, type SourceFault, type SourceScore } from '../workflows/scores.js';

export type NetworkMsg =
  | { type: 'usable' }
  | { type: 'all' }
  | { type: 'fault'; id: string; kind: SourceFault; reason: string }
  | { type: 'success'; id: string }
  /** Hot reload: the configured sources changed (scores of the ones kept are kept). */
  | { type: 'configure'; sources: string[] }
  /** The connected libp2p peers (sources too; a peer that leaves and comes back starts afresh, its ban stays in the host). */
  | { type: 'peers'; peers: string[] };

export interface NetworkReplies {
  usable: SourceScore[];
  all: SourceScore[];
  fault: void;
  success: void;
  configure: void;
  peers: void;
}

export interface NetworkArgs {
  sources: string[];
  banMs?: number;
  p2p?: { host: P2pHostApi };
  /**
   * The scores, owned by the node so that they outlive a restart of this actor: a crash must not
   * give a banned or penalised source a clean slate. Without it the actor keeps its own.
   */
  scores?: Scores;
}

export const NetworkActor = defineActor<NetworkMsg, NetworkReplies, NetworkArgs>({
  name: 'network',
  create(args) {
    const scores = args.scores ?? new Scores(args.sources, args.banMs);
    let rpc = args.sources;
    let peers: string[] = [];
    return {
      handle(msg, ctx) {
        const now = ctx.clock.now();
        switch (msg.type) {
          case 'usable':
            return scores.usable(now);
          case 'all':
            return scores.all();
          case 'fault': {
            const s = scores.fault(msg.id, msg.kind, now);
            // a banned peer is also refused at the connection level until its ban ends
            if (s && s.bannedUntil > now && peers.includes(msg.id))
              void args.p2p?.host.ban(msg.id, Date.now() + (s.bannedUntil - now));
            if (s)
              ctx.publish(topicOf('source'), {
                type: 'event',
                name: 'source',
                data: { id: s.id, score: s.score, banned: s.bannedUntil > now, reason: `${msg.kind}: ${msg.reason}` },
              } satisfies NodeEventMessage<'source'>);
            return;
          }
          case 'success':
            scores.success(msg.id);
            return;
          case 'configure':
            rpc = msg.sources;
            scores.setSources([...rpc, ...peers]);
            return;
          case 'peers':
            peers = msg.peers.filter((p) => !rpc.includes(p));
            scores.setSources([...rpc, ...peers]);
            return;
        }
      },
    };
  },
});
