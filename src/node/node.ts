/**
 * `createLightNodeFrom(options)`: the light node's lifecycle over a resolved config and a platform.
 * It builds the supervised actor system of `tree.ts` on `start()` (with the libp2p wiring of
 * `network/p2p-wiring.ts` when the config asks for peers), stops it on `stop()`, applies hot reloads
 * to the running actors, and answers status, events, metrics and the EIP-1193 provider. Platform
 * specifics (storage backend, worker spawning, fetch) come in through `platform`, so this file runs
 * in Node, browsers and Workers.
 */
import { createActorSystem, MetricsRegistry, type ActorSystem } from '../actors/index.js';
import { configValueError } from '../config/errors.js';
import { createConfigManager, type ConfigKey, type LightNodeConfig } from '../config/index.js';
import { type BlsBackend, createBlsBackend, upgradeBlsBackend } from '../protocol/bls/index.js';
import type { ChainActor, ChainStatus } from './actors/chain.js';
import { scheduleHolder } from './actors/federation.js';
import type { MetricsActor, MetricsSnapshot } from './actors/metrics.js';
import type { NetworkActor } from './actors/network.js';
import type { StorageActor } from './actors/storage.js';
import type { SyncActor, SyncStatus } from './actors/sync.js';
import type { VerifiedReads } from './engine/index.js';
import { proofBundleMethods, type SignedBlockSource } from './engine/bundle.js';
import { createEip1193Provider, createStableProvider } from './engine/provider.js';
import { createSubscriptionHub } from './engine/subscriptions.js';
import { LightNodeError, MetricsUnavailableError } from './errors.js';
import type { NodeEventMessage, NodeEventName, NodeEvents } from './events.js';
import { createGovernanceStats, type GovernanceStats, governanceStatus } from './governance/stats.js';
import type { GovernanceTransport } from './governance/transport.js';
import { createP2pWiring, wantsP2p } from './network/p2p-wiring.js';
import { createNodePegs, nodeBridge } from './bridge/node-pegs.js';
import { pegStatusMethods } from './engine/peg-status.js';
import type { KvStore } from './storage/kv.js';
import {
  ACTOR_ADDRESSES,
  configureRunningActors,
  createLiveChildArgs,
  ENGINE_GROUP,
  healthEventOf,
  genesisFetcher,
  joinGroupsAndTopics,
  consensusSources,
  headStarter,
  lightNodeTree,
  ROOT,
  updateLiveChildArgs,
  verifierCount,
} from './tree.js';
import type { LightNode, LightNodeFromOptions, NodeStatus } from './types.js';
import { Scores, type SourceScore } from './workflows/scores.js';

export type { LightNode, LightNodeFromOptions, LightNodePlatform, NodeStatus } from './types.js';
export { fetchGenesis } from './sources/genesis.js';

const stoppedStatus = (): NodeStatus => ({
  running: false,
  head: null,
  finalized: 0,
  historyFrom: null,
  sync: null,
  sources: [],
  actors: [],
});

/**
 * Verified reads answered by the engine actor group: each VerifiedReads method becomes an ask to the
 * group (`endpoints` is read from the engines' current EVM endpoints).
 */
function engineGroupReads(
  runningSystem: () => ActorSystem | undefined,
  endpoints: () => readonly string[],
): VerifiedReads {
  return new Proxy({} as VerifiedReads, {
    get(_t, method: string) {
      if (method === 'endpoints') return endpoints();
      return (...args: unknown[]) => {
        const system = runningSystem();
        if (!system)
          return Promise.reject(new LightNodeError('not-started', 'start the light node before querying it'));
        return system.askGroup(ENGINE_GROUP, { type: 'read', method, args }, { timeoutMs: 60_000 });
      };
    },
  });
}

/** The ChainActor's verified signed blocks, for proof bundles (engine/bundle.ts). */
function chainBlocks(runningSystem: () => ActorSystem | undefined): SignedBlockSource {
  const chain = () => {
    const system = runningSystem();
    if (!system) throw new LightNodeError('not-started', 'start the light node before querying it');
    return system.ref<typeof ChainActor>(ACTOR_ADDRESSES.chain);
  };
  return {
    headNumber: async () => (await chain().ask({ type: 'status' }, { timeoutMs: 60_000 })).head.number,
    block: (number) => chain().ask({ type: 'block', number }, { timeoutMs: 60_000 }),
  };
}

