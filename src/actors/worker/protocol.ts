/**
 * The wire protocol between a worker-hosted actor and its proxy in the parent. Plain data only
 * (structured clone). Envelopes travel in batches; acknowledgements and replies come back in
 * batches too, which is what lets cross-worker throughput approach raw postMessage.
 */
import type { AskOptions, Message, SendOptions } from '../actor.js';
import type { Envelope, MessageId } from '../envelope.js';
import type { SerializedError } from '../errors.js';

export type ReplyRecord = [correlationId: MessageId, ok: boolean, value: unknown];

/**
 * An envelope as a tuple on the wire: structured clone writes every object key as a string for
 * every object, so tuples clone several times faster than envelope objects in big batches.
 */
export type WireEnvelope = [
  messageId: MessageId,
  payload: unknown,
  correlationId: MessageId | undefined,
  causationId: MessageId | undefined,
  traceId: MessageId,
  from: string | undefined,
  priority: Envelope['priority'],
  createdAt: number,
  enqueuedAt: number | undefined,
  attempt: number,
  routing: Envelope['routing'],
];

export function toWire(e: Envelope): WireEnvelope {
  return [
    e.messageId,
    e.payload,
    e.correlationId,
    e.causationId,
    e.traceId,
    e.from,
    e.priority,
    e.createdAt,
    e.enqueuedAt,
    e.attempt,
    e.routing,
  ];
}

export function fromWire(w: WireEnvelope): Envelope {
  return {
    messageId: w[0],
    correlationId: w[2],
    causationId: w[3],
    traceId: w[4],
    spanId: w[0],
    from: w[5],
    routing: w[10],
    priority: w[6],
    createdAt: w[7],
    enqueuedAt: w[8],
    attempt: w[9],
    payload: w[1],
  };
}

export type ToWorker =
  | { t: 'init'; actor: string; args: unknown; id: string; address: string; restart: boolean; reason?: SerializedError }
  | { t: 'deliver'; envs: WireEnvelope[] }
  | { t: 'ping'; seq: number }
  | { t: 'health'; seq: number }
  | { t: 'stop' }
  | { t: 'reply'; cid: string; ok: boolean; value: unknown };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'started' }
  | { t: 'start-failed'; error: SerializedError }
  /** `n` more delivered envelopes were handled (in order); replies for the asks among them. */
  | { t: 'done'; n: number; replies: ReplyRecord[] }
  /**
   * The actor crashed after `n` more envelopes were handled. `culprit`: the handler of the next
   * unacknowledged envelope threw (false for a failing hook or an unhandled rejection).
   */
  | { t: 'crash'; n: number; replies: ReplyRecord[]; culprit: boolean; error: SerializedError }
  | { t: 'pong'; seq: number }
  | { t: 'health'; seq: number; ok: boolean }
  | {
      t: 'send';
      mode: 'tell' | 'ask' | 'publish' | 'tell-group' | 'ask-group';
      to: string;
      msg: Message;
      opts?: SendOptions | AskOptions;
      cid?: string;
      cause?: { messageId: MessageId; traceId: MessageId };
    }
  /** The actor stopped itself (ctx.stop()) and ran its stop hooks. */
  | { t: 'exited' }
  | { t: 'stopped' };

/** The parent's view of one worker (Web Worker or worker_threads Worker). */
export interface WorkerEndpoint {
  post(msg: ToWorker): void;
  onMessage(cb: (msg: FromWorker) => void): void;
  /** An uncaught error in the worker, or a message that could not be deserialised. */
  onError(cb: (err: Error) => void): void;
  /** The worker exited (worker_threads only; browsers have no such event, heartbeats catch it). */
  onExit(cb: (code: number) => void): void;
  terminate(): void;
}

export type WorkerSpawner = () => WorkerEndpoint;

/** The worker's view of its parent. */
export interface HostPort {
  post(msg: FromWorker): void;
  onMessage(cb: (msg: ToWorker) => void): void;
  /** Unhandled rejections in the worker scope (the host reports them as a crash). */
  onUnhandled(cb: (reason: unknown) => void): void;
}
