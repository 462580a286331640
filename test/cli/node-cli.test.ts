/**
 * `alys-light run`, `status` and `query balance` against an in-process devnet (real HTTP servers on
 * 127.0.0.1:0; the devnet writes its chain spec file, which `--network <spec.json>` loads):
 *
 * - end to end as child processes (`node --import tsx src/cli/main.ts ...`, real exit codes):
 *   `run --exit-when-synced --json` starts at the devnet's verified head (the default) and exits 0
 *   with a summary naming the head, the finalized block and where verified history starts, after
 *   lines for the verified head and the finalized block; `--sync-start genesis` replays every block
 *   into a LevelDB data dir; `status` offline reports its stored head, finalized block and
 *   historyFrom; `query balance`
 *   (a warm start from that data dir) prints the verified balance, equal to the EL's
 *   eth_getBalance at the block it names; a malformed address exits 2;
 * - in-process, through the exported command functions main dispatches to (each returns the exit
 *   code main sets; a child process costs ~3 s of TypeScript loading): a head-first `run`'s
 *   progress lines (verified head before the start finishes, finalized block, backfill progress
 *   and completion) and summary, `status --url` of that running node (historyFrom), `status`
 *   offline of a `--sync-history none` store (historyFrom = the latest PoW range's start); `query balance --at`
 *   <number> / finalized, and bad input - exit 2 and a message naming the problem: malformed
 *   addresses, unknown flags, bad config values from flags and from ALYS_* variables, a chain spec
 *   file that is not JSON, has the wrong shape or is missing, a bad `--at` / `--timeout-ms`; and
 *   `status` without stored state (exit 1).
 *
 * Expected values come from the devnet (its chain store and its EL), never written down.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPublicClient, createWalletClient, defineChain, http, type Hex as ViemHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { queryCommand } from '../../src/cli/query.js';
import { runCommand } from '../../src/cli/run.js';
import { statusCommand } from '../../src/cli/status.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { Cleanup, finalizedHeight, growChain, honestHash, powBlocks, startDevnet, tempDir } from '../node/helpers.js';
import { type CliResult, lastJson, type RunCliOptions, runCli } from '../helpers/cli.js';

/** `alys-light ...args` as a child process (test/helpers/cli.ts). */
const cli = (args: string[], timeoutMs?: number, opts: RunCliOptions = {}): Promise<CliResult> =>
  runCli(args, { ...opts, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

const shared = new Cleanup();
let devnet: Devnet;
let dir: string;
let dataDir: string;
const TIP = 24;
/** The block carrying the transfer (and the one before it). */
const TRANSFER_BLOCK = 5;
const RECIPIENT = '0x00000000000000000000000000000000c0ffee01' as const;
const AMOUNT = 987_654_321n;

/** ALYS_* variables of whoever runs the tests must not change what the CLI does. */
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const k of Object.keys(process.env))
    if (k.startsWith('ALYS_')) (savedEnv[k] = process.env[k]), delete process.env[k];
  dir = await tempDir(shared, 'alys-cli-test-');
  devnet = await startDevnet(shared, 'cli', { dataDir: join(dir, 'devnet') });
  dataDir = join(dir, 'node');
  await mkdir(dataDir);
  // a value transfer at TRANSFER_BLOCK, so the queried balance is one the chain produced
  const chain = defineChain({
    id: devnet.spec.chainId,
    name: 'alys-devnet',
    nativeCurrency: { name: 'BTC', symbol: 'BTC', decimals: 18 },
    rpcUrls: { default: { http: [devnet.urls.evm] } },
  });
  const wallet = createWalletClient({
    account: privateKeyToAccount(devnet.users[0]!.privateKey),
    chain,
    transport: http(devnet.urls.evm),
  });
  await growChain(devnet, TRANSFER_BLOCK - 1, 10);
  await wallet.sendTransaction({ to: RECIPIENT, value: AMOUNT });
  await growChain(devnet, TIP - TRANSFER_BLOCK + 1, 10); // PoW at 10 and 20
  expect(devnet.chain.height).toBe(TIP);
  expect(devnet.chain.at(TRANSFER_BLOCK)!.signed.message.executionPayload.transactions).toHaveLength(1);
}, 60_000);

