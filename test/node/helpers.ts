/**
 * Shared helpers for the light node's integration, adversarial and chaos suites. Everything is real:
 * an in-process devnet (real-format Alys blocks, the ethereumjs EVM, HTTP servers on 127.0.0.1:0),
 * the public `createLightNode`, real HTTP proxies, LevelDB and worker_threads. Expected values are
 * always derived from the devnet (its chain store), never written down.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevnet, type Devnet, type DevnetOptions } from '../../src/devnet/devnet.js';
import type { LightNodeConfig } from '../../src/config/index.js';
import {
  createLightNode,
  createNodePlatform,
  type CreateLightNodeOptions,
  type KvStore,
  type LightNode,
  type NodeEventName,
  type NodeEvents,
} from '../../src/index.nodejs.js';
import type { LightNodePlatform } from '../../src/node/types.js';
import { blockHash } from '../../src/protocol/block.js';
import type { Hex, SignedConsensusBlock } from '../../src/protocol/types.js';
import { type RpcProxy, type RpcProxyOptions, startRpcProxy } from '../helpers/rpc-proxy.js';

/** Small, fast sync settings: the suites run in seconds on 2 CPUs. */
/**
 * Sync settings for tests: fast retries, and a genesis replay (`start: 'genesis'`): the suites that
 * check every block's import path (faults, chaos, forks) replay the devnet chain; the head-first
 * start has its own suites (test/node/head-start.test.ts) that ask for `start: 'head'`.
 */
export const FAST_SYNC = {
  start: 'genesis',
  batchSize: 8,
  parallelism: 4,
  requestTimeoutMs: 2_000,
  retries: 5,
  backoffInitialMs: 50,
  backoffMaxMs: 500,
  followIntervalMs: 100,
} as const;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------ cleanup

