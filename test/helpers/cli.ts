/**
 * A command of this repository (`src/cli/main.ts` by default, or `src/cli/devnet.ts`) run as a child
 * process under tsx, the way a user runs `npm run alys-light -- ...`: its exit code, stdout and stderr.
 * The child gets this process's environment without vitest's variables and, unless `keepAlysEnv`, without
 * `ALYS_*` (so a test's own settings never leak into the command's config).
 */
import { spawn } from 'node:child_process';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** The entry point, relative to the repository (default `src/cli/main.ts`). */
  script?: string;
  /** Killed (SIGKILL) and rejected past this (default 60,000 ms). */
  timeoutMs?: number;
  /** A module imported before the entry point (`node --import`). */
  preload?: string;
  /** SIGTERM once stderr matches, after `beforeStop(stderr)` settled (if given). */
  stopWhen?: RegExp;
  beforeStop?: (stderr: string) => Promise<void>;
  /** Keep the `ALYS_*` variables (default: dropped). */
  keepAlysEnv?: boolean;
}

function childEnv(keepAlys: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('VITEST') && (keepAlys || !k.startsWith('ALYS_'))) env[k] = v;
  return env;
}

export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const { script = 'src/cli/main.ts', timeoutMs = 60_000 } = opts;
  const node = ['--import', 'tsx', ...(opts.preload ? ['--import', opts.preload] : []), script, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, node, {
      cwd: ROOT,
      env: childEnv(opts.keepAlysEnv ?? false),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopping = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stopping || !opts.stopWhen?.test(stderr) || child.exitCode !== null) return;
      stopping = true;
      void (opts.beforeStop?.(stderr) ?? Promise.resolve())
        .catch((e: unknown) => reject(e))
        .finally(() => child.kill('SIGTERM'));
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${script} ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last line of stdout, as JSON (an error naming the output when it is not). */
export function lastJson(r: CliResult): any {
  const lines = r.stdout.trim().split('\n');
  try {
    return JSON.parse(lines.at(-1)!);
  } catch {
    throw new Error(`no JSON on the last stdout line (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}
