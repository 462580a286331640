/**
 * Terminal escapes from strangers (issue 13 item 11a): an endpoint whose answers carry ESC
 * sequences (here as a JSON key, which the decoder names in its error) must not get them to the
 * terminal. `termSafe` escapes them; `alys-light run` prints the endpoint's failure escaped, both as
 * a child process (its whole stdout and stderr) and in-process (its progress notes), over a real
 * HTTP endpoint on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/run.js';
import { termSafe } from '../../src/cli/term-safe.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { Cleanup, growChain, startDevnet } from '../node/helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const PAYLOAD = '\u001b]0;pwned\u0007\u001b[2J';
const ESC = '\u001b';
const shared = new Cleanup();
let hostile: string;
let lying: string;
let devnet: Devnet;

/**
 * A consensus RPC endpoint that puts the payload in as a JSON key: into every answer of its own, or,
 * given an honest `upstream`, into the blocks it relays from there (its head is the honest one).
 */
async function serveHostile(upstream?: string): Promise<string> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', async () => {
      let call: { id?: unknown; method?: string } = {};
      try {
        call = JSON.parse(body) as typeof call;
      } catch {}
      let answer: Record<string, unknown> = { jsonrpc: '2.0', id: call.id ?? 1, result: { [PAYLOAD]: 1 }, error: null };
      if (upstream !== undefined) {
        const honest = await fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        answer = (await honest.json()) as Record<string, unknown>;
        if (call.method !== 'getheadblock' && answer.result !== null && typeof answer.result === 'object')
          answer.result = { ...(answer.result as object), [PAYLOAD]: 1 };
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  shared.add(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  hostile = await serveHostile();
  devnet = await startDevnet(shared, 'term-safe');
  await growChain(devnet, 6, 3);
  lying = await serveHostile(devnet.urls.consensus);
}, 60_000);
afterAll(() => shared.run(), 60_000);

describe('termSafe', () => {
  it('escapes C0 (but newline and tab), DEL, C1 and bidi controls as \\uXXXX', () => {
    expect(termSafe(`a${PAYLOAD}b`)).toBe('a\\u001b]0;pwned\\u0007\\u001b[2Jb');
    expect(termSafe('line\n\tnext')).toBe('line\n\tnext');
    expect(termSafe('\r\u007f\u009b31m\u202e')).toBe('\\u000d\\u007f\\u009b31m\\u202e');
    expect(termSafe('plain, ünïcode, 🙂')).toBe('plain, ünïcode, 🙂');
  });

  it('keeps JSON valid and equal (what the CLI prints as JSON lines)', () => {
    const value = { message: `x\u009by${PAYLOAD}\\`, n: 1 };
    const safe = termSafe(JSON.stringify(value));
    expect(
      [...safe].filter((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)),
    ).toEqual([]);
    expect(JSON.parse(safe)).toEqual(value);
  });
});

describe('alys-light run against an endpoint that answers with escape sequences', () => {
  it('as a child process: the failure names the endpoint, escaped, and no ESC byte reaches stdout or stderr', async () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('ALYS_') && !k.startsWith('VITEST')) env[k] = v;
    const args = ['run', '--network', 'dev', '--rpc', hostile, '--evm-rpc', hostile, '--storage', 'memory'];
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--exit-when-synced'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
      child.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain(hostile);
    expect(r.out).toContain('\\u001b]0;pwned\\u0007\\u001b[2J');
    expect(r.out.includes(ESC)).toBe(false);
    expect(r.out.includes('\u0007')).toBe(false);
  }, 60_000);

  it('in-process, a lying endpoint next to an honest devnet: it is reported in the progress notes, escaped', async () => {
    let progress = '';
    const sink = { write: (s: string) => void (progress += s), isTTY: false };
    const code = await runCommand(
      [
        '--network',
        devnet.specFile,
        '--rpc',
        lying,
        '--rpc',
        devnet.urls.consensus,
        '--evm-rpc',
        devnet.urls.evm,
        '--storage',
        'memory',
        '--sync-start',
        'genesis',
        '--sync-batch-size',
        '2',
        '--sync-backoff-initial-ms',
        '10',
        '--sync-backoff-max-ms',
        '50',
        '--exit-when-synced',
      ],
      { progress: sink },
    );
    expect(code).toBe(0);
    expect(progress).toMatch(new RegExp(`source ${lying}: score \\d+.*\\\\u001b\\]0;pwned`));
    expect(progress.includes(ESC)).toBe(false);
  }, 60_000);
});
