/**
 * `npm run devnet [-- flags]`: a local Alys network (consensus RPC, EVM RPC, Esplora, control
 * endpoint) on 127.0.0.1, producing blocks on Aura slots with merged mining, until Ctrl-C.
 * `npm run devnet -- send <transfer|pegin|pegout> ...`: demo transactions through a running devnet.
 */
import '../platform/node/polyfills.js';
import { parseArgs } from 'node:util';

const USAGE = `usage:
  npm run devnet [-- --authorities 3] [--slot-ms 2000] [--seed alys-devnet] [--chain-id 121212]
                    [--consensus-port 3000] [--evm-port 8545] [--esplora-port 3002] [--control-port 3003]
                    [--fault <name> [--fault-port 3010]] [--data-dir <dir>]
  npm run devnet -- send transfer --to 0x<address> --value <wei> [--user 0]
  npm run devnet -- send pegin --to 0x<address> --sats <n>
  npm run devnet -- send pegout --to <bitcoin address> --sats <n> [--user 0]
  (send options: [--control http://127.0.0.1:3003])`;

function int(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v)) throw new Error(`--${name} expects a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

async function send(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { to: { type: 'string' }, value: { type: 'string' }, sats: { type: 'string' }, user: { type: 'string' }, control: { type: 'string' } },
  });
  const kind = positionals[0];
  if (!kind || !['transfer', 'pegin', 'pegout'].includes(kind)) throw new Error(`send needs transfer, pegin or pegout\n${USAGE}`);
  const body: Record<string, unknown> = { to: values.to, ...(values.value ? { value: values.value } : {}), ...(values.sats ? { sats: values.sats } : {}), ...(values.user ? { user: Number(values.user) } : {}) };
  const url = `${values.control ?? 'http://127.0.0.1:3003'}/devnet/send/${kind}`;
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) }).catch((e: Error) => {
    throw new Error(`cannot reach the devnet control endpoint at ${url} (${e.message}); is \`npm run devnet\` running?`);
  });
  const out = await res.text();
  console.log(out);
  return res.ok ? 0 : 1;
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
      quiet: { type: 'boolean' },
    },
  });
  const { createDevnet } = await import('../devnet/devnet.js');
  const { serveControl } = await import('../devnet/control.js');
  const slotMs = int(values['slot-ms'], 'slot-ms', 2000);
  if (slotMs < 1000 || slotMs % 1000 !== 0) throw new Error('--slot-ms must be a multiple of 1000 (payload timestamps are in seconds)');
  const devnet = await createDevnet({
    authorities: int(values.authorities, 'authorities', 3),
    slotDuration: slotMs,
    seed: values.seed ?? 'alys-devnet',
    chainId: int(values['chain-id'], 'chain-id', 121212),
    consensusPort: int(values['consensus-port'], 'consensus-port', 3000),
    evmPort: int(values['evm-port'], 'evm-port', 8545),
    esploraPort: int(values['esplora-port'], 'esplora-port', 3002),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    log: values.quiet ? () => {} : (line) => console.log(`[devnet] ${line}`),
  });
  const control = await serveControl(devnet, int(values['control-port'], 'control-port', 3003));
  let faulty: { url: string; close(): Promise<void> } | undefined;
  if (values.fault) {
    const { serveFaultyConsensusRpc } = await import('../devnet/faults.js');
    faulty = await serveFaultyConsensusRpc(devnet, { fault: values.fault as never, seed: values.seed ?? 'alys-devnet', port: int(values['fault-port'], 'fault-port', 3010) });
  }
  console.log(
    JSON.stringify(
      {
        consensusRpc: devnet.urls.consensus,
        evmRpc: devnet.urls.evm,
        esplora: devnet.urls.esplora,
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
  await control.close();
  await devnet.stop();
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  try {
    if (argv[0] === '--help' || argv[0] === '-h') {
      console.log(USAGE);
      return 0;
    }
    return argv[0] === 'send' ? await send(argv.slice(1)) : await run(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
