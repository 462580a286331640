/**
 * Two chain specs that share a chain id never share a store (issue 12 point 4), end to end as
 * child processes (`node --import tsx src/cli/main.ts ...`, real LevelDB):
 *
 * `alys-light run --exit-when-synced` against devnet A fills a data dir D; then `run` under devnet
 * B's spec (same chain id 121212, other authorities) against devnet B on the same D starts fresh,
 * never reports A's blocks and reaches B's head with B's score untouched; `status --network dev`
 * on D (the shipped dev spec, chain id 121212 too) finds no stored chain; A's store is still A's.
 * (Before the fingerprint, B's run warm-started at A's head and then scored B down.)
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import { Cleanup, growChain, startDevnet, tempDir } from '../node/helpers.js';
import { type CliResult, lastJson, type RunCliOptions, runCli } from '../helpers/cli.js';

/** `alys-light ...args` as a child process (test/helpers/cli.ts). */
const cli = (args: string[], timeoutMs?: number, opts: RunCliOptions = {}): Promise<CliResult> =>
  runCli(args, { ...opts, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

const cleanup = new Cleanup();
let a: Devnet;
let b: Devnet;
let dataDir: string;

beforeAll(async () => {
  const dir = await tempDir(cleanup, 'alys-cli-spec-');
  a = await startDevnet(cleanup, 'cli-spec-a', { dataDir: join(dir, 'devnet-a') });
  b = await startDevnet(cleanup, 'cli-spec-b', { dataDir: join(dir, 'devnet-b') });
  await growChain(a, 14, 10);
  await growChain(b, 9, 5);
  expect(b.spec.chainId).toBe(a.spec.chainId);
  dataDir = join(dir, 'node');
}, 60_000);
afterAll(() => cleanup.run(), 60_000);

const fast = ['--sync-batch-size', '8', '--sync-backoff-initial-ms', '50', '--sync-follow-interval-ms', '100'];
const runOn = (d: Devnet) =>
  cli([
    'run',
    '--network',
    d.specFile,
    '--rpc',
    d.urls.consensus,
    '--evm-rpc',
    d.urls.evm,
    '--storage',
    'level',
    '--data-dir',
    dataDir,
    ...fast,
    '--exit-when-synced',
    '--json',
  ]);

describe('a data dir shared by two specs with one chain id (child processes)', () => {
  it('devnet A, then devnet B: B starts fresh and reaches its head; dev finds nothing; A keeps its store', async () => {
    const first = await runOn(a);
    expect(first.code, first.stderr).toBe(0);
    expect(lastJson(first).head).toMatchObject({ number: a.chain.height, hash: a.chain.head.hash });

    const second = await runOn(b);
    expect(second.code, second.stderr).toBe(0);
    const summary = lastJson(second);
    expect(summary.head).toMatchObject({ number: b.chain.height, hash: b.chain.head.hash });
    expect(summary.sources).toContainEqual({ id: b.urls.consensus, score: 100, faults: 0 });
    expect(second.stderr).toContain('storage: cold-start');
    expect(second.stderr).not.toContain('warm-start');
    expect(second.stdout + second.stderr).not.toContain(a.chain.head.hash);

    const dev = await cli(['status', '--network', 'dev', '--data-dir', dataDir]);
    expect(dev.code).toBe(1);
    expect(lastJson(dev)).toMatchObject({ source: 'storage', chainId: 121212, stored: 'empty', head: null });

    const again = await cli(['status', '--network', a.specFile, '--data-dir', dataDir]);
    expect(again.code, again.stderr).toBe(0);
    expect(lastJson(again)).toMatchObject({ stored: 'ok', head: { number: a.chain.height, hash: a.chain.head.hash } });
  }, 120_000); // four child processes (~3 s of TypeScript loading each, more on a loaded machine)
});
