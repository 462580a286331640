/**
 * The devnet federation's signer sets over time: the genesis members (the chain spec's
 * authorities), then changes scheduled at a height, each a new set of members derived from the seed
 * (`deriveFederation` under `<seed>/authority-set/<k>`: distinct from every earlier set). Blocks from
 * a change's height on are approved by its members; the producer asks {@link membersAt} and checks
 * each block against {@link schedule}, the same `AuthoritySchedule` a light node uses.
 *
 * Only the BLS signer set changes here: the federation's Bitcoin keys (the taproot deposit address,
 * peg-out signing) and fee addresses stay the genesis members', so the changes carry no
 * `federation` / `federationBitcoinPubkeys` (meaning: unchanged). Alys itself never changes its set
 * (spec 10.1); this is the devnet side of the light client's governance extension.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { AuthoritySchedule, type AuthoritySetChange } from '../../protocol/authority-schedule.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import { toHex, type Hex } from '../../protocol/bytes.js';
import type { ChainSpec } from '../../protocol/types.js';
import { deriveFederation, type FederationMember } from './keys.js';

/** What `scheduleChange` returns: the new set (keys to sign with) and the set it replaces. */
export interface ScheduledAuthorityChange {
  effectiveHeight: number;
  /** The new members (index = authority index). */
  members: readonly FederationMember[];
  publicKeys: Hex[];
  secretKeys: Uint8Array[];
  /** The set in force just below the change (whose members sign the governance update for it). */
  previous: { members: readonly FederationMember[]; publicKeys: Hex[]; secretKeys: Uint8Array[] };
  /**
   * The change as a light node's FederationActor takes it. Its source digest is a devnet stand-in
   * (sha256 of the height and keys); the governance server replaces it with its signed update's digest.
   */
  change: AuthoritySetChange;
}

/** What names a scheduled change: the digest of the governance update that carries it, and its EVM addresses. */
export type DescribeChange = (members: readonly FederationMember[]) => { digest: Hex; federation?: Hex[] };

export interface DevnetAuthoritySets {
  /**
   * Blocks from `effectiveHeight` on (above the current head) are approved by `authorities` new members.
   * `describe` names the change (the signed update's digest, the members' EVM addresses); without it the
   * digest is a stand-in and the federation addresses are unchanged.
   */
  scheduleChange(opts: {
    effectiveHeight: number;
    authorities: number;
    describe?: DescribeChange;
  }): ScheduledAuthorityChange;
  /** The members approving block `height`. */
  membersAt(height: number): readonly FederationMember[];
  /** The changes scheduled so far, oldest first. */
  changes(): ScheduledAuthorityChange[];
  /** The chain spec's set, then the changes (what a light node following every update holds). */
  readonly schedule: AuthoritySchedule;
}

const keysOf = (members: readonly FederationMember[]) => ({
  members,
  publicKeys: members.map((m) => m.blsPublicKey),
  secretKeys: members.map((m) => m.blsSecretKey.slice()),
});

function standInDigest(effectiveHeight: number, keys: readonly Hex[]): Hex {
  return toHex(sha256(new TextEncoder().encode(`alys-devnet/authority-set/${effectiveHeight}/${keys.join(',')}`)));
}

export function createDevnetAuthoritySets(opts: {
  seed: string;
  spec: ChainSpec;
  genesisMembers: readonly FederationMember[];
  bls: BlsBackend;
  /** The height of the chain's head (a change must take effect above it). */
  head(): number;
}): DevnetAuthoritySets {
  const schedule = AuthoritySchedule.create(opts.spec, opts.bls);
  const scheduled: ScheduledAuthorityChange[] = [];

  function membersAt(height: number): readonly FederationMember[] {
    let members = opts.genesisMembers;
    for (const c of scheduled) if (c.effectiveHeight <= height) members = c.members;
    return members;
  }

  return {
    schedule,
    membersAt,
    changes: () => [...scheduled],
    scheduleChange({ effectiveHeight, authorities, describe }) {
      if (!Number.isSafeInteger(effectiveHeight) || effectiveHeight <= opts.head())
        throw new RangeError(`a change must take effect above the head (${opts.head()}), got ${effectiveHeight}`);
      const members = deriveFederation({ seed: `${opts.seed}/authority-set/${scheduled.length + 1}`, authorities });
      const publicKeys = members.map((m) => m.blsPublicKey);
      const named = describe?.(members);
      const change: AuthoritySetChange = {
        effectiveHeight,
        authorities: publicKeys,
        ...(named?.federation ? { federation: named.federation } : {}),
        source: { kind: 'governance', digest: named?.digest ?? standInDigest(effectiveHeight, publicKeys) },
      };
      schedule.add(change); // refuses a height at or below the last change
      const out: ScheduledAuthorityChange = {
        effectiveHeight,
        ...keysOf(members),
        previous: keysOf(membersAt(effectiveHeight - 1)),
        change: structuredClone(change),
      };
      scheduled.push(out);
      return { ...out, change: structuredClone(change) };
    },
  };
}
