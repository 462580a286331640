/**
 * The registry: every live actor and supervisor by address, with its type, placement, health,
 * restart and message counts, and a dependency graph (cycles are refused).
 */
import type { SupervisedChild } from './child.js';
import type { Envelope } from './envelope.js';
import { DependencyCycleError } from './errors.js';
import type { LifecycleState } from './lifecycle.js';

export type Placement = 'in-thread' | 'worker' | 'supervisor';
export type Health = 'unknown' | 'healthy' | 'unhealthy';

export interface RegistryEntry {
  readonly id: string;
  readonly address: string;
  readonly placement: Placement;
  readonly child: SupervisedChild;
  /** Present for actors: hands an envelope to the actor's mailbox. */
  readonly deliver?: (env: Envelope) => Promise<void>;
  /** Address of the supervising parent (undefined for the root). */
  readonly parent: string | undefined;
}

export interface ActorInfo {
  id: string;
  address: string;
  type: string;
  placement: Placement;
  parent: string | undefined;
  state: LifecycleState;
  health: Health;
  restarts: number;
  messages: number;
  queued: number;
  dependsOn: string[];
}

export class Registry {
  private readonly entries = new Map<string, RegistryEntry>();
  private readonly health = new Map<string, Health>();
  private readonly deps = new Map<string, Set<string>>();
  /** Changes whenever an address is added or removed (lets senders cache lookups safely). */
  epoch = 0;

  register(entry: RegistryEntry): void {
    if (this.entries.has(entry.address)) throw new Error(`address ${entry.address} is already registered`);
    this.entries.set(entry.address, entry);
    this.epoch++;
  }

  unregister(address: string): void {
    if (this.entries.delete(address)) this.epoch++;
    this.health.delete(address);
    this.deps.delete(address);
    for (const set of this.deps.values()) set.delete(address);
  }

  get(address: string): RegistryEntry | undefined {
    return this.entries.get(address);
  }

  has(address: string): boolean {
    return this.entries.has(address);
  }

  addresses(): string[] {
    return [...this.entries.keys()];
  }

  setHealth(address: string, health: Health): void {
    if (this.entries.has(address)) this.health.set(address, health);
  }

  info(address: string): ActorInfo | undefined {
    const e = this.entries.get(address);
    if (!e) return undefined;
    return {
      id: e.id,
      address,
      type: e.child.type,
      placement: e.placement,
      parent: e.parent,
      state: e.child.lifecycle.state,
      health: this.health.get(address) ?? 'unknown',
      restarts: e.child.restarts,
      messages: e.child.processed,
      queued: e.child.load(),
      dependsOn: [...(this.deps.get(address) ?? [])],
    };
  }

  list(): ActorInfo[] {
    return this.addresses().map((a) => this.info(a)!);
  }

  /** Record that `from` depends on `to`. Throws DependencyCycleError (and records nothing) if that closes a cycle. */
  addDependency(from: string, to: string): void {
    const path = this.pathBetween(to, from);
    if (path) throw new DependencyCycleError([from, ...path]);
    let set = this.deps.get(from);
    if (!set) this.deps.set(from, (set = new Set()));
    set.add(to);
  }

  dependenciesOf(address: string): string[] {
    return [...(this.deps.get(address) ?? [])];
  }

  /** Everything that depends on `address`, directly or not. */
  dependentsOf(address: string): string[] {
    const out = new Set<string>();
    const visit = (target: string) => {
      for (const [from, tos] of this.deps)
        if (tos.has(target) && !out.has(from)) {
          out.add(from);
          visit(from);
        }
    };
    visit(address);
    return [...out];
  }

  /** All nodes of the dependency graph, each after everything it depends on. */
  dependencyOrder(): string[] {
    const order: string[] = [];
    const done = new Set<string>();
    const visit = (a: string) => {
      if (done.has(a)) return;
      done.add(a);
      for (const d of this.deps.get(a) ?? []) visit(d);
      order.push(a);
    };
    for (const a of this.deps.keys()) visit(a);
    return order;
  }

  /** A dependency path from `a` to `b` (inclusive), if any. */
  private pathBetween(a: string, b: string): string[] | undefined {
    if (a === b) return [a];
    const seen = new Set<string>();
    const dfs = (n: string): string[] | undefined => {
      if (n === b) return [n];
      if (seen.has(n)) return undefined;
      seen.add(n);
      for (const next of this.deps.get(n) ?? []) {
        const rest = dfs(next);
        if (rest) return [n, ...rest];
      }
      return undefined;
    };
    return dfs(a);
  }
}
