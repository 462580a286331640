/**
 * Global setup of the Durable Object suites (Node side, before workerd starts): a devnet on loopback
 * with a few PoW-finalized blocks; in front of its consensus RPC a lying server (every block's
 * approvals forged, src/devnet/faults.ts) and an honest proxy a test can make fail; a Node light node on
 * the same chain (head-first, memory storage) whose provider the tests compare the object's `/rpc` with;
 * and a control server the tests inside workerd call (they cannot reach this process otherwise):
 *
 * - `POST /grow {"blocks":n}`: n more devnet blocks (every 10th a PoW block); answers `/head`;
 * - `GET /head`: `{"number","hash"}` of the devnet's tip;
 * - `POST /honest {"failing":bool}`: the honest proxy answers HTTP 503 while failing;
 * - `POST /node-rpc {"method","params"}`: the Node light node's provider, `{"result"}` or `{"error"}`;
 * - `GET /node-head`: the Node light node's verified head number (null before its first).
 *
 * The Worker's bindings for this project (vitest.workers.config.ts) come from here: the devnet's spec as
 * `ALYS_CHAIN_SPEC`, the liar then the honest proxy as `ALYS_RPC`, the devnet's EVM RPC as `ALYS_EVM_RPC`,
 * fast sync settings in `ALYS_NODE_OPTIONS`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TestProject } from 'vitest/node';
import { serveFaultyConsensusRpc } from '../../../src/devnet/faults.js';
import { listenLocal } from '../../../src/platform/nodejs/http.js';
import { chainSpecToJson } from '../../../src/protocol/chainspec.js';
import { Cleanup, growChain, honestHash, startDevnet, startNode, startProxy } from '../../node/helpers.js';

export interface EdgeNodeSetup {
  control: string;
  liar: string;
  honest: string;
  /** A devnet user with a balance. */
  address: string;
  bindings: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    edgeNode: EdgeNodeSetup;
  }
}

/** The DO's sync settings in these suites: fast retries and polling, a head-first start. */
export const EDGE_NODE_OPTIONS = {
  mode: 'pow-checkpoint',
  sync: {
    start: 'head',
    history: 64,
    requestTimeoutMs: 2_000,
    retries: 2,
    backoffInitialMs: 50,
    backoffMaxMs: 500,
    followIntervalMs: 200,
  },
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cleanup = new Cleanup();
  try {
    const devnet = await startDevnet(cleanup, 'edge-durable-object', { chainId: 21213 });
    await growChain(devnet, 12, 10);
    const faulty = await serveFaultyConsensusRpc(devnet, {
      fault: 'bad-signature',
      seed: 'edge-do-liar',
      from: 1,
      port: 0,
    });
    cleanup.add(() => faulty.close());
    const honest = await startProxy(cleanup, devnet.urls.consensus);
    const { node } = await startNode(cleanup, devnet, { sync: { start: 'head' } });
    const head = () => ({ number: devnet.chain.height, hash: honestHash(devnet, devnet.chain.height) });
    const routes: Record<string, (body: any) => Promise<unknown> | unknown> = {
      'POST /grow': async (body) => {
        await growChain(devnet, Number(body.blocks ?? 1), 10);
        return head();
      },
      'GET /head': head,
      'POST /honest': (body) => {
        honest.setFailing(Boolean(body.failing));
        return { failing: Boolean(body.failing) };
      },
      'POST /node-rpc': (body) =>
        node.provider.request({ method: body.method, params: body.params }).then(
          (result) => ({ result: result ?? null }),
          (e: any) => ({ error: { code: e.code, message: e.shortMessage ?? e.message } }),
        ),
      'GET /node-head': async () => ({ number: (await node.status()).head?.number ?? null }),
    };
    const control = await listenLocal((req, res) => void serve(routes, req, res));
    cleanup.add(() => control.close());
    project.provide('edgeNode', {
      control: control.url,
      liar: faulty.url,
      honest: honest.url,
      address: devnet.users[0]!.address,
      bindings: {
        ALYS_CHAIN: '',
        ALYS_CHAIN_SPEC: JSON.stringify(chainSpecToJson(devnet.spec)),
        ALYS_RPC: `${faulty.url},${honest.url}`,
        ALYS_EVM_RPC: devnet.urls.evm,
        ALYS_NODE_OPTIONS: JSON.stringify(EDGE_NODE_OPTIONS),
        ALYS_ALARM_STEP_MS: '3000',
      },
    });
  } catch (e) {
    await cleanup.run();
    throw e;
  }
  return () => cleanup.run();
}

async function serve(
  routes: Record<string, (body: any) => Promise<unknown> | unknown>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const route = routes[`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`];
  try {
    if (!route) throw new Error(`no control route ${req.method} ${req.url}`);
    const text = Buffer.concat(chunks).toString('utf8');
    const answer = await route(text ? JSON.parse(text) : {});
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String((e as Error).message));
  }
}
