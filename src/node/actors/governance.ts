/**
 * GovernanceActor: the client of the Anduro governance stream (`governance.v1.GovernanceStream`, spec 10.1),
 * the seeds' StreamActor. Named `governance` here because the node's `stream` actor is its event fan-out.
 *
 * It opens the bidirectional `Stream`, registers as an `OBSERVER`, sends a heartbeat every
 * `heartbeatIntervalMs`, and reads what the server pushes:
 * - `FederationUpdate`: verified with src/protocol/federation-update.ts against the set in force (`context()`);
 *   a verified one goes to `onFederationUpdate`, a rejected one changes nothing and charges the stream source
 *   (`onFault(url, check)`). Alys itself applies nothing from the stream; we apply only what the current
 *   authorities signed (docs/federation-updates.md).
 * - `ProposalNotification`: bounded and handed to `onProposal`, marked unverified (nobody signs proposals).
 * - heartbeat acks, registration acks, error responses: health.
 *
 * A broken stream (closed, failed, registration refused, heartbeats unanswered) is a crash: the supervisor
 * restarts the actor with exponential backoff ({@link governanceChild}), and the new instance reconnects.
 * Counters and the last applied height live in {@link GovernanceStats}, made once by the caller, so they
 * outlive restarts. The transport comes from the platform; a half-duplex one (fetch) fails to start with
 * `governance.transport-unsupported`.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { defineActor, type ActorContext } from '../../actors/actor.js';
import { child, exponentialBackoff, type ChildSpec } from '../../actors/index.js';
import type { TimerHandle } from '../../actors/clock.js';
import type { PreparedAuthorities } from '../../protocol/approvals.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import type { Hex } from '../../protocol/bytes.js';
import { VerificationError } from '../../protocol/errors.js';
import { verifyFederationUpdate, type VerifiedFederationUpdate } from '../../protocol/federation-update.js';
import { federationUpdateInput, governanceProposal, type GovernanceProposal } from '../governance/convert.js';
import {
  GovernanceError,
  GovernanceRegistrationRejectedError,
  GovernanceStreamBrokenError,
} from '../governance/errors.js';
import {
  HealthStatus,
  NodeType,
  StreamRequestSchema,
  type FederationUpdate,
  type StreamRequest,
  type StreamResponse,
} from '../governance/gen/governance/v1/governance_pb.js';
import { RequestQueue, streamingGovernanceClient, type GovernanceTransport } from '../governance/transport.js';

/** What a federation update is verified against, read when one arrives. */
export interface GovernanceVerifyContext {
  /** The authority set in force (the one that must sign). */
  current: readonly Hex[] | PreparedAuthorities;
  chainId: number;
  /** Effective height of the last applied update (0: only the chain spec's set so far). */
  lastEffectiveHeight: number;
  /** Height of the verified head. */
  headHeight: number;
}

import type { GovernanceHealth, GovernanceStats } from '../governance/stats.js';

export { createGovernanceStats, type GovernanceHealth, type GovernanceStats } from '../governance/stats.js';

export interface GovernanceArgs {
  transport: GovernanceTransport;
  /** How we introduce ourselves (`NodeInfo.public_key`, `.version`); an observer holds no key, so any id. */
  node: { id: string; version: string };
  heartbeatIntervalMs: number;
  /** Heartbeats sent without an ack before the stream counts as broken. Default 3. */
  maxUnackedHeartbeats?: number;
  backend: BlsBackend;
  context(): GovernanceVerifyContext | Promise<GovernanceVerifyContext>;
  /** A verified update (the new set and its effective height); throwing here leaves it unapplied. */
  onFederationUpdate(verified: VerifiedFederationUpdate): void | Promise<void>;
  onProposal?(proposal: GovernanceProposal): void;
  /** Charge the source for a rejected update (`code` = the failed check) or a malformed message. */
  onFault(source: string, code: string): void;
  stats: GovernanceStats;
}

export type GovernanceMsg =
  | { type: 'received'; epoch: number; response: StreamResponse }
  | { type: 'broken'; epoch: number; reason: string }
  | { type: 'heartbeat'; epoch: number }
  | { type: 'health' };

export interface GovernanceReplies {
  received: void;
  broken: void;
  heartbeat: void;
  health: GovernanceHealth;
}

/** Incarnation counter: messages from an earlier instance's loops (stale reader, timer) are ignored. */
let nextEpoch = 1;

interface Connection {
  readonly epoch: number;
  readonly queue: RequestQueue<StreamRequest>;
  readonly abort: AbortController;
  timer?: TimerHandle;
  sequence: number;
  unacked: number;
}

