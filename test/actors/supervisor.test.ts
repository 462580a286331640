import { describe, expect, it } from 'vitest';
import {
  ActorStoppedError,
  circuitBreaker,
  exponentialBackoff,
  immediate,
  never,
  type ChildSpec,
  type RestartType,
  type Strategy,
} from '../../src/actors/index.js';
import { instanceOf, startSystem, Tracked, type TestSystem, type TrackedArgs } from './helpers.js';

const fast = immediate();

function kids(
  log: string[],
  names: string[],
  extra: Partial<ChildSpec> & { args?: Partial<TrackedArgs> } = {},
): ChildSpec[] {
  return names.map(
    (name) => ({ id: name, actor: Tracked, policy: fast, ...extra, args: { name, log, ...extra.args } }) as ChildSpec,
  );
}

async function crash(t: TestSystem, address: string): Promise<void> {
  await t.sys
    .ref<typeof Tracked>(address)
    .ask({ type: 'crash' })
    .catch(() => {});
  await t.clock.runUntilIdle();
}

async function instances(t: TestSystem, names: string[], prefix = '/system'): Promise<number[]> {
  const out: number[] = [];
  for (const n of names) out.push(await instanceOf(t, `${prefix}/${n}`));
  return out;
}

describe('supervisor strategies', () => {
  const cases: Array<[Strategy, number[]]> = [
    ['one-for-one', [1, 2, 1, 1]],
    ['one-for-all', [2, 2, 2, 2]],
    ['rest-for-one', [1, 2, 2, 2]],
  ];
  for (const [strategy, expected] of cases)
    it(`${strategy}: a crash of b restarts exactly the predicted children`, async () => {
      const log: string[] = [];
      const t = await startSystem({ strategy, children: kids(log, ['a', 'b', 'c', 'd']) });
      expect(await instances(t, ['a', 'b', 'c', 'd'])).toEqual([1, 1, 1, 1]);
      await crash(t, '/system/b');
      expect(await instances(t, ['a', 'b', 'c', 'd'])).toEqual(expected);
      await t.sys.shutdown();
    });

  it('one-for-all stops the others in reverse start order, then starts all in order', async () => {
    const log: string[] = [];
    const t = await startSystem({ strategy: 'one-for-all', children: kids(log, ['a', 'b', 'c']) });
    log.length = 0;
    await crash(t, '/system/b');
    expect(log).toEqual([
      'c#1:preStop',
      'c#1:stopped',
      'a#1:preStop',
      'a#1:stopped',
      'a#2:preStart',
      'a#2:started',
      'b#1:preRestart(b crashed)',
      'b#2:preStart',
      'b#2:postRestart',
      'b#2:started',
      'c#2:preStart',
      'c#2:started',
    ]);
    await t.sys.shutdown();
  });
});

describe('restart types', () => {
  const cases: Array<[RestartType, 'crash' | 'exit', boolean]> = [
    ['permanent', 'crash', true],
    ['permanent', 'exit', true],
    ['transient', 'crash', true],
    ['transient', 'exit', false],
    ['temporary', 'crash', false],
    ['temporary', 'exit', false],
  ];
  for (const [restart, how, restarted] of cases)
    it(`${restart} child after a ${how === 'crash' ? 'crash' : 'normal exit'} is ${restarted ? '' : 'not '}restarted`, async () => {
      const log: string[] = [];
      const t = await startSystem({
        strategy: 'one-for-one',
        children: kids(log, ['x'], { restart } as Partial<ChildSpec>),
      });
      await t.sys
        .ref<typeof Tracked>('/system/x')
        .ask({ type: how })
        .catch(() => {});
      await t.clock.runUntilIdle();
      const info = t.sys.registry.info('/system/x')!;
      if (restarted) {
        expect(info.state).toBe('Running');
        expect(await instanceOf(t, '/system/x')).toBe(2);
      } else {
        expect(info.state).toBe(how === 'crash' ? 'Failed' : 'Stopped');
        await expect(t.sys.ref<typeof Tracked>('/system/x').ask({ type: 'ping' })).rejects.toBeInstanceOf(
          ActorStoppedError,
        );
      }
      await t.sys.shutdown();
    });
});

