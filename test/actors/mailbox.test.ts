import { describe, expect, it } from 'vitest';
import {
  ActorStoppedError,
  createTestClock,
  DeadLetterQueue,
  Mailbox,
  MailboxFullError,
  MailboxTimeoutError,
  type Envelope,
  type MailboxOptions,
  type Priority,
} from '../../src/actors/index.js';

function setup(opts: MailboxOptions) {
  const clock = createTestClock(7);
  const deadLetters = new DeadLetterQueue();
  const rejectedAsks: Array<[number, Error]> = [];
  const mb = new Mailbox(
    {
      address: '/t',
      clock,
      deadLetters,
      onEnqueued() {},
      rejectAsk: (env, e) => rejectedAsks.push([env.correlationId!, e]),
    },
    opts,
  );
  let n = 0;
  const env = (payload: unknown, extra: Partial<Envelope> = {}): Envelope => ({
    messageId: ++n,
    traceId: 1,
    spanId: n,
    routing: { kind: 'direct', to: '/t' },
    priority: 'normal',
    createdAt: 0,
    attempt: 1,
    payload,
    ...extra,
  });
  const drain = () => {
    const out: unknown[] = [];
    for (let e = mb.shift(); e; e = mb.shift()) out.push(e.payload);
    return out;
  };
  return { clock, deadLetters, mb, env, drain, rejectedAsks };
}

