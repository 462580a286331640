/**
 * The light node's supervision tree as data (design section 2):
 *
 *   alys (one-for-all)
 *   +- storage (one-for-one):   storage (backoff) | metrics (never)
 *   +- events  (one-for-one):   stream (backoff)
 *   +- bridge  (one-for-one):   federation (backoff) | bridge (circuit breaker)
 *   +- chain   (one-for-one):   chain (backoff) | auxpow (backoff) | engine-0..k (circuit breaker)
 *   |                           | verifiers (one-for-one): verifier-0..n (backoff; in workers when placed)
 *   +- network (rest-for-one):  network (circuit breaker) | sync (backoff)
 *   +- governance-sup (one-for-one, when governance.url is set): governance (backoff, never gives up)
 *
 * Supervisors start in this order (each needs the ones above: the chain loads from storage, sync
 * asks the chain where to resume) and stop in reverse. The event stream starts before the chain
 * and the chain before its verifier workers, so a warm start shows the stored verified head while
 * the workers are still booting.
 *
 * Also here: where each actor lives (`ACTOR_ADDRESSES`), the groups and topics the tree needs before
 * it starts, and the children's live argument objects, which a hot reload updates so that a
 * restarted actor starts from the current config.
 */
import {
  child,
  circuitBreaker,
  exponentialBackoff,
  never,
  type ActorSystem,
  type ChildSpec,
  type MetricsRegistry,
  type PlacementFactory,
  type SupervisionEvent,
  type SupervisorSpec,
} from '../actors/index.js';
import type { ConfigKey, LightNodeConfig } from '../config/index.js';
import type { AuthoritySource } from '../protocol/approvals.js';
import type { AuthoritySchedule } from '../protocol/authority-schedule.js';
import { specFingerprint } from '../protocol/spec-fingerprint.js';
import type { BlsBackend } from '../protocol/bls/index.js';
import type { ChainSpec, SignedConsensusBlock } from '../protocol/types.js';
import { AuxPowActor, POW_TOPIC } from './actors/auxpow.js';
import { BackfillActor } from './actors/backfill.js';
import type { Hex } from '../protocol/bytes.js';
import { BridgeActor, BRIDGE_TOPIC, type BridgePegArgs } from './actors/bridge.js';
import { ChainActor, type ChainArgs } from './actors/chain.js';
import { EngineActor, type EngineArgs } from './actors/engine.js';
import { FederationActor, scheduleHolder } from './actors/federation.js';
import { MetricsActor } from './actors/metrics.js';
import { NetworkActor, type NetworkArgs } from './actors/network.js';
import { StorageActor } from './actors/storage.js';
import { StreamActor } from './actors/stream.js';
import { SyncActor, type SyncArgs, type SyncSettings } from './actors/sync.js';
import { VerifierActor, type VerifierArgs } from './actors/verifier.js';
import { topicOf, type NodeEventMessage, type NodeEventName } from './events.js';
import type { P2pHostApi } from './network/p2p-host.js';
import { createConsensusRpcSource } from './sources/consensus-rpc.js';
import { fetchGenesis } from './sources/genesis.js';
import { fetchHeadStart } from './sources/head.js';
import { peerBlockSource } from './sources/peer.js';
import { rpcBlockSource, type BlockSource } from './sources/source.js';
import type { KvStore } from './storage/kv.js';
import type { LightNodeFromOptions } from './types.js';

/** The actor system's name: the first segment of every address. */
export const ROOT = 'alys';

/** The address of each actor the node talks to by name (engines and verifiers: `engineAddress`, `verifierAddress`). */
export const ACTOR_ADDRESSES = {
  storage: `/${ROOT}/storage/storage`,
  metrics: `/${ROOT}/storage/metrics`,
  federation: `/${ROOT}/bridge/federation`,
  bridge: `/${ROOT}/bridge/bridge`,
  chain: `/${ROOT}/chain/chain`,
  auxpow: `/${ROOT}/chain/auxpow`,
  network: `/${ROOT}/network/network`,
  sync: `/${ROOT}/network/sync`,
  backfill: `/${ROOT}/network/backfill`,
  stream: `/${ROOT}/events/stream`,
  governance: `/${ROOT}/governance-sup/governance`,
} as const;

