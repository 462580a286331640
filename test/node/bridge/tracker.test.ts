/**
 * The peg tracker (src/node/bridge/tracker.ts) over real devnet pegs, persisted in a real LevelDB:
 * tracking by txid, by EVM tx hash and by address, one `peg` event per transition in the order of
 * spec 6.5, resumption after a restart (states folded again from the stored evidence), damaged
 * records dropped (never trusted), and the bounds. Receipts come from the real verified reads over
 * the devnet's EVM server; Bitcoin from `regtestView` (the real SPV client is tested elsewhere).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { type PegEvent, PegArgumentError, PegTracker, PegTrackerFullError } from '../../../src/node/bridge/tracker.js';
import { META_KEY, recordKey } from '../../../src/node/bridge/tracker-record.js';
import { createVerifiedReads, type VerifiedReads } from '../../../src/node/engine/index.js';
import type { KvStore } from '../../../src/node/storage/kv.js';
import { createMemoryStore } from '../../../src/node/storage/memory.js';
import { openLevelStore } from '../../../src/platform/nodejs/storage-level.js';
import { Cleanup, startDevnet, tempDir } from '../helpers.js';
import { blockRef, buildPegScenario, devnetPayloads, type PegScenario, regtestView } from './helpers.js';

const c = new Cleanup();
let devnet: Devnet;
let s: PegScenario;
let reads: VerifiedReads;
let dir: string;
let store: KvStore;
let tracker: PegTracker;
const events: PegEvent[] = [];
const faults: Error[] = [];

function makeTracker(kv: KvStore, opts: { maxPegs?: number; into?: PegEvent[] } = {}): PegTracker {
  return new PegTracker({
    store: kv,
    spec: devnet.spec,
    network: 'regtest',
    bitcoin: regtestView(devnet.bitcoin),
    receipts: reads,
    blockAt: async (n) => blockRef(devnet, n),
    ...(opts.maxPegs ? { maxPegs: opts.maxPegs } : {}),
    onPeg: (e) => opts.into?.push(e),
    onFault: (e) => faults.push(e),
  });
}

/** The SPV tip moved (Bitcoin blocks came first); then what the ChainActor sends: a verified block with peg activity, finality. */
async function feed(t: PegTracker, n: number): Promise<void> {
  await t.refresh();
  const ref = blockRef(devnet, n)!;
  const m = ref.block.message;
  if (m.pegins.length || m.pegoutPaymentProposal || m.finalizedPegouts.length) await t.onBlock(ref);
  await t.onFinalized(devnet.chain.lastFinalized.number);
}

beforeAll(async () => {
  devnet = await startDevnet(c, 'peg-tracker');
  reads = createVerifiedReads({ evmRpc: [devnet.urls.evm], payloads: devnetPayloads(devnet) });
  dir = await tempDir(c);
  store = await openLevelStore(join(dir, 'db'));
  tracker = makeTracker(store, { into: events });
  await tracker.load();
  s = await buildPegScenario(devnet, {
    step: (n) => feed(tracker, n),
    sent: async (kind, id) => void (kind === 'pegin' ? await tracker.trackPegIn(id) : await tracker.trackPegOut(id)),
  });
}, 60_000);
afterAll(async () => {
  await store.close().catch(() => {});
  await c.run();
});

const statesOf = (list: PegEvent[], key: string) =>
  list
    .filter((e) => (e.peg.kind === 'in' ? e.peg.txid : e.peg.evmTxHash) === key)
    .map((e) => e.peg.state.state)
    .filter((st, i, all) => i === 0 || all[i - 1] !== st);

