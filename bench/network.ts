/**
 * p2p benchmark: on a generated devnet chain (realistic blocks, ~24 transactions each),
 *
 * - baseline: the consensus RPC on loopback, every block downloaded and decoded (JSON.parse and the
 *   strict block decoder), 64 requests in flight as the light node's sync does;
 * - blocks_by_range over TCP from the devnet's federation peer, and over WebRTC (node-datachannel)
 *   from a peer reachable only through a circuit relay: batches of 64, 4 in flight, every block decoded
 *   (msgpack); ratio = p2p / RPC throughput, same run;
 * - head propagation by gossip from the producer's peer to a node two hops away (producer -> A -> B,
 *   B connected to A only): median and p98 over NETWORK_BENCH_GOSSIP messages (Node hosts, transport only);
 * - the same path ending in a real browser: a live devnet produces blocks, its federation peer gossips
 *   them as Alys does (proposer block + approve_block), a relay host forwards them, and the light
 *   node in headless Chromium (the dashboard page, no RPC, bootstrapped to the relay over WebSockets)
 *   aggregates the approvals, verifies and imports: delay from the producer's append to the verified
 *   head in the page, median and p98 over NETWORK_BENCH_BROWSER_BLOCKS blocks.
 *
 *   npm run bench -- network        NETWORK_BENCH_BLOCKS (default 1000), NETWORK_BENCH_GOSSIP (default 100),
 *                                   NETWORK_BENCH_BROWSER_BLOCKS (default 60; 0 skips the browser part)
 */
import { fileURLToPath } from 'node:url';
import { createDevnet } from '../src/devnet/devnet.js';
import { chainSpecToJson } from '../src/protocol/chainspec.js';
import { startDevnetPeer } from '../src/devnet/p2p.js';
import { handleConsensusRpc, serveConsensusRpc } from '../src/devnet/consensus/rpc.js';
import { generateDevnet } from '../src/devnet/generate/generate.js';
import { createP2pHost, type P2pHost } from '../src/node/network/p2p-host.js';
import { createConsensusRpcSource } from '../src/node/sources/consensus-rpc.js';
import { LOOPBACK_LISTEN, nodeTransports } from '../src/platform/nodejs/p2p.js';
import { decodeSignedBlockJson } from '../src/protocol/codec/json.js';
import { decodeSignedBlockMsgpack } from '../src/protocol/codec/msgpack.js';
import { signingRoot } from '../src/protocol/block.js';
import { toHex } from '../src/protocol/bytes.js';
import { median, report } from './report.js';

const BATCH = 64;
const IN_FLIGHT = 4;

async function waitFor<T>(probe: () => T | undefined | false, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rangeThroughput(
  client: P2pHost,
  peer: string,
  head: number,
): Promise<{ blocksPerSecond: number; bytes: number }> {
  let next = 1;
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next <= head) {
        const start = next;
        const count = Math.min(BATCH, head - start + 1);
        next += count;
        const raws = await client.requestRawBlocksByRange(peer, BigInt(start), count, { timeoutMs: 60_000 });
        if (raws.length !== count) throw new Error(`range ${start}: ${raws.length} of ${count} blocks`);
        for (const r of raws) {
          bytes += r.length;
          decodeSignedBlockMsgpack(r);
        }
      }
    }),
  );
  return { blocksPerSecond: (head * 1000) / (performance.now() - t0), bytes };
}

