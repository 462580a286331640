/**
 * A libp2p host speaking Alys's protocols (alys-protocol.md 7): gossipsub on the four Alys topics
 * and `blocks_by_range` as client and server. Transports come from the platform (TCP/WebSockets in
 * Node, WebSockets/WebRTC in browsers); Noise and Yamux as Alys uses.
 *
 * The host moves bytes and decodes them; it does not verify. What a peer sends reaches the caller as
 * decoded, unverified values (blocks from `requestBlocksByRange`, messages through `onGossip`), and
 * every malformed, oversize or slow answer is a typed P2pError and an `onPeerFault` report, never a
 * crash. Gossip that does not decode is rejected (gossipsub's own score drops for its sender).
 */
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import { gossipsub, TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Connection, PeerId, Stream, Libp2p, ConnectionGater } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { isPrivate } from '@libp2p/utils';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2pOptions } from 'libp2p';
import type { PubsubMessage } from '../../protocol/codec/msgpack.js';
import { AlysLightError } from '../../errors.js';
import { DecodeError } from '../../protocol/errors.js';
import {
  ALL_GOSSIP_TOPICS,
  BLOCKS_BY_RANGE_PROTOCOL,
  chunkToBlock,
  decodeBlocksByRangeRequest,
  decodeGossip,
  encodeBlockChunk,
  encodeBlocksByRangeRequest,
  encodeErrorChunk,
  encodeGossip,
  gossipMessageId,
  MAX_BLOCKS_PER_REQUEST,
  maxFramedLength,
  ResponseDecoder,
  RESULT,
} from '../../protocol/p2p/index.js';
import type { GossipVerdict } from '../../protocol/candidates.js';
import { decodeAnnouncement, dialOrder, DISCOVERY_TOPIC, encodeAnnouncement } from './discovery.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';

export type P2pFaultKind = 'decode' | 'oversize' | 'timeout' | 'remote-error' | 'dial' | 'gossip';

/** A peer failed a request or sent something unusable; code `p2p.<kind>`. */
export class P2pError extends AlysLightError {
  override name = 'P2pError';
  declare readonly code: `p2p.${P2pFaultKind}`;
  constructor(
    readonly kind: P2pFaultKind,
    readonly peer: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`p2p.${kind}`, `peer ${peer}: ${message}`, options);
  }
}

type Transport = NonNullable<Libp2pOptions['transports']>[number];

export interface P2pHostOptions {
  /** libp2p transports of the platform (src/platform/nodejs/p2p.ts, src/platform/browser/p2p.ts). */
  transports: Transport[];
  /** Multiaddrs to listen on (Node), e.g. /ip4/127.0.0.1/tcp/0 and /ip4/127.0.0.1/tcp/0/ws. */
  listen?: string[];
  /** Peers to dial at start (multiaddrs with /p2p/<id>). */
  bootstrap?: string[];
  /** The blocks this host serves by height (Alys semantics: ascending, from `start`, up to `count`). */
  serveBlocks?: (
    start: bigint,
    count: number,
  ) => Promise<readonly SignedConsensusBlock[]> | readonly SignedConsensusBlock[];
  /**
   * Adversarial devnet peers only: the exact bytes to answer a blocks_by_range request with (chunks,
   * junk, a cut stream), or undefined to answer normally; `delayMs` first. Never set in a light node.
   */
  respondRaw?: (start: bigint, count: number) => Promise<{ bytes?: Uint8Array; delayMs?: number } | undefined>;
  /**
   * A decoded gossip message, checked before gossipsub forwards it: `accept` (or true) forwards it,
   * `ignore` drops it quietly (stale, a duplicate), `reject` (or false) drops it and penalises the sender.
   */
  onGossip?: (message: PubsubMessage, from: string) => boolean | { verdict: GossipVerdict; reason?: string };
  /** Every fault a peer caused, for the node's own scores. */
  onPeerFault?: (peer: string, kind: P2pFaultKind, reason: string) => void;
  /** Loopback and private addresses are refused by libp2p's default gater in browsers; tests and the devnet allow them. */
  allowPrivateAddresses?: boolean;
  /** Connection limit (default 64). */
  maxConnections?: number;
  /** Time to receive a whole request as a server (Alys: 15 s). */
  requestTimeoutMs?: number;
  /** Run a circuit relay v2 server (the `alys-light relay` bootstrap node). */
  relayServer?: boolean;
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
  discovery?: { dial: number; announce: boolean; intervalMs?: number };
}

