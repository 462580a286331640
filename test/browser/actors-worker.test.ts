/**
 * The runtime in real Chromium: actors in real Web Workers, restarted by their supervisor when the
 * worker throws, closes itself or hangs, with message guarantees across the boundary.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createActorSystem,
  exponentialBackoff,
  workerPlacement,
  type ActorSystem,
  type SupervisionEvent,
} from '../../src/actors/index.js';
import { webWorkerSpawner } from '../../src/platform/browser/worker.js';
import { Probe } from '../fixtures/probe-actor.js';

const spawn = webWorkerSpawner(
  () => new Worker(new URL('../fixtures/probe.web-worker.ts', import.meta.url), { type: 'module' }),
);

let current: ActorSystem | undefined;
afterEach(async () => {
  await current?.shutdown();
  current = undefined;
});

async function system() {
  const events: SupervisionEvent[] = [];
  const sys = createActorSystem({
    root: {
      strategy: 'one-for-one',
      intensity: { maxRestarts: 10, periodMs: 10_000 },
      children: [
        { id: 'in', actor: Probe },
        {
          id: 'w',
          actor: Probe,
          placement: workerPlacement(spawn, { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 400 }),
          policy: exponentialBackoff({ initialMs: 1, maxMs: 10, jitter: 0 }),
          mailbox: { capacity: 64, overflow: 'fail' },
        },
      ],
    },
  });
  sys.onEvent((e) => events.push(e));
  await sys.start();
  current = sys;
  return { sys, events, ref: sys.ref<typeof Probe>('/system/w'), local: sys.ref<typeof Probe>('/system/in') };
}

async function until(cond: () => boolean) {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

describe('actors in Web Workers (Chromium)', () => {
  it('runs in a real dedicated worker: FIFO, structured-clone values, and calls back into the page', async () => {
    const { ref, local } = await system();
    expect(typeof Worker).toBe('function');
    for (let i = 0; i < 60; i++) void ref.tell({ type: 'record', from: 'page', seq: i });
    const log = await ref.ask({ type: 'log' });
    expect(log.map(([, s]) => s)).toEqual([...Array(60).keys()]);
    const value = { when: new Date(5), bytes: new Uint8Array([1, 2, 3]), big: 2n ** 70n, map: new Map([[1, 'a']]) };
    expect(await ref.ask({ type: 'echo', value })).toEqual(value);
    // the worker-side actor asks the in-page actor through the parent's system
    await local.tell({ type: 'inc', by: 9 });
    expect(await ref.ask({ type: 'ask-other', to: '/system/in', msg: { type: 'get' } })).toBe(9);
  });

  it('a worker whose handler throws is restarted with fresh state', async () => {
    const { sys, ref, events } = await system();
    const first = await ref.ask({ type: 'instance' });
    await expect(ref.ask({ type: 'crash', message: 'bad block' })).rejects.toThrow(/bad block/);
    await until(() => events.some((e) => e.type === 'child-restarted'));
    expect(await ref.ask({ type: 'instance' })).not.toBe(first);
    expect(sys.registry.info('/system/w')).toMatchObject({ state: 'Running', restarts: 1, placement: 'worker' });
  });

  it('a worker that closes itself (no exit event in browsers) is caught by the heartbeat and restarted', async () => {
    const { ref, events } = await system();
    void ref.tell({ type: 'die', code: 0 });
    await until(() => events.some((e) => e.type === 'child-restarted'));
    const failed = events.find((e) => e.type === 'child-failed');
    expect(failed && 'error' in failed && failed.error).toMatch(/heartbeat/);
    expect(await ref.ask({ type: 'echo', value: 'back' })).toBe('back');
  });

  it('a hung worker is terminated and restarted; messages sent while it restarts are delivered after', async () => {
    const { sys, ref, events } = await system();
    const hung = ref.ask({ type: 'hang' }, { timeoutMs: 10_000 });
    hung.catch(() => {});
    let during: Promise<unknown[]> | undefined;
    sys.onEvent((e) => {
      if (e.type === 'child-failed') during = Promise.all([1, 2, 3].map((value) => ref.ask({ type: 'echo', value })));
    });
    await expect(hung).rejects.toThrow(/heartbeat/);
    await until(() => events.some((e) => e.type === 'child-restarted'));
    expect(await during).toEqual([1, 2, 3]);
  });

  it('an unhandled rejection inside the worker is reported as a crash', async () => {
    const { ref, events } = await system();
    await ref.tell({ type: 'unhandled' });
    await until(() => events.some((e) => e.type === 'child-restarted'));
    const failed = events.find((e) => e.type === 'child-failed');
    expect(failed && 'error' in failed && failed.error).toMatch(/nobody awaits me/);
  });

  it('the mailbox bound holds across the boundary (fail policy refuses the overflow)', async () => {
    const { sys, ref } = await system();
    void ref.tell({ type: 'slow', ms: 300 });
    await new Promise((r) => setTimeout(r, 20));
    // 256-message window is in flight at most; the parent mailbox holds 64 more
    const results = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) => ref.tell({ type: 'record', from: 'x', seq: i })),
    );
    const refused = results.filter((r) => r.status === 'rejected').length;
    expect(refused).toBeGreaterThan(0);
    expect(sys.deadLetters.list().filter((d) => d.reason === 'mailbox-full')).toHaveLength(refused);
    const log = await ref.ask({ type: 'log' }, { timeoutMs: 10_000 });
    expect(log.length + refused).toBe(400);
    // what got through arrived in order
    const seqs = log.map(([, s]) => s);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});
