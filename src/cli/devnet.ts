/**
 * `npm run devnet [-- flags]`: a local Alys network (consensus RPC, EVM RPC, Esplora, control
 * endpoint) on 127.0.0.1, producing blocks on Aura slots with merged mining, until Ctrl-C.
 * `npm run devnet -- send <transfer|pegin|pegout> ...`: demo transactions through a running devnet.
 * `npm run devnet -- governance change --at <height> --authorities <n>`: a federation change (governance server).
 */
import '../platform/nodejs/polyfills.js';
import { parseArgs } from 'node:util';
import { registerNativeBlsBackend } from '../platform/nodejs/bls-blst.js';
import { printErr, printOut } from './term-safe.js';

const USAGE = `usage:
  npm run devnet [-- --authorities 3] [--slot-ms 2000] [--seed alys-devnet] [--chain-id 121212]
                    [--consensus-port 3000] [--evm-port 8545] [--esplora-port 3002] [--control-port 3003]
                    [--fault <name> [--fault-port 3010]] [--data-dir <dir>] [--p2p-port 0 | --no-p2p]
                    [--governance-port 3004 | --no-governance]
  npm run devnet -- --generate <blocks> [--out <dir>] [--tx-per-block 24] [--seed alys-devnet] [--authorities 3]
  npm run devnet -- --serve <dir> [--frozen] [--consensus-port 3000] [--evm-port 8545] [--esplora-port 3002] [--p2p-port 0 | --no-p2p]
                    (a served chain is always frozen: it answers from the files and does not grow)
  npm run devnet -- send transfer --to 0x<address> --value <wei> [--user 0]
  npm run devnet -- send pegin --to 0x<address> --sats <n>
  npm run devnet -- send pegout --to <bitcoin address> --sats <n> [--user 0]
  npm run devnet -- governance change --at <height> --authorities <n>
                    (blocks from <height> on are approved by <n> new members; the governance server pushes
                     the update, signed by the set in force below it)
  (send and governance options: [--control http://127.0.0.1:3003])`;

function int(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v)) throw new Error(`--${name} expects a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

async function send(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      value: { type: 'string' },
      sats: { type: 'string' },
      user: { type: 'string' },
      control: { type: 'string' },
    },
  });
  const kind = positionals[0];
  if (!kind || !['transfer', 'pegin', 'pegout'].includes(kind))
    throw new Error(`send needs transfer, pegin or pegout\n${USAGE}`);
  const body: Record<string, unknown> = {
    to: values.to,
    ...(values.value ? { value: values.value } : {}),
    ...(values.sats ? { sats: values.sats } : {}),
    ...(values.user ? { user: Number(values.user) } : {}),
  };
  const url = `${values.control ?? 'http://127.0.0.1:3003'}/devnet/send/${kind}`;
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) }).catch((e: Error) => {
    throw new Error(
      `cannot reach the devnet control endpoint at ${url} (${e.message}); is \`npm run devnet\` running?`,
    );
  });
  const out = await res.text();
  printOut(out); // the control endpoint's answer: --control may name any server
  return res.ok ? 0 : 1;
}

/** POST `body` to the running devnet's control endpoint; prints its answer. */
async function postControl(control: string | undefined, path: string, body: unknown): Promise<number> {
  const url = `${control ?? 'http://127.0.0.1:3003'}${path}`;
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) }).catch((e: Error) => {
    throw new Error(
      `cannot reach the devnet control endpoint at ${url} (${e.message}); is \`npm run devnet\` running?`,
    );
  });
  printOut(await res.text()); // the control endpoint's answer: --control may name any server
  return res.ok ? 0 : 1;
}

