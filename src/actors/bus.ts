/**
 * The message bus: direct sends by address, broadcast topics with per-subscription filters, and
 * load-balanced groups (round-robin or least-loaded). Undeliverable messages go to dead letters.
 */
import type { Message } from './actor.js';
import type { Envelope } from './envelope.js';

export type GroupStrategy = 'round-robin' | 'least-loaded';

export interface Subscription {
  topic: string;
  address: string;
  filter?: (msg: Message, env: Envelope) => boolean;
}

/** What the bus needs from the system. */
export interface BusRouter {
  exists(address: string): boolean;
  load(address: string): number;
}

interface Group {
  strategy: GroupStrategy;
  members: string[];
  next: number;
}

export class Bus {
  private readonly topics = new Map<string, Subscription[]>();
  private readonly groups = new Map<string, Group>();

  constructor(private readonly router: BusRouter) {}

  /** Subscribe `address` to `topic`; returns the unsubscribe function. */
  subscribe(topic: string, address: string, filter?: (msg: Message, env: Envelope) => boolean): () => void {
    const sub: Subscription = filter ? { topic, address, filter } : { topic, address };
    const list = this.topics.get(topic) ?? [];
    list.push(sub);
    this.topics.set(topic, list);
    return () => {
      const l = this.topics.get(topic);
      if (!l) return;
      const i = l.indexOf(sub);
      if (i >= 0) l.splice(i, 1);
      if (l.length === 0) this.topics.delete(topic);
    };
  }

  subscribers(topic: string): readonly Subscription[] {
    return this.topics.get(topic) ?? [];
  }

  /** Join (creating if needed) a load-balanced group. The strategy is fixed by the first join. */
  join(group: string, address: string, strategy: GroupStrategy = 'round-robin'): () => void {
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = { strategy, members: [], next: 0 }));
    if (!g.members.includes(address)) g.members.push(address);
    return () => this.leave(group, address);
  }

  leave(group: string, address: string): void {
    const g = this.groups.get(group);
    if (!g) return;
    g.members = g.members.filter((m) => m !== address);
    if (g.members.length === 0) this.groups.delete(group);
  }

  members(group: string): readonly string[] {
    return this.groups.get(group)?.members ?? [];
  }

  /** Pick the member that gets the next message of `group`, or undefined if none is registered. */
  pick(group: string): string | undefined {
    const g = this.groups.get(group);
    if (!g) return undefined;
    const live = g.members.filter((m) => this.router.exists(m));
    if (live.length === 0) return undefined;
    if (g.strategy === 'round-robin') {
      const m = live[g.next % live.length]!;
      g.next = (g.next + 1) % Math.max(1, live.length);
      return m;
    }
    // least-loaded: smallest queue; ties go round-robin so equal members share the work
    let best: string | undefined;
    let bestLoad = Infinity;
    for (let i = 0; i < live.length; i++) {
      const m = live[(g.next + i) % live.length]!;
      const load = this.router.load(m);
      if (load < bestLoad) {
        best = m;
        bestLoad = load;
      }
    }
    g.next = (g.next + 1) % live.length;
    return best;
  }
}
