/**
 * NetworkActor: the registry of the node's block sources and their scores (consensus RPC endpoints
 * in this version; libp2p peers join later). The SyncActor reports faults and successes here and
 * asks which sources to use.
 */
import { defineActor } from '../../actors/actor.js';
import { topicOf, type NodeEventMessage } from '../events.js';
import { Scores, type SourceFault, type SourceScore } from '../workflows/scores.js';

export type NetworkMsg =
  | { type: 'usable' }
  | { type: 'all' }
  | { type: 'fault'; id: string; kind: SourceFault; reason: string }
  | { type: 'success'; id: string }
  /** Hot reload: the configured sources changed (scores of the ones kept are kept). */
  | { type: 'configure'; sources: string[] };

export interface NetworkReplies {
  usable: SourceScore[];
  all: SourceScore[];
  fault: void;
  success: void;
  configure: void;
}

export const NetworkActor = defineActor<NetworkMsg, NetworkReplies, { sources: string[]; banMs?: number }>({
  name: 'network',
  create(args) {
    const scores = new Scores(args.sources, args.banMs);
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
            scores.setSources(msg.sources);
            return;
        }
      },
    };
  },
});