/** The bus group of the verifier actors (the chain and sync actors send verification work there). */
export const VERIFIER_GROUP = 'verifiers';
/** The bus group of the engine actors (the provider's reads go there). */
export const ENGINE_GROUP = 'engines';

export const engineAddress = (i: number): string => `/${ROOT}/chain/engine-${i}`;
export const verifierAddress = (i: number): string => `/${ROOT}/chain/verifiers/verifier-${i}`;

/** How many verifier actors a config asks for (at least one, in-thread when `verifierWorkers` is 0). */
export const verifierCount = (config: LightNodeConfig): number => Math.max(1, config.verifierWorkers);

/** Every node event: the event stream and the metrics actor follow them all. */
const NODE_EVENTS: readonly NodeEventName[] = [
  'head',
  'finalized',
  'sync',
  'backfill',
  'source',
  'fork',
  'storage',
  'health',
  'peg',
  'federation',
  'proposal',
];

/**
 * The argument objects of the children whose settings can change while the node runs. They are
 * live: a restarted actor is created from them, so it starts from the config in effect.
 */
export interface LiveChildArgs {
  sync: SyncArgs;
  network: NetworkArgs;
  engines: EngineArgs[];
}

/** The sources the NetworkActor scores: consensus RPC, EVM RPC, and the Esplora endpoints of peg tracking. */
const networkSources = (c: LightNodeConfig): string[] => [...c.rpc, ...c.evmRpc, ...c.bitcoin.esplora];

/** The sync actor's settings that a hot reload can change. */
export const syncSettingsOf = (c: LightNodeConfig): SyncSettings => ({ sources: [...c.rpc], ...c.sync });

export function createLiveChildArgs(config: LightNodeConfig, engines: number, fetchImpl?: typeof fetch): LiveChildArgs {
  const withFetch = fetchImpl ? { fetch: fetchImpl } : {};
  return {
    sync: {
      ...syncSettingsOf(config),
      chain: ACTOR_ADDRESSES.chain,
      network: ACTOR_ADDRESSES.network,
      verifierGroup: VERIFIER_GROUP,
      mode: config.mode,
      maxResponseBytes: config.sync.maxResponseBytes,
      ...withFetch,
    },
    network: { sources: networkSources(config) },
    engines: Array.from({ length: engines }, () => ({
      evmRpc: [...config.evmRpc],
      chain: ACTOR_ADDRESSES.chain,
      network: ACTOR_ADDRESSES.network,
      timeoutMs: config.sync.requestTimeoutMs,
      maxResponseBytes: config.sync.maxEvmResponseBytes,
      ...withFetch,
    })),
  };
}

/** Write `next` into the live arguments (restarted actors then start from it). */
export function updateLiveChildArgs(args: LiveChildArgs, next: LightNodeConfig): void {
  Object.assign(args.sync, syncSettingsOf(next));
  args.network.sources = networkSources(next);
  for (const e of args.engines) Object.assign(e, { evmRpc: [...next.evmRpc], timeoutMs: next.sync.requestTimeoutMs });
}

/** Tell the running actors about the changed keys (the live arguments already hold `next`). */
export async function configureRunningActors(
  system: ActorSystem,
  args: LiveChildArgs,
  next: LightNodeConfig,
  keys: readonly ConfigKey[],
): Promise<void> {
  const opts = { timeoutMs: 10_000 };
  if (keys.some((k) => k === 'rpc' || k === 'evmRpc'))
    await system
      .ref<typeof NetworkActor>(ACTOR_ADDRESSES.network)
      .ask({ type: 'configure', sources: args.network.sources }, opts);
  if (keys.some((k) => k === 'rpc' || k.startsWith('sync.')))
    await system
      .ref<typeof SyncActor>(ACTOR_ADDRESSES.sync)
      .ask({ type: 'configure', settings: syncSettingsOf(next) }, opts);
  if (keys.some((k) => k === 'evmRpc' || k === 'sync.requestTimeoutMs'))
    await Promise.all(
      args.engines.map((e, i) =>
        system
          .ref<typeof EngineActor>(engineAddress(i))
          .ask({ type: 'configure', evmRpc: e.evmRpc, timeoutMs: e.timeoutMs }, opts),
      ),
    );
}

