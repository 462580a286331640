/**
 * The node worker's side of the p2p bridge: a `P2pHostApi` for the node (the platform's `p2pHost`)
 * whose libp2p host runs on a page (page.ts), reached over a MessagePort that page attached.
 *
 * Calls (block requests, publish, ban, dial) go to the page; the page's state (peers, addresses,
 * scores) is kept here for the node's synchronous reads. The page hands over every gossip message
 * as bytes: it is decoded and checked here (the node's `onGossip`, its candidate pool) and the answer
 * goes back; blocks_by_range requests the page serves are answered from the node's store. Everything
 * from the page is peer input: checked by `parsePageMessage`, a bad message is dropped and reported
 * (`onBadMessage`), and blocks are decoded here before the node uses them.
 *
 * Without a page (none attached yet, or its tab closed) the host has no peers and every call fails
 * as a `p2p.dial` P2pError: the sync goes on over RPC until a page attaches (it is told to start its
 * host then). Calls in flight are bounded (`p2p.rate-limited` past the bound) and time out.
 */
import type { P2pHostApi, P2pHostOptions } from '../../../node/network/p2p-host.js';
import { P2pError } from '../../../node/network/errors.js';
import type { GossipAnswer } from '../../../node/network/gossip.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../../protocol/codec/msgpack.js';
import { decodeGossip, encodeGossipOrUndefined } from '../../../protocol/p2p/gossip.js';
import type { SignedConsensusBlock } from '../../../protocol/types.js';
import {
  type BridgeCall,
  booleanValue,
  buffersOf,
  EMPTY_STATE,
  type FromPageP2p,
  type HostState,
  type P2pBridgeError,
  parsePageMessage,
  peerIdValue,
  rawBlocksValue,
  type ToPageP2p,
  type WireHostOptions,
} from './protocol.js';

export interface P2pBridgeOptions {
  /** A message from the page that failed its checks (it was dropped; a call it answered fails with it). */
  onBadMessage?: (err: P2pBridgeError) => void;
  /** Calls to the page in flight at most (default 64); more fail at once as `p2p.rate-limited`. */
  maxCalls?: number;
  /** Gossip messages from the page being checked at most (default 256); more are ignored. */
  maxGossip?: number;
  /** blocks_by_range requests from the page being served at most (default 32); more get no blocks. */
  maxServes?: number;
  /** A call fails as `p2p.timeout` this long after its own timeout if the page has not answered (default 5,000 ms). */
  graceMs?: number;
  /**
   * `start()` waits this long at most for a page to attach and report its host started (its first
   * bootstrap dials done, as a local host's start does); then the node starts without peers (default 10,000 ms).
   */
  startWaitMs?: number;
}

export interface P2pBridge {
  /** The node's host (the platform's `p2pHost`): one at a time, the last one created is served. */
  host(options: Omit<P2pHostOptions, 'transports'>): Promise<P2pHostApi>;
  /** A page's port: that page runs libp2p for the node from now on (a previous page is let go). */
  attach(port: MessagePort): void;
  /** The page behind `port` is gone (its tab closed). */
  detach(port: MessagePort): void;
  /** Whether a page is attached. */
  readonly attached: boolean;
}

