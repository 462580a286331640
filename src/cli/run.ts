/**
 * `alys-light run`: a light node in the foreground. Config from defaults < TOML file (--config or
 * ALYS_CONFIG) < ALYS_* variables < flags; the file is watched and SIGHUP reloads it (hot keys apply
 * at once, restart keys are refused with a message). Progress on stderr (a redrawn bar on a TTY,
 * a line every few seconds otherwise; lines for the verified head a cold start found, the finalized
 * block and the backfill of verified history); Ctrl-C stops the node and prints a final summary on
 * stdout (JSON with --json: head, finalized, historyFrom, backfill, ...). `--metrics-port` serves
 * /metrics, /status and /healthz.
 */
import { inspect, parseArgs } from 'node:util';
import {
  ConfigBaseError,
  configParseArgsOptions,
  describeConfigKeys,
  logLevelShows,
  type ConfigKey,
  type FlagValues,
  type LightNodeConfig,
} from '../config/index.js';
import {
  createConfigFileWatcher,
  loadChainSpec,
  loadNodeConfig,
  configFileOf,
  type ConfigFileWatcher,
} from '../config/nodejs/index.js';
import { createLightNodeFrom } from '../node/node.js';
import type { LightNode, NodeStatus } from '../node/types.js';
import { createNodePlatform } from '../platform/nodejs/platform.js';
import type { NodeEvents } from '../node/events.js';
import { renderBackfill, renderFinalized, renderHead, renderProgress, type ProgressState } from './progress.js';
import { serveStatus, toJson, type StatusServer } from './serve-status.js';
import { termSafe } from './term-safe.js';

export const RUN_USAGE = `usage: alys-light run [--config <file.toml>] [--network devnet|dev|testnet|<spec.json>] [--rpc <url>]... [--evm-rpc <url>]...
                      [--data-dir <dir>] [--mode full|pow-checkpoint] [--metrics-port <port>] [--json] [--exit-when-synced]
                      [any config flag below]

Follows the chain, verifying every block it reports; Ctrl-C stops it with a summary. A cold start
begins at the verified head (approvals of the spec's authorities, then a hash-linked walk down to
the latest PoW block for finality) and backfills verified history below it (--sync-history);
--sync-start genesis replays from block 0 instead, --sync-checkpoint <hash> pins a block.
--exit-when-synced  stop once caught up with the sources (scripts, CI)
--json              the final summary as one JSON line

config keys (file, environment, flag):
${describeConfigKeys('node')}`;

/** Where `alys-light relay` listens unless p2p.listen says otherwise: Alys's port 55444 (TCP) and 55445 (WebSockets). */
const RELAY_LISTEN = ['/ip4/0.0.0.0/tcp/55444', '/ip4/0.0.0.0/tcp/55445/ws'];

export interface RunOptions {
  /** Where progress goes (default process.stderr). */
  progress?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  /** Resolve with the node once started (tests and `npm start` drive it). */
  onStarted?: (node: LightNode, extra: { statusUrl: string | null }) => void;
  /** Stop when this aborts (tests); SIGINT/SIGTERM always stop. */
  signal?: AbortSignal;
  /**
   * `alys-light relay`: the node also runs a circuit relay v2 server for browsers (listening on
   * p2p.listen, default TCP 55444 and WebSockets 55445 on all interfaces) and serves the blocks it verified.
   */
  relay?: boolean;
}

export interface RunArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
}

/** Parse `run` flags strictly (a misspelt flag is an error naming it). */
export function parseRunArgs(argv: string[]): RunArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...configParseArgsOptions(),
      config: { type: 'string' },
      json: { type: 'boolean' },
      'exit-when-synced': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length) throw new TypeError(`unexpected argument ${positionals[0]}`);
  return { values: values as RunArgs['values'] };
}

type ProgressOut = NonNullable<RunOptions['progress']>;

/** The --metrics-port server (/metrics, /status, /healthz); a hot reload moves it to the new port. */
interface StatusServerSlot {
  readonly server: StatusServer | null;
  open(node: LightNode, port: number | null): Promise<void>;
  /** Serve on `port` (null: off) and close the old server; a port that cannot be bound throws, which rolls the reload back. */
  move(node: LightNode, port: number | null): Promise<void>;
  close(): Promise<void>;
}

