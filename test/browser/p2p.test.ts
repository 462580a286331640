/**
 * Browser to browser over libp2p in real Chromium, with the nodes in the page (`placement: 'page'`;
 * test/browser/p2p-worker.test.ts has the node in the node worker): node A syncs from the devnet's RPC and reserves a
 * slot on `alys-light relay` (a child process of the global setup, following the same devnet); node
 * B has no consensus RPC at all, dials A's /p2p-circuit/webrtc address through the relay, upgrades
 * to a direct WebRTC connection and syncs the verified chain from A (and from the relay, also a peer).
 * The second case runs B as the dashboard in a second Chromium page (its own document and realm),
 * given only the relay's address: it finds page 1 by the announcements that cross the relay
 * (src/node/network/discovery.ts) and connects to it directly over WebRTC, all of it under the
 * dashboard's Content-Security-Policy (web/index.html), which is present, blocked nothing the page
 * needed and blocks an injected inline script.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { commands } from 'vitest/browser';
import { createLightNode, type LightNode } from '../../src/index.js';
import { parseChainSpec } from '../../src/protocol/chainspec.js';
import { devnetHead, GENESIS_SYNC, synced as syncedTo, waitFor } from './helpers.js';

const devnet = inject('devnet');
const spec = parseChainSpec(devnet.chainSpec);
/** This file's waits: 30 s. */
const WAIT = { timeoutMs: 30_000 };
const nodes: LightNode[] = [];
afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => {});
});

/** The node at the devnet head; a timeout prints its head, sync and sources. */
const synced = (node: LightNode, label: string) =>
  syncedTo(node, label, { ...WAIT, show: (s) => ({ head: s.head, sync: s.sync, sources: s.sources }) });

