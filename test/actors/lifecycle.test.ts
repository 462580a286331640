import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, Lifecycle, type LifecycleState } from '../../src/actors/index.js';

const STATES: LifecycleState[] = [
  'Uninitialized',
  'Starting',
  'Running',
  'Stopping',
  'Stopped',
  'StartFailed',
  'Crashed',
  'Restarting',
  'Backoff',
  'Failed',
];

// The transition table from spec/design.md section 2, written out independently of the implementation.
const LEGAL = new Set([
  'Uninitialized>Starting',
  'Starting>Running',
  'Starting>StartFailed',
  'Running>Stopping',
  'Running>Crashed',
  'Stopping>Stopped',
  'Stopped>Starting',
  'StartFailed>Restarting',
  'StartFailed>Backoff',
  'StartFailed>Failed',
  'StartFailed>Stopped',
  'Crashed>Restarting',
  'Crashed>Backoff',
  'Crashed>Failed',
  'Crashed>Stopped',
  'Backoff>Restarting',
  'Backoff>Stopping',
  'Backoff>Failed',
  'Restarting>Running',
  'Restarting>Crashed',
  'Restarting>StartFailed',
  'Restarting>Failed',
  'Failed>Starting',
]);

/** Drive a fresh lifecycle to `target` along legal transitions. */
function reach(target: LifecycleState): Lifecycle {
  const paths: Record<LifecycleState, LifecycleState[]> = {
    Uninitialized: [],
    Starting: ['Starting'],
    Running: ['Starting', 'Running'],
    Stopping: ['Starting', 'Running', 'Stopping'],
    Stopped: ['Starting', 'Running', 'Stopping', 'Stopped'],
    StartFailed: ['Starting', 'StartFailed'],
    Crashed: ['Starting', 'Running', 'Crashed'],
    Restarting: ['Starting', 'Running', 'Crashed', 'Restarting'],
    Backoff: ['Starting', 'Running', 'Crashed', 'Backoff'],
    Failed: ['Starting', 'Running', 'Crashed', 'Failed'],
  };
  const l = new Lifecycle('/t');
  for (const s of paths[target]) l.transition(s);
  expect(l.state).toBe(target);
  return l;
}

describe('lifecycle state machine', () => {
  for (const from of STATES)
    for (const to of STATES) {
      const legal = LEGAL.has(`${from}>${to}`);
      it(`${from} -> ${to} is ${legal ? 'legal' : 'illegal'}`, () => {
        const l = reach(from);
        if (legal) {
          l.transition(to);
          expect(l.state).toBe(to);
        } else {
          expect(() => l.transition(to)).toThrow(IllegalTransitionError);
          expect(l.state).toBe(from);
        }
      });
    }

  it('notifies listeners of every change with from and to', () => {
    const l = new Lifecycle('/t');
    const seen: string[] = [];
    l.onChange((f, t) => seen.push(`${f}>${t}`));
    l.transition('Starting');
    l.transition('Running');
    expect(seen).toEqual(['Uninitialized>Starting', 'Starting>Running']);
  });

  it('names the actor and both states in the error', () => {
    const l = new Lifecycle('/system/chain');
    expect(() => l.transition('Running')).toThrow(
      'actor /system/chain: illegal lifecycle transition Uninitialized -> Running',
    );
  });
});
