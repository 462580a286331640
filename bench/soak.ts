/**
 * Soak benchmark (issue 13 item 14): a light node (LevelDB in a temp dir, `pow-checkpoint`, replay from
 * genesis, default sync settings) follows a live devnet with short slots for SOAK_MINUTES, over
 * consensus RPC and p2p at once, among strangers:
 *
 * - the devnet (bench/fixtures/soak-devnet.nodejs-child.ts) runs in its own process, so the heap and
 *   RSS measured here are the node's (plus this harness) alone;
 * - sources: the honest consensus RPC, a lying one (`equivocation`: a second federation-signed block at
 *   every height), the federation's peer (blocks_by_range + gossip), and a junk peer (`malformed-json`:
 *   blocks_by_range chunks that are not msgpack blocks).
 *
 * Reports: blocks produced, blocks missed (devnet heights 1..H, H = the devnet head at the end, whose
 * block the node does not hold as verified after a grace of SOAK_GRACE_S; goal 0), actor restarts
 * (goal 0), faults charged to the junk peer and the lying endpoint (goal > 0), and heap used / RSS
 * sampled every SOAK_SAMPLE_S after a forced GC, with the least-squares slope over the samples after
 * the warm-up (the first SOAK_WARMUP of the run, default 20%), in bytes/minute and per 10 minutes as a
 * fraction of the post-warm-up mean, and this process's open file descriptors (Linux): a run that passes
 * FD_ALARM stops early and reports what they point at (a 1-hour run once died of EMFILE at 26 minutes).
 *
 * What fills during the warm-up (seen in heap snapshot diffs, SOAK_HEAP_SNAPSHOTS): bounded caches that
 * take a while to fill at one block a slot - the ChainActor's payload cache and the engine's root cache
 * (256 blocks each: 4.3 min at 1 s slots), gossipsub's seen/delivery caches (2 min TTL), Node's fetch
 * resource timing buffer (250 entries), the actor system's deadline heap (compacted past 1024 stale
 * entries), and JIT code. A run shorter than ~25 min at 1 s slots (20% < 5 min) still measures part of
 * that fill in its slope; the 1-hour run is the one to judge the bound by.
 *
 * Bound: heap slope x 10 min < 1% of the mean heap, RSS < 5%. The heap is measured after a full GC, so
 * it is what the node retains: with LevelDB storage and a bounded unfinalized tail nothing it keeps
 * should grow with the chain; 1% per 10 min (6% an hour) leaves room for the least-squares noise of
 * a live run. RSS also carries allocator and LevelDB cache behaviour the node does not control
 * (memory V8 returns late or never), hence the looser bound.
 *
 *   npm run bench -- soak     SOAK_MINUTES (default 10), SOAK_SLOT_MS (default 1000),
 *                             SOAK_SAMPLE_S (default 5), SOAK_GRACE_S (default 30),
 *                             SOAK_BACKLOG (blocks the devnet produces before the node starts; default 40),
 *                             SOAK_HEAP_SNAPSHOTS=<dir> (heap snapshots after the warm-up and at the end, to diff),
 *                             SOAK_FD_ALARM (default 4000 open descriptors: stop early, report their kinds),
 *                             SOAK_DEVNET_PROF=<dir> (a CPU profile of the devnet process, written at its exit)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLightNode, type LightNode } from '../src/index.nodejs.js';
import { blockHash } from '../src/protocol/block.js';
import { parseChainSpec } from '../src/protocol/chainspec.js';
import type { SignedConsensusBlock } from '../src/protocol/types.js';
import type { SoakDevnetReady, SoakDevnetRequest } from './fixtures/soak-devnet.nodejs-child.js';
import { report } from './report.js';
import { type Sample, trendAfterWarmup } from './trend.js';

const WARMUP = Number(process.env['SOAK_WARMUP'] ?? 0.2);
const HEAP_BOUND = 0.01;
const RSS_BOUND = 0.05;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `global.gc` when the process has it; else exposed now (V8 flag + a fresh context), as `node --expose-gc` would. */
function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

interface DevnetChild {
  ready: SoakDevnetReady;
  ask<T>(m: SoakDevnetRequest): Promise<T>;
  child: ChildProcess;
}

