import { describe, expect, it } from 'vitest';
import { createActorSystem, defineActor, createTestClock } from '../../src/actors/index.js';

type CounterMsg = { type: 'inc'; by: number } | { type: 'get' } | { type: 'boom' };
const Counter = defineActor<CounterMsg, { inc: void; get: number; boom: never }>({
  name: 'counter',
  create() {
    let n = 0;
    return {
      handle(msg) {
        switch (msg.type) {
          case 'inc':
            n += msg.by;
            return;
          case 'get':
            return n;
          case 'boom':
            throw new Error('boom');
        }
      },
    };
  },
});

describe('smoke', () => {
  it('tell/ask and restart', async () => {
    const clock = createTestClock(1);
    const sys = createActorSystem({
      clock,
      random: clock.random,
      root: { strategy: 'one-for-one', children: [{ id: 'c', actor: Counter }] },
    });
    await sys.start();
    const c = sys.ref<typeof Counter>('/system/c');
    await c.tell({ type: 'inc', by: 2 });
    const pGet = c.ask({ type: 'get' });
    await clock.settle();
    expect(await pGet).toBe(2);
    const boom = c.ask({ type: 'boom' });
    await expect(boom).rejects.toThrow(/crashed/);
    await clock.runUntilIdle();
    const p2 = c.ask({ type: 'get' });
    await clock.settle();
    expect(await p2).toBe(0);
    expect(sys.registry.info('/system/c')!.restarts).toBe(1);
    await sys.shutdown();
    expect(clock.pendingTimers()).toBe(0);
  });
});
