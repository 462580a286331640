/**
 * `npm run bench -- fuzz`: seeded structured mutation of every external input format (bench/fuzz/formats.ts),
 * each fed through the path the node uses for it. Per format: cases, accepted mutations (changed committed
 * bytes yet accepted: goal 0), untyped errors (goal 0), crashes (goal 0); findings go to stderr.
 *
 *   FUZZ_CASES=10000 (default)   cases per format
 *   FUZZ_FORMATS=gossip,receipts only these formats
 *   FUZZ_SEED=<text>             another seed (default alys-light-fuzz-1)
 * Seeds come from $ALYS_VECTORS (default ../shared/vectors) and a 12-block devnet generated in-process.
 */
import { FORMATS, fuzzContext } from './fuzz/formats.js';
import { FUZZ_SEED, runFormat } from './fuzz/harness.js';
import { report } from './report.js';

export async function run(): Promise<void> {
  const cases = Number(process.env.FUZZ_CASES ?? 10_000);
  const only = process.env.FUZZ_FORMATS?.split(',').filter(Boolean);
  const seed = process.env.FUZZ_SEED ?? FUZZ_SEED;
  const ctx = await fuzzContext();
  let failures = 0;
  try {
    for (const [name, make] of Object.entries(FORMATS)) {
      if (only && !only.includes(name)) continue;
      const format = make(ctx);
      const s = await runFormat(format, cases, { seed });
      const bad = s.acceptedMutations + s.untypedErrors + s.crashes;
      failures += bad;
      report({
        name: `fuzz.${name}`,
        unit: 'findings',
        value: bad,
        better: 'lower',
        target: '0',
        cases: s.cases,
        acceptedMutations: s.acceptedMutations,
        untypedErrors: s.untypedErrors,
        crashes: s.crashes,
        rejected: s.rejected,
        acceptedUnchanged: s.acceptedUnchanged,
        seeds: format.seeds,
        casesPerSec: Math.round((s.cases * 1000) / s.ms),
        committed: format.committed,
        path: format.path,
      });
      for (const f of s.findings) console.error(JSON.stringify({ format: name, ...f }));
    }
  } finally {
    await ctx.close();
  }
  if (failures > 0) process.exitCode = 1;
}
