/**
 * Restart policies: whether and when a supervisor restarts a failed child. A policy is a recipe;
 * each child gets its own tracker (state such as the failure count or the circuit state).
 *
 * Policies decide about one child. Restart *intensity* (N restarts within T ms, per supervisor)
 * decides when the supervisor itself gives up and escalates - see supervisor.ts.
 */
import type { Random } from './clock.js';

export type RestartDecision = { restart: true; delayMs: number } | { restart: false; reason: string };

export interface RestartTracker {
  /** Whether `onSuccess` matters (lets the runtime skip a call per message otherwise). */
  readonly countsSuccesses: boolean;
  /** A failure happened at `now`: restart (after a delay) or give up? */
  onFailure(now: number, random: Random): RestartDecision;
  /** The child became Running at `now`. */
  onRunning(now: number): void;
  /** The child handled a message or passed a health check. */
  onSuccess(now: number): void;
  /** For the registry and tests. */
  describe(): Record<string, unknown>;
}

export interface RestartPolicy {
  readonly kind: 'exponential-backoff' | 'circuit-breaker' | 'never';
  tracker(): RestartTracker;
}

export interface ExponentialBackoffOptions {
  /** Delay before the first restart (ms). Default 100. */
  initialMs?: number;
  /** Cap on the delay (ms). Default 30 000. */
  maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
  multiplier?: number;
  /** Random spread as a fraction of the delay: 0.1 means +-10 %. Default 0.1. */
  jitter?: number;
  /** Consecutive failures after which the child is given up (Failed). Default 10. */
  maxRetries?: number;
  /** A child that stayed Running this long has its failure count reset. Default = maxMs. */
  resetAfterMs?: number;
}

/** delay(n) = min(initial * multiplier^(n-1), max) * (1 +- jitter), for the n-th consecutive failure. */
export function exponentialBackoff(opts: ExponentialBackoffOptions = {}): RestartPolicy {
  const initialMs = opts.initialMs ?? 100;
  const maxMs = opts.maxMs ?? 30_000;
  const multiplier = opts.multiplier ?? 2;
  const jitter = opts.jitter ?? 0.1;
  const maxRetries = opts.maxRetries ?? 10;
  const resetAfterMs = opts.resetAfterMs ?? maxMs;
  if (initialMs < 0 || maxMs < initialMs || multiplier < 1 || jitter < 0 || jitter > 1 || maxRetries < 0)
    throw new RangeError(
      'exponentialBackoff: need 0 <= initialMs <= maxMs, multiplier >= 1, 0 <= jitter <= 1, maxRetries >= 0',
    );
  return {
    kind: 'exponential-backoff',
    tracker() {
      let failures = 0;
      let runningSince: number | undefined;
      let lastDelay = 0;
      return {
        countsSuccesses: false,
        onFailure(now, random) {
          if (runningSince !== undefined && now - runningSince >= resetAfterMs) failures = 0;
          runningSince = undefined;
          failures++;
          if (failures > maxRetries)
            return { restart: false, reason: `gave up after ${maxRetries} restarts (exponential backoff)` };
          const base = Math.min(initialMs * multiplier ** (failures - 1), maxMs);
          lastDelay = Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
          return { restart: true, delayMs: lastDelay };
        },
        onRunning(now) {
          runningSince = now;
        },
        onSuccess() {},
        describe: () => ({ policy: 'exponential-backoff', failures, lastDelayMs: lastDelay }),
      };
    },
  };
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before a half-open probe restart (ms). Default 30 000. */
  recoveryTimeoutMs?: number;
  /** Successes in half-open state needed to close the circuit. Default 1. */
  successThreshold?: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Closed: restart at once, counting consecutive failures (a success resets the count); at
 * `failureThreshold` the circuit opens. Open: the child stays down (Backoff) for
 * `recoveryTimeoutMs`, then restarts as a half-open probe. Half-open: `successThreshold`
 * successes close the circuit; a failure opens it again.
 */
export function circuitBreaker(opts: CircuitBreakerOptions = {}): RestartPolicy {
  const failureThreshold = opts.failureThreshold ?? 5;
  const recoveryTimeoutMs = opts.recoveryTimeoutMs ?? 30_000;
  const successThreshold = opts.successThreshold ?? 1;
  if (failureThreshold < 1 || recoveryTimeoutMs < 0 || successThreshold < 1)
    throw new RangeError('circuitBreaker: need failureThreshold >= 1, recoveryTimeoutMs >= 0, successThreshold >= 1');
  return {
    kind: 'circuit-breaker',
    tracker() {
      let state: CircuitState = 'closed';
      let failures = 0;
      let successes = 0;
      let opens = 0;
      const open = (): RestartDecision => {
        state = 'open';
        opens++;
        successes = 0;
        return { restart: true, delayMs: recoveryTimeoutMs };
      };
      return {
        countsSuccesses: true,
        onFailure() {
          if (state === 'half-open' || state === 'open') return open();
          failures++;
          if (failures >= failureThreshold) return open();
          return { restart: true, delayMs: 0 };
        },
        onRunning() {
          // the restart after an open period is the half-open probe
          if (state === 'open') state = 'half-open';
        },
        onSuccess() {
          if (state === 'half-open') {
            if (++successes >= successThreshold) {
              state = 'closed';
              failures = 0;
              successes = 0;
            }
          } else if (state === 'closed') failures = 0;
        },
        describe: () => ({ policy: 'circuit-breaker', state, failures, successes, opens }),
      };
    },
  };
}

/** Never restart: a failed child stays Failed (its siblings are unaffected and nothing escalates). */
export function never(): RestartPolicy {
  return {
    kind: 'never',
    tracker: () => ({
      countsSuccesses: false,
      onFailure: () => ({ restart: false, reason: 'restart policy is never' }),
      onRunning() {},
      onSuccess() {},
      describe: () => ({ policy: 'never' }),
    }),
  };
}

/** Restart at once, forever (bounded only by the supervisor's intensity). */
export function immediate(): RestartPolicy {
  return {
    ...exponentialBackoff({ initialMs: 0, maxMs: 0, jitter: 0, maxRetries: Number.MAX_SAFE_INTEGER }),
    kind: 'exponential-backoff',
  };
}