function statusServerSlot(out: ProgressOut): StatusServerSlot {
  let server: StatusServer | null = null;
  return {
    get server() {
      return server;
    },
    async open(node, port) {
      if (port !== null) server = await serveStatus(node, port);
    },
    async move(node, port) {
      const old = server;
      server = port === null ? null : await serveStatus(node, port);
      await old?.close();
      out.write(`metrics: ${server ? `${server.url}/metrics` : 'off'}\n`);
    },
    async close() {
      await server?.close();
    },
  };
}

interface RunSetup {
  node: LightNode;
  watcher: ConfigFileWatcher | undefined;
}

/** Config (printing its warnings), chain spec, the node, and the config file watcher. Throws ConfigBaseError for bad config. */
async function setUpNode(
  args: RunArgs,
  opts: RunOptions,
  out: ProgressOut,
  status: StatusServerSlot,
): Promise<RunSetup> {
  const flags = args.values as FlagValues;
  const resolved = await loadNodeConfig({
    flags,
    ...(opts.relay ? { defaults: { p2p: { listen: RELAY_LISTEN, bootstrap: [] } } } : {}),
  });
  if (logLevelShows(resolved.config.logLevel, 'warn'))
    for (const w of resolved.warnings) out.write(`warning: ${termSafe(w)}\n`);
  const spec = await loadChainSpec(resolved.config);
  const node: LightNode = createLightNodeFrom({
    spec,
    config: resolved,
    platform: createNodePlatform(resolved.config),
    ...(opts.relay ? { p2pRelayServer: true } : {}),
    // the metrics port is the CLI's: a reload that cannot bind the new port rolls back entirely
    onReconfigure: async (next: LightNodeConfig, _prev: LightNodeConfig, keys: readonly ConfigKey[]) => {
      if (keys.includes('metricsPort')) await status.move(node, next.metricsPort);
    },
  });
  const file = configFileOf({ flags });
  const watcher = file
    ? createConfigFileWatcher({
        file,
        manager: { update: (change) => node.updateConfig(change) },
        log: (level, message) => {
          if (logLevelShows(node.config.config.logLevel, level)) out.write(`${level}: ${termSafe(message)}\n`);
        },
      })
    : undefined;
  return { node, watcher };
}

/** What the run saw of the start and the backfill (for the summary). */
interface RunProgress {
  /** Prints a line above the bar. */
  note(text: string): void;
  /** The node's start finished (a head seen after this is no longer the start's verified head). */
  started(): void;
  /** The head the run started from (the stored head, genesis, or the verified head of a head-first start). */
  readonly startHead: number | undefined;
  /** The last backfill event. */
  readonly backfill: NodeEvents['backfill'] | undefined;
}

/** A line at most every `ms` (the first at once); `force` prints anyway. */
function throttled(ms: number, write: (text: string) => void): (text: string, force?: boolean) => void {
  let last = -Infinity;
  return (text, force = false) => {
    if (!force && Date.now() - last < ms) return;
    last = Date.now();
    write(text);
  };
}

/**
 * Progress on `out`: a bar redrawn on every sync, head and finalized event (on a TTY; otherwise a line
 * every 5 s or when the sync phase changes), and a note for every source, fork, storage and health
 * event; a line for the verified head a cold start found (before the start finishes), for the
 * finalized block (at most every 5 s) and for the backfill (at most every 5 s, and when it is complete).
 */
function showProgress(node: LightNode, out: ProgressOut): RunProgress {
  const state: ProgressState = { penalised: new Map() };
  const tty = Boolean(out.isTTY);
  let lastLine = 0;
  let starting = true;
  let startHead: number | undefined;
  let backfill: NodeEvents['backfill'] | undefined;
  const draw = (force = false) => {
    const line = termSafe(renderProgress(state));
    if (tty) out.write(`\r\x1b[2K${line}`);
    else if (force || Date.now() - lastLine > 5_000) {
      lastLine = Date.now();
      out.write(`${line}\n`);
    }
  };
  const note = (text: string) => {
    if (tty) out.write('\r\x1b[2K');
    out.write(`${termSafe(text)}\n`);
    draw(true);
  };
  const finalizedNote = throttled(5_000, note);
  const historyNote = throttled(5_000, note);
  node.on('sync', (s) => {
    const phaseChanged = state.sync?.phase !== s.phase;
    state.sync = s;
    draw(phaseChanged);
  });
  node.on('head', (h) => {
    state.head = h;
    if (starting && startHead === undefined) {
      startHead = h.number;
      note(renderHead(h));
    } else draw();
  });
  node.on('finalized', (f) => {
    const first = !state.finalized;
    state.finalized = f;
    finalizedNote(renderFinalized(f), first);
  });
  node.on('backfill', (b) => {
    const wasDone = backfill?.done;
    backfill = b;
    if (!wasDone) historyNote(renderBackfill(b), b.done);
  });
  node.on('source', (s) => {
    if (s.score >= 100) state.penalised.delete(s.id);
    else state.penalised.set(s.id, s.score);
    note(`source ${s.id}: score ${s.score}${s.banned ? ' (banned)' : ''}: ${s.reason.split('\n')[0]}`);
  });
  node.on('fork', (f) => note(`fork ${f.kind} at ${f.number}: ${f.detail}`));
  node.on('storage', (s) => {
    if (s.head !== undefined) startHead = s.head;
    note(`storage: ${s.kind}: ${s.detail}${s.ms !== undefined ? ` (${s.ms} ms)` : ''}`);
  });
  node.on('health', (h) =>
    note(`actor ${h.address}: ${h.state}${h.detail ? `: ${String(h.detail).split('\n')[0]}` : ''}`),
  );
  return {
    note,
    started: () => void (starting = false),
    get startHead() {
      return startHead;
    },
    get backfill() {
      return backfill;
    },
  };
}

