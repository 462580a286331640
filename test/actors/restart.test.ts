import { describe, expect, it } from 'vitest';
import { circuitBreaker, createRandom, exponentialBackoff, never } from '../../src/actors/index.js';

describe('restart policy: exponential backoff', () => {
  it('grows delays by the multiplier up to the cap, then gives up after maxRetries', () => {
    const t = exponentialBackoff({ initialMs: 100, maxMs: 1000, multiplier: 3, jitter: 0, maxRetries: 5 }).tracker();
    const rnd = createRandom(1);
    const delays = [1, 2, 3, 4, 5].map(() => t.onFailure(0, rnd));
    expect(delays).toEqual([100, 300, 900, 1000, 1000].map((d) => ({ restart: true, delayMs: d })));
    expect(t.onFailure(0, rnd)).toEqual({ restart: false, reason: 'gave up after 5 restarts (exponential backoff)' });
  });

  it('applies jitter within +-jitter of the base delay, reproducibly from the seed', () => {
    const run = (seed: number) => {
      const t = exponentialBackoff({ initialMs: 1000, maxMs: 1000, jitter: 0.25, maxRetries: 1000 }).tracker();
      const rnd = createRandom(seed);
      return Array.from({ length: 200 }, () => (t.onFailure(0, rnd) as { delayMs: number }).delayMs);
    };
    const a = run(42);
    expect(a).toEqual(run(42));
    expect(a).not.toEqual(run(43));
    for (const d of a) expect(d >= 750 && d <= 1250).toBe(true);
    expect(new Set(a).size).toBeGreaterThan(50);
  });

  it('forgets old failures once the child stayed up for resetAfterMs', () => {
    const t = exponentialBackoff({ initialMs: 10, maxMs: 1000, jitter: 0, maxRetries: 2, resetAfterMs: 500 }).tracker();
    const rnd = createRandom(1);
    expect(t.onFailure(0, rnd)).toEqual({ restart: true, delayMs: 10 });
    t.onRunning(10);
    expect(t.onFailure(100, rnd)).toEqual({ restart: true, delayMs: 20 }); // up only 90 ms
    t.onRunning(120);
    expect(t.onFailure(700, rnd)).toEqual({ restart: true, delayMs: 10 }); // up 580 ms: reset
  });

  it('validates its options', () => {
    expect(() => exponentialBackoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => exponentialBackoff({ multiplier: 0.5 })).toThrow(RangeError);
    expect(() => exponentialBackoff({ jitter: 2 })).toThrow(RangeError);
  });
});

describe('restart policy: circuit breaker', () => {
  const rnd = createRandom(1);
  it('closed -> open after failureThreshold consecutive failures; open waits recoveryTimeout', () => {
    const t = circuitBreaker({ failureThreshold: 3, recoveryTimeoutMs: 5000, successThreshold: 2 }).tracker();
    expect(t.onFailure(0, rnd)).toEqual({ restart: true, delayMs: 0 });
    expect(t.onFailure(0, rnd)).toEqual({ restart: true, delayMs: 0 });
    expect(t.describe()).toMatchObject({ state: 'closed', failures: 2 });
    expect(t.onFailure(0, rnd)).toEqual({ restart: true, delayMs: 5000 });
    expect(t.describe()).toMatchObject({ state: 'open', opens: 1 });
  });

  it('a success in closed state resets the failure count', () => {
    const t = circuitBreaker({ failureThreshold: 2 }).tracker();
    t.onFailure(0, rnd);
    t.onSuccess(0);
    expect(t.onFailure(0, rnd)).toEqual({ restart: true, delayMs: 0 });
    expect(t.describe()).toMatchObject({ state: 'closed', failures: 1 });
  });

  it('half-open after the probe restart; successThreshold successes close it', () => {
    const t = circuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 100, successThreshold: 2 }).tracker();
    t.onFailure(0, rnd);
    t.onRunning(100);
    expect(t.describe()).toMatchObject({ state: 'half-open' });
    t.onSuccess(101);
    expect(t.describe()).toMatchObject({ state: 'half-open', successes: 1 });
    t.onSuccess(102);
    expect(t.describe()).toMatchObject({ state: 'closed', failures: 0 });
  });

  it('a failure while half-open opens the circuit again', () => {
    const t = circuitBreaker({ failureThreshold: 1, recoveryTimeoutMs: 100, successThreshold: 3 }).tracker();
    t.onFailure(0, rnd);
    t.onRunning(100);
    t.onSuccess(101);
    expect(t.onFailure(102, rnd)).toEqual({ restart: true, delayMs: 100 });
    expect(t.describe()).toMatchObject({ state: 'open', opens: 2, successes: 0 });
  });
});

describe('restart policy: never', () => {
  it('always gives up', () => {
    expect(never().tracker().onFailure(0, createRandom(1))).toEqual({
      restart: false,
      reason: 'restart policy is never',
    });
  });
});
