/**
 * The worker side of the node worker: one light node per database, shared by every connection
 * (page) that opens it. Each connection gets its own answers and only the events it subscribed to.
 *
 * A node starts when the first page asks it to and stops when no page wants it any more (each page's
 * `stop()` or `close` withdraws its wish), so closing one tab leaves the node running for the others.
 * Runs in a SharedWorker (a port per tab) or a dedicated worker (a port per tab, handed over by the
 * leader tab). No Node globals.
 *
 * An uncaught error in the worker (`crashed`) retires every node it hosts (each is stopped, its state
 * possibly damaged) and tells every connection; their pages reconnect and open fresh nodes, which
 * resume from the database once the old node of the same database has stopped. A SharedWorker does
 * not close itself for it: a page reconnecting at once would reach the closing instance, which never
 * answers (Chromium still routes new connections to it until it is gone).
 *
 * A node that fails to start (the config the first page sent is bad: a chain spec with no authorities,
 * say) is retired too: every page whose start was waiting on it gets its typed error, and the next
 * start (of any page) builds a new node from that page's own config, so one bad config never wedges
 * the worker for the others. A config the node cannot even be built from is that page's error alone.
 */
import type { LightNode } from '../../../node/types.js';
import { createP2pBridge, type P2pBridge } from '../p2p-bridge/worker.js';
import { toWireError } from './errors-wire.js';
import { BRIDGE_METHODS, type FromNodeWorker, type NodeInit, type NodeMethod, type ToNodeWorker } from './protocol.js';

export interface NodeConnection {
  post(msg: FromNodeWorker): void;
  /** Each message, with the ports transferred with it. */
  onMessage(cb: (msg: ToNodeWorker, ports: readonly MessagePort[]) => void): void;
  /** The page behind it is gone (the port was closed): like a `close` message. */
  onClose?(cb: () => void): void;
}

interface Hosted {
  node: LightNode;
  /** The node's libp2p host runs on the page that attached last (p2p.listen / p2p.bootstrap). */
  p2p: P2pBridge;
  clients: Set<Client>;
  /** Clients that called start() and not stop(). */
  started: Set<Client>;
  /** Start/stop run one at a time, in order. */
  queue: Promise<unknown>;
  /** Its start failed with this: it is not used again. */
  failed?: { error: unknown };
  retired?: boolean;
}

interface Client {
  conn: NodeConnection;
  /** Dropped by a crash: its page reconnects on a new connection. */
  gone?: boolean;
  hosted?: Hosted;
  key?: string;
  /** What its page sent to open: a page whose node failed reopens with its own config. */
  init?: NodeInit;
  /** Its config could not make a node. */
  openError?: unknown;
  unsubscribe: Map<string, () => void>;
  /** The p2p bridge port this page attached. */
  p2pPort?: MessagePort;
}

/**
 * Serve light nodes to connections; `create` builds a node (in this thread) from what a page sent,
 * with `p2p` as its libp2p host (the platform's `p2pHost`).
 */
