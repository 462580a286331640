/**
 * FederationActor: the authority set and the federation's Bitcoin keys, from the chain spec (later
 * from governance updates). Answers who may approve blocks and where peg-ins go.
 */
import { defineActor } from '../../actors/actor.js';
import { requiredApprovals } from '../../protocol/approvals.js';
import type { BitcoinNetwork, Federation } from '../../protocol/bridge/taproot.js';
import type { ChainSpec, Hex } from '../../protocol/types.js';

export type FederationMsg =
  | { type: 'authorities' }
  | { type: 'deposit-address'; network: BitcoinNetwork }
  | { type: 'spec' };

export interface FederationReplies {
  authorities: { keys: Hex[]; required: number };
  'deposit-address': string;
  spec: ChainSpec;
}

export const FederationActor = defineActor<FederationMsg, FederationReplies, { spec: ChainSpec }>({
  name: 'federation',
  create({ spec }) {
    // the taproot tweak costs tens of ms of curve arithmetic: made on the first deposit-address
    // question, not on the start path every other actor waits behind
    let federation: Federation | undefined;
    return {
      async handle(msg) {
        switch (msg.type) {
          case 'authorities':
            return { keys: [...spec.authorities], required: requiredApprovals(spec.authorities.length) };
          case 'deposit-address': {
            // imported then too: the taproot code (noble's secp256k1 and schnorr) is not loaded before it is used
            const taproot = await import('../../protocol/bridge/taproot.js');
            federation ??= taproot.createFederationFromSpec(spec);
            return taproot.federationAddress(federation, msg.network);
          }
          case 'spec':
            return structuredClone(spec);
        }
      },
    };
  },
});
