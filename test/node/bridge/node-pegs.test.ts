/**
 * Peg tracking in the node, end to end on the devnet (issue 16 item 7): the node's SPV client on the
 * devnet's Esplora, the BridgeActor fed by the ChainActor's verified blocks and finality, the tracker's
 * records in the node's store through the StorageActor. A peg-in from broadcast to finalized and a
 * peg-out from requested to confirmed through `node.bridge`, with their `peg` events in spec 6.5
 * order; a peg-out below 0.01 BTC ends `ignored`; `alys_pegStatus` answers the same; a restarted node
 * (LevelDB) resumes the tracked pegs; a node without `bitcoin.esplora` answers `peg.unavailable`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../../src/devnet/devnet.js';
import type { PegEvent, PegView } from '../../../src/node/bridge/node-pegs.js';
import type { LightNode } from '../../../src/node/types.js';
import { encodeTransaction } from '../../../src/protocol/bitcoin/tx.js';
import { startEsploraProxy } from '../../helpers/esplora-proxy.js';
import { Cleanup, makeNode, startDevnet, tempDir, waitFor, waitSynced } from '../helpers.js';
import { buildPegScenario, type PegScenario, sendPegIn } from './helpers.js';

const PEG_IN_ORDER = ['unknown', 'broadcast', 'confirming', 'eligible', 'minted', 'finalized'];
const PEG_OUT_ORDER = ['unknown', 'requested', 'proposed', 'finalized-on-alys', 'broadcast', 'confirmed'];

const cleanup = new Cleanup();
let devnet: Devnet;
let dataDir: string;
let node: LightNode;
let scenario: PegScenario;
const pegEvents: PegEvent[] = [];

const keyOf = (p: PegView) => (p.kind === 'in' ? p.txid : p.evmTxHash);
const stateOf = async (n: LightNode, key: string) => (await n.bridge.pegStatus(key))[0]!.state.state;

/** The states a peg's events moved through (each event's `previous` is the state before it; a new count k repeats a state). */
function statesOf(key: string): string[] {
  const mine = pegEvents.filter((e) => keyOf(e.peg) === key);
  return [mine[0]?.previous ?? 'none', ...mine.map((e) => e.peg.state.state)];
}

beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'node-pegs');
  dataDir = await tempDir(cleanup);
  node = makeNode(cleanup, devnet, { storage: 'level', dataDir, bitcoin: { esplora: [devnet.urls.esplora] } }).node;
  node.on('peg', (e) => pegEvents.push(e));
  await node.start();
  await waitSynced(node, devnet);
  // a wallet asking after each block: the node follows the devnet, then answers where its pegs stand
  const tracked: string[] = [];
  scenario = await buildPegScenario(devnet, {
    async sent(_kind, id) {
      tracked.push(id);
      await node.bridge.pegStatus(id);
    },
    async step() {
      await waitSynced(node, devnet);
      for (const id of tracked) await node.bridge.pegStatus(id);
    },
  });
  await node.bridge.pegStatus(scenario.smallPegout);
}, 60_000);
afterAll(() => cleanup.run());