describe('restart intensity and escalation', () => {
  it('more than maxRestarts within periodMs escalates to the parent, which restarts the whole subtree', async () => {
    const log: string[] = [];
    const t = await startSystem({
      strategy: 'one-for-one',
      intensity: { maxRestarts: 5, periodMs: 10_000 },
      children: [
        { id: 'other', actor: Tracked, args: { name: 'other', log }, policy: fast },
        {
          id: 'sub',
          policy: fast,
          supervisor: {
            strategy: 'one-for-one',
            intensity: { maxRestarts: 2, periodMs: 1000 },
            children: kids(log, ['x', 'y']),
          },
        },
      ],
    });
    await crash(t, '/system/sub/x');
    await crash(t, '/system/sub/x');
    expect(t.events.filter((e) => e.type === 'escalated')).toHaveLength(0);
    expect(await instances(t, ['x', 'y'], '/system/sub')).toEqual([3, 1]);
    await crash(t, '/system/sub/x'); // third restart within 1 s: escalate
    const esc = t.events.filter((e) => e.type === 'escalated');
    expect(esc.map((e) => e.address)).toEqual(['/system/sub']);
    expect(t.sys.registry.info('/system/sub')!.restarts).toBe(1);
    // the parent restarted the subtree: both children are fresh, the sibling of sub is untouched
    expect(await instances(t, ['x', 'y'], '/system/sub')).toEqual([4, 2]);
    expect(await instanceOf(t, '/system/other')).toBe(1);
    await t.sys.shutdown();
  });

  it('restarts spread beyond periodMs do not escalate', async () => {
    const log: string[] = [];
    const t = await startSystem({
      strategy: 'one-for-one',
      intensity: { maxRestarts: 1, periodMs: 1000 },
      children: kids(log, ['x']),
    });
    for (let i = 0; i < 4; i++) {
      await crash(t, '/system/x');
      await t.clock.advance(1001);
    }
    expect(t.events.filter((e) => e.type === 'escalated')).toHaveLength(0);
    expect(await instanceOf(t, '/system/x')).toBe(5);
    await t.sys.shutdown();
  });

  it('the root exceeding its intensity terminates the system', async () => {
    const log: string[] = [];
    const t = await startSystem({
      strategy: 'one-for-one',
      intensity: { maxRestarts: 1, periodMs: 1000 },
      children: kids(log, ['x']),
    });
    await crash(t, '/system/x');
    await crash(t, '/system/x');
    const term = await t.sys.terminated;
    expect(term.reason).toBe('failed');
    expect(String((term as { error: Error }).error.message)).toMatch(
      /exceeded its restart intensity \(2 restarts within 1000 ms\)/,
    );
    expect(t.sys.registry.info('/system/x')!.state).toBe('Stopped');
  });
});

describe('restart policies inside a supervisor', () => {
  it('exponential backoff keeps the child down for the delay; messages wait and are handled after the restart', async () => {
    const log: string[] = [];
    const t = await startSystem({
      strategy: 'one-for-one',
      intensity: { maxRestarts: 100, periodMs: 1000 },
      children: kids(log, ['x'], { policy: exponentialBackoff({ initialMs: 100, maxMs: 1000, jitter: 0 }) }),
    });
    const ref = t.sys.ref<typeof Tracked>('/system/x');
    void ref.ask({ type: 'crash' }).catch(() => {});
    await t.clock.settle();
    expect(t.sys.registry.info('/system/x')!.state).toBe('Backoff');
    const pending = ref.ask({ type: 'ping' });
    await t.clock.advance(99);
    expect(t.sys.registry.info('/system/x')!.state).toBe('Backoff');
    await t.clock.advance(1);
    expect(await pending).toBe('x#2');
    expect(t.events.find((e) => e.type === 'child-backoff')).toMatchObject({ delayMs: 100 });
    await t.sys.shutdown();
  });

  it('circuit breaker: opens after the threshold, stays down for recoveryTimeout, probes half-open, closes on success', async () => {
    const log: string[] = [];
    const t = await startSystem({
      strategy: 'one-for-one',
      intensity: { maxRestarts: 100, periodMs: 1000 },
      children: kids(log, ['x'], {
        policy: circuitBreaker({ failureThreshold: 2, recoveryTimeoutMs: 5000, successThreshold: 1 }),
      }),
    });
    const sup = t.sys.supervisor('/system')!;
    await crash(t, '/system/x');
    expect(sup.describeChild('x')).toMatchObject({ state: 'closed', failures: 1 });
    void t.sys
      .ref<typeof Tracked>('/system/x')
      .ask({ type: 'crash' })
      .catch(() => {});
    await t.clock.settle();
    expect(sup.describeChild('x')).toMatchObject({ state: 'open' });
    expect(t.sys.registry.info('/system/x')!.state).toBe('Backoff');
    await t.clock.advance(4999);
    expect(t.sys.registry.info('/system/x')!.state).toBe('Backoff');
    await t.clock.advance(1);
    expect(sup.describeChild('x')).toMatchObject({ state: 'half-open' });
    expect(await instanceOf(t, '/system/x')).toBe(3);
    expect(sup.describeChild('x')).toMatchObject({ state: 'closed' });
    await t.sys.shutdown();
  });

  it('never: the child stays Failed, siblings keep running, nothing escalates', async () => {
    const log: string[] = [];
    const t = await startSystem({
      strategy: 'one-for-all',
      children: [
        { id: 'metrics', actor: Tracked, args: { name: 'metrics', log }, policy: never() },
        { id: 'storage', actor: Tracked, args: { name: 'storage', log }, policy: fast },
      ],
    });
    await crash(t, '/system/metrics');
    expect(t.sys.registry.info('/system/metrics')!.state).toBe('Failed');
    expect(await instanceOf(t, '/system/storage')).toBe(1);
    expect(t.events.filter((e) => e.type === 'child-gave-up')).toHaveLength(1);
    expect(t.events.filter((e) => e.type === 'escalated')).toHaveLength(0);
    await t.sys.shutdown();
  });

  it('a restart that fails in preStart counts as another failure and is retried per policy', async () => {
    const log: string[] = [];
    const t = await startSystem({
      strategy: 'one-for-one',
      intensity: { maxRestarts: 10, periodMs: 1000 },
      children: kids(log, ['x'], { args: { failStart: (i) => i === 2 || i === 3 } }),
    });
    await crash(t, '/system/x');
    expect(await instanceOf(t, '/system/x')).toBe(4);
    expect(t.events.filter((e) => e.type === 'child-failed').map((e) => 'error' in e && e.error)).toEqual([
      'x crashed',
      'x refuses to start',
      'x refuses to start',
    ]);
    await t.sys.shutdown();
  });
});

