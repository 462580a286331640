/**
 * The page's side of the p2p bridge: the libp2p host of a node that runs in the node worker
 * (RTCPeerConnection, which the WebRTC transport needs, exists only in pages). It builds the host
 * when the worker says `start`, answers the worker's calls, pushes its state, and hands every gossip
 * message, peer fault and blocks_by_range request to the worker (worker.ts), which decides and
 * serves. Nothing of the node runs here. Waits for the worker are bounded: a gossip message the
 * worker does not answer in time is ignored, a serve request gets no blocks.
 */
import type { P2pHost, P2pHostOptions } from '../../../node/network/p2p-host.js';
import type { GossipAnswer } from '../../../node/network/gossip.js';
import { decodeSignedBlockMsgpack } from '../../../protocol/codec/msgpack.js';
import { ALL_GOSSIP_TOPICS, decodeGossip, encodeGossip } from '../../../protocol/p2p/gossip.js';
import type { SignedConsensusBlock } from '../../../protocol/types.js';
import { EMPTY_STATE, type FromPageP2p, type HostState, type ToPageP2p, type WireP2pError } from './protocol.js';

export interface PageP2pOptions {
  /** Builds the host (default: createP2pHost with the browser's transports). */
  createHost?: (options: Omit<P2pHostOptions, 'transports'>) => Promise<P2pHost>;
  /** Push the host's state at least this often (default 1,000 ms; connection changes push at once). */
  stateIntervalMs?: number;
  /** How long to wait for the worker's answer to a gossip message or a serve request (default 10,000 ms). */
  answerTimeoutMs?: number;
  /** Gossip messages and serve requests waiting for the worker at most (default 256); more are ignored / get no blocks. */
  maxWaiting?: number;
}

export interface PageP2p {
  /** Stop the host and let the port go. */
  stop(): Promise<void>;
}

async function browserHost(options: Omit<P2pHostOptions, 'transports'>): Promise<P2pHost> {
  const [{ createP2pHost }, { browserTransports }] = await Promise.all([
    import('../../../node/network/p2p-host.js'),
    import('../p2p.js'),
  ]);
  return createP2pHost({ ...options, transports: browserTransports() });
}

function stateOf(host: P2pHost): HostState {
  const peers = host.peers();
  const scores: Record<string, number> = {};
  for (const p of peers) scores[p] = host.gossipScore(p);
  const topicPeers: Record<string, string[]> = {};
  for (const t of ALL_GOSSIP_TOPICS) topicPeers[t] = host.topicPeers(t);
  return {
    peerId: host.peerId,
    addresses: host.multiaddrs(),
    peers,
    connections: host.connections(),
    topicPeers,
    discovered: host.discovered(),
    scores,
  };
}

function wireError(err: unknown, peer: string): WireP2pError {
  const e = err as {
    name?: string;
    kind?: WireP2pError['kind'];
    peer?: string;
    shortMessage?: string;
    message?: string;
  };
  if (e?.name === 'P2pError' && e.kind) return { kind: e.kind, peer: e.peer ?? peer, message: e.shortMessage ?? '' };
  return { kind: 'dial', peer, message: String(e?.message ?? err).slice(0, 1_000) };
}

