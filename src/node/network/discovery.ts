/**
 * Peer discovery through the relay: light nodes announce where they can be reached on one gossip
 * topic, so a browser that only knows the relay finds other browsers and dials them over WebRTC.
 *
 * Not an Alys protocol (Alys nodes find each other by bootnodes and mDNS and never subscribe to this
 * topic). It plays the part of libp2p's pubsub-peer-discovery with the checks that module leaves out:
 * an announcement is small JSON, names only the publisher's own addresses (every address ends in
 * `/p2p/<publisher>`, and gossipsub's strict signing proves who published), and anything else is
 * rejected, which costs the sender its gossipsub score. A liar can therefore only announce itself.
 *
 * `{"addrs": ["/ip4/203.0.113.7/tcp/55445/ws/p2p/<relay>/p2p-circuit/webrtc/p2p/<self>", ...]}`
 *
 * The announcement format is a few pure functions; {@link discoveryService} is what the host runs.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Clock, Random } from '../../actors/clock.js';
import { DecodeError } from '../../protocol/errors.js';
import { isConnected } from './connections.js';
import type { GossipLibp2p } from './gossip.js';
import type { PeerFaultReporter } from './errors.js';
import { every, timeoutSignal } from './timers.js';

export const DISCOVERY_TOPIC = 'alys-light/peers/1';
export const MAX_ANNOUNCEMENT_BYTES = 2_048;
export const MAX_ANNOUNCED_ADDRS = 8;
const MAX_ADDR_LENGTH = 256;

/** The announcement of `addrs` (at most 8, each ending in our /p2p/<id>); addresses that do not fit are left out. */
export function encodeAnnouncement(self: string, addrs: readonly string[]): Uint8Array {
  const own = addrs
    .filter((a) => a.length <= MAX_ADDR_LENGTH && a.endsWith(`/p2p/${self}`))
    .slice(0, MAX_ANNOUNCED_ADDRS);
  let bytes = new TextEncoder().encode(JSON.stringify({ addrs: own }));
  while (bytes.length > MAX_ANNOUNCEMENT_BYTES) {
    own.pop();
    bytes = new TextEncoder().encode(JSON.stringify({ addrs: own }));
  }
  return bytes;
}