describe('start and stop order', () => {
  it('starts children in order and stops them in reverse order', async () => {
    const log: string[] = [];
    const t = await startSystem({
      strategy: 'one-for-one',
      children: [
        ...kids(log, ['a']),
        { id: 'sub', supervisor: { strategy: 'one-for-one', children: kids(log, ['b1', 'b2']) } },
        ...kids(log, ['c']),
      ],
    });
    expect(log.filter((l) => l.endsWith('preStart'))).toEqual([
      'a#1:preStart',
      'b1#1:preStart',
      'b2#1:preStart',
      'c#1:preStart',
    ]);
    log.length = 0;
    await t.sys.shutdown();
    expect(log.filter((l) => l.endsWith('preStop'))).toEqual([
      'c#1:preStop',
      'b2#1:preStop',
      'b1#1:preStop',
      'a#1:preStop',
    ]);
  });

  it('a child that does not stop within its shutdown timeout is abandoned and the others still stop', async () => {
    const log: string[] = [];
    const t = await startSystem({
      strategy: 'one-for-one',
      children: [
        { id: 'a', actor: Tracked, args: { name: 'a', log } },
        { id: 'slow', actor: Tracked, args: { name: 'slow', log, slowStopMs: 60_000 }, shutdownTimeoutMs: 500 },
      ],
    });
    const done = t.sys.shutdown();
    await t.clock.advance(500);
    await done;
    expect(t.sys.registry.info('/system/slow')!.state).toBe('Stopped');
    expect(log).toContain('a#1:stopped');
    expect(log).not.toContain('slow#1:stopped');
  });

  it('a child that cannot start fails the supervisor start; the ones already started are stopped again', async () => {
    const log: string[] = [];
    await expect(
      startSystem({
        strategy: 'one-for-one',
        children: [...kids(log, ['a']), ...kids(log, ['b'], { args: { failStart: () => true } }), ...kids(log, ['c'])],
      }),
    ).rejects.toThrow(/could not start child \/system\/b: b refuses to start/);
    expect(log).toEqual(['a#1:preStart', 'a#1:started', 'b#1:preStart', 'a#1:preStop', 'a#1:stopped']);
  });

  it('startChild adds a child at run time; stopChild removes it and refuses later messages', async () => {
    const log: string[] = [];
    const t = await startSystem({ strategy: 'one-for-one', children: [] });
    await t.sys.supervisor('/system')!.startChild({ id: 'late', actor: Tracked, args: { name: 'late', log } });
    expect(await instanceOf(t, '/system/late')).toBe(1);
    await t.sys.supervisor('/system')!.stopChild('late');
    expect(t.sys.registry.info('/system/late')).toBeUndefined();
    await expect(t.sys.ref<typeof Tracked>('/system/late').ask({ type: 'ping' })).rejects.toThrow(/no route/);
    await t.sys.shutdown();
  });
});

describe('health checks', () => {
  it('repeated failed health checks restart the actor', async () => {
    const log: string[] = [];
    let healthy = true;
    const t = await startSystem({
      strategy: 'one-for-one',
      children: [
        {
          id: 'x',
          actor: Tracked,
          args: { name: 'x', log, healthy: () => healthy },
          policy: fast,
          healthCheck: { intervalMs: 100, failureThreshold: 3 },
        },
      ],
    });
    await t.clock.advance(100);
    expect(t.sys.registry.info('/system/x')!.health).toBe('healthy');
    healthy = false;
    await t.clock.advance(200);
    expect(t.sys.registry.info('/system/x')!.health).toBe('unhealthy');
    expect(await instanceOf(t, '/system/x')).toBe(1);
    await t.clock.advance(100); // third consecutive failure: crash and restart
    healthy = true;
    expect(t.events.filter((e) => e.type === 'child-failed').map((e) => 'error' in e && e.error)).toEqual([
      'actor /system/x failed 3 consecutive health checks',
    ]);
    expect(await instanceOf(t, '/system/x')).toBe(2);
    await t.clock.advance(100);
    expect(t.sys.registry.info('/system/x')!.health).toBe('healthy');
    await t.sys.shutdown();
    expect(t.clock.pendingTimers()).toBe(0);
  });
});
