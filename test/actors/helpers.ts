/** Helpers for runtime tests: an actor that logs its hooks and instances, and a system on the test clock. */
import {
  createActorSystem,
  createTestClock,
  defineActor,
  type ActorSystem,
  type SupervisionEvent,
  type SupervisorSpec,
  type TestClock,
} from '../../src/actors/index.js';

export type TrackedMsg =
  | { type: 'ping' }
  | { type: 'crash' }
  | { type: 'exit' }
  | { type: 'wait'; ms: number }
  | { type: 'instance' };

export interface TrackedArgs {
  name: string;
  log: string[];
  /** preStart throws while this returns true (called with the instance number). */
  failStart?: (instance: number) => boolean;
  /** preStop takes this long (virtual ms). */
  slowStopMs?: number;
  healthy?: () => boolean;
}

const counters = new Map<string, number>();

export const Tracked = defineActor<
  TrackedMsg,
  { ping: string; crash: never; exit: void; wait: void; instance: number },
  TrackedArgs
>({
  name: 'tracked',
  create(args) {
    const instance = (counters.get(args.name) ?? 0) + 1;
    counters.set(args.name, instance);
    const log = (s: string): void => void args.log.push(`${args.name}#${instance}:${s}`);
    return {
      preStart() {
        log('preStart');
        if (args.failStart?.(instance)) throw new Error(`${args.name} refuses to start`);
      },
      started: () => log('started'),
      preRestart: (_ctx, reason) => log(`preRestart(${(reason as Error)?.message ?? reason})`),
      postRestart: () => log('postRestart'),
      async preStop(ctx) {
        log('preStop');
        if (args.slowStopMs) await new Promise<void>((r) => ctx.clock.setTimer(r, args.slowStopMs!));
      },
      stopped: () => log('stopped'),
      healthCheck: () => args.healthy?.() ?? true,
      async handle(msg, ctx) {
        switch (msg.type) {
          case 'ping':
            return `${args.name}#${instance}`;
          case 'crash':
            throw new Error(`${args.name} crashed`);
          case 'exit':
            ctx.stop();
            return;
          case 'wait':
            await new Promise<void>((r) => ctx.clock.setTimer(r, msg.ms));
            return;
          case 'instance':
            return instance;
        }
      },
    };
  },
});

export function resetTracked(): void {
  counters.clear();
}

export interface TestSystem {
  sys: ActorSystem;
  clock: TestClock;
  log: string[];
  events: SupervisionEvent[];
}

export async function startSystem(root: SupervisorSpec, seed = 1): Promise<TestSystem> {
  resetTracked();
  const clock = createTestClock(seed);
  const sys = createActorSystem({ clock, random: clock.random, root, askTimeoutMs: 60_000 });
  const events: SupervisionEvent[] = [];
  sys.onEvent((e) => events.push(e));
  await sys.start();
  await clock.settle();
  return { sys, clock, log: [] as string[], events };
}

/** Ask an actor which instance (incarnation) it is. */
export async function instanceOf(t: TestSystem, address: string): Promise<number> {
  const p = t.sys.ref<typeof Tracked>(address).ask({ type: 'instance' });
  await t.clock.settle();
  return p;
}
