/**
 * A libp2p host speaking Alys's protocols (alys-protocol.md 7): gossipsub on the four Alys topics
 * and `blocks_by_range` as client and server. Transports come from the platform (TCP/WebSockets in
 * Node, WebSockets/WebRTC in browsers); Noise and Yamux as Alys uses.
 *
 * The host moves bytes and decodes them; it does not verify. What a peer sends reaches the caller as
 * decoded, unverified values (blocks from `requestBlocksByRange`, messages through `onGossip`), and
 * every malformed, oversize or slow answer is a typed P2pError and an `onPeerFault` report, never a
 * crash. Gossip that does not decode is rejected (gossipsub's own score drops for its sender).
 *
 * The host composes services, each started and stopped here: gossip on the Alys topics (gossip.ts),
 * `blocks_by_range` (blocks-by-range.ts), peer discovery (discovery.ts), bootstrap redial (redial.ts),
 * with bans and connection gating (bans.ts) checked by libp2p on every connection. Their waits run on
 * `clock` (the runtime's Clock), so a test clock replays them.
 */
import type { ConnectionGater } from '@libp2p/interface';
import { identify } from '@libp2p/identify';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2pOptions } from 'libp2p';
import { type Clock, type Random, realClock } from '../../actors/clock.js';
import type { PubsubMessage } from '../../protocol/codec/msgpack.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';
import { connectionGater, createBans } from './bans.js';
import { type BlocksByRangeOptions, type BlocksByRangeServerOptions, blocksByRangeService } from './blocks-by-range.js';
import { connectedPeers, disconnect } from './connections.js';
import { type DiscoveryOptions, discoveryService } from './discovery.js';
import { alysGossip, alysGossipsub, type GossipAnswer, type GossipLibp2p } from './gossip.js';
import { bootstrapRedial } from './redial.js';
import {
  type RelayLimits,
  type RelayReservations,
  type RelayView,
  RELAY_LIMITS,
  relayServerService,
  reservationRefused,
} from './relay.js';
import type { PeerFaultReporter } from './errors.js';
import type { ServeLimits } from './serve-limits.js';

export type { BlocksByRangeOptions } from './blocks-by-range.js';
export { RELAY_LIMITS, type RelayLimits } from './relay.js';
export { webrtcBudget } from './bans.js';
export { SERVE_LIMITS, type ServeLimits } from './serve-limits.js';

export { P2pError, type P2pFaultKind, type PeerFaultReporter } from './errors.js';

type Transport = NonNullable<Libp2pOptions['transports']>[number];

