/**
 * Actor definitions: a typed message union in, `handle(msg, ctx)`, lifecycle hooks and a health
 * check. An actor's state lives in the closure `create()` returns; a restart calls `create()`
 * again, so a restarted actor starts from clean state (as in Erlang/OTP).
 */
import type { Clock } from './clock.js';
import type { Envelope, Priority } from './envelope.js';
import type { MailboxOptions } from './mailbox.js';
import type { MetricsRegistry } from './metrics.js';

/** Messages are plain data with a `type` discriminant (so they cross worker boundaries by structured clone). */
export interface Message {
  type: string;
}

/** Reply type per message type; `ask` is typed by it. */
export type ReplyMap<M extends Message> = { [K in M['type']]: unknown };

export type MaybePromise<T> = T | Promise<T>;

export interface SendOptions {
  priority?: Priority;
}

export interface AskOptions extends SendOptions {
  /** Reject with AskTimeoutError if no reply arrives in time (default: the system's askTimeoutMs). */
  timeoutMs?: number;
}

/** A handle to an actor. Stable across restarts of the actor (and of its worker). */
export interface ActorRef<M extends Message = Message, R extends ReplyMap<M> = ReplyMap<M>> {
  readonly address: string;
  /**
   * Fire-and-forget. Resolves when the message is in the mailbox (at once, unless the mailbox is
   * full under the `block` or `backoff` policy); rejects with a typed error if it never will be.
   * Safe to ignore: the promise is pre-handled and refused messages are in dead letters.
   */
  tell(msg: M, opts?: SendOptions): Promise<void>;
  /** Request/response: resolves with the handler's return value, or rejects (timeout, overflow, crash, stop). */
  ask<T extends M['type']>(msg: Extract<M, { type: T }>, opts?: AskOptions): Promise<R[T]>;
}

/** What a handler and the hooks can do. Sends made here carry the current trace and causation ids. */
export interface ActorContext<M extends Message = Message, A = unknown> {
  readonly address: string;
  readonly self: ActorRef<M>;
  readonly args: A;
  readonly clock: Clock;
  readonly metrics: MetricsRegistry;
  /** The envelope being handled (undefined in hooks). */
  readonly envelope: Envelope<M> | undefined;
  tell<N extends Message>(to: string, msg: N, opts?: SendOptions): Promise<void>;
  ask<T = unknown, N extends Message = Message>(to: string, msg: N, opts?: AskOptions): Promise<T>;
  /** Send to one member of a load-balanced group (round-robin or least-loaded). */
  tellGroup<N extends Message>(group: string, msg: N, opts?: SendOptions): Promise<void>;
  askGroup<T = unknown, N extends Message = Message>(group: string, msg: N, opts?: AskOptions): Promise<T>;
  /** Broadcast to every subscriber of `topic` (through the system bus). */
  publish<N extends Message>(topic: string, msg: N, opts?: SendOptions): void;
  /** Stop this actor normally after the current message (a `transient` or `temporary` child is then not restarted). */
  stop(): void;
}

export interface Actor<M extends Message = Message, A = unknown> {
  handle(msg: M, ctx: ActorContext<M, A>): unknown;
  /** Before the first message. Throwing here is a failed start. */
  preStart?(ctx: ActorContext<M, A>): MaybePromise<void>;
  /** After the actor is Running. */
  started?(ctx: ActorContext<M, A>): MaybePromise<void>;
  /** On the crashed instance, just before it is replaced. */
  preRestart?(ctx: ActorContext<M, A>, reason: unknown): MaybePromise<void>;
  /** On the new instance, after its preStart. */
  postRestart?(ctx: ActorContext<M, A>, reason: unknown): MaybePromise<void>;
  /** Before stopping (not called on a crashed instance). */
  preStop?(ctx: ActorContext<M, A>): MaybePromise<void>;
  /** After the actor processed its last message. */
  stopped?(ctx: ActorContext<M, A>): MaybePromise<void>;
  /** Return false (or throw) when unhealthy; supervisors with a health check restart it after repeated failures. */
  healthCheck?(ctx: ActorContext<M, A>): MaybePromise<boolean>;
}

export interface ActorDefinition<M extends Message = Message, R extends ReplyMap<M> = ReplyMap<M>, A = unknown> {
  /** The actor type; also the name a worker host looks the definition up by. */
  readonly name: string;
  create(args: A): Actor<M, A>;
  readonly mailbox?: Partial<MailboxOptions>;
  /** Phantom field carrying the reply map for `ActorRef` typing. */
  readonly __replies?: R;
}

/** Define an actor type. `M` is the message union, `R` the reply per message type, `A` the start arguments. */
export function defineActor<M extends Message, R extends ReplyMap<M> = ReplyMap<M>, A = void>(def: {
  name: string;
  create(args: A): Actor<M, A>;
  mailbox?: Partial<MailboxOptions>;
}): ActorDefinition<M, R, A> {
  return def;
}

/**
 * Any actor definition, its message, reply and argument types erased: what the runtime plumbing
 * (placements, worker hosts, child specs) holds without knowing which actor it is.
 */
// biome-ignore lint/suspicious/noExplicitAny: an existential; no non-any type fits every definition (a reply map declared as an interface has no index signature, so it is not a ReplyMap<Message>)
export type AnyActorDefinition = ActorDefinition<any, any, any>;

export type MessageOf<D> = D extends ActorDefinition<infer M, infer _R, infer _A> ? M : never;
export type RepliesOf<D> = D extends ActorDefinition<infer _M, infer R, infer _A> ? R : never;
export type RefOf<D> = D extends ActorDefinition<infer M, infer R, infer _A> ? ActorRef<M, R> : never;

const REPLY_ERROR = Symbol.for('alys-light.reply-error');

/**
 * Return `replyError(err)` from a handler to reject the asker with `err` WITHOUT crashing the
 * actor (for expected failures such as invalid input). A thrown error is a crash.
 */
export function replyError(error: Error): never {
  return { [REPLY_ERROR]: error } as never;
}

export function asReplyError(value: unknown): Error | undefined {
  if (value !== null && typeof value === 'object' && REPLY_ERROR in value)
    return (value as Record<symbol, Error>)[REPLY_ERROR];
  return undefined;
}