/** `governance change --at <height> --authorities <n>`: change the devnet federation through its control endpoint. */
async function governance(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { at: { type: 'string' }, authorities: { type: 'string' }, control: { type: 'string' } },
  });
  if (positionals[0] !== 'change' || positionals.length !== 1) throw new Error(`governance needs change\n${USAGE}`);
  if (values.at === undefined || values.authorities === undefined)
    throw new Error(`governance change needs --at and --authorities\n${USAGE}`);
  return postControl(values.control, '/devnet/governance/change', {
    at: int(values.at, 'at', 0),
    authorities: int(values.authorities, 'authorities', 0),
  });
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      authorities: { type: 'string' },
      'slot-ms': { type: 'string' },
      seed: { type: 'string' },
      'chain-id': { type: 'string' },
      'consensus-port': { type: 'string' },
      'evm-port': { type: 'string' },
      'esplora-port': { type: 'string' },
      'control-port': { type: 'string' },
      fault: { type: 'string' },
      'fault-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'p2p-port': { type: 'string' },
      'no-p2p': { type: 'boolean' },
      'governance-port': { type: 'string' },
      'no-governance': { type: 'boolean' },
      quiet: { type: 'boolean' },
      generate: { type: 'string' },
      out: { type: 'string' },
      'tx-per-block': { type: 'string' },
      serve: { type: 'string' },
      frozen: { type: 'boolean' },
    },
  });
  if (values.generate !== undefined) return generateCommand(values);
  if (values.serve !== undefined) return serveCommand(values);
  const { createDevnet } = await import('../devnet/devnet.js');
  const { serveControl } = await import('../devnet/control.js');
  const slotMs = int(values['slot-ms'], 'slot-ms', 2000);
  if (slotMs < 1000 || slotMs % 1000 !== 0)
    throw new Error('--slot-ms must be a multiple of 1000 (payload timestamps are in seconds)');
  const devnet = await createDevnet({
    authorities: int(values.authorities, 'authorities', 3),
    slotDuration: slotMs,
    seed: values.seed ?? 'alys-devnet',
    chainId: int(values['chain-id'], 'chain-id', 121212),
    consensusPort: int(values['consensus-port'], 'consensus-port', 3000),
    evmPort: int(values['evm-port'], 'evm-port', 8545),
    esploraPort: int(values['esplora-port'], 'esplora-port', 3002),
    ...(values['no-governance'] ? {} : { governancePort: int(values['governance-port'], 'governance-port', 3004) }),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    log: values.quiet ? () => {} : (line) => console.log(`[devnet] ${line}`),
  });
  const control = await serveControl(devnet, int(values['control-port'], 'control-port', 3003));
  let faulty: { url: string; close(): Promise<void> } | undefined;
  if (values.fault) {
    const { serveFaultyConsensusRpc } = await import('../devnet/faults.js');
    faulty = await serveFaultyConsensusRpc(devnet, {
      fault: values.fault as never,
      seed: values.seed ?? 'alys-devnet',
      port: int(values['fault-port'], 'fault-port', 3010),
    });
  }
  const peer = await startPeer(devnet, values);
  console.log(
    JSON.stringify(
      {
        consensusRpc: devnet.urls.consensus,
        ...(peer ? { p2p: peer.addresses } : {}),
        evmRpc: devnet.urls.evm,
        esplora: devnet.urls.esplora,
        ...(devnet.urls.governance ? { governance: devnet.urls.governance } : {}),
        control: control.url,
        ...(faulty ? { faultyConsensusRpc: faulty.url, fault: values.fault } : {}),
        chainSpec: devnet.specFile,
        authorities: devnet.spec.authorities.length,
        slotMs,
        depositAddress: devnet.depositAddress,
        users: devnet.users.map((u) => u.address),
      },
      null,
      2,
    ),
  );
  devnet.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await faulty?.close();
  await peer?.stop();
  await control.close();
  await devnet.stop();
  return 0;
}