export function createNodeHost(create: (init: NodeInit, p2p: P2pBridge) => LightNode): {
  connect(conn: NodeConnection): void;
  /** An uncaught error in this worker: retire every node and tell every connection (their pages restart). */
  crashed(detail: string): void;
} {
  const nodes = new Map<string, Hosted>();
  const clients = new Set<Client>();
  /** Retired nodes still stopping, by key: a new node of the same database starts after. */
  const stopping = new Map<string, Promise<unknown>>();

  function serialize(h: Hosted, task: () => Promise<unknown>): Promise<unknown> {
    const next = h.queue.then(task, task);
    h.queue = next.catch(() => {});
    return next;
  }

  /** Start the client's node; one that failed to start earlier is replaced by a node of its own config. */
  function start(client: Client): Promise<unknown> {
    if (client.hosted?.failed && client.key && client.init) reopen(client, client.key, client.init);
    const h = client.hosted;
    const key = client.key;
    if (!h || !key) return Promise.reject(client.openError ?? new Error('the node worker got a call before open'));
    h.started.add(client);
    return serialize(h, async () => {
      if (h.failed) throw h.failed.error;
      if ((await h.node.status()).running) return;
      try {
        await h.node.start();
      } catch (error) {
        h.failed = { error };
        retire(key, h);
        throw error;
      }
    });
  }

  /** `node.bridge[method](arg)` for a method of BRIDGE_METHODS; the argument is the bridge's to validate. */
  function bridgeCall(node: Hosted['node'], args: unknown[]): Promise<unknown> {
    const [method, arg] = args;
    if (!(BRIDGE_METHODS as readonly unknown[]).includes(method))
      return Promise.reject(new TypeError(`not a node.bridge method: ${String(method).slice(0, 40)}`));
    const fn = node.bridge[method as (typeof BRIDGE_METHODS)[number]] as (a?: unknown) => Promise<unknown>;
    return fn(arg as string);
  }

  async function call(client: Client, method: NodeMethod, args: unknown[]): Promise<unknown> {
    if (method === 'start') return start(client);
    const h = client.hosted;
    if (!h) throw client.openError ?? new Error('the node worker got a call before open');
    const node = h.node;
    switch (method) {
      case 'stop':
        h.started.delete(client);
        return serialize(h, async () => {
          if (h.started.size === 0) await node.stop();
        });
      case 'status':
        return { ...(await node.status()), worker: { scope: (globalThis as object).constructor?.name } };
      case 'metrics':
        return node.metrics();
      case 'metricsSnapshot':
        return node.metricsSnapshot();
      case 'updateConfig': {
        const result = await node.updateConfig(args[0] as never);
        return { changedKeys: [...result.changedKeys], resolved: plainConfig(result.resolved) };
      }
      case 'request':
        return node.provider.request(args[0] as never);
      case 'bridge':
        return bridgeCall(node, args);
    }
  }

  function subscribe(client: Client, target: 'node' | 'provider', event: string): void {
    const key = `${target}:${event}`;
    const node = client.hosted?.node;
    if (!node || client.unsubscribe.has(key)) return;
    const forward = (...args: unknown[]) => {
      try {
        client.conn.post({ t: 'event', target, event, args });
      } catch {
        // an event that cannot be cloned is not delivered
      }
    };
    if (target === 'node') client.unsubscribe.set(key, node.on(event as never, forward));
    else {
      node.provider.on(event, forward);
      client.unsubscribe.set(key, () => node.provider.removeListener(event, forward));
    }
  }

  /** Stop a node no page uses any more (or that a crash may have damaged). */
  function retire(key: string, h: Hosted): void {
    if (nodes.get(key) === h) nodes.delete(key);
    if (h.retired) return;
    h.retired = true;
    const done = serialize(h, () => h.node.stop()).catch(() => {});
    stopping.set(key, done);
    void done.then(() => {
      if (stopping.get(key) === done) stopping.delete(key);
    });
  }

  function close(client: Client): void {
    clients.delete(client);
    for (const off of client.unsubscribe.values()) off();
    client.unsubscribe.clear();
    const h = client.hosted;
    if (!h || !client.key) return;
    if (client.p2pPort) h.p2p.detach(client.p2pPort);
    client.p2pPort = undefined;
    client.hosted = undefined;
    h.clients.delete(client);
    h.started.delete(client);
    if (h.clients.size === 0) retire(client.key, h);
  }

  function open(client: Client, key: string, init: NodeInit): void {
    client.init = init;
    let h = nodes.get(key);
    if (!h) {
      const p2p = createP2pBridge();
      let node: LightNode;
      try {
        node = create(init, p2p);
      } catch (err) {
        client.openError = err;
        return;
      }
      h = { node, p2p, clients: new Set(), started: new Set(), queue: stopping.get(key) ?? Promise.resolve() };
      nodes.set(key, h);
    }
    h.clients.add(client);
    client.hosted = h;
    client.key = key;
  }

  /** Move a client off a node that failed to start, with its subscriptions. */
  function reopen(client: Client, key: string, init: NodeInit): void {
    const events = [...client.unsubscribe.keys()];
    close(client);
    clients.add(client);
    open(client, key, init);
    for (const k of events) {
      const i = k.indexOf(':');
      subscribe(client, k.slice(0, i) as 'node' | 'provider', k.slice(i + 1));
    }
  }

  function reply(client: Client, id: number, run: () => Promise<unknown>): void {
    run().then(
      (value) => {
        try {
          client.conn.post({ t: 'result', id, ok: true, value });
        } catch (err) {
          client.conn.post({ t: 'result', id, ok: false, error: toWireError(err) });
        }
      },
      (err) => client.conn.post({ t: 'result', id, ok: false, error: toWireError(err) }),
    );
  }

  return {
    crashed(detail) {
      for (const client of [...clients]) {
        close(client);
        client.gone = true;
        try {
          client.conn.post({ t: 'crashed', detail });
        } catch {
          // a page that cannot be told finds out by its heartbeats
        }
      }
      for (const [key, h] of [...nodes]) retire(key, h);
    },
    connect(conn) {
      const client: Client = { conn, unsubscribe: new Map() };
      clients.add(client);
      conn.onClose?.(() => close(client));
      conn.onMessage((msg, ports) => {
        if (client.gone) return;
        switch (msg.t) {
          case 'open':
            if (!client.hosted) open(client, msg.key, msg.init);
            return;
          case 'call':
            return reply(client, msg.id, () => call(client, msg.method, msg.args));
          case 'on':
            return subscribe(client, msg.target, msg.event);
          case 'off': {
            const key = `${msg.target}:${msg.event}`;
            client.unsubscribe.get(key)?.();
            client.unsubscribe.delete(key);
            return;
          }
          case 'ping':
            return conn.post({ t: 'pong', seq: msg.seq });
          case 'p2p-attach':
            if (client.hosted && ports[0]) {
              client.p2pPort = ports[0];
              client.hosted.p2p.attach(ports[0]);
            }
            return;
          case 'close':
            return close(client);
          case 'test-crash':
            setTimeout(() => {
              throw new Error('test-crash: the node worker was told to crash');
            });
            return;
        }
      });
    },
  };
}

/** A resolved config without functions (it crosses to the page). */
function plainConfig(resolved: unknown): unknown {
  return JSON.parse(JSON.stringify(resolved, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}
