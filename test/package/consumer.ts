/**
 * Helpers shared by the package tests and `npm run bench -- bundle`: pack the library as npm would
 * publish it (`npm run build:lib`, `npm pack`), write fresh consumer projects in temp dirs, install
 * from the npm cache (offline when everything is there), build them with Vite, and walk the output.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--legacy-peer-deps'];
/** The same versions as the repository's (already in the npm cache). */
export const VITE = 'vite@8.3.8';
export const VIEM = 'viem@2.57.1';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 180_000,
): Promise<Run> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export async function runOk(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(cmd, args, cwd, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Every file under `dir` (relative paths). */
export async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** The library built and packed into `work`: the tarball's path. */
export async function packTarball(work: string): Promise<string> {
  await runOk('npm', ['run', 'build:lib'], REPO);
  const packed = await runOk('npm', ['pack', '--pack-destination', work], REPO);
  return join(work, packed.trim().split('\n').pop()!.trim());
}

/** A private ESM project in `dir` with these files (paths relative to it). */
export async function writeProject(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const pkg = { name: `consumer-${dir.split('/').pop()}`, private: true, type: 'module' };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
}

/** `vite build` in `dir` (its own vite.config.js if any). */
export async function viteBuild(dir: string): Promise<void> {
  await runOk(join(dir, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], dir);
}