describe('peg tracker on the devnet', () => {
  it('derives the deposit address from the spec keys: the devnet consensus RPC getdepositaddress', async () => {
    const res = await fetch(devnet.urls.consensus, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getdepositaddress', params: [] }),
    });
    const { result } = (await res.json()) as { result: string };
    expect(tracker.depositAddress).toBe(result);
    expect(result).toMatch(/^bcrt1p/);
  });

  it('moves a peg-in through broadcast, eligible, minted, finalized: one event per transition', () => {
    expect(statesOf(events, s.pegin)).toEqual(['broadcast', 'eligible', 'minted', 'finalized']);
    expect(tracker.peg('in', s.pegin)?.state).toMatchObject({
      state: 'finalized',
      alysBlock: s.mintedIn,
      evmAddress: s.evm,
    });
  });

  it('moves a peg-out through requested, proposed, finalized-on-alys and broadcast (one input), confirmed', () => {
    // the PoW block that finalizes the payment is also when the federation broadcasts it: one verified
    // input, one net transition (the event names the state it left)
    expect(statesOf(events, s.pegout)).toEqual(['requested', 'proposed', 'broadcast', 'confirmed']);
    const paid = events.find((e) => e.peg.kind === 'out' && e.peg.state.state === 'broadcast');
    expect(paid?.previous).toBe('proposed');
    expect(tracker.peg('out', s.pegout)?.state).toMatchObject({ state: 'confirmed', k: 1, alysBlock: s.proposalIn });
  });

  it('started after the fact (a new node): finds the minting and the finalized payment in the stored verified blocks', async () => {
    const late = makeTracker(createMemoryStore());
    await late.load();
    // the finality it would hear from the ChainActor on its first block
    await late.onFinalized(devnet.chain.lastFinalized.number);
    expect((await late.trackPegIn(s.pegin)).state).toMatchObject({ state: 'finalized', alysBlock: s.mintedIn });
    expect((await late.trackPegOut(s.pegout)).state).toMatchObject({ state: 'confirmed', alysBlock: s.proposalIn });
    // once per peg per run: a second question does not walk the blocks again, and answers the same
    expect((await late.trackPegIn(s.pegin)).state.state).toBe('finalized');
  });

  it('ends a deposit without OP_RETURN invalid and a request below 0.01 BTC ignored', async () => {
    expect((await tracker.trackPegIn(s.noOpReturn)).state).toEqual({ state: 'invalid', reason: 'no-evm-address' });
    expect((await tracker.trackPegOut(s.smallPegout)).state).toMatchObject({
      state: 'ignored',
      reason: 'below-minimum',
    });
  });

  it('tracks by EVM address: the deposits naming it and its RequestPegOut logs', async () => {
    const fresh = makeTracker(await openLevelStore(join(dir, 'by-address')));
    const found = await fresh.trackAddress(s.evm);
    const keys = found.map((p) => (p.kind === 'in' ? p.txid : p.evmTxHash));
    expect(keys).toContain(s.pegin);
    expect(keys).toContain(s.pegout);
    expect(keys).not.toContain(s.smallPegout); // user 1's
    // tracking after the fact: a fresh tracker saw no blocks this run; the minting is found in the stored blocks
    expect(fresh.peg('in', s.pegin)?.state).toMatchObject({ state: 'minted', alysBlock: s.mintedIn });
    await fresh.onBlock(blockRef(devnet, s.mintedIn)!);
    expect(fresh.peg('in', s.pegin)?.state.state).toBe('minted');
    expect(fresh.addresses()).toEqual([s.evm]);
  });

  it('moves a peg back when its block is rolled back, and forward when the block is canonical again', async () => {
    const seen: PegEvent[] = [];
    const t = makeTracker(await openLevelStore(join(dir, 'rollback')), { into: seen });
    await t.trackPegIn(s.pegin); // minted at once: found in the stored blocks
    const ref = blockRef(devnet, s.mintedIn)!;
    await t.onBlock(ref);
    expect(t.peg('in', s.pegin)?.state.state).toBe('minted');
    const payloadHash = ref.block.message.executionPayload.blockHash;
    await t.onRollback([{ number: ref.number, hash: ref.hash, payloadHash }]);
    expect(t.peg('in', s.pegin)?.state.state).toBe('eligible');
    await t.onBlock(ref);
    expect(seen.map((e) => e.peg.state.state)).toEqual(['minted', 'eligible', 'minted']);
  });

  it('orphans the evidence of a rolled-back range when only the range is known (the ChainActor fork switch)', async () => {
    const seen: PegEvent[] = [];
    const t = makeTracker(await openLevelStore(join(dir, 'rollback-range')), { into: seen });
    await t.trackPegIn(s.pegin);
    await t.onBlock(blockRef(devnet, s.mintedIn)!);
    // the finalization and payment are found in the stored blocks after the proposal
    expect((await t.trackPegOut(s.pegout)).state.state).toBe('confirmed');
    await t.onRollbackRange(s.mintedIn + 1, s.requestIn - 1); // no evidence there: nothing moves
    await t.onRollbackRange(s.requestIn + 5, s.requestIn); // not a range: ignored
    expect(t.peg('in', s.pegin)?.state.state).toBe('minted');
    expect(t.peg('out', s.pegout)?.state.state).toBe('confirmed');
    await t.onRollbackRange(s.proposalIn, Math.max(s.finalizedIn, s.proposalIn + 10));
    expect(t.peg('out', s.pegout)?.state.state).toBe('requested');
    expect(t.peg('in', s.pegin)?.state.state).toBe('minted');
    await t.onRollbackRange(s.mintedIn, Math.max(s.finalizedIn, s.proposalIn + 10));
    expect(t.peg('in', s.pegin)?.state.state).toBe('eligible');
    expect(t.peg('out', s.pegout)?.state.state).toBe('unknown');
    // canonical again: the block with the minting comes back, the request's verified receipt is read again
    await t.onBlock(blockRef(devnet, s.mintedIn)!);
    await t.refresh();
    expect(t.peg('in', s.pegin)?.state.state).toBe('minted');
    expect(t.peg('out', s.pegout)?.state.state).toBe('requested');
  });

  it('refuses malformed arguments with a typed error and changes nothing', async () => {
    const before = tracker.pegs().length;
    await expect(tracker.trackPegIn('nope')).rejects.toBeInstanceOf(PegArgumentError);
    await expect(tracker.trackPegOut(s.pegin)).rejects.toMatchObject({ code: 'peg.bad-argument' });
    await expect(tracker.trackAddress('0x12')).rejects.toMatchObject({ code: 'peg.bad-argument' });
    expect(tracker.pegs()).toHaveLength(before);
  });
});

