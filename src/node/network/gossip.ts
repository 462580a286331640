/**
 * Gossipsub on the four Alys topics (alys-protocol.md 7.1-7.2): the gossipsub settings that agree
 * with Alys nodes (message ids, sizes) plus our peer scoring, a validator that decodes every message
 * and asks the node whether to forward it, and publishing. Gossip that does not decode is rejected,
 * and gossipsub's own score drops for its sender.
 */
import { gossipsub, TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub';
import type { Libp2p } from '@libp2p/interface';
import type { GossipVerdict } from '../../protocol/candidates.js';
import type { PubsubMessage } from '../../protocol/codec/msgpack.js';
import { ALL_GOSSIP_TOPICS, decodeGossip, encodeGossipOrUndefined, gossipMessageId } from '../../protocol/p2p/index.js';
import { DISCOVERY_TOPIC } from './discovery.js';
import type { PeerFaultReporter } from './errors.js';

/** A libp2p node with gossipsub as its `pubsub` service. */
export type GossipLibp2p = Libp2p<{ pubsub: GossipSub }>;

/** The node's answer about one decoded message: `accept` (or true), `ignore`, `reject` (or false). */
export type GossipAnswer = boolean | { verdict: GossipVerdict; reason?: string };

/**
 * Gossipsub peer scoring on the Alys topics (Alys itself runs without scoring): only what a peer
 * provably did wrong counts, an invalid message (it did not decode, or our check rejected it) costs
 * 100 and decays by half per decay interval. Quiet meshes are not penalised (Alys gossips one block per
 * slot and most approvals only on its own network). Below the graylist threshold gossipsub ignores the peer.
 */
const TOPIC_SCORE = {
  topicWeight: 1,
  timeInMeshWeight: 0,
  timeInMeshQuantum: 1_000,
  timeInMeshCap: 1,
  firstMessageDeliveriesWeight: 0,
  firstMessageDeliveriesDecay: 0.5,
  firstMessageDeliveriesCap: 1,
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 1,
  meshMessageDeliveriesThreshold: 1,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 5_000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -100,
  invalidMessageDeliveriesDecay: 0.5,
};

/** The gossipsub service for createLibp2p: Alys's message ids and size limit, scoring on the Alys and discovery topics. */
export function alysGossipsub(): ReturnType<typeof gossipsub> {
  return gossipsub({
    allowPublishToZeroTopicPeers: true,
    emitSelf: false,
    // relayed connections are limited (src/node/network/relay.ts): gossip crosses them too, within the limits
    runOnLimitedConnection: true,
    // Alys: max_transmit_size 65536 (plus the RPC envelope)
    maxInboundDataLength: 65_536 + 4_096,
    heartbeatInterval: 700,
    // Alys's message id (DefaultHasher over the data, in decimal): IHAVE/IWANT and de-duplication agree with Rust nodes
    msgIdFn: (msg) => new TextEncoder().encode(gossipMessageId(msg.data)),
    scoreParams: {
      topics: Object.fromEntries([...ALL_GOSSIP_TOPICS, DISCOVERY_TOPIC].map((t) => [t, TOPIC_SCORE])),
    },
    scoreThresholds: { gossipThreshold: -50, publishThreshold: -100, graylistThreshold: -200 },
  });
}

/** gossipsub's result for the node's answer. */
export function validatorResult(answer: GossipAnswer): { result: TopicValidatorResult; rejected?: string } {
  const { verdict, reason } =
    typeof answer === 'boolean' ? { verdict: answer ? 'accept' : 'reject', reason: '' } : answer;
  if (verdict === 'accept') return { result: TopicValidatorResult.Accept };
  if (verdict === 'ignore') return { result: TopicValidatorResult.Ignore };
  return { result: TopicValidatorResult.Reject, rejected: reason ?? '' };
}

export interface AlysGossipOptions {
  pubsub: GossipSub;
  /** Asked about every message that decoded, before gossipsub forwards it; accept all when absent. */
  onGossip?: (message: PubsubMessage, from: string) => GossipAnswer | Promise<GossipAnswer>;
  /** A message that did not decode, or that `onGossip` rejected, is reported here (kind `gossip`). */
  fault: PeerFaultReporter;
}

export interface AlysGossip {
  /** Subscribe to the Alys topics (after libp2p started); libp2p's stop ends the subscriptions. */
  start(): void;
  /** Publish on the message's topic; false when it cannot be gossiped (over 64 KiB) or nobody listens. */
  publish(message: PubsubMessage): Promise<boolean>;
  /** The peer's gossipsub score (0 = neutral; invalid gossip makes it negative). */
  score(peer: string): number;
}

/** Gossip on the Alys topics; every message is validated from now on (the validators are set here). */
export function alysGossip(o: AlysGossipOptions): AlysGossip {
  const { pubsub } = o;
  for (const topic of ALL_GOSSIP_TOPICS) {
    pubsub.topicValidators.set(topic, (peer, msg) => {
      let decoded: PubsubMessage;
      try {
        decoded = decodeGossip(msg.topic, msg.data);
      } catch (e) {
        o.fault(peer.toString(), 'gossip', (e as Error).message);
        return TopicValidatorResult.Reject;
      }
      const answered = (answer: GossipAnswer): TopicValidatorResult => {
        const { result, rejected } = validatorResult(answer);
        if (rejected !== undefined)
          o.fault(peer.toString(), 'gossip', `rejected ${decoded.type}${rejected ? `: ${rejected}` : ''}`);
        return result;
      };
      const answer = o.onGossip ? o.onGossip(decoded, peer.toString()) : true;
      // an answer computed elsewhere (the node worker) arrives later; a failed one drops the message quietly
      return answer instanceof Promise ? answer.then(answered, () => TopicValidatorResult.Ignore) : answered(answer);
    });
  }
  return {
    start() {
      for (const t of ALL_GOSSIP_TOPICS) pubsub.subscribe(t);
    },
    async publish(message) {
      const encoded = encodeGossipOrUndefined(message);
      if (encoded === undefined) return false;
      const r = await pubsub.publish(encoded.topic, encoded.data).catch(() => undefined);
      return r !== undefined && r.recipients.length > 0;
    },
    score: (peer) => (pubsub as unknown as { getScore(id: string): number }).getScore(peer),
  };
}
