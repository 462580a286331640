/**
 * The devnet's governance server: `governance.v1.GovernanceStream` on loopback, for the light node's
 * governance client (src/node/actors/governance.ts) and its tests.
 *
 * gRPC over cleartext HTTP/2 (`url`, what the real tonic server speaks) and, on a second port, gRPC-web and
 * the Connect protocol over HTTP/1.1 (`webUrl`, for the unary calls from fetch-only runtimes); one
 * connect-node handler serves both. It accepts every registration, acks heartbeats, answers Health and
 * GetCapabilities, and its control API pushes to every registered stream: a valid federation update signed by
 * the authorities in force (`current()`, by default the devnet's members), a forged one, an under-threshold
 * one, a replay of the last valid one, a wrong-height one, and proposal notifications. `stop()` and
 * `restart()` keep the ports.
 */
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { requiredApprovals } from '../protocol/approvals.js';
import { nobleBackend } from '../protocol/bls/noble.js';
import { fromHex, toHex, type Hex } from '../protocol/bytes.js';
import {
  federationUpdateDigest,
  signFederationUpdate,
  FederationUpdateType as UpdateType,
  type FederationUpdateInput,
} from '../protocol/federation-update.js';
import { federationUpdateInput } from '../node/governance/convert.js';
import {
  FederationUpdateSchema,
  GovernanceStream,
  HealthStatus,
  HeartbeatAckSchema,
  NodeRegistrationAckSchema,
  NodeType,
  ProposalNotificationSchema,
  StreamResponseSchema,
  type FederationUpdate,
  type StreamRequest,
  type StreamResponse,
} from '../node/governance/gen/governance/v1/governance_pb.js';
import { RequestQueue } from '../node/governance/transport.js';
import type { DevnetAuthoritySets, ScheduledAuthorityChange } from './consensus/authority-sets.js';
import { deriveFederation, type FederationMember } from './consensus/keys.js';

export interface GovernanceServerOptions {
  chainId: number;
  /**
   * The authorities in force just below an update effective at `effectiveHeight`, in authority order (they
   * sign valid updates). Read at each push.
   */
  current(effectiveHeight: number): readonly FederationMember[];
  /** 127.0.0.1 ports; 0 = any free port (kept across restarts). */
  port?: number;
  webPort?: number;
}

export interface GovernanceRegistration {
  nodeId: string;
  nodeType: NodeType;
  assignedNodeId: string;
}

export interface GovernanceServerBehaviour {
  acceptRegistrations: boolean;
  ackHeartbeats: boolean;
}

export interface PushUpdateOptions {
  effectiveHeight: number;
  /** The new set, in authority order (default: the current set). */
  next?: readonly FederationMember[];
  updateType?: number;
  /** Indices of the current authorities that sign (default: the first ceil(2n/3)). */
  signers?: readonly number[];
  /** Carry the members' Bitcoin keys (`bitcoin_pubkey:` parameters). Default true; false: unchanged. */
  bitcoinKeys?: boolean;
}

export interface PushedUpdate {
  message: FederationUpdate;
  digest: Hex;
}

