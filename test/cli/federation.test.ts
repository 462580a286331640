/**
 * `alys-light federation [--at <height>]` (src/cli/federation.ts) as a child process against an in-process
 * devnet with its governance server: before any change it prints the chain spec's set (source `spec`) and
 * the devnet's deposit address; after a light node on the same data dir applied a signed update from the
 * governance stream, it prints the spec's set below the effective height and the new set from it on, named
 * by the update's digest and effective height (read back from the store: the CLI node holds no stream).
 * Bad arguments exit 2 before anything starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { federationCommand } from '../../src/cli/federation.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { runCli } from '../helpers/cli.js';
import { Cleanup, growChain, makeNode, startDevnet, tempDir, waitFor, waitSynced } from '../node/helpers.js';

const shared = new Cleanup();
let devnet: Devnet;
let dataDir: string;

beforeAll(async () => {
  devnet = await startDevnet(shared, 'cli-federation', { governancePort: 0 });
  dataDir = await tempDir(shared, 'alys-cli-federation-');
  await growChain(devnet, 6, 5);
}, 30_000);
afterAll(() => shared.run(), 30_000);

interface FederationOut {
  height: number;
  from: number;
  until: number | null;
  authorities: string[];
  required: number;
  federation: string[];
  bitcoinKeys: string[];
  depositAddress: string;
  source: { kind: string; digest?: string; effectiveHeight?: number };
  bitcoinSource: { kind: string };
}

/** `alys-light federation ...args` over the devnet and the data dir, as a child process (test/helpers/cli.ts). */
async function federationCli(args: string[]): Promise<{ code: number | null; out: FederationOut; stderr: string }> {
  const flags = ['--network', devnet.specFile, '--rpc', devnet.urls.consensus, '--evm-rpc', devnet.urls.evm];
  const store = ['--data-dir', dataDir, '--storage', 'level', '--mode', 'full', '--sync-start', 'genesis'];
  const r = await runCli(['federation', ...flags, ...store, '--log-level', 'silent', ...args]);
  try {
    return { code: r.code, out: (JSON.parse(r.stdout) as { federation: FederationOut }).federation, stderr: r.stderr };
  } catch {
    throw new Error(`not one JSON object (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

describe('alys-light federation', () => {
  it('prints the set in force on both sides of a change applied from the governance stream', async () => {
    const before = await federationCli([]);
    expect(before.code).toBe(0);
    expect(before.out).toMatchObject({
      height: devnet.chain.height,
      from: 0,
      until: null,
      authorities: devnet.spec.authorities,
      required: 2,
      federation: devnet.spec.federation,
      bitcoinKeys: devnet.spec.federationBitcoinPubkeys,
      depositAddress: devnet.depositAddress,
      source: { kind: 'spec' },
    });

    // a node on the same data dir follows the governance stream and applies a signed change
    const { node } = makeNode(shared, devnet, {
      storage: 'level',
      dataDir,
      mode: 'full',
      governance: { url: devnet.urls.governance!, heartbeatMs: 200 },
    });
    const applied = new Promise<void>((resolve) => node.on('federation', () => resolve()));
    await node.start();
    await waitSynced(node, devnet);
    await waitFor(
      async () => (await node.status()).governance?.connected,
      () => 'the governance stream connected',
    );
    const H = devnet.chain.height + 3;
    const { scheduled, pushed } = devnet.governance!.changeFederation({ effectiveHeight: H, authorities: 4 });
    await applied;
    await growChain(devnet, 6, 5);
    await waitSynced(node, devnet);
    await node.stop();

    const below = await federationCli(['--at', String(H - 1)]);
    expect(below.code).toBe(0);
    expect(below.out).toMatchObject({ height: H - 1, from: 0, until: H, source: { kind: 'spec' } });
    expect(below.out.authorities).toEqual(devnet.spec.authorities);
    const after = await federationCli([]);
    expect(after.code).toBe(0);
    expect(after.out).toMatchObject({
      height: devnet.chain.height,
      from: H,
      until: null,
      authorities: scheduled.publicKeys,
      required: 3,
      federation: scheduled.members.map((m) => m.feeAddress),
      bitcoinKeys: devnet.spec.federationBitcoinPubkeys,
      depositAddress: devnet.depositAddress, // the Bitcoin keys did not change
      source: { kind: 'governance', digest: pushed.digest, effectiveHeight: H },
      bitcoinSource: { kind: 'spec' },
    });
  }, 60_000);

  it('bad arguments exit 2; --help exits 0', async () => {
    expect(await federationCommand(['--at', 'latest'])).toBe(2);
    expect(await federationCommand(['--at', '-1'])).toBe(2);
    expect(await federationCommand(['extra'])).toBe(2);
    expect(await federationCommand(['--no-such-flag'])).toBe(2);
    expect(await federationCommand(['--help'])).toBe(0);
  });
});
