/**
 * What a supervisor needs from a child, whatever it is: an in-thread actor, an actor in a worker,
 * or a nested supervisor. Internal to the runtime.
 */
import type { Lifecycle } from './lifecycle.js';

export type ChildKind = 'actor' | 'worker' | 'supervisor';

export interface ChildParent {
  /** The child crashed (or failed to start/restart). */
  childFailed(child: SupervisedChild, error: unknown): void;
  /** The child stopped itself normally (ctx.stop()). */
  childExited(child: SupervisedChild): void;
}

export interface StopOptions {
  /** True when the child will not be started again: its mailbox closes and queued messages become dead letters. */
  final: boolean;
  timeoutMs: number;
}

export interface SupervisedChild {
  readonly id: string;
  readonly address: string;
  readonly kind: ChildKind;
  /** Actor type name, or 'supervisor'. */
  readonly type: string;
  readonly lifecycle: Lifecycle;
  parent: ChildParent | undefined;
  /** Set by the parent when its restart policy counts successes (a handled message closes a half-open circuit). */
  onSuccess?: (() => void) | undefined;
  /** Uninitialized | Stopped | Failed -> Running. Rejects (child in StartFailed) if it cannot start. */
  start(): Promise<void>;
  /** Crashed | StartFailed | Backoff -> Running, with a fresh instance. Rejects (StartFailed) on failure. */
  restart(reason: unknown): Promise<void>;
  stop(opts: StopOptions): Promise<void>;
  /** Give up on the child: Crashed | StartFailed | Backoff -> Failed (mailbox closed). */
  giveUp(reason: unknown): void;
  /** Crashed | StartFailed -> Backoff while a restart is scheduled. */
  enterBackoff(): void;
  /** Run the health check; undefined when not applicable (not running, or no check defined). */
  checkHealth(timeoutMs: number): Promise<boolean | undefined>;
  /** Inject a crash (tests, chaos, and the health monitor). */
  crash(error: unknown): void;
  readonly restarts: number;
  readonly processed: number;
  /** Queued messages (for least-loaded routing and metrics). */
  load(): number;
  readonly lastError: unknown;
}