export interface P2pHostOptions {
  /** libp2p transports of the platform (src/platform/nodejs/p2p.ts, src/platform/browser/p2p.ts). */
  transports: Transport[];
  /** Multiaddrs to listen on (Node), e.g. /ip4/127.0.0.1/tcp/0 and /ip4/127.0.0.1/tcp/0/ws. */
  listen?: string[];
  /** Peers to dial at start (multiaddrs with /p2p/<id>). */
  bootstrap?: string[];
  /** The blocks this host serves by height (Alys semantics: ascending, from `start`, up to `count`). */
  serveBlocks?: BlocksByRangeServerOptions['serveBlocks'];
  /**
   * Adversarial devnet peers only: the exact bytes to answer a blocks_by_range request with (chunks,
   * junk, a cut stream), or undefined to answer normally; `delayMs` first. Never set in a light node.
   */
  respondRaw?: BlocksByRangeServerOptions['respondRaw'];
  /**
   * A decoded gossip message, checked before gossipsub forwards it: `accept` (or true) forwards it,
   * `ignore` drops it quietly (stale, a duplicate), `reject` (or false) drops it and penalises the sender.
   */
  onGossip?: (message: PubsubMessage, from: string) => GossipAnswer | Promise<GossipAnswer>;
  /** Every fault a peer caused, for the node's own scores. */
  onPeerFault?: PeerFaultReporter;
  /**
   * Dial loopback and private addresses learned from anyone (tests, the devnet, LANs). Default false:
   * only those in `bootstrap` and relayed addresses through them (src/node/network/addresses.ts).
   */
  allowPrivateAddresses?: boolean;
  /** Connection limit (default 64). */
  maxConnections?: number;
  /** Time to receive a whole request as a server (Alys: 15 s). */
  requestTimeoutMs?: number;
  /** The blocks_by_range server's limits (src/node/network/serve-limits.ts; tests shrink them). */
  serveLimits?: Partial<ServeLimits>;
  /**
   * Run a circuit relay v2 server (the `alys-light relay` bootstrap node); an object sets its limits
   * (reservations, per-IP reservations, TTL, data and duration per relayed connection; defaults and
   * their reasons in src/node/network/relay.ts).
   */
  relayServer?: boolean | RelayLimits;
  /**
   * A node many peers dial (the devnet peer, a relay): accept up to 100 new connections a second per
   * remote host instead of libp2p's 5 (browsers behind one NAT, or every test node on 127.0.0.1).
   */
  server?: boolean;
  /**
   * WebRTC dials allowed per hour (each makes an RTCPeerConnection; Chrome allows a tab 500 in its
   * lifetime). Past it, /webrtc addresses are refused and peers stay on their relayed connection.
   * Default 100.
   */
  webrtcDialsPerHour?: number;
  /** Redial a bootstrap peer that is not connected every this many ms at most (backoff from 1 s). Default 30 000. */
  redialMaxMs?: number;
  /**
   * Peer discovery by gossip (src/node/network/discovery.ts): subscribe to the announcement topic,
   * dial up to `dial` announced peers (0: none; /webrtc addresses first), and, with `announce`, tell
   * others our own addresses every `intervalMs` (default 10 000) and whenever a new subscriber appears.
   * So that traffic stays flat as the network grows, the interval stretches to 1 s per publisher heard
   * (the network as a whole announces about once a second) and a newcomer is answered by about 8
   * nodes, not all of them.
   * A relay takes part with `{ dial: 0, announce: false }`, so announcements cross it.
   */
  discovery?: DiscoveryOptions;
  /** Time for the host's own waits (request deadlines, bans, redial and announce ticks). Default: the real clock. */
  clock?: Clock;
  /** Randomness for which nodes answer a discovery newcomer. Default Math.random. */
  random?: Random;
}

/** One connection of the host: the peer, the remote address, and whether it is limited (a relayed circuit). */
export interface P2pConnectionInfo {
  peer: string;
  address: string;
  limited: boolean;
}

/**
 * What the node uses of a libp2p host: the local one ({@link createP2pHost}), or, for a node in the
 * node worker, one bridged to the page that runs libp2p (src/platform/browser/p2p-bridge/).
 */
export interface P2pHostApi {
  readonly peerId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Listening addresses with /p2p/<id>. */
  multiaddrs(): string[];
  dial(address: string): Promise<string>;
  /** Connected peers (peer id strings). */
  peers(): string[];
  /** Peers subscribed to a topic. */
  topicPeers(topic: string): string[];
  requestBlocksByRange(
    peer: string,
    start: bigint,
    count: number,
    opts?: BlocksByRangeOptions,
  ): Promise<SignedConsensusBlock[]>;
  /** The same, leaving each block as its msgpack bytes (decoded and verified elsewhere, e.g. in a worker). */
  requestRawBlocksByRange(
    peer: string,
    start: bigint,
    count: number,
    opts?: BlocksByRangeOptions,
  ): Promise<Uint8Array[]>;
  /** Publish on the message's topic; false when it cannot be gossiped (over 64 KiB) or nobody listens. */
  publish(message: PubsubMessage): Promise<boolean>;
  /** The peer's gossipsub score (0 = neutral; invalid gossip makes it negative). */
  gossipScore(peer: string): number;
  /** Disconnect a peer and refuse it until `untilMs` (on the host's clock: epoch ms for the real clock). */
  ban(peer: string, untilMs: number): Promise<void>;
  /** Peers found through discovery announcements that we are connected to. */
  discovered(): string[];
  /** The open connections. */
  connections(): P2pConnectionInfo[];
}

/** The local host: the API and its libp2p node. */
export interface P2pHost extends P2pHostApi {
  readonly libp2p: GossipLibp2p;
}

