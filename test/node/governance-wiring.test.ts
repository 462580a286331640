/**
 * The governance stream in the node, end to end (`governance.url`): the real devnet with its governance
 * server (gRPC over HTTP/2 on loopback) and a light node from test/node/helpers.ts.
 * - a valid update (devnet.governance.changeFederation: signed by the set in force, the devnet's producer
 *   switching at the same height) is applied at its effective height: the `federation` event, the
 *   FederationActor's change list, and blocks after it verified against the new set (full mode);
 * - forged, under-threshold, wrong-height and replayed updates are rejected with their check, the governance
 *   source charged (its score, a `source` event), the node's set unchanged;
 * - the stream reconnects after the governance server restarts; a restarted node keeps the applied update
 *   (persisted) and still follows, and refuses the update again as a replay;
 * - a proposal notification is the `proposal` node event, marked unverified;
 * - a platform whose transport cannot carry the stream (the browser's gRPC-web) leaves the node running and
 *   says so in `status().governance`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import type { FederationActor } from '../../src/node/actors/federation.js';
import type { NodeEvents } from '../../src/node/events.js';
import { ACTOR_ADDRESSES } from '../../src/node/tree.js';
import type { LightNode } from '../../src/index.nodejs.js';
import { createNodePlatform } from '../../src/index.nodejs.js';
import { createWebGovernanceTransport } from '../../src/platform/browser/governance.js';
import type { LightNodeConfig } from '../../src/config/index.js';
import { deriveFederation } from '../../src/devnet/consensus/keys.js';
import { Cleanup, growChain, makeNode, startDevnet, tempDir, waitFor, waitSynced } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run(), 60_000);

const federationOf = (node: LightNode) => node.system!.ref<typeof FederationActor>(ACTOR_ADDRESSES.federation);
const govDevnet = (seed: string) => startDevnet(cleanup, seed, { governancePort: 0 });

function governed(devnet: Devnet, extra: Parameters<typeof makeNode>[2] = {}) {
  const made = makeNode(cleanup, devnet, {
    mode: 'full',
    governance: { url: devnet.urls.governance!, heartbeatMs: 200 },
    ...extra,
  });
  const federation: NodeEvents['federation'][] = [];
  const proposals: NodeEvents['proposal'][] = [];
  made.node.on('federation', (e) => federation.push(e));
  made.node.on('proposal', (e) => proposals.push(e));
  return { ...made, federation, proposals };
}

async function governanceOf(node: LightNode) {
  const g = (await node.status()).governance;
  if (!g) throw new Error('no governance status');
  return g;
}

/** Wait until the node rejected `count` updates in all; returns the governance status then. */
async function rejected(node: LightNode, count: number) {
  return waitFor(
    async () => {
      const g = await governanceOf(node);
      return g.updatesRejected >= count ? g : undefined;
    },
    async () => `${count} rejected updates; governance ${JSON.stringify(await governanceOf(node))}`,
  );
}

