/**
 * The head-first cold start (issue 12, docs/trust.md 2.2-2.6) on real devnets over real HTTP, with
 * memory and LevelDB stores:
 *
 * - on the 20,000-block persisted chain: the verified head after exactly one block request, the
 *   manifest's finalized block after a walk bounded by the chain's PoW spacing, then a backfill to
 *   block 0 that needs no verifier (no BLS per block), stopped partway and resumed from the store;
 * - on a small in-process devnet: head-first + backfill stores byte for byte what a genesis replay
 *   stores; `sync.checkpoint` on and off the chain; reads below `sync.history`; warm starts after a
 *   head-first start, and a tampered stored head.
 *
 * Expected values come from the chains themselves (the manifest, the devnet's chain store).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toQuantity } from '../../src/protocol/execution/json.js';
import type { ServedDevnet } from '../../src/devnet/generate/persist.js';
import {
  createLightNode,
  type CreateLightNodeOptions,
  type LightNode,
  type NodeEvents,
} from '../../src/index.nodejs.js';
import { signingRoot } from '../../src/protocol/block.js';
import { concatBytes, toHex, type Hex } from '../../src/protocol/bytes.js';
import { BIG_CHAIN_BLOCKS, serveBigChain } from '../helpers/big-chain.js';
import type { RpcProxy } from '../helpers/rpc-proxy.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import type { ChainSpec, SignedConsensusBlock } from '../../src/protocol/types.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../src/protocol/codec/msgpack.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { chainDataDir } from '../../src/platform/nodejs/platform.js';
import { openLevelStore } from '../../src/platform/nodejs/storage-level.js';
import { decodeMeta } from '../../src/node/storage/meta.js';
import { CheckpointError } from '../../src/node/sources/head.js';
import { BelowHistoryError, ProviderRpcError } from '../../src/index.nodejs.js';
import {
  Cleanup,
  FAST_SYNC,
  eventProblems,
  finalizedHeight,
  growChain,
  honestHash,
  makeNode,
  powBlocks,
  recordEvents,
  startDevnet,
  startProxy,
  storedHashes,
  tempDir,
  waitFor,
  waitSynced,
  withCleanup,
  type EventLog,
  type TestNode,
} from './helpers.js';

const HEAD_SYNC = { ...FAST_SYNC, start: 'head', batchSize: 64 } as const;
/**
 * The backfill of the big chain keeps parallelism x 16 requests in flight against a server in this
 * process: on a busy machine some take longer than FAST_SYNC's 2 s (a timeout is charged, not fatal).
 */
const BIG_SYNC = { ...HEAD_SYNC, requestTimeoutMs: 30_000 } as const;
/** Methods that return a block (what "blocks requested" counts). */
const BLOCK_METHODS = ['getheadblock', 'getblockbyheight', 'getblockbyhash'];

interface Logged extends EventLog {
  backfill: NodeEvents['backfill'][];
}

/** Record every event, `backfill` included. */
function recordAll(node: LightNode): Logged {
  return withBackfill({ node, events: recordEvents(node) });
}

/** The node's event log with its `backfill` events too. */
function withBackfill({ node, events }: TestNode): Logged {
  const log = events as Logged;
  log.backfill = [];
  node.on('backfill', (e) => log.backfill.push(e));
  return log;
}

/** Everything a stopped node's LevelDB store holds (pow-checkpoint mode, the devnet's spec). */
async function dump(dataDir: string, spec: ChainSpec) {
  const kv = await openLevelStore(chainDataDir(dataDir, spec, 'pow-checkpoint'));
  try {
    const read = async (prefix: string) => {
      const keys = await kv.keys(prefix);
      const values = await kv.getMany(keys);
      return new Map(keys.map((k, i) => [k, toHex(values[i]!)]));
    };
    // (typed as the JSON it is: the assertions below read it loosely)
    const meta: ReturnType<typeof JSON.parse> = decodeMeta((await kv.get('meta'))!);
    return { blocks: await read('b/'), hashes: await read('h/'), meta };
  } finally {
    await kv.close();
  }
}

