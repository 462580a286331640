/**
 * `alys-light prove balance|storage|receipt ...`: start the light node (a warm start from the data
 * dir when there is one), catch up, and print a proof bundle (docs/proof-bundle.md) of a verified
 * read, made by the node's `alys_getProofBundle`: a client holding only the chain spec checks it
 * offline (`verifyBundle`, or the edge Worker's `POST /verify/bundle`). One JSON line on stdout (or
 * `--out <file>`); exit 0 made, 1 the node could not verify the read, 2 bad input.
 */
import { writeFile } from 'node:fs/promises';
import { toQuantity } from '../protocol/execution/json.js';
import { createCliNode, parseNodeCommand, startAndCatchUp } from './query.js';
import { printErr, printOut } from './term-safe.js';

export const PROVE_USAGE = `usage: alys-light prove balance <0xaddress> [--block latest|safe|finalized|<number>] [--out <file>] [config flags, as for run]
       alys-light prove storage <0xaddress> <0xslot> [--block ...] [--out <file>] [config flags]
       alys-light prove receipt <0xtxhash> [--out <file>] [config flags]

Syncs (warm start from --data-dir), then prints the proof bundle as one JSON line (docs/proof-bundle.md).
--block safe|finalized adds the blocks that prove the block final.`;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SLOT = /^0x[0-9a-fA-F]{1,64}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;

/** The provider params for the bundle, or a usage problem. */
export function proveParams(positionals: readonly string[], block: string | undefined): unknown[] | string {
  const [what, ...args] = positionals;
  let ref: string = 'latest';
  if (block !== undefined) {
    if (block === 'latest' || block === 'safe' || block === 'finalized') ref = block;
    else if (/^\d+$/.test(block)) ref = toQuantity(BigInt(block));
    else return `--block takes latest, safe, finalized or a block number, not ${JSON.stringify(block)}`;
  }
  if (what === 'balance' && args.length === 1) {
    if (!ADDRESS.test(args[0]!)) return `${JSON.stringify(args[0])} is not an address (0x and 40 hex digits)`;
    return ['account', args[0], [], ref];
  }
  if (what === 'storage' && args.length === 2) {
    if (!ADDRESS.test(args[0]!)) return `${JSON.stringify(args[0])} is not an address (0x and 40 hex digits)`;
    if (!SLOT.test(args[1]!)) return `${JSON.stringify(args[1])} is not a storage slot (0x and up to 64 hex digits)`;
    return ['account', args[0], [args[1]], ref];
  }
  if (what === 'receipt' && args.length === 1) {
    if (block !== undefined) return '--block does not apply to receipt (the transaction names its block)';
    if (!HASH.test(args[0]!)) return `${JSON.stringify(args[0])} is not a transaction hash (0x and 64 hex digits)`;
    return ['receipt', args[0]];
  }
  return PROVE_USAGE;
}

export async function proveCommand(argv: string[]): Promise<number> {
  const parsed = parseNodeCommand(argv, 'prove', PROVE_USAGE, { block: { type: 'string' }, out: { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals, timeoutMs } = parsed;
  const params = proveParams(positionals, values.block as string | undefined);
  if (typeof params === 'string') {
    printErr(params === PROVE_USAGE ? PROVE_USAGE : `alys-light prove: ${params}`);
    return 2;
  }
  const n = await createCliNode(values);
  if (n === 2) return 2;
  try {
    await startAndCatchUp(n, timeoutMs, 'prove');
    const bundle = await n.provider.request({ method: 'alys_getProofBundle', params });
    const text = JSON.stringify(bundle);
    if (typeof values.out === 'string') await writeFile(values.out, `${text}\n`);
    else printOut(text);
    return 0;
  } catch (e) {
    const err = e as Error & { code?: number; data?: unknown };
    printErr(
      JSON.stringify({
        prove: positionals[0],
        error: err.message.split('\n')[0],
        ...(err.code !== undefined ? { code: err.code } : {}),
        ...(err.data !== undefined ? { data: err.data } : {}),
      }),
    );
    return 1;
  } finally {
    await n.stop();
  }
}
