/**
 * A `LightNode` whose node is imported on first use: the browser entry's `placement: 'page'` (and
 * the default inside a Worker), so a page whose node runs in the node worker does not carry the
 * in-page node (chain, sync, engine, libp2p wiring, BLS, noble curves) in its entry chunk
 * (docs/architecture.md, "The node worker").
 *
 * The import starts when the wrapper is created; every method awaits it, then behaves as the node's
 * own (`status()` and `provider.request()` before `start()` answer as an unstarted node does).
 * Listeners added before the node is there (`on`, `provider.on`) are attached when it arrives. A
 * failed import rejects every call with its error.
 */
import type { ConfigUpdate, ConfigUpdateResult, ResolvedConfig } from '../config/index.js';
import type { ChainSpec } from '../protocol/types.js';
import type { MetricsSnapshot } from './actors/metrics.js';
import type { Eip1193EventListener, Eip1193Provider } from './engine/provider.js';
import type { NodeEventName, NodeEvents } from './events.js';
import type { LightNode } from './types.js';

interface EarlyListener {
  event: NodeEventName;
  listener: (data: unknown) => void;
  off?: () => void;
}

export function lazyLightNode(spec: ChainSpec, resolved: ResolvedConfig, load: () => Promise<LightNode>): LightNode {
  let node: LightNode | undefined;
  /** Node listeners added before the node arrived: detached by their `off` meanwhile. */
  const early = new Set<EarlyListener>();
  /** Provider listeners added before the node arrived. */
  const earlyProvider = new Map<string, Set<Eip1193EventListener>>();

  const loading = load().then((n) => {
    node = n;
    for (const e of early) e.off = n.on(e.event, e.listener);
    for (const [event, set] of earlyProvider) for (const l of set) n.provider.on(event, l);
    earlyProvider.clear();
    return n;
  });
  // a failed import is reported by every call, not as an unhandled rejection
  loading.catch(() => {});
  const ready = (): Promise<LightNode> => (node ? Promise.resolve(node) : loading);

  const provider: Eip1193Provider = {
    request: async (args) => (await ready()).provider.request(args),
    on(event, listener) {
      if (node) node.provider.on(event, listener);
      else {
        let set = earlyProvider.get(event);
        if (!set) earlyProvider.set(event, (set = new Set()));
        set.add(listener);
      }
      return provider;
    },
    removeListener(event, listener) {
      if (node) node.provider.removeListener(event, listener);
      else earlyProvider.get(event)?.delete(listener);
      return provider;
    },
    get verifiedMethods() {
      return node?.provider.verifiedMethods ?? [];
    },
  };

  return {
    start: async () => (await ready()).start(),
    stop: async () => (await ready()).stop(),
    on<E extends NodeEventName>(event: E, listener: (data: NodeEvents[E]) => void): () => void {
      if (node) return node.on(event, listener);
      const entry: EarlyListener = { event, listener: listener as (data: unknown) => void };
      early.add(entry);
      return () => {
        early.delete(entry);
        entry.off?.();
      };
    },
    status: async () => (await ready()).status(),
    metrics: async () => (await ready()).metrics(),
    metricsSnapshot: async (): Promise<MetricsSnapshot> => (await ready()).metricsSnapshot(),
    provider,
    bridge: {
      depositAddress: async () => (await ready()).bridge.depositAddress(),
      trackPegIn: async (txid) => (await ready()).bridge.trackPegIn(txid),
      trackPegOut: async (hash) => (await ready()).bridge.trackPegOut(hash),
      trackAddress: async (a) => (await ready()).bridge.trackAddress(a),
      pegStatus: async (key) => (await ready()).bridge.pegStatus(key),
      pegs: async () => (await ready()).bridge.pegs(),
    },
    get config() {
      return node ? node.config : resolved;
    },
    updateConfig: async (change: ConfigUpdate): Promise<ConfigUpdateResult> => (await ready()).updateConfig(change),
    spec,
    get system() {
      return node?.system;
    },
  };
}