afterAll(async () => {
  Object.assign(process.env, savedEnv);
  await shared.run();
}, 60_000);

/** The flags every command gets: this devnet's spec file, its endpoints, the node's data dir. */
const nodeFlags = () => [
  '--network',
  devnet.specFile,
  '--rpc',
  devnet.urls.consensus,
  '--evm-rpc',
  devnet.urls.evm,
  '--storage',
  'level',
  '--data-dir',
  dataDir,
];
const fastSync = [
  '--sync-batch-size',
  '8',
  '--sync-request-timeout-ms',
  '2000',
  '--sync-backoff-initial-ms',
  '50',
  '--sync-backoff-max-ms',
  '500',
  '--sync-follow-interval-ms',
  '100',
];

/** The lowest block a head-first cold start stored, from its progress note. */
function storedFrom(progress: string): number {
  const m = /storage: cold-start: started at verified head \d+; .*; history from block (\d+)/.exec(progress);
  if (!m) throw new Error(`no head-first cold-start note in:\n${progress}`);
  return Number(m[1]);
}

/** The EL's own eth_getBalance at a block number. */
async function elBalance(address: string, blockNumber: number): Promise<bigint> {
  const el = createPublicClient({ transport: http(devnet.urls.evm) });
  return el.getBalance({ address: address as ViemHex, blockNumber: BigInt(blockNumber) });
}

// ------------------------------------------------------------------------------------------ end to end