let nextRequest = 0;

type RequestPayload = NonNullable<MessageInitShape<typeof StreamRequestSchema>['payload']>;

function request(args: GovernanceArgs, now: number, payload: RequestPayload): StreamRequest {
  const metadata = {
    requestId: `${args.node.id}-${now.toString(36)}-${(nextRequest++).toString(36)}`,
    timestamp: BigInt(Math.floor(now / 1000)),
    nodeId: args.node.id,
    protocolVersion: 'governance.v1',
  };
  return create(StreamRequestSchema, { metadata, payload });
}

function registration(args: GovernanceArgs, now: number): StreamRequest {
  return request(args, now, {
    case: 'nodeRegistration',
    value: {
      nodeInfo: { publicKey: args.node.id, nodeType: NodeType.OBSERVER, version: args.node.version },
      capabilities: ['federation-updates', 'proposal-notifications'],
      endpoints: [],
    },
  });
}

/** Read responses into the mailbox until the stream ends; its end or failure becomes a `broken` message. */
async function readLoop(ctx: ActorContext<GovernanceMsg>, args: GovernanceArgs, conn: Connection): Promise<void> {
  const { epoch } = conn;
  try {
    const client = streamingGovernanceClient(args.transport);
    for await (const response of client.stream(conn.queue, { signal: conn.abort.signal }))
      await ctx.self.tell({ type: 'received', epoch, response });
    await ctx.self.tell({ type: 'broken', epoch, reason: 'the server closed the stream' });
  } catch (e) {
    if (conn.abort.signal.aborted) return;
    // an over-cap message is the server's fault (connect enforces `readMaxBytes`): charge it, then reconnect
    if (e instanceof ConnectError && e.code === Code.ResourceExhausted)
      args.onFault(args.stats.url, 'governance.message-too-large');
    await ctx.self.tell({ type: 'broken', epoch, reason: e instanceof Error ? e.message : String(e) });
  }
}

function startHeartbeats(ctx: ActorContext<GovernanceMsg>, args: GovernanceArgs, conn: Connection): void {
  const tick = () => {
    void ctx.self.tell({ type: 'heartbeat', epoch: conn.epoch });
    conn.timer = ctx.clock.setTimer(tick, args.heartbeatIntervalMs);
    ctx.clock.setTimerRef?.(conn.timer, false);
  };
  conn.timer = ctx.clock.setTimer(tick, args.heartbeatIntervalMs);
  ctx.clock.setTimerRef?.(conn.timer, false);
}

function sendHeartbeat(args: GovernanceArgs, conn: Connection, now: number): void {
  if (!args.stats.connected) return;
  if (conn.unacked >= (args.maxUnackedHeartbeats ?? 3))
    throw new GovernanceStreamBrokenError(`${conn.unacked} heartbeats without an ack`);
  conn.sequence++;
  conn.unacked++;
  args.stats.heartbeatsSent++;
  conn.queue.push(
    request(args, now, {
      case: 'heartbeat',
      value: {
        timestamp: BigInt(Math.floor(now / 1000)),
        sequence: BigInt(conn.sequence),
        health: HealthStatus.HEALTHY,
      },
    }),
  );
}

async function applyUpdate(args: GovernanceArgs, update: FederationUpdate): Promise<void> {
  const { stats } = args;
  let verified: VerifiedFederationUpdate;
  try {
    const c = await args.context();
    verified = verifyFederationUpdate(federationUpdateInput(update), {
      ...c,
      lastEffectiveHeight: Math.max(c.lastEffectiveHeight, stats.lastAppliedHeight),
      backend: args.backend,
    });
  } catch (e) {
    if (!(e instanceof VerificationError)) throw e;
    stats.updatesRejected++;
    stats.lastRejection = e.check;
    args.onFault(stats.url, e.check);
    return;
  }
  try {
    await args.onFederationUpdate(verified);
  } catch (e) {
    stats.lastError = `the federation update callback failed: ${e instanceof Error ? e.message : String(e)}`;
    return;
  }
  stats.updatesApplied++;
  stats.lastAppliedHeight = verified.effectiveHeight;
}

function onProposal(
  args: GovernanceArgs,
  response: Extract<StreamResponse['payload'], { case: 'proposalNotification' }>,
) {
  let proposal: GovernanceProposal;
  try {
    proposal = governanceProposal(response.value);
  } catch (e) {
    if (!(e instanceof GovernanceError)) throw e;
    args.onFault(args.stats.url, e.code);
    return;
  }
  args.stats.proposals++;
  args.onProposal?.(proposal);
}