export async function run(): Promise<void> {
  const blocks = Number(process.env['NETWORK_BENCH_BLOCKS'] ?? 1000);
  const gossipCount = Number(process.env['NETWORK_BENCH_GOSSIP'] ?? 100);
  const g = await generateDevnet({ blocks, seed: 'bench-network' });
  const devnet = g.devnet;
  const head = devnet.chain.height;
  const hosts: Array<{ stop(): Promise<void> }> = [];
  const rpc = await serveConsensusRpc(0, (m, body) =>
    handleConsensusRpc(
      { chain: devnet.chain, pow: devnet.pow, federation: devnet.federation, bitcoinNetwork: 'regtest' },
      m,
      body,
    ),
  );
  try {
    // --- baseline: consensus RPC, download + decode
    const source = createConsensusRpcSource({ url: rpc.url, timeoutMs: 60_000 });
    let next = 1;
    let rpcBytes = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT * 16 }, async () => {
        while (next <= head) {
          const text = await source.blockAt(next++);
          rpcBytes += text.length;
          decodeSignedBlockJson((JSON.parse(text) as { result: unknown }).result);
        }
      }),
    );
    const baseline = (head * 1000) / (performance.now() - t0);
    report({
      name: 'network.baseline.rpc-download-decode',
      unit: 'blocks/s',
      value: baseline,
      better: 'higher',
      blocks: head,
      mb: Math.round(rpcBytes / 1e5) / 10,
    });

    // --- blocks_by_range over TCP from the devnet peer
    const peer = await startDevnetPeer(devnet);
    hosts.push(peer);
    const client = await createP2pHost({
      transports: nodeTransports(),
      listen: LOOPBACK_LISTEN,
      allowPrivateAddresses: true,
    });
    await client.start();
    hosts.push(client);
    const tcpAddr = peer.addresses.find((a) => a.includes('/tcp/') && !a.includes('/ws'))!;
    await client.dial(tcpAddr);
    const tcp = await rangeThroughput(client, peer.host.peerId, head);
    report({
      name: 'network.blocks-by-range.tcp',
      unit: 'blocks/s',
      value: tcp.blocksPerSecond,
      baseline,
      better: 'higher',
      target: '>= 0.7x the RPC baseline',
      blocks: head,
      mb: Math.round(tcp.bytes / 1e5) / 10,
    });

    // --- blocks_by_range over WebRTC, through a relay to a peer without a listener of its own
    const relay = await createP2pHost({
      transports: nodeTransports(),
      listen: LOOPBACK_LISTEN,
      allowPrivateAddresses: true,
      relayServer: true,
      server: true,
    });
    await relay.start();
    hosts.push(relay);
    const hidden = await createP2pHost({
      transports: nodeTransports(),
      listen: ['/p2p-circuit', '/webrtc'],
      bootstrap: [relay.multiaddrs()[0]!],
      allowPrivateAddresses: true,
      serveBlocks: (start, count) =>
        devnet.chain.range(Number(start), Math.min(head, Number(start) + count - 1)).map((b) => b.signed),
    });
    await hidden.start();
    hosts.push(hidden);
    const webrtcAddr = await waitFor(
      () => hidden.multiaddrs().find((a) => a.includes('/p2p-circuit/webrtc')),
      'a WebRTC address',
    );
    await client.dial(webrtcAddr);
    const direct = client.libp2p
      .getConnections()
      .some(
        (c) =>
          c.remotePeer.toString() === hidden.peerId &&
          c.remoteAddr.toString().includes('/webrtc') &&
          c.limits === undefined,
      );
    const webrtc = await rangeThroughput(client, hidden.peerId, head);
    report({
      name: 'network.blocks-by-range.webrtc',
      unit: 'blocks/s',
      value: webrtc.blocksPerSecond,
      baseline,
      better: 'higher',
      target: '>= 0.7x the RPC baseline',
      blocks: head,
      directWebRtc: direct,
    });

    // --- gossip propagation, producer's peer -> A -> B
    const a = await createP2pHost({
      transports: nodeTransports(),
      listen: LOOPBACK_LISTEN,
      allowPrivateAddresses: true,
    });
    await a.start();
    hosts.push(a);
    const arrivals = new Map<string, number>();
    const b = await createP2pHost({
      transports: nodeTransports(),
      allowPrivateAddresses: true,
      onGossip: (m) => {
        if (m.type === 'ConsensusBlock')
          arrivals.set(
            `${toHex(signingRoot(m.block.message))}/${m.block.signature.aggregateSignature}`,
            performance.now(),
          );
        return true;
      },
    });
    await b.start();
    hosts.push(b);
    await a.dial(tcpAddr);
    await b.dial(a.multiaddrs()[0]!);
    await waitFor(
      () =>
        b.topicPeers('consensus_block').includes(a.peerId) &&
        a.topicPeers('consensus_block').includes(peer.host.peerId),
      'the gossip mesh',
    );
    await new Promise((r) => setTimeout(r, 2_000)); // a few heartbeats: A grafts B into its mesh
    if (b.peers().includes(peer.host.peerId)) throw new Error('B must reach the producer through A only');
    const delays: number[] = [];
    for (let i = 0; i < gossipCount; i++) {
      const stored = devnet.chain.at(1 + (i % head))!;
      // a distinct message each time: the same block with the signature of another block (gossip dedups by content)
      const other = devnet.chain.at(1 + ((i + 1) % head))!;
      const block = { ...stored.signed, signature: other.signed.signature };
      const key = `${stored.hash}/${block.signature.aggregateSignature}`;
      arrivals.delete(key);
      const sent = performance.now();
      await peer.host.publish({ type: 'ConsensusBlock', block });
      const got = await waitFor(() => arrivals.get(key), `gossip message ${i} at B`, 10_000).catch(() => undefined);
      if (got !== undefined) delays.push(got - sent);
      await new Promise((r) => setTimeout(r, 20));
    }
    const sorted = [...delays].sort((x, y) => x - y);
    const p98 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.98))] ?? NaN;
    report({
      name: 'network.gossip.propagation-2-hops.median',
      unit: 'ms',
      value: median(delays),
      better: 'lower',
      messages: gossipCount,
      delivered: delays.length,
    });
    report({
      name: 'network.gossip.propagation-2-hops.p98',
      unit: 'ms',
      value: p98,
      better: 'lower',
      target: '< 2000 (one Alys slot)',
      messages: gossipCount,
      delivered: delays.length,
    });
  } finally {
    for (const h of hosts.reverse()) await h.stop().catch(() => {});
    await rpc.close();
    await devnet.stop();
  }
  const browserBlocks = Number(process.env['NETWORK_BENCH_BROWSER_BLOCKS'] ?? 60);
  if (browserBlocks > 0) await browserPropagation(browserBlocks);
}