/** The libp2p node: the platform's transports, Noise, Yamux, identify, gossipsub, and a relay server if asked. */
async function createAlysLibp2p(opts: P2pHostOptions, gater: ConnectionGater): Promise<GossipLibp2p> {
  return (await createLibp2p({
    addresses: { listen: opts.listen ?? [] },
    transports: opts.transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: gater,
    connectionManager: {
      maxConnections: opts.maxConnections ?? (opts.server ? 512 : 64),
      ...(opts.server ? { inboundConnectionThreshold: 100, maxIncomingPendingConnections: 64 } : {}),
    },
    services: {
      identify: identify(),
      // relayed connections carry our protocols (gossip and blocks_by_range run on limited connections)
      // up to the relay's data and duration limits, so a peer whose WebRTC upgrade fails keeps syncing
      ...(opts.relayServer ? { relay: relayServerService(relayLimits(opts)) } : {}),
      pubsub: alysGossipsub(),
    },
    start: false,
  })) as unknown as GossipLibp2p;
}

const relayLimits = (opts: P2pHostOptions): RelayLimits =>
  typeof opts.relayServer === 'object' ? opts.relayServer : {};

/** The relay's connections and reservations, for its per-IP limit (undefined before libp2p exists or without a relay). */
function relayView(node: GossipLibp2p | undefined): RelayView | undefined {
  const relay = (node?.services as { relay?: { reservations: RelayReservations } } | undefined)?.relay;
  if (!node || !relay) return undefined;
  return { getConnections: (p) => node.getConnections(p), reservations: () => relay.reservations };
}

export async function createP2pHost(opts: P2pHostOptions): Promise<P2pHost> {
  const clock = opts.clock ?? realClock;
  const fault: PeerFaultReporter = (peer, kind, reason) => opts.onPeerFault?.(peer, kind, reason);
  const bans = createBans(clock);
  let created: GossipLibp2p | undefined;
  const perIp = relayLimits(opts).maxReservationsPerIp ?? RELAY_LIMITS.maxReservationsPerIp;
  const libp2p = await createAlysLibp2p(
    opts,
    connectionGater({
      bans,
      clock,
      fault,
      allowPrivateAddresses: opts.allowPrivateAddresses,
      listed: opts.bootstrap ?? [],
      webrtcDialsPerHour: opts.webrtcDialsPerHour,
      denyRelayReservation: (peer) => {
        const v = relayView(created);
        return v !== undefined && reservationRefused(v, peer, perIp);
      },
    }),
  );
  created = libp2p;
  const pubsub = libp2p.services.pubsub;
  const gossip = alysGossip({ pubsub, onGossip: opts.onGossip, fault });
  const discovery = opts.discovery
    ? discoveryService({
        ...opts.discovery,
        libp2p,
        clock,
        random: opts.random ?? Math.random,
        isBanned: bans.isBanned,
        fault,
      })
    : undefined;
  const blocksByRange = blocksByRangeService({
    libp2p,
    clock,
    fault,
    serveBlocks: opts.serveBlocks,
    respondRaw: opts.respondRaw,
    requestTimeoutMs: opts.requestTimeoutMs,
    limits: opts.serveLimits,
  });
  const redial = bootstrapRedial({
    libp2p,
    clock,
    bootstrap: opts.bootstrap ?? [],
    maxMs: opts.redialMaxMs,
    isBanned: bans.isBanned,
    fault,
  });

  return {
    get peerId() {
      return libp2p.peerId.toString();
    },
    libp2p,
    async start() {
      await blocksByRange.start();
      await libp2p.start();
      gossip.start();
      discovery?.start();
      await redial.start();
    },
    async stop() {
      redial.stop();
      discovery?.stop();
      await libp2p.stop();
      await blocksByRange.stop();
    },
    multiaddrs: () => libp2p.getMultiaddrs().map((a) => a.toString()),
    async dial(address) {
      const conn = await libp2p.dial(multiaddr(address));
      return conn.remotePeer.toString();
    },
    peers: () => connectedPeers(libp2p),
    topicPeers: (topic) => pubsub.getSubscribers(topic).map((p) => p.toString()),
    requestBlocksByRange: blocksByRange.requestBlocks,
    requestRawBlocksByRange: blocksByRange.requestRawBlocks,
    publish: gossip.publish,
    gossipScore: gossip.score,
    discovered: () => discovery?.discovered() ?? [],
    connections: () =>
      libp2p.getConnections().map((c) => ({
        peer: c.remotePeer.toString(),
        address: c.remoteAddr.toString(),
        limited: c.limits !== undefined,
      })),
    async ban(peer, untilMs) {
      bans.ban(peer, untilMs);
      await disconnect(libp2p, peer);
    },
  };
}
