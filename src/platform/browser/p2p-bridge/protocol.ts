/**
 * The messages between the node worker's p2p bridge (worker.ts) and the page that runs libp2p for it
 * (page.ts), over one MessagePort: the worker asks the page to start and stop its host, to request
 * blocks, publish, ban and dial; the page pushes its host's state (peers, addresses, connections,
 * scores) and hands the worker every gossip message (as bytes, for its answer), every peer fault and
 * every blocks_by_range request it serves (answered from the worker's store).
 *
 * What the page sends came from strangers (peers): {@link parsePageMessage} checks every message's
 * shape and size before the worker looks at it, and throws a {@link P2pBridgeError} for anything else.
 */
import { LightNodeError } from '../../../node/errors.js';
import type { P2pConnectionInfo, P2pFaultKind, P2pHostOptions } from '../../../node/network/p2p-host.js';
import type { GossipVerdict } from '../../../protocol/candidates.js';
import { ALL_GOSSIP_TOPICS, MAX_GOSSIP_BYTES } from '../../../protocol/p2p/gossip.js';
import { MAX_BLOCKS_PER_REQUEST, MAX_CHUNK_BYTES } from '../../../protocol/p2p/rpc.js';

/** A peer id, a reason, an address: longer strings are refused. */
export const MAX_ID_CHARS = 128;
export const MAX_TEXT_CHARS = 1_024;
/** Peers, connections and discovered peers in one state message at most. */
export const MAX_PEERS = 1_024;
/** Our own listening addresses at most. */
export const MAX_ADDRESSES = 64;

/** The host options that cross to the page (callbacks stay in the worker). */
export type WireHostOptions = Pick<
  P2pHostOptions,
  | 'listen'
  | 'bootstrap'
  | 'allowPrivateAddresses'
  | 'maxConnections'
  | 'requestTimeoutMs'
  | 'webrtcDialsPerHour'
  | 'redialMaxMs'
  | 'discovery'
>;

/** The page host's state, pushed on every change of its connections and every second. */
export interface HostState {
  peerId: string;
  addresses: string[];
  peers: string[];
  connections: P2pConnectionInfo[];
  /** Subscribers of each Alys topic. */
  topicPeers: Record<string, string[]>;
  discovered: string[];
  /** Gossipsub scores of the connected peers. */
  scores: Record<string, number>;
}

export const EMPTY_STATE: HostState = {
  peerId: '',
  addresses: [],
  peers: [],
  connections: [],
  topicPeers: {},
  discovered: [],
  scores: {},
};

export type BridgeCall =
  | { method: 'requestRawBlocksByRange'; peer: string; start: bigint; count: number; timeoutMs?: number }
  | { method: 'publish'; topic: string; data: Uint8Array }
  | { method: 'ban'; peer: string; untilMs: number }
  | { method: 'dial'; address: string };

/** Worker to page. */
export type ToPageP2p =
  | { t: 'start'; options: WireHostOptions }
  | { t: 'stop' }
  | ({ t: 'call'; id: number } & BridgeCall)
  | { t: 'gossip-answer'; id: number; verdict: GossipVerdict; reason?: string }
  | { t: 'served'; id: number; blocks: Uint8Array[] };

/** A failed call, as the page saw it (rebuilt as a P2pError in the worker). */
export interface WireP2pError {
  kind: P2pFaultKind | 'rate-limited';
  peer: string;
  message: string;
}

/** Page to worker. */
export type FromPageP2p =
  | { t: 'state'; state: HostState }
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: WireP2pError }
  | { t: 'gossip'; id: number; from: string; topic: string; data: Uint8Array }
  | { t: 'fault'; peer: string; kind: P2pFaultKind; reason: string }
  | { t: 'serve'; id: number; start: bigint; count: number };

/** A message from the page that failed its checks (`p2p-bridge.bad-message`); it was dropped. */
export class P2pBridgeError extends LightNodeError {
  override name = 'P2pBridgeError';
  constructor(message: string) {
    super('p2p-bridge.bad-message', `the page's p2p host sent a bad message: ${message}`);
  }
}

const FAULT_KINDS: ReadonlySet<string> = new Set<P2pFaultKind>([
  'decode',
  'oversize',
  'timeout',
  'remote-error',
  'dial',
  'gossip',
]);
const ERROR_KINDS: ReadonlySet<string> = new Set([...FAULT_KINDS, 'rate-limited']);
const TOPICS: ReadonlySet<string> = new Set(ALL_GOSSIP_TOPICS);

const bad = (message: string): never => {
  throw new P2pBridgeError(message);
};

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, what: string, max = MAX_ID_CHARS): string {
  if (typeof v !== 'string') bad(`${what} is not a string`);
  if ((v as string).length > max) bad(`${what} is longer than ${max} characters`);
  return v as string;
}

function id(v: unknown): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) bad('id is not a non-negative integer');
  return v as number;
}

function list<T>(v: unknown, what: string, max: number, item: (x: unknown, what: string) => T): T[] {
  if (!Array.isArray(v)) bad(`${what} is not an array`);
  const a = v as unknown[];
  if (a.length > max) bad(`${what} has ${a.length} entries, more than ${max}`);
  return a.map((x, i) => item(x, `${what}[${i}]`));
}

