/**
 * The worker side of a worker-placed actor: receives envelopes in batches, runs the same actor
 * definition that would run in-thread (one message at a time, hooks included), and reports
 * progress, replies and crashes back in batches. Platform-neutral: it talks through a
 * {@link HostPort} (see src/platform/{nodejs,browser}/worker.ts).
 *
 * {@link serveActors} wires a port to a {@link WorkerHost} (the actor instance, its queue and its
 * lifecycle) and routes each parent message to it; {@link createDoneBatch} batches acknowledgements
 * and replies; {@link createOutbound} carries the actor's own tells and asks to the parent;
 * {@link createWorkerContext} is the `ctx` the actor's handler and hooks get.
 */
import {
  asReplyError,
  type Actor,
  type ActorContext,
  type ActorDefinition,
  type AnyActorDefinition,
  type AskOptions,
  type Message,
  type SendOptions,
} from '../actor.js';
import { macrotask, realClock } from '../clock.js';
import type { Envelope } from '../envelope.js';
import { deserializeError, serializeError } from '../errors.js';
import { MetricsRegistry } from '../metrics.js';
import { Fifo } from '../queue.js';
import {
  fromWire,
  type FromWorker,
  type HostPort,
  type ReplyRecord,
  type ToWorker,
  type WireEnvelope,
} from './protocol.js';

/** Acknowledge at least this often, so the parent can keep the window full. */
const ACK_EVERY = 64;
/** Yield to the event loop (pings, new batches) at least this often. */
const YIELD_EVERY = 256;

type Post = (m: FromWorker) => void;
type SendMessage = Extract<FromWorker, { t: 'send' }>;
type InitMessage = Extract<ToWorker, { t: 'init' }>;
type ReplyMessage = Extract<ToWorker, { t: 'reply' }>;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** Serve the given actor definitions in this worker. The parent picks one by name at init. */
export function serveActors(port: HostPort, definitions: readonly AnyActorDefinition[]): void {
  const host = new WorkerHost((m) => port.post(m), definitions);
  port.onMessage((m) => handleParentMessage(host, m));
  port.onUnhandled((reason) => host.crashUnhandled(reason));
  host.post({ t: 'ready' });
}

/** One message from the parent: lifecycle (init, stop), envelopes, heartbeats, replies to the actor's asks. */
function handleParentMessage(host: WorkerHost, m: ToWorker): void {
  switch (m.t) {
    case 'init':
      void host.init(m);
      return;
    case 'deliver':
      host.deliver(m.envs);
      return;
    case 'ping':
      host.post({ t: 'pong', seq: m.seq });
      return;
    case 'health':
      host.answerHealthCheck(m.seq);
      return;
    case 'reply':
      host.outbound.settle(m);
      return;
    case 'stop':
      host.stop();
      return;
  }
}

/** Handled envelopes and ask replies not yet reported to the parent, sent together as one `done`. */
interface DoneBatch {
  /** Envelopes handled since the last report. */
  readonly count: number;
  /** One more envelope handled; an ask's result (or `replyError`) becomes its reply. */
  handled(env: Envelope, result: unknown): void;
  /** Send what is pending as one `done` (nothing when nothing is pending). */
  flush(): void;
  /** What is pending, left in place. */
  pending(): { n: number; replies: ReplyRecord[] };
  /** What is pending, taken out (for a crash report that carries it). */
  take(): { n: number; replies: ReplyRecord[] };
}

function createDoneBatch(post: Post): DoneBatch {
  let count = 0;
  let replies: ReplyRecord[] = [];
  const take = () => {
    const out = { n: count, replies };
    count = 0;
    replies = [];
    return out;
  };
  return {
    get count() {
      return count;
    },
    handled(env, result) {
      count++;
      if (!env.correlationId) return;
      const replyErr = asReplyError(result);
      replies.push(replyErr ? [env.correlationId, false, serializeError(replyErr)] : [env.correlationId, true, result]);
    },
    flush() {
      if (count === 0 && replies.length === 0) return;
      const { n, replies: batch } = take();
      try {
        post({ t: 'done', n, replies: batch });
      } catch {
        // a reply value cannot be cloned: send what can be, and an error for the rest
        post({ t: 'done', n, replies: [] });
        for (const r of batch) {
          try {
            post({ t: 'done', n: 0, replies: [r] });
          } catch (err) {
            post({ t: 'done', n: 0, replies: [[r[0], false, serializeError(err)]] });
          }
        }
      }
    },
    pending: () => ({ n: count, replies }),
    take,
  };
}