/** The addresses `publisher` announced; DecodeError unless every one is its own, well-formed, and the whole fits the limits. */
export function decodeAnnouncement(data: Uint8Array, publisher: string): Multiaddr[] {
  const label = 'discovery.announcement';
  if (data.length > MAX_ANNOUNCEMENT_BYTES)
    throw new DecodeError(label, `${data.length} bytes exceeds ${MAX_ANNOUNCEMENT_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (e) {
    throw new DecodeError(label, `not UTF-8 JSON: ${(e as Error).message}`);
  }
  const addrs = (value as { addrs?: unknown } | null)?.addrs;
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.keys(value).length !== 1 ||
    !Array.isArray(addrs)
  )
    throw new DecodeError(label, 'expected exactly {"addrs": [...]}');
  if (addrs.length === 0 || addrs.length > MAX_ANNOUNCED_ADDRS)
    throw new DecodeError(label, `expected 1..${MAX_ANNOUNCED_ADDRS} addresses, got ${addrs.length}`);
  return addrs.map((a, i) => {
    if (typeof a !== 'string' || a.length > MAX_ADDR_LENGTH)
      throw new DecodeError(
        `${label}.addrs[${i}]`,
        `expected a multiaddr string of at most ${MAX_ADDR_LENGTH} characters`,
      );
    let ma: Multiaddr;
    try {
      ma = multiaddr(a);
    } catch (e) {
      throw new DecodeError(`${label}.addrs[${i}]`, `not a multiaddr: ${(e as Error).message}`);
    }
    const last = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
    if (last !== publisher)
      throw new DecodeError(
        `${label}.addrs[${i}]`,
        `announces ${last ?? 'no peer id'}, not its publisher ${publisher}`,
      );
    return ma;
  });
}

/**
 * Which announced address to dial: a browser-to-browser /webrtc one first (a direct connection,
 * negotiated through the relay), then a relayed /p2p-circuit one, then anything else.
 */
export function dialOrder(addrs: readonly Multiaddr[]): Multiaddr[] {
  const rank = (ma: Multiaddr) => {
    const names = ma.getComponents().map((c) => c.name);
    return names.includes('webrtc') ? 0 : names.includes('p2p-circuit') ? 1 : 2;
  };
  return [...addrs].sort((a, b) => rank(a) - rank(b));
}

/** Discovery: how many of the nodes hearing a newcomer answer it, on average. */
const ANSWERS = 8;
/** An announced peer is dialled again at most this often. */
const RETRY_MS = 30_000;
/** Time for one dial of an announced address. */
const DIAL_TIMEOUT_MS = 20_000;
/** Peers remembered (tried, heard) before the oldest are forgotten. */
const MEMORY = 1_024;

/** The host's `discovery` option (see P2pHostOptions). */
export interface DiscoveryOptions {
  /** Announced peers to dial and keep (0: none). */
  dial: number;
  /** Announce our own addresses. */
  announce: boolean;
  /** Shortest time between two announcements with nothing new to answer. Default 10 000. */
  intervalMs?: number;
}

export interface DiscoveryServiceOptions extends DiscoveryOptions {
  libp2p: GossipLibp2p;
  clock: Clock;
  random: Random;
  isBanned(peer: string): boolean;
  /** Invalid announcements (kind `gossip`) and failed dials (kind `dial`) are reported here. */
  fault: PeerFaultReporter;
}

export interface DiscoveryService {
  /** Subscribe to the announcement topic (after libp2p started) and, with `announce`, announce every second at most. */
  start(): void;
  stop(): void;
  /** Peers found through announcements that we are connected to. */
  discovered(): string[];
}

/** Discovery on {@link DISCOVERY_TOPIC}; announcements are validated from now on (the validator is set here). */
export function discoveryService(o: DiscoveryServiceOptions): DiscoveryService {
  const { libp2p, clock } = o;
  const pubsub = libp2p.services.pubsub;
  const found = new Set<string>();
  const lastTried = new Map<string, number>();
  const heard = new Set<string>();
  let announcedAt = 0;
  let announcedTo = new Set<string>();
  let answerNewcomer = false;
  let stopTicks: (() => void) | undefined;

  /** Dial an announced peer, unless it is us, banned, already directly connected, tried lately, or we have enough. */
  async function onAnnounced(id: string, addrs: Multiaddr[]): Promise<void> {
    if (o.dial <= 0 || id === libp2p.peerId.toString() || o.isBanned(id) || isConnected(libp2p, id, true)) return;
    for (const f of found) if (!isConnected(libp2p, f, false)) found.delete(f);
    if (found.size >= o.dial && !found.has(id)) return;
    if (clock.now() - (lastTried.get(id) ?? -Infinity) < RETRY_MS) return;
    lastTried.set(id, clock.now());
    if (lastTried.size > MEMORY) lastTried.delete(lastTried.keys().next().value!);
    for (const ma of dialOrder(addrs)) {
      const deadline = timeoutSignal(clock, DIAL_TIMEOUT_MS);
      try {
        await libp2p.dial(ma, { signal: deadline.signal });
        found.add(id);
        if (isConnected(libp2p, id, true)) return;
      } catch (e) {
        o.fault(ma.toString(), 'dial', (e as Error).message);
      } finally {
        deadline.clear();
      }
    }
  }

  /** A publisher we have not heard before may not know us either: about 8 of all the nodes that hear it answer at the next tick. */
  function noteNewcomer(from: string): void {
    if (heard.has(from)) return;
    if (heard.size >= MEMORY) heard.clear();
    heard.add(from);
    if (o.random() < ANSWERS / heard.size) answerNewcomer = true;
  }

  pubsub.topicValidators.set(DISCOVERY_TOPIC, (peer, msg) => {
    try {
      if (msg.type !== 'signed') throw new DecodeError('discovery.announcement', 'unsigned');
      const from = msg.from.toString();
      const addrs = decodeAnnouncement(msg.data, from);
      noteNewcomer(from);
      void onAnnounced(from, addrs);
      return TopicValidatorResult.Accept;
    } catch (e) {
      o.fault(peer.toString(), 'gossip', (e as Error).message);
      return TopicValidatorResult.Reject;
    }
  });

  /**
   * Announce our addresses when a subscriber we never announced to appeared, a newcomer is to be
   * answered, or the interval (stretched to 1 s per publisher heard) has passed.
   */
  async function announce(): Promise<void> {
    const subscribers = pubsub.getSubscribers(DISCOVERY_TOPIC).map((p) => p.toString());
    const fresh = subscribers.some((p) => !announcedTo.has(p));
    const interval = Math.max(o.intervalMs ?? 10_000, heard.size * 1_000);
    if (subscribers.length === 0 || (!fresh && !answerNewcomer && clock.now() - announcedAt < interval)) return;
    const data = encodeAnnouncement(
      libp2p.peerId.toString(),
      libp2p.getMultiaddrs().map((a) => a.toString()),
    );
    if (data.length <= '{"addrs":[]}'.length) return; // nothing to announce yet (no relay reservation)
    announcedAt = clock.now();
    announcedTo = new Set(subscribers);
    answerNewcomer = false;
    await pubsub.publish(DISCOVERY_TOPIC, data).catch(() => {});
  }

  return {
    start() {
      pubsub.subscribe(DISCOVERY_TOPIC);
      if (o.announce) stopTicks = every(clock, 1_000, () => void announce());
    },
    stop() {
      stopTicks?.();
      stopTicks = undefined;
    },
    discovered: () => [...found].filter((id) => isConnected(libp2p, id, false)),
  };
}
