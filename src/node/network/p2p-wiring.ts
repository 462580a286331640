/**
 * The light node's libp2p side (p2p.listen / p2p.bootstrap): the host and what connects it to the
 * actors. A factory with explicit start/stop: `start()` creates the host on first use (libp2p is
 * loaded only then, which keeps it out of the wallet-embed bundle's startup) and starts it, `stop()`
 * stops and drops it; the node starts the wiring before its actor system and stops it after.
 *
 * Gossip is followed as Alys does: a block and its approvals are aggregated in a candidate pool
 * (every signature checked before it counts or is forwarded); a block with a majority goes to the
 * SyncActor, which verifies and imports it like a block from any source. The node serves the
 * verified blocks it stores, and gossip that failed its checks costs the sender its score.
 */
import type { ActorSystem } from '../../actors/index.js';
import type { LightNodeConfig } from '../../config/index.js';
import { prepareAuthorities } from '../../protocol/approvals.js';
import { type BlsBackend, createBlsBackend } from '../../protocol/bls/index.js';
import type { AuthoritySchedule } from '../../protocol/authority-schedule.js';
import { createCandidatePool, type CandidatePool } from '../../protocol/candidates.js';
import { encodeSignedBlockMsgpack, type PubsubMessage } from '../../protocol/codec/msgpack.js';
import type { ChainSpec, SignedConsensusBlock } from '../../protocol/types.js';
import type { NetworkActor } from '../actors/network.js';
import { MAX_SERVED_BATCH, type StorageActor } from '../actors/storage.js';
import type { SyncActor } from '../actors/sync.js';
import { ACTOR_ADDRESSES } from '../tree.js';
import type { LightNodePlatform, P2pStatus } from '../types.js';
import type { P2pFaultKind, P2pHostApi, P2pHostOptions } from './p2p-host.js';
import { configValueError } from '../../config/errors.js';

export interface P2pWiringOptions {
  spec: ChainSpec;
  /** The config the node was created with (the p2p keys and `bls` need a restart to change). */
  config: LightNodeConfig;
  platform: Pick<LightNodePlatform, 'p2pTransports' | 'p2pDefaultListen' | 'p2pHost'>;
  /** Run a circuit relay v2 server (`alys-light relay`). */
  relayServer?: boolean;
  /** Let libp2p dial any loopback and private address (overrides p2p.dialPrivate). */
  allowPrivate?: boolean;
  /** The node's actor system, undefined before the first start: where blocks are served from and gossip goes. */
  actors(): ActorSystem | undefined;
  /** The verified head's height (what gossip candidates must be above). */
  verifiedHead(): number;
  /** The node's authority schedule per backend (candidates are checked against the set in force at their height); absent: the spec's set. */
  schedule?: (backend: BlsBackend) => AuthoritySchedule;
}

export interface P2pWiring {
  /** The libp2p host between start() and stop(). */
  readonly host: P2pHostApi | undefined;
  /** The height each peer's gossip hinted at (the SyncActor probes a peer's head from it); kept across restarts. */
  readonly heights: Map<string, number>;
  /** Create the host (first start, or after stop) and start it. */
  start(): Promise<P2pHostApi>;
  /** Stop the host and drop it (the next start creates a new one). */
  stop(): Promise<void>;
  /** Our peer id, addresses and connections; undefined while there is no host. */
  status(): P2pStatus | undefined;
}

/** Whether a config asks for libp2p at all. */
export const wantsP2p = (config: LightNodeConfig): boolean =>
  config.p2p.listen.length > 0 || config.p2p.bootstrap.length > 0;

/**
 * A light node serves the verified blocks it stores (Alys semantics: ascending, stop at the first gap).
 * The server asks for one small batch at a time, at `low` priority: serving must not delay the
 * ChainActor's writes in the StorageActor's mailbox (see `MAX_SERVED_BATCH` in actors/storage.ts).
 */
function serveStoredBlocks(actors: () => ActorSystem | undefined): NonNullable<P2pHostOptions['serveBlocks']> {
  return async (start, count) => {
    const storage = actors()?.ref<typeof StorageActor>(ACTOR_ADDRESSES.storage);
    if (!storage || start > BigInt(Number.MAX_SAFE_INTEGER)) return [];
    const out: SignedConsensusBlock[] = [];
    // one ask per MAX_SERVED_BATCH blocks; a short answer is the first gap
    for (let asked = 0; out.length === asked && out.length < count; ) {
      asked = out.length + Math.min(MAX_SERVED_BATCH, count - out.length);
      const from = Number(start) + out.length;
      const got = await storage.ask(
        { type: 'blocks', from, count: asked - out.length },
        { timeoutMs: 10_000, priority: 'low' },
      );
      out.push(...got);
    }
    return out;
  };
}