describe('peg tracking in the node (devnet)', () => {
  it('tracks a peg-in from broadcast to finalized, its peg events in spec 6.5 order', async () => {
    await waitFor(
      async () => (await stateOf(node, scenario.pegin)) === 'finalized',
      async () => `peg-in finalized; now ${await stateOf(node, scenario.pegin)}`,
    );
    const states = statesOf(scenario.pegin);
    expect(states.slice(0, 2)).toEqual(['unknown', 'broadcast']);
    // the scenario mines the N confirmations and the minting block before the wallet asks again, so the
    // node's next look finds it minted (confirming and eligible: the next test, one block at a time)
    expect(states).toContain('minted');
    expect(states.at(-1)).toBe('finalized');
    const ranks = states.map((s) => PEG_IN_ORDER.indexOf(s));
    expect(ranks.every((r, i) => r >= 0 && (i === 0 || r >= ranks[i - 1]!))).toBe(true);
    const [view] = await node.bridge.pegStatus(scenario.pegin);
    expect(view).toMatchObject({
      kind: 'in',
      state: { state: 'finalized', evmAddress: scenario.evm.toLowerCase(), amountSats: '5000000' },
    });
    expect(await node.bridge.depositAddress()).toBe(devnet.depositAddress);
  });

  it('counts a peg-in confirming k/N on the verified Bitcoin chain, one block at a time', async () => {
    const txid = sendPegIn(devnet, scenario.evm, 1_000_000n);
    expect((await node.bridge.trackPegIn(txid)).state).toMatchObject({ state: 'broadcast', verified: false });
    devnet.mineBitcoin(1);
    expect((await node.bridge.trackPegIn(txid)).state).toMatchObject({ state: 'confirming', k: 1 });
    devnet.mineBitcoin(1);
    const n = devnet.spec.requiredBtcTxnConfirmations;
    expect((await node.bridge.trackPegIn(txid)).state).toMatchObject({ state: n > 2 ? 'confirming' : 'eligible' });
    expect(statesOf(txid)).toEqual(['unknown', 'broadcast', 'confirming', ...(n > 2 ? [] : ['eligible'])]);
  });

  it('tracks a peg-out from requested to confirmed on regtest, and a small one ends ignored', async () => {
    await waitFor(
      async () => (await stateOf(node, scenario.pegout)) === 'confirmed',
      async () => `peg-out confirmed; now ${await stateOf(node, scenario.pegout)}`,
    );
    const states = statesOf(scenario.pegout);
    expect(states.slice(0, 2)).toEqual(['unknown', 'requested']);
    expect(states).toContain('proposed');
    expect(states.at(-1)).toBe('confirmed');
    const ranks = states.map((s) => PEG_OUT_ORDER.indexOf(s));
    expect(
      ranks.every((r, i) => r >= 0 && (i === 0 || r >= ranks[i - 1]!)),
      states.join(' > '),
    ).toBe(true);
    const [small] = await node.bridge.pegStatus(scenario.smallPegout);
    expect(small!.state).toMatchObject({ state: 'ignored', reason: 'below-minimum' });
  });

  it('answers alys_pegStatus with the same views, and refuses malformed params', async () => {
    const viaProvider = await node.provider.request({ method: 'alys_pegStatus', params: [scenario.pegout] });
    expect(viaProvider).toEqual(await node.bridge.pegStatus(scenario.pegout));
    const byAddress = (await node.provider.request({
      method: 'alys_pegStatus',
      params: [scenario.evm],
    })) as PegView[];
    expect(byAddress.map(keyOf)).toEqual(expect.arrayContaining([scenario.pegin, scenario.pegout]));
    for (const params of [
      [],
      ['nope'],
      [scenario.pegin, 1],
      ['0x1234'],
      [{ a: 1 }],
      { key: scenario.pegin },
    ] as object[])
      await expect(node.provider.request({ method: 'alys_pegStatus', params })).rejects.toMatchObject({ code: -32602 });
  });

  it('resumes the tracked pegs from the store after a restart', async () => {
    const before = await node.bridge.pegs();
    expect(before.length).toBeGreaterThanOrEqual(3);
    await node.stop();
    const again = makeNode(cleanup, devnet, {
      storage: 'level',
      dataDir,
      bitcoin: { esplora: [devnet.urls.esplora] },
    }).node;
    await again.start();
    expect(await again.bridge.pegs()).toEqual(before);
    expect(await stateOf(again, scenario.pegin)).toBe('finalized');
  });

  it('charges a lying Esplora endpoint on the node scores; with the honest one beside it the answer is right', async () => {
    const other = encodeTransaction(devnet.bitcoin.tip().transactions[0]!);
    const liar = await startEsploraProxy(devnet.urls.esplora, (path) =>
      path === `/tx/${scenario.pegin}/raw` ? { body: other } : undefined,
    );
    cleanup.add(() => liar.close());
    const { node: n, events } = makeNode(cleanup, devnet, { bitcoin: { esplora: [liar.url, devnet.urls.esplora] } });
    await n.start();
    await waitSynced(n, devnet);
    const [view] = await n.bridge.trackPegIn(scenario.pegin).then((v) => [v]);
    // the verified facts of the peg-in, as far as this fresh node saw its blocks (not the liar's tx)
    expect(view!.state).toMatchObject({ evmAddress: scenario.evm.toLowerCase(), amountSats: '5000000' });
    expect(['eligible', 'minted', 'finalized']).toContain(view!.state.state);
    await waitFor(
      () => events.source.some((e) => e.id === liar.url && /spv\.tx-mismatch|invalid/.test(e.reason)),
      () => `a source event charging ${liar.url}: ${JSON.stringify(events.source)}`,
    );
    const sources = (await n.status()).sources;
    expect(sources.find((x) => x.id === liar.url)!.faults).toBeGreaterThan(0);
    expect(sources.find((x) => x.id === devnet.urls.esplora)).toMatchObject({ faults: 0 });
  });

  it('answers peg.unavailable without a Bitcoin source', async () => {
    const bare = makeNode(cleanup, devnet, { bitcoin: { esplora: [] } }).node;
    await bare.start();
    await expect(bare.bridge.pegStatus(scenario.pegin)).rejects.toMatchObject({ code: 'peg.unavailable' });
    await expect(bare.bridge.depositAddress()).rejects.toMatchObject({ code: 'peg.unavailable' });
    await expect(bare.provider.request({ method: 'alys_pegStatus', params: [scenario.pegin] })).rejects.toMatchObject({
      code: -32002,
    });
  });
});
