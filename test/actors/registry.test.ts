import { describe, expect, it } from 'vitest';
import { createActorSystem, DependencyCycleError, Registry } from '../../src/actors/index.js';
import { Probe } from '../fixtures/probe-actor.js';

describe('registry', () => {
  it('refuses dependency cycles and reports the cycle', () => {
    const r = new Registry();
    r.addDependency('/a', '/b');
    r.addDependency('/b', '/c');
    expect(() => r.addDependency('/c', '/a')).toThrow(DependencyCycleError);
    try {
      r.addDependency('/c', '/a');
    } catch (e) {
      expect((e as DependencyCycleError).cycle).toEqual(['/c', '/a', '/b', '/c']);
    }
    expect(() => r.addDependency('/a', '/a')).toThrow(DependencyCycleError);
    // nothing was recorded by the refused calls
    expect(r.dependenciesOf('/c')).toEqual([]);
  });

  it('orders by dependencies and finds transitive dependents', () => {
    const r = new Registry();
    r.addDependency('/sync', '/network');
    r.addDependency('/network', '/storage');
    r.addDependency('/chain', '/storage');
    const order = r.dependencyOrder();
    expect(order.indexOf('/storage')).toBeLessThan(order.indexOf('/network'));
    expect(order.indexOf('/network')).toBeLessThan(order.indexOf('/sync'));
    expect(order.indexOf('/storage')).toBeLessThan(order.indexOf('/chain'));
    expect(r.dependentsOf('/storage').sort()).toEqual(['/chain', '/network', '/sync']);
  });

  it('describes live actors: type, placement, state, restarts, messages, dependencies', async () => {
    const sys = createActorSystem({
      root: {
        strategy: 'one-for-one',
        children: [
          { id: 'storage', actor: Probe },
          { id: 'chain', actor: Probe, dependsOn: ['storage'] },
          { id: 'sub', supervisor: { strategy: 'one-for-all', children: [{ id: 'x', actor: Probe }] } },
        ],
      },
    });
    await sys.start();
    await sys.ref<typeof Probe>('/system/chain').ask({ type: 'get' });
    expect(sys.registry.info('/system/chain')).toEqual({
      id: 'chain',
      address: '/system/chain',
      type: 'probe',
      placement: 'in-thread',
      parent: '/system',
      state: 'Running',
      health: 'unknown',
      restarts: 0,
      messages: 1,
      queued: 0,
      dependsOn: ['/system/storage'],
    });
    expect(sys.registry.info('/system/sub/x')?.parent).toBe('/system/sub');
    expect(
      sys.registry
        .list()
        .map((i) => i.address)
        .sort(),
    ).toEqual(['/system', '/system/chain', '/system/storage', '/system/sub', '/system/sub/x']);
    await sys.shutdown();
    expect(sys.registry.info('/system/chain')?.state).toBe('Stopped');
  });

  it('rejects a dependency on a later sibling (it would start too late)', () => {
    expect(() =>
      createActorSystem({
        root: {
          strategy: 'one-for-one',
          children: [
            { id: 'a', actor: Probe, dependsOn: ['b'] },
            { id: 'b', actor: Probe },
          ],
        },
      }),
    ).toThrow(/depends on b, which must be an earlier sibling/);
  });
});