/** Gossip that failed its checks costs the sender its score as a source too (bad requests and answers are charged by the SyncActor, where they are used). */
function chargeGossipFaults(actors: () => ActorSystem | undefined) {
  return (peer: string, kind: P2pFaultKind, reason: string): void => {
    if (kind === 'gossip')
      void actors()
        ?.ref<typeof NetworkActor>(ACTOR_ADDRESSES.network)
        .tell({ type: 'fault', id: peer, kind: 'invalid', reason: `gossip: ${reason}` })
        .catch(() => {});
  };
}

/** Blocks and approvals go through the candidate pool; a block that completes its majority goes to the SyncActor. */
function followGossip(
  candidates: CandidatePool,
  heights: Map<string, number>,
  options: Pick<P2pWiringOptions, 'actors' | 'verifiedHead'>,
): NonNullable<P2pHostOptions['onGossip']> {
  return (m: PubsubMessage, from: string) => {
    // a light node cannot check the other topics: it neither uses nor forwards them
    if (m.type !== 'ConsensusBlock' && m.type !== 'ApproveBlock') return { verdict: 'ignore' };
    const offer =
      m.type === 'ConsensusBlock'
        ? candidates.offerBlock(m.block, options.verifiedHead())
        : candidates.offerApproval(m.approval, options.verifiedHead());
    // the proposer built on the block below: a hint where to probe its sender's head
    if (m.type === 'ConsensusBlock' && offer.verdict === 'accept')
      heights.set(from, Math.max(heights.get(from) ?? 0, Number(m.block.message.executionPayload.blockNumber) - 1));
    const done = offer.complete;
    if (done)
      void options
        .actors()
        ?.ref<typeof SyncActor>(ACTOR_ADDRESSES.sync)
        .tell({ type: 'gossip-block', height: done.height, msgpack: encodeSignedBlockMsgpack(done.block) })
        .catch(() => {});
    return offer;
  };
}

/** Discovery: browsers find each other by announcements that cross the relay (which only forwards them). */
function discoveryOf(config: LightNodeConfig, relayServer: boolean): Pick<P2pHostOptions, 'discovery'> {
  if (config.p2p.discover > 0) return { discovery: { dial: config.p2p.discover, announce: true } };
  return relayServer ? { discovery: { dial: 0, announce: false } } : {};
}

async function createHost(options: P2pWiringOptions, heights: Map<string, number>): Promise<P2pHostApi> {
  const { config, platform } = options;
  if (!platform.p2pTransports && !platform.p2pHost)
    throw configValueError(
      'p2p.bootstrap',
      'no peers on a platform without libp2p transports',
      config.p2p.bootstrap,
      'p2p.listen / p2p.bootstrap need a platform with libp2p transports',
    );
  const bls = await createBlsBackend(config.bls);
  const candidates = createCandidatePool({
    authorities: options.schedule ? options.schedule(bls) : prepareAuthorities(options.spec.authorities, bls),
    backend: bls,
  });
  const hostOptions: Omit<P2pHostOptions, 'transports'> = {
    listen: config.p2p.listen.length > 0 ? [...config.p2p.listen] : [...(platform.p2pDefaultListen ?? [])],
    bootstrap: [...config.p2p.bootstrap],
    allowPrivateAddresses: options.allowPrivate ?? config.p2p.dialPrivate,
    ...(options.relayServer ? { relayServer: true, server: true } : {}),
    ...discoveryOf(config, options.relayServer ?? false),
    serveBlocks: serveStoredBlocks(options.actors),
    onPeerFault: chargeGossipFaults(options.actors),
    onGossip: followGossip(candidates, heights, options),
  };
  // the node in the node worker: libp2p runs on the page (src/platform/browser/p2p-bridge/)
  if (platform.p2pHost) return platform.p2pHost(hostOptions);
  const { createP2pHost } = await import('./p2p-host.js');
  return createP2pHost({ ...hostOptions, transports: await platform.p2pTransports!() });
}

export function createP2pWiring(options: P2pWiringOptions): P2pWiring {
  const heights = new Map<string, number>();
  let host: P2pHostApi | undefined;
  return {
    get host() {
      return host;
    },
    heights,
    async start() {
      host ??= await createHost(options, heights);
      await host.start();
      return host;
    },
    async stop() {
      await host?.stop();
      host = undefined;
    },
    status() {
      if (!host) return undefined;
      return {
        peerId: host.peerId,
        addresses: host.multiaddrs(),
        peers: host.peers(),
        connections: host.connections(),
      };
    },
  };
}