export interface GovernanceServer {
  readonly url: string;
  readonly webUrl: string;
  readonly registrations: readonly GovernanceRegistration[];
  /** Open streams (registered or not). */
  streams(): number;
  heartbeatsAcked(): number;
  /** A correctly signed update (ceil(2n/3) of the current authorities). */
  pushUpdate(opts: PushUpdateOptions): PushedUpdate;
  /** Signed by keys that are not the current authorities (the new set's own keys). */
  pushForged(opts: PushUpdateOptions): PushedUpdate;
  /** Signed by one authority fewer than ceil(2n/3). */
  pushUnderThreshold(opts: PushUpdateOptions): PushedUpdate;
  /** The last valid update again, byte for byte. */
  pushReplay(): PushedUpdate;
  /** Correctly signed, at a height the caller picks at or below the client's verified head. */
  pushWrongHeight(opts: PushUpdateOptions): PushedUpdate;
  pushProposal(p: { proposalId: string; proposalType?: number; data?: Uint8Array; votingDeadline?: number }): void;
  /** Send any update message as is. */
  pushRaw(update: FederationUpdate): void;
  /** Send a proposal notification of `bytes` bytes of data (to test the client's message cap). */
  pushOversized(bytes: number): void;
  /** Misbehave on purpose: refuse registrations, stop acking heartbeats (both true by default). */
  readonly behaviour: GovernanceServerBehaviour;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

interface Session {
  readonly out: RequestQueue<StreamResponse>;
  registered: boolean;
}

/** The update body for `next` (members by our convention: BLS key, EVM address id, Bitcoin key parameter). */
export function devnetUpdateBody(
  next: readonly FederationMember[],
  effectiveHeight: number,
  updateType: number,
  bitcoinKeys = true,
) {
  const members = next.map((m) => ({
    memberId: m.feeAddress,
    publicKey: fromHex(m.blsPublicKey),
    weight: 1,
    active: true,
  }));
  const parameters = bitcoinKeys
    ? Object.fromEntries(next.map((m) => [`bitcoin_pubkey:${m.feeAddress}`, m.btcPublicKey]))
    : {};
  return create(FederationUpdateSchema, {
    updateType,
    members,
    effectiveHeight: BigInt(effectiveHeight),
    config: { signatureThreshold: requiredApprovals(next.length), memberCount: next.length, parameters },
  });
}

function sign(update: FederationUpdate, chainId: number, keys: { index: number; secretKey: Uint8Array }[]): void {
  const input: FederationUpdateInput = federationUpdateInput(update);
  if (keys.length === 0) {
    // nobody signed: no bits, the empty aggregate
    update.updateSignature = Uint8Array.of(0x00, 0x80, ...new Uint8Array(96));
    return;
  }
  update.updateSignature = signFederationUpdate(input, chainId, keys, nobleBackend);
}

function routes(state: ServerState): (router: ConnectRouter) => void {
  return (router) =>
    router.service(GovernanceStream, {
      async *stream(requests) {
        const session: Session = { out: new RequestQueue(), registered: false };
        state.sessions.add(session);
        const reader = (async () => {
          for await (const req of requests) onRequest(state, session, req);
        })()
          .catch(() => {})
          .finally(() => session.out.close());
        try {
          yield* session.out;
        } finally {
          state.sessions.delete(session);
          session.out.close();
          await reader;
        }
      },
      health: () => ({
        status: HealthStatus.HEALTHY,
        version: 'alys-light-devnet',
        uptime: BigInt(Math.floor((Date.now() - state.startedAt) / 1000)),
        info: { chain_id: String(state.opts.chainId) },
      }),
      getCapabilities: () => ({
        protocolVersions: ['governance.v1'],
        features: ['federation-updates', 'proposal-notifications'],
        limits: { max_members: 15 },
      }),
    });
}

function response(payload: StreamResponse['payload']): StreamResponse {
  return create(StreamResponseSchema, {
    metadata: { requestId: '', timestamp: BigInt(Math.floor(Date.now() / 1000)), nodeId: 'devnet-governance' },
    payload,
  });
}

function onRequest(state: ServerState, session: Session, req: StreamRequest): void {
  const p = req.payload;
  if (p.case === 'nodeRegistration') {
    if (!state.behaviour.acceptRegistrations) {
      const refused = create(NodeRegistrationAckSchema, { accepted: false, assignedNodeId: '' });
      session.out.push(response({ case: 'registrationAck', value: refused }));
      return;
    }
    const assignedNodeId = `devnet-${state.registrations.length + 1}`;
    state.registrations.push({
      nodeId: p.value.nodeInfo?.publicKey ?? '',
      nodeType: p.value.nodeInfo?.nodeType ?? NodeType.UNSPECIFIED,
      assignedNodeId,
    });
    session.registered = true;
    const ack = create(NodeRegistrationAckSchema, { accepted: true, assignedNodeId });
    session.out.push(response({ case: 'registrationAck', value: ack }));
  } else if (p.case === 'heartbeat' && state.behaviour.ackHeartbeats) {
    state.heartbeats++;
    const ack = create(HeartbeatAckSchema, {
      originalTimestamp: p.value.timestamp,
      ackTimestamp: BigInt(Math.floor(Date.now() / 1000)),
      sequence: p.value.sequence,
    });
    session.out.push(response({ case: 'heartbeatAck', value: ack }));
  }
}

interface ServerState {
  readonly opts: GovernanceServerOptions;
  readonly sessions: Set<Session>;
  readonly registrations: GovernanceRegistration[];
  heartbeats: number;
  startedAt: number;
  readonly behaviour: GovernanceServerBehaviour;
  lastValid?: FederationUpdate;
}

interface Listening {
  grpc: http2.Http2Server;
  web: http.Server;
  h2sessions: Set<http2.ServerHttp2Session>;
  sockets: Set<Socket>;
}

async function listen(state: ServerState, port: number, webPort: number): Promise<Listening> {
  const handler = connectNodeAdapter({ routes: routes(state) });
  const grpc = http2.createServer(handler);
  const web = http.createServer(handler);
  const h2sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<Socket>();
  grpc.on('session', (s) => {
    h2sessions.add(s);
    s.on('close', () => h2sessions.delete(s));
  });
  web.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => grpc.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise<void>((resolve, reject) => web.once('error', reject).listen(webPort, '127.0.0.1', resolve));
  return { grpc, web, h2sessions, sockets };
}

async function close(l: Listening, state: ServerState): Promise<void> {
  for (const s of state.sessions) s.out.close();
  state.sessions.clear();
  for (const s of l.h2sessions) s.destroy();
  for (const s of l.sockets) s.destroy();
  await Promise.all([
    new Promise<void>((resolve) => l.grpc.close(() => resolve())),
    new Promise<void>((resolve) => l.web.close(() => resolve())),
  ]);
}

function broadcast(state: ServerState, payload: StreamResponse['payload']): void {
  for (const s of state.sessions) if (s.registered) s.out.push(response(payload));
}

type SignerKeys = (current: readonly FederationMember[]) => { index: number; secretKey: Uint8Array }[];

function makeUpdate(state: ServerState, opts: PushUpdateOptions, signerKeys: SignerKeys): PushedUpdate {
  const current = state.opts.current(opts.effectiveHeight);
  const next = opts.next ?? current;
  const type = opts.updateType ?? UpdateType.memberAdd;
  const update = devnetUpdateBody(next, opts.effectiveHeight, type, opts.bitcoinKeys ?? true);
  sign(update, state.opts.chainId, signerKeys(current));
  broadcast(state, { case: 'federationUpdate', value: update });
  return { message: update, digest: toHex(federationUpdateDigest(federationUpdateInput(update), state.opts.chainId)) };
}

function defaultSigners(current: readonly FederationMember[], opts: PushUpdateOptions) {
  const indices = opts.signers ?? Array.from({ length: requiredApprovals(current.length) }, (_, i) => i);
  return indices.map((index) => ({ index, secretKey: current[index]!.blsSecretKey }));
}

type PushControls = Pick<
  GovernanceServer,
  | 'pushUpdate'
  | 'pushForged'
  | 'pushUnderThreshold'
  | 'pushReplay'
  | 'pushWrongHeight'
  | 'pushProposal'
  | 'pushRaw'
  | 'pushOversized'
>;

/** The control API's pushes (each goes to every registered stream). */
function pushControls(state: ServerState): PushControls {
  const opts = state.opts;
  const valid = (o: PushUpdateOptions): PushedUpdate => {
    const pushed = makeUpdate(state, o, (current) => defaultSigners(current, o));
    state.lastValid = pushed.message;
    return pushed;
  };
  return {
    pushUpdate: valid,
    pushForged: (o) =>
      makeUpdate(state, o, (current) => {
        // enough bits, but the signatures come from keys that are not the current authorities'
        const impostors = deriveFederation({ seed: 'devnet-governance/forger', authorities: current.length });
        return defaultSigners(impostors, o);
      }),
    pushUnderThreshold: (o) =>
      makeUpdate(state, o, (current) => defaultSigners(current, o).slice(0, requiredApprovals(current.length) - 1)),
    pushReplay() {
      if (!state.lastValid) throw new Error('no valid update was pushed yet');
      broadcast(state, { case: 'federationUpdate', value: state.lastValid });
      return {
        message: state.lastValid,
        digest: toHex(federationUpdateDigest(federationUpdateInput(state.lastValid), opts.chainId)),
      };
    },
    pushWrongHeight: (o) => makeUpdate(state, o, (current) => defaultSigners(current, o)),
    pushProposal(p) {
      broadcast(state, {
        case: 'proposalNotification',
        value: create(ProposalNotificationSchema, {
          proposalId: p.proposalId,
          proposalType: p.proposalType ?? 1,
          proposalData: p.data ?? new Uint8Array(),
          votingDeadline: BigInt(p.votingDeadline ?? 0),
          requiredVotes: 2,
        }),
      });
    },
    pushRaw: (update) => broadcast(state, { case: 'federationUpdate', value: update }),
    pushOversized(bytes) {
      const value = create(ProposalNotificationSchema, {
        proposalId: 'oversized',
        proposalData: new Uint8Array(bytes),
      });
      broadcast(state, { case: 'proposalNotification', value });
    },
  };
}

/** Start the devnet governance server on 127.0.0.1. */
export async function startGovernanceServer(opts: GovernanceServerOptions): Promise<GovernanceServer> {
  const state: ServerState = {
    opts,
    sessions: new Set(),
    registrations: [],
    heartbeats: 0,
    startedAt: Date.now(),
    behaviour: { acceptRegistrations: true, ackHeartbeats: true },
  };
  let l = await listen(state, opts.port ?? 0, opts.webPort ?? 0);
  const port = (l.grpc.address() as AddressInfo).port;
  const webPort = (l.web.address() as AddressInfo).port;
  let running = true;
  return {
    url: `http://127.0.0.1:${port}`,
    webUrl: `http://127.0.0.1:${webPort}`,
    registrations: state.registrations,
    streams: () => state.sessions.size,
    heartbeatsAcked: () => state.heartbeats,
    ...pushControls(state),
    behaviour: state.behaviour,
    async stop() {
      if (!running) return;
      running = false;
      await close(l, state);
    },
    async restart() {
      if (running) await close(l, state);
      l = await listen(state, port, webPort);
      running = true;
    },
  };
}

/** The devnet's governance server with the one control that changes the federation on both sides. */
export interface DevnetGovernance extends GovernanceServer {
  /**
   * Change the signer set at `effectiveHeight`: the devnet's producer switches to `authorities` new members
   * there (`authoritySets.scheduleChange`, the change named by the update's digest and the members' EVM
   * addresses), and a valid update carrying them, signed by the set in force at `effectiveHeight - 1`, goes
   * to every registered stream. The federation's Bitcoin keys stay (the update carries none).
   */
  changeFederation(opts: { effectiveHeight: number; authorities: number }): {
    scheduled: ScheduledAuthorityChange;
    pushed: PushedUpdate;
  };
}

/** Add {@link DevnetGovernance.changeFederation} to a server whose `current(h)` is `sets.membersAt(h - 1)`. */
export function withFederationChanges(
  server: GovernanceServer,
  sets: DevnetAuthoritySets,
  chainId: number,
): DevnetGovernance {
  const memberAdd = UpdateType.memberAdd;
  return Object.assign(server, {
    changeFederation({ effectiveHeight, authorities }: { effectiveHeight: number; authorities: number }) {
      const scheduled = sets.scheduleChange({
        effectiveHeight,
        authorities,
        describe: (members) => ({
          digest: toHex(
            federationUpdateDigest(
              federationUpdateInput(devnetUpdateBody(members, effectiveHeight, memberAdd, false)),
              chainId,
            ),
          ),
          federation: members.map((m) => m.feeAddress),
        }),
      });
      const pushed = server.pushUpdate({ effectiveHeight, next: scheduled.members, bitcoinKeys: false });
      return { scheduled, pushed };
    },
  });
}
