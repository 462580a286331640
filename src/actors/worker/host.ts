/**
 * The worker side of a worker-placed actor: receives envelopes in batches, runs the same actor
 * definition that would run in-thread (one message at a time, hooks included), and reports
 * progress, replies and crashes back in batches. Platform-neutral: it talks through a
 * {@link HostPort} (see src/platform/{node,browser}/worker.ts).
 */
import {
  asReplyError,
  type Actor,
  type ActorContext,
  type ActorDefinition,
  type AskOptions,
  type Message,
  type SendOptions,
} from '../actor.js';
import { macrotask, realClock } from '../clock.js';
import type { Envelope } from '../envelope.js';
import { deserializeError, serializeError } from '../errors.js';
import { MetricsRegistry } from '../metrics.js';
import { Fifo } from '../queue.js';
import { fromWire, type FromWorker, type HostPort, type ReplyRecord, type ToWorker } from './protocol.js';

/** Acknowledge at least this often, so the parent can keep the window full. */
const ACK_EVERY = 64;
/** Yield to the event loop (pings, new batches) at least this often. */
const YIELD_EVERY = 256;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** Serve the given actor definitions in this worker. The parent picks one by name at init. */
export function serveActors(port: HostPort, definitions: readonly ActorDefinition<any, any, any>[]): void {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  const queue = new Fifo<Envelope>();
  const pendingAsks = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const metrics = new MetricsRegistry();
  let instance: Actor<Message, unknown> | undefined;
  let ctx: ActorContext<Message, unknown> | undefined;
  let address = '';
  let current: Envelope | undefined;
  let draining = false;
  let crashed = false;
  let stopRequested = false;
  let doneCount = 0;
  let replies: ReplyRecord[] = [];
  let askSeq = 0;
  let idleWaiters: Array<() => void> = [];

  const post = (m: FromWorker) => port.post(m);

  const flush = () => {
    if (doneCount === 0 && replies.length === 0) return;
    const batch = { t: 'done' as const, n: doneCount, replies };
    doneCount = 0;
    replies = [];
    try {
      post(batch);
    } catch {
      // a reply value cannot be cloned: send what can be, and an error for the rest
      post({ t: 'done', n: batch.n, replies: [] });
      for (const r of batch.replies) {
        try {
          post({ t: 'done', n: 0, replies: [r] });
        } catch (err) {
          post({ t: 'done', n: 0, replies: [[r[0], false, serializeError(err)]] });
        }
      }
    }
  };

  const sendOut = (m: Extract<FromWorker, { t: 'send' }>) => {
    const env = current;
    if (env) m.cause = { messageId: env.messageId, traceId: env.traceId };
    post(m);
  };

  const makeContext = (args: unknown, actorAddress: string): ActorContext<Message, unknown> => ({
    address: actorAddress,
    self: {
      address: actorAddress,
      tell: (msg: Message, opts?: SendOptions) => {
        sendOut({ t: 'send', mode: 'tell', to: actorAddress, msg, ...(opts ? { opts } : {}) });
        return Promise.resolve();
      },
      ask: (msg: Message, opts?: AskOptions) => ask(actorAddress, msg, opts),
    } as ActorContext['self'],
    args,
    clock: realClock,
    metrics,
    get envelope() {
      return current as Envelope<Message> | undefined;
    },
    tell: (to, msg, opts) => {
      sendOut({ t: 'send', mode: 'tell', to, msg, ...(opts ? { opts } : {}) });
      return Promise.resolve();
    },
    ask: (to, msg, opts) => ask(to, msg, opts) as Promise<never>,
    publish: (topic, msg, opts) => sendOut({ t: 'send', mode: 'publish', to: topic, msg, ...(opts ? { opts } : {}) }),
    tellGroup: (group, msg, opts) => {
      sendOut({ t: 'send', mode: 'tell-group', to: group, msg, ...(opts ? { opts } : {}) });
      return Promise.resolve();
    },
    askGroup: (group, msg, opts) => ask(group, msg, opts, 'ask-group') as Promise<never>,
    stop: () => {
      stopRequested = true;
      if (!draining) void exit();
    },
  });

  const ask = (to: string, msg: Message, opts?: AskOptions, mode: 'ask' | 'ask-group' = 'ask'): Promise<unknown> => {
    const cid = `w${++askSeq}`;
    const p = new Promise((resolve, reject) => pendingAsks.set(cid, { resolve, reject }));
    sendOut({ t: 'send', mode, to, msg, cid, ...(opts ? { opts } : {}) });
    return p;
  };

  const exit = async () => {
    await instance?.preStop?.(ctx!);
    await instance?.stopped?.(ctx!);
    instance = undefined;
    post({ t: 'exited' });
  };

  const drain = async () => {
    if (draining || crashed || !instance) return;
    draining = true;
    let sinceYield = 0;
    try {
      while (!crashed && !stopRequested && instance) {
        const env = queue.shift();
        if (!env) break;
        current = env;
        let result: unknown;
        try {
          result = instance.handle(env.payload as Message, ctx!);
          if (isThenable(result)) result = await result;
        } catch (err) {
          current = undefined;
          crashed = true;
          const pendingReplies = replies;
          const n = doneCount;
          doneCount = 0;
          replies = [];
          post({ t: 'crash', n, replies: pendingReplies, culprit: true, error: serializeError(err) });
          return;
        }
        current = undefined;
        doneCount++;
        if (env.correlationId) {
          const replyErr = asReplyError(result);
          replies.push(
            replyErr ? [env.correlationId, false, serializeError(replyErr)] : [env.correlationId, true, result],
          );
        }
        if (doneCount >= ACK_EVERY) flush();
        if (++sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          flush();
          await macrotask();
        }
      }
      flush();
    } finally {
      draining = false;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
    if (stopRequested && instance) await exit();
  };

  const idle = () => (draining ? new Promise<void>((r) => idleWaiters.push(r)) : Promise.resolve());

  const init = async (m: Extract<ToWorker, { t: 'init' }>) => {
    const def = byName.get(m.actor);
    if (!def) {
      post({
        t: 'start-failed',
        error: serializeError(new Error(`this worker does not host an actor named ${m.actor}`)),
      });
      return;
    }
    try {
      address = m.address;
      ctx = makeContext(m.args, address);
      instance = def.create(m.args) as Actor<Message, unknown>;
      await instance.preStart?.(ctx);
      if (m.restart) await instance.postRestart?.(ctx, m.reason ? deserializeError(m.reason) : undefined);
    } catch (err) {
      instance = undefined;
      post({ t: 'start-failed', error: serializeError(err) });
      return;
    }
    post({ t: 'started' });
    try {
      await instance.started?.(ctx);
    } catch (err) {
      crashed = true;
      post({ t: 'crash', n: 0, replies: [], culprit: false, error: serializeError(err) });
      return;
    }
    void drain();
  };

  port.onMessage((m) => {
    switch (m.t) {
      case 'init':
        void init(m);
        return;
      case 'deliver':
        for (const w of m.envs) queue.push(fromWire(w));
        void drain();
        return;
      case 'ping':
        post({ t: 'pong', seq: m.seq });
        return;
      case 'health': {
        const inst = instance;
        const run = async () => (inst?.healthCheck ? (await inst.healthCheck(ctx!)) === true : true);
        run().then(
          (ok) => post({ t: 'health', seq: m.seq, ok }),
          () => post({ t: 'health', seq: m.seq, ok: false }),
        );
        return;
      }
      case 'reply': {
        const p = pendingAsks.get(m.cid);
        if (!p) return;
        pendingAsks.delete(m.cid);
        if (m.ok) p.resolve(m.value);
        else p.reject(deserializeError(m.value as never));
        return;
      }
      case 'stop':
        stopRequested = true;
        void (async () => {
          await idle();
          try {
            await instance?.preStop?.(ctx!);
            await instance?.stopped?.(ctx!);
          } finally {
            instance = undefined;
            post({ t: 'stopped' });
          }
        })();
        return;
    }
  });

  port.onUnhandled((reason) => {
    if (crashed) return;
    crashed = true;
    post({ t: 'crash', n: doneCount, replies, culprit: false, error: serializeError(reason) });
  });

  post({ t: 'ready' });
}
