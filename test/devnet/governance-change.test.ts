/**
 * `devnet.governance.changeFederation`: one call that switches the devnet producer's signer set at a height
 * and pushes the update carrying it, signed by the set in force just below that height (the spec's for the
 * first change, the previous change's after), named by the same digest on both sides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { federationUpdateInput } from '../../src/node/governance/convert.js';
import { nobleBackend } from '../../src/protocol/bls/noble.js';
import type { VerificationError } from '../../src/protocol/errors.js';
import { verifyFederationUpdate } from '../../src/protocol/federation-update.js';
import { createDevnet, type Devnet } from '../../src/devnet/devnet.js';

describe('devnet governance: changeFederation', () => {
  let devnet: Devnet;
  beforeAll(async () => {
    devnet = await createDevnet({
      seed: 'devnet-governance-change',
      consensusPort: 0,
      evmPort: 0,
      esploraPort: 0,
      governancePort: 0,
      users: 1,
    });
  });
  afterAll(() => devnet?.stop());

  it('schedules the producer switch and pushes an update signed by the set in force at H - 1', () => {
    const gov = devnet.governance!;
    const first = gov.changeFederation({ effectiveHeight: 5, authorities: 4 });
    const second = gov.changeFederation({ effectiveHeight: 9, authorities: 2 });
    expect(devnet.authoritySets.membersAt(8)).toBe(first.scheduled.members);
    expect(devnet.authoritySets.membersAt(9)).toBe(second.scheduled.members);
    for (const { scheduled, pushed } of [first, second]) {
      expect(scheduled.change.source).toEqual({ kind: 'governance', digest: pushed.digest });
      expect(scheduled.change.federation).toEqual(scheduled.members.map((m) => m.feeAddress));
    }
    const verify = (msg: typeof first.pushed.message, current: string[], last: number) =>
      verifyFederationUpdate(federationUpdateInput(msg), {
        current: current as `0x${string}`[],
        chainId: devnet.spec.chainId,
        lastEffectiveHeight: last,
        headHeight: 0,
        backend: nobleBackend,
      });
    const v1 = verify(first.pushed.message, devnet.spec.authorities, 0);
    expect(v1.authorities).toEqual(first.scheduled.publicKeys);
    expect(v1.federationBitcoinPubkeys).toBeUndefined(); // the Bitcoin keys (deposit address) stay
    expect(verify(second.pushed.message, first.scheduled.publicKeys, 5).digest).toBe(second.pushed.digest);
    // the spec's set did not sign the second one
    let check: string | undefined;
    try {
      verify(second.pushed.message, devnet.spec.authorities, 5);
    } catch (e) {
      check = (e as VerificationError).check;
    }
    expect(check).toMatch(/^federation-update\.(signature|signature-encoding)$/);
    expect(devnet.authoritySets.schedule.changes().map((c) => c.source)).toEqual([
      first.scheduled.change.source,
      second.scheduled.change.source,
    ]);
  });
});
