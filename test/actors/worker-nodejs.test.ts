import { afterEach, describe, expect, it } from 'vitest';
import {
  createActorSystem,
  exponentialBackoff,
  workerPlacement,
  type ActorSystem,
  type SupervisionEvent,
} from '../../src/actors/index.js';
import { nodeWorkerSpawnerFor } from '../../src/platform/nodejs/worker.js';
import { Probe } from '../fixtures/probe-actor.js';

const entry = new URL('../fixtures/probe.nodejs-worker.ts', import.meta.url);

async function system(opts: { heartbeatTimeoutMs?: number } = {}) {
  const spawn = await nodeWorkerSpawnerFor(entry);
  const events: SupervisionEvent[] = [];
  const sys = createActorSystem({
    root: {
      strategy: 'one-for-one',
      intensity: { maxRestarts: 10, periodMs: 10_000 },
      children: [
        {
          id: 'w',
          actor: Probe,
          placement: workerPlacement(spawn, {
            heartbeatIntervalMs: 50,
            heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? 300,
          }),
          policy: exponentialBackoff({ initialMs: 1, maxMs: 10, jitter: 0 }),
          mailbox: { capacity: 100, overflow: 'dropNewest' },
        },
      ],
    },
  });
  sys.onEvent((e) => events.push(e));
  await sys.start();
  return { sys, events, ref: sys.ref<typeof Probe>('/system/w') };
}

async function restartedOnce(events: SupervisionEvent[], n = 1) {
  for (let i = 0; i < 200 && events.filter((e) => e.type === 'child-restarted').length < n; i++)
    await new Promise((r) => setTimeout(r, 10));
  expect(events.filter((e) => e.type === 'child-restarted').length).toBe(n);
}

let current: ActorSystem | undefined;
afterEach(async () => {
  await current?.shutdown();
  current = undefined;
});

describe('actors in worker_threads', () => {
  it('tell and ask across the boundary keep FIFO and values', async () => {
    const { sys, ref } = await system();
    current = sys;
    for (let i = 0; i < 50; i++) void ref.tell({ type: 'record', from: 'a', seq: i });
    expect(await ref.ask({ type: 'echo', value: { deep: [1, 'x', null] } })).toEqual({ deep: [1, 'x', null] });
    const log = await ref.ask({ type: 'log' });
    expect(log.map(([, s]) => s)).toEqual([...Array(50).keys()]);
    expect(sys.registry.info('/system/w')).toMatchObject({ placement: 'worker', state: 'Running', type: 'probe' });
  });

  it('a handler that throws crashes the worker, which is restarted with fresh state', async () => {
    const { sys, ref, events } = await system();
    current = sys;
    const before = await ref.ask({ type: 'instance' });
    await ref.tell({ type: 'inc', by: 5 });
    await expect(ref.ask({ type: 'crash', message: 'kaboom' })).rejects.toThrow(/kaboom/);
    await restartedOnce(events);
    expect(await ref.ask({ type: 'get' })).toBe(0);
    expect(await ref.ask({ type: 'instance' })).not.toBe(before);
    expect(sys.registry.info('/system/w')!.restarts).toBe(1);
  });

  it('a worker that exits is restarted; messages sent meanwhile are delivered after the restart', async () => {
    const { sys, ref, events } = await system();
    current = sys;
    let during: Promise<unknown[]> | undefined;
    sys.onEvent((e) => {
      // the worker is down (Crashed) and not yet restarted: these must wait in the mailbox
      if (e.type === 'child-failed') during = Promise.all([1, 2, 3].map((v) => ref.ask({ type: 'echo', value: v })));
    });
    // in flight with the fatal message: refused with a reason (at-most-once), never silently lost
    const inFlight = Promise.allSettled([ref.tell({ type: 'die', code: 7 }), ref.ask({ type: 'echo', value: 0 })]);
    await restartedOnce(events);
    expect(await during).toEqual([1, 2, 3]);
    const [, echo0] = await inFlight;
    expect(echo0.status).toBe('rejected');
    expect(String((echo0 as PromiseRejectedResult).reason)).toMatch(/exited with code 7/);
    const failed = events.find((e) => e.type === 'child-failed');
    expect(failed && 'error' in failed && failed.error).toMatch(/exited with code 7/);
    const dieLetter = sys.deadLetters.list().find((d) => (d.envelope.payload as { type: string }).type === 'die');
    expect(dieLetter?.reason).toBe('worker-crashed');
  });

  it('a stuck worker misses heartbeats and is restarted', async () => {
    const { sys, ref, events } = await system({ heartbeatTimeoutMs: 200 });
    current = sys;
    const hung = ref.ask({ type: 'hang' }, { timeoutMs: 10_000 });
    await expect(hung).rejects.toThrow(/heartbeat/);
    await restartedOnce(events);
    expect(await ref.ask({ type: 'echo', value: 42 })).toBe(42);
  });

  it('an unhandled rejection inside the worker is a crash', async () => {
    const { sys, ref, events } = await system();
    current = sys;
    await ref.tell({ type: 'unhandled' });
    await restartedOnce(events);
    expect(await ref.ask({ type: 'echo', value: 'ok' })).toBe('ok');
  });

  it('replyError rejects the asker without crashing the worker', async () => {
    const { sys, ref, events } = await system();
    current = sys;
    await expect(ref.ask({ type: 'invalid' })).rejects.toThrow(/invalid input/);
    expect(await ref.ask({ type: 'echo', value: 1 })).toBe(1);
    expect(events.filter((e) => e.type === 'child-failed')).toHaveLength(0);
  });

  it('an actor in a worker reaches a load-balanced group (ask and tell) through the parent', async () => {
    const spawn = await nodeWorkerSpawnerFor(entry);
    const sys = createActorSystem({
      root: {
        strategy: 'one-for-one',
        children: [
          { id: 'in-a', actor: Probe },
          { id: 'in-b', actor: Probe },
          {
            id: 'w',
            actor: Probe,
            placement: workerPlacement(spawn, { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 }),
          },
        ],
      },
    });
    current = sys;
    await sys.start();
    sys.joinGroup('pool', '/system/in-a', 'round-robin');
    sys.joinGroup('pool', '/system/in-b', 'round-robin');
    const w = sys.ref<typeof Probe>('/system/w');
    for (let i = 0; i < 4; i++) await w.ask({ type: 'tell-group', group: 'pool', msg: { type: 'inc', by: 1 } });
    // round-robin: two each; the worker's asks go through the same group
    const answers = [
      await w.ask({ type: 'ask-group', group: 'pool', msg: { type: 'get' } }),
      await w.ask({ type: 'ask-group', group: 'pool', msg: { type: 'get' } }),
    ];
    expect(answers).toEqual([2, 2]);
    await expect(w.ask({ type: 'ask-group', group: 'nobody', msg: { type: 'get' } })).rejects.toThrow(/nobody/);
    expect(await w.ask({ type: 'echo', value: 'still running' })).toBe('still running');
  });
});
