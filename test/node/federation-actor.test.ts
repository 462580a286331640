/**
 * The FederationActor answers from the chain spec: the authorities at once, and the peg-in deposit
 * address from the taproot code it imports on the first such question (so the node's bundle does not
 * load noble's secp256k1 and schnorr before it is asked): the same address as the taproot module's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActorSystem, type ActorSystem } from '../../src/actors/index.js';
import { FederationActor } from '../../src/node/actors/federation.js';
import { requiredApprovals } from '../../src/protocol/approvals.js';
import { createFederationFromSpec, federationAddress } from '../../src/protocol/bridge/taproot.js';
import { TESTNET_CHAIN_SPEC, getChainSpec } from '../../src/protocol/chainspec.js';

describe('FederationActor', () => {
  let sys: ActorSystem;
  const spec = getChainSpec('testnet');

  beforeAll(async () => {
    sys = createActorSystem({
      name: 'federation-test',
      root: { strategy: 'one-for-one', children: [{ id: 'federation', actor: FederationActor, args: { spec } }] },
    });
    await sys.start();
  });
  afterAll(() => sys?.shutdown());

  it('gives the deposit address of the spec, for each network, as the taproot module computes it', async () => {
    const federation = sys.ref<typeof FederationActor>('/federation-test/federation');
    const expected = createFederationFromSpec(TESTNET_CHAIN_SPEC);
    for (const network of ['mainnet', 'testnet', 'regtest'] as const)
      expect(await federation.ask({ type: 'deposit-address', network })).toBe(federationAddress(expected, network));
    expect(await federation.ask({ type: 'authorities' })).toEqual({
      keys: [...spec.authorities],
      required: requiredApprovals(spec.authorities.length),
    });
  });
});
