/**
 * `node.bridge` of the node in a worker (src/platform/browser/node-worker/, `bridge` calls), in real
 * Chromium against the devnet of test/setup/browser-devnet.ts (its Esplora serves CORS): the worker's
 * node answers the deposit address the devnet derives and tracks a txid through its SPV client; a node
 * without a Bitcoin source answers `peg.unavailable`, the code intact across the worker boundary.
 */
import { describe, expect, inject, it } from 'vitest';
import { AlysLightError, createLightNode, type WorkerLightNode } from '../../src/index.js';
import { parseChainSpec } from '../../src/protocol/chainspec.js';
import { cleanUpAfterAll, newRun } from './helpers.js';

const devnet = inject('devnet');
const spec = parseChainSpec(devnet.chainSpec);
const run = newRun();
const databases: string[] = [];
const nodes: WorkerLightNode[] = [];
cleanUpAfterAll(nodes, databases);

function makeNode(label: string, esplora: string[]): WorkerLightNode {
  const databaseName = `alys-light-test-${run}-${label}`;
  databases.push(databaseName);
  const node = createLightNode({
    chainSpec: spec,
    rpc: [devnet.consensus],
    evmRpc: [devnet.evm],
    storage: 'indexeddb',
    databaseName,
    verifierWorkers: 0,
    logLevel: 'silent',
    bitcoin: { esplora },
    sync: { start: 'head', requestTimeoutMs: 5_000, backoffInitialMs: 50, backoffMaxMs: 500, followIntervalMs: 100 },
  }) as WorkerLightNode;
  nodes.push(node);
  return node;
}

describe('node.bridge in the node worker (Chromium)', { timeout: 60_000 }, () => {
  it('answers through the worker: the deposit address, a tracked txid, its pegs', async () => {
    const node = makeNode('bridge', [devnet.esplora]);
    await node.start();
    const address = await node.bridge.depositAddress();
    const res = await fetch(devnet.consensus, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getdepositaddress', params: [] }),
    });
    expect(address).toBe(((await res.json()) as { result: string }).result);
    // a txid no endpoint knows: tracked, unknown
    const txid = 'ab'.repeat(32);
    expect(await node.bridge.trackPegIn(txid)).toEqual({ kind: 'in', txid, state: { state: 'unknown' } });
    expect((await node.bridge.pegs()).map((p) => (p.kind === 'in' ? p.txid : p.evmTxHash))).toEqual([txid]);
    const bad = await node.bridge.pegStatus('nope').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(AlysLightError);
    expect((bad as AlysLightError).code).toBe('peg.bad-argument');
  });

  it('without a Bitcoin source: peg.unavailable, the code intact across the boundary', async () => {
    const node = makeNode('no-bitcoin', []);
    await node.start();
    const e = await node.bridge.pegStatus('ab'.repeat(32)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AlysLightError);
    expect((e as AlysLightError).code).toBe('peg.unavailable');
  });
});
