/**
 * The fuzz benchmark sampled (bench/fuzz.ts runs 10,000 cases per format): the same seeded mutations of
 * every external input format, through the same paths, 300 cases each. Goal as in the benchmark: no
 * accepted mutation of committed bytes, no untyped error, no crash. The harness itself is checked on
 * formats that misbehave on purpose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS, fuzzContext, type FuzzContext, type FuzzFormat } from '../../bench/fuzz/formats.js';
import { runFormat } from '../../bench/fuzz/harness.js';
import { DecodeError } from '../../src/protocol/index.js';
import { describeVectors, vectorsDir } from '../helpers/vectors.js';

const CASES = 300;

describeVectors('fuzz (sampled): seeded mutations of every input format', () => {
  let ctx: FuzzContext;
  beforeAll(async () => {
    ctx = await fuzzContext(vectorsDir);
  }, 60_000);
  afterAll(() => ctx?.close());

  for (const name of Object.keys(FORMATS)) {
    it(`${name}: ${CASES} cases, no accepted mutation, untyped error or crash`, async () => {
      const s = await runFormat(FORMATS[name]!(ctx), CASES, { hangMs: Number.POSITIVE_INFINITY });
      expect(s.findings).toEqual([]);
      expect(s).toMatchObject({ cases: CASES, acceptedMutations: 0, untypedErrors: 0, crashes: 0 });
      expect(s.rejected).toBeGreaterThan(CASES / 2);
    });
  }
});

describe('fuzz harness', () => {
  const format = (run: FuzzFormat['run']): FuzzFormat => ({
    name: 'probe',
    committed: 'the byte',
    path: 'here',
    seeds: 1,
    seed: () => Uint8Array.of(0),
    mutate: (i) => Uint8Array.of(i % 4),
    run: (input, i) => ((input as Uint8Array)[0] === 0 ? { accepted: true, changed: false } : run(input, i)),
  });

  it('counts typed rejections, accepted mutations, untyped errors and crashes apart', async () => {
    const s = await runFormat(
      format((input) => {
        const b = (input as Uint8Array)[0];
        if (b === 1) throw new DecodeError('$', 'typed');
        if (b === 2) throw new TypeError('untyped');
        return { accepted: true, changed: true };
      }),
      8,
    );
    expect(s).toMatchObject({ cases: 8, acceptedUnchanged: 2, rejected: 2, untypedErrors: 2, acceptedMutations: 2 });
    expect(s.findings.map((f) => f.kind).sort()).toEqual(['accepted', 'accepted', 'untyped', 'untyped']);
  });

  it('a stack overflow and a thrown non-Error are crashes', async () => {
    const deep = (n: number): number => deep(n + 1) + 1;
    const s = await runFormat(
      format((input) => {
        if ((input as Uint8Array)[0] === 1) deep(0);
        throw 'a string';
      }),
      4,
    );
    expect(s).toMatchObject({ crashes: 3, untypedErrors: 0 });
  });

  it('refuses a format whose unmutated seed is not accepted', async () => {
    const broken = {
      ...format(() => ({ accepted: true, changed: false })),
      run: () => ({ accepted: false, changed: false }),
    };
    await expect(runFormat(broken, 1)).rejects.toThrow(/seed 0 is not accepted/);
  });
});
