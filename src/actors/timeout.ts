import { AlysLightError, type AlysLightErrorOptions } from '../errors.js';
import type { Clock } from './clock.js';

/** A deadline of {@link withTimeout} passed (code `timeout`). */
export class TimeoutError extends AlysLightError {
  override name = 'TimeoutError';
  declare readonly code: string;
  constructor(message: string, options?: AlysLightErrorOptions) {
    super('timeout', message, options);
  }
}

/** Run `fn` with a deadline on `clock`; rejects with TimeoutError if it takes longer than `ms`. */
export function withTimeout<T>(clock: Clock, ms: number, fn: () => Promise<T>): Promise<T> {
  if (!Number.isFinite(ms) || ms >= Number.MAX_SAFE_INTEGER) return fn();
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
    fn().then(
      (v) => {
        clock.clearTimer(timer);
        resolve(v);
      },
      (e) => {
        clock.clearTimer(timer);
        reject(e);
      },
    );
  });
}

/** Resolve after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
}