/** `--generate <blocks>`: fast generation, persisted to `--out`. */
async function generateCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  const { generateDevnet } = await import('../devnet/generate/generate.js');
  const { persistDevnet } = await import('../devnet/generate/persist.js');
  const { ensurePrivateDir, privateTmpDir } = await import('../config/nodejs/private-dir.js');
  const { join, resolve } = await import('node:path');
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const blocks = int(str('generate'), 'generate', 0);
  if (blocks < 1) throw new Error('--generate expects the number of blocks to produce (>= 1)');
  const seed = str('seed') ?? 'alys-devnet';
  // default: in this user's private temp dir (a shared /tmp path could be planted by another user)
  const out = resolve(
    str('out') ?? ensurePrivateDir(privateTmpDir(), `generated-${seed.replace(/[^A-Za-z0-9_-]/g, '_')}-${blocks}`),
  );
  const quiet = values.quiet === true;
  const g = await generateDevnet({
    blocks,
    seed,
    txPerBlock: int(str('tx-per-block'), 'tx-per-block', 24),
    authorities: int(str('authorities'), 'authorities', 3),
    dataDir: out,
    onProgress: quiet
      ? undefined
      : (p) =>
          console.error(
            `[devnet] generated ${p.block}/${p.blocks} blocks in ${(p.elapsedMs / 1000).toFixed(1)} s (${(p.elapsedMs / p.block).toFixed(1)} ms/block)`,
          ),
  });
  const t0 = performance.now();
  const manifest = persistDevnet(g.devnet, out, { seed, options: g.options, stats: g.stats });
  const persistMs = performance.now() - t0;
  await g.devnet.stop();
  const s = g.stats;
  console.log(
    JSON.stringify(
      {
        dir: out,
        chainSpec: join(out, 'chain-spec.json'),
        head: manifest.head,
        blocks: s.blocks,
        transactions: s.transactions,
        txPerBlock: Number((s.transactions / s.blocks).toFixed(2)),
        transfers: s.transfers,
        tokenCalls: s.tokenCalls,
        pegoutRequests: s.pegouts,
        pegins: s.pegins,
        powBlocks: s.powBlocks,
        finalizedPegouts: s.finalizedPegouts,
        bitcoinHeight: s.bitcoinHeight,
        generateSeconds: Number((s.elapsedMs / 1000).toFixed(1)),
        setupSeconds: Number((s.setupMs / 1000).toFixed(1)),
        cpuSeconds: Number((s.cpuMs / 1000).toFixed(1)),
        persistSeconds: Number((persistMs / 1000).toFixed(1)),
        msPerBlock: Number((s.elapsedMs / s.blocks).toFixed(2)),
        blocksPerSecond: Number(((s.blocks * 1000) / s.elapsedMs).toFixed(1)),
        txsPerSecond: Math.round((s.transactions * 1000) / s.elapsedMs),
        serve: `npm run devnet -- --serve ${out}`,
      },
      null,
      2,
    ),
  );
  return 0;
}

/** The federation as a libp2p peer (alys-protocol.md 7): TCP on --p2p-port, WebSockets next to it; none with --no-p2p. */
async function startPeer(
  devnet: Parameters<typeof import('../devnet/p2p.js').startDevnetPeer>[0],
  values: Record<string, string | boolean | undefined>,
) {
  if (values['no-p2p']) return undefined;
  const { startDevnetPeer } = await import('../devnet/p2p.js');
  const port = int(values['p2p-port'] as string | undefined, 'p2p-port', 0);
  return startDevnetPeer(devnet, {
    listen: [`/ip4/127.0.0.1/tcp/${port}`, `/ip4/127.0.0.1/tcp/${port === 0 ? 0 : port + 1}/ws`],
  });
}

/** `--serve <dir>`: a persisted devnet, served again (frozen); its p2p peer serves blocks_by_range (nothing new to gossip). */
async function serveCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  const { servePersisted } = await import('../devnet/generate/persist.js');
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const served = await servePersisted(str('serve')!, {
    consensusPort: int(str('consensus-port'), 'consensus-port', 3000),
    evmPort: int(str('evm-port'), 'evm-port', 8545),
    esploraPort: int(str('esplora-port'), 'esplora-port', 3002),
  });
  const peer = await startPeer({ chain: served.persisted.chain }, values);
  const m = served.persisted.manifest;
  console.log(
    JSON.stringify(
      {
        consensusRpc: served.urls.consensus,
        ...(peer ? { p2p: peer.addresses } : {}),
        evmRpc: served.urls.evm,
        esplora: served.urls.esplora,
        chainSpec: served.persisted.specFile,
        frozen: true,
        head: m.head,
        bitcoinHeight: m.bitcoinHeight,
        depositAddress: m.depositAddress,
        startupMs: Math.round(served.startupMs),
      },
      null,
      2,
    ),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await peer?.stop();
  await served.close();
  return 0;
}

registerNativeBlsBackend();

export async function main(argv: string[]): Promise<number> {
  try {
    if (argv[0] === '--help' || argv[0] === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (argv[0] === 'send') return await send(argv.slice(1));
    if (argv[0] === 'governance') return await governance(argv.slice(1));
    return await run(argv);
  } catch (e) {
    printErr((e as Error).message);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