/**
 * Ask the MetricsActor; MetricsUnavailableError when it is not running (given up after a crash: its
 * policy is never()) or fails to answer, instead of the runtime's own error.
 */
async function askMetrics(system: ActorSystem, msg: { type: 'render' | 'snapshot' }): Promise<unknown> {
  const state = system.registry.info(ACTOR_ADDRESSES.metrics)?.state;
  if (state !== 'Running') throw new MetricsUnavailableError(`the metrics actor is ${state ?? 'absent'}`);
  try {
    return await system.ref<typeof MetricsActor>(ACTOR_ADDRESSES.metrics).ask(msg, { timeoutMs: 10_000 });
  } catch (e) {
    throw new MetricsUnavailableError(`the metrics actor did not answer (${(e as Error).message})`, { cause: e });
  }
}

/** The running node's status from its chain, sync and network actors and the registry. */
async function statusOf(system: ActorSystem): Promise<Omit<NodeStatus, 'p2p'>> {
  const opts = { timeoutMs: 10_000 };
  const [chain, sync, sources, history] = await Promise.all([
    system
      .ref<typeof ChainActor>(ACTOR_ADDRESSES.chain)
      .ask({ type: 'status' }, opts)
      .catch(() => null) as Promise<ChainStatus | null>,
    system
      .ref<typeof SyncActor>(ACTOR_ADDRESSES.sync)
      .ask({ type: 'status' }, opts)
      .catch(() => null) as Promise<SyncStatus | null>,
    system
      .ref<typeof NetworkActor>(ACTOR_ADDRESSES.network)
      .ask({ type: 'all' }, opts)
      .catch(() => []) as Promise<SourceScore[]>,
    system
      .ref<typeof StorageActor>(ACTOR_ADDRESSES.storage)
      .ask({ type: 'history' }, opts)
      .catch(() => undefined),
  ]);
  return {
    running: true,
    head: chain?.head ?? null,
    finalized: chain?.finalized ?? 0,
    historyFrom: history?.from ?? null,
    sync,
    sources,
    actors: system.registry.list().map((i) => ({
      address: i.address,
      state: i.state,
      restarts: i.restarts,
      health: i.health,
      placement: i.placement,
    })),
  };
}

/** The light node over a resolved config and a platform. Most callers want `createLightNode` (src/index.ts). */
/** The chain actor started (cold from the head or genesis, or warm from the store): the first head is behind. */
function startIsDone(e: NodeEventMessage): boolean {
  if (e.name !== 'storage') return false;
  const { kind } = e.data as NodeEvents['storage'];
  return kind === 'cold-start' || kind === 'warm-start';
}