/** Producer -> relay -> light node in Chromium: from the block's append to the page's verified head. */
async function browserPropagation(blocks: number): Promise<void> {
  const { createServer } = await import('vite');
  const { chromium } = await import('playwright');
  const devnet = await createDevnet({
    consensusPort: 0,
    evmPort: 0,
    esploraPort: 0,
    users: 2,
    seed: 'bench-network-browser',
  });
  const stops: Array<() => Promise<unknown>> = [() => devnet.stop()];
  const produce = async () => {
    if ((devnet.chain.height + 1) % 10 === 0 && (await devnet.mineAuxPow()) !== 'submitted')
      throw new Error('no merged-mining work');
    await devnet.produceNext();
  };
  try {
    for (let i = 0; i < 10; i++) await produce();
    const peer = await startDevnetPeer(devnet);
    stops.unshift(() => peer.stop());
    // the relay: circuit relay + WebSockets, forwards the gossip, serves the chain (as `alys-light relay` does)
    const relay = await createP2pHost({
      transports: nodeTransports(),
      listen: LOOPBACK_LISTEN,
      allowPrivateAddresses: true,
      relayServer: true,
      server: true,
      discovery: { dial: 0, announce: false },
      serveBlocks: (start, count) =>
        start > BigInt(devnet.chain.height)
          ? []
          : devnet.chain
              .range(Number(start), Math.min(devnet.chain.height, Number(start) + count - 1))
              .map((b) => b.signed),
    });
    await relay.start();
    stops.unshift(() => relay.stop());
    await relay.dial(peer.addresses.find((a) => !a.includes('/ws'))!);
    const relayWs = relay.multiaddrs().find((a) => a.includes('/ws'))!;
    const json = JSON.stringify({
      instance: 'bench-network',
      chainSpec: chainSpecToJson(devnet.spec),
      rpc: [],
      evmRpc: [devnet.urls.evm],
    });
    const server = await createServer({
      configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
      logLevel: 'warn',
      server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, // no reload mid-measurement
      plugins: [
        {
          name: 'bench-devnet-json',
          configureServer: (sv) => void sv.middlewares.use('/devnet.json', (_q, res) => res.end(json)),
        },
      ],
    });
    await server.listen();
    stops.unshift(() => server.close());
    const browser = await chromium.launch({
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
    stops.unshift(() => browser.close());
    const page = await browser.newPage();
    // no RPC, no polling: the page follows by gossip alone
    const query = new URLSearchParams({
      rpc: '',
      'p2p-bootstrap': relayWs,
      storage: 'memory',
      'sync-follow-interval-ms': '600000',
    });
    await page.goto(`${server.resolvedUrls!.local[0]}?${query}`);
    await page.waitForFunction((n) => Number(document.body.dataset.head) >= n, devnet.chain.height, {
      timeout: 120_000,
      polling: 50,
    });
    await page.evaluate(() => {
      const w = window as unknown as {
        alysNode: { on(e: 'head', l: (h: { number: number }) => void): void };
        benchHeads: Record<number, number>;
      };
      w.benchHeads = {};
      w.alysNode.on('head', (h) => void (w.benchHeads[h.number] ??= Date.now()));
    });
    await waitFor(() => relay.topicPeers('approve_block').length >= 2, 'the page in the relay gossip mesh');
    await new Promise((r) => setTimeout(r, 2_000)); // heartbeats: the relay grafts the page into its mesh
    const appended = new Map<number, number>();
    const off = devnet.chain.onAppend((b) => appended.set(b.number, Date.now()));
    for (let i = 0; i < blocks; i++) {
      await produce();
      await new Promise((r) => setTimeout(r, 400));
    }
    await new Promise((r) => setTimeout(r, 3_000));
    off();
    const heads = await page.evaluate(() => (window as unknown as { benchHeads: Record<number, number> }).benchHeads);
    const delays = [...appended].flatMap(([n, t]) => (heads[n] !== undefined ? [heads[n]! - t] : []));
    const sorted = [...delays].sort((x, y) => x - y);
    const p98 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.98))] ?? NaN;
    const extra = {
      blocks,
      delivered: delays.length,
      path: 'devnet peer -TCP-> relay -WebSockets-> Chromium light node (gossip: proposer block + approve_block, aggregated and verified in the page)',
    };
    report({
      name: 'network.gossip.producer-to-browser-verified-head.median',
      unit: 'ms',
      value: median(delays),
      better: 'lower',
      ...extra,
    });
    report({
      name: 'network.gossip.producer-to-browser-verified-head.p98',
      unit: 'ms',
      value: p98,
      better: 'lower',
      target: '< 2000 (one Alys slot)',
      ...extra,
    });
  } finally {
    for (const stop of stops) await stop().catch(() => {});
  }
}
