/**
 * The envelope every message travels in. Plain data only, so it crosses a worker boundary by
 * structured clone unchanged.
 */

/** Priority lanes, served strictly in this order: system > high > normal > low. */
export type Priority = 'system' | 'high' | 'normal' | 'low';
export const PRIORITIES: readonly Priority[] = ['system', 'high', 'normal', 'low'];
export const LANE: Readonly<Record<Priority, number>> = { system: 0, high: 1, normal: 2, low: 3 };

export type Routing =
  | { kind: 'direct'; to: string }
  | { kind: 'topic'; topic: string }
  | { kind: 'group'; group: string; to: string };

/** Ids are numbers from a per-system counter: unique within the system, cheap, deterministic. */
export type MessageId = number;

export interface Envelope<M = unknown> {
  messageId: MessageId;
  /** Set on `ask`: the reply is matched to the asker by this id. */
  correlationId?: MessageId;
  /** The message whose handling caused this one (set automatically for sends from inside a handler). */
  causationId?: MessageId;
  /** The id of the first message of the causal chain. */
  traceId: MessageId;
  spanId: MessageId;
  /** Sender address, if sent by an actor. FIFO is guaranteed per (from, to, priority). */
  from?: string;
  routing: Routing;
  priority: Priority;
  /** When the sender created it (clock ms). */
  createdAt: number;
  /** When it entered the receiver's mailbox (clock ms). */
  enqueuedAt?: number;
  /** How many times the sender tried to enqueue it (backoff policy retries increment it). */
  attempt: number;
  payload: M;
}

/** Generates message ids: a counter keeps replay deterministic and the hot path free of string building. */
export class IdGenerator {
  private n = 0;
  next(): MessageId {
    return ++this.n;
  }
}