/** What the tree's children are built from. */
export interface TreeInputs {
  spec: ChainSpec;
  config: LightNodeConfig;
  bls: BlsBackend;
  registry: MetricsRegistry;
  /** The StorageActor's store (called on every (re)start of it). */
  openStore(): Promise<KvStore>;
  /** Move the (closed) store aside, as another spec's (see LightNodePlatform.setAsideStore); absent: clear it. */
  setAsideStore?(tag: string): Promise<string>;
  /** Where the StreamActor hands node events (to `node.on` listeners). */
  deliverEvent(e: NodeEventMessage): void;
  /** Block 0 for a cold start (see sources/genesis.ts). */
  fetchGenesis(): Promise<SignedConsensusBlock>;
  /** A head-first cold start (sources/head.ts); absent with `sync.start = 'genesis'`. */
  fetchHeadStart?: ChainArgs['fetchHeadStart'];
  /** The consensus sources as the backfill uses them (RPC endpoints, then connected peers). */
  sources(): BlockSource[];
  args: LiveChildArgs;
  /** Where verifier actors run when `verifierWorkers` > 0 (in-thread when absent). */
  verifierPlacement?: PlacementFactory;
  /** The BridgeActor's peg tracking (bridge/node-pegs.ts); absent: no Bitcoin source, the peg API answers `peg.unavailable`. */
  pegs?: BridgePegArgs;
  /** The node's authority schedule per backend (federation.ts `scheduleHolder`); absent: one for this tree. */
  schedule?: (backend: BlsBackend) => AuthoritySchedule;
  /**
   * The governance stream client's supervisor (`governance.url`, a duplex transport: governance/wiring.ts
   * `governanceTree`, loaded on demand so the protobuf runtime is not in every bundle); absent: none.
   */
  governance?: ChildSpec;
}

/** What the children share beyond the inputs: the authority schedule and the verifiers' live args (the FederationActor keeps both current). */
interface Wired extends TreeInputs {
  authorities: AuthoritySchedule;
  verifierArgs: VerifierArgs[];
}

function supervisor(id: string, spec: SupervisorSpec): ChildSpec {
  return { id, supervisor: spec };
}

const storageSupervisor = (t: TreeInputs): ChildSpec =>
  supervisor('storage', {
    strategy: 'one-for-one',
    children: [
      child({
        id: 'storage',
        actor: StorageActor,
        args: {
          open: t.openStore,
          ...(t.setAsideStore ? { setAside: t.setAsideStore } : {}),
          identity: { chainId: t.spec.chainId, spec: specFingerprint(t.spec), mode: t.config.mode },
        },
        policy: exponentialBackoff({ initialMs: 50, maxMs: 5_000 }),
      }),
      child({ id: 'metrics', actor: MetricsActor, args: { registry: t.registry }, policy: never() }),
    ],
  });

const eventsSupervisor = (t: TreeInputs): ChildSpec =>
  supervisor('events', {
    strategy: 'one-for-one',
    children: [
      child({
        id: 'stream',
        actor: StreamActor,
        args: { deliver: t.deliverEvent },
        policy: exponentialBackoff({ initialMs: 20 }),
      }),
    ],
  });

const bridgeSupervisor = (t: Wired): ChildSpec =>
  supervisor('bridge', {
    strategy: 'one-for-one',
    children: [
      child({
        id: 'federation',
        actor: FederationActor,
        args: {
          spec: t.spec,
          schedule: t.authorities,
          storage: ACTOR_ADDRESSES.storage,
          chain: ACTOR_ADDRESSES.chain,
          verifiers: { addresses: t.verifierArgs.map((_, i) => verifierAddress(i)), args: t.verifierArgs },
        },
        policy: exponentialBackoff({ initialMs: 50 }),
      }),
      child({
        id: 'bridge',
        actor: BridgeActor,
        args: t.pegs ? { pegs: t.pegs } : {},
        policy: circuitBreaker({ failureThreshold: 3, recoveryTimeoutMs: 5_000 }),
      }),
    ],
  });

