/**
 * `.ci/run` fails, rather than skipping the known-answer suites, when the vectors are absent (issue 13, Also).
 *
 * The real `.ci/run` and `.ci/check-vectors` are copied into a temporary repository layout and run with
 * bash. `npm` on the PATH is a stub that records its calls and fails: the real one would `npm ci` over
 * the shared node_modules and start the whole suite from inside a test. The stub is never reached when
 * the guard works; when the vectors are present it is, which proves the guard lets the run go on.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const base = mkdtempSync(join(tmpdir(), 'alys-ci-vectors-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A repository at <base>/<name>/repo holding only .ci/, and a stub npm that logs to <base>/<name>/npm.log. */
function layout(name: string): { repo: string; bin: string; npmLog: string } {
  const repo = join(base, name, 'repo');
  const bin = join(base, name, 'bin');
  const npmLog = join(base, name, 'npm.log');
  mkdirSync(join(repo, '.ci'), { recursive: true });
  mkdirSync(bin, { recursive: true });
  for (const f of ['run', 'check-vectors']) {
    copyFileSync(join(ROOT, '.ci', f), join(repo, '.ci', f));
    chmodSync(join(repo, '.ci', f), 0o755);
  }
  writeFileSync(join(bin, 'npm'), `#!/usr/bin/env bash\necho "npm $*" >> '${npmLog}'\nexit 1\n`);
  chmodSync(join(bin, 'npm'), 0o755);
  return { repo, bin, npmLog };
}

function vectorsAt(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'README.md'), 'vectors\n');
  return dir;
}

function runCi(l: ReturnType<typeof layout>, vectors: string | undefined) {
  const env: Record<string, string> = {
    PATH: `${l.bin}:${process.env.PATH}`,
    HOME: process.env.HOME ?? base,
    CHROMIUM_PATH: '/bin/true', // never apt-get here
  };
  if (vectors !== undefined) env.ALYS_VECTORS = vectors;
  const r = spawnSync('bash', [join(l.repo, '.ci', 'run')], { env, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, npmCalled: existsSync(l.npmLog) };
}

describe('.ci/run: the known-answer vectors are mandatory', () => {
  it('ALYS_VECTORS naming a missing directory: exits non-zero with a clear message, runs nothing', () => {
    const l = layout('missing');
    const r = runCi(l, join(base, 'nonexistent'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no known-answer vectors at '${join(base, 'nonexistent')}'`);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0 passed, 1 failed');
    expect(r.npmCalled).toBe(false);
  });

  it('no ALYS_VECTORS and no ../shared/vectors: fails, with no fallback to an absolute machine path', () => {
    const l = layout('unset');
    const r = runCi(l, undefined);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no known-answer vectors at '../shared/vectors'");
    expect(r.npmCalled).toBe(false);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).not.toMatch(/\/work\//);
  });

  it('the default ../shared/vectors next to the repository: passes the guard, exported as an absolute path', () => {
    const l = layout('default');
    const shared = vectorsAt(join(base, 'default', 'shared', 'vectors'));
    const r = runCi(l, undefined);
    expect(r.stdout).toContain(`== vectors: ${shared}`);
    expect(r.npmCalled).toBe(true); // went on to npm ci (the stub fails it)
  });

  it('ALYS_VECTORS naming a vectors directory: passes the guard', () => {
    const l = layout('set');
    const dir = vectorsAt(join(base, 'elsewhere', 'vectors'));
    const r = runCi(l, dir);
    expect(r.stdout).toContain(`== vectors: ${dir}`);
    expect(r.npmCalled).toBe(true);
  });
});