interface Pending {
  call: BridgeCall;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

type Callbacks = Pick<P2pHostOptions, 'onGossip' | 'onPeerFault' | 'serveBlocks'>;

const DEFAULT_CALL_TIMEOUT_MS = 10_000;

const peerOf = (call: BridgeCall): string => ('peer' in call ? call.peer : 'address' in call ? call.address : 'page');

/** The plain options the page needs to build its host. */
function wireOptions(o: Omit<P2pHostOptions, 'transports'>): WireHostOptions {
  const keys = [
    'listen',
    'bootstrap',
    'allowPrivateAddresses',
    'maxConnections',
    'requestTimeoutMs',
    'webrtcDialsPerHour',
    'redialMaxMs',
    'discovery',
  ] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out as WireHostOptions;
}

const answerOf = (a: GossipAnswer): { verdict: 'accept' | 'ignore' | 'reject'; reason?: string } =>
  typeof a === 'boolean' ? { verdict: a ? 'accept' : 'reject' } : a;

export function createP2pBridge(opts: P2pBridgeOptions = {}): P2pBridge {
  const maxCalls = opts.maxCalls ?? 64;
  const maxGossip = opts.maxGossip ?? 256;
  const maxServes = opts.maxServes ?? 32;
  const graceMs = opts.graceMs ?? 5_000;
  let port: MessagePort | undefined;
  let listener: ((e: MessageEvent) => void) | undefined;
  let hostOptions: Omit<P2pHostOptions, 'transports'> | undefined;
  let callbacks: Callbacks = {};
  let running = false;
  let state: HostState = EMPTY_STATE;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let gossiping = 0;
  let serving = 0;
  /** `start()` calls waiting for the page's host to run. */
  let startWaiters: Array<() => void> = [];

  function hostRunning(): void {
    const waiters = startWaiters;
    startWaiters = [];
    for (const w of waiters) w();
  }

  const post = (msg: ToPageP2p, transfer: Transferable[] = []) => port?.postMessage(msg, transfer);

  function failAll(why: string): void {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(new P2pError('dial', peerOf(p.call), why));
      pending.delete(id);
    }
  }

