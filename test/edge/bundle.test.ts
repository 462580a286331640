/**
 * The edge Worker's bundle within the Workers constraints, built offline the way `wrangler deploy`
 * builds it (`wrangler deploy --dry-run --outdir`): under the Free plan's 3 MB compressed; no wasm
 * compiled from bytes at run time (`WebAssembly.compile(`, `new WebAssembly.Module(`: workerd refuses
 * them; the BLS wasm is a separate module the bundle imports); no `node:` imports (no nodejs_compat).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const outdir = mkdtempSync(join(tmpdir(), 'alys-edge-bundle-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The Workers Free plan's limit on a Worker's compressed size. */
const FREE_PLAN_COMPRESSED_BYTES = 3_000_000;

/** What a Workers bundle must not contain. */
function bundleViolations(code: string): string[] {
  const rules: [RegExp, string][] = [
    [/WebAssembly\s*\.\s*compile(Streaming)?\s*\(/, 'WebAssembly.compile( (wasm compiled from bytes)'],
    [/new\s+WebAssembly\s*\.\s*Module\s*\(/, 'new WebAssembly.Module( (wasm compiled from bytes)'],
    [/\bfrom\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\s*\(\s*["']node:|\bimport\s*["']node:/, 'a node: import'],
  ];
  return rules.filter(([re]) => re.test(code)).map(([, what]) => what);
}

describe('bundleViolations', () => {
  it('catches each forbidden construct, and passes clean code', () => {
    expect(bundleViolations('await WebAssembly.compile(bytes)')).toHaveLength(1);
    expect(bundleViolations('WebAssembly.compileStreaming(fetch(u))')).toHaveLength(1);
    expect(bundleViolations('const m = new WebAssembly.Module(bytes)')).toHaveLength(1);
    expect(bundleViolations('import { readFile } from "node:fs";')).toHaveLength(1);
    expect(bundleViolations('await import("node:crypto")')).toHaveLength(1);
    expect(bundleViolations("require('node:buffer')")).toHaveLength(1);
    expect(bundleViolations('import "node:process";')).toHaveLength(1);
    expect(bundleViolations('WebAssembly.instantiate(module, imports); const s = "a node: thing"')).toEqual([]);
  });
});

describe('wrangler deploy --dry-run of workers/edge', () => {
  it('builds offline; under 3 MB compressed; no wasm from bytes; no node: imports', async () => {
    const wrangler = join(root, 'node_modules/.bin/wrangler');
    const { stdout } = await promisify(execFile)(
      wrangler,
      ['deploy', '--dry-run', '--outdir', outdir, '-c', 'workers/edge/wrangler.toml'],
      { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }, timeout: 120_000 },
    );
    const reported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout);
    expect(reported, stdout).not.toBeNull();

    const files = readdirSync(outdir).filter((f) => !f.endsWith('.map') && f !== 'README.md');
    const js = files.filter((f) => f.endsWith('.js'));
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    expect(js).toEqual(['index.js']);
    expect(wasm).toHaveLength(1); // the BLS wasm, a module of the upload (imported compiled)
    const code = readFileSync(join(outdir, 'index.js'), 'utf8');
    expect(bundleViolations(code)).toEqual([]);
    expect(code).toMatch(/import \w+ from ["']\.\/[0-9a-f]+-bls_c\.wasm["']/);

    const compressed = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(outdir, f)), { level: 9 }).length, 0);
    expect(compressed).toBeLessThan(FREE_PLAN_COMPRESSED_BYTES);
    expect(Number(reported![2]) * 1024).toBeLessThan(FREE_PLAN_COMPRESSED_BYTES);
    console.log(
      JSON.stringify({
        bundle: 'workers/edge',
        upload_kib: Number(reported![1]),
        gzip_kib: Number(reported![2]),
        files,
      }),
    );
  });
});
