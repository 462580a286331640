/**
 * The page side of the node worker: a `LightNode` whose node runs in a worker.
 *
 * - Shared (default where `SharedWorker` exists): every tab of the origin connects to one
 *   SharedWorker, which runs one node per database for all of them.
 * - Dedicated (no SharedWorker, or `worker.shared: false`): the tabs elect a leader with a Web Lock
 *   named after the database; the leader runs the node in its own dedicated worker and relays the
 *   other tabs (followers) to it over a BroadcastChannel of the same name. When the leader closes the
 *   lock passes: the next tab starts the node in its worker, which resumes from IndexedDB.
 *
 * The worker is a supervised child: an uncaught error in it (a dedicated worker's `error` event, a
 * SharedWorker's own `crashed` message) or missed heartbeats is a crash; the page
 * restarts it (at most `restart.intensity` times per `restart.periodMs`, then it gives up with
 * `NodeWorkerError` `node-worker.failed`). Calls in flight are not lost: they are sent again to the
 * restarted node (every call is a read or idempotent: start, stop; a resent raw transaction is the same one),
 * as are the page's event subscriptions and its wish to have the node started.
 */
import { createConfigManager, type ConfigManager } from '../../../config/reload.js';
import type { ConfigUpdate, ConfigUpdateResult, ResolvedConfig } from '../../../config/index.js';
import type { MetricsSnapshot } from '../../../node/actors/metrics.js';
import type { Eip1193EventListener, Eip1193Provider } from '../../../node/engine/provider.js';
import type { NodeEventName, NodeEvents } from '../../../node/events.js';
import type { LightNode, NodeStatus } from '../../../node/types.js';
import type { ChainSpec } from '../../../protocol/types.js';
import type { PegView } from '../../../node/bridge/tracker.js';
import { createP2pLeader } from './p2p-leader.js';
import { fromWireError } from './errors-wire.js';
import { NodeWorkerError } from './errors.js';
import type { FromNodeWorker, NodeInit, NodeMethod, ToNodeWorker } from './protocol.js';

export interface NodeWorkerOptions {
  /** Share one node across tabs through a SharedWorker (default: where the browser has one). */
  shared?: boolean;
  /** Ping the worker this often (default 1,000 ms). */
  heartbeatIntervalMs?: number;
  /** No answer for this long is a crash (default 10,000 ms). */
  heartbeatTimeoutMs?: number;
  /** Restart intensity: at most `intensity` restarts within `periodMs` (default 5 in 60,000 ms). */
  restart?: { intensity: number; periodMs: number };
}

/** Where the node of a worker-placed `LightNode` runs (in `status().worker`). */
export interface NodeWorkerStatus {
  kind: 'shared' | 'dedicated';
  /** Dedicated: this tab runs the node (leader) or talks to another tab's (follower). */
  role: 'leader' | 'follower';
  /** Restarts of the worker by this page's supervisor. */
  restarts: number;
  /** The worker's global scope (`SharedWorkerGlobalScope`, `DedicatedWorkerGlobalScope`). */
  scope?: string;
}

export interface WorkerLightNode extends LightNode {
  status(): Promise<NodeStatus & { worker?: NodeWorkerStatus }>;
  /** Leave the node: stop this page's use of it and release the worker (a leader hands over). */
  close(): Promise<void>;
  /** Tests: make the node worker crash (an uncaught error in it). */
  testCrashWorker(): void;
}

/** One page-to-worker connection. */
interface Link {
  post(msg: ToNodeWorker, transfer?: Transferable[]): void;
  /** It can transfer ports (a direct port; not a follower's relay). */
  transfers?: boolean;
}

