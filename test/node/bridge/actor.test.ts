/**
 * The BridgeActor around the peg tracker, in a real actor system: the `node.bridge` block messages
 * (msgpack bytes, as the ChainActor publishes them) and `finalized` drive it, the tracker API answers
 * (`peg-status` by txid, hash or address; `deposit-address` = the devnet's `getdepositaddress`), each
 * transition is published on `node.peg`, a bad argument rejects the asker without crashing the actor,
 * and without peg args the API is `PegUnavailableError`. Bitcoin comes from `regtestView` (the real SPV
 * client is tested elsewhere), receipts from the real verified reads over the devnet's EVM server.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActorSystem, createActorSystem, defineActor } from '../../../src/actors/index.js';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { BRIDGE_TOPIC, BridgeActor, PEG_TOPIC, PegUnavailableError } from '../../../src/node/actors/bridge.js';
import type { PegEvent } from '../../../src/node/bridge/tracker.js';
import type { NodeEventMessage } from '../../../src/node/events.js';
import { createVerifiedReads } from '../../../src/node/engine/index.js';
import { openLevelStore } from '../../../src/platform/nodejs/storage-level.js';
import { encodeSignedBlockMsgpack } from '../../../src/protocol/codec/msgpack.js';
import { Cleanup, startDevnet, tempDir, waitFor } from '../helpers.js';
import { blockRef, buildPegScenario, devnetPayloads, type PegScenario, regtestView } from './helpers.js';

const c = new Cleanup();
let devnet: Devnet;
let s: PegScenario;
let sys: ActorSystem;
const published: PegEvent[] = [];

const Collector = defineActor<NodeEventMessage<'peg'>, { event: void }, Record<string, never>>({
  name: 'collector',
  create: () => ({ handle: (msg) => void published.push(msg.data) }),
});

beforeAll(async () => {
  devnet = await startDevnet(c, 'peg-actor');
  s = await buildPegScenario(devnet);
  const dir = await tempDir(c);
  const reads = createVerifiedReads({ evmRpc: [devnet.urls.evm], payloads: devnetPayloads(devnet) });
  sys = createActorSystem({
    name: 'bridge-test',
    root: {
      strategy: 'one-for-one',
      children: [
        { id: 'collector', actor: Collector, args: {} },
        {
          id: 'bridge',
          actor: BridgeActor,
          args: {
            pegs: {
              store: () => openLevelStore(join(dir, 'db')),
              spec: devnet.spec,
              bitcoin: regtestView(devnet.bitcoin),
              receipts: reads,
              blockAt: async (n: number) => blockRef(devnet, n),
              refreshMs: 0,
            },
          },
        },
        { id: 'plain', actor: BridgeActor, args: {} },
      ],
    },
  });
  await sys.start();
  c.add(() => sys.shutdown());
  sys.subscribe(PEG_TOPIC, '/bridge-test/collector');
  sys.subscribe(BRIDGE_TOPIC, '/bridge-test/bridge');
  sys.subscribe(BRIDGE_TOPIC, '/bridge-test/plain');
}, 60_000);
afterAll(() => c.run());

const bridge = () => sys.ref<typeof BridgeActor>('/bridge-test/bridge');

describe('BridgeActor', () => {
  it('answers the deposit address of the spec keys: the devnet getdepositaddress', async () => {
    const res = await fetch(devnet.urls.consensus, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getdepositaddress', params: [] }),
    });
    expect(await bridge().ask({ type: 'deposit-address' })).toBe(((await res.json()) as { result: string }).result);
  });

  it('tracks from node.bridge blocks and finality to the end, publishing each transition', async () => {
    // asked before any block came on node.bridge: the minting is found in the verified blocks (blockAt)
    expect(await bridge().ask({ type: 'peg-status', key: s.pegin })).toMatchObject([
      { state: { state: 'minted', alysBlock: s.mintedIn } },
    ]);
    for (let n = 1; n <= devnet.chain.height; n++) {
      const m = devnet.chain.at(n)!.signed.message;
      if (!m.pegins.length && !m.pegoutPaymentProposal && !m.finalizedPegouts.length) continue;
      const block = encodeSignedBlockMsgpack(devnet.chain.at(n)!.signed);
      sys.publish(BRIDGE_TOPIC, { type: 'block', number: n, block }, undefined, {});
    }
    await bridge().ask({ type: 'finalized', number: devnet.chain.lastFinalized.number });
    expect(await bridge().ask({ type: 'peg-status', key: s.pegin.toUpperCase() })).toMatchObject([
      { kind: 'in', state: { state: 'finalized', alysBlock: s.mintedIn } },
    ]);
    expect(await bridge().ask({ type: 'peg-status', key: s.pegout })).toMatchObject([
      { kind: 'out', state: { state: 'confirmed', alysBlock: s.proposalIn } },
    ]);
    expect(await bridge().ask({ type: 'peg-status', key: s.smallPegout })).toMatchObject([
      { state: { state: 'ignored', reason: 'below-minimum' } },
    ]);
    const byAddress = await bridge().ask({ type: 'peg-status', key: s.evm });
    expect(byAddress.map((p) => p.state.state).sort()).toEqual(['confirmed', 'finalized']);
    expect((await bridge().ask({ type: 'summary' })).byState).toMatchObject({ 'in:finalized': 1, 'out:confirmed': 1 });
    const states = () => published.filter((e) => e.peg.kind === 'in').map((e) => e.peg.state.state);
    await waitFor(
      () => states().length >= 2,
      () => `two peg-in events on ${PEG_TOPIC}, got ${states().join(', ')}`,
    );
    expect(states()).toEqual(['minted', 'finalized']);
  });

  it('rejects a bad argument with a typed error, and does not crash', async () => {
    await expect(bridge().ask({ type: 'track-pegin', txid: 'xyz' })).rejects.toMatchObject({
      code: 'peg.bad-argument',
    });
    const info = sys.registry.list().find((i) => i.address === '/bridge-test/bridge');
    expect(info).toMatchObject({ state: 'Running', restarts: 0 });
  });

  it('without peg args: counts node.bridge blocks, answers PegUnavailableError', async () => {
    const plain = sys.ref<typeof BridgeActor>('/bridge-test/plain');
    await expect(plain.ask({ type: 'pegs' })).rejects.toBeInstanceOf(PegUnavailableError);
    expect((await plain.ask({ type: 'summary' })).blocks).toBeGreaterThanOrEqual(3);
  });
});