export interface BlocksByRangeOptions {
  timeoutMs?: number;
  /** Most blocks accepted in one answer (default max(count, 1024): Alys may answer past count up to its head). */
  maxBlocks?: number;
}

export interface P2pHost {
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
  /** Disconnect a peer and refuse it until `untilMs` (epoch ms). */
  ban(peer: string, untilMs: number): Promise<void>;
  /** Peers found through discovery announcements that we are connected to. */
  discovered(): string[];
  readonly libp2p: Libp2p<{ pubsub: GossipSub }>;
}

const MAX_REQUEST_BYTES = 1 + maxFramedLength(16) + 1;
/** Discovery: how many of the nodes hearing a newcomer answer it, on average. */
const ANSWERS = 8;

/** A browser-to-browser WebRTC address (/p2p-circuit/webrtc), not webrtc-direct. */
function isWebRtc(ma: Multiaddr): boolean {
  return ma.getComponents().some((c) => c.name === 'webrtc');
}

/** At most `perHour` takes in any sliding hour. */
export function webrtcBudget(perHour: number): { take(now: number): boolean; used(now: number): number } {
  const times: number[] = [];
  const prune = (now: number) => {
    while (times.length > 0 && times[0]! <= now - 3_600_000) times.shift();
  };
  return {
    take(now) {
      prune(now);
      if (times.length >= perHour) return false;
      times.push(now);
      return true;
    },
    used(now) {
      prune(now);
      return times.length;
    },
  };
}

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

function chunkBytes(c: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return c instanceof Uint8Array ? c : c.subarray();
}

async function send(stream: Stream, data: Uint8Array): Promise<void> {
  if (!stream.send(data)) await stream.onDrain();
}

