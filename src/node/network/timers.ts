/**
 * The p2p services' own waits on the runtime's {@link Clock} (src/actors/clock.ts), so a test clock
 * can replay them: request deadlines, redial and announce ticks. Timers inside libp2p (dial queues,
 * gossipsub heartbeats, identify) stay on the platform's.
 */
import type { Clock, TimerHandle } from '../../actors/clock.js';

/**
 * An AbortSignal that aborts after `ms` on `clock`, as `AbortSignal.timeout` does (the same
 * TimeoutError reason, and the timer keeps nothing alive); `clear()` once the work is done.
 */
export function timeoutSignal(clock: Clock, ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = clock.setTimer(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  clock.setTimerRef?.(timer, false);
  return { signal: controller.signal, clear: () => clock.clearTimer(timer) };
}

/** Call `fn` every `ms` on `clock` (as `setInterval` does) until the returned function is called. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let timer: TimerHandle = clock.setTimer(function tick() {
    timer = clock.setTimer(tick, ms);
    fn();
  }, ms);
  return () => clock.clearTimer(timer);
}