/** The actor's own sends, through the parent's system, and its asks waiting for the parent's reply. */
interface Outbound {
  /** Post a send, caused by the envelope being handled (if any). */
  send(m: SendMessage): void;
  ask(to: string, msg: Message, opts?: AskOptions, mode?: 'ask' | 'ask-group'): Promise<unknown>;
  /** The parent's answer to one of our asks. */
  settle(m: ReplyMessage): void;
}

function createOutbound(post: Post, currentEnvelope: () => Envelope | undefined): Outbound {
  const pendingAsks = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let askSeq = 0;
  const send = (m: SendMessage) => {
    const env = currentEnvelope();
    if (env) m.cause = { messageId: env.messageId, traceId: env.traceId };
    post(m);
  };
  return {
    send,
    ask(to, msg, opts, mode = 'ask') {
      const cid = `w${++askSeq}`;
      const p = new Promise((resolve, reject) => pendingAsks.set(cid, { resolve, reject }));
      send({ t: 'send', mode, to, msg, cid, ...(opts ? { opts } : {}) });
      return p;
    },
    settle(m) {
      const p = pendingAsks.get(m.cid);
      if (!p) return;
      pendingAsks.delete(m.cid);
      if (m.ok) p.resolve(m.value);
      else p.reject(deserializeError(m.value as never));
    },
  };
}

/** What a worker-hosted actor's `ctx` needs from its host. */
interface WorkerContextDeps {
  readonly args: unknown;
  readonly address: string;
  readonly outbound: Outbound;
  readonly metrics: MetricsRegistry;
  /** The envelope being handled, if any. */
  currentEnvelope(): Envelope | undefined;
  /** `ctx.stop()`: exit after the current message. */
  requestExit(): void;
}

/** The `ctx` of a worker-hosted actor: every send goes to the parent's system as a `send` message. */
function createWorkerContext(deps: WorkerContextDeps): ActorContext<Message, unknown> {
  const { address, outbound } = deps;
  const withOpts = (opts: SendOptions | AskOptions | undefined) => (opts ? { opts } : {});
  return {
    address,
    self: {
      address,
      tell: (msg: Message, opts?: SendOptions) => {
        outbound.send({ t: 'send', mode: 'tell', to: address, msg, ...withOpts(opts) });
        return Promise.resolve();
      },
      ask: (msg: Message, opts?: AskOptions) => outbound.ask(address, msg, opts),
    } as ActorContext['self'],
    args: deps.args,
    clock: realClock,
    metrics: deps.metrics,
    get envelope() {
      return deps.currentEnvelope() as Envelope<Message> | undefined;
    },
    tell: (to, msg, opts) => {
      outbound.send({ t: 'send', mode: 'tell', to, msg, ...withOpts(opts) });
      return Promise.resolve();
    },
    ask: (to, msg, opts) => outbound.ask(to, msg, opts) as Promise<never>,
    publish: (topic, msg, opts) => outbound.send({ t: 'send', mode: 'publish', to: topic, msg, ...withOpts(opts) }),
    tellGroup: (group, msg, opts) => {
      outbound.send({ t: 'send', mode: 'tell-group', to: group, msg, ...withOpts(opts) });
      return Promise.resolve();
    },
    askGroup: (group, msg, opts) => outbound.ask(group, msg, opts, 'ask-group') as Promise<never>,
    stop: deps.requestExit,
  };
}

/**
 * One hosted actor: its instance and lifecycle (init, stop, exit, crash), and the queue it drains one
 * envelope at a time, acknowledging in batches.
 */