describe('alys-light run / status / query (child processes)', () => {
  it('run in-process, stopped by its abort signal: exits 0 and leaves no process listeners behind', async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'unhandledRejection'] as const;
    const before = events.map((e) => process.listenerCount(e));
    const ac = new AbortController();
    const code = await runCommand([...nodeFlags(), ...fastSync, '--storage', 'memory'], {
      signal: ac.signal,
      progress: { write: () => true },
      onStarted: (node) => node.on('sync', (st) => st.phase === 'following' && ac.abort()),
    });
    expect(code).toBe(0);
    expect(events.map((e) => process.listenerCount(e))).toEqual(before);
  });

  it('run: a stray promise rejection (e.g. inside a transport) is reported with detail and counted, the node goes on and stops cleanly', async () => {
    const preload = join(await tempDir(shared, 'alys-stray-'), 'stray.mjs');
    // once the node has installed its handler: rejections nobody handles, every 200 ms (at most 100)
    await writeFile(
      preload,
      'let n = 0; const t = setInterval(() => { if (process.listenerCount("unhandledRejection") === 0) return; if (++n > 100) clearInterval(t); Promise.reject(Object.assign(new Error("stray rejection " + n, { cause: new Error("inner cause") }), { code: "stray.code" })); }, 200); t.unref();\n',
    );
    let counted = -1;
    let reported = 0;
    const r = await cli(
      ['run', ...nodeFlags(), ...fastSync, '--storage', 'memory', '--metrics-port', '0', '--json'],
      60_000,
      {
        preload,
        // the metrics line too: it comes when the start is done, which a fast head-first start may report after the head
        stopWhen: new RegExp(
          `^(?=[\\s\\S]*metrics http:)(?=[\\s\\S]*following[^\\n]*head ${TIP} [\\s\\S]*unhandled rejection #\\d+ \\(ignored\\))`,
        ),
        // the count on /metrics: at least the number reported so far (those before the node started too)
        beforeStop: async (stderr) => {
          reported = Math.max(...[...stderr.matchAll(/unhandled rejection #(\d+)/g)].map((m) => Number(m[1])));
          const url = /metrics (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stderr)![1]!;
          const text = await (await fetch(url)).text();
          counted = Number(/^alys_light_unhandled_rejections_total (\d+)$/m.exec(text)![1]);
        },
      },
    );
    // the detail (the first report, up to the next warning): message, stack, the error's code and its cause
    const first = r.stderr.split('warning: ').find((w) => w.startsWith('unhandled rejection #1 '))!;
    expect(first).toMatch(/^unhandled rejection #1 \(ignored\): Error: stray rejection 1\n\s+at /);
    expect(first).toContain("code: 'stray.code'");
    expect(first).toContain('[cause]: Error: inner cause');
    expect(reported).toBeGreaterThanOrEqual(1);
    expect(counted).toBeGreaterThanOrEqual(reported);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ stopped: 'SIGTERM', head: { number: TIP } });
  });

  it('run in-process (head-first): lines for the verified head, finalized block and backfill; a live status names historyFrom', async () => {
    const logs: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
    let progress = '';
    let live: any;
    const ac = new AbortController();
    try {
      const code = await runCommand(
        [...nodeFlags(), ...fastSync, '--storage', 'memory', '--metrics-port', '0', '--json'],
        {
          signal: ac.signal,
          progress: { write: (t: string) => (progress += t) },
          onStarted: (node, { statusUrl }) =>
            node.on('backfill', async (b) => {
              if (!b.done || live) return;
              live = 'asked';
              // `alys-light status --url` against this running node
              expect(await statusCommand(['--url', statusUrl!.replace(/\/status$/, '')])).toBe(0);
              live = JSON.parse(logs.at(-1)!);
              ac.abort();
            }),
        },
      );
      expect(code, progress).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const tip = devnet.chain.head;
    const fin = finalizedHeight(devnet);
    // the walk stored the blocks it linked, down to (or a little below) the latest PoW block's range
    const lowest = storedFrom(progress);
    expect(lowest).toBeGreaterThan(0);
    expect(lowest).toBeLessThanOrEqual(powBlocks(devnet).at(-1)!.rangeStart);
    expect(live).toMatchObject({
      source: 'running node',
      head: { number: TIP, hash: tip.hash },
      finalized: fin,
      historyFrom: 0,
    });
    // the verified head is printed before the start finishes (the storage note comes at its end)
    const headLine = progress.indexOf(`verified head ${TIP} (${tip.hash.slice(0, 10)}..)\n`);
    expect(headLine, progress).toBeGreaterThanOrEqual(0);
    expect(headLine).toBeLessThan(progress.indexOf('storage: cold-start: started at verified head'));
    expect(progress).toContain(`finalized: block ${fin} (${honestHash(devnet, fin).slice(0, 10)}..)\n`);
    expect(progress).toMatch(new RegExp(`history: blocks ${lowest}\\.\\.head verified, backfilling to 0\\b`));
    expect(progress).toContain('history: complete from block 0\n');
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({
      stopped: 'abort',
      head: { number: TIP },
      finalized: fin,
      verifiedThisRun: 0,
      historyFrom: 0,
      backfill: { from: 0, target: 0, done: true },
    });
  });

  it('run --exit-when-synced --json (the default head-first start): the devnet head and finalized block, historyFrom', async () => {
    const headDir = join(dir, 'head-first');
    const r = await cli(['run', ...nodeFlags(), ...fastSync, '--data-dir', headDir, '--exit-when-synced', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = lastJson(r);
    const tip = devnet.chain.head;
    const fin = finalizedHeight(devnet);
    expect(summary).toMatchObject({
      stopped: 'synced',
      chainId: devnet.spec.chainId,
      mode: 'pow-checkpoint',
      head: { number: TIP, hash: tip.hash, payloadBlockHash: tip.signed.message.executionPayload.blockHash },
      finalized: fin,
      // started at the devnet's head, which did not move: nothing imported after it
      verifiedThisRun: 0,
      restarts: [],
    });
    // verified history reaches at least the latest PoW block's range (the backfill may have gone further)
    expect(summary.historyFrom).toBeGreaterThanOrEqual(0);
    expect(summary.historyFrom).toBeLessThanOrEqual(powBlocks(devnet).at(-1)!.rangeStart);
    expect(summary.sync).toMatchObject({ phase: 'following', current: TIP, target: TIP });
    expect(summary.sources).toContainEqual({ id: devnet.urls.consensus, score: 100, faults: 0 });
    // stderr: the verified head and the finalized block on lines of their own, the cold start, the startup line
    expect(r.stderr).toContain(`verified head ${TIP} (${tip.hash.slice(0, 10)}..)\n`);
    expect(r.stderr).toContain(`finalized: block ${fin} (${honestHash(devnet, fin).slice(0, 10)}..)\n`);
    expect(r.stderr).toContain(`storage: cold-start: started at verified head ${TIP}`);
    expect(r.stderr).toContain(`alys-light: chain ${devnet.spec.chainId}, mode pow-checkpoint, storage level`);
  });

  it('run --sync-start genesis --exit-when-synced --json replays every block from genesis', async () => {
    const r = await cli([
      'run',
      ...nodeFlags(),
      ...fastSync,
      '--sync-start',
      'genesis',
      '--exit-when-synced',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = lastJson(r);
    const tip = devnet.chain.head;
    expect(summary).toMatchObject({
      stopped: 'synced',
      head: { number: TIP, hash: tip.hash },
      finalized: finalizedHeight(devnet),
      verifiedThisRun: TIP,
      historyFrom: 0,
      restarts: [],
    });
    expect(r.stderr).toContain('storage: cold-start: starting from genesis');
    expect(r.stderr).not.toContain('verified head');
  });

  it('status (offline) of a head-first store names where its verified history starts (historyFrom)', async () => {
    const histDir = join(dir, 'history-none');
    const ac = new AbortController();
    const flags = [...nodeFlags(), '--data-dir', histDir, '--sync-history', 'none'];
    let progress = '';
    const code = await runCommand([...flags, ...fastSync], {
      signal: ac.signal,
      progress: { write: (t: string) => (progress += t) },
      onStarted: (node) => node.on('sync', (st) => st.phase === 'following' && ac.abort()),
    });
    expect(code).toBe(0);
    const logs: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
    try {
      expect(await statusCommand(flags)).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const fin = finalizedHeight(devnet);
    // --sync-history none: the history is what the cold start's walk verified, down to the latest PoW block's range
    const lowest = storedFrom(progress);
    expect(lowest).toBeGreaterThan(0);
    expect(lowest).toBeLessThanOrEqual(powBlocks(devnet).at(-1)!.rangeStart);
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({
      source: 'storage',
      stored: 'ok',
      head: { number: TIP, hash: honestHash(devnet, TIP) },
      finalized: { number: fin, hash: honestHash(devnet, fin) },
      historyFrom: lowest,
    });
  });

  it('status (offline) reports the stored head and finalized block', async () => {
    const r = await cli(['status', '--network', devnet.specFile, '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const fin = finalizedHeight(devnet);
    expect(lastJson(r)).toMatchObject({
      source: 'storage',
      running: false,
      chainId: devnet.spec.chainId,
      mode: 'pow-checkpoint',
      stored: 'ok',
      head: { number: TIP, hash: honestHash(devnet, TIP) },
      finalized: { number: fin, hash: honestHash(devnet, fin) },
      historyFrom: 0,
    });
  });

  it('query balance prints the verified balance, equal to the EL eth_getBalance at the block it names', async () => {
    const r = await cli(['query', 'balance', RECIPIENT.toUpperCase().replace('0X', '0x'), ...nodeFlags(), ...fastSync]);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r);
    const tip = devnet.chain.head;
    expect(out).toMatchObject({
      query: 'balance',
      address: RECIPIENT,
      verified: true,
      mode: 'pow-checkpoint',
      block: { number: TIP, hash: tip.signed.message.executionPayload.blockHash },
    });
    expect(BigInt(out.balance)).toBe(await elBalance(RECIPIENT, TIP));
    expect(BigInt(out.balance)).toBe(AMOUNT);
  });

  it('query balance --at <number> answers at that block (in-process: the same command function main calls)', async () => {
    const logs: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
    try {
      // before the transfer the recipient had nothing
      expect(
        await queryCommand(['balance', RECIPIENT, '--at', String(TRANSFER_BLOCK - 1), ...nodeFlags(), ...fastSync]),
      ).toBe(0);
      const before = JSON.parse(logs.at(-1)!);
      expect(before).toMatchObject({
        verified: true,
        balance: '0',
        block: {
          number: TRANSFER_BLOCK - 1,
          hash: devnet.chain.at(TRANSFER_BLOCK - 1)!.signed.message.executionPayload.blockHash,
        },
      });
      expect(await elBalance(RECIPIENT, TRANSFER_BLOCK - 1)).toBe(0n);
      // the sender at the transfer block: the EL's answer, the amount and the gas gone
      const sender = devnet.users[0]!.address;
      expect(await queryCommand(['balance', sender, '--at', String(TRANSFER_BLOCK), ...nodeFlags(), ...fastSync])).toBe(
        0,
      );
      const at = JSON.parse(logs.at(-1)!);
      expect(at).toMatchObject({
        verified: true,
        address: sender,
        block: {
          number: TRANSFER_BLOCK,
          hash: devnet.chain.at(TRANSFER_BLOCK)!.signed.message.executionPayload.blockHash,
        },
      });
      expect(BigInt(at.balance)).toBe(await elBalance(sender, TRANSFER_BLOCK));
      expect(BigInt(at.balance)).toBeLessThan((await elBalance(sender, TRANSFER_BLOCK - 1)) - AMOUNT);
      // finalized: the last PoW-finalized block
      expect(await queryCommand(['balance', RECIPIENT, '--at', 'finalized', ...nodeFlags(), ...fastSync])).toBe(0);
      const fin = JSON.parse(logs.at(-1)!);
      expect(fin).toMatchObject({ verified: true, block: { number: finalizedHeight(devnet) } });
      expect(BigInt(fin.balance)).toBe(await elBalance(RECIPIENT, finalizedHeight(devnet)));
    } finally {
      spy.mockRestore();
    }
  });

  it('a malformed address exits 2 through main', async () => {
    const address = await cli(['query', 'balance', '0x1234', ...nodeFlags()]);
    expect(address.code).toBe(2);
    expect(address.stderr).toContain('"0x1234" is not an address (0x and 40 hex digits)');
    expect(address.stdout).toBe('');
  });
});

// ------------------------------------------------------------------------------------------ bad input, in-process

describe('bad input (in-process): exit 2 with a message naming the problem', () => {
  let errors: string[] = [];
  let logs: string[] = [];
  beforeAll(() => {
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
  });
  afterEach(() => {
    errors = [];
    logs = [];
  });
  afterAll(() => vi.restoreAllMocks());

  const stderr = () => errors.join('\n');

  it.each([
    ['0x1234', 'too short'],
    ['0x' + 'g'.repeat(40), 'not hex'],
    ['c0ffee' + '0'.repeat(34), 'no 0x'],
    ['0x' + '1'.repeat(41), 'too long'],
  ])('query balance %s (%s)', async (address) => {
    expect(await queryCommand(['balance', address, ...nodeFlags()])).toBe(2);
    expect(stderr()).toContain(`${JSON.stringify(address)} is not an address (0x and 40 hex digits)`);
    expect(logs).toEqual([]);
  });

  it('query: a missing address, an unknown sub-query and a bad --at / --timeout-ms', async () => {
    expect(await queryCommand(['balance', ...nodeFlags()])).toBe(2);
    expect(stderr()).toContain('usage: alys-light query balance');
    expect(await queryCommand(['nonce', RECIPIENT, ...nodeFlags()])).toBe(2);
    errors = [];
    expect(await queryCommand(['balance', RECIPIENT, '--at', 'yesterday', ...nodeFlags()])).toBe(2);
    expect(stderr()).toContain('--at takes latest, safe, finalized or a block number, not "yesterday"');
    errors = [];
    expect(await queryCommand(['balance', RECIPIENT, '--timeout-ms', 'soon', ...nodeFlags()])).toBe(2);
    expect(stderr()).toContain('--timeout-ms takes a positive number of milliseconds');
  });

  it.each([
    ['run', runCommand],
    ['status', statusCommand],
    ['query', (argv: string[]) => queryCommand(['balance', RECIPIENT, ...argv])],
  ] as const)('%s: an unknown flag', async (name, command) => {
    expect(await command(['--storag', 'memory'])).toBe(2);
    expect(stderr()).toContain("Unknown option '--storag'");
    expect(stderr()).toContain(`usage: alys-light ${name}`);
  });

  it.each([
    [
      ['--sync-batch-size', '0'],
      'sync.batchSize (from --sync-batch-size): expected an integer from 1 to 1024, got "0"',
    ],
    [['--mode', 'fast'], `mode (from --mode): expected 'full' | 'pow-checkpoint', got "fast"`],
    [
      ['--rpc', 'ftp://127.0.0.1:1'],
      '(from --rpc): expected an http(s) URL, got "ftp://127.0.0.1:1" (scheme ftp is not allowed)',
    ],
    [
      ['--verifier-workers', 'many'],
      'verifierWorkers (from --verifier-workers): expected an integer from 0 to 16, got "many"',
    ],
  ])('run %j: a bad config value is a ConfigError naming key, flag and expected form', async (flags, message) => {
    expect(await runCommand([...nodeFlags(), ...flags])).toBe(2);
    expect(stderr()).toContain('Invalid config: ');
    expect(stderr()).toContain(message);
    // the same for status and query
    errors = [];
    expect(await statusCommand(['--network', devnet.specFile, '--data-dir', dataDir, ...flags])).toBe(2);
    expect(stderr()).toContain(message);
    errors = [];
    expect(await queryCommand(['balance', RECIPIENT, ...nodeFlags(), ...flags])).toBe(2);
    expect(stderr()).toContain(message);
  });

  it('an environment variable with a bad value names the variable', async () => {
    process.env['ALYS_SYNC_PARALLELISM'] = '99';
    try {
      expect(await runCommand(nodeFlags())).toBe(2);
    } finally {
      delete process.env['ALYS_SYNC_PARALLELISM'];
    }
    expect(stderr()).toContain(
      'sync.parallelism (from ALYS_SYNC_PARALLELISM): expected an integer from 1 to 32, got "99"',
    );
  });

  it.each([
    ['not JSON', '{"authorities": [', 'not a valid chain spec: $: not valid JSON'],
    ['wrong shape', '{"authorities": "none"}', 'not a valid chain spec: $.authorities: expected an array'],
    ['missing', null, 'no such file'],
  ])('an invalid chain spec file (%s) exits 2 for run, status and query', async (what, content, problem) => {
    const file = join(dir, `spec-${what.replace(/\W/g, '-')}.json`);
    if (content !== null) await writeFile(file, content);
    const flags = [
      '--network',
      file,
      '--rpc',
      devnet.urls.consensus,
      '--evm-rpc',
      devnet.urls.evm,
      '--storage',
      'level',
      '--data-dir',
      dataDir,
    ];
    for (const run of [
      () => runCommand(flags),
      () => statusCommand(flags),
      () => queryCommand(['balance', RECIPIENT, ...flags]),
    ]) {
      errors = [];
      expect(await run()).toBe(2);
      expect(stderr()).toContain(
        `Cannot load the chain spec for network ${JSON.stringify(file)} from ${file}: ${problem}`,
      );
      expect(stderr()).toContain('Check the path in network (--network, ALYS_NETWORK).');
    }
    expect(logs).toEqual([]);
  });

  it('status: memory storage or an empty data dir has no stored state (exit 1)', async () => {
    expect(await statusCommand(['--network', devnet.specFile, '--storage', 'memory'])).toBe(1);
    expect(stderr()).toContain('storage is memory; only a running node has a status (pass --url)');
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    expect(await statusCommand(['--network', devnet.specFile, '--data-dir', empty])).toBe(1);
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({ source: 'storage', stored: 'empty', head: null, finalized: null });
  });
});