/**
 * `alys_light_unhandled_rejections_total` on the running node's /metrics: the run's count of stray
 * rejections, read at scrape time (so rejections before the node's registry existed count too).
 */
function countUnhandled(node: LightNode, count: () => number): void {
  node.system?.metrics
    .counter(
      'alys_light_unhandled_rejections_total',
      'Promise rejections nobody handled (reported on stderr; the node goes on)',
    )
    .collect(() => [[{}, count()]]);
}

/**
 * A rejection reason with its detail: an Error's stack, `code`, other own fields and `cause` chain
 * (util.inspect), anything else inspected rather than stringified to "[object Object]".
 */
export function describeRejection(reason: unknown): string {
  return inspect(reason, { depth: 4, breakLength: Number.POSITIVE_INFINITY });
}

/** Why the run stopped, and how to remove the process handlers it installed. */
interface StopSignals {
  /** 'SIGINT', 'SIGTERM', 'abort' (opts.signal) or 'synced' (--exit-when-synced). */
  stopped: Promise<string>;
  /** Stray promise rejections reported so far. */
  unhandled(): number;
  remove(): void;
}

/**
 * SIGINT/SIGTERM (and `opts.signal`, and --exit-when-synced) stop the run; SIGHUP reloads the config
 * file. A long-running node is not brought down by a stray rejection inside a dependency (e.g. a
 * transport's handshake timing out after its caller moved on): it is reported and the node goes on.
 * The node's own failures are contained by the actor supervisors.
 */
function listenForStop(
  node: LightNode,
  setup: RunSetup,
  args: RunArgs,
  opts: RunOptions,
  out: ProgressOut,
): StopSignals {
  const signals = { SIGINT: () => {}, SIGTERM: () => {} };
  const stopped = new Promise<string>((resolve) => {
    signals.SIGINT = () => resolve('SIGINT');
    signals.SIGTERM = () => resolve('SIGTERM');
    process.once('SIGINT', signals.SIGINT);
    process.once('SIGTERM', signals.SIGTERM);
    opts.signal?.addEventListener('abort', () => resolve('abort'), { once: true });
    if (args.values['exit-when-synced'])
      node.on('sync', (s) => {
        if (s.phase === 'following' && s.current >= s.target) resolve('synced');
      });
  });
  const onHup = () => void setup.watcher?.reload();
  process.on('SIGHUP', onHup);
  let unhandled = 0;
  const onUnhandled = (reason: unknown) => {
    unhandled++;
    out.write(`warning: unhandled rejection #${unhandled} (ignored): ${termSafe(describeRejection(reason))}\n`);
  };
  process.on('unhandledRejection', onUnhandled);
  return {
    stopped,
    unhandled: () => unhandled,
    remove() {
      process.off('SIGHUP', onHup);
      process.off('SIGINT', signals.SIGINT);
      process.off('SIGTERM', signals.SIGTERM);
      process.off('unhandledRejection', onUnhandled);
    },
  };
}

