/**
 * Genesis is a trust root (issue 12 point 3). The devnet's genesis faults (a forged EL genesis
 * payload, a wrong genesis state root) against fetchGenesis and against a node with [faulty, honest]
 * endpoints, under the devnet's spec (which carries executionGenesisHash) and under a custom spec
 * without it (block 0 is pinned only by block 1's approvals and parent_hash): the lie is refused and
 * charged to the lying endpoint, the honest one is not charged, the node reaches the honest head,
 * and with only the lying endpoint nothing is stored and no verified read is answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import { GENESIS_FAULTS, serveFaultyConsensusRpc } from '../../src/devnet/faults.js';
import { fetchGenesis } from '../../src/node/sources/genesis.js';
import { createBlsBackend } from '../../src/protocol/bls/index.js';
import { blockHash } from '../../src/protocol/block.js';
import type { ChainSpec } from '../../src/protocol/types.js';
import {
  Cleanup,
  growChain,
  honestHash,
  makeNode,
  startDevnet,
  startNode,
  storedHashes,
  waitSynced,
  withCleanup,
} from './helpers.js';

const shared = new Cleanup();
let devnet: Devnet;
const TIP = 12;

beforeAll(async () => {
  devnet = await startDevnet(shared, 'genesis-trust');
  await growChain(devnet, TIP, 10);
}, 60_000);
afterAll(() => shared.run(), 60_000);

/** The devnet's spec without its EL genesis hash: a custom spec. */
function customSpec(): ChainSpec {
  const { executionGenesisHash: _, ...spec } = devnet.spec;
  return spec;
}

const SPECS = [
  { specKind: 'pinned', spec: () => devnet.spec },
  { specKind: 'custom', spec: customSpec },
] as const;
const CASES = GENESIS_FAULTS.flatMap((fault) => SPECS.map((s) => ({ fault, ...s })));

it('the devnet spec carries its EL genesis hash', () => {
  expect(devnet.spec.executionGenesisHash).toBe(devnet.chain.at(0)!.signed.message.executionPayload.blockHash);
});

describe.each(CASES)('$fault ($specKind spec)', ({ fault, spec }) => {
  it('fetchGenesis refuses and charges the lying endpoint, then takes the honest genesis', async () => {
    await withCleanup(async (c) => {
      const faulty = await serveFaultyConsensusRpc(devnet, { fault, seed: `g-${fault}`, port: 0 });
      c.add(() => faulty.close());
      expect(faulty.affects(0)).toBe(true);
      expect(faulty.affects(1)).toBe(false);
      const bls = await createBlsBackend('auto');
      const charged: string[] = [];
      const onFault = (id: string) => charged.push(id);
      const g = await fetchGenesis(spec(), [faulty.url, devnet.urls.consensus], undefined, undefined, { bls, onFault });
      expect(blockHash(g.message)).toBe(honestHash(devnet, 0));
      expect(charged).toEqual([faulty.url]);
      // alone, the lying endpoint gives no genesis at all
      await expect(fetchGenesis(spec(), [faulty.url], undefined, undefined, { bls, onFault })).rejects.toMatchObject({
        code: 'no-source',
      });
    });
  });

  it('a node with [faulty, honest] reaches the honest head; only the faulty endpoint is charged', async () => {
    await withCleanup(async (c) => {
      const faulty = await serveFaultyConsensusRpc(devnet, { fault, seed: `n-${fault}`, port: 0 });
      c.add(() => faulty.close());
      const { node } = await startNode(c, devnet, { chainSpec: spec(), rpc: [faulty.url, devnet.urls.consensus] });
      const s = await waitSynced(node, devnet, 60_000);
      expect(s.head!.hash).toBe(honestHash(devnet, TIP));
      const sources = (await node.status()).sources;
      const bad = sources.find((x) => x.id === faulty.url)!;
      const honest = sources.find((x) => x.id === devnet.urls.consensus)!;
      expect(bad.faultsByKind.invalid).toBeGreaterThan(0);
      expect(Object.keys(honest.faultsByKind).filter((k) => k !== 'timeout' && k !== 'network')).toEqual([]);
      expect(honest.bannedUntil).toBe(0);
      expect((await storedHashes(node, TIP))[0]).toBe(honestHash(devnet, 0));
    });
  });

  it('with only the faulty endpoint the node does not start: nothing stored, no verified read', async () => {
    await withCleanup(async (c) => {
      const faulty = await serveFaultyConsensusRpc(devnet, { fault, seed: `o-${fault}`, port: 0 });
      c.add(() => faulty.close());
      const { node, events } = makeNode(c, devnet, { chainSpec: spec(), rpc: [faulty.url] });
      await expect(node.start()).rejects.toThrow(/no source can serve the genesis block/);
      expect(events.head).toEqual([]);
      const user = devnet.users[0]!.address;
      await expect(node.provider.request({ method: 'eth_getBalance', params: [user, '0x0'] })).rejects.toBeDefined();
    });
  });
});
