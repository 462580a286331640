/**
 * `alys-light peg watch` and `peg status` against an in-process devnet (real HTTP servers on
 * 127.0.0.1:0, its Esplora as the Bitcoin source, a LevelDB data dir):
 * - `peg watch <evm address>` (in-process, the same function main calls, stopped by its abort
 *   signal) follows the devnet while a peg-in to that address and a peg-out it requests happen, and
 *   prints a `peg` event line per transition until the peg-in is finalized and the peg-out confirmed;
 * - `peg status <txid>` / `<hash>` as child processes (real exit codes) on the same data dir resume
 *   the tracked pegs from the store and print one JSON answer;
 * - bad arguments exit 2, a node without a Bitcoin source answers `peg.unavailable` (exit 1).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pegCommand } from '../../src/cli/peg.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { buildPegScenario, type PegScenario } from '../node/bridge/helpers.js';
import { Cleanup, startDevnet, tempDir, waitFor } from '../node/helpers.js';
import { type CliResult, lastJson, type RunCliOptions, runCli } from '../helpers/cli.js';

/** `alys-light ...args` as a child process (test/helpers/cli.ts). */
const cli = (args: string[], timeoutMs?: number, opts: RunCliOptions = {}): Promise<CliResult> =>
  runCli(args, { ...opts, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

const shared = new Cleanup();
let devnet: Devnet;
let dataDir: string;
let scenario: PegScenario;
const watched: any[] = [];
const savedEnv: Record<string, string | undefined> = {};

const nodeFlags = () => [
  '--network',
  devnet.specFile,
  '--rpc',
  devnet.urls.consensus,
  '--evm-rpc',
  devnet.urls.evm,
  '--esplora',
  devnet.urls.esplora,
  '--storage',
  'level',
  '--data-dir',
  dataDir,
  '--sync-follow-interval-ms',
  '100',
  // the devnet is fresh (block 0 only): replay from genesis
  '--sync-start',
  'genesis',
];

beforeAll(async () => {
  for (const k of Object.keys(process.env))
    if (k.startsWith('ALYS_')) (savedEnv[k] = process.env[k]), delete process.env[k];
  const dir = await tempDir(shared, 'alys-peg-cli-');
  devnet = await startDevnet(shared, 'peg-cli', { dataDir: join(dir, 'devnet') });
  dataDir = join(dir, 'node');
  await mkdir(dataDir);
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    for (const line of a.join(' ').split('\n')) if (line.startsWith('{')) watched.push(JSON.parse(line));
  });
  const ac = new AbortController();
  const evm = devnet.users[0]!.address;
  const watching = pegCommand(['watch', evm, '--interval-ms', '200', ...nodeFlags()], { signal: ac.signal });
  try {
    await waitFor(
      () => watched.some((l) => l.peg === 'status'),
      () => 'the watch to answer',
    );
    scenario = await buildPegScenario(devnet);
    const reached = (key: string, state: string) =>
      watched.some(
        (l) => l.peg === 'event' && (l.view.txid ?? l.view.evmTxHash) === key && l.view.state.state === state,
      );
    await waitFor(
      () => reached(scenario.pegin, 'finalized') && reached(scenario.pegout, 'confirmed'),
      () => `the watch to see the peg-in finalized and the peg-out confirmed: ${JSON.stringify(watched.at(-1))}`,
      30_000,
    );
  } finally {
    ac.abort();
    expect(await watching).toBe(0);
    spy.mockRestore();
  }
}, 90_000);

afterAll(async () => {
  Object.assign(process.env, savedEnv);
  await shared.run();
}, 60_000);

describe('alys-light peg', () => {
  it('watch printed the peg events of the address in spec 6.5 order', () => {
    const states = (key: string) =>
      watched
        .filter((l) => l.peg === 'event' && (l.view.txid ?? l.view.evmTxHash) === key)
        .map((l) => l.view.state.state);
    const pegin = states(scenario.pegin);
    expect(pegin.at(-1)).toBe('finalized');
    expect(pegin).toContain('minted');
    // the scenario outruns the watch's address scan: the peg-out is first seen as far as it got
    const order = ['requested', 'proposed', 'finalized-on-alys', 'broadcast', 'confirmed'];
    const pegout = states(scenario.pegout).map((st: string) => order.indexOf(st));
    expect(pegout.every((r: number, i: number) => r >= 0 && (i === 0 || r >= pegout[i - 1]!))).toBe(true);
    expect(pegout.at(-1)).toBe(order.indexOf('confirmed'));
    expect(watched[0]).toMatchObject({ peg: 'status', key: devnet.users[0]!.address.toLowerCase(), pegs: [] });
    // user 1's request is not the watched address's
    expect(watched.some((l) => l.view?.evmTxHash === scenario.smallPegout)).toBe(false);
  });

  it('status answers from the store of the data dir: the peg-in finalized, the peg-out confirmed', async () => {
    const r = await cli(['peg', 'status', scenario.pegin, ...nodeFlags()]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({
      peg: 'status',
      key: scenario.pegin,
      pegs: [{ kind: 'in', txid: scenario.pegin, state: { state: 'finalized', amountSats: '5000000' } }],
    });
    const out = await cli(['peg', 'status', scenario.pegout, ...nodeFlags()]);
    expect(out.code, out.stderr).toBe(0);
    expect(lastJson(out).pegs[0]).toMatchObject({
      kind: 'out',
      evmTxHash: scenario.pegout,
      state: { state: 'confirmed' },
    });
  });

  it('refuses bad arguments with exit 2, and answers peg.unavailable without a Bitcoin source', async () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      for (const argv of [
        ['status'],
        ['status', 'nope'],
        ['status', scenario.pegin, scenario.pegout],
        ['frob', scenario.pegin],
        [],
        ['watch', '0x12'],
        ['watch', '--interval-ms', '5'],
        ['status', scenario.pegin, '--no-such-flag'],
        ['status', scenario.pegin, '--esplora', 'ftp://x'],
      ])
        expect(await pegCommand([...argv, '--network', devnet.specFile]), argv.join(' ')).toBe(2);
      expect(await pegCommand(['--help'])).toBe(0);
    } finally {
      quiet.mockRestore();
      log.mockRestore();
    }
    const r = await cli(['peg', 'status', scenario.pegin, ...nodeFlags().slice(0, 6), '--bitcoin-esplora', '']);
    expect(r.code, r.stderr).toBe(1);
    expect(lastJson(r)).toMatchObject({ key: scenario.pegin, code: 'peg.unavailable' });
  });
});