class WorkerHost {
  readonly outbound: Outbound;
  private readonly byName: Map<string, ActorDefinition>;
  private readonly queue = new Fifo<Envelope>();
  private readonly metrics = new MetricsRegistry();
  private readonly done: DoneBatch;
  private instance: Actor<Message, unknown> | undefined;
  private ctx: ActorContext<Message, unknown> | undefined;
  private current: Envelope | undefined;
  private draining = false;
  private crashed = false;
  private stopRequested = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly post: Post,
    definitions: readonly ActorDefinition[],
  ) {
    this.byName = new Map(definitions.map((d) => [d.name, d]));
    this.done = createDoneBatch(post);
    this.outbound = createOutbound(post, () => this.current);
  }

  /** Create the named actor and run `preStart` (and `postRestart`), then `started`, then drain. */
  async init(m: InitMessage): Promise<void> {
    const def = this.byName.get(m.actor);
    if (!def) {
      this.post({
        t: 'start-failed',
        error: serializeError(new Error(`this worker does not host an actor named ${m.actor}`)),
      });
      return;
    }
    try {
      this.ctx = createWorkerContext({
        args: m.args,
        address: m.address,
        outbound: this.outbound,
        metrics: this.metrics,
        currentEnvelope: () => this.current,
        requestExit: () => this.requestExit(),
      });
      this.instance = def.create(m.args) as Actor<Message, unknown>;
      await this.instance.preStart?.(this.ctx);
      if (m.restart) await this.instance.postRestart?.(this.ctx, m.reason ? deserializeError(m.reason) : undefined);
    } catch (err) {
      this.instance = undefined;
      this.post({ t: 'start-failed', error: serializeError(err) });
      return;
    }
    this.post({ t: 'started' });
    try {
      await this.instance.started?.(this.ctx);
    } catch (err) {
      this.crashed = true;
      this.post({ t: 'crash', n: 0, replies: [], culprit: false, error: serializeError(err) });
      return;
    }
    void this.drain();
  }

  deliver(envs: readonly WireEnvelope[]): void {
    for (const w of envs) this.queue.push(fromWire(w));
    void this.drain();
  }

  /** Handle queued envelopes one at a time until the queue is empty, the actor crashes or a stop is asked. */
  private async drain(): Promise<void> {
    if (this.draining || this.crashed || !this.instance) return;
    this.draining = true;
    let sinceYield = 0;
    try {
      while (!this.crashed && !this.stopRequested && this.instance) {
        const env = this.queue.shift();
        if (!env) break;
        this.current = env;
        let result: unknown;
        try {
          result = this.instance.handle(env.payload as Message, this.ctx!);
          if (isThenable(result)) result = await result;
        } catch (err) {
          this.current = undefined;
          this.crashed = true;
          const { n, replies } = this.done.take();
          this.post({ t: 'crash', n, replies, culprit: true, error: serializeError(err) });
          return;
        }
        this.current = undefined;
        this.done.handled(env, result);
        if (this.done.count >= ACK_EVERY) this.done.flush();
        if (++sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          this.done.flush();
          await macrotask();
        }
      }
      this.done.flush();
    } finally {
      this.draining = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    if (this.stopRequested && this.instance) await this.exit();
  }

  private idle(): Promise<void> {
    return this.draining ? new Promise<void>((r) => this.idleWaiters.push(r)) : Promise.resolve();
  }

  /** `ctx.stop()`: exit now if idle, else once the current drain ends. */
  private requestExit(): void {
    this.stopRequested = true;
    if (!this.draining) void this.exit();
  }

  /** The actor stopped itself: run its stop hooks and tell the parent (`exited`). */
  private async exit(): Promise<void> {
    await this.instance?.preStop?.(this.ctx!);
    await this.instance?.stopped?.(this.ctx!);
    this.instance = undefined;
    this.post({ t: 'exited' });
  }

  /** The parent stops the actor: after the current message, run its stop hooks, then `stopped`. */
  stop(): void {
    this.stopRequested = true;
    void this.stopWhenIdle();
  }

  private async stopWhenIdle(): Promise<void> {
    await this.idle();
    try {
      await this.instance?.preStop?.(this.ctx!);
      await this.instance?.stopped?.(this.ctx!);
    } finally {
      this.instance = undefined;
      this.post({ t: 'stopped' });
    }
  }

  /** Heartbeat: the actor's own `healthCheck` (healthy when it has none). */
  answerHealthCheck(seq: number): void {
    const inst = this.instance;
    const run = async () => (inst?.healthCheck ? (await inst.healthCheck(this.ctx!)) === true : true);
    run().then(
      (ok) => this.post({ t: 'health', seq, ok }),
      () => this.post({ t: 'health', seq, ok: false }),
    );
  }

  /** An unhandled rejection in the worker: a crash, reported with the acknowledgements still pending. */
  crashUnhandled(reason: unknown): void {
    if (this.crashed) return;
    this.crashed = true;
    const { n, replies } = this.done.pending();
    this.post({ t: 'crash', n, replies, culprit: false, error: serializeError(reason) });
  }
}