describe('the governance stream in the node', () => {
  it('rejects forged, under-threshold and wrong-height updates (charged), applies a signed one at its height, follows the new set, rejects its replay', async () => {
    const devnet = await govDevnet('gov-wire-apply');
    await growChain(devnet, 8, 5);
    const { node, events, federation, proposals } = governed(devnet);
    await node.start();
    await waitSynced(node, devnet);
    await waitFor(
      async () => (await governanceOf(node)).connected,
      () => 'the governance stream connected',
    );
    const gov = devnet.governance!;
    gov.pushProposal({ proposalId: 'p-1', data: Uint8Array.of(1, 2) });
    await waitFor(
      () => proposals.length === 1,
      () => 'the proposal event',
    );
    expect(proposals[0]).toMatchObject({ verified: false, proposalId: 'p-1', proposalData: '0x0102' });
    const H = 12;
    const impostors = deriveFederation({ seed: 'gov-wire-apply/impostors', authorities: 4 });
    const lies: Array<[() => void, string]> = [
      [() => gov.pushForged({ effectiveHeight: H, next: impostors }), 'federation-update.signature'],
      [() => gov.pushUnderThreshold({ effectiveHeight: H, next: impostors }), 'federation-update.under-threshold'],
      [() => gov.pushWrongHeight({ effectiveHeight: 8, next: impostors }), 'federation-update.height'],
    ];
    for (const [i, [push, check]] of lies.entries()) {
      push();
      const g = await rejected(node, i + 1);
      expect(g.lastRejection).toBe(check);
      expect(g.score?.faults).toBe(i + 1);
      expect(events.source.at(-1)).toMatchObject({ id: devnet.urls.governance, reason: check });
    }
    expect(await federationOf(node).ask({ type: 'changes' })).toEqual({ changes: [], dropped: null });
    expect(federation).toEqual([]);

    const { scheduled, pushed } = gov.changeFederation({ effectiveHeight: H, authorities: 4 });
    expect(pushed.digest).toBe((scheduled.change.source as { digest: string }).digest);
    await waitFor(
      () => federation.length === 1,
      () => 'the federation event',
    );
    expect(federation[0]).toEqual({ effectiveHeight: H, authorities: 4, digest: pushed.digest });
    const { changes } = await federationOf(node).ask({ type: 'changes' });
    expect(changes).toEqual([scheduled.change]);
    expect((await governanceOf(node)).updatesApplied).toBe(1);

    await growChain(devnet, 8, 5); // 9..16: the new set from 12
    await waitSynced(node, devnet);
    const after = await federationOf(node).ask({ type: 'set-at', height: H });
    expect(after.authorities).toEqual(scheduled.publicKeys);
    expect(after.source).toEqual({ kind: 'governance', digest: pushed.digest });
    expect((await federationOf(node).ask({ type: 'set-at', height: H - 1 })).source).toEqual({ kind: 'spec' });
    const status = await node.status();
    expect(status.sources.every((s) => s.faults === 0)).toBe(true);

    gov.pushReplay();
    expect((await rejected(node, 4)).lastRejection).toBe('federation-update.replayed');
    expect((await federationOf(node).ask({ type: 'changes' })).changes).toEqual([scheduled.change]);
  }, 60_000);

  it('reconnects after the server restarts; a restarted node keeps the applied update and follows', async () => {
    const devnet = await govDevnet('gov-wire-restart');
    const dataDir = await tempDir(cleanup);
    await growChain(devnet, 6, 5);
    const opts = { storage: 'level', dataDir, verifierWorkers: 1 } as const;
    const first = governed(devnet, opts);
    await first.node.start();
    await waitFor(
      async () => (await governanceOf(first.node)).connects === 1,
      () => 'connected',
    );
    await devnet.governance!.restart();
    await waitFor(
      async () => (await governanceOf(first.node)).connects >= 2,
      async () => `reconnected; governance ${JSON.stringify(await governanceOf(first.node))}`,
    );
    await waitSynced(first.node, devnet);
    const H = 9;
    const { scheduled } = devnet.governance!.changeFederation({ effectiveHeight: H, authorities: 2 });
    await waitFor(
      () => first.federation.length === 1,
      () => 'applied',
    );
    await growChain(devnet, 6, 5); // 7..12
    await waitSynced(first.node, devnet);
    await first.node.stop();

    await growChain(devnet, 3, 5); // 13..15, still the new set
    const second = governed(devnet, opts);
    await second.node.start();
    expect(second.events.storage.map((e) => e.kind)).toContain('warm-start');
    expect((await federationOf(second.node).ask({ type: 'changes' })).changes).toEqual([scheduled.change]);
    await waitSynced(second.node, devnet);
    expect((await second.node.status()).sources.every((s) => s.faults === 0)).toBe(true);
    await waitFor(
      async () => (await governanceOf(second.node)).connected,
      () => 'connected',
    );
    devnet.governance!.pushReplay();
    expect((await rejected(second.node, 1)).lastRejection).toBe('federation-update.replayed');
  }, 60_000);

  it('a platform whose transport cannot carry the stream: the node runs on and status says why', async () => {
    const devnet = await govDevnet('gov-wire-web');
    await growChain(devnet, 3, 5);
    const platform = {
      ...createNodePlatform({ verifierWorkers: 0 } as LightNodeConfig),
      governanceTransport: async (url: string) => createWebGovernanceTransport(url),
    };
    const { node } = governed(devnet, { platform });
    await node.start();
    await waitSynced(node, devnet);
    const g = await governanceOf(node);
    expect(g.connected).toBe(false);
    expect(g.unsupported).toMatch(/^governance\.transport-unsupported/);
    expect(devnet.governance!.registrations).toHaveLength(0);
  });
});