async function startDevnetChild(): Promise<DevnetChild> {
  const file = fileURLToPath(new URL('./fixtures/soak-devnet.nodejs-child.ts', import.meta.url));
  // SOAK_DEVNET_PROF=<dir>: a V8 CPU profile of the devnet process, written when it exits
  const prof = process.env['SOAK_DEVNET_PROF'];
  const execArgv = ['--import', 'tsx', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])];
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const pending = new Map<number, (v: unknown) => void>();
  let id = 0;
  const ready = await new Promise<SoakDevnetReady>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the devnet process exited (${code})`)));
    child.on('message', (m: SoakDevnetReady | { id: number; value: unknown }) => {
      if ('type' in m) return resolve(m);
      pending.get(m.id)?.(m.value);
      pending.delete(m.id);
    });
  });
  const ask = <T>(m: SoakDevnetRequest) =>
    new Promise<T>((resolve) => {
      pending.set(++id, resolve as (v: unknown) => void);
      child.send({ ...m, id });
    });
  return { ready, ask, child };
}

/** Open file descriptors of this process (Linux /proc; undefined elsewhere). */
function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/** TCP sockets of this process's network namespace by inode: `local port -> remote port state` (Linux /proc/net/tcp, tcp6). */
function tcpByInode(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = (a: string) => Number.parseInt(a.split(':')[1] ?? '0', 16);
      out.set(f[9]!, `tcp :${port(f[1]!)} -> :${port(f[2]!)} state ${f[3]}`);
    }
  }
  return out;
}

/**
 * What this process's descriptors point at, most first: sockets by TCP local/remote port and state
 * (st 01 established, 06 time-wait, 08 close-wait, 0A listen; remote :0 for a listener), pipes,
 * anon inodes and paths. Names which connection a descriptor leak is made of.
 */
function fdKinds(): Record<string, number> {
  const tcp = tcpByInode();
  const kinds = new Map<string, number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const kind = inode
      ? (tcp.get(inode)?.replace(/^tcp :\d+/, 'tcp :L') ?? 'socket (not tcp)')
      : target.replace(/\d+/g, 'N');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1]).slice(0, 16));
}

/** Above this many open descriptors the run stops early and reports what they are (a leak, not a load). */
const FD_ALARM = Number(process.env['SOAK_FD_ALARM'] ?? 4_000);

/** How far the node trails the devnet, and the node's own account of why when it trailed most. */
interface LagWatch {
  max: number;
  behindSince: number | undefined;
  worst: { atMs: number; lag: number; devnet: number; status: unknown } | undefined;
  lastLog: number;
}

/**
 * One sample of the lag (devnet height - node head). A progress line goes to stderr every minute; the
 * node's status (sync phase and detail, sources and their scores, p2p peers) is kept at the worst lag,
 * so a node that stops following says where it stopped and why it thinks it did.
 */
async function watchLag(w: LagWatch, net: DevnetChild, node: LightNode, atMs: number): Promise<void> {
  const devnet = await net.ask<number>({ type: 'height' });
  const status = await node.status();
  const lag = devnet - (status.head?.number ?? 0);
  if (lag > w.max) {
    w.max = lag;
    w.worst = {
      atMs,
      lag,
      devnet,
      status: { head: status.head?.number, sync: status.sync, sources: status.sources, p2p: status.p2p?.peers },
    };
  }
  if (atMs - w.lastLog >= 60_000) {
    w.lastLog = atMs;
    process.stderr.write(
      `soak ${Math.round(atMs / 60_000)} min: devnet ${devnet}, node ${status.head?.number ?? '-'} (${status.sync?.phase ?? '-'}${status.sync?.detail ? `: ${status.sync.detail}` : ''})\n`,
    );
  }
}

/** The hash of the block the node's ChainActor answers as verified at each height from..to ('' where none). */
async function nodeHashes(node: LightNode, from: number, to: number): Promise<string[]> {
  const chain = node.system!.ref('/alys/chain/chain');
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const b = (await chain.ask({ type: 'block', number: n } as never, { timeoutMs: 10_000 })) as
      | SignedConsensusBlock
      | undefined;
    out.push(b ? blockHash(b.message) : '');
  }
  return out;
}

export async function run(): Promise<void> {
  const minutes = Number(process.env['SOAK_MINUTES'] ?? 10);
  const sampleMs = Number(process.env['SOAK_SAMPLE_S'] ?? 5) * 1000;
  const graceMs = Number(process.env['SOAK_GRACE_S'] ?? 30) * 1000;
  const gc = gcFunction();
  const net = await startDevnetChild();
  const { urls, peers } = net.ready;
  const dataDir = mkdtempSync(join(tmpdir(), 'alys-light-soak-'));
  const node = createLightNode({
    chainSpec: parseChainSpec(net.ready.specJson),
    rpc: [urls.lying, urls.consensus],
    evmRpc: [urls.evm],
    p2p: { bootstrap: [peers.honest, peers.junk] },
    mode: 'pow-checkpoint',
    storage: 'level',
    dataDir,
    logLevel: 'silent',
    // small ranges: the backlog's first sync goes to every source in turn (the lying one too)
    sync: { start: 'genesis', batchSize: 8 },
  });
  let forkSwitches = 0;
  node.on('fork', (f) => {
    if (f.kind === 'switched') forkSwitches++;
  });
  // every charge, by source: a peer banned at zero is disconnected and forgotten (gone from status)
  const charged = new Map<string, { charges: number; bans: number; reasons: Set<string> }>();
  node.on('source', (e) => {
    const c = charged.get(e.id) ?? { charges: 0, bans: 0, reasons: new Set<string>() };
    c.charges++;
    if (e.banned) c.bans++;
    if (c.reasons.size < 3) c.reasons.add(e.reason.slice(0, 120));
    charged.set(e.id, c);
  });
  try {
    // a backlog first, so that the first sync spreads ranges over every source (the lying one too)
    const backlog = Number(process.env['SOAK_BACKLOG'] ?? 40);
    while ((await net.ask<number>({ type: 'height' })) < backlog) await sleep(250);
    await node.start();
    const t0 = Date.now();
    const heap: Sample[] = [];
    const rss: Sample[] = [];
    const fds: Sample[] = [];
    const lag: LagWatch = { max: 0, behindSince: undefined, worst: undefined, lastLog: 0 };
    let aborted: { atMs: number; reason: string; fdKinds: Record<string, number> } | undefined;
    // descriptors are checked every second (a leak seen in a 1-hour run went from 40 to 20,000 in under a
    // minute, between two memory samples): past the alarm, what they are is kept and the run stops
    const fdWatch = setInterval(() => {
      const open = openFds();
      if (aborted === undefined && open !== undefined && open > FD_ALARM)
        aborted = { atMs: Date.now() - t0, reason: `${open} open file descriptors`, fdKinds: fdKinds() };
    }, 1_000);
    const snapshots = process.env['SOAK_HEAP_SNAPSHOTS'];
    let snapshotTaken = false;
    while (Date.now() - t0 < minutes * 60_000) {
      await sleep(Math.min(sampleMs, t0 + minutes * 60_000 - Date.now()));
      const open = openFds();
      if (open !== undefined) fds.push({ t: Date.now() - t0, value: open });
      if (aborted) break;
      gc();
      let m: NodeJS.MemoryUsage;
      try {
        m = process.memoryUsage();
      } catch (e) {
        aborted ??= { atMs: Date.now() - t0, reason: (e as Error).message, fdKinds: {} };
        break;
      }
      heap.push({ t: Date.now() - t0, value: m.heapUsed });
      await watchLag(lag, net, node, Date.now() - t0);
      rss.push({ t: Date.now() - t0, value: m.rss });
      if (snapshots && !snapshotTaken && Date.now() - t0 >= WARMUP * minutes * 60_000) {
        snapshotTaken = true;
        writeHeapSnapshot(join(snapshots, 'soak-warm.heapsnapshot'));
      }
    }
    clearInterval(fdWatch);
    // a descriptor leak: say what it is made of at once (what follows may fail for want of descriptors)
    if (aborted)
      report({ name: 'soak.aborted', unit: 'ms', value: aborted.atMs, ...aborted, endpoints: { urls, peers } });
    if (snapshots) writeHeapSnapshot(join(snapshots, 'soak-end.heapsnapshot'));
    const endHeight = await net.ask<number>({ type: 'height' });
    // grace: the node reaches the devnet's head at the end (production goes on meanwhile)
    const graceEnd = Date.now() + graceMs;
    while (Date.now() < graceEnd && ((await node.status()).head?.number ?? -1) < endHeight) await sleep(200);
    const devnetHashes = await net.ask<string[]>({ type: 'hashes', from: 1, to: endHeight });
    const held = await nodeHashes(node, 1, endHeight);
    const missed = held.filter((h, i) => h !== devnetHashes[i]).length;
    const status = await node.status();
    const restarts = status.actors.reduce((s, a) => s + a.restarts, 0);
    const source = (id: string) => status.sources.find((s) => s.id === id);
    const run = { minutes, slotMs: Number(process.env['SOAK_SLOT_MS'] ?? 1000) };

    report({ name: 'soak.blocks.produced', unit: 'blocks', value: endHeight, ...run, backlogAtStart: backlog });
    report({
      name: 'soak.fds.open',
      unit: 'descriptors',
      value: fds.at(-1)?.value ?? -1,
      better: 'lower',
      target: `flat after the warm-up; the run stops early above ${FD_ALARM}`,
      first: fds[0]?.value ?? null,
      max: fds.length ? Math.max(...fds.map((f) => f.value)) : null,
      slopePerMinute: fds.length ? Number(trendAfterWarmup(fds, WARMUP).perMinute.toFixed(2)) : null,
      ...(aborted ? { aborted } : {}),
    });
    report({
      name: 'soak.blocks.missed',
      unit: 'blocks',
      value: missed,
      better: 'lower',
      target: '0',
      checked: endHeight,
      nodeHead: status.head?.number ?? null,
      finalized: status.finalized,
      forkSwitches,
    });
    report({
      name: 'soak.lag.max',
      unit: 'blocks',
      value: lag.max,
      better: 'lower',
      target: 'a few blocks (one slot plus a verification)',
      worst: lag.worst ?? null,
    });
    report({
      name: 'soak.actor-restarts',
      unit: 'restarts',
      value: restarts,
      better: 'lower',
      target: '0',
      actors: status.actors.filter((a) => a.restarts > 0).map((a) => `${a.address}:${a.restarts}`),
    });
    for (const [name, id] of [
      ['soak.faults.junk-peer', peers.junkId],
      ['soak.faults.lying-rpc', urls.lying],
    ] as const) {
      const s = source(id);
      const c = charged.get(id);
      report({
        name,
        unit: 'faults',
        value: c?.charges ?? 0,
        better: 'higher',
        target: '> 0',
        bans: c?.bans ?? 0,
        reasons: [...(c?.reasons ?? [])],
        // the status at the end (a banned peer may have been disconnected and forgotten: then none)
        statusFaults: s ? s.faultsByKind : null,
        successes: s?.successes ?? null,
      });
    }
    const honestCharged = [urls.consensus, peers.honestId].map((id) => source(id)?.faultsByKind ?? {});
    const honestEvents = [urls.consensus, peers.honestId].map((id) => [...(charged.get(id)?.reasons ?? [])]);
    report({
      name: 'soak.faults.honest-sources',
      unit: 'faults',
      value: honestCharged.reduce(
        (s, byKind) =>
          s +
          Object.entries(byKind)
            .filter(([k]) => k !== 'timeout' && k !== 'network')
            .reduce((t, [, v]) => t + (v ?? 0), 0),
        0,
      ),
      better: 'lower',
      target: '0 (timeouts and network errors not counted)',
      byKind: honestCharged,
      reasons: honestEvents,
    });
    for (const [what, samples, bound] of [
      ['heap-used', heap, HEAP_BOUND],
      ['rss', rss, RSS_BOUND],
    ] as const) {
      const t = trendAfterWarmup(samples, WARMUP);
      report({
        name: `soak.memory.${what}.slope`,
        unit: 'bytes/min',
        value: t.perMinute,
        better: 'lower',
        target: `x 10 min < ${bound * 100}% of the mean`,
        per10MinOfMean: Number(t.per10MinOfMean.toFixed(4)),
        // the same fit over the second half only: a fill that is ending shows as a smaller late slope, a leak does not
        secondHalfPer10MinOfMean: Number(trendAfterWarmup(samples, 0.5).per10MinOfMean.toFixed(4)),
        withinBound: t.per10MinOfMean < bound,
        meanMb: Math.round(t.mean / 1e5) / 10,
        samples: t.samples,
        warmup: WARMUP,
        gcForced: true,
      });
    }
  } finally {
    await node.stop().catch(() => {});
    await net.ask({ type: 'stop' }).catch(() => {});
    // let it exit on its own first (a CPU profile is written at exit), then make sure
    await Promise.race([once(net.child, 'exit'), sleep(10_000)]);
    net.child.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
