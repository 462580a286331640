import { describe, expect, it } from 'vitest';
import {
  ActorStoppedError,
  AskTimeoutError,
  createActorSystem,
  createTestClock,
  defineActor,
  NoRouteError,
  type Envelope,
  type Message,
} from '../../src/actors/index.js';

type Msg =
  | { type: 'note'; text: string }
  | { type: 'forward'; to: string; text: string }
  | { type: 'seen' }
  | { type: 'sleep'; ms: number };

/** Records every envelope it gets; `forward` re-sends from inside the handler. */
const Recorder = defineActor<Msg, { note: void; forward: void; seen: Envelope[]; sleep: void }, { seen: Envelope[] }>({
  name: 'recorder',
  create: ({ seen }) => ({
    async handle(msg, ctx) {
      seen.push(ctx.envelope as Envelope);
      if (msg.type === 'forward') await ctx.tell(msg.to, { type: 'note', text: msg.text }, { priority: 'high' });
      if (msg.type === 'seen') return seen;
      if (msg.type === 'sleep') await new Promise<void>((r) => ctx.clock.setTimer(r, msg.ms));
    },
  }),
});

async function setup(children: string[] = ['a', 'b', 'c']) {
  const clock = createTestClock(3);
  const seen: Record<string, Envelope[]> = {};
  const sys = createActorSystem({
    clock,
    random: clock.random,
    askTimeoutMs: 1000,
    root: {
      strategy: 'one-for-one',
      children: children.map((id) => ({ id, actor: Recorder, args: { seen: (seen[id] = []) } })),
    },
  });
  await sys.start();
  return { sys, clock, seen };
}

describe('envelopes', () => {
  it('carry ids, routing, priority, timestamps, attempt; sends from a handler inherit trace and causation', async () => {
    const { sys, clock, seen } = await setup();
    await clock.advance(50);
    await sys.ref('/system/a').tell({ type: 'forward', to: '/system/b', text: 'hi' } as Message);
    await clock.settle();
    const [first] = seen.a!;
    const [second] = seen.b!;
    expect(first).toMatchObject({
      routing: { kind: 'direct', to: '/system/a' },
      priority: 'normal',
      createdAt: 50,
      enqueuedAt: 50,
      attempt: 1,
    });
    expect(first!.from).toBeUndefined();
    expect(first!.correlationId).toBeUndefined();
    expect(second).toMatchObject({
      routing: { kind: 'direct', to: '/system/b' },
      priority: 'high',
      from: '/system/a',
      causationId: first!.messageId,
      traceId: first!.traceId,
      payload: { type: 'note', text: 'hi' },
    });
    expect(second!.messageId).not.toBe(first!.messageId);
    const reply = sys.ref('/system/c').ask({ type: 'seen' } as Message);
    await clock.settle();
    const envs = (await reply) as Envelope[];
    expect(envs[0]!.correlationId).toBe(envs[0]!.messageId);
    await sys.shutdown();
  });
});

describe('ask', () => {
  it('times out with AskTimeoutError on the system clock', async () => {
    const { sys, clock } = await setup();
    const p = sys.ref('/system/a').ask({ type: 'sleep', ms: 5000 } as Message, { timeoutMs: 300 });
    p.catch(() => {});
    await clock.advance(299);
    expect(sys.pendingAsks).toBe(1);
    await clock.advance(1);
    await expect(p).rejects.toBeInstanceOf(AskTimeoutError);
    await expect(p).rejects.toThrow('ask to /system/a timed out after 300 ms');
    expect(sys.pendingAsks).toBe(0);
    await clock.runUntilIdle();
    await sys.shutdown();
  });

  it('to an unknown address rejects with NoRouteError and leaves a dead letter', async () => {
    const { sys } = await setup();
    await expect(sys.ref('/system/nobody').ask({ type: 'seen' } as Message)).rejects.toBeInstanceOf(NoRouteError);
    await expect(sys.ref('/system/nobody').tell({ type: 'seen' } as Message)).rejects.toBeInstanceOf(NoRouteError);
    expect(sys.deadLetters.list().map((d) => [d.reason, d.target])).toEqual([
      ['no-route', '/system/nobody'],
      ['no-route', '/system/nobody'],
    ]);
    await sys.shutdown();
  });

  it('pending asks reject with ActorStoppedError on shutdown; nothing is left behind', async () => {
    const { sys, clock } = await setup();
    const p = sys.ref('/system/a').ask({ type: 'sleep', ms: 100 } as Message, { timeoutMs: 10_000 });
    const q = sys.ref('/system/a').ask({ type: 'seen' } as Message, { timeoutMs: 10_000 });
    p.catch(() => {});
    q.catch(() => {});
    await clock.settle();
    const done = sys.shutdown({ timeoutMs: 50 });
    await clock.advance(50);
    await done;
    await expect(p).rejects.toBeInstanceOf(ActorStoppedError);
    await expect(q).rejects.toBeInstanceOf(ActorStoppedError);
    expect(sys.pendingAsks).toBe(0);
    await clock.runUntilIdle();
    expect(clock.pendingTimers()).toBe(0);
    expect(await sys.terminated).toEqual({ reason: 'shutdown' });
  });
});