const verifiersSupervisor = (t: Wired): ChildSpec =>
  supervisor('verifiers', {
    strategy: 'one-for-one',
    intensity: { maxRestarts: 20, periodMs: 60_000 },
    children: t.verifierArgs.map((args, i) =>
      child({
        id: `verifier-${i}`,
        actor: VerifierActor,
        args,
        ...(t.config.verifierWorkers > 0 && t.verifierPlacement ? { placement: t.verifierPlacement } : {}),
        policy: exponentialBackoff({ initialMs: 20, maxMs: 2_000 }),
      }),
    ),
  });

const chainSupervisor = (t: Wired): ChildSpec =>
  supervisor('chain', {
    strategy: 'one-for-one',
    intensity: { maxRestarts: 10, periodMs: 60_000 },
    children: [
      child({
        id: 'chain',
        actor: ChainActor,
        args: {
          verifier: { spec: t.spec, authorities: t.authorities, backend: t.bls },
          mode: t.config.mode,
          fetchGenesis: t.fetchGenesis,
          ...(t.fetchHeadStart ? { fetchHeadStart: t.fetchHeadStart } : {}),
          checkpoint: t.config.sync.checkpoint as Hex | null,
          storage: ACTOR_ADDRESSES.storage,
          network: ACTOR_ADDRESSES.network,
          verifierGroup: VERIFIER_GROUP,
        },
        policy: exponentialBackoff({ initialMs: 100, maxMs: 10_000 }),
      }),
      child({
        id: 'auxpow',
        actor: AuxPowActor,
        args: { spec: t.spec },
        policy: exponentialBackoff({ initialMs: 50 }),
      }),
      ...t.args.engines.map((args, i) =>
        child({
          id: `engine-${i}`,
          actor: EngineActor,
          args,
          policy: circuitBreaker({ failureThreshold: 3, recoveryTimeoutMs: 5_000 }),
        }),
      ),
      verifiersSupervisor(t),
    ],
  });

const networkSupervisor = (t: TreeInputs): ChildSpec =>
  supervisor('network', {
    strategy: 'rest-for-one',
    children: [
      child({
        id: 'network',
        actor: NetworkActor,
        args: t.args.network,
        policy: circuitBreaker({ failureThreshold: 3, recoveryTimeoutMs: 5_000 }),
      }),
      child({
        id: 'sync',
        actor: SyncActor,
        args: t.args.sync,
        policy: exponentialBackoff({ initialMs: 100, maxMs: 10_000 }),
      }),
      child({
        id: 'backfill',
        actor: BackfillActor,
        args: {
          spec: t.spec,
          history: t.config.sync.history,
          checkpoint: t.config.sync.checkpoint as Hex | null,
          storage: ACTOR_ADDRESSES.storage,
          network: ACTOR_ADDRESSES.network,
          sources: () => new Map(t.sources().map((src) => [src.id, src])),
          batchSize: t.config.sync.batchSize,
          parallelism: t.config.sync.parallelism,
          retryMs: t.config.sync.backoffMaxMs / 4,
        },
        policy: exponentialBackoff({ initialMs: 100, maxMs: 10_000 }),
      }),
    ],
  });

/** The root supervisor: its children in start order. */
export function lightNodeTree(inputs: TreeInputs): SupervisorSpec {
  const authorities = (inputs.schedule ?? scheduleHolder(inputs.spec))(inputs.bls);
  const verifierArgs = Array.from({ length: verifierCount(inputs.config) }, () => ({
    spec: inputs.spec,
    bls: inputs.config.bls,
    changes: authorities.changes(),
  }));
  const t: Wired = { ...inputs, authorities, verifierArgs };
  return {
    strategy: 'one-for-all',
    intensity: { maxRestarts: 3, periodMs: 60_000 },
    children: [
      storageSupervisor(t),
      eventsSupervisor(t),
      bridgeSupervisor(t),
      chainSupervisor(t),
      networkSupervisor(t),
      // last: it verifies updates against the federation and chain actors, and reconnects on its own
      ...(t.governance ? [t.governance] : []),
    ],
  };
}