/** LIFO cleanup list (servers, nodes, devnets, temp dirs); run it in afterEach/afterAll. */
export class Cleanup {
  private readonly fns: Array<() => unknown> = [];
  add<T>(fn: () => unknown, value?: T): T {
    this.fns.push(fn);
    return value as T;
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.fns.length) {
      try {
        await this.fns.pop()!();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw errors[0];
  }
}

/** Run `fn` with its own Cleanup, always run afterwards. */
export async function withCleanup<T>(fn: (c: Cleanup) => Promise<T>): Promise<T> {
  const c = new Cleanup();
  try {
    return await fn(c);
  } finally {
    await c.run();
  }
}

export async function tempDir(cleanup: Cleanup, prefix = 'alys-light-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

// ------------------------------------------------------------------------------------------ devnet

export async function startDevnet(cleanup: Cleanup, seed: string, opts: Partial<DevnetOptions> = {}): Promise<Devnet> {
  const devnet = await createDevnet({ consensusPort: 0, evmPort: 0, esploraPort: 0, users: 4, seed, ...opts });
  cleanup.add(() => devnet.stop());
  return devnet;
}

/** Produce one block after a merged-mining round: the block carries the AuxPoW (a PoW block). */
export async function producePow(devnet: Devnet): Promise<number> {
  const mined = await devnet.mineAuxPow();
  if (mined !== 'submitted') throw new Error(`no merged-mining work at height ${devnet.chain.height}`);
  await devnet.produceNext();
  const tip = devnet.chain.head;
  if (!tip.signed.message.auxpowHeader) throw new Error(`block ${tip.number} was expected to carry the AuxPoW`);
  return tip.number;
}

/**
 * Grow the chain by `blocks` blocks; every height that is a multiple of `powEvery` is a PoW block
 * (mined just before it is produced). `beforeBlock` may queue transactions for the next block.
 */
export async function growChain(
  devnet: Devnet,
  blocks: number,
  powEvery: number,
  beforeBlock?: (height: number) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    const height = devnet.chain.height + 1;
    await beforeBlock?.(height);
    if (height % powEvery === 0) await producePow(devnet);
    else await devnet.produceNext();
  }
}

/** Heights 1..through whose block carries an AuxPoW header, with the heights of its range. */
export function powBlocks(
  devnet: Devnet,
  through = devnet.chain.height,
): Array<{ number: number; rangeStart: number; rangeEnd: number }> {
  const out: Array<{ number: number; rangeStart: number; rangeEnd: number }> = [];
  for (let n = 1; n <= through; n++) {
    const header = devnet.chain.at(n)!.signed.message.auxpowHeader;
    if (!header) continue;
    const start = devnet.chain.get(header.rangeStart);
    const end = devnet.chain.get(header.rangeEnd);
    if (!start || !end) throw new Error(`block ${n}: its AuxPoW range is not on the devnet chain`);
    out.push({ number: n, rangeStart: start.number, rangeEnd: end.number });
  }
  return out;
}

/** The last PoW-finalized height: the highest range_end of an AuxPoW header in blocks 1..through (0: none). */
export function finalizedHeight(devnet: Devnet, through = devnet.chain.height): number {
  return Math.max(0, ...powBlocks(devnet, through).map((p) => p.rangeEnd));
}

/** Every height covered by a verified AuxPoW range among blocks 1..through (genesis is final by definition). */
export function coveredHeights(devnet: Devnet, through = devnet.chain.height): Set<number> {
  const out = new Set<number>([0]);
  for (const p of powBlocks(devnet, through)) for (let n = p.rangeStart; n <= p.rangeEnd; n++) out.add(n);
  return out;
}

export const honestHash = (devnet: Devnet, n: number): Hex => {
  const b = devnet.chain.at(n);
  if (!b) throw new Error(`the devnet has no block ${n}`);
  return b.hash;
};

// ------------------------------------------------------------------------------------------ nodes

export type EventLog = { [E in NodeEventName]: NodeEvents[E][] } & {
  all: Array<{ name: NodeEventName; data: unknown; at: number }>;
};

export function recordEvents(node: LightNode): EventLog {
  const log = { all: [] } as unknown as EventLog;
  for (const name of ['head', 'finalized', 'sync', 'source', 'fork', 'storage', 'health'] as const) {
    (log as any)[name] = [];
    node.on(name, (data) => {
      (log as any)[name].push(data);
      log.all.push({ name, data, at: Date.now() });
    });
  }
  return log;
}

export interface TestNode {
  node: LightNode;
  events: EventLog;
}

/** The KvStore each test node's StorageActor opened last (the real store, read raw by `storageProblems`). */
const openedStores = new WeakMap<LightNode, KvStore>();

/** The store a node made by `makeNode` opened last (undefined before it opened one). */
export const nodeStore = (node: LightNode): KvStore | undefined => openedStores.get(node);

/** `base` (default: the Node platform) with its openStore recording the store it opens via `onOpen`. */
function recordingPlatform(
  base: LightNodePlatform | undefined,
  verifierWorkers: number,
  onOpen: (kv: KvStore) => void,
): LightNodePlatform {
  const platform = base ?? createNodePlatform({ verifierWorkers } as LightNodeConfig);
  return {
    ...platform,
    async openStore(spec, cfg) {
      const kv = await platform.openStore(spec, cfg);
      onOpen(kv);
      return kv;
    },
  };
}

/** A light node over the devnet (memory storage, pow-checkpoint, fast sync settings, no Bitcoin source unless overridden); not started. */
export function makeNode(cleanup: Cleanup, devnet: Devnet, opts: CreateLightNodeOptions = {}): TestNode {
  const { sync, platform, ...rest } = opts;
  let node: LightNode | undefined;
  const recording = recordingPlatform(platform, rest.verifierWorkers ?? 0, (kv) => node && openedStores.set(node, kv));
  node = createLightNode({
    chainSpec: devnet.spec,
    rpc: [devnet.urls.consensus],
    evmRpc: [devnet.urls.evm],
    mode: 'pow-checkpoint',
    storage: 'memory',
    verifierWorkers: 0,
    logLevel: 'silent',
    // no peg tracking unless a test asks for it (the default Esplora is the local devnet's fixed port)
    bitcoin: { esplora: [] },
    ...rest,
    platform: recording,
    sync: { ...FAST_SYNC, ...sync },
  });
  const events = recordEvents(node);
  cleanup.add(() => node.stop());
  return { node, events };
}

export async function startNode(
  cleanup: Cleanup,
  devnet: Devnet,
  opts: CreateLightNodeOptions = {},
): Promise<TestNode> {
  const n = makeNode(cleanup, devnet, opts);
  await n.node.start();
  return n;
}

/** Poll `probe` until it returns a value other than undefined/false; throws with `what()` on timeout. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: () => string | Promise<string>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${await what()}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    await sleep(everyMs);
  }
}

/** Wait until the node's verified head is the devnet's tip (number and hash) and its finalized height is the devnet's. */
export async function waitSynced(node: LightNode, devnet: Devnet, timeoutMs = 20_000) {
  return waitFor(
    async () => {
      const s = await node.status();
      const tip = devnet.chain.head;
      return s.head?.number === tip.number && s.head.hash === tip.hash && s.finalized === finalizedHeight(devnet)
        ? s
        : undefined;
    },
    async () => {
      const s = await node.status();
      return `head ${devnet.chain.height} (${devnet.chain.head.hash}) / finalized ${finalizedHeight(devnet)}; node: head ${s.head?.number} (${s.head?.hash}), finalized ${s.finalized}, sync ${JSON.stringify(s.sync)}, sources ${JSON.stringify(s.sources)}`;
    },
    timeoutMs,
  );
}

/** Blocks the StorageActor holds at heights 0..upTo (undefined where it holds none). */
export async function storedBlocks(node: LightNode, upTo: number): Promise<Array<SignedConsensusBlock | undefined>> {
  const sys = node.system!;
  const out: Array<SignedConsensusBlock | undefined> = [];
  const storage = sys.ref('/alys/storage/storage');
  for (let n = 0; n <= upTo; n++)
    out.push(
      (await storage.ask({ type: 'block', number: n } as never, { timeoutMs: 10_000 })) as
        | SignedConsensusBlock
        | undefined,
    );
  return out;
}

/** Hashes of the stored blocks 0..upTo (null where none is stored). */
export async function storedHashes(node: LightNode, upTo: number): Promise<Array<Hex | null>> {
  return (await storedBlocks(node, upTo)).map((b) => (b ? blockHash(b.message) : null));
}

/** The blocks the ChainActor answers for 0..upTo (what the node serves as verified). */
export async function chainBlockHashes(node: LightNode, upTo: number): Promise<Array<Hex | null>> {
  const sys = node.system!;
  const out: Array<Hex | null> = [];
  for (let n = 0; n <= upTo; n++) {
    const b = (await sys.ref('/alys/chain/chain').ask({ type: 'block', number: n } as never, { timeoutMs: 10_000 })) as
      | SignedConsensusBlock
      | undefined;
    out.push(b ? blockHash(b.message) : null);
  }
  return out;
}

/**
 * Storage holds exactly the honest chain 0..head and nothing above it. The blocks 0..head are read
 * through the StorageActor; "nothing else" is checked on the raw store (its `b/<height>` block records
 * and `h/<hash>` index entries, the layout of src/node/storage/block-store.ts), because the actor's
 * `block` query answers nothing above the stored head and would hide a stray record there. Only for
 * nodes made by `makeNode` (whose store is recorded). Returns a list of problems (empty: fine).
 */
export async function storageProblems(node: LightNode, devnet: Devnet, head: number): Promise<string[]> {
  const kv = openedStores.get(node);
  if (!kv) return ['no store recorded for this node (was it made by makeNode and started?)'];
  const hashes = await storedHashes(node, head);
  const problems: string[] = [];
  hashes.forEach((h, n) => {
    if (h === null) problems.push(`block ${n} (<= head ${head}) is not stored`);
    else if (h !== honestHash(devnet, n))
      problems.push(`block ${n} stored ${h}, the devnet has ${honestHash(devnet, n)}`);
  });
  problems.push(...(await rawStoreProblems(kv, head)));
  return problems;
}

/** The raw store holds one block record and one hash index entry per height 0..head, and none else. */
export async function rawStoreProblems(kv: KvStore, head: number): Promise<string[]> {
  const problems: string[] = [];
  const heights = (await kv.keys('b/')).map((k) => Number(k.slice(2)));
  for (const n of heights) if (!(n >= 0 && n <= head)) problems.push(`a block record at ${n} (head ${head}) is stored`);
  if (heights.length !== head + 1) problems.push(`${heights.length} block records stored for heights 0..${head}`);
  const index = await kv.keys('h/');
  const numbers = await kv.getMany(index);
  index.forEach((k, i) => {
    const n = Number(new TextDecoder().decode(numbers[i]));
    if (!(n >= 0 && n <= head)) problems.push(`hash index entry ${k} names block ${n} (head ${head})`);
  });
  if (index.length !== head + 1) problems.push(`${index.length} hash index entries stored for heights 0..${head}`);
  return problems;
}

export function actorStates(
  node: LightNode,
): Array<{ address: string; state: string; restarts: number; placement: string }> {
  return node
    .system!.registry.list()
    .map((i) => ({ address: i.address, state: i.state, restarts: i.restarts, placement: i.placement }));
}

/** Events that contradict the honest devnet chain: head/finalized hashes, finalized heights not covered by a verified AuxPoW range. */
export function eventProblems(events: EventLog, devnet: Devnet, opts: { reorgs?: boolean } = {}): string[] {
  const problems: string[] = [];
  // With `reorgs` (an equivocating federation): a head event may name a federation-signed block of
  // another branch, as long as a later 'fork switched' event at or below its height replaced it.
  const switchedAfter = (index: number, number: number) =>
    events.all
      .slice(index + 1)
      .some(
        (e) =>
          e.name === 'fork' &&
          (e.data as NodeEvents['fork']).kind === 'switched' &&
          (e.data as NodeEvents['fork']).number <= number,
      );
  const covered = coveredHeights(devnet);
  const pows = powBlocks(devnet);
  let last = -1;
  let highestHead = -1;
  for (const e of events.all) {
    if (e.name === 'head') {
      const h = e.data as NodeEvents['head'];
      if (
        devnet.chain.at(h.number)?.hash !== h.hash &&
        !(opts.reorgs && switchedAfter(events.all.indexOf(e), h.number))
      )
        problems.push(`head event ${h.number} ${h.hash} is not the devnet's block`);
      highestHead = Math.max(highestHead, h.number);
    }
    if (e.name !== 'finalized') continue;
    const f = e.data as NodeEvents['finalized'];
    if (devnet.chain.at(f.number)?.hash !== f.hash)
      problems.push(`finalized event ${f.number} ${f.hash} is not the devnet's block`);
    if (!covered.has(f.number)) problems.push(`finalized event ${f.number} is not covered by any AuxPoW range`);
    // the PoW block whose range covers it must already be part of the verified chain the node reported
    const pow = pows.find((p) => p.rangeStart <= f.number && f.number <= p.rangeEnd);
    if (f.number > 0 && pow && pow.number > highestHead)
      problems.push(
        `finalized event ${f.number} came before the node reported the PoW block ${pow.number} covering it (head ${highestHead})`,
      );
    if (f.number < last) problems.push(`finalized went back from ${last} to ${f.number}`);
    last = f.number;
  }
  return problems;
}

// ------------------------------------------------------------------------------------------ HTTP proxy

/** A JSON-RPC proxy on 127.0.0.1 in front of `target` (see test/helpers/rpc-proxy.ts), closed by `cleanup`. */
export async function startProxy(cleanup: Cleanup, target: string, opts: RpcProxyOptions = {}): Promise<RpcProxy> {
  const proxy = await startRpcProxy(target, opts);
  return cleanup.add(() => proxy.close(), proxy);
}