interface Pending {
  method: NodeMethod;
  args: unknown[];
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export interface WorkerNodeInput {
  spec: ChainSpec;
  resolved: ResolvedConfig;
  init: NodeInit;
  options: NodeWorkerOptions;
  /** Spawns the worker entry (written out in the caller so bundlers find it). */
  spawnShared: (name: string) => SharedWorker;
  spawnDedicated: (name: string) => Worker;
  /** The config asks for libp2p (p2p.listen / p2p.bootstrap): one tab runs it for the worker's node. */
  p2p?: boolean;
}

const WORKER_NAME = 'alys-light-node';
/** A worker that has not answered its first ping by then (it loads its modules first) has failed. */
const START_TIMEOUT_MS = 30_000;

/** A LightNode whose node runs in a (shared or dedicated) worker. */
export function createWorkerLightNode(input: WorkerNodeInput): WorkerLightNode {
  const shared = input.options.shared ?? typeof SharedWorker !== 'undefined';
  const key = `${input.init.databaseName}|${input.init.config.storage ?? 'indexeddb'}`;
  const remote = new RemoteNode(key, input.init);
  const status: NodeWorkerStatus = {
    kind: shared ? 'shared' : 'dedicated',
    role: shared ? 'leader' : 'follower',
    restarts: 0,
  };
  const supervisor = new Restarts(input.options.restart ?? { intensity: 5, periodMs: 60_000 });
  const heartbeat = {
    intervalMs: input.options.heartbeatIntervalMs ?? 1_000,
    timeoutMs: input.options.heartbeatTimeoutMs ?? 10_000,
  };

  const crashed = (err: Error) => {
    if (remote.closed) return;
    remote.detach();
    if (!supervisor.allow(Date.now())) {
      remote.emitLocal('health', { address: WORKER_NAME, state: 'failed', detail: err.message });
      remote.fail(
        new NodeWorkerError('node-worker.failed', `the node worker crashed too often: ${err.message}`, { cause: err }),
      );
      return;
    }
    status.restarts++;
    remote.emitLocal('health', { address: WORKER_NAME, state: 'restarting', detail: err.message });
    return true;
  };

  // libp2p on the page, bridged to the node worker (src/platform/browser/p2p-bridge/): one tab per node
  const p2p = input.p2p ? createP2pLeader(shared ? `alys-light-p2p:${key}` : undefined) : undefined;
  remote.onLink = (link) => p2p?.link(link?.transfers ? link : undefined);
  // (set before connecting: the shared connection attaches its first link at once)
  const conn = shared
    ? connectShared(remote, input, heartbeat, crashed)
    : connectDedicated(remote, key, input, heartbeat, crashed, status);
  remote.onClose = () => {
    p2p?.close();
    conn.close();
  };
  remote.testCrash = conn.testCrash;

  const configs: ConfigManager = createConfigManager({
    initial: input.resolved,
    // the worker's node validates and applies the same change (and rolls it back if that fails)
    // (only the changed keys: the worker's own values may differ, e.g. no verifier workers in a SharedWorker)
    apply: async (next, _prev, changedKeys) => void (await remote.call('updateConfig', [pickKeys(next, changedKeys)])),
  });

  const provider: Eip1193Provider = {
    request: (args) => remote.call('request', [args]),
    on(event, listener) {
      remote.listen('provider', event, listener);
      return provider;
    },
    removeListener(event, listener) {
      remote.unlisten('provider', event, listener);
      return provider;
    },
    verifiedMethods: [],
  };

  if (typeof window !== 'undefined') window.addEventListener('pagehide', () => void remote.close());

  return {
    start: async () => {
      remote.wantStarted = true;
      await remote.call('start', []);
    },
    stop: async () => {
      remote.wantStarted = false;
      await remote.call('stop', []);
    },
    on<E extends NodeEventName>(event: E, listener: (data: NodeEvents[E]) => void) {
      const l = listener as Eip1193EventListener;
      remote.listen('node', event, l);
      return () => remote.unlisten('node', event, l);
    },
    status: async () => {
      const s = (await remote.call('status', [])) as NodeStatus & { worker?: { scope?: string } };
      return { ...s, worker: { ...status, ...(s.worker?.scope ? { scope: s.worker.scope } : {}) } };
    },
    metrics: () => remote.call('metrics', []) as Promise<string>,
    metricsSnapshot: () => remote.call('metricsSnapshot', []) as Promise<MetricsSnapshot>,
    provider,
    // node.bridge answered by the worker's node (its errors come back typed, errors-wire.ts)
    bridge: {
      depositAddress: () => remote.call('bridge', ['depositAddress']) as Promise<string>,
      trackPegIn: (txid) => remote.call('bridge', ['trackPegIn', txid]) as Promise<PegView>,
      trackPegOut: (hash) => remote.call('bridge', ['trackPegOut', hash]) as Promise<PegView>,
      trackAddress: (a) => remote.call('bridge', ['trackAddress', a]) as Promise<PegView[]>,
      pegStatus: (key) => remote.call('bridge', ['pegStatus', key]) as Promise<PegView[]>,
      pegs: () => remote.call('bridge', ['pegs']) as Promise<PegView[]>,
    },
    get config() {
      return configs.current;
    },
    updateConfig: (change: ConfigUpdate): Promise<ConfigUpdateResult> => configs.update(change),
    spec: input.spec,
    system: undefined,
    close: () => remote.close(),
    testCrashWorker: () => remote.testCrash?.(),
  };
}

/** Calls, subscriptions and the wish to run, kept across links (restarts, handovers). */
class RemoteNode {
  private link: Link | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<Eip1193EventListener>>();
  private failure: Error | undefined;
  /** The id of the start sent on attach; calls wait for its answer. */
  private resumeId: number | undefined;
  wantStarted = false;
  closed = false;
  onClose: (() => void) | undefined;
  /** Each new link (undefined: none), after it opened the node. */
  onLink: ((link: Link | undefined) => void) | undefined;
  testCrash: (() => void) | undefined;

