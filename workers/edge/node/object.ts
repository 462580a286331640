/**
 * `AlysLightNode`: the light node in a Durable Object, one object per chain (the Worker names it by the
 * chain spec's fingerprint), SQLite-backed (`new_sqlite_classes` in wrangler.toml). It runs the same node
 * as browsers and Node (`createLightNodeFrom`, src/node/) on the workerd platform
 * (src/platform/workerd/): the store is the object's storage, verifiers run in-process, BLS is the
 * Worker's precompiled wasm module. It starts head-first from `ALYS_RPC` / `ALYS_EVM_RPC`.
 *
 * Alarms, not long-lived timers, keep it following: the node's own timers (sync polling, retries) run
 * while the object is in memory, but an object without requests is evicted, and its timers with it.
 * Each alarm run (1) starts the node if it is not running (a warm start from storage after an eviction,
 * a head-first cold start the first time), (2) waits, bounded (`FOLLOW_STEP_MS`), until the node follows
 * its sources' head, (3) records the outcome in storage and re-arms in `finally`: `ALARM_INTERVAL_MS`
 * after a good run, exponential backoff after failed ones (alarm.ts). Every step is idempotent (a
 * running node is left alone; a block already stored is not imported again), so the runtime's
 * at-least-once delivery and its retries of a throwing run (up to 6, from 2 s) are harmless. What
 * must survive lives in storage: the chain, the alarm record, the log of verified heads.
 *
 * Routes (forwarded by the Worker, routes/node.ts): `POST /rpc` (JSON-RPC 2.0, batches too, over the
 * node's EIP-1193 provider: verified methods only), `GET /status` (JSON), `GET /metrics` (Prometheus).
 */
import { createLightNodeFrom } from '../../../src/node/node.js';
import type { LightNode } from '../../../src/node/types.js';
import { createWorkerdPlatform } from '../../../src/platform/workerd/platform.js';
import type { DurableObjectStorageLike } from '../../../src/platform/workerd/storage-do.js';
import { specFingerprint } from '../../../src/protocol/spec-fingerprint.js';
import { readJsonBody } from '../body.js';
import { EdgeConfigError, EdgeRequestError } from '../errors.js';
import { jsonResponse } from '../http.js';
import { ALARM_STATE_KEY, type AlarmState, afterRun, alarmStepMs, INITIAL_ALARM_STATE } from './alarm.js';
import { resolveNodeConfig, type NodeEnv } from './config.js';
import { followStep } from './follow.js';
import { answerJsonRpc, parseError } from './jsonrpc.js';
import { answerSocketMessage, deliverHeads, type SocketLike } from './subscriptions.js';

/** The part of a Durable Object's `ctx` (DurableObjectState) the object uses. */
export interface DurableObjectStateLike {
  readonly storage: DurableObjectStorageLike & {
    get<T>(key: string): Promise<T | undefined>;
    put(key: string, value: unknown): Promise<void>;
    getAlarm(): Promise<number | null>;
    setAlarm(at: number): Promise<void>;
  };
  /** The Hibernation API: the runtime holds the socket while the object sleeps. */
  acceptWebSocket(ws: unknown): void;
  getWebSockets(): SocketLike[];
}

/** workerd's WebSocketPair (not in the DOM types). */
declare const WebSocketPair: new () => { 0: unknown; 1: unknown };

/** How the node started (storage key `STARTS_KEY`, the last `STARTS_KEPT`). */
export interface StartRecord {
  kind: 'warm-start' | 'cold-start';
  head: number | null;
  at: number;
}
const STARTS_KEY = 'edge:starts';
const STARTS_KEPT = 32;

/** Verified heads kept in the object's log (table `edge_heads`). */
export const HEAD_LOG_ROWS = 1024;

export class AlysLightNode {
  private node: LightNode | undefined;
  private starting: Promise<LightNode> | undefined;
  private delivering: Promise<unknown> = Promise.resolve();
  /** Tests: the next `alarmThrows` alarm runs throw after their follow step (as a run cut short would). */
  readonly faults = { alarmThrows: 0 };

