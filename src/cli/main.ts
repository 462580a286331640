/**
 * The `alys-light` command.
 *
 *   alys-light verify <kind> <file|-> [--chain <name|spec.json>] [--bls auto|noble|blst|wasm]
 *
 * (`run`, `status`, `query` and `relay` arrive with the light node.)
 */
import '../platform/node/polyfills.js';
import { parseArgs } from 'node:util';
import { KINDS, runVerify } from './verify.js';

const USAGE = `usage: alys-light verify <kind> <file|-> [--chain dev|testnet|testnet-full|chain-dev|<spec.json>] [--bls auto|noble|blst|wasm]

Prints one JSON line {"kind","valid","reason",...}; exit 0 valid, 1 invalid, 2 unusable input.
kinds:
${Object.entries(KINDS)
  .map(([k, v]) => `  ${k.padEnd(12)} ${v.input}`)
  .join('\n')}`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { chain: { type: 'string' }, bls: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, kind, file] = parsed.positionals;
  if (parsed.values.help || command === undefined) {
    console.log(USAGE);
    return command === undefined && !parsed.values.help ? 2 : 0;
  }
  if (command !== 'verify' || kind === undefined || file === undefined || parsed.positionals.length > 3) {
    console.error(USAGE);
    return 2;
  }
  const opts: { chain?: string; bls?: string } = {};
  if (parsed.values.chain !== undefined) opts.chain = parsed.values.chain;
  if (parsed.values.bls !== undefined) opts.bls = parsed.values.bls;
  const result = await runVerify(kind, file, opts);
  console.log(JSON.stringify(result.line));
  return result.exitCode;
}

process.exitCode = await main(process.argv.slice(2));
