/**
 * `npm run bench -- call`: verified eth_call of ERC-20 balanceOf (the provider's EVM over proven state)
 * against the same unverified eth_call, both to anvil on loopback through the same proxy, same run.
 *
 * The proxy counts SEQUENTIAL round trips: a request's depth is 1 + the deepest response that was
 * already sent when it arrived (requests sent in parallel share a depth); the call's round trips are
 * the deepest request's depth. Arrival order can overstate it when a client is slow to send what it
 * sends in parallel (the process's first call: cold code between the sends), so `call.round-trips`
 * counts them again with 25 ms added to every answer, as over a WAN.
 *
 * - call.first: the first verified call of the process (the EVM's lazy import included) vs the first unverified one;
 * - call.cold-state: a warm EVM, nothing cached (a fresh reads instance per call): hint + one batch of proofs + EVM;
 * - call.warm: a warm EVM, the block's state cached: only the hint is asked.
 * Goals (issue 14): <= 2 sequential round trips; <= 5x the unverified latency with a warm EVM.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createPublicClient, encodeFunctionData, http, type Hex } from 'viem';
import { listenLocal } from '../src/platform/nodejs/http.js';
import { createVerifiedReads } from '../src/node/engine/index.js';
import { CALL_CHAIN_ID, createCallFixture, ERC20_ABI } from '../test/node/engine/call-fixture.js';
import { median, report } from './report.js';

const RUNS = Number(process.env.CALL_BENCH_RUNS ?? 40);

interface DepthProxy {
  url: string;
  /** Start a new operation: forget the depths seen. */
  reset(): void;
  /** Sequential round trips of the operation so far, and its requests. */
  stats(): { roundTrips: number; requests: number };
  close(): Promise<void>;
}

/** `delayMs` holds every answer that long (a WAN-like latency, so what is sent in parallel arrives in parallel). */
async function startDepthProxy(upstream: string, delayMs = 0): Promise<DepthProxy> {
  let done: number[] = [];
  let deepest = 0;
  let requests = 0;
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const depth = 1 + Math.max(0, ...done);
    requests++;
    deepest = Math.max(deepest, depth);
    const reply = await fetch(upstream, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat(chunks),
    });
    const text = await reply.text();
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(text);
    done.push(depth);
  };
  const server = await listenLocal((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  return {
    url: server.url,
    reset() {
      done = [];
      deepest = 0;
      requests = 0;
    },
    stats: () => ({ roundTrips: deepest, requests }),
    close: () => server.close(),
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export async function run(): Promise<void> {
  const f = await createCallFixture();
  const proxy = await startDepthProxy(f.anvil.url);
  try {
    const chainId = BigInt(CALL_CHAIN_ID);
    const call = {
      to: f.token,
      data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [f.holder.address] }),
    };
    const blockHash = f.payloads[Number(f.source.head)]!.blockHash;
    const raw = createPublicClient({ transport: http(proxy.url, { retryCount: 0 }) });
    const unverified = async () =>
      (await raw.request({ method: 'eth_call', params: [call, { blockHash }] as never })) as Hex;
    const fresh = () => createVerifiedReads({ evmRpc: [proxy.url], payloads: f.source });

    // first call of the process: the EVM is imported here
    proxy.reset();
    const firstRaw = await timed(unverified);
    const rawTrips = proxy.stats().roundTrips;
    proxy.reset();
    const firstVerified = await timed(() => fresh().call(call, 'latest', { chainId }));
    const firstTrips = proxy.stats();
    if (firstVerified.value !== firstRaw.value) throw new Error('verified and unverified answers differ');
    report({
      name: 'call.first',
      unit: 'ms',
      value: firstVerified.ms,
      baseline: firstRaw.ms,
      better: 'lower',
      roundTrips: firstTrips.roundTrips,
      requests: firstTrips.requests,
      baselineRoundTrips: rawTrips,
      note: 'first verified call of the process, EVM import included',
    });

    const rawMs: number[] = [];
    const coldMs: number[] = [];
    const warmMs: number[] = [];
    const coldTrips: number[] = [];
    const warmTrips: number[] = [];
    const coldRequests: number[] = [];
    const warm = fresh();
    await warm.call(call, 'latest', { chainId });
    for (let i = 0; i < RUNS; i++) {
      rawMs.push((await timed(unverified)).ms);
      proxy.reset();
      coldMs.push((await timed(() => fresh().call(call, 'latest', { chainId }))).ms);
      coldTrips.push(proxy.stats().roundTrips);
      coldRequests.push(proxy.stats().requests);
      proxy.reset();
      warmMs.push((await timed(() => warm.call(call, 'latest', { chainId }))).ms);
      warmTrips.push(proxy.stats().roundTrips);
    }
    const base = median(rawMs);
    report({
      name: 'call.cold-state',
      unit: 'ms',
      value: median(coldMs),
      baseline: base,
      better: 'lower',
      target: '<= 5x',
      roundTrips: Math.max(...coldTrips),
      requests: median(coldRequests),
      runs: RUNS,
      note: 'EVM loaded, nothing cached: hint, proofs in one batch, local EVM',
    });
    report({
      name: 'call.warm',
      unit: 'ms',
      value: median(warmMs),
      baseline: base,
      better: 'lower',
      target: '<= 5x',
      roundTrips: Math.max(...warmTrips),
      runs: RUNS,
      note: 'EVM loaded, the block state cached: only the access-list hint is asked',
    });

    const slow = await startDepthProxy(f.anvil.url, 25);
    try {
      const trips: number[] = [];
      const warmSlow = createVerifiedReads({ evmRpc: [slow.url], payloads: f.source });
      await warmSlow.call(call, 'latest', { chainId });
      for (let i = 0; i < 5; i++) {
        slow.reset();
        await createVerifiedReads({ evmRpc: [slow.url], payloads: f.source }).call(call, 'latest', { chainId });
        trips.push(slow.stats().roundTrips);
      }
      slow.reset();
      await warmSlow.call(call, 'latest', { chainId });
      report({
        name: 'call.round-trips',
        unit: 'round trips',
        value: Math.max(...trips),
        better: 'lower',
        target: '<= 2',
        cachedState: slow.stats().roundTrips,
        note: 'sequential round trips of a verified balanceOf with nothing cached (25 ms added per answer); cachedState: the block state cached',
      });
    } finally {
      await slow.close();
    }
  } finally {
    await proxy.close();
    await f.close();
  }
}