describe('bus', () => {
  it('broadcasts to every topic subscriber whose filter accepts the message', async () => {
    const { sys, clock, seen } = await setup();
    sys.subscribe('blocks', '/system/a');
    sys.subscribe('blocks', '/system/b', (m) => (m as { text?: string }).text !== 'skip');
    const off = sys.subscribe('blocks', '/system/c');
    off();
    sys.publish('blocks', { type: 'note', text: 'one' }, undefined, {});
    sys.publish('blocks', { type: 'note', text: 'skip' }, undefined, {});
    await clock.settle();
    const texts = (id: string) => seen[id]!.map((e) => (e.payload as { text: string }).text);
    expect(texts('a')).toEqual(['one', 'skip']);
    expect(texts('b')).toEqual(['one']);
    expect(texts('c')).toEqual([]);
    expect(seen.a![0]!.routing).toEqual({ kind: 'topic', topic: 'blocks' });
    sys.publish('nobody-listens', { type: 'note', text: 'x' }, undefined, {});
    expect(sys.deadLetters.list().at(-1)).toMatchObject({ reason: 'no-route', target: 'topic nobody-listens' });
    await sys.shutdown();
  });

  it('round-robin groups spread messages evenly', async () => {
    const { sys, clock, seen } = await setup();
    for (const id of ['a', 'b', 'c']) sys.joinGroup('verifiers', `/system/${id}`, 'round-robin');
    for (let i = 0; i < 9; i++) await sys.tellGroup('verifiers', { type: 'note', text: String(i) });
    await clock.settle();
    expect(['a', 'b', 'c'].map((id) => seen[id]!.length)).toEqual([3, 3, 3]);
    expect(seen.a!.map((e) => (e.payload as { text: string }).text)).toEqual(['0', '3', '6']);
    expect(seen.b![0]!.routing).toEqual({ kind: 'group', group: 'verifiers', to: '/system/b' });
    await sys.shutdown();
  });

  it('least-loaded groups pick the member with the shortest queue', async () => {
    const { sys, clock, seen } = await setup();
    for (const id of ['a', 'b']) sys.joinGroup('g', `/system/${id}`, 'least-loaded');
    // a is busy sleeping with 3 queued messages; b is idle
    void sys.ref('/system/a').tell({ type: 'sleep', ms: 1000 } as Message);
    for (let i = 0; i < 3; i++) void sys.ref('/system/a').tell({ type: 'note', text: 'q' } as Message);
    await clock.settle();
    for (let i = 0; i < 3; i++) await sys.tellGroup('g', { type: 'note', text: `g${i}` });
    await clock.settle();
    expect(seen.b!.map((e) => (e.payload as { text: string }).text)).toEqual(['g0', 'g1', 'g2']);
    await clock.advance(1000);
    await sys.shutdown();
  });

  it('handlers reach groups through ctx.askGroup / ctx.tellGroup, with causation', async () => {
    const clock = createTestClock(5);
    const seen: Envelope[] = [];
    const Asker = defineActor<{ type: 'fan'; n: number } | { type: 'ask' }, { fan: void; ask: unknown }, void>({
      name: 'asker',
      create: () => ({
        async handle(msg, ctx) {
          if (msg.type === 'fan')
            for (let i = 0; i < msg.n; i++) await ctx.tellGroup('g', { type: 'note', text: `n${i}` });
          else return ctx.askGroup<Envelope[]>('g', { type: 'seen' });
        },
      }),
    });
    const sys = createActorSystem({
      clock,
      random: clock.random,
      root: {
        strategy: 'one-for-one',
        children: [
          { id: 'r', actor: Recorder, args: { seen } },
          { id: 'asker', actor: Asker },
        ],
      },
    });
    await sys.start();
    sys.joinGroup('g', '/system/r', 'round-robin');
    const asker = sys.ref<typeof Asker>('/system/asker');
    await asker.tell({ type: 'fan', n: 3 });
    await clock.settle();
    const list = (await asker.ask({ type: 'ask' })) as Envelope[];
    expect(list.map((e) => (e.payload as { type: string }).type)).toEqual(['note', 'note', 'note', 'seen']);
    expect(list[0]).toMatchObject({ from: '/system/asker', routing: { kind: 'group', group: 'g', to: '/system/r' } });
    expect(list[3]!.causationId).toBeDefined();
    await sys.shutdown();
  });

  it('a group with no members dead-letters and rejects', async () => {
    const { sys } = await setup();
    await expect(sys.tellGroup('empty', { type: 'note', text: 'x' })).rejects.toBeInstanceOf(NoRouteError);
    await expect(sys.askGroup('empty', { type: 'seen' })).rejects.toBeInstanceOf(NoRouteError);
    expect(sys.deadLetters.list().at(-1)).toMatchObject({ reason: 'no-route', target: 'group empty' });
    await sys.shutdown();
  });
});

describe('runtime metrics', () => {
  it('exposes processed counts, mailbox depth, restarts, state and dead letters in Prometheus text', async () => {
    const { sys, clock } = await setup(['a']);
    for (let i = 0; i < 3; i++) void sys.ref('/system/a').tell({ type: 'note', text: 'x' } as Message);
    await clock.settle();
    await sys
      .ref('/system/zz')
      .tell({ type: 'note' } as Message)
      .catch(() => {});
    const text = sys.metrics.render();
    expect(text).toContain('actor_messages_processed_total{address="/system/a",type="recorder"} 3');
    expect(text).toContain('actor_mailbox_depth{address="/system/a"} 0');
    expect(text).toContain('actor_up{address="/system/a",state="Running"} 1');
    expect(text).toContain('actor_restarts_total{address="/system/a"} 0');
    expect(text).toContain('actor_dead_letters_total{reason="no-route"} 1');
    await sys.shutdown();
  });
});
