/**
 * `npm run edge` (src/cli/edge.ts): a devnet and `wrangler dev --local` of workers/edge with the
 * devnet's chain spec; the Worker verifies the devnet's blocks (its self-check, and a block sent
 * here, changed and not), and SIGTERM stops wrangler's whole process group (wrangler and workerd).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
let child: ChildProcess | undefined;

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => {
  if (child?.pid !== undefined && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
});

it('serves verified answers for the devnet, then stops with its wrangler process group', async () => {
  child = spawn(join(root, 'node_modules/.bin/tsx'), ['src/cli/edge.ts', '--port', '0'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.resume();
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  await new Promise<void>((ok, fail) => {
    const check = () => (out.includes('edge: self-check') ? ok() : undefined);
    child!.stdout!.on('data', check);
    void exited.then((code) => fail(new Error(`npm run edge exited (${code}) before its self-check:\n${out}`)));
  });

  const selfCheck = /self-check POST \/verify\/block \(devnet block (\d+)\) -> HTTP (\d+) (.*)/.exec(out)!;
  expect(selfCheck[2]).toBe('200');
  expect(JSON.parse(selfCheck[3]!)).toMatchObject({ kind: 'block', valid: true, bls: 'wasm', authorities: 3 });

  const worker = /worker +(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
  const consensus = /consensus (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
  const wranglerPid = Number(/wrangler +pid (\d+)/.exec(out)![1]);
  const head = await (
    await fetch(consensus, { method: 'POST', body: JSON.stringify({ method: 'getheadblock', params: [], id: 1 }) })
  ).json();
  const ok = await fetch(`${worker}/verify/block`, { method: 'POST', body: JSON.stringify(head) });
  expect(ok.status).toBe(200);
  head.result.message.slot += 1;
  const changed = await fetch(`${worker}/verify/block`, { method: 'POST', body: JSON.stringify(head) });
  expect(changed.status).toBe(422);
  expect(await changed.json()).toMatchObject({ valid: false, check: 'approvals.signature' });

  expect(groupAlive(wranglerPid)).toBe(true);
  // to tsx alone, as a shell's kill would: it hands the signal to the command, whose handler stops
  // wrangler's group and exits 0 (a signal to the whole group could kill tsx first: exit 143)
  process.kill(child.pid!, 'SIGTERM');
  expect(await exited).toBe(0);
  expect(groupAlive(wranglerPid)).toBe(false);
}, 120_000); // wrangler dev of the bundle with the light node takes ~30 s to answer on a loaded 2-core machine
