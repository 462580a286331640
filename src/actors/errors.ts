/**
 * Typed errors of the actor runtime. Every error says what failed, for which actor, and what to do.
 * All are {@link AlysLightError}s with a stable `code`, so they survive structured clone across a
 * worker boundary (see {@link serializeError} / {@link deserializeError}).
 */
import { AlysLightError, type AlysLightErrorOptions } from '../errors.js';

export class ActorError extends AlysLightError {
  override name = 'ActorError';
  declare readonly code: string;
  constructor(code: string, message: string, options?: AlysLightErrorOptions) {
    super(code, message, options);
  }
}

/** `ask` got no reply in time. The message may still be processed later (at-most-once, not exactly-once). */
export class AskTimeoutError extends ActorError {
  override name = 'AskTimeoutError';
  constructor(
    readonly address: string,
    readonly timeoutMs: number,
  ) {
    super(
      'ask-timeout',
      `ask to ${address} timed out after ${timeoutMs} ms; raise timeoutMs or check the actor's health`,
    );
  }
}

/** The mailbox was full and its policy refused the message (`fail`, `dropNewest`, `backoff` exhausted) or evicted it (`dropOldest`). */
export class MailboxFullError extends ActorError {
  override name = 'MailboxFullError';
  constructor(
    readonly address: string,
    readonly capacity: number,
    readonly policy: string,
  ) {
    super(
      'mailbox-full',
      `mailbox of ${address} is full (capacity ${capacity}, policy ${policy}); slow down or raise the capacity`,
    );
  }
}

/** A `block`-policy sender waited for space longer than its timeout. */
export class MailboxTimeoutError extends ActorError {
  override name = 'MailboxTimeoutError';
  constructor(
    readonly address: string,
    readonly timeoutMs: number,
  ) {
    super(
      'mailbox-timeout',
      `no space in the mailbox of ${address} within ${timeoutMs} ms (policy block); the actor is overloaded`,
    );
  }
}

/** The target is stopped or has failed for good; the message went to dead letters. */
export class ActorStoppedError extends ActorError {
  override name = 'ActorStoppedError';
  constructor(
    readonly address: string,
    readonly state: string,
  ) {
    super('actor-stopped', `actor ${address} is ${state} and accepts no messages`);
  }
}

/** The actor crashed while handling this message (or its worker died with the message in flight). */
export class ActorCrashedError extends ActorError {
  override name = 'ActorCrashedError';
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super('actor-crashed', `actor ${address} crashed: ${errorMessage(cause)}`, { cause });
  }
}

export class IllegalTransitionError extends ActorError {
  override name = 'IllegalTransitionError';
  constructor(
    readonly address: string,
    readonly from: string,
    readonly to: string,
  ) {
    super('illegal-transition', `actor ${address}: illegal lifecycle transition ${from} -> ${to}`);
  }
}

export class DependencyCycleError extends ActorError {
  override name = 'DependencyCycleError';
  constructor(readonly cycle: string[]) {
    super('dependency-cycle', `dependency cycle: ${cycle.join(' -> ')}`);
  }
}

/** No actor, topic subscriber or group member can take the message. */
export class NoRouteError extends ActorError {
  override name = 'NoRouteError';
  constructor(readonly route: string) {
    super('no-route', `no route for ${route}: nothing registered there`);
  }
}

/** A supervisor exceeded its restart intensity and gave up; it is reported to its own parent as crashed. */
export class EscalationError extends ActorError {
  override name = 'EscalationError';
  constructor(
    readonly supervisor: string,
    readonly restarts: number,
    readonly periodMs: number,
    cause: unknown,
  ) {
    super(
      'escalation',
      `supervisor ${supervisor} exceeded its restart intensity (${restarts} restarts within ${periodMs} ms) and escalates: ${errorMessage(cause)}`,
      { cause },
    );
  }
}

/** An error thrown inside a worker, rebuilt on this side of the boundary. */
export class RemoteError extends ActorError {
  override name = 'RemoteError';
  constructor(
    readonly remoteName: string,
    message: string,
    code: string,
    readonly remoteStack?: string,
  ) {
    super(code, message);
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

export interface SerializedError {
  name: string;
  message: string;
  code: string;
  stack?: string;
  /** selected fields of known runtime errors, to rebuild them */
  fields?: Record<string, unknown>;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const out: SerializedError = {
      name: e.name,
      message: e.message,
      code: (e as { code?: unknown }).code !== undefined ? String((e as { code?: unknown }).code) : 'error',
    };
    if (e.stack !== undefined) out.stack = e.stack;
    return out;
  }
  return { name: 'Error', message: String(e), code: 'error' };
}

export function deserializeError(s: SerializedError): Error {
  return new RemoteError(s.name, s.message, s.code, s.stack);
}

export class ChildStartError extends ActorError {
  override name = 'ChildStartError';
  constructor(
    readonly supervisor: string,
    readonly child: string,
    cause: unknown,
  ) {
    super('child-start', `supervisor ${supervisor} could not start child ${child}: ${errorMessage(cause)}`, { cause });
  }
}

export class HealthCheckFailedError extends ActorError {
  override name = 'HealthCheckFailedError';
  constructor(
    readonly address: string,
    readonly failures: number,
  ) {
    super('health-check', `actor ${address} failed ${failures} consecutive health checks`);
  }
}

export class WorkerExitedError extends ActorError {
  override name = 'WorkerExitedError';
  constructor(
    readonly address: string,
    readonly exitCode: number,
  ) {
    super('worker-exited', `worker of ${address} exited with code ${exitCode}`);
  }
}

export class HeartbeatMissedError extends ActorError {
  override name = 'HeartbeatMissedError';
  constructor(
    readonly address: string,
    readonly silentMs: number,
  ) {
    super('heartbeat-missed', `worker of ${address} answered no heartbeat for ${silentMs} ms; it is stuck or gone`);
  }
}

export class WorkerStartError extends ActorError {
  override name = 'WorkerStartError';
  constructor(
    readonly address: string,
    detail: string,
    cause?: unknown,
  ) {
    super('worker-start', `worker of ${address} did not start: ${detail}`, { cause });
  }
}
