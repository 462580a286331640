/**
 * `createDevnet({ governancePort })` starts the governance server: its URL is in `devnet.urls.governance`,
 * a light node's governance client registers there, and an update it pushes is signed by the devnet's
 * authorities, so it verifies against the devnet chain spec's set. `stop()` closes it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** Wait for a condition (the machine may be busy: generous, never a timing assertion). */
const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 20_000, interval: 20 });
import { createActorSystem, type ActorSystem } from '../../src/actors/index.js';
import { createGovernanceStats, governanceSupervisor, type GovernanceArgs } from '../../src/node/actors/governance.js';
import { governanceHealth } from '../../src/node/governance/transport.js';
import { createNodeGovernanceTransport } from '../../src/platform/nodejs/governance.js';
import { createBlsBackend } from '../../src/protocol/bls/index.js';
import type { VerifiedFederationUpdate } from '../../src/protocol/federation-update.js';
import { deriveFederation } from '../../src/devnet/consensus/keys.js';
import { createDevnet, type Devnet } from '../../src/devnet/devnet.js';

describe('devnet governance server', () => {
  let devnet: Devnet;
  let sys: ActorSystem;
  let args: GovernanceArgs;
  const applied: VerifiedFederationUpdate[] = [];

  beforeAll(async () => {
    devnet = await createDevnet({
      seed: 'devnet-governance',
      consensusPort: 0,
      evmPort: 0,
      esploraPort: 0,
      governancePort: 0,
      users: 1,
    });
    const url = devnet.urls.governance!;
    args = {
      transport: createNodeGovernanceTransport(url),
      node: { id: 'light', version: 'test' },
      heartbeatIntervalMs: 1_000,
      backend: await createBlsBackend('wasm'),
      context: () => ({
        current: devnet.spec.authorities,
        chainId: devnet.spec.chainId,
        lastEffectiveHeight: 0,
        headHeight: devnet.chain.head.number,
      }),
      onFederationUpdate: (v) => void applied.push(v),
      onFault: (source, code) => {
        throw new Error(`unexpected fault ${code} from ${source}`);
      },
      stats: createGovernanceStats(url),
    };
    sys = createActorSystem({
      name: 'devnet-gov',
      root: { strategy: 'one-for-one', children: [governanceSupervisor(args)] },
    });
    await sys.start();
    await waitFor(() => expect(args.stats.connected).toBe(true));
  });
  afterAll(async () => {
    await sys?.shutdown();
    await devnet?.stop();
  });

  it('serves on urls.governance; its updates verify against the devnet spec', async () => {
    expect(devnet.urls.governance).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await governanceHealth(args.transport)).info['chain_id']).toBe(String(devnet.spec.chainId));
    const next = deriveFederation({ seed: 'devnet-governance/next', authorities: 4 });
    const pushed = devnet.governance!.pushUpdate({ effectiveHeight: devnet.chain.head.number + 10, next });
    await waitFor(() => expect(applied).toHaveLength(1));
    expect(applied[0]!.digest).toBe(pushed.digest);
    expect(applied[0]!.authorities).toEqual(next.map((m) => m.blsPublicKey));
  });
});
