/**
 * A chain spec given to the page's `createLightNode` as JSON text (real Chromium, the devnet of
 * test/setup/browser-devnet.ts): the page reads it without the keys' curve checks (no noble curves on
 * the page), the node worker checks the keys before its node exists, and a bad key reaches the page as
 * the DecodeError `parseChainSpecJson` throws (same class, path and message) from `start()`.
 */
import { describe, expect, inject, it } from 'vitest';
import { createLightNode, type WorkerLightNode } from '../../src/index.js';
import { parseChainSpecJson } from '../../src/protocol/chainspec.js';
import { DecodeError } from '../../src/protocol/errors.js';
import { cleanUpAfterAll, newRun } from './helpers.js';

const devnet = inject('devnet');
const run = newRun();
const databases: string[] = [];
const nodes: WorkerLightNode[] = [];

cleanUpAfterAll(nodes, databases);

function makeNode(label: string, chainSpec: string): WorkerLightNode {
  const databaseName = `alys-light-test-${run}-${label}`;
  databases.push(databaseName);
  const node = createLightNode({
    chainSpec,
    rpc: [devnet.consensus],
    evmRpc: [devnet.evm],
    databaseName,
    verifierWorkers: 0,
    logLevel: 'silent',
    sync: { start: 'head', requestTimeoutMs: 5_000, backoffInitialMs: 50, backoffMaxMs: 500, followIntervalMs: 100 },
  }) as WorkerLightNode;
  nodes.push(node);
  return node;
}

/** The devnet's spec JSON with one field replaced. */
const specText = (change: Record<string, unknown> = {}) => JSON.stringify({ ...devnet.chainSpec, ...change });

/** What parseChainSpecJson throws for `text` (the error the worker's check must give too). */
function parseError(text: string): DecodeError {
  try {
    parseChainSpecJson(text);
  } catch (e) {
    return e as DecodeError;
  }
  throw new Error('the spec parsed');
}

describe('a chain spec as JSON text, checked in the node worker (Chromium)', { timeout: 60_000 }, () => {
  it('a good spec: the worker node syncs to a verified head', async () => {
    const node = makeNode('good', specText());
    expect(node.spec).toEqual(parseChainSpecJson(specText()));
    const head = new Promise<number>((resolve) => node.on('head', (h) => resolve(h.number)));
    await node.start();
    expect(await head).toBeGreaterThan(0);
    expect((await node.status()).worker?.kind).toBe('shared');
  });

  for (const [label, change, path] of [
    ['authority off the curve', { authorities: [`0x80${'00'.repeat(46)}01`] }, '$.authorities[0]'],
    ['authority at infinity', { authorities: [`0xc0${'00'.repeat(47)}`] }, '$.authorities[0]'],
    [
      'Bitcoin key off the curve',
      { federationBitcoinPubkeys: [`02${'05'.padStart(64, '0')}`] },
      '$.federationBitcoinPubkeys[0]',
    ],
  ] as const)
    it(`${label}: start() rejects with parseChainSpecJson's DecodeError`, async () => {
      const text = specText(change);
      const expected = parseError(text);
      expect(expected.path).toBe(path);
      const node = makeNode(label.replaceAll(' ', '-'), text);
      const error = await node.start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).path).toBe(path);
      expect((error as DecodeError).message).toBe(expected.message);
      // every call gives it, not only start()
      await expect(node.provider.request({ method: 'eth_blockNumber', params: [] })).rejects.toBeInstanceOf(
        DecodeError,
      );
    });

  it('a spec whose form is wrong is refused on the page, synchronously, as parseChainSpecJson refuses it', () => {
    const text = specText({ slotDuration: 0 });
    expect(() => makeNode('form', text)).toThrow(expect.objectContaining({ path: '$.slotDuration' }));
    expect(() => makeNode('json', '{')).toThrow(DecodeError);
  });
});