/**
 * Groups and topic subscriptions, made before the system starts: the chain and sync actors use them
 * in their start hooks.
 */
export function joinGroupsAndTopics(system: ActorSystem, verifiers: number, engines: number): void {
  for (let i = 0; i < verifiers; i++) system.joinGroup(VERIFIER_GROUP, verifierAddress(i), 'least-loaded');
  for (let i = 0; i < engines; i++) system.joinGroup(ENGINE_GROUP, engineAddress(i), 'least-loaded');
  for (const name of NODE_EVENTS) {
    system.subscribe(topicOf(name), ACTOR_ADDRESSES.stream);
    system.subscribe(topicOf(name), ACTOR_ADDRESSES.metrics);
  }
  for (let i = 0; i < engines; i++) system.subscribe(topicOf('head'), engineAddress(i));
  system.subscribe(POW_TOPIC, ACTOR_ADDRESSES.auxpow);
  system.subscribe(BRIDGE_TOPIC, ACTOR_ADDRESSES.bridge);
}

/** The `health` node event for a supervision event that reports a failure (undefined for the others). */
export function healthEventOf(e: SupervisionEvent): NodeEventMessage<'health'> | undefined {
  if (e.type !== 'child-failed' && e.type !== 'child-gave-up' && e.type !== 'escalated') return undefined;
  return {
    type: 'event',
    name: 'health',
    data: {
      address: 'child' in e ? e.child : e.address,
      state: e.type,
      detail: 'error' in e ? e.error : 'reason' in e ? e.reason : '',
    },
  };
}

/**
 * Block 0 for a cold start, from the configured sources (then peers), checked as a trust root; a source
 * whose block 0 fails is charged on the scores the NetworkActor will use (it starts after the chain).
 */
export function genesisFetcher(
  options: LightNodeFromOptions,
  args: LiveChildArgs,
  bls: BlsBackend,
  host: () => P2pHostApi | undefined,
): () => Promise<SignedConsensusBlock> {
  return () =>
    fetchGenesis(options.spec, args.sync.sources, options.platform.fetch, host(), {
      bls,
      onFault: (id) => args.network.scores?.fault(id, 'invalid', options.clock?.now() ?? Date.now()),
    });
}

/** The consensus sources a cold start and the backfill ask: the configured RPC endpoints, then the connected peers. */
export function consensusSources(
  options: LightNodeFromOptions,
  args: LiveChildArgs,
  host: P2pHostApi | undefined,
): BlockSource[] {
  const timeoutMs = args.sync.requestTimeoutMs;
  const rpc = args.sync.sources.map((url) =>
    rpcBlockSource(
      createConsensusRpcSource({
        url,
        timeoutMs,
        maxResponseBytes: args.sync.maxResponseBytes,
        ...(options.platform.fetch ? { fetch: options.platform.fetch } : {}),
      }),
      () => args.sync.requestsPerRange ?? 16,
    ),
  );
  const peers = host ? host.peers().map((id) => peerBlockSource(host, id, { timeoutMs: () => timeoutMs })) : [];
  return [...rpc, ...peers];
}

/**
 * A head-first cold start (`sync.start = 'head'`) from the configured sources (then peers): the
 * verified head, then the finality walk; a source that serves something failing a check is charged
 * on the scores the NetworkActor will use.
 */
export function headStarter(
  options: LightNodeFromOptions,
  config: LightNodeConfig,
  args: LiveChildArgs,
  bls: BlsBackend,
  host: () => P2pHostApi | undefined,
  authorities: AuthoritySource,
): NonNullable<ChainArgs['fetchHeadStart']> {
  return (onHead) =>
    fetchHeadStart({
      spec: options.spec,
      authorities,
      backend: bls,
      sources: () => consensusSources(options, args, host()),
      maxRange: config.sync.batchSize,
      checkpoint: config.sync.checkpoint as `0x${string}` | null,
      onHead: (h) =>
        onHead({ number: h.number, hash: h.root, payloadBlockHash: h.block.message.executionPayload.blockHash }),
      onFault: (id) => args.network.scores?.fault(id, 'invalid', options.clock?.now() ?? Date.now()),
    });
}
