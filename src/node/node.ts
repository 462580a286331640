/**
 * `createLightNode(options)`: the light node as a supervised actor system (design section 2):
 *
 *   alys (one-for-all)
 *   +- storage (one-for-one):   storage (backoff) | metrics (never)
 *   +- events  (one-for-one):   stream (backoff)
 *   +- bridge  (one-for-one):   federation (backoff) | bridge (circuit breaker)
 *   +- chain   (one-for-one):   chain (backoff) | auxpow (backoff) | engine-0..k (circuit breaker)
 *   |                           | verifiers (one-for-one): verifier-0..n (backoff; in workers when placed)
 *   +- network (rest-for-one):  network (circuit breaker) | sync (backoff)
 *
 * Supervisors start in this order (each needs the ones above: the chain loads from storage, sync
 * asks the chain where to resume) and stop in reverse. The event stream starts before the chain
 * and the chain before its verifier workers, so a warm start shows the stored verified head while
 * the workers are still booting. Platform specifics (storage backend, worker
 * spawning, fetch) come in through `platform`, so this file runs in Node, browsers and Workers.
 */
import {
  circuitBreaker,
  createActorSystem,
  exponentialBackoff,
  MetricsRegistry,
  never,
  type ActorSystem,
  type PlacementFactory,
  type SupervisionEvent,
} from '../actors/index.js';
import type { Clock, Random } from '../actors/clock.js';
import { blockHash, genesisBlock } from '../protocol/block.js';
import { createBlsBackend, type BlsBackendName } from '../protocol/bls/index.js';
import { decodeSignedBlockJson } from '../protocol/codec/json.js';
import { EMPTY_AGGREGATE_APPROVAL, prepareAuthorities } from '../protocol/approvals.js';
import { createCandidatePool } from '../protocol/candidates.js';
import { encodeSignedBlockMsgpack } from '../protocol/codec/msgpack.js';
import type { ChainSpec, SignedConsensusBlock } from '../protocol/types.js';
import { AuxPowActor, POW_TOPIC } from './actors/auxpow.js';
import { BridgeActor, BRIDGE_TOPIC } from './actors/bridge.js';
import { ChainActor, type ChainMsg, type ChainStatus } from './actors/chain.js';
import { EngineActor, type EngineArgs } from './actors/engine.js';
import { FederationActor } from './actors/federation.js';
import { MetricsActor, type MetricsSnapshot } from './actors/metrics.js';
import { NetworkActor, type NetworkArgs } from './actors/network.js';
import { StorageActor } from './actors/storage.js';
import { StreamActor } from './actors/stream.js';
import { SyncActor, type SyncArgs, type SyncSettings, type SyncStatus } from './actors/sync.js';
import { VerifierActor } from './actors/verifier.js';
import { createEip1193Provider, type Eip1193Provider, type VerifiedReads } from './engine/index.js';
import { LightNodeError, NoSourceError } from './errors.js';
import { topicOf, type NodeEventMessage, type NodeEventName, type NodeEvents } from './events.js';
import { createConsensusRpcSource } from './sources/consensus-rpc.js';
import type { P2pHost, P2pHostOptions } from './network/p2p-host.js';
import type { KvStore } from './storage/kv.js';
import { Scores, type SourceScore } from './workflows/scores.js';
import {
  createConfigManager,
  type ApplyConfig,
  type ConfigKey,
  type ConfigUpdate,
  type ConfigUpdateResult,
  type LightNodeConfig,
  type ResolvedConfig,
} from '../config/index.js';

/** What a runtime provides (src/platform/nodejs, src/platform/browser, or a test). */
export interface LightNodePlatform {
  /** Open the store for this chain (one store per chain id and mode). */
  openStore(spec: ChainSpec, config: LightNodeConfig): Promise<KvStore>;
  /** Where verifier actors run (a worker placement); in-thread when absent. */
  verifierPlacement?: PlacementFactory;
  /** One-time asynchronous setup before the first start (e.g. bundling a worker entry). */
  prepare?(): Promise<void>;
  fetch?: typeof fetch;
  /** libp2p transports of this runtime (needed for p2p.listen / p2p.bootstrap); loaded only when p2p is used. */
  p2pTransports?(): Promise<P2pHostOptions['transports']>;
  /** Where to listen when p2p.listen is empty (browsers: through the relay, and for WebRTC). */
  p2pDefaultListen?: readonly string[];
}