async function dispatch(args: GovernanceArgs, conn: Connection, response: StreamResponse, now: number): Promise<void> {
  const { stats } = args;
  const p = response.payload;
  switch (p.case) {
    case 'registrationAck':
      if (!p.value.accepted)
        throw new GovernanceRegistrationRejectedError(response.metadata?.message ?? 'accepted=false');
      stats.connected = true;
      stats.connects++;
      stats.assignedNodeId = p.value.assignedNodeId.slice(0, 256);
      return;
    case 'heartbeatAck':
      conn.unacked = 0;
      stats.lastHeartbeatAck = { sequence: Number(BigInt.asUintN(53, p.value.sequence)), at: now };
      return;
    case 'federationUpdate':
      return applyUpdate(args, p.value);
    case 'proposalNotification':
      return onProposal(args, p);
    case 'errorResponse':
      stats.lastError = `server error ${p.value.errorCode}: ${p.value.errorMessage.slice(0, 200)}`;
      return;
    default:
      // signature responses (we request none) and payloads of a newer protocol: nothing to do
      return;
  }
}

function close(args: GovernanceArgs, conn: Connection | undefined, clock: ActorContext['clock']): void {
  args.stats.connected = false;
  if (!conn) return;
  if (conn.timer !== undefined) clock.clearTimer(conn.timer);
  conn.queue.close();
  conn.abort.abort();
}

export const GovernanceActor = defineActor<GovernanceMsg, GovernanceReplies, GovernanceArgs>({
  name: 'governance',
  create(args) {
    let conn: Connection | undefined;
    /** Close the connection before a deliberate crash, so a refused registration does not linger open. */
    const fail = (ctx: ActorContext<GovernanceMsg>, e: unknown): never => {
      close(args, conn, ctx.clock);
      throw e;
    };
    return {
      preStart() {
        streamingGovernanceClient(args.transport); // a half-duplex transport fails the start, clearly
      },
      started(ctx) {
        conn = { epoch: nextEpoch++, queue: new RequestQueue(), abort: new AbortController(), sequence: 0, unacked: 0 };
        conn.queue.push(registration(args, ctx.clock.now()));
        void readLoop(ctx, args, conn);
        startHeartbeats(ctx, args, conn);
      },
      async handle(msg, ctx) {
        if (msg.type === 'health') return { ...args.stats };
        if (!conn || msg.epoch !== conn.epoch) return;
        try {
          if (msg.type === 'broken') throw new GovernanceStreamBrokenError(msg.reason);
          if (msg.type === 'heartbeat') return sendHeartbeat(args, conn, ctx.clock.now());
          return await dispatch(args, conn, msg.response, ctx.clock.now());
        } catch (e) {
          args.stats.lastError = e instanceof Error ? e.message : String(e);
          return fail(ctx, e);
        }
      },
      healthCheck: () => args.stats.connected,
      preRestart: (ctx) => close(args, conn, ctx.clock),
      preStop: (ctx) => close(args, conn, ctx.clock),
      stopped: (ctx) => close(args, conn, ctx.clock),
    };
  },
});

export interface GovernanceChildOptions {
  id?: string;
  /** Backoff of the reconnections (restarts): first delay and cap, ms. Defaults 500 and 30 000. */
  initialMs?: number;
  maxMs?: number;
}

/**
 * The child spec of the governance client: restarted after every crash (a broken stream) with exponential
 * backoff, without giving up. Throws `governance.transport-unsupported` for a half-duplex transport.
 * Wire it under a supervisor whose restart intensity tolerates a server that stays down
 * ({@link governanceSupervisor}).
 */
export function governanceChild(args: GovernanceArgs, opts: GovernanceChildOptions = {}): ChildSpec {
  streamingGovernanceClient(args.transport);
  const maxMs = opts.maxMs ?? 30_000;
  return child({
    id: opts.id ?? 'governance',
    actor: GovernanceActor,
    args,
    policy: exponentialBackoff({ initialMs: opts.initialMs ?? 500, maxMs, maxRetries: Number.MAX_SAFE_INTEGER }),
  });
}

/** A one-for-one supervisor holding only the governance client, with room for many reconnections. */
export function governanceSupervisor(args: GovernanceArgs, opts: GovernanceChildOptions = {}): ChildSpec {
  return {
    id: `${opts.id ?? 'governance'}-sup`,
    supervisor: {
      strategy: 'one-for-one',
      intensity: { maxRestarts: 1_000, periodMs: 60_000 },
      children: [governanceChild(args, opts)],
    },
  };
}