/** The startup line (chain, mode, storage, sources, metrics) and, with libp2p, our peer id and addresses. */
function announceStart(
  node: LightNode,
  cfg: LightNodeConfig,
  first: NodeStatus,
  opts: RunOptions,
  status: StatusServerSlot,
  note: (text: string) => void,
) {
  const server = status.server;
  note(
    `alys-light: chain ${node.spec.chainId}, mode ${cfg.mode}, storage ${cfg.storage}${cfg.storage === 'level' ? ` (${cfg.dataDir})` : ''}, ${cfg.rpc.length} consensus RPC, ${cfg.evmRpc.length} EVM RPC${server ? `, metrics ${server.url}/metrics` : ''}`,
  );
  if (first.p2p)
    note(
      `p2p ${first.p2p.peerId}${opts.relay ? ' (relay)' : ''}: ${first.p2p.addresses.join(' ') || 'not listening (dials out only)'}`,
    );
}

/** The final summary on stdout: one JSON line with --json, a sentence otherwise. */
async function printSummary(
  node: LightNode,
  why: string,
  started: number,
  progress: RunProgress,
  firstHead: number,
  json: boolean,
) {
  const status = await node.status();
  const startHead = progress.startHead ?? firstHead;
  const backfill = progress.backfill;
  const summary = {
    stopped: why,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    chainId: node.spec.chainId,
    mode: node.config.config.mode,
    head: status.head,
    finalized: status.finalized,
    verifiedThisRun: status.head ? status.head.number - startHead : 0,
    historyFrom: status.historyFrom,
    backfill: backfill ? { from: backfill.from, target: backfill.target, done: backfill.done } : null,
    sync: status.sync,
    sources: status.sources.map((s) => ({ id: s.id, score: s.score, faults: s.faults })),
    restarts: status.actors.filter((a) => a.restarts > 0).map((a) => ({ address: a.address, restarts: a.restarts })),
  };
  if (json) console.log(termSafe(toJson(summary)));
  else
    console.log(
      termSafe(
        `stopped (${why}) after ${summary.seconds}s: head ${summary.head?.number ?? '-'} ${summary.head?.hash ?? ''}, finalized ${summary.finalized}, ${summary.verifiedThisRun} blocks verified this run` +
          (summary.historyFrom !== null ? `, history from block ${summary.historyFrom}` : '') +
          (backfill && !backfill.done ? ` (backfilling to ${backfill.target})` : '') +
          (summary.restarts.length
            ? `; restarts: ${summary.restarts.map((r) => `${r.address} x${r.restarts}`).join(', ')}`
            : '') +
          (summary.sources.some((s) => s.faults)
            ? `; faulty sources: ${summary.sources
                .filter((s) => s.faults)
                .map((s) => `${s.id} (${s.faults} faults, score ${s.score})`)
                .join(', ')}`
            : ''),
      ),
    );
}

/** `alys-light run`: exit code 0 (stopped cleanly), 1 (the node failed), 2 (bad config or arguments). */
export async function runCommand(argv: string[], opts: RunOptions = {}): Promise<number> {
  let args: RunArgs;
  try {
    args = parseRunArgs(argv);
  } catch (e) {
    console.error(`${termSafe((e as Error).message)}\n\n${RUN_USAGE}`);
    return 2;
  }
  if (args.values.help) {
    console.log(RUN_USAGE);
    return 0;
  }
  const out = opts.progress ?? process.stderr;
  const status = statusServerSlot(out);
  let setup: RunSetup;
  try {
    setup = await setUpNode(args, opts, out, status);
  } catch (e) {
    if (e instanceof ConfigBaseError) {
      console.error(termSafe(e.message));
      return 2;
    }
    throw e;
  }
  const { node, watcher } = setup;
  const progress = showProgress(node, out);
  const { note } = progress;
  const started = Date.now();
  const stop = listenForStop(node, setup, args, opts, out);

  let exitCode = 0;
  try {
    await node.start();
    countUnhandled(node, stop.unhandled);
    progress.started();
    const first = await node.status();
    const cfg = node.config.config;
    await status.open(node, cfg.metricsPort);
    await watcher?.start();
    announceStart(node, cfg, first, opts, status, note);
    opts.onStarted?.(node, { statusUrl: status.server ? `${status.server.url}/status` : null });
    const why = await stop.stopped;
    if (out.isTTY) out.write('\n');
    await printSummary(node, why, started, progress, first.head?.number ?? 0, Boolean(args.values.json));
  } catch (e) {
    console.error(`alys-light run: ${termSafe((e as Error).message)}`);
    exitCode = 1;
  } finally {
    stop.remove();
    await watcher?.stop();
    await status.close();
    await node.stop();
  }
  return exitCode;
}