  constructor(
    private readonly ctx: DurableObjectStateLike,
    private readonly env: NodeEnv,
  ) {}

  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    try {
      await this.ensureAlarm();
      if (pathname === '/rpc' && request.method === 'POST') return await this.rpc(request);
      if (pathname === '/status' && request.method === 'GET') return await this.status();
      if (pathname === '/metrics' && request.method === 'GET') return await this.metrics();
      if (pathname === '/ws' && request.method === 'GET') return await this.webSocket(request);
      return jsonResponse(404, { error: 'edge.not-found', reason: `no route for ${request.method} ${pathname}` });
    } catch (e) {
      return errorResponse(e);
    }
  }

  /** One alarm run: start the node if needed, let it catch up (bounded), record, re-arm. */
  async alarm(): Promise<void> {
    const prev = { ...((await this.ctx.storage.get<AlarmState>(ALARM_STATE_KEY)) ?? INITIAL_ALARM_STATE) };
    const state: AlarmState = { ...prev, runs: prev.runs + 1 };
    await this.ctx.storage.put(ALARM_STATE_KEY, state);
    let outcome: { head: number | null; error?: string } = { head: null, error: 'the run did not finish' };
    try {
      const node = await this.ensureNode();
      const { config } = resolveNodeConfig(this.env);
      const step = await followStep(node, config.config.rpc, {
        maxMs: alarmStepMs(this.env),
        timeoutMs: config.config.sync.requestTimeoutMs,
      });
      if (this.faults.alarmThrows > 0) {
        this.faults.alarmThrows--;
        throw new Error('injected alarm fault');
      }
      outcome = { head: step.status.head?.number ?? null, ...(step.error ? { error: step.error } : {}) };
    } catch (e) {
      outcome = { head: null, error: (e as Error)?.message ?? String(e) };
      if ((e as Error)?.message === 'injected alarm fault') throw e;
    } finally {
      const next = afterRun(state, Date.now(), outcome);
      await this.ctx.storage.put(ALARM_STATE_KEY, next);
      await this.ctx.storage.setAlarm(next.nextAt!);
    }
  }

  /** An object that serves requests has an alarm: the first request arms it. */
  private async ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  /** The running node; started on first use (one start at a time; a failed start is stopped and forgotten). */
  private ensureNode(): Promise<LightNode> {
    if (this.node) return Promise.resolve(this.node);
    this.starting ??= this.startNode().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async startNode(): Promise<LightNode> {
    const { edge, config } = resolveNodeConfig(this.env);
    await edge.bls(); // bls-eth-wasm from the precompiled module: the node's createBlsBackend('wasm') shares it
    const node = createLightNodeFrom({
      spec: edge.spec,
      config,
      platform: createWorkerdPlatform({ storage: this.ctx.storage }),
    });
    this.createHeadLog();
    node.on('head', (head) => {
      this.logHead(head.number, head.hash);
      this.deliver(node, head.number);
    });
    node.on('storage', (e) => {
      if (e.kind === 'warm-start' || e.kind === 'cold-start') void this.logStart(e.kind, e.head ?? null);
    });
    try {
      await node.start();
    } catch (e) {
      await node.stop().catch(() => {});
      throw e;
    }
    this.node = node;
    return node;
  }

  private createHeadLog(): void {
    this.ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS edge_heads (seq INTEGER PRIMARY KEY AUTOINCREMENT, number INTEGER NOT NULL, hash TEXT NOT NULL, at INTEGER NOT NULL)',
    );
  }

  /** Every verified head the node reported, in order (the last HEAD_LOG_ROWS). */
  private logHead(number: number, hash: string): void {
    const { sql } = this.ctx.storage;
    sql.exec('INSERT INTO edge_heads (number, hash, at) VALUES (?, ?, ?)', number, hash, Date.now());
    sql.exec('DELETE FROM edge_heads WHERE seq <= (SELECT MAX(seq) FROM edge_heads) - ?', HEAD_LOG_ROWS);
  }

  /** Send the sockets' subscriptions what they have not seen up to `head`, one delivery at a time. */
  private deliver(node: LightNode, head: number): void {
    this.delivering = this.delivering.then(() =>
      Promise.all(this.ctx.getWebSockets().map((ws) => deliverHeads(ws, node.provider, head).catch(() => {}))),
    );
  }

  /** `GET /ws` with `Upgrade: websocket`: a hibernatable socket for JSON-RPC and eth_subscribe. */
  private async webSocket(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
      return jsonResponse(426, { error: 'edge.upgrade-required', reason: 'GET /ws needs Upgrade: websocket' });
    await this.ensureNode();
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
  }

  /** A socket's message (also on an object woken from hibernation for it). */
  async webSocketMessage(ws: SocketLike, message: string | ArrayBuffer): Promise<void> {
    const text = typeof message === 'string' ? message : new TextDecoder().decode(message);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      ws.send(JSON.stringify(parseError((e as Error).message)));
      return;
    }
    try {
      const node = await this.ensureNode();
      const head = (await node.status()).head?.number ?? null;
      const answer = await answerSocketMessage(ws, node.provider, body, head);
      if (answer !== undefined) ws.send(JSON.stringify(answer));
    } catch (e) {
      const err = e as { shortMessage?: string; message?: string };
      ws.send(
        JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: err.shortMessage ?? err.message } }),
      );
    }
  }

  async webSocketClose(ws: SocketLike & { close(code?: number, reason?: string): void }, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, 'closed');
    } catch {
      // already closed
    }
  }

  /** Tests: drop everything the object keeps in memory (the node stops), as an eviction does; sockets stay. */
  async forgetMemory(): Promise<void> {
    const node = this.node;
    this.node = undefined;
    await node?.stop();
  }

  /** How the node started, each time (the last STARTS_KEPT): a cold start, then warm starts after evictions. */
  private async logStart(kind: 'warm-start' | 'cold-start', head: number | null): Promise<void> {
    const starts = (await this.ctx.storage.get<StartRecord[]>(STARTS_KEY)) ?? [];
    await this.ctx.storage.put(STARTS_KEY, [...starts, { kind, head, at: Date.now() }].slice(-STARTS_KEPT));
  }

  private async rpc(request: Request): Promise<Response> {
    let body: unknown;
    try {
      body = await readJsonBody(request);
    } catch (e) {
      if (e instanceof EdgeRequestError) return jsonResponse(200, parseError(e.shortMessage));
      throw e;
    }
    const node = await this.ensureNode();
    const answer = await answerJsonRpc(node.provider, body);
    return answer === undefined ? new Response(null, { status: 204 }) : jsonResponse(200, answer);
  }

  private async status(): Promise<Response> {
    const node = await this.ensureNode();
    const alarm = (await this.ctx.storage.get<AlarmState>(ALARM_STATE_KEY)) ?? INITIAL_ALARM_STATE;
    const starts = (await this.ctx.storage.get<StartRecord[]>(STARTS_KEY)) ?? [];
    const status = await node.status();
    return new Response(`${JSON.stringify({ chain: chainOf(node), ...status, alarm, starts }, bigintAsString)}\n`, {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
  }

  private async metrics(): Promise<Response> {
    const node = await this.ensureNode();
    return new Response(await node.metrics(), { headers: { 'content-type': 'text/plain; version=0.0.4' } });
  }
}

function chainOf(node: LightNode): { chainId: number; fingerprint: string } {
  return { chainId: node.spec.chainId, fingerprint: specFingerprint(node.spec) };
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function errorResponse(e: unknown): Response {
  if (e instanceof EdgeConfigError) return jsonResponse(500, { error: e.code, key: e.key, reason: e.shortMessage });
  const err = e as { code?: unknown; shortMessage?: string; message?: string };
  return jsonResponse(503, {
    error: typeof err?.code === 'string' ? err.code : 'edge.node-unavailable',
    reason: err?.shortMessage ?? err?.message ?? String(e),
  });
}
