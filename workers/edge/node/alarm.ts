/**
 * The Durable Object's alarm schedule, pure: what a run records and when the next run is due.
 * A run that found the node following (its head verified and caught up with its sources) comes back
 * after `ALARM_INTERVAL_MS`; one that failed (no usable source, a start that failed, a throw) backs off
 * exponentially from `BACKOFF_INITIAL_MS` to `BACKOFF_MAX_MS`.
 */

export const ALARM_INTERVAL_MS = 5_000;
export const BACKOFF_INITIAL_MS = 2_000;
export const BACKOFF_MAX_MS = 5 * 60_000;
/** The longest one run waits for the node to catch up with its sources (var `ALYS_ALARM_STEP_MS`). */
export const FOLLOW_STEP_MS = 20_000;

/** `ALYS_ALARM_STEP_MS` if it is a positive number of ms, else FOLLOW_STEP_MS. */
export function alarmStepMs(env: { ALYS_ALARM_STEP_MS?: string }): number {
  const ms = Number(env.ALYS_ALARM_STEP_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : FOLLOW_STEP_MS;
}

/** What the object keeps in storage about its alarm runs (key `ALARM_STATE_KEY`). */
export interface AlarmState {
  /** Runs started (a run the runtime retries counts again). */
  runs: number;
  /** Failed runs in a row (0 after a good run). */
  failures: number;
  /** When the last run ended (ms since the epoch). */
  lastRunAt: number | null;
  /** The verified head when the last run ended. */
  lastHead: number | null;
  /** Why the last run failed (null after a good one). */
  lastError: string | null;
  /** When the next run is due. */
  nextAt: number | null;
}

export const ALARM_STATE_KEY = 'edge:alarm';

export const INITIAL_ALARM_STATE: AlarmState = {
  runs: 0,
  failures: 0,
  lastRunAt: null,
  lastHead: null,
  lastError: null,
  nextAt: null,
};

/** The delay before the next run after `failures` failed runs in a row. */
export function nextDelayMs(failures: number): number {
  if (failures <= 0) return ALARM_INTERVAL_MS;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.min(failures - 1, 30));
}

/** The state after a run that ended at `now`: `error` undefined for a good run. */
export function afterRun(prev: AlarmState, now: number, outcome: { head: number | null; error?: string }): AlarmState {
  const failures = outcome.error === undefined ? 0 : prev.failures + 1;
  return {
    runs: prev.runs,
    failures,
    lastRunAt: now,
    lastHead: outcome.head ?? prev.lastHead,
    lastError: outcome.error ?? null,
    nextAt: now + nextDelayMs(failures),
  };
}
