/**
 * `alys-light verify <kind> <file> [--chain dev|testnet|testnet-full|chain-dev|<spec.json>]`
 *
 * Reads one JSON input (a file, or `-` for stdin), verifies it, and prints one JSON line
 * `{"kind","valid","reason",...details}`. Exit code 0 valid, 1 invalid (a rule failed: `check`
 * names it), 2 unusable input (unreadable, not JSON, wrong shape: `path` names where).
 * Input forms per kind are listed in {@link KINDS} and in `alys-light verify --help`.
 */
import { readFileSync } from 'node:fs';
import {
  getChainSpec,
  parseChainSpecJson,
  createBlsBackend,
  DecodeError,
  type BlsBackend,
  type ChainSpec,
} from '../protocol/index.js';
import {
  isShippedChain,
  isVerifyKind,
  unknownKindLine,
  unusableLine,
  VERIFY_KINDS,
  verifyJson,
  type VerifyContext,
} from '../protocol/verify-json.js';

/** The kinds, for `--help` and the fuzzer (the handlers live in src/protocol/verify-json.ts, shared with the edge Worker). */
export const KINDS = VERIFY_KINDS;

export interface VerifyResult {
  line: Record<string, unknown>;
  exitCode: 0 | 1 | 2;
}

const EXIT_CODES = { valid: 0, invalid: 1, unusable: 2 } as const;

function resolveChain(chain: string | undefined): ChainSpec {
  if (chain === undefined) return getChainSpec('dev');
  if (isShippedChain(chain)) return getChainSpec(chain);
  let text: string;
  try {
    text = readFileSync(chain, 'utf8');
  } catch (e) {
    throw new DecodeError(
      '--chain',
      `not a known chain (dev, testnet, testnet-full, chain-dev) and not a readable file: ${(e as Error).message}`,
    );
  }
  return parseChainSpecJson(text);
}

function readInput(file: string, stdin: () => string): unknown {
  let text: string;
  try {
    text = file === '-' ? stdin() : readFileSync(file, 'utf8');
  } catch (e) {
    throw new DecodeError('<file>', `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DecodeError('<file>', `${file} is not JSON: ${(e as Error).message}`);
  }
}

/** Run one verification; never throws. */
export async function runVerify(
  kind: string,
  file: string,
  opts: { chain?: string; bls?: string; stdin?: () => string } = {},
): Promise<VerifyResult> {
  if (!isVerifyKind(kind)) return { exitCode: 2, line: unknownKindLine(kind) };
  let ctx: VerifyContext;
  let input: unknown;
  try {
    const spec = resolveChain(opts.chain);
    input = readInput(file, opts.stdin ?? (() => readFileSync(0, 'utf8')));
    let backend: Promise<BlsBackend> | undefined;
    ctx = {
      spec,
      chainGiven: opts.chain !== undefined,
      bls: () => (backend ??= createBlsBackend((opts.bls ?? 'auto') as 'auto')),
    };
  } catch (e) {
    return { exitCode: 2, line: unusableLine(kind, e) };
  }
  const { outcome, line } = await verifyJson(kind, input, ctx);
  return { exitCode: EXIT_CODES[outcome], line };
}
