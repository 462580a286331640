/**
 * The runtime services a cell uses (implemented by the ActorSystem). Internal to the runtime.
 */
import type { AskOptions, Message, SendOptions } from './actor.js';
import type { Clock, Random } from './clock.js';
import type { DeadLetterQueue } from './dead-letters.js';
import type { Envelope, IdGenerator, MessageId } from './envelope.js';
import type { MetricsRegistry } from './metrics.js';

/** Where a send comes from: the sender's address and the envelope being handled (for causation/trace). */
export interface SendOrigin {
  from?: string;
  cause?: Envelope;
}

/** A resolved direct route (opaque to callers; the kernel revalidates it on every use). */
export interface DirectTarget {
  readonly address: string;
}

export interface Kernel {
  readonly clock: Clock;
  readonly random: Random;
  readonly ids: IdGenerator;
  readonly metrics: MetricsRegistry;
  readonly deadLetters: DeadLetterQueue;
  readonly askTimeoutMs: number;
  tell(to: string, msg: Message, opts: SendOptions | undefined, origin: SendOrigin): Promise<void>;
  /** The route to `address`, for refs that send to it repeatedly. */
  target(address: string): DirectTarget;
  /** `tell` through a route from {@link target} (skips the address lookup). */
  tellVia(target: DirectTarget, msg: Message, opts: SendOptions | undefined, origin: SendOrigin): Promise<void>;
  ask<T>(to: string, msg: Message, opts: AskOptions | undefined, origin: SendOrigin): Promise<T>;
  publish<N extends Message>(topic: string, msg: N, opts: SendOptions | undefined, origin: SendOrigin): void;
  /** Send to one member of a load-balanced group. */
  tellGroup<N extends Message>(group: string, msg: N, opts: SendOptions | undefined, origin: SendOrigin): Promise<void>;
  askGroup<T, N extends Message = Message>(
    group: string,
    msg: N,
    opts: AskOptions | undefined,
    origin: SendOrigin,
  ): Promise<T>;
  /** Complete a pending ask. Unknown ids (already timed out) are ignored. */
  settleReply(correlationId: MessageId, ok: boolean, value: unknown): void;
}