  constructor(
    private readonly key: string,
    private readonly init: NodeInit,
  ) {}

  /** A new link (first, after a restart or a handover): open, subscribe, start, resend what is in flight. */
  attach(link: Link): void {
    if (this.closed || this.failure) return;
    this.link = link;
    link.post({ t: 'open', key: this.key, init: this.init });
    for (const [k, set] of this.listeners)
      if (set.size > 0)
        link.post({ t: 'on', target: k.startsWith('node:') ? 'node' : 'provider', event: k.slice(k.indexOf(':') + 1) });
    this.onLink?.(link);
    if (!this.wantStarted) {
      this.flush();
      return;
    }
    // a restarted (or handed over) node is started again before the calls in flight are resent
    this.resumeId = -this.nextId++;
    link.post({ t: 'call', id: this.resumeId, method: 'start', args: [] });
  }

  private flush(): void {
    this.resumeId = undefined;
    for (const [id, p] of this.pending) this.link?.post({ t: 'call', id, method: p.method, args: p.args });
  }

  detach(): void {
    this.link = undefined;
    this.resumeId = undefined;
    this.onLink?.(undefined);
  }

  deliver(msg: FromNodeWorker): void {
    if (msg.t === 'result') {
      if (msg.id === this.resumeId) {
        this.flush();
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(fromWireError(msg.error));
    } else if (msg.t === 'event') this.emit(`${msg.target}:${msg.event}`, msg.args);
  }

  call(method: NodeMethod, args: unknown[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { method, args, resolve, reject });
      if (this.resumeId === undefined) this.link?.post({ t: 'call', id, method, args });
    });
  }

  listen(target: 'node' | 'provider', event: string, listener: Eip1193EventListener): void {
    const k = `${target}:${event}`;
    let set = this.listeners.get(k);
    if (!set) this.listeners.set(k, (set = new Set()));
    if (set.size === 0) this.link?.post({ t: 'on', target, event });
    set.add(listener);
  }

  unlisten(target: 'node' | 'provider', event: string, listener: Eip1193EventListener): void {
    const set = this.listeners.get(`${target}:${event}`);
    if (!set?.delete(listener) || set.size > 0) return;
    this.link?.post({ t: 'off', target, event });
  }

  /** An event raised on the page (the supervisor's health events). */
  emitLocal(event: string, data: unknown): void {
    this.emit(`node:${event}`, [data]);
  }