describe('persistence (LevelDB)', () => {
  it('resumes after a restart: the same pegs and states, no event for what is not new, and it keeps going', async () => {
    const before = tracker.pegs();
    await store.close();
    store = await openLevelStore(join(dir, 'db'));
    const resumedEvents: PegEvent[] = [];
    tracker = makeTracker(store, { into: resumedEvents });
    expect(await tracker.load()).toEqual({ loaded: before.length, dropped: [] });
    expect(tracker.pegs()).toEqual(before);
    expect(resumedEvents).toEqual([]);
    devnet.mineBitcoin(1);
    await tracker.refresh();
    expect(tracker.peg('out', s.pegout)?.state).toMatchObject({ state: 'confirmed', k: 2 });
    expect(resumedEvents.map((e) => e.peg.state.state)).toEqual(['confirmed']);
  });

  it('drops a tampered record (never trusted) and keeps the others', async () => {
    const key = recordKey('in', s.pegin);
    const raw = (await store.get(key))!;
    raw[raw.length - 5] = raw[raw.length - 5]! ^ 1; // one flipped bit in the JSON: the checksum fails
    await store.batch([{ type: 'put', key, value: raw }]);
    const t = makeTracker(store);
    const { dropped } = await t.load();
    expect(dropped).toEqual([key]);
    expect(await store.get(key)).toBeUndefined();
    expect(t.peg('in', s.pegin)).toBeUndefined();
    expect(t.peg('out', s.pegout)?.state.state).toBe('confirmed');
    expect(faults.at(-1)).toMatchObject({ code: 'storage.corrupt-peg' });
  });

  it('drops a record with a valid checksum whose content is not its key or not evidence', async () => {
    // the peg-out's record stored under another peg's key
    const moved = recordKey('out', `0x${'ab'.repeat(32)}`);
    const meta = (await store.get(META_KEY))!;
    await store.batch([
      { type: 'put', key: moved, value: (await store.get(recordKey('out', s.pegout)))! },
      { type: 'put', key: recordKey('out', `0x${'cd'.repeat(32)}`), value: meta },
    ]);
    const t = makeTracker(store);
    const { dropped } = await t.load();
    expect(dropped.sort()).toEqual([moved, recordKey('out', `0x${'cd'.repeat(32)}`)].sort());
    expect(t.peg('out', s.pegout)?.state.state).toBe('confirmed');
  });

  it('is bounded: one peg past maxPegs is a typed error', async () => {
    const small = makeTracker(await openLevelStore(join(dir, 'bounded')), { maxPegs: 1 });
    await small.trackPegIn(s.pegin);
    await expect(small.trackPegIn(s.noOpReturn)).rejects.toBeInstanceOf(PegTrackerFullError);
    expect(small.pegs()).toHaveLength(1);
  });
});