function bytes(v: unknown, what: string, max: number): Uint8Array {
  if (!(v instanceof Uint8Array)) bad(`${what} is not a Uint8Array`);
  if ((v as Uint8Array).length > max) bad(`${what} is ${(v as Uint8Array).length} bytes, more than ${max}`);
  return v as Uint8Array;
}

function connection(v: unknown, what: string): P2pConnectionInfo {
  const c = record(v, what);
  if (typeof c.limited !== 'boolean') bad(`${what}.limited is not a boolean`);
  return {
    peer: str(c.peer, `${what}.peer`),
    address: str(c.address, `${what}.address`, MAX_TEXT_CHARS),
    limited: c.limited as boolean,
  };
}

function state(v: unknown): HostState {
  const s = record(v, 'state');
  const peerIds = (x: unknown, what: string) => list(x, what, MAX_PEERS, (p, w) => str(p, w));
  const topicPeers: Record<string, string[]> = {};
  for (const [topic, peers] of Object.entries(record(s.topicPeers, 'state.topicPeers'))) {
    if (!TOPICS.has(topic)) bad(`state.topicPeers names an unknown topic`);
    topicPeers[topic] = peerIds(peers, `state.topicPeers.${topic}`);
  }
  const scoreEntries = Object.entries(record(s.scores, 'state.scores'));
  if (scoreEntries.length > MAX_PEERS) bad(`state.scores has more than ${MAX_PEERS} entries`);
  const scores: Record<string, number> = {};
  for (const [peer, score] of scoreEntries) {
    if (typeof score !== 'number' || !Number.isFinite(score)) bad('state.scores holds a non-number');
    scores[str(peer, 'state.scores key')] = score as number;
  }
  return {
    peerId: str(s.peerId, 'state.peerId'),
    addresses: list(s.addresses, 'state.addresses', MAX_ADDRESSES, (a, w) => str(a, w, MAX_TEXT_CHARS)),
    peers: peerIds(s.peers, 'state.peers'),
    connections: list(s.connections, 'state.connections', MAX_PEERS, connection),
    topicPeers,
    discovered: peerIds(s.discovered, 'state.discovered'),
    scores,
  };
}

function wireError(v: unknown): WireP2pError {
  const e = record(v, 'error');
  if (typeof e.kind !== 'string' || !ERROR_KINDS.has(e.kind)) bad('error.kind is not a p2p error kind');
  return {
    kind: e.kind as WireP2pError['kind'],
    peer: str(e.peer, 'error.peer', MAX_TEXT_CHARS),
    message: str(e.message, 'error.message', MAX_TEXT_CHARS),
  };
}

/** A message from the page, checked (shape, sizes, known kinds and topics); a P2pBridgeError otherwise. */
export function parsePageMessage(raw: unknown): FromPageP2p {
  const m = record(raw, 'message');
  switch (m.t) {
    case 'state':
      return { t: 'state', state: state(m.state) };
    case 'result':
      if (m.ok === true) return { t: 'result', id: id(m.id), ok: true, value: m.value };
      if (m.ok === false) return { t: 'result', id: id(m.id), ok: false, error: wireError(m.error) };
      return bad('result.ok is not a boolean');
    case 'gossip':
      return {
        t: 'gossip',
        id: id(m.id),
        from: str(m.from, 'gossip.from'),
        topic: str(m.topic, 'gossip.topic'),
        data: bytes(m.data, 'gossip.data', MAX_GOSSIP_BYTES),
      };
    case 'fault':
      if (typeof m.kind !== 'string' || !FAULT_KINDS.has(m.kind)) bad('fault.kind is not a fault kind');
      return {
        t: 'fault',
        peer: str(m.peer, 'fault.peer', MAX_TEXT_CHARS),
        kind: m.kind as P2pFaultKind,
        reason: str(m.reason, 'fault.reason', MAX_TEXT_CHARS),
      };
    case 'serve':
      if (typeof m.start !== 'bigint' || m.start < 0n) bad('serve.start is not a non-negative bigint');
      if (!Number.isSafeInteger(m.count) || (m.count as number) < 1 || (m.count as number) > MAX_BLOCKS_PER_REQUEST)
        bad(`serve.count is not an integer in 1..${MAX_BLOCKS_PER_REQUEST}`);
      return { t: 'serve', id: id(m.id), start: m.start as bigint, count: m.count as number };
    default:
      return bad(`unknown message type ${JSON.stringify(String(m.t)).slice(0, 40)}`);
  }
}

/** The answer to a `requestRawBlocksByRange` call: at most `count` blocks, each at most one chunk. */
export function rawBlocksValue(v: unknown, count: number): Uint8Array[] {
  return list(v, 'blocks', count, (b, w) => bytes(b, w, MAX_CHUNK_BYTES));
}

/** The answer to a `publish` call. */
export function booleanValue(v: unknown): boolean {
  if (typeof v !== 'boolean') bad('the publish answer is not a boolean');
  return v as boolean;
}

/** The answer to a `dial` call: the peer id. */
export function peerIdValue(v: unknown): string {
  return str(v, 'the dialled peer id');
}

/** The distinct buffers behind some byte arrays (a transfer list may not name one twice). */
export function buffersOf(arrays: readonly Uint8Array[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer) out.add(a.buffer);
  return [...out];
}