describe('mailbox', () => {
  it('serves lanes strictly by priority, FIFO within a lane', () => {
    const { mb, env, drain } = setup({ capacity: 100, overflow: 'fail' });
    const order: Array<[string, Priority]> = [
      ['l1', 'low'],
      ['n1', 'normal'],
      ['s1', 'system'],
      ['h1', 'high'],
      ['n2', 'normal'],
      ['l2', 'low'],
      ['s2', 'system'],
      ['h2', 'high'],
    ];
    for (const [p, pr] of order) void mb.offer(env(p, { priority: pr }));
    expect(drain()).toEqual(['s1', 's2', 'h1', 'h2', 'n1', 'n2', 'l1', 'l2']);
  });

  it('fail: refuses with MailboxFullError, dead-letters, rejects the asker, never exceeds capacity', async () => {
    const { mb, env, deadLetters, rejectedAsks } = setup({ capacity: 2, overflow: 'fail' });
    await mb.offer(env(1));
    await mb.offer(env(2));
    await expect(mb.offer(env(3))).rejects.toBeInstanceOf(MailboxFullError);
    await expect(mb.offer(env(4, { correlationId: 404 }))).rejects.toThrow(/capacity 2, policy fail/);
    expect(mb.size).toBe(2);
    expect(deadLetters.list().map((d) => [d.envelope.payload, d.reason])).toEqual([
      [3, 'mailbox-full'],
      [4, 'mailbox-full'],
    ]);
    expect(rejectedAsks.map(([c]) => c)).toEqual([404]);
    expect(mb.stats).toMatchObject({ enqueued: 2, dropped: 2, maxDepth: 2 });
  });

  it('dropNewest: the incoming message is dropped', async () => {
    const { mb, env, drain, deadLetters } = setup({ capacity: 2, overflow: 'dropNewest' });
    for (const p of [1, 2, 3]) await mb.offer(env(p)).catch(() => {});
    expect(drain()).toEqual([1, 2]);
    expect(deadLetters.list().map((d) => d.envelope.payload)).toEqual([3]);
  });

  it('dropOldest: evicts the oldest of the lowest lane not above the newcomer', async () => {
    const { mb, env, drain, deadLetters, rejectedAsks } = setup({ capacity: 3, overflow: 'dropOldest' });
    await mb.offer(env('h1', { priority: 'high' }));
    await mb.offer(env('n1', { correlationId: 101 }));
    await mb.offer(env('n2'));
    await mb.offer(env('n3')); // evicts n1 (oldest normal)
    await mb.offer(env('h2', { priority: 'high' })); // evicts n2: a lower lane goes first
    await expect(mb.offer(env('l1', { priority: 'low' }))).rejects.toBeInstanceOf(MailboxFullError); // everything outranks it
    expect(deadLetters.list().map((d) => [d.envelope.payload, d.reason])).toEqual([
      ['n1', 'mailbox-evicted'],
      ['n2', 'mailbox-evicted'],
      ['l1', 'mailbox-full'],
    ]);
    expect(rejectedAsks.map(([c]) => c)).toEqual([101]);
    expect(drain()).toEqual(['h1', 'h2', 'n3']);
  });

  it('block: senders wait in FIFO order for space, and time out with MailboxTimeoutError', async () => {
    const { mb, env, drain, clock, deadLetters } = setup({ capacity: 1, overflow: { kind: 'block', timeoutMs: 100 } });
    await mb.offer(env('a'));
    const settled: string[] = [];
    const pb = mb.offer(env('b'));
    const pc = mb.offer(env('c'));
    void pb.then(() => settled.push('b'));
    pc.then(
      () => settled.push('c'),
      () => {},
    );
    expect(mb.size).toBe(1);
    expect(mb.waiting).toBe(2);
    expect(mb.shift()?.payload).toBe('a'); // frees one slot: b enters, c keeps waiting
    await clock.settle();
    expect(settled).toEqual(['b']);
    expect(mb.size).toBe(1);
    await clock.advance(100);
    await expect(pc).rejects.toBeInstanceOf(MailboxTimeoutError);
    expect(deadLetters.list().map((d) => [d.envelope.payload, d.reason])).toEqual([['c', 'mailbox-timeout']]);
    expect(drain()).toEqual(['b']);
    await pb;
  });

  it('block: a new sender cannot overtake waiting ones even when space appears', async () => {
    const { mb, env, drain } = setup({ capacity: 1, overflow: { kind: 'block', timeoutMs: 1000 } });
    await mb.offer(env('a'));
    const pb = mb.offer(env('b'));
    mb.shift();
    const pc = mb.offer(env('c'));
    await pb;
    mb.shift();
    await pc;
    expect(drain()).toEqual(['c']);
  });

  it('backoff: retries with growing delays, counts attempts, keeps per-sender order, gives up with MailboxFullError', async () => {
    const { mb, env, clock, deadLetters } = setup({
      capacity: 1,
      overflow: { kind: 'backoff', initialMs: 10, multiplier: 2, maxMs: 1000, maxAttempts: 3 },
    });
    await mb.offer(env('a'));
    const b = env('b', { from: '/s' });
    const pb = mb.offer(b);
    const pc = mb.offer(env('c', { from: '/s' }));
    await clock.advance(10); // retry 1 fails (still full): attempt 2, next delay 20
    expect(b.attempt).toBe(2);
    await clock.advance(20); // retry 2 fails: attempt 3, next delay 40
    expect(b.attempt).toBe(3);
    await clock.advance(40); // retry 3 fails: attempt 4 > 3, gives up; c is tried at once and fails too
    await expect(pb).rejects.toBeInstanceOf(MailboxFullError);
    expect(deadLetters.list().map((d) => [d.envelope.payload, d.reason])).toEqual([['b', 'backoff-exhausted']]);
    expect(mb.shift()?.payload).toBe('a');
    await clock.advance(1000);
    await pc;
    expect(mb.shift()?.payload).toBe('c');
  });

  it('backoff: a message waiting for space is admitted on a retry once there is room', async () => {
    const { mb, env, clock } = setup({ capacity: 1, overflow: 'backoff' });
    await mb.offer(env('a'));
    const pb = mb.offer(env('b'));
    mb.shift();
    await clock.advance(10);
    await pb;
    expect(mb.shift()?.payload).toBe('b');
  });

  it('close: queued and waiting messages become dead letters; later offers are refused', async () => {
    const { mb, env, deadLetters, rejectedAsks } = setup({ capacity: 1, overflow: { kind: 'block', timeoutMs: 1000 } });
    await mb.offer(env('a', { correlationId: 77 }));
    const pb = mb.offer(env('b'));
    mb.close('Stopped', 'actor-stopped');
    await expect(pb).rejects.toBeInstanceOf(ActorStoppedError);
    await expect(mb.offer(env('c'))).rejects.toThrow(/is Stopped and accepts no messages/);
    expect(deadLetters.list().map((d) => [d.envelope.payload, d.reason])).toEqual([
      ['a', 'actor-stopped'],
      ['b', 'actor-stopped'],
      ['c', 'actor-stopped'],
    ]);
    expect(rejectedAsks.map(([c]) => c)).toEqual([77]);
    expect(mb.size).toBe(0);
    mb.reopen();
    await mb.offer(env('d'));
    expect(mb.size).toBe(1);
  });

  it('stamps enqueuedAt: the creation time when admitted at once, the clock when admitted later', async () => {
    const { mb, env, clock } = setup({ capacity: 1, overflow: { kind: 'block', timeoutMs: 1000 } });
    const a = env('a', { createdAt: 10 });
    await mb.offer(a);
    expect(a.enqueuedAt).toBe(10);
    const b = env('b', { createdAt: 20 });
    const pb = mb.offer(b);
    await clock.advance(123);
    mb.shift();
    await pb;
    expect(b.enqueuedAt).toBe(123);
    expect(mb.stats).toEqual({ enqueued: 2, dequeued: 1, dropped: 0, maxDepth: 1 });
  });

  it('refuses a non-positive capacity', () => {
    expect(() => setup({ capacity: 0, overflow: 'fail' })).toThrow(/positive integer/);
  });
});
