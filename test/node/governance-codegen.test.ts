/**
 * The committed generated code (src/node/governance/gen) is what `npm run gen:proto` makes from
 * proto/governance/v1/governance.proto: codegen runs again into a temp dir and the files must be identical.
 * Skipped, saying so, only when the buf binary cannot run on this machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'node_modules/.bin');
const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
const bufRuns = spawnSync(join(bin, 'buf'), ['--version'], { env, encoding: 'utf8' }).status === 0;
if (!bufRuns) console.warn('governance codegen check skipped: the buf binary (@bufbuild/buf) cannot run here');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe.skipIf(!bufRuns)('governance.v1 codegen', () => {
  const out = mkdtempSync(join(tmpdir(), 'alys-gov-gen-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('regenerates byte for byte what is committed', () => {
    const run = spawnSync(join(bin, 'buf'), ['generate', '--output', out], { cwd: root, env, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const committed = join(root, 'src/node/governance/gen');
    const generated = join(out, 'src/node/governance/gen');
    const names = files(committed)
      .map((f) => relative(committed, f))
      .sort();
    expect(
      files(generated)
        .map((f) => relative(generated, f))
        .sort(),
    ).toEqual(names);
    for (const name of names)
      expect(readFileSync(join(generated, name), 'utf8'), name).toBe(readFileSync(join(committed, name), 'utf8'));
  });
});
