/**
 * `npm run devnet -- governance change --at <height> --authorities <n>` (src/cli/devnet.ts) through the
 * devnet's control endpoint (`/devnet/governance/change`, real HTTP on 127.0.0.1): the producer switches at
 * the height and the governance server pushes the update (its digest names the scheduled change); bad input
 * is refused (400 from the endpoint, exit 1; a usage error exits 2) and schedules nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveControl } from '../../src/devnet/control.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { runCli } from '../helpers/cli.js';
import { Cleanup, growChain, startDevnet } from '../node/helpers.js';

const shared = new Cleanup();
let devnet: Devnet;
let control: { url: string; close(): Promise<void> };

beforeAll(async () => {
  devnet = await startDevnet(shared, 'governance-control', { governancePort: 0 });
  control = await serveControl(devnet, 0);
  shared.add(() => control.close());
  await growChain(devnet, 4, 5);
}, 30_000);
afterAll(() => shared.run(), 30_000);

/** `npm run devnet -- ...args` as a child process (test/helpers/cli.ts). */
const devnetCli = (args: string[]) => runCli(args, { script: 'src/cli/devnet.ts', keepAlysEnv: true });

const post = async (body: unknown) => {
  const res = await fetch(`${control.url}/devnet/governance/change`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe('devnet governance control', () => {
  it('governance change switches the producer at the height and pushes the signed update', async () => {
    const r = await devnetCli(['governance', 'change', '--at', '8', '--authorities', '2', '--control', control.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { effectiveHeight: number; authorities: string[]; digest: string };
    const [change] = devnet.authoritySets.changes();
    expect(out.effectiveHeight).toBe(8);
    expect(out.authorities).toEqual(change!.publicKeys);
    expect(out.authorities).toHaveLength(2);
    expect(change!.change.source).toEqual({ kind: 'governance', digest: out.digest });
    expect(devnet.authoritySets.membersAt(8)).toHaveLength(2);
  }, 30_000);

  it('refuses bad input and schedules nothing', async () => {
    await growChain(devnet, 6, 5); // head 10, above the change at 8
    const head = devnet.chain.height;
    const before = devnet.authoritySets.changes().length;
    expect((await post({ at: head, authorities: 2 })).status).toBe(400); // not above the head
    expect(devnet.authoritySets.changes()).toHaveLength(before);
    expect((await post({ at: head + 5, authorities: 3 })).status).toBe(200);
    for (const body of [
      { at: head + 3, authorities: 2 }, // not above the last change
      { at: head + 9, authorities: 0 },
      { at: head + 9, authorities: 16 },
      { at: '2e3', authorities: 2 },
      { authorities: 2 },
    ]) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(typeof r.json.error).toBe('string');
    }
    expect(devnet.authoritySets.changes()).toHaveLength(before + 1);
    const usage = await devnetCli(['governance', 'change', '--at', '30', '--control', control.url]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--authorities');
    expect(devnet.authoritySets.changes()).toHaveLength(before + 1);
  }, 30_000);
});