export function createLightNodeFrom(options: LightNodeFromOptions): LightNode {
  const { spec, platform } = options;
  const initial = options.config.config;
  const engineCount = options.engines ?? 2;
  const listeners = new Map<NodeEventName, Set<(data: never) => void>>();
  let system: ActorSystem | undefined;
  let running = false;
  let prepared = false;
  /** The verified head's height (what gossip candidates must be above). */
  let verifiedHead = 0;
  /** The last verified head reported (status shows it while a cold start is still walking to finality). */
  let lastHead: NodeEvents['head'] | null = null;
  /** The actor system's BLS backend: an `auto` one is upgraded (wasm) in the background once the start is done. */
  let blsInUse: BlsBackend | undefined;
  let memoryKv: Promise<KvStore> | undefined;

  const configs = createConfigManager({ initial: options.config, apply: reconfigure });
  const args = createLiveChildArgs(initial, engineCount, platform.fetch);
  // the authority set in force at each height: one change list for the node's life (FederationActor)
  const authoritySchedule = scheduleHolder(spec);
  const p2p = wantsP2p(initial)
    ? createP2pWiring({
        spec,
        config: initial,
        platform,
        ...(options.p2pRelayServer ? { relayServer: true } : {}),
        ...(options.p2pAllowPrivate !== undefined ? { allowPrivate: options.p2pAllowPrivate } : {}),
        actors: () => system,
        verifiedHead: () => verifiedHead,
        schedule: authoritySchedule,
      })
    : undefined;
  // the governance stream (governance.url): its counters and its source's score outlive restarts
  // the transport (and the protobuf runtime and connect behind it) loads on the first start, only when
  // governance.url is set
  const govUrl = initial.governance.url && platform.governanceTransport ? initial.governance.url : undefined;
  const govStats: GovernanceStats | undefined = govUrl ? createGovernanceStats(govUrl) : undefined;
  const govScores = new Scores(govUrl ? [govUrl] : []);
  let govTransport: GovernanceTransport | undefined;
  let govUnsupported: string | undefined;
  const reads = engineGroupReads(
    () => (running ? system : undefined),
    () => args.engines[0]?.evmRpc ?? [],
  );
  // subscriptions and provider events outlive the provider (rebuilt on a passThrough change) and restarts
  const maxLag = options.subscriptionMaxLag;
  if (maxLag !== undefined && (!Number.isSafeInteger(maxLag) || maxLag < 1))
    throw configValueError('subscriptionMaxLag', 'a positive integer (blocks)', maxLag);
  const subscriptions = createSubscriptionHub({
    reads,
    chainId: BigInt(spec.chainId),
    ...(maxLag === undefined ? {} : { maxLag }),
  });
  // peg tracking, when bitcoin.esplora lists endpoints (bridge/node-pegs.ts)
  const pegs = createNodePegs({
    config: initial.bitcoin,
    spec,
    ...(platform.fetch ? { fetch: platform.fetch } : {}),
    receipts: reads,
    system: () => system,
    addresses: { storage: ACTOR_ADDRESSES.storage, bridge: ACTOR_ADDRESSES.bridge },
    storeKind: initial.storage,
    charge: (id, kind, reason) =>
      void system?.ref<typeof NetworkActor>(ACTOR_ADDRESSES.network).tell({ type: 'fault', id, kind, reason }),
  });
  const bridge = nodeBridge(
    () => (running ? system : undefined),
    ACTOR_ADDRESSES.bridge,
    () => pegs,
  );
  const methods = {
    ...proofBundleMethods({ reads, spec, blocks: chainBlocks(() => (running ? system : undefined)) }),
    ...pegStatusMethods(bridge),
  };
  const providerFor = (passThrough: readonly string[]) =>
    createEip1193Provider({ reads, chainId: spec.chainId, passThrough: [...passThrough], subscriptions, methods });
  let provider = providerFor(initial.passThrough);

  /** The StorageActor's store. Memory storage outlives actor restarts (a crash must not cost the chain); stop() drops it. */
  function openStore(): Promise<KvStore> {
    const config = configs.current.config;
    if (config.storage !== 'memory') return platform.openStore(spec, config);
    memoryKv ??= platform.openStore(spec, config);
    return memoryKv.then((kv) => ({ ...kv, close: async () => {} }));
  }

  function deliverEvent(e: NodeEventMessage): void {
    if (blsInUse && startIsDone(e)) void upgradeBlsBackend(blsInUse);
    if (e.name === 'head') {
      lastHead = e.data as NodeEvents['head'];
      verifiedHead = lastHead.number;
      void subscriptions.head();
    }
    if (e.name === 'sync' && (e.data as NodeEvents['sync']).phase === 'stalled')
      subscriptions.disconnect(`the sync is stalled: ${(e.data as NodeEvents['sync']).detail ?? 'no usable source'}`);
    for (const l of listeners.get(e.name) ?? []) l(e.data as never);
  }

  /** Apply a config to the running actors (also the rollback: called again with the previous one). */
  async function reconfigure(next: LightNodeConfig, prev: LightNodeConfig, keys: readonly ConfigKey[]): Promise<void> {
    const sys = system;
    updateLiveChildArgs(args, next);
    if (keys.includes('passThrough')) provider = providerFor(next.passThrough);
    if (sys && running) await configureRunningActors(sys, args, next, keys);
    await options.onReconfigure?.(next, prev, keys);
  }

  async function buildSystem(): Promise<ActorSystem> {
    const config = configs.config;
    const bls = await createBlsBackend(config.bls);
    blsInUse = bls;
    const registry = new MetricsRegistry();
    // source scores live as long as this actor system: a restarted NetworkActor keeps them
    args.network.scores = new Scores(args.network.sources);
    const root = lightNodeTree({
      spec,
      config,
      bls,
      registry,
      openStore,
      ...(platform.setAsideStore && config.storage !== 'memory'
        ? { setAsideStore: (tag: string) => platform.setAsideStore!(spec, configs.current.config, tag) }
        : {}),
      deliverEvent,
      fetchGenesis: genesisFetcher(options, args, bls, () => p2p?.host),
      sources: () => consensusSources(options, args, p2p?.host),
      ...(config.sync.start === 'head'
        ? { fetchHeadStart: headStarter(options, config, args, bls, () => p2p?.host, authoritySchedule(bls)) }
        : {}),
      args,
      schedule: authoritySchedule,
      ...(govTransport?.duplex && govStats
        ? {
            governance: (await import('./governance/wiring.js')).governanceTree({
              transport: govTransport,
              heartbeatMs: config.governance.heartbeatMs,
              chainId: spec.chainId,
              backend: bls,
              stats: govStats,
              scores: govScores,
              system: () => system,
              now: () => options.clock?.now() ?? Date.now(),
              addresses: { federation: ACTOR_ADDRESSES.federation, chain: ACTOR_ADDRESSES.chain },
            }),
          }
        : {}),
      ...(platform.verifierPlacement ? { verifierPlacement: platform.verifierPlacement } : {}),
      ...(pegs ? { pegs: pegs.args } : {}),
    });
    return createActorSystem({
      name: ROOT,
      metrics: registry,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
      askTimeoutMs: 60_000,
      root,
    });
  }

  return {
    get system() {
      return system;
    },
    provider: createStableProvider(() => provider),
    bridge,
    spec,
    get config() {
      return configs.current;
    },
    updateConfig: (change) => configs.update(change),
    async start() {
      if (running) return;
      if (!prepared && platform.prepare) await platform.prepare();
      prepared = true;
      if (govUrl && !govTransport) {
        govTransport = await platform.governanceTransport!(govUrl);
        if (!govTransport.duplex)
          govUnsupported = `governance.transport-unsupported: ${govUrl} cannot carry the bidirectional stream here`;
      }
      if (p2p) {
        const host = await p2p.start();
        args.sync.p2p = { host, heights: p2p.heights };
        args.network.p2p = { host };
      }
      system = await buildSystem();
      joinGroupsAndTopics(system, verifierCount(configs.config), engineCount);
      system.onEvent((e) => {
        const health = healthEventOf(e);
        if (health) deliverEvent(health);
      });
      await system.start();
      running = true;
      await pegs?.start();
      // a head verified while starting (a head-first cold start emits it from the chain's start) found
      // the reads not answering yet: deliver it to the subscriptions now
      if (lastHead) void subscriptions.head();
    },
    async stop() {
      if (!system) return;
      running = false;
      await pegs?.stop();
      subscriptions.disconnect('the light node stopped');
      await system.shutdown({ timeoutMs: 10_000 });
      await p2p?.stop();
      delete args.sync.p2p;
      delete args.network.p2p;
      const kv = memoryKv;
      memoryKv = undefined;
      await (await kv?.catch(() => undefined))?.close();
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (data: never) => void);
      return () => set.delete(listener as (data: never) => void);
    },
    async status() {
      const sys = system;
      // starting: the verified head is known before the start finishes (a head-first cold start)
      if (!sys || !running) return { ...stoppedStatus(), head: sys ? lastHead : null };
      const actors = await statusOf(sys);
      const p2pStatus = p2p?.status();
      const governance = govStats ? governanceStatus(govStats, govScores, govUnsupported) : undefined;
      return { ...actors, ...(p2pStatus ? { p2p: p2pStatus } : {}), ...(governance ? { governance } : {}) };
    },
    async metrics() {
      if (!system) return '';
      return askMetrics(system, { type: 'render' }) as Promise<string>;
    },
    async metricsSnapshot() {
      if (!system) throw new LightNodeError('not-started', 'start the light node first');
      return askMetrics(system, { type: 'snapshot' }) as Promise<MetricsSnapshot>;
    },
  };
}