  function call(c: BridgeCall, timeoutMs: number): Promise<unknown> {
    if (!port || !running)
      return Promise.reject(new P2pError('dial', peerOf(c), 'no page runs libp2p for the node worker'));
    if (pending.size >= maxCalls)
      return Promise.reject(new P2pError('rate-limited', peerOf(c), `${maxCalls} calls to the page in flight`));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new P2pError('timeout', peerOf(c), `the page did not answer within ${timeoutMs + graceMs} ms`));
      }, timeoutMs + graceMs);
      pending.set(id, { call: c, resolve, reject, timer });
      post({ t: 'call', id, ...c });
    });
  }

  function settle(msg: Extract<FromPageP2p, { t: 'result' }>): void {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (!msg.ok) {
      p.reject(new P2pError(msg.error.kind, msg.error.peer, msg.error.message));
      return;
    }
    try {
      const c = p.call;
      if (c.method === 'requestRawBlocksByRange') p.resolve(rawBlocksValue(msg.value, c.count));
      else if (c.method === 'publish') p.resolve(booleanValue(msg.value));
      else if (c.method === 'dial') p.resolve(peerIdValue(msg.value));
      else p.resolve(undefined);
    } catch (err) {
      opts.onBadMessage?.(err as P2pBridgeError);
      p.reject(err);
    }
  }

  async function gossip(msg: Extract<FromPageP2p, { t: 'gossip' }>): Promise<void> {
    const reply = (a: GossipAnswer) => post({ t: 'gossip-answer', id: msg.id, ...answerOf(a) });
    if (gossiping >= maxGossip) return reply({ verdict: 'ignore', reason: 'too many messages being checked' });
    gossiping++;
    try {
      // the page's host decoded it too; the node checks what it decodes itself
      const decoded = decodeGossip(msg.topic, msg.data);
      reply(callbacks.onGossip ? await callbacks.onGossip(decoded, msg.from) : true);
    } catch (err) {
      reply({ verdict: 'reject', reason: (err as Error).message });
    } finally {
      gossiping--;
    }
  }

  async function serve(msg: Extract<FromPageP2p, { t: 'serve' }>): Promise<void> {
    let blocks: Uint8Array[] = [];
    if (serving < maxServes && callbacks.serveBlocks) {
      serving++;
      try {
        const got = await callbacks.serveBlocks(msg.start, msg.count);
        blocks = got.slice(0, msg.count).map(encodeSignedBlockMsgpack);
      } catch {
        blocks = []; // nothing to serve: the page answers with no blocks
      } finally {
        serving--;
      }
    }
    post({ t: 'served', id: msg.id, blocks }, buffersOf(blocks));
  }

  function receive(raw: unknown): void {
    let msg: FromPageP2p;
    try {
      msg = parsePageMessage(raw);
    } catch (err) {
      opts.onBadMessage?.(err as P2pBridgeError);
      // a result that failed its checks still ends its call, with the error
      const id = (raw as { t?: unknown; id?: unknown } | null)?.id;
      const p = (raw as { t?: unknown } | null)?.t === 'result' && typeof id === 'number' ? pending.get(id) : undefined;
      if (p && typeof id === 'number') {
        pending.delete(id);
        clearTimeout(p.timer);
        p.reject(err);
      }
      return;
    }
    switch (msg.t) {
      case 'state':
        if (!running) return;
        state = msg.state;
        if (state.peerId !== '') hostRunning();
        return;
      case 'result':
        settle(msg);
        return;
      case 'gossip':
        void gossip(msg);
        return;
      case 'fault':
        callbacks.onPeerFault?.(msg.peer, msg.kind, msg.reason);
        return;
      case 'serve':
        void serve(msg);
        return;
    }
  }

  function detach(which: MessagePort): void {
    if (which !== port) return;
    if (listener) port.removeEventListener('message', listener);
    port = undefined;
    listener = undefined;
    state = EMPTY_STATE;
    failAll('the page running libp2p for the node worker went away');
  }

  async function requestRaw(peer: string, start: bigint, count: number, timeoutMs?: number): Promise<Uint8Array[]> {
    const t = timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const c: BridgeCall = { method: 'requestRawBlocksByRange', peer, start, count, timeoutMs: t };
    return (await call(c, t)) as Uint8Array[];
  }

  const api: P2pHostApi = {
    get peerId() {
      return state.peerId;
    },
    async start() {
      running = true;
      if (hostOptions) post({ t: 'start', options: wireOptions(hostOptions) });
      if (state.peerId !== '') return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.startWaitMs ?? 10_000);
        startWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async stop() {
      running = false;
      hostRunning();
      post({ t: 'stop' });
      state = EMPTY_STATE;
      failAll('the p2p host stopped');
    },
    multiaddrs: () => [...state.addresses],
    peers: () => [...state.peers],
    topicPeers: (topic) => [...(state.topicPeers[topic] ?? [])],
    discovered: () => [...state.discovered],
    connections: () => state.connections.map((c) => ({ ...c })),
    gossipScore: (peer) => state.scores[peer] ?? 0,
    async dial(address) {
      return (await call({ method: 'dial', address }, 30_000)) as string;
    },
    requestRawBlocksByRange: (peer, start, count, o) => requestRaw(peer, start, count, o?.timeoutMs),
    async requestBlocksByRange(peer, start, count, o) {
      const raw = await requestRaw(peer, start, count, o?.timeoutMs);
      const out: SignedConsensusBlock[] = [];
      for (const b of raw) {
        try {
          out.push(decodeSignedBlockMsgpack(b));
        } catch (err) {
          const reason = `block ${out.length} of the answer: ${(err as Error).message}`;
          callbacks.onPeerFault?.(peer, 'decode', reason);
          throw new P2pError('decode', peer, reason, { cause: err });
        }
      }
      return out;
    },
    async publish(message) {
      const encoded = encodeGossipOrUndefined(message);
      if (encoded === undefined) return false;
      return (await call({ method: 'publish', topic: encoded.topic, data: encoded.data }, 30_000).catch(
        () => false,
      )) as boolean;
    },
    async ban(peer, untilMs) {
      await call({ method: 'ban', peer, untilMs }, 30_000).catch(() => {});
    },
  };

  return {
    async host(options) {
      hostOptions = options;
      callbacks = { onGossip: options.onGossip, onPeerFault: options.onPeerFault, serveBlocks: options.serveBlocks };
      return api;
    },
    attach(next) {
      if (port) {
        post({ t: 'stop' });
        detach(port);
      }
      port = next;
      listener = (e: MessageEvent) => receive(e.data);
      next.addEventListener('message', listener);
      next.addEventListener('close', () => detach(next));
      next.start();
      if (running && hostOptions) post({ t: 'start', options: wireOptions(hostOptions) });
    },
    detach,
    get attached() {
      return port !== undefined;
    },
  };
}