describe('p2p in the browser', () => {
  it('a node without any RPC syncs from another browser node over WebRTC through the relay', async () => {
    const a = createLightNode({
      chainSpec: spec,
      rpc: [devnet.consensus],
      evmRpc: [devnet.evm],
      storage: 'memory',
      logLevel: 'silent',
      placement: 'page',
      sync: GENESIS_SYNC,
      p2p: { bootstrap: [devnet.relay] },
    });
    nodes.push(a);
    await a.start();
    await synced(a, 'node A');
    const aStatus = await a.status();
    const webrtc = await waitFor(
      async () => (await a.status()).p2p?.addresses.find((x) => x.includes('/p2p-circuit/webrtc')),
      async () => `a WebRTC address of A: ${JSON.stringify((await a.status()).p2p)}`,
      WAIT,
    );

    const b = createLightNode({
      chainSpec: spec,
      rpc: [],
      evmRpc: [devnet.evm],
      storage: 'memory',
      logLevel: 'silent',
      placement: 'page',
      sync: GENESIS_SYNC,
      p2p: { bootstrap: [webrtc] },
    });
    nodes.push(b);
    await b.start();
    const s = await synced(b, 'node B');
    expect(s.head!.hash).toBe((await devnetHead()).hash);
    const fromA = s.sources.find((x) => x.id === aStatus.p2p!.peerId);
    expect(fromA?.successes).toBeGreaterThan(0);
    expect(s.sources.map((x) => x.id)).not.toContain(devnet.consensus);
    // B reaches A directly over WebRTC (not through the relay's limited circuit)
    await waitFor(
      async () =>
        (await b.status()).p2p!.connections.some(
          (c) => c.peer === aStatus.p2p!.peerId && c.address.includes('/webrtc') && !c.limited,
        ),
      async () => `a direct WebRTC connection from B to A: ${JSON.stringify((await b.status()).p2p)}`,
      { timeoutMs: 20_000 },
    );
  }, 60_000);

  it('follows the head by gossip alone through the relay: no RPC, no polling; approvals aggregated and verified in the page', async () => {
    const n = createLightNode({
      chainSpec: spec,
      rpc: [],
      evmRpc: [devnet.evm],
      storage: 'memory',
      logLevel: 'silent',
      placement: 'page',
      sync: { ...GENESIS_SYNC, followIntervalMs: 600_000 },
      p2p: { bootstrap: [devnet.relay], discover: 0 },
    });
    nodes.push(n);
    await n.start();
    await synced(n, 'the gossip-following node');
    // in the relay's gossip mesh: a couple of heartbeats after connecting
    await new Promise((r) => setTimeout(r, 2_000));
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${devnet.control}/produce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ blocks: 1 }),
      });
      expect(r.ok).toBe(true);
      const s = await synced(n, `the gossip-following node after block ${i + 1}`);
      expect(s.head!.hash).toBe((await devnetHead()).hash);
    }
  }, 60_000);

  it('two pages: the dashboard in a second page, with no RPC and only the relay known, finds the first page and syncs over WebRTC', async () => {
    const a = createLightNode({
      chainSpec: spec,
      rpc: [devnet.consensus],
      evmRpc: [devnet.evm],
      storage: 'memory',
      logLevel: 'silent',
      placement: 'page',
      sync: GENESIS_SYNC,
      p2p: { bootstrap: [devnet.relay] },
    });
    nodes.push(a);
    await a.start();
    await synced(a, 'page 1 node');
    const aId = (await a.status()).p2p!.peerId;
    await waitFor(
      async () => (await a.status()).p2p?.addresses.find((x) => x.includes('/p2p-circuit/webrtc')),
      () => 'a WebRTC address of page 1',
      WAIT,
    );
    const query = new URLSearchParams({
      'devnet-config': `${devnet.control}/devnet.json`,
      rpc: '',
      'p2p-bootstrap': devnet.relay,
      storage: 'memory',
      'sync-follow-interval-ms': '100',
      'sync-batch-size': '1',
    });
    await commands.openPage('page-2', `${devnet.dashboard}?${query}`);
    try {
      const head = await devnetHead();
      type Seen = {
        head: { number: number; hash: string } | null;
        sources: Array<{ id: string; successes: number }>;
        p2p?: { connections: Array<{ peer: string; address: string; limited: boolean }> };
        error?: string;
      };
      const seen = await waitFor(
        async () => {
          const s = (await commands.evalInPage(
            'page-2',
            `const s = await window.alysNode?.status(); return s ? { head: s.head, sources: s.sources, p2p: s.p2p } : { head: null, sources: [], error: document.body.dataset.error };`,
          )) as Seen;
          return s.head?.number === head.number && s.head.hash === head.hash ? s : undefined;
        },
        async () =>
          `page 2 at the devnet head ${head.number}: ${JSON.stringify(await commands.evalInPage('page-2', 'const s = await window.alysNode?.status(); return { state: document.body.dataset.state, error: document.body.dataset.error, head: s?.head, sync: s?.sync, sources: s?.sources };'))}`,
        { timeoutMs: 45_000 },
      );
      expect(seen.sources.map((x) => x.id)).not.toContain(devnet.consensus);
      // page 1, found by discovery (page 2 was never told its address), directly over WebRTC
      await waitFor(
        async () => {
          const s = (await commands.evalInPage(
            'page-2',
            'return (await window.alysNode?.status())?.p2p;',
          )) as Seen['p2p'];
          return s?.connections.some((c) => c.peer === aId && c.address.includes('/webrtc') && !c.limited);
        },
        async () =>
          `a direct WebRTC connection from page 2 to page 1: ${JSON.stringify(await commands.evalInPage('page-2', 'return (await window.alysNode?.status())?.p2p;'))}`,
        { timeoutMs: 20_000 },
      );
      // and page 1 is one of page 2's block sources
      await waitFor(
        async () =>
          (
            (await commands.evalInPage(
              'page-2',
              'return (await window.alysNode?.status())?.sources;',
            )) as Seen['sources']
          ).some((x) => x.id === aId),
        () => 'page 1 among page 2 sources',
        { timeoutMs: 10_000 },
      );
      // all of that ran under the dashboard's Content-Security-Policy, which blocked nothing it needs
      // and does block what a page must not run (an injected inline script)
      const csp = (await commands.evalInPage(
        'page-2',
        `const meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
         const s = document.createElement('script');
         s.textContent = 'window.__inlineRan = true';
         document.head.append(s);
         for (let i = 0; i < 100 && !document.body.dataset.cspViolations; i++) await new Promise((r) => setTimeout(r, 20));
         return { policy: meta?.getAttribute('content') ?? null, violations: document.body.dataset.cspViolations ?? null, inlineRan: window.__inlineRan === true };`,
      )) as { policy: string | null; violations: string | null; inlineRan: boolean };
      expect(csp.policy).toContain("script-src 'self' 'wasm-unsafe-eval'");
      expect(csp.policy).toContain("object-src 'none'");
      expect(csp.policy).not.toContain('unsafe-inline');
      expect(csp.inlineRan).toBe(false);
      expect(csp.violations).toMatch(/^script-src-elem inline$/);
    } finally {
      await commands.closePage('page-2');
    }
  }, 90_000);
});