/** A store's meta without the window's signer lists. */
function withoutSigners(meta: { snapshot: { window: Array<{ block: object }> } }) {
  const copy = structuredClone(meta);
  for (const w of copy.snapshot.window) delete (w.block as { signers?: unknown }).signers;
  return copy;
}

const blockKey = (n: number) => `b/${String(n).padStart(12, '0')}`;

/** A block record as the store writes it: sha256(rest) || root || msgpack block. */
function storeRecord(root: Uint8Array, block: SignedConsensusBlock): Uint8Array {
  const rest = concatBytes(root, encodeSignedBlockMsgpack(block));
  return concatBytes(sha256(rest), rest);
}
const parts = (bytes: Uint8Array): { root: Uint8Array; block: SignedConsensusBlock } => ({
  root: bytes.slice(32, 64),
  block: decodeSignedBlockMsgpack(bytes.subarray(64)),
});

/** An error and its causes, outermost first. */
function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let x = e; x instanceof Error && out.length < 16; x = x.cause) out.push(x);
  return out;
}

const sortedEntries = (m: Map<string, string>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Messages the verifier pool handled (the metric the actor system keeps for every actor). */
async function verifierMessages(node: LightNode): Promise<number> {
  const lines = (await node.metrics())
    .split('\n')
    .filter((l) => l.startsWith('actor_messages_processed_total{') && l.includes('/chain/verifiers/'));
  expect(lines.length).toBeGreaterThan(0);
  return lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

// ------------------------------------------------------------------------------------------ 20,000 blocks

describe(`the ${BIG_CHAIN_BLOCKS}-block chain`, () => {
  const c = new Cleanup();
  let served: ServedDevnet;
  let head: { number: number; hash: Hex; finalized: number };
  /** The largest distance between consecutive PoW blocks among the last 100 blocks. */
  let powGap: number;

  beforeAll(async () => {
    served = await serveBigChain();
    c.add(() => served.close());
    head = served.persisted.manifest.head;
    const chain = served.persisted.chain;
    const pows: number[] = [];
    for (let n = head.number - 100; n <= head.number; n++) if (chain.at(n)!.signed.message.auxpowHeader) pows.push(n);
    expect(pows.length).toBeGreaterThan(2);
    powGap = Math.max(...pows.slice(1).map((n, i) => n - pows[i]!));
  }, 600_000);
  afterAll(() => c.run(), 60_000);

  function bigNode(rpc: string, opts: CreateLightNodeOptions = {}) {
    const { sync, ...rest } = opts;
    const node = createLightNode({
      chainSpec: served.persisted.spec,
      rpc: [rpc],
      evmRpc: [served.urls.evm],
      mode: 'pow-checkpoint',
      storage: 'memory',
      verifierWorkers: 0,
      logLevel: 'silent',
      ...rest,
      sync: { ...BIG_SYNC, ...sync },
    });
    const events = recordAll(node);
    c.add(() => node.stop());
    return { node, events };
  }

  it('reports the verified head after one block request, and the finalized block after a walk of about two PoW intervals', async () => {
    // every request but the head's is held until the head is reported: the head needs nothing else
    const proxy: RpcProxy = await startProxy(c, served.urls.consensus, {
      hold: (call) => call.method !== 'getheadblock',
    });
    const { node, events } = bigNode(proxy.url, { sync: { history: 'none' } });
    let atHead: string[] | undefined;
    let atFinalized: string[] | undefined;
    node.on('head', () => {
      // the calls seen so far; every one but getheadblock is still held (unanswered)
      atHead ??= proxy.calls.map((x) => x.method).filter((m) => m === 'getheadblock');
      proxy.release();
    });
    node.on('finalized', () => {
      atFinalized ??= proxy.calls.map((x) => x.method).filter((m) => BLOCK_METHODS.includes(m));
    });
    await node.start();
    await waitFor(
      () => atFinalized,
      () => 'the finalized event',
    );
    expect(atHead).toEqual(['getheadblock']);
    expect(events.head[0]).toMatchObject({ number: head.number, hash: head.hash });
    expect(events.finalized[0]!.number).toBe(head.finalized);
    expect(events.finalized[0]!.hash).toBe(rootAt(head.finalized));
    const bound = 2 * (powGap + 1) + 4;
    expect(atFinalized!.length).toBeLessThanOrEqual(bound);
    const s = await node.status();
    expect(s.head).toMatchObject({ number: head.number, hash: head.hash });
    expect(s.finalized).toBe(head.finalized);
    expect(s.historyFrom).toBeGreaterThan(head.number - bound);
  });

  it('backfills to block 0 by hash links alone, and an interrupted backfill resumes from the store', async () => {
    const dataDir = await tempDir(c);
    const opts: CreateLightNodeOptions = { storage: 'level', dataDir, sync: { history: 'all' } };
    const first = bigNode(served.urls.consensus, opts);
    await first.node.start();
    // stop once the backfill is well under way (more than 2,000 blocks below the head) but not done
    await waitFor(
      () => first.events.backfill.some((e) => !e.done && e.from < head.number - 2_000),
      () => `a backfill event below ${head.number - 2_000}: ${JSON.stringify(first.events.backfill.at(-1))}`,
      60_000,
      5,
    );
    const stoppedAt = (await first.node.status()).historyFrom!;
    expect(await verifierMessages(first.node)).toBe(0);
    await first.node.stop();
    expect(stoppedAt).toBeLessThan(head.number - 2_000);
    expect(stoppedAt).toBeGreaterThan(0);

    const second = bigNode(served.urls.consensus, opts);
    await second.node.start();
    expect(second.events.storage.map((e) => e.kind)).toEqual(['warm-start']);
    const done = await waitFor(
      () => second.events.backfill.find((e) => e.done),
      () => `the backfill done: ${JSON.stringify(second.events.backfill.at(-1))}`,
      120_000,
    );
    // it went on from the store's end, not from the head again
    expect(second.events.backfill[0]!.from).toBeLessThanOrEqual(stoppedAt);
    expect(done).toMatchObject({ from: 0, target: 0, done: true });
    const s = await second.node.status();
    expect(s.historyFrom).toBe(0);
    expect(s.head).toMatchObject({ number: head.number, hash: head.hash });
    // block 0 and blocks along the way are the chain's
    for (const n of [0, 1, stoppedAt - 1, stoppedAt, head.number - 1]) {
      const b = await second.node.system!.ref('/alys/chain/chain').ask({ type: 'block', number: n } as never);
      expect(toHex(signingRoot((b as { message: never }).message))).toBe(rootAt(n));
    }
    // no verifier did any work: the start verified the head and the PoW block itself, the backfill only hashes
    expect(await verifierMessages(second.node)).toBe(0);
  }, 300_000);

  const rootAt = (n: number): Hex => toHex(signingRoot(served.persisted.chain.at(n)!.signed.message));
});

// ------------------------------------------------------------------------------------------ small devnet

describe('a small devnet', () => {
  const c = new Cleanup();
  let devnet: Devnet;
  /** PoW blocks at 10, 20, 30 and 40; the head 45 is not one. */
  const TIP = 45;
  /** The latest PoW block's range_start: a head-first start stores from there (or a little lower: the walk's last range). */
  let rangeStart: number;

  beforeAll(async () => {
    devnet = await startDevnet(c, 'head-start');
    await growChain(devnet, TIP, 10);
    const pows = powBlocks(devnet);
    expect(pows.map((p) => p.number)).toEqual([10, 20, 30, 40]);
    rangeStart = pows.at(-1)!.rangeStart;
  }, 60_000);
  afterAll(() => c.run(), 60_000);

  /** A head-first start's history: from the PoW range's start, or from the lowest block of the walk's last range. */
  const expectStartHistory = (from: number) => {
    expect(from).toBeLessThanOrEqual(rangeStart);
    expect(from).toBeGreaterThan(rangeStart - FAST_SYNC.batchSize);
  };

  /** A JSON-RPC call to the devnet's own EVM endpoint (what the node's verified reads must match). */
  async function evm(method: string, params: unknown[]): Promise<unknown> {
    const res = await fetch(devnet.urls.evm, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    return ((await res.json()) as { result: unknown }).result;
  }

  const headNode = (cl: Cleanup, opts: CreateLightNodeOptions = {}) => {
    const n = makeNode(cl, devnet, { ...opts, sync: { start: 'head', ...opts.sync } });
    return { ...n, events: withBackfill(n) };
  };

  it('a head-first start with history "all" stores byte for byte what a genesis replay stores', async () => {
    await withCleanup(async (cl) => {
      const [dirA, dirB] = [await tempDir(cl), await tempDir(cl)];
      const a = headNode(cl, { storage: 'level', dataDir: dirA, sync: { history: 'all' } });
      const b = makeNode(cl, devnet, { storage: 'level', dataDir: dirB, sync: { start: 'genesis' } });
      await Promise.all([a.node.start(), b.node.start()]);
      await waitSynced(a.node, devnet);
      await waitSynced(b.node, devnet);
      await waitFor(
        () => a.events.backfill.some((e) => e.done),
        () => `backfill done: ${JSON.stringify(a.events.backfill.at(-1))}`,
      );
      expect(a.events.storage[0]!.detail).toContain(`started at verified head ${TIP}`);
      expect((await a.node.status()).historyFrom).toBe(0);
      expect((await b.node.status()).historyFrom).toBe(0);
      await Promise.all([a.node.stop(), b.node.stop()]);

      const [sa, sb] = [await dump(dirA, devnet.spec), await dump(dirB, devnet.spec)];
      expect(sa.blocks.size).toBe(TIP + 1);
      expect(sa.hashes.size).toBe(TIP + 1);
      expect(sortedEntries(sa.blocks)).toEqual(sortedEntries(sb.blocks));
      expect(sortedEntries(sa.hashes)).toEqual(sortedEntries(sb.hashes));
      // The metas are equal but for how the window's blocks were authenticated: the replay checked
      // their approvals (signers listed), the walk linked them by hash ([]); the head and the PoW
      // block carry their signers both ways.
      const window = (m: typeof sa.meta) => m.snapshot.window.map((w: { block: { signers: number[] } }) => w.block);
      const all = devnet.members.map((m) => m.index);
      expect(window(sb.meta).map((b: { signers: number[] }) => b.signers)).toEqual(window(sb.meta).map(() => all));
      expect(window(sa.meta).map((b: { number: number; signers: number[] }) => b.signers)).toEqual(
        window(sa.meta).map((b: { number: number; pow: boolean }) => (b.number === TIP || b.pow ? all : [])),
      );
      expect(withoutSigners(sa.meta)).toEqual(withoutSigners(sb.meta));
    });
  });

  it('sync.checkpoint on the chain: the start goes down to it and the backfill stops there', async () => {
    await withCleanup(async (cl) => {
      const at = TIP - 30;
      const { node, events } = headNode(cl, { sync: { history: 'all', checkpoint: honestHash(devnet, at) } });
      await node.start();
      await waitSynced(node, devnet);
      await waitFor(
        () => events.backfill.some((e) => e.done),
        () => `backfill done: ${JSON.stringify(events.backfill.at(-1))}`,
      );
      expect(events.backfill.filter((e) => e.done)[0]).toMatchObject({ from: at, target: at });
      expect((await node.status()).historyFrom).toBe(at);
      expect(events.head[0]).toMatchObject({ number: TIP, hash: honestHash(devnet, TIP) });
      expect(events.finalized[0]).toMatchObject({
        number: finalizedHeight(devnet),
        hash: honestHash(devnet, finalizedHeight(devnet)),
      });
      expect(await storedHashes(node, at - 1)).toEqual(Array.from({ length: at }, () => null));
      expect(eventProblems(events, devnet)).toEqual([]);
    });
  });

  it('sync.checkpoint the sources do not know: no head is accepted, start fails with the checkpoint error', async () => {
    await withCleanup(async (cl) => {
      const unknown = toHex(sha256(new TextEncoder().encode('not a block of this chain')));
      const { node, events } = headNode(cl, { sync: { checkpoint: unknown } });
      const err = await node.start().then(
        () => null,
        (e: unknown) => e,
      );
      // start() fails with the typed error in its causes, and nothing was reported or stored
      expect(causes(err).find((e) => e instanceof CheckpointError)).toMatchObject({ code: 'checkpoint.unknown' });
      expect(events.head).toEqual([]);
      expect(events.finalized).toEqual([]);
      expect((await node.status()).head).toBeNull();
    });
  });

  it('sync.history "none": a read below the history fails with BelowHistoryError, the same read at the head is verified', async () => {
    await withCleanup(async (cl) => {
      const { node } = headNode(cl, { sync: { history: 'none' } });
      await node.start();
      await waitSynced(node, devnet);
      const lowest = (await node.status()).historyFrom!;
      expectStartHistory(lowest);
      const user = devnet.users[0]!.address;
      const below = await node.provider.request({ method: 'eth_getBalance', params: [user, '0x1'] }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(below).toBeInstanceOf(ProviderRpcError);
      expect(below).toMatchObject({ code: -32001, data: { block: '0x1', historyFrom: toQuantity(lowest) } });
      const typed = causes(below).find((e) => e instanceof BelowHistoryError);
      expect(typed).toMatchObject({ code: 'below-history', number: 1, historyFrom: lowest });
      expect((typed as BelowHistoryError).hint).toContain('sync.history');
      expect((below as Error).message).toContain('sync.history');
      // the edge: the block below the history fails too, the lowest stored block and the head answer
      await expect(
        node.provider.request({ method: 'eth_getBalance', params: [user, toQuantity(lowest - 1)] }),
      ).rejects.toMatchObject({ code: -32001 });
      for (const n of [lowest, TIP]) {
        const got = await node.provider.request({ method: 'eth_getBalance', params: [user, toQuantity(n)] });
        expect(got).toBe(await evm('eth_getBalance', [user, toQuantity(n)]));
      }
    });
  });

  it('a warm start after a head-first start resumes with its history; a tampered stored head is caught', async () => {
    await withCleanup(async (cl) => {
      const dataDir = await tempDir(cl);
      const opts = { storage: 'level' as const, dataDir, sync: { history: 'none' as const } };
      const first = headNode(cl, opts);
      await first.node.start();
      await waitSynced(first.node, devnet);
      const lowest = (await first.node.status()).historyFrom!;
      expectStartHistory(lowest);
      await first.node.stop();
      expect(first.events.storage.map((e) => e.kind)).toEqual(['cold-start']);

      const second = headNode(cl, opts);
      await second.node.start();
      await waitSynced(second.node, devnet);
      expect(second.events.storage.map((e) => e.kind)).toEqual(['warm-start']);
      expect(second.events.storage[0]!.head).toBe(TIP);
      expect((await second.node.status()).historyFrom).toBe(lowest);
      await second.node.stop();

      // the stored head gets another block's aggregate signature (its root does not cover it)
      const kv = await openLevelStore(chainDataDir(dataDir, devnet.spec, 'pow-checkpoint'));
      try {
        const head = parts((await kv.get(blockKey(TIP)))!);
        const other = parts((await kv.get(blockKey(lowest)))!).block.signature.aggregateSignature;
        expect(other).not.toBe(head.block.signature.aggregateSignature);
        const tampered = { ...head.block, signature: { ...head.block.signature, aggregateSignature: other } };
        await kv.batch([{ type: 'put', key: blockKey(TIP), value: storeRecord(head.root, tampered) }]);
      } finally {
        await kv.close();
      }
      const third = headNode(cl, opts);
      await third.node.start();
      await waitSynced(third.node, devnet);
      expect(third.events.storage.map((e) => e.kind)).toEqual(['corrupt', 'cold-start']);
      expect(third.events.storage[0]!.detail).toMatch(new RegExp(`stored head ${TIP} fails its approval check`));
      // the cold start was head-first again: verified head, walk, history from the PoW range
      expect(third.events.storage[1]!.detail).toContain(`started at verified head ${TIP}`);
      expect(third.events.head[0]).toMatchObject({ number: TIP, hash: honestHash(devnet, TIP) });
      expect((await third.node.status()).historyFrom).toBe(lowest);
    });
  });
});
