/**
 * Global setup of the browser project: the persisted 20,000-block devnet (test/helpers/big-chain.ts,
 * generated once per machine, served frozen from disk) for the head-first start in Chromium
 * (test/browser/head-start.test.ts), behind a consensus RPC proxy that counts the blocks it lets
 * through and can hold them, so the page can tell exactly how many blocks the node needed.
 *
 * The proxy (CORS, 127.0.0.1) is the node's consensus RPC. A block request (getheadblock,
 * getblockbyheight, getblockbyhash) is answered, from the persisted chain, only while fewer than
 * `limit` blocks were served; later ones wait, in arrival order, until the limit is raised. Other
 * requests are forwarded to the served chain's RPC. A tiny control
 * server (CORS) reads and sets that:
 *   GET  /count                  -> { served, held, calls: [{ method, params }] } (served block calls, in order)
 *   POST /limit {"blocks": n|null} -> serve at most n blocks in all (null: no limit); releases what fits
 *   POST /reset                  -> forget the calls, no limit, release every held request
 */
import type { TestProject } from 'vitest/node';
import '../../src/platform/nodejs/polyfills.js';
import { NoWorkError } from '../../src/devnet/consensus/mining.js';
import {
  handleConsensusRpc,
  serveConsensusRpc,
  type ConsensusRpcDeps,
  type RpcReply,
} from '../../src/devnet/consensus/rpc.js';
import type { ServedDevnet } from '../../src/devnet/generate/persist.js';
import { listenLocal, type LocalHttpServer } from '../../src/platform/nodejs/http.js';
import { createFederationFromSpec } from '../../src/protocol/bridge/taproot.js';
import { chainSpecToJson } from '../../src/protocol/chainspec.js';
import { serveBigChain } from '../helpers/big-chain.js';

export interface BrowserBigChain {
  /** The counting consensus RPC proxy: the node's only consensus source. */
  consensus: string;
  evm: string;
  /** The proxy's control server (see the file header). */
  control: string;
  /** The chain spec as the devnet writes it (chainSpecToJson): parse with parseChainSpec. */
  chainSpec: Record<string, unknown>;
  head: { number: number; hash: string };
  finalized: number;
  /** The largest distance between consecutive PoW blocks among the last 100 blocks. */
  powGap: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The 20,000-block chain of test/setup/browser-big-chain.ts. */
    bigChain: BrowserBigChain;
  }
}

const BLOCK_METHODS = new Set(['getheadblock', 'getblockbyheight', 'getblockbyhash']);

interface Call {
  method: string;
  params: unknown;
}

/** The block gate: counts the block calls it lets through, holds those beyond the limit. */
class Gate {
  served: Call[] = [];
  private limit: number | null = null;
  private readonly waiting: Array<{ call: Call; go: () => void }> = [];

  get held(): number {
    return this.waiting.length;
  }

  /** Resolves when `call` may go to the chain. */
  pass(call: Call): Promise<void> {
    return new Promise((go) => {
      this.waiting.push({ call, go });
      this.pump();
    });
  }

  setLimit(limit: number | null): void {
    this.limit = limit;
    this.pump();
  }

  reset(): void {
    this.served = [];
    this.setLimit(null);
  }

  private pump(): void {
    while (this.waiting.length && (this.limit === null || this.served.length < this.limit)) {
      const next = this.waiting.shift()!;
      this.served.push(next.call);
      next.go();
    }
  }
}

function parseCall(body: string): Call | undefined {
  try {
    const c = JSON.parse(body) as { method?: unknown; params?: unknown };
    return typeof c?.method === 'string' ? { method: c.method, params: c.params } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The consensus RPC in front of the served chain: block calls go through the gate and are answered
 * here from the persisted chain (as the served chain's own RPC answers them: one hop less per block);
 * anything else is forwarded to the served chain's RPC as it came.
 */
function serveProxy(served: ServedDevnet, gate: Gate): Promise<LocalHttpServer> {
  const { chain, spec, queuedPow } = served.persisted;
  const refuse = (): never => {
    throw new NoWorkError('a frozen chain has no work');
  };
  const deps: ConsensusRpcDeps = {
    chain,
    pow: { queuedPow, createAuxBlock: refuse, submitAuxBlock: refuse },
    federation: createFederationFromSpec(spec),
    bitcoinNetwork: 'regtest',
  };
  return serveConsensusRpc(0, async (httpMethod, body): Promise<RpcReply> => {
    const call = parseCall(body);
    if (call && BLOCK_METHODS.has(call.method)) {
      await gate.pass(call);
      return handleConsensusRpc(deps, httpMethod, body);
    }
    try {
      const r = await fetch(served.urls.consensus, {
        method: httpMethod,
        headers: { 'content-type': 'application/json' },
        ...(httpMethod === 'POST' ? { body } : {}),
      });
      return { status: r.status, body: await r.text(), contentType: r.headers.get('content-type') ?? 'text/plain' };
    } catch (e) {
      return { abort: true, reason: `the served chain closed the connection: ${(e as Error).message}` };
    }
  });
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': 'content-type',
};

function serveControl(gate: Gate): Promise<LocalHttpServer> {
  return listenLocal(async (req, res) => {
    if (req.method === 'OPTIONS') return void res.writeHead(204, CORS).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '/').split('?')[0];
    let status = 200;
    let out: unknown = { ok: true };
    if (path === '/count') out = { served: gate.served.length, held: gate.held, calls: gate.served };
    else if (path === '/limit' && req.method === 'POST') {
      const blocks = (JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { blocks?: unknown }).blocks;
      if (blocks === null || (Number.isSafeInteger(blocks) && (blocks as number) >= 0)) gate.setLimit(blocks as number);
      else [status, out] = [400, { error: 'blocks must be a non-negative integer or null' }];
    } else if (path === '/reset' && req.method === 'POST') gate.reset();
    else [status, out] = [404, { error: `unknown ${req.method} ${path}` }];
    res.writeHead(status, { ...CORS, 'content-type': 'application/json' }).end(JSON.stringify(out));
  });
}

/** The largest distance between consecutive PoW blocks among the last 100 blocks. */
function powGapNear(served: ServedDevnet, head: number): number {
  const pows: number[] = [];
  for (let n = Math.max(1, head - 100); n <= head; n++)
    if (served.persisted.chain.at(n)!.signed.message.auxpowHeader) pows.push(n);
  return Math.max(...pows.slice(1).map((n, i) => n - pows[i]!));
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const served = await serveBigChain();
  const gate = new Gate();
  const proxy = await serveProxy(served, gate);
  const control = await serveControl(gate);
  const { head } = served.persisted.manifest;
  project.provide('bigChain', {
    consensus: proxy.url,
    evm: served.urls.evm,
    control: control.url,
    chainSpec: chainSpecToJson(served.persisted.spec),
    head: { number: head.number, hash: head.hash },
    finalized: head.finalized,
    powGap: powGapNear(served, head.number),
  });
  return async () => {
    gate.reset();
    await control.close();
    await proxy.close();
    await served.close();
  };
}
