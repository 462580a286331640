/**
 * Alys gossip (alys-protocol.md 7.2): four topics, each carrying one PubsubMessage variant as
 * rmp-serde msgpack, uncompressed, at most 64 KiB (gossipsub's max_transmit_size in Alys: a bigger
 * block cannot be gossiped and only travels by blocks_by_range).
 *
 * A Rust node panics on a malformed payload, so nothing is published that does not decode again,
 * and what arrives is decoded strictly: wrong topic for the variant, oversize or junk is a DecodeError.
 */
import { decodePubsubMessage, encodePubsubMessage, type PubsubMessage } from '../codec/msgpack.js';
import { GossipTooLargeError } from './errors.js';
import { DecodeError } from '../errors.js';

export { GossipTooLargeError };

export const GOSSIP_TOPICS = {
  ConsensusBlock: 'consensus_block',
  ApproveBlock: 'approve_block',
  QueuePow: 'queue_pow',
  PegoutSignatures: 'pegout_signatures',
} as const satisfies Record<PubsubMessage['type'], string>;

export type GossipTopic = (typeof GOSSIP_TOPICS)[keyof typeof GOSSIP_TOPICS];
export const ALL_GOSSIP_TOPICS: readonly GossipTopic[] = Object.values(GOSSIP_TOPICS);
/** gossipsub max_transmit_size in Alys. */
export const MAX_GOSSIP_BYTES = 65_536;

/** The topic a message goes on and its bytes; GossipTooLargeError over 64 KiB (send it by sync instead). */
export function encodeGossip(message: PubsubMessage): { topic: GossipTopic; data: Uint8Array } {
  const data = encodePubsubMessage(message);
  if (data.length > MAX_GOSSIP_BYTES)
    throw new GossipTooLargeError(
      `a ${message.type} message of ${data.length} bytes exceeds gossip's ${MAX_GOSSIP_BYTES}-byte limit; peers get it by blocks_by_range`,
    );
  return { topic: GOSSIP_TOPICS[message.type], data };
}

/** encodeGossip, or undefined where the message cannot go by gossip (too large, or not encodable): a publish of it is refused. */
export function encodeGossipOrUndefined(message: PubsubMessage): { topic: GossipTopic; data: Uint8Array } | undefined {
  try {
    return encodeGossip(message);
  } catch {
    return undefined;
  }
}

/** Decode what arrived on `topic`; DecodeError if oversize, malformed, or the variant of another topic. */
export function decodeGossip(topic: string, data: Uint8Array): PubsubMessage {
  const label = `gossip.${topic}`;
  if (!(ALL_GOSSIP_TOPICS as readonly string[]).includes(topic))
    throw new DecodeError(label, 'not an Alys gossip topic');
  if (data.length > MAX_GOSSIP_BYTES)
    throw new DecodeError(label, `message of ${data.length} bytes exceeds ${MAX_GOSSIP_BYTES}`);
  let message: PubsubMessage;
  try {
    message = decodePubsubMessage(data);
  } catch (e) {
    throw new DecodeError(label, (e as Error).message, { cause: e });
  }
  if (GOSSIP_TOPICS[message.type] !== topic)
    throw new DecodeError(label, `a ${message.type} message on the ${topic} topic`);
  return message;
}