  private emit(k: string, args: unknown[]): void {
    for (const l of [...(this.listeners.get(k) ?? [])]) {
      try {
        l(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.link?.post({ t: 'close' });
    this.closed = true;
    this.link = undefined;
    this.fail(new NodeWorkerError('node-worker.closed', 'this node was closed'));
    this.onClose?.();
  }
}

/** Restart intensity: at most `intensity` restarts within `periodMs`. */
class Restarts {
  private readonly times: number[] = [];
  constructor(private readonly limit: { intensity: number; periodMs: number }) {}
  allow(now: number): boolean {
    while (this.times.length > 0 && now - this.times[0]! > this.limit.periodMs) this.times.shift();
    if (this.times.length >= this.limit.intensity) return false;
    this.times.push(now);
    return true;
  }
}

interface Heartbeat {
  intervalMs: number;
  timeoutMs: number;
}

/** A port's link with heartbeats: a crash is reported once through `crashed`. */
function portLink(
  port: MessagePort,
  remote: RemoteNode,
  heartbeat: Heartbeat,
  crashed: (err: Error) => void,
): { link: Link; stop(): void } {
  let seq = 0;
  // a worker still loading its modules is not late: the clock starts at its first answer
  let lastPong: number | undefined;
  const spawnedAt = Date.now();
  let done = false;
  port.addEventListener('message', (e: MessageEvent<FromNodeWorker>) => {
    if (done) return;
    if (e.data.t === 'pong') lastPong = Date.now();
    else if (e.data.t === 'crashed') {
      stop();
      crashed(new Error(`the node worker crashed: ${e.data.detail}`));
    } else remote.deliver(e.data);
  });
  port.start();
  const timer = setInterval(() => {
    const silent = Date.now() - (lastPong ?? spawnedAt);
    const limit = lastPong === undefined ? Math.max(heartbeat.timeoutMs, START_TIMEOUT_MS) : heartbeat.timeoutMs;
    if (silent > limit) {
      stop();
      crashed(new Error(`the node worker did not answer for ${limit} ms`));
      return;
    }
    port.postMessage({ t: 'ping', seq: ++seq } satisfies ToNodeWorker);
  }, heartbeat.intervalMs);
  function stop() {
    done = true;
    clearInterval(timer);
  }
  return { link: { post: (msg, transfer) => port.postMessage(msg, transfer ?? []), transfers: true }, stop };
}

function connectShared(
  remote: RemoteNode,
  input: WorkerNodeInput,
  heartbeat: Heartbeat,
  crashed: (err: Error) => boolean | undefined,
): { close(): void; testCrash(): void } {
  let current: { port: MessagePort; stop(): void } | undefined;
  const spawn = () => {
    const worker = input.spawnShared(WORKER_NAME);
    const { link, stop } = portLink(worker.port, remote, heartbeat, onCrash);
    worker.addEventListener('error', () => {
      stop();
      onCrash(new Error('the node worker failed to load'));
    });
    current = { port: worker.port, stop };
    remote.attach(link);
  };
  function onCrash(err: Error) {
    current?.stop();
    // a worker that is only slow drops this page's old connection (and its node, if no page is left)
    current?.port.close();
    current = undefined;
    if (crashed(err)) spawn();
  }
  spawn();
  return {
    close: () => {
      current?.stop();
      current?.port.close();
    },
    testCrash: () => current?.port.postMessage({ t: 'test-crash' } satisfies ToNodeWorker),
  };
}

type Relay = { from: string; msg: ToNodeWorker } | { to: string; msg: FromNodeWorker } | { t: 'leader' };

function connectDedicated(
  remote: RemoteNode,
  key: string,
  input: WorkerNodeInput,
  heartbeat: Heartbeat,
  crashed: (err: Error) => boolean | undefined,
  status: NodeWorkerStatus,
): { close(): void; testCrash(): void } {
  const name = `${WORKER_NAME}:${key}`;
  const me = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const channel = new BroadcastChannel(name);
  let worker: Worker | undefined;
  let own: { port: MessagePort; stop(): void } | undefined;
  /** Leader: a port into the worker per follower tab. */
  let relays = new Map<string, MessagePort>();
  let release: (() => void) | undefined;
  let closed = false;

  const followerLink: Link = { post: (msg) => channel.postMessage({ from: me, msg } satisfies Relay) };

  channel.addEventListener('message', (e: MessageEvent<Relay>) => {
    const m = e.data;
    if ('to' in m) {
      if (m.to === me && status.role === 'follower') remote.deliver(m.msg);
    } else if ('from' in m) {
      if (status.role === 'leader' && worker) relayPort(m.from).postMessage(m.msg);
    } else if (m.t === 'leader' && status.role === 'follower') remote.attach(followerLink);
  });

  function relayPort(from: string): MessagePort {
    let port = relays.get(from);
    if (port) return port;
    const ch = new MessageChannel();
    port = ch.port1;
    port.addEventListener('message', (e) => channel.postMessage({ to: from, msg: e.data } satisfies Relay));
    port.start();
    worker!.postMessage({ t: 'connect' }, [ch.port2]);
    relays.set(from, port);
    return port;
  }

  function spawn() {
    const w = input.spawnDedicated(name);
    worker = w;
    relays = new Map();
    const ch = new MessageChannel();
    w.postMessage({ t: 'connect' }, [ch.port2]);
    const { link, stop } = portLink(ch.port1, remote, heartbeat, onCrash);
    w.addEventListener('error', (e) => {
      e.preventDefault();
      onCrash(new Error(e.message || 'uncaught error in the node worker'));
    });
    own = { port: ch.port1, stop };
    remote.attach(link);
    // followers (re)connect to the new worker and resend what they have in flight
    channel.postMessage({ t: 'leader' } satisfies Relay);
  }

  function teardown() {
    own?.stop();
    own = undefined;
    for (const p of relays.values()) p.close();
    relays.clear();
    worker?.terminate();
    worker = undefined;
  }

  function onCrash(err: Error) {
    if (!worker) return;
    teardown();
    if (crashed(err)) spawn();
  }

  // until this tab holds the lock it is a follower
  remote.attach(followerLink);
  void navigator.locks.request(name, () => {
    if (closed) return;
    status.role = 'leader';
    remote.detach();
    spawn();
    return new Promise<void>((resolve) => {
      release = resolve;
    });
  });

  return {
    close: () => {
      closed = true;
      teardown();
      channel.close();
      release?.();
    },
    testCrash: () => own?.port.postMessage({ t: 'test-crash' } satisfies ToNodeWorker),
  };
}

/** The values of `keys` (dotted: `sync.followIntervalMs`) of `config`, as a nested partial config. */
export function pickKeys(config: object, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const path = key.split('.');
    let from: unknown = config;
    let to = out;
    for (const [i, part] of path.entries()) {
      from = (from as Record<string, unknown> | undefined)?.[part];
      if (i === path.length - 1) to[part] = from;
      else to = (to[part] ??= {}) as Record<string, unknown>;
    }
  }
  return out;
}