/** Serve the worker on `port` with a libp2p host of this page. */
export function servePageP2p(port: MessagePort, opts: PageP2pOptions = {}): PageP2p {
  const createHost = opts.createHost ?? browserHost;
  const answerTimeoutMs = opts.answerTimeoutMs ?? 10_000;
  const maxWaiting = opts.maxWaiting ?? 256;
  let host: P2pHost | undefined;
  /** start/stop one at a time, in order. */
  let queue: Promise<unknown> = Promise.resolve();
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopped = false;
  let nextId = 1;
  const waiting = new Map<number, (value: unknown) => void>();

  const post = (msg: FromPageP2p) => {
    if (!stopped) port.postMessage(msg);
  };
  const pushState = () => post({ t: 'state', state: host ? stateOf(host) : EMPTY_STATE });

  /** Ask the worker; `fallback` when it does not answer in time or too many asks wait. */
  function ask<T>(msg: (id: number) => FromPageP2p, fallback: T): Promise<T> {
    if (waiting.size >= maxWaiting || stopped) return Promise.resolve(fallback);
    const id = nextId++;
    return new Promise<T>((resolve) => {
      const t = setTimeout(() => {
        waiting.delete(id);
        resolve(fallback);
      }, answerTimeoutMs);
      waiting.set(id, (v) => {
        clearTimeout(t);
        resolve(v === undefined ? fallback : (v as T));
      });
      post(msg(id));
    });
  }

  const callbacks: Pick<P2pHostOptions, 'onGossip' | 'onPeerFault' | 'serveBlocks'> = {
    onGossip: (message, from) => {
      const { topic, data } = encodeGossip(message);
      return ask<GossipAnswer>((id) => ({ t: 'gossip', id, from, topic, data }), { verdict: 'ignore' });
    },
    onPeerFault: (peer, kind, reason) => post({ t: 'fault', peer, kind, reason: reason.slice(0, 1_000) }),
    serveBlocks: async (start, count) => {
      const raw = await ask<Uint8Array[]>((id) => ({ t: 'serve', id, start, count }), []);
      const out: SignedConsensusBlock[] = [];
      for (const b of raw) out.push(decodeSignedBlockMsgpack(b));
      return out;
    },
  };

  async function start(options: Omit<P2pHostOptions, 'transports'>): Promise<void> {
    if (host || stopped) return;
    const h = await createHost({ ...options, ...callbacks });
    await h.start();
    host = h;
    for (const event of ['peer:connect', 'peer:disconnect', 'connection:open', 'connection:close'] as const)
      h.libp2p.addEventListener(event, () => queueMicrotask(pushState));
    timer = setInterval(pushState, opts.stateIntervalMs ?? 1_000);
    pushState();
  }

  async function stopHost(): Promise<void> {
    clearInterval(timer);
    timer = undefined;
    const h = host;
    host = undefined;
    await h?.stop();
    pushState();
  }

  async function run(msg: Extract<ToPageP2p, { t: 'call' }>): Promise<unknown> {
    if (!host) throw new Error('the page has no libp2p host running');
    switch (msg.method) {
      case 'requestRawBlocksByRange':
        return host.requestRawBlocksByRange(msg.peer, msg.start, msg.count, {
          ...(msg.timeoutMs !== undefined ? { timeoutMs: msg.timeoutMs } : {}),
        });
      case 'publish':
        return host.publish(decodeGossip(msg.topic, msg.data));
      case 'ban':
        return host.ban(msg.peer, msg.untilMs);
      case 'dial':
        return host.dial(msg.address);
    }
  }

  const serial = (task: () => Promise<void>) => {
    queue = queue.then(task, task).catch(() => {});
  };

  port.addEventListener('message', (e: MessageEvent<ToPageP2p>) => {
    const msg = e.data;
    switch (msg.t) {
      case 'start':
        return serial(() => start(msg.options));
      case 'stop':
        return serial(stopHost);
      case 'call': {
        const peer = 'peer' in msg ? msg.peer : 'address' in msg ? msg.address : 'page';
        run(msg).then(
          (value) => post({ t: 'result', id: msg.id, ok: true, value }),
          (err) => post({ t: 'result', id: msg.id, ok: false, error: wireError(err, peer) }),
        );
        return;
      }
      case 'gossip-answer':
        waiting.get(msg.id)?.({ verdict: msg.verdict, ...(msg.reason !== undefined ? { reason: msg.reason } : {}) });
        waiting.delete(msg.id);
        return;
      case 'served':
        waiting.get(msg.id)?.(msg.blocks);
        waiting.delete(msg.id);
        return;
    }
  });
  port.start();

  return {
    async stop() {
      serial(stopHost);
      await queue;
      stopped = true;
      for (const resolve of waiting.values()) resolve(undefined);
      waiting.clear();
      port.close();
    },
  };
}
