/**
 * The light node's interfaces: what a runtime provides (`LightNodePlatform`), what `createLightNodeFrom`
 * takes (`LightNodeFromOptions`) and what it returns (`LightNode`, `NodeStatus`). Types only, so the
 * platforms (src/platform/*) and entry points depend on these without loading the node itself.
 */
import type { ActorSystem, PlacementFactory } from '../actors/index.js';
import type { Clock, Random } from '../actors/clock.js';
import type {
  ApplyConfig,
  ConfigUpdate,
  ConfigUpdateResult,
  LightNodeConfig,
  ResolvedConfig,
} from '../config/index.js';
import type { ChainSpec } from '../protocol/types.js';
import type { ChainStatus } from './actors/chain.js';
import type { MetricsSnapshot } from './actors/metrics.js';
import type { SyncStatus } from './actors/sync.js';
import type { NodeBridge } from './bridge/node-pegs.js';
import type { Eip1193Provider } from './engine/index.js';
import type { GovernanceTransport } from './governance/transport.js';
import type { GovernanceStatus } from './governance/stats.js';
import type { NodeEventName, NodeEvents } from './events.js';
import type { P2pHostApi, P2pHostOptions } from './network/p2p-host.js';
import type { KvStore } from './storage/kv.js';
import type { SourceScore } from './workflows/scores.js';

/** What a runtime provides (src/platform/nodejs, src/platform/browser, or a test). */
export interface LightNodePlatform {
  /** Open the store for this chain (one store per chain spec (its fingerprint) and mode). */
  openStore(spec: ChainSpec, config: LightNodeConfig): Promise<KvStore>;
  /**
   * Move the store of (spec, config), closed, aside under a name carrying `tag` (it was found to hold
   * another spec's chain); returns where it went. The next `openStore` opens an empty store. Absent
   * (browsers, memory): the node clears the store instead.
   */
  setAsideStore?(spec: ChainSpec, config: LightNodeConfig, tag: string): Promise<string>;
  /** Where verifier actors run (a worker placement); in-thread when absent. */
  verifierPlacement?: PlacementFactory;
  /** One-time asynchronous setup before the first start (e.g. bundling a worker entry). */
  prepare?(): Promise<void>;
  fetch?: typeof fetch;
  /** libp2p transports of this runtime (needed for p2p.listen / p2p.bootstrap); loaded only when p2p is used. */
  p2pTransports?(): Promise<P2pHostOptions['transports']>;
  /**
   * The libp2p host, when it runs elsewhere (the node worker: on the page, src/platform/browser/p2p-bridge/);
   * used instead of `p2pTransports`.
   */
  p2pHost?(options: Omit<P2pHostOptions, 'transports'>): Promise<P2pHostApi>;
  /** Where to listen when p2p.listen is empty (browsers: through the relay, and for WebRTC). */
  p2pDefaultListen?: readonly string[];
  /**
   * The transport of the governance stream at `url` (`governance.url`): gRPC over HTTP/2 in Node; gRPC-web
   * in browsers, whose bidirectional stream is refused (the node runs on without it). Absent: no governance.
   * Called on the node's first start, only when `governance.url` is set: a platform imports it then.
   */
  governanceTransport?(url: string): Promise<GovernanceTransport>;
}

export interface LightNodeFromOptions {
  spec: ChainSpec;
  /** The resolved configuration (loadNodeConfig, loadBrowserConfig or resolveConfig). */
  config: ResolvedConfig;
  platform: LightNodePlatform;
  /** Engine actors serving verified reads concurrently. Default 2. */
  engines?: number;
  /** A provider subscription further behind the verified head is told so and resumes at the head (default 1,024 blocks). */
  subscriptionMaxLag?: number;
  /** Runs inside every hot reload after the actors took the new config (the CLI restarts its metrics server here); a throw rolls the whole reload back. */
  onReconfigure?: ApplyConfig;
  /** Run a circuit relay v2 server in the node's libp2p host (`alys-light relay`). */
  p2pRelayServer?: boolean;
  /** Let libp2p dial any loopback and private address; overrides `p2p.dialPrivate` (default true in Node, false in browsers). */
  p2pAllowPrivate?: boolean;
  /** Tests: a deterministic clock and randomness. */
  clock?: Clock;
  random?: Random;
}

/** libp2p, when p2p.listen / p2p.bootstrap are set: our peer id, listening addresses, connected peers. */
export interface P2pStatus {
  peerId: string;
  addresses: string[];
  peers: string[];
  connections: Array<{ peer: string; address: string; limited: boolean }>;
}

export interface NodeStatus {
  running: boolean;
  head: ChainStatus['head'] | null;
  finalized: number;
  /** The lowest block of verified history stored (blocks below it cannot be read verified); null when none. */
  historyFrom: number | null;
  sync: SyncStatus | null;
  sources: SourceScore[];
  actors: Array<{ address: string; state: string; restarts: number; health: string; placement: string }>;
  /** libp2p, when p2p.listen / p2p.bootstrap are set: our peer id, listening addresses, connected peers. */
  p2p?: P2pStatus;
  /** The governance stream, when `governance.url` is set: connected, heartbeats, updates applied and rejected. */
  governance?: GovernanceStatus;
}

export interface LightNode {
  /** Build the actor tree and start syncing (warm start from storage when it holds this chain). */
  start(): Promise<void>;
  /** Stop every actor (reverse start order) and close storage. */
  stop(): Promise<void>;
  on<E extends NodeEventName>(event: E, listener: (data: NodeEvents[E]) => void): () => void;
  status(): Promise<NodeStatus>;
  /** Prometheus text exposition of the node and its actors. */
  metrics(): Promise<string>;
  metricsSnapshot(): Promise<MetricsSnapshot>;
  /** EIP-1193: verified reads; anything unverifiable is refused unless listed in `passThrough`. */
  readonly provider: Eip1193Provider;
  /**
   * Where peg-ins and peg-outs stand (spec 6.5), from verified evidence only (docs/pegs.md); transitions
   * as the `peg` event. Needs `bitcoin.esplora`; without it every call rejects with `peg.unavailable`.
   */
  readonly bridge: NodeBridge;
  /** The config in effect, with where each value came from. */
  readonly config: ResolvedConfig;
  /**
   * Hot reload: validate `change` (a partial config, or new layers), refuse keys that need a restart,
   * apply it to the running actors atomically (rolled back if any part fails). Typed errors:
   * ConfigError, ConfigRestartRequiredError, ConfigApplyError.
   */
  updateConfig(change: ConfigUpdate): Promise<ConfigUpdateResult>;
  /** The chain this node follows. */
  readonly spec: ChainSpec;
  /** The actor system (advanced: tests, dashboards). Undefined before start. */
  readonly system: ActorSystem | undefined;
}
