/**
 * The lifecycle state machine of a supervised child (actor, worker-hosted actor or supervisor).
 *
 *   Uninitialized -> Starting -> Running -> Stopping -> Stopped
 *   Starting -> StartFailed;  Running -> Crashed
 *   Crashed | StartFailed -> Restarting | Backoff | Failed | Stopped
 *   Backoff -> Restarting | Stopping | Failed;  Restarting -> Running | Crashed | StartFailed | Failed
 *   Stopped | Failed -> Starting (a parent restarting a whole subtree creates it anew)
 *
 * Any other transition is a bug in the runtime and throws {@link IllegalTransitionError}.
 */
import { IllegalTransitionError } from './errors.js';

export type LifecycleState =
  | 'Uninitialized'
  | 'Starting'
  | 'Running'
  | 'Stopping'
  | 'Stopped'
  | 'StartFailed'
  | 'Crashed'
  | 'Restarting'
  | 'Backoff'
  | 'Failed';

export const TRANSITIONS: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = {
  Uninitialized: ['Starting'],
  Starting: ['Running', 'StartFailed'],
  Running: ['Stopping', 'Crashed'],
  Stopping: ['Stopped'],
  Stopped: ['Starting'],
  StartFailed: ['Restarting', 'Backoff', 'Failed', 'Stopped'],
  Crashed: ['Restarting', 'Backoff', 'Failed', 'Stopped'],
  Backoff: ['Restarting', 'Stopping', 'Failed'],
  Restarting: ['Running', 'Crashed', 'StartFailed', 'Failed'],
  Failed: ['Starting'],
};

export function canTransition(from: LifecycleState, to: LifecycleState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** A state holder that enforces {@link TRANSITIONS} and tells listeners about every change. */
export class Lifecycle {
  private current: LifecycleState = 'Uninitialized';
  private readonly listeners: Array<(from: LifecycleState, to: LifecycleState) => void> = [];

  constructor(private readonly address: string) {}

  get state(): LifecycleState {
    return this.current;
  }

  is(...states: LifecycleState[]): boolean {
    return states.includes(this.current);
  }

  transition(to: LifecycleState): void {
    const from = this.current;
    if (!canTransition(from, to)) throw new IllegalTransitionError(this.address, from, to);
    this.current = to;
    for (const l of this.listeners) l(from, to);
  }

  onChange(listener: (from: LifecycleState, to: LifecycleState) => void): void {
    this.listeners.push(listener);
  }
}
