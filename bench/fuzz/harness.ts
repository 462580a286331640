/**
 * Runs one fuzz format: `cases` seeded mutations, each fed through the format's path, classified as
 * rejected (a typed AlysLightError with a code), accepted (unchanged committed bytes: fine; changed: an
 * accepted mutation, a bug), untyped (any other Error: a bug) or crash (a stack overflow, a throw
 * that is not an Error, or a case running past `hangMs`: a bug). Keeps the first few findings.
 */
import { AlysLightError } from '../../src/errors.js';
import { toHex } from '../../src/protocol/bytes.js';
import type { FuzzFormat } from './formats.js';
import { CaseRng } from './mutate.js';

export interface Finding {
  kind: 'accepted' | 'untyped' | 'crash';
  case: number;
  message: string;
  /** the input (hex for bytes, text otherwise), cut to 2,000 characters */
  input: string;
}

export interface FormatStats {
  format: string;
  cases: number;
  rejected: number;
  /** accepted, committed bytes unchanged (JSON spelling, uncommitted fields) */
  acceptedUnchanged: number;
  /** accepted with changed committed bytes: goal 0 */
  acceptedMutations: number;
  /** errors that are not AlysLightError with a code: goal 0 */
  untypedErrors: number;
  /** stack overflows, non-Error throws, hangs: goal 0 */
  crashes: number;
  ms: number;
  findings: Finding[];
}

export const FUZZ_SEED = 'alys-light-fuzz-1';

function show(input: unknown): string {
  const s =
    input instanceof Uint8Array
      ? toHex(input)
      : typeof input === 'string'
        ? input
        : JSON.stringify(input, (_k, v) => (v instanceof Uint8Array ? toHex(v) : v));
  return s.length > 2_000 ? `${s.slice(0, 2_000)}...(${s.length})` : s;
}

export function classify(e: unknown): 'rejected' | 'untyped' | 'crash' {
  if (!(e instanceof Error)) return 'crash';
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'crash';
  if (e instanceof AlysLightError && typeof e.code === 'string' && e.code.length > 0) return 'rejected';
  return 'untyped';
}

export async function runFormat(
  format: FuzzFormat,
  cases: number,
  opts: { seed?: string; hangMs?: number; keep?: number; first?: number } = {},
): Promise<FormatStats> {
  const seed = opts.seed ?? FUZZ_SEED;
  const hangMs = opts.hangMs ?? 10_000;
  const keep = opts.keep ?? 5;
  const first = opts.first ?? 0;
  const s: FormatStats = {
    format: format.name,
    cases: 0,
    rejected: 0,
    acceptedUnchanged: 0,
    acceptedMutations: 0,
    untypedErrors: 0,
    crashes: 0,
    ms: 0,
    findings: [],
  };
  const note = (kind: Finding['kind'], i: number, message: string, input: unknown) => {
    if (s.findings.length < keep) s.findings.push({ kind, case: i, message, input: show(input) });
  };
  const t0 = performance.now();
  await checkSeeds(format);
  for (let i = first; i < first + cases; i++) {
    const input = format.mutate(i, CaseRng.for(seed, format.name, i));
    const c0 = performance.now();
    try {
      const r = await format.run(input, i);
      if (!r.accepted) s.rejected++;
      else if (!r.changed) s.acceptedUnchanged++;
      else {
        s.acceptedMutations++;
        note('accepted', i, 'accepted with changed committed bytes', input);
      }
    } catch (e) {
      const kind = classify(e);
      if (kind === 'rejected') s.rejected++;
      else if (kind === 'untyped') {
        s.untypedErrors++;
        note('untyped', i, `${(e as Error).name}: ${(e as Error).message}`.slice(0, 500), input);
      } else {
        s.crashes++;
        note('crash', i, e instanceof Error ? `${e.name}: ${e.message}` : `non-Error throw: ${String(e)}`, input);
      }
    }
    if (performance.now() - c0 > hangMs) {
      s.crashes++;
      note('crash', i, `hang: the case took ${Math.round(performance.now() - c0)} ms`, input);
    }
    s.cases++;
  }
  s.ms = performance.now() - t0;
  return s;
}

/** Every seed, unmutated, must pass: otherwise the format's cases would only measure a broken seed. */
async function checkSeeds(format: FuzzFormat): Promise<void> {
  for (let i = 0; i < format.seeds; i++) {
    const r = await format.run(format.seed(i), i);
    if (!r.accepted || r.changed) throw new Error(`fuzz ${format.name}: seed ${i} is not accepted as it is`);
  }
}
