/**
 * p2p with the node in the node worker, in real Chromium: the page runs only the libp2p host (WebRTC
 * needs a page), bridged to the worker's node (src/platform/browser/p2p-bridge/). With no consensus
 * RPC configured at all, the worker's node syncs the devnet's chain from peers reached through the
 * page's libp2p (`alys-light relay`, a child process of the global setup following the devnet, over
 * WebSockets on loopback), then follows new blocks by gossip alone; the page runs no actor system.
 * Both the SharedWorker and the dedicated-worker (Web Lock leader) kinds.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLightNode, type WorkerLightNode } from '../../src/index.js';
import { parseChainSpec } from '../../src/protocol/chainspec.js';
import { devnetHead, GENESIS_SYNC, newRun, synced as syncedTo, waitFor } from './helpers.js';

const devnet = inject('devnet');
const spec = parseChainSpec(devnet.chainSpec);
const run = newRun();
/** Follows new blocks by gossip alone: the follow timer is 10 minutes. */
const SYNC = { ...GENESIS_SYNC, followIntervalMs: 600_000 };
/** This file's waits: 30 s. */
const WAIT = { timeoutMs: 30_000 };
/** The node at the devnet head. */
const synced = (node: WorkerLightNode, label: string) => syncedTo(node, label, WAIT);
const nodes: WorkerLightNode[] = [];
afterAll(async () => {
  for (const n of nodes) await n.close().catch(() => {});
});

function workerNode(label: string, shared: boolean, database = label): WorkerLightNode {
  const node = createLightNode({
    chainSpec: spec,
    rpc: [],
    evmRpc: [devnet.evm],
    storage: 'memory',
    databaseName: `alys-light-test-${run}-${database}`,
    logLevel: 'silent',
    sync: SYNC,
    p2p: { bootstrap: [devnet.relay], discover: 0 },
    worker: { shared },
  }) as WorkerLightNode;
  nodes.push(node);
  return node;
}

describe('p2p with the node in the node worker', () => {
  it('a SharedWorker node with no consensus RPC syncs over the page libp2p and follows new blocks by gossip', async () => {
    const node = workerNode('shared', true);
    // the node runs in the worker: no actor system on this page
    expect('close' in node).toBe(true);
    expect(node.system).toBeUndefined();
    await node.start();
    const s = await synced(node, 'the worker node');
    expect(s.worker).toMatchObject({ kind: 'shared', scope: 'SharedWorkerGlobalScope' });
    expect(node.system).toBeUndefined();
    // every block came from peers reached through the page's libp2p host (there is no RPC source)
    expect(s.p2p?.peerId).toMatch(/^12D3|^16U/);
    expect(s.p2p?.peers.length).toBeGreaterThan(0);
    expect(s.sources.length).toBeGreaterThan(0);
    expect(s.sources.map((x) => x.id)).not.toContain(devnet.consensus);
    expect(s.sources.some((x) => x.successes > 0 && s.p2p!.peers.includes(x.id))).toBe(true);

    // new blocks by gossip alone (the follow timer is 10 minutes): relay -> page libp2p -> worker's candidate pool
    await new Promise((r) => setTimeout(r, 2_000)); // in the relay's gossip mesh: a couple of heartbeats
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${devnet.control}/produce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ blocks: 1 }),
      });
      expect(r.ok).toBe(true);
      const after = await synced(node, `the worker node after gossiped block ${i + 1}`);
      expect(after.head!.hash).toBe((await devnetHead()).hash);
    }
  }, 60_000);

  it('two tabs on one SharedWorker node: one runs libp2p; when it closes the other takes over and gossip flows again', async () => {
    const first = workerNode('handover-1', true, 'handover');
    const second = workerNode('handover-2', true, 'handover');
    await first.start();
    await second.start();
    const before = await synced(second, 'the shared node');
    const firstPeerId = before.p2p!.peerId;
    expect(firstPeerId).toMatch(/^12D3|^16U/);
    // the tab running libp2p closes: the Web Lock passes, the other tab attaches a new libp2p host
    await first.close();
    const handed = await waitFor(
      async () => {
        const s = await second.status();
        return s.p2p?.peerId && s.p2p.peerId !== firstPeerId && s.p2p.peers.length > 0 ? s : undefined;
      },
      async () => `a new libp2p host from the second tab: ${JSON.stringify((await second.status()).p2p)}`,
      WAIT,
    );
    expect(handed.head?.number).toBeGreaterThanOrEqual(before.head!.number);
    await new Promise((r) => setTimeout(r, 2_000)); // in the relay's gossip mesh
    const r = await fetch(`${devnet.control}/produce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blocks: 1 }),
    });
    expect(r.ok).toBe(true);
    await synced(second, 'the shared node after the handover');
  }, 60_000);

  it('a dedicated-worker node (this tab the Web Lock leader) syncs over the page libp2p with no consensus RPC', async () => {
    const node = workerNode('dedicated', false);
    await node.start();
    const s = await synced(node, 'the dedicated worker node');
    expect(s.worker).toMatchObject({ kind: 'dedicated', role: 'leader', scope: 'DedicatedWorkerGlobalScope' });
    expect(node.system).toBeUndefined();
    expect(s.sources.some((x) => x.successes > 0 && s.p2p!.peers.includes(x.id))).toBe(true);
  }, 45_000);
});