export interface LightNodeFromOptions {
  spec: ChainSpec;
  /** The resolved configuration (loadNodeConfig, loadBrowserConfig or resolveConfig). */
  config: ResolvedConfig;
  platform: LightNodePlatform;
  /** Engine actors serving verified reads concurrently. Default 2. */
  engines?: number;
  /** Runs inside every hot reload after the actors took the new config (the CLI restarts its metrics server here); a throw rolls the whole reload back. */
  onReconfigure?: ApplyConfig;
  /** Run a circuit relay v2 server in the node's libp2p host (`alys-light relay`). */
  p2pRelayServer?: boolean;
  /** Let libp2p dial loopback and private addresses (default true: devnets and LANs; browsers in production want false). */
  p2pAllowPrivate?: boolean;
  /** Tests: a deterministic clock and randomness. */
  clock?: Clock;
  random?: Random;
}

export interface NodeStatus {
  running: boolean;
  head: ChainStatus['head'] | null;
  finalized: number;
  sync: SyncStatus | null;
  sources: SourceScore[];
  actors: Array<{ address: string; state: string; restarts: number; health: string; placement: string }>;
  /** libp2p, when p2p.listen / p2p.bootstrap are set: our peer id, listening addresses, connected peers. */
  p2p?: {
    peerId: string;
    addresses: string[];
    peers: string[];
    connections: Array<{ peer: string; address: string; limited: boolean }>;
  };
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

const ROOT = 'alys';
const A = {
  storage: `/${ROOT}/storage/storage`,
  metrics: `/${ROOT}/storage/metrics`,
  federation: `/${ROOT}/bridge/federation`,
  bridge: `/${ROOT}/bridge/bridge`,
  chain: `/${ROOT}/chain/chain`,
  auxpow: `/${ROOT}/chain/auxpow`,
  network: `/${ROOT}/network/network`,
  sync: `/${ROOT}/network/sync`,
  stream: `/${ROOT}/events/stream`,
};
const VERIFIERS = 'verifiers';
const ENGINES = 'engines';

/**
 * Block 0 is never signed (spec 2.5): take it from a source, require that it is exactly the genesis
 * this chain spec derives from its own payload; block 1's federation-signed parent hash then pins it.
 */
export async function fetchGenesis(
  spec: ChainSpec,
  rpc: readonly string[],
  fetchImpl?: typeof fetch,
  p2p?: P2pHost,
): Promise<SignedConsensusBlock> {
  const problems: string[] = [];
  const getters: Array<[string, () => Promise<SignedConsensusBlock>]> = [
    ...rpc.map((url): [string, () => Promise<SignedConsensusBlock>] => [
      url,
      async () =>
        decodeSignedBlockJson(
          (
            JSON.parse(
              await createConsensusRpcSource({ url, ...(fetchImpl ? { fetch: fetchImpl } : {}) }).blockAt(0),
            ) as { result: unknown }
          ).result,
        ),
    ]),
    ...(p2p?.peers() ?? []).map((peer): [string, () => Promise<SignedConsensusBlock>] => [
      peer,
      async () => {
        const [b] = await p2p!.requestBlocksByRange(peer, 0n, 1, { timeoutMs: 10_000 });
        if (!b) throw new Error('the peer sent no block 0');
        return b;
      },
    ]),
  ];
  for (const [url, get] of getters) {
    try {
      const block = await get();
      const derived = genesisBlock(spec, block.message.executionPayload);
      if (blockHash(derived.message) !== blockHash(block.message))
        throw new Error('block 0 is not the genesis of this chain spec');
      if (
        block.signature.aggregationBits !== EMPTY_AGGREGATE_APPROVAL.aggregationBits ||
        block.signature.aggregateSignature !== EMPTY_AGGREGATE_APPROVAL.aggregateSignature
      )
        throw new Error('block 0 carries approvals (genesis is never signed)');
      return derived;
    } catch (e) {
      problems.push(`${url}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new NoSourceError(
    'the genesis block',
    problems.join('; ') || 'no consensus RPC configured and no peer connected',
  );
}

/** The light node over a resolved config and a platform. Most callers want `createLightNode` (src/index.ts). */
export function createLightNodeFrom(options: LightNodeFromOptions): LightNode {
  const { spec, platform } = options;
  const listeners = new Map<NodeEventName, Set<(data: never) => void>>();
  let system: ActorSystem | undefined;
  let running = false;
  let prepared = false;
  let memoryKv: Promise<KvStore> | undefined;
  /** The StorageActor's store. Memory storage outlives actor restarts (a crash must not cost the chain); stop() drops it. */
  function openKv(): Promise<KvStore> {
    const config = configs.current.config;
    if (config.storage !== 'memory') return platform.openStore(spec, config);
    memoryKv ??= platform.openStore(spec, config);
    return memoryKv.then((kv) => ({ ...kv, close: async () => {} }));
  }
  const configs = createConfigManager({
    initial: options.config,
    apply: (next, prev, keys) => reconfigure(next, prev, keys),
  });
  const initial = options.config.config;

  // Live argument objects: restarted actors are created from these, so they start from the current config.
  const syncSettings = (c: LightNodeConfig): SyncSettings => ({ sources: [...c.rpc], ...c.sync });
  const syncArgs: SyncArgs = {
    ...syncSettings(initial),
    chain: A.chain,
    network: A.network,
    verifierGroup: VERIFIERS,
    mode: initial.mode,
    ...(platform.fetch ? { fetch: platform.fetch } : {}),
  };
  // libp2p (p2p.listen / p2p.bootstrap): created here, started and stopped with the node
  const p2pHeights = new Map<string, number>();
  let p2pHost: P2pHost | undefined;
  const wantsP2p = initial.p2p.listen.length > 0 || initial.p2p.bootstrap.length > 0;
  const networkArgs: NetworkArgs = { sources: [...initial.rpc, ...initial.evmRpc] };
  const engineCount = options.engines ?? 2;
  const engineArgs: EngineArgs[] = Array.from({ length: engineCount }, () => ({
    evmRpc: [...initial.evmRpc],
    chain: A.chain,
    network: A.network,
    timeoutMs: initial.sync.requestTimeoutMs,
    ...(platform.fetch ? { fetch: platform.fetch } : {}),
  }));
  let passThrough = [...initial.passThrough];

  /** The verified head's height (what gossip candidates must be above). */
  let verifiedHead = 0;
  const deliver = (e: NodeEventMessage) => {
    if (e.name === 'head') verifiedHead = (e.data as NodeEvents['head']).number;
    for (const l of listeners.get(e.name) ?? []) l(e.data as never);
  };

  // The provider asks the engine group; its `reads` is a proxy of the VerifiedReads methods.
  const readsProxy = new Proxy({} as VerifiedReads, {
    get(_t, method: string) {
      if (method === 'endpoints') return engineArgs[0]?.evmRpc ?? [];
      return (...args: unknown[]) => {
        if (!system || !running)
          return Promise.reject(new LightNodeError('not-started', 'start the light node before querying it'));
        return system.askGroup(ENGINES, { type: 'read', method, args }, { timeoutMs: 60_000 });
      };
    },
  });
  let provider = createEip1193Provider({ reads: readsProxy, chainId: spec.chainId, passThrough });
  // a stable object for callers; the inner provider is rebuilt when passThrough changes
  const stableProvider: Eip1193Provider = {
    request: (args) => provider.request(args),
    on: (event, listener) => provider.on(event, listener),
    removeListener: (event, listener) => provider.removeListener(event, listener),
    get verifiedMethods() {
      return provider.verifiedMethods;
    },
  } as Eip1193Provider;

  /** Apply a config to the running actors (also the rollback: called again with the previous one). */
  async function reconfigure(next: LightNodeConfig, prev: LightNodeConfig, keys: readonly ConfigKey[]): Promise<void> {
    const sys = system;
    Object.assign(syncArgs, syncSettings(next));
    networkArgs.sources = [...next.rpc, ...next.evmRpc];
    for (const e of engineArgs) Object.assign(e, { evmRpc: [...next.evmRpc], timeoutMs: next.sync.requestTimeoutMs });
    if (keys.includes('passThrough')) {
      passThrough = [...next.passThrough];
      provider = createEip1193Provider({ reads: readsProxy, chainId: spec.chainId, passThrough });
    }
    if (sys && running) {
      const opts = { timeoutMs: 10_000 };
      if (keys.some((k) => k === 'rpc' || k === 'evmRpc'))
        await sys.ref<typeof NetworkActor>(A.network).ask({ type: 'configure', sources: networkArgs.sources }, opts);
      if (keys.some((k) => k === 'rpc' || k.startsWith('sync.')))
        await sys.ref<typeof SyncActor>(A.sync).ask({ type: 'configure', settings: syncSettings(next) }, opts);
      if (keys.some((k) => k === 'evmRpc' || k === 'sync.requestTimeoutMs'))
        await Promise.all(
          engineArgs.map((e, i) =>
            sys
              .ref<typeof EngineActor>(`/${ROOT}/chain/engine-${i}`)
              .ask({ type: 'configure', evmRpc: e.evmRpc, timeoutMs: e.timeoutMs }, opts),
          ),
        );
    }
    await options.onReconfigure?.(next, prev, keys);
  }

  async function build(): Promise<ActorSystem> {
    const config = configs.config;
    const bls = await createBlsBackend(config.bls);
    const registry = new MetricsRegistry();
    // source scores live as long as this actor system: a restarted NetworkActor keeps them
    networkArgs.scores = new Scores(networkArgs.sources);
    const verifiers = Math.max(1, config.verifierWorkers);
    return createActorSystem({
      name: ROOT,
      metrics: registry,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
      askTimeoutMs: 60_000,
      root: {
        strategy: 'one-for-all',
        intensity: { maxRestarts: 3, periodMs: 60_000 },
        children: [
          {
            id: 'storage',
            supervisor: {
              strategy: 'one-for-one',
              children: [
                {
                  id: 'storage',
                  actor: StorageActor,
                  args: { open: openKv, identity: { chainId: spec.chainId, mode: config.mode } },
                  policy: exponentialBackoff({ initialMs: 50, maxMs: 5_000 }),
                },
                { id: 'metrics', actor: MetricsActor, args: { registry }, policy: never() },
              ],
            },
          },
          {
            id: 'events',
            supervisor: {
              strategy: 'one-for-one',
              children: [
                { id: 'stream', actor: StreamActor, args: { deliver }, policy: exponentialBackoff({ initialMs: 20 }) },
              ],
            },
          },
          {
            id: 'bridge',
            supervisor: {
              strategy: 'one-for-one',
              children: [
                {
                  id: 'federation',
                  actor: FederationActor,
                  args: { spec },
                  policy: exponentialBackoff({ initialMs: 50 }),
                },
                {
                  id: 'bridge',
                  actor: BridgeActor,
                  args: {},
                  policy: circuitBreaker({ failureThreshold: 3, recoveryTimeoutMs: 5_000 }),
                },
              ],
            },
          },
          {
            id: 'chain',
            supervisor: {
              strategy: 'one-for-one',
              intensity: { maxRestarts: 10, periodMs: 60_000 },
              children: [
                {
                  id: 'chain',
                  actor: ChainActor,
                  args: {
                    verifier: { spec, authorities: prepareAuthorities(spec.authorities, bls), backend: bls },
                    mode: config.mode,
                    fetchGenesis: () => fetchGenesis(spec, syncArgs.sources, platform.fetch, p2pHost),
                    storage: A.storage,
                    network: A.network,
                    verifierGroup: VERIFIERS,
                  },
                  policy: exponentialBackoff({ initialMs: 100, maxMs: 10_000 }),
                },
                { id: 'auxpow', actor: AuxPowActor, args: { spec }, policy: exponentialBackoff({ initialMs: 50 }) },
                ...engineArgs.map((args, i) => ({
                  id: `engine-${i}`,
                  actor: EngineActor,
                  args,
                  policy: circuitBreaker({ failureThreshold: 3, recoveryTimeoutMs: 5_000 }),
                })),
                {
                  id: 'verifiers',
                  supervisor: {
                    strategy: 'one-for-one',
                    intensity: { maxRestarts: 20, periodMs: 60_000 },
                    children: Array.from({ length: verifiers }, (_, i) => ({
                      id: `verifier-${i}`,
                      actor: VerifierActor,
                      args: { spec, bls: config.bls },
                      ...(config.verifierWorkers > 0 && platform.verifierPlacement
                        ? { placement: platform.verifierPlacement }
                        : {}),
                      policy: exponentialBackoff({ initialMs: 20, maxMs: 2_000 }),
                    })),
                  },
                },
              ],
            },
          },
          {
            id: 'network',
            supervisor: {
              strategy: 'rest-for-one',
              children: [
                {
                  id: 'network',
                  actor: NetworkActor,
                  args: networkArgs,
                  policy: circuitBreaker({ failureThreshold: 3, recoveryTimeoutMs: 5_000 }),
                },
                {
                  id: 'sync',
                  actor: SyncActor,
                  args: syncArgs,
                  policy: exponentialBackoff({ initialMs: 100, maxMs: 10_000 }),
                },
              ],
            },
          },
        ],
      },
    });
  }

  return {
    get system() {
      return system;
    },
    provider: stableProvider,
    spec,
    get config() {
      return configs.current;
    },
    updateConfig: (change) => configs.update(change),
    async start() {
      if (running) return;
      if (!prepared && platform.prepare) await platform.prepare();
      prepared = true;
      if (wantsP2p && !p2pHost) {
        if (!platform.p2pTransports)
          throw new TypeError('p2p.listen / p2p.bootstrap need a platform with libp2p transports');
        // libp2p is loaded only by nodes that use it (keeps it out of the wallet-embed bundle's startup)
        const { createP2pHost } = await import('./network/p2p-host.js');
        // gossip is followed as Alys does: a block and its approvals are aggregated here (every
        // signature checked before it counts or is forwarded); a block with a majority goes to the
        // SyncActor, which verifies and imports it like a block from any source
        const gossipBls = await createBlsBackend(initial.bls);
        const candidates = createCandidatePool({
          authorities: prepareAuthorities(spec.authorities, gossipBls),
          backend: gossipBls,
        });
        p2pHost = await createP2pHost({
          transports: await platform.p2pTransports(),
          listen: initial.p2p.listen.length > 0 ? [...initial.p2p.listen] : [...(platform.p2pDefaultListen ?? [])],
          bootstrap: [...initial.p2p.bootstrap],
          allowPrivateAddresses: options.p2pAllowPrivate ?? true,
          ...(options.p2pRelayServer ? { relayServer: true, server: true } : {}),
          // browsers find each other by announcements that cross the relay (which only forwards them)
          ...(initial.p2p.discover > 0
            ? { discovery: { dial: initial.p2p.discover, announce: true } }
            : options.p2pRelayServer
              ? { discovery: { dial: 0, announce: false } }
              : {}),
          // a light node serves the verified blocks it stores (Alys semantics: ascending, stop at the first gap)
          serveBlocks: async (start, count) => {
            const out: SignedConsensusBlock[] = [];
            const storage = system?.ref<typeof StorageActor>(A.storage);
            if (!storage || start > BigInt(Number.MAX_SAFE_INTEGER)) return out;
            for (let h = Number(start); out.length < count; h++) {
              const b = await storage.ask({ type: 'block', number: h }, { timeoutMs: 10_000 });
              if (!b) break;
              out.push(b);
            }
            return out;
          },
          // gossip that failed its checks costs the sender its score as a source too (bad requests and
          // answers are charged by the SyncActor, where they are used)
          onPeerFault: (peer, kind, reason) => {
            if (kind === 'gossip')
              void system
                ?.ref<typeof NetworkActor>(A.network)
                .tell({ type: 'fault', id: peer, kind: 'invalid', reason: `gossip: ${reason}` })
                .catch(() => {});
          },
          onGossip: (m, from) => {
            if (m.type === 'ConsensusBlock' || m.type === 'ApproveBlock') {
              const offer =
                m.type === 'ConsensusBlock'
                  ? candidates.offerBlock(m.block, verifiedHead)
                  : candidates.offerApproval(m.approval, verifiedHead);
              // the proposer built on the block below: a hint where to probe its sender's head
              if (m.type === 'ConsensusBlock' && offer.verdict === 'accept')
                p2pHeights.set(
                  from,
                  Math.max(p2pHeights.get(from) ?? 0, Number(m.block.message.executionPayload.blockNumber) - 1),
                );
              const done = offer.complete;
              if (done)
                void system
                  ?.ref<typeof SyncActor>(A.sync)
                  .tell({ type: 'gossip-block', height: done.height, msgpack: encodeSignedBlockMsgpack(done.block) })
                  .catch(() => {});
              return offer;
            }
            // a light node cannot check these: it neither uses nor forwards them
            return { verdict: 'ignore' };
          },
        });
        syncArgs.p2p = { host: p2pHost, heights: p2pHeights };
        networkArgs.p2p = { host: p2pHost };
      }
      await p2pHost?.start();
      system = await build();
      // groups and topics before start: the chain and sync actors use them in their start hooks
      for (let i = 0; i < Math.max(1, configs.config.verifierWorkers); i++)
        system.joinGroup(VERIFIERS, `/${ROOT}/chain/verifiers/verifier-${i}`, 'least-loaded');
      for (let i = 0; i < engineCount; i++) system.joinGroup(ENGINES, `/${ROOT}/chain/engine-${i}`, 'least-loaded');
      for (const name of ['head', 'finalized', 'sync', 'source', 'fork', 'storage', 'health'] as NodeEventName[]) {
        system.subscribe(topicOf(name), A.stream);
        system.subscribe(topicOf(name), A.metrics);
      }
      for (let i = 0; i < engineCount; i++) system.subscribe(topicOf('head'), `/${ROOT}/chain/engine-${i}`);
      system.subscribe(POW_TOPIC, A.auxpow);
      system.subscribe(BRIDGE_TOPIC, A.bridge);
      system.onEvent((e: SupervisionEvent) => {
        if (e.type === 'child-failed' || e.type === 'child-gave-up' || e.type === 'escalated')
          deliver({
            type: 'event',
            name: 'health',
            data: {
              address: 'child' in e ? e.child : e.address,
              state: e.type,
              detail: 'error' in e ? e.error : 'reason' in e ? e.reason : '',
            },
          });
      });
      await system.start();
      running = true;
    },
    async stop() {
      if (!system) return;
      running = false;
      await system.shutdown({ timeoutMs: 10_000 });
      await p2pHost?.stop();
      p2pHost = undefined;
      delete syncArgs.p2p;
      delete networkArgs.p2p;
      const kv = memoryKv;
      memoryKv = undefined;
      await (await kv?.catch(() => undefined))?.close();
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (data: never) => void);
      return () => set!.delete(listener as (data: never) => void);
    },
    async status() {
      const sys = system;
      if (!sys || !running) return { running: false, head: null, finalized: 0, sync: null, sources: [], actors: [] };
      const [chain, sync, sources] = await Promise.all([
        sys
          .ref<typeof ChainActor>(A.chain)
          .ask({ type: 'status' }, { timeoutMs: 10_000 })
          .catch(() => null) as Promise<ChainStatus | null>,
        sys
          .ref<typeof SyncActor>(A.sync)
          .ask({ type: 'status' }, { timeoutMs: 10_000 })
          .catch(() => null) as Promise<SyncStatus | null>,
        sys
          .ref<typeof NetworkActor>(A.network)
          .ask({ type: 'all' }, { timeoutMs: 10_000 })
          .catch(() => []) as Promise<SourceScore[]>,
      ]);
      return {
        running,
        head: chain?.head ?? null,
        finalized: chain?.finalized ?? 0,
        sync,
        sources,
        actors: sys.registry
          .list()
          .map((i) => ({
            address: i.address,
            state: i.state,
            restarts: i.restarts,
            health: i.health,
            placement: i.placement,
          })),
        ...(p2pHost
          ? {
              p2p: {
                peerId: p2pHost.peerId,
                addresses: p2pHost.multiaddrs(),
                peers: p2pHost.peers(),
                connections: p2pHost.libp2p
                  .getConnections()
                  .map((c) => ({
                    peer: c.remotePeer.toString(),
                    address: c.remoteAddr.toString(),
                    limited: c.limits !== undefined,
                  })),
              },
            }
          : {}),
      };
    },
    async metrics() {
      if (!system) return '';
      return system.ref<typeof MetricsActor>(A.metrics).ask({ type: 'render' });
    },
    async metricsSnapshot() {
      if (!system) throw new LightNodeError('not-started', 'start the light node first');
      return system.ref<typeof MetricsActor>(A.metrics).ask({ type: 'snapshot' });
    },
  };
}
