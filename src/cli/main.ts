/**
 * The `alys-light` command.
 *
 *   alys-light run [config flags]                  a light node in the foreground (run.ts)
 *   alys-light relay [config flags]                the same, plus a circuit relay v2 server for browsers
 *   alys-light status [--url <node>]               the running node's or the stored state (status.ts)
 *   alys-light query balance <address> [--at ..]   a verified read (query.ts)
 *   alys-light federation [--at <height>]          the federation in force and its source (federation.ts)
 *   alys-light prove balance|storage|receipt ...   a proof bundle of a verified read (prove.ts)
 *   alys-light peg status|watch <txid|hash|addr>   where a peg-in / peg-out stands (peg.ts)
 *   alys-light verify <kind> <file|-> [--chain <name|spec.json>] [--bls auto|noble|blst|wasm]
 */
import '../platform/nodejs/polyfills.js';
import { parseArgs } from 'node:util';
import { registerNativeBlsBackend } from '../platform/nodejs/bls-blst.js';
import { federationCommand } from './federation.js';
import { pegCommand } from './peg.js';
import { proveCommand } from './prove.js';
import { queryCommand } from './query.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';
import { KINDS, runVerify } from './verify.js';
import { printErr, printOut } from './term-safe.js';

const USAGE = `usage: alys-light run [--network ...] [--rpc <url>]... [--evm-rpc <url>]... [--data-dir <dir>] [--mode full|pow-checkpoint] [--metrics-port <p>]   (alys-light run --help)
       alys-light relay [run flags] [--p2p-listen <multiaddr>]...   a node that also relays browsers (default :55444 tcp, :55445 ws)
       alys-light status [--url http://127.0.0.1:<metrics-port>]
       alys-light query balance <0xaddress> [--at latest|finalized|<number>]
       alys-light federation [--at <number>]   the federation in force (keys, addresses, deposit address) and its source
       alys-light prove balance <0xaddress> [--block <n|latest|finalized>] | storage <0xaddress> <0xslot> | receipt <0xtxhash>
       alys-light peg status <btc-txid|0xevm-tx-hash|0xaddress> | peg watch [<key>...]   [--esplora <url>]   (alys-light peg --help)
       alys-light verify <kind> <file|-> [--chain dev|testnet|testnet-full|chain-dev|<spec.json>] [--bls auto|noble|blst|wasm]

Prints one JSON line {"kind","valid","reason",...}; exit 0 valid, 1 invalid, 2 unusable input.
kinds:
${Object.entries(KINDS)
  .map(([k, v]) => `  ${k.padEnd(12)} ${v.input}`)
  .join('\n')}`;

registerNativeBlsBackend();

const VERIFY_OPTIONS = {
  chain: { type: 'string' },
  bls: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function main(argv: string[]): Promise<number> {
  const sub = argv[0];
  if (sub === 'run') return runCommand(argv.slice(1));
  if (sub === 'relay') return runCommand(argv.slice(1), { relay: true });
  if (sub === 'status') return statusCommand(argv.slice(1));
  if (sub === 'query') return queryCommand(argv.slice(1));
  if (sub === 'prove') return proveCommand(argv.slice(1));
  if (sub === 'federation') return federationCommand(argv.slice(1));
  if (sub === 'peg') return pegCommand(argv.slice(1));
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof VERIFY_OPTIONS }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: VERIFY_OPTIONS });
  } catch (e) {
    printErr(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, kind, file] = parsed.positionals;
  if (parsed.values.help || command === undefined) {
    printOut(USAGE);
    return command === undefined && !parsed.values.help ? 2 : 0;
  }
  if (command !== 'verify' || kind === undefined || file === undefined || parsed.positionals.length > 3) {
    printErr(USAGE);
    return 2;
  }
  const opts: { chain?: string; bls?: string } = {};
  if (parsed.values.chain !== undefined) opts.chain = parsed.values.chain;
  if (parsed.values.bls !== undefined) opts.bls = parsed.values.bls;
  const result = await runVerify(kind, file, opts);
  printOut(JSON.stringify(result.line));
  return result.exitCode;
}

process.exitCode = await main(process.argv.slice(2));