export async function createP2pHost(opts: P2pHostOptions): Promise<P2pHost> {
  const bans = new Map<string, number>();
  const banned = (peer: string) => (bans.get(peer) ?? 0) > Date.now();
  const fault = (peer: string, kind: P2pFaultKind, reason: string): void => opts.onPeerFault?.(peer, kind, reason);
  const webrtc = webrtcBudget(opts.webrtcDialsPerHour ?? 100);
  const gater: ConnectionGater = {
    denyDialPeer: async (peerId) => banned(peerId.toString()),
    denyInboundEncryptedConnection: async (peerId) => banned(peerId.toString()),
    denyOutboundEncryptedConnection: async (peerId) => banned(peerId.toString()),
    denyDialMultiaddr: async (ma) => {
      if (!opts.allowPrivateAddresses && isPrivate(ma)) return true;
      if (isWebRtc(ma) && !webrtc.take(Date.now())) {
        fault(
          ma.toString(),
          'dial',
          `WebRTC budget of ${opts.webrtcDialsPerHour ?? 100} dials an hour used up; staying on relayed connections`,
        );
        return true;
      }
      return false;
    },
  };

  const libp2p = (await createLibp2p({
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
      // relayed connections carry our protocols in full (no default 2 min / 128 KiB limit), so a peer
      // whose WebRTC upgrade fails keeps syncing through the relay
      ...(opts.relayServer
        ? { relay: circuitRelayServer({ reservations: { maxReservations: 256, applyDefaultLimit: false } }) }
        : {}),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        // Alys: max_transmit_size 65536 (plus the RPC envelope)
        maxInboundDataLength: 65_536 + 4_096,
        heartbeatInterval: 700,
        // Alys's message id (DefaultHasher over the data, in decimal): IHAVE/IWANT and de-duplication agree with Rust nodes
        msgIdFn: (msg) => new TextEncoder().encode(gossipMessageId(msg.data)),
        scoreParams: {
          topics: Object.fromEntries([...ALL_GOSSIP_TOPICS, DISCOVERY_TOPIC].map((t) => [t, TOPIC_SCORE])),
        },
        scoreThresholds: { gossipThreshold: -50, publishThreshold: -100, graylistThreshold: -200 },
      }),
    },
    start: false,
  })) as unknown as Libp2p<{ pubsub: GossipSub }>;
  const pubsub = libp2p.services.pubsub;

  for (const topic of ALL_GOSSIP_TOPICS) {
    pubsub.topicValidators.set(topic, (peer, msg) => {
      let decoded: PubsubMessage;
      try {
        decoded = decodeGossip(msg.topic, msg.data);
      } catch (e) {
        fault(peer.toString(), 'gossip', (e as Error).message);
        return TopicValidatorResult.Reject;
      }
      const answer = opts.onGossip ? opts.onGossip(decoded, peer.toString()) : true;
      const { verdict, reason } =
        typeof answer === 'boolean' ? { verdict: answer ? 'accept' : 'reject', reason: undefined } : answer;
      if (verdict === 'reject')
        fault(peer.toString(), 'gossip', `rejected ${decoded.type}${reason ? `: ${reason}` : ''}`);
      return verdict === 'accept'
        ? TopicValidatorResult.Accept
        : verdict === 'ignore'
          ? TopicValidatorResult.Ignore
          : TopicValidatorResult.Reject;
    });
  }

  // ---- discovery (not an Alys protocol: see discovery.ts)
  const discovery = opts.discovery;
  const found = new Set<string>();
  const lastTried = new Map<string, number>();
  const connectedTo = (id: string, direct: boolean) =>
    libp2p
      .getConnections()
      .some((c) => c.remotePeer.toString() === id && (!direct || !c.remoteAddr.toString().includes('/p2p-circuit')));
  async function onAnnounced(id: string, addrs: Multiaddr[]): Promise<void> {
    if (!discovery || discovery.dial <= 0 || id === libp2p.peerId.toString() || banned(id) || connectedTo(id, true))
      return;
    for (const f of found) if (!connectedTo(f, false)) found.delete(f);
    if (found.size >= discovery.dial && !found.has(id)) return;
    if (Date.now() - (lastTried.get(id) ?? -Infinity) < 30_000) return;
    lastTried.set(id, Date.now());
    if (lastTried.size > 1_024) lastTried.delete(lastTried.keys().next().value!);
    for (const ma of dialOrder(addrs)) {
      try {
        await libp2p.dial(ma, { signal: AbortSignal.timeout(20_000) });
        found.add(id);
        if (connectedTo(id, true)) return;
      } catch (e) {
        fault(ma.toString(), 'dial', (e as Error).message);
      }
    }
  }
  if (discovery) {
    pubsub.topicValidators.set(DISCOVERY_TOPIC, (peer, msg) => {
      try {
        if (msg.type !== 'signed') throw new DecodeError('discovery.announcement', 'unsigned');
        const from = msg.from.toString();
        const addrs = decodeAnnouncement(msg.data, from);
        // a publisher we have not heard before may not know us either: announce at the next tick
        // (about 8 of all the nodes that hear it answer)
        if (!heard.has(from)) {
          if (heard.size >= 1_024) heard.clear();
          heard.add(from);
          if (Math.random() < ANSWERS / heard.size) answer = true;
        }
        void onAnnounced(from, addrs);
        return TopicValidatorResult.Accept;
      } catch (e) {
        fault(peer.toString(), 'gossip', (e as Error).message);
        return TopicValidatorResult.Reject;
      }
    });
  }
  let announcedAt = 0;
  let announcedTo = new Set<string>();
  const heard = new Set<string>();
  let answer = false;
  async function announce(): Promise<void> {
    if (!discovery?.announce) return;
    const subscribers = pubsub.getSubscribers(DISCOVERY_TOPIC).map((p) => p.toString());
    const fresh = subscribers.some((p) => !announcedTo.has(p));
    const interval = Math.max(discovery.intervalMs ?? 10_000, heard.size * 1_000);
    if (subscribers.length === 0 || (!fresh && !answer && Date.now() - announcedAt < interval)) return;
    const data = encodeAnnouncement(
      libp2p.peerId.toString(),
      libp2p.getMultiaddrs().map((a) => a.toString()),
    );
    if (data.length <= '{"addrs":[]}'.length) return; // nothing to announce yet (no relay reservation)
    announcedAt = Date.now();
    announcedTo = new Set(subscribers);
    answer = false;
    await pubsub.publish(DISCOVERY_TOPIC, data).catch(() => {});
  }

  async function serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const timer = setTimeout(() => stream.abort(new Error('request timeout')), opts.requestTimeoutMs ?? 15_000);
    try {
      const parts: Uint8Array[] = [];
      let size = 0;
      for await (const c of stream) {
        const b = chunkBytes(c);
        size += b.length;
        if (size > MAX_REQUEST_BYTES)
          throw new DecodeError('blocks_by_range.request', `request longer than ${MAX_REQUEST_BYTES} bytes`);
        parts.push(b);
      }
      clearTimeout(timer);
      const bytes = new Uint8Array(size);
      let o = 0;
      for (const p of parts) {
        bytes.set(p, o);
        o += p.length;
      }
      let req;
      try {
        req = decodeBlocksByRangeRequest(bytes);
      } catch (e) {
        fault(peer, 'decode', (e as Error).message);
        await send(stream, encodeErrorChunk(RESULT.invalidRequest, (e as Error).message));
        return;
      }
      const count = Number(req.count > BigInt(MAX_BLOCKS_PER_REQUEST) ? BigInt(MAX_BLOCKS_PER_REQUEST) : req.count);
      const raw = await opts.respondRaw?.(req.startHeight, count);
      if (raw?.delayMs) await new Promise((r) => setTimeout(r, raw.delayMs));
      if (raw?.bytes) {
        await send(stream, raw.bytes);
        return;
      }
      const blocks = count === 0 || !opts.serveBlocks ? [] : await opts.serveBlocks(req.startHeight, count);
      for (const b of blocks) await send(stream, encodeBlockChunk(b));
    } catch (e) {
      if (stream.status === 'open')
        await send(stream, encodeErrorChunk(RESULT.serverError, (e as Error).message)).catch(() => {});
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => stream.abort(new Error('close failed')));
    }
  }

  async function requestBlocksByRange(
    peer: string,
    start: bigint,
    count: number,
    o: BlocksByRangeOptions = {},
  ): Promise<SignedConsensusBlock[]> {
    return request(peer, start, count, o, true) as Promise<SignedConsensusBlock[]>;
  }

  async function request(
    peer: string,
    start: bigint,
    count: number,
    o: BlocksByRangeOptions,
    decode: boolean,
  ): Promise<Array<SignedConsensusBlock | Uint8Array>> {
    if (!Number.isSafeInteger(count) || count < 1)
      throw new RangeError(`count must be a positive integer, got ${count}`);
    const maxBlocks = o.maxBlocks ?? Math.max(count, MAX_BLOCKS_PER_REQUEST);
    const signal = AbortSignal.timeout(o.timeoutMs ?? 30_000);
    let stream: Stream;
    try {
      stream = await libp2p.dialProtocol(peerIdOrAddr(peer), BLOCKS_BY_RANGE_PROTOCOL, {
        signal,
        runOnLimitedConnection: true,
      });
    } catch (e) {
      const kind: P2pFaultKind = signal.aborted ? 'timeout' : 'dial';
      fault(peer, kind, (e as Error).message);
      throw new P2pError(kind, peer, `could not open blocks_by_range: ${(e as Error).message}`, { cause: e });
    }
    const onAbort = () => stream.abort(new Error('blocks_by_range timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    const blocks: Array<SignedConsensusBlock | Uint8Array> = [];
    try {
      await send(stream, encodeBlocksByRangeRequest({ startHeight: start, count: BigInt(count) }));
      await stream.close();
      const decoder = new ResponseDecoder();
      for await (const c of stream) {
        for (const chunk of decoder.push(chunkBytes(c))) {
          if (chunk.code !== RESULT.success || decode) {
            const r = chunkToBlock(chunk);
            if ('error' in r)
              throw new P2pError('remote-error', peer, `answered error ${r.error.code}: ${r.error.message}`);
            blocks.push(r.block);
          } else blocks.push(chunk.payload);
          if (blocks.length > maxBlocks) throw new P2pError('oversize', peer, `sent more than ${maxBlocks} blocks`);
        }
      }
      decoder.end();
      return blocks;
    } catch (e) {
      const err =
        e instanceof P2pError
          ? e
          : signal.aborted
            ? new P2pError('timeout', peer, 'blocks_by_range timed out', { cause: e })
            : e instanceof DecodeError
              ? new P2pError('decode', peer, e.message, { cause: e })
              : new P2pError('dial', peer, (e as Error).message, { cause: e });
      fault(peer, err.kind, err.message);
      stream.abort(err);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  // Bootstrap peers are kept: one that is not connected (it restarted, the link dropped, the first
  // dial failed) is dialled again with a backoff from 1 s up to redialMaxMs (Alys: every 5 s, 2^n s).
  const redial = new Map<string, { attempt: number; next: number }>();
  let redialTimer: ReturnType<typeof setInterval> | undefined;
  let announceTimer: ReturnType<typeof setInterval> | undefined;
  const bootstrapPeerId = (addr: string): string | undefined =>
    multiaddr(addr)
      .getComponents()
      .findLast((c) => c.name === 'p2p')?.value;
  async function redialBootstrap(): Promise<void> {
    const conns = libp2p.getConnections();
    const connected = new Set(conns.map((c) => c.remotePeer.toString()));
    // a /webrtc bootstrap address counts as reached only over a direct connection: while only the
    // relayed one is up (the upgrade failed, e.g. ICE timed out), it keeps carrying the sync and the
    // upgrade is retried with the same backoff (and within the WebRTC budget)
    const direct = new Set(
      conns.filter((c) => !c.remoteAddr.toString().includes('/p2p-circuit')).map((c) => c.remotePeer.toString()),
    );
    for (const addr of opts.bootstrap ?? []) {
      const id = bootstrapPeerId(addr);
      const reached = id !== undefined && (addr.includes('/webrtc') ? direct.has(id) : connected.has(id));
      if (reached || (id !== undefined && banned(id))) continue;
      const r = redial.get(addr) ?? { attempt: 0, next: 0 };
      if (Date.now() < r.next) continue;
      r.attempt++;
      r.next = Date.now() + Math.min(opts.redialMaxMs ?? 30_000, 1000 * 2 ** (r.attempt - 1));
      redial.set(addr, r);
      await libp2p.dial(multiaddr(addr)).then(
        () => redial.delete(addr),
        (e: Error) => fault(addr, 'dial', e.message),
      );
    }
  }

  const peerIdOrAddr = (peer: string): PeerId | Multiaddr => {
    if (peer.startsWith('/')) return multiaddr(peer);
    const conn = libp2p.getConnections().find((c) => c.remotePeer.toString() === peer);
    if (!conn) throw new P2pError('dial', peer, 'not connected');
    return conn.remotePeer;
  };

  return {
    get peerId() {
      return libp2p.peerId.toString();
    },
    libp2p,
    async start() {
      await libp2p.handle(BLOCKS_BY_RANGE_PROTOCOL, (stream, connection) => serve(stream, connection), {
        maxInboundStreams: 32,
        runOnLimitedConnection: true,
      });
      await libp2p.start();
      for (const t of ALL_GOSSIP_TOPICS) pubsub.subscribe(t);
      if (discovery) {
        pubsub.subscribe(DISCOVERY_TOPIC);
        if (discovery.announce) announceTimer = setInterval(() => void announce(), 1_000);
      }
      await redialBootstrap();
      if ((opts.bootstrap ?? []).length > 0) redialTimer = setInterval(() => void redialBootstrap(), 1_000);
    },
    async stop() {
      clearInterval(redialTimer);
      clearInterval(announceTimer);
      await libp2p.stop();
    },
    multiaddrs: () => libp2p.getMultiaddrs().map((a) => a.toString()),
    async dial(address) {
      const conn = await libp2p.dial(multiaddr(address));
      return conn.remotePeer.toString();
    },
    peers: () => [...new Set(libp2p.getConnections().map((c) => c.remotePeer.toString()))],
    topicPeers: (topic) => pubsub.getSubscribers(topic).map((p) => p.toString()),
    requestBlocksByRange,
    requestRawBlocksByRange: (peer, start, count, o = {}) =>
      request(peer, start, count, o, false) as Promise<Uint8Array[]>,
    async publish(message) {
      let encoded;
      try {
        encoded = encodeGossip(message);
      } catch {
        return false;
      }
      const r = await pubsub.publish(encoded.topic, encoded.data).catch(() => undefined);
      return r !== undefined && r.recipients.length > 0;
    },
    gossipScore: (peer) => (pubsub as unknown as { getScore(id: string): number }).getScore(peer),
    discovered: () => [...found].filter((id) => connectedTo(id, false)),
    async ban(peer, untilMs) {
      bans.set(peer, untilMs);
      for (const c of libp2p.getConnections()) if (c.remotePeer.toString() === peer) await c.close().catch(() => {});
    },
  };
}
