/**
 * VerifierActor: the CPU-heavy half of block import (parse, decode, signing root, BLS approvals,
 * payload hash), one batch at a time. The node runs a group of them - in worker_threads / Web
 * Workers when configured - and load-balances batches across the group.
 *
 * Blocks are checked against the authority set in force at their number: the spec's, then the
 * changes the FederationActor applied (plain data in `args.changes` for a (re)start, and the
 * `authority-changes` message while running).
 */
import { defineActor } from '../../actors/actor.js';
import {
  type AutoBlsBackend,
  type BlsBackend,
  createBlsBackend,
  type BlsBackendName,
  upgradeBlsBackend,
} from '../../protocol/bls/index.js';
import type { AuthoritySetChange } from '../../protocol/authority-schedule.js';
import type { Hex } from '../../protocol/bytes.js';
import { VerificationError } from '../../protocol/errors.js';
import type { ChainSpec } from '../../protocol/types.js';
import {
  createVerifierContext,
  verifyResponse,
  verifyStoredApprovals,
  type VerifierContext,
  type VerifyRequest,
  type VerifyResult,
} from '../verify/verify-response.js';

export type VerifierMsg =
  | { type: 'verify'; items: VerifyRequest[]; approvals: boolean }
  | { type: 'approvals'; items: { hash: Hex; block: Uint8Array }[] }
  /** Which BLS backend answers (an `auto` one switches before the first batch) and how many checks each did. */
  | { type: 'bls' }
  /** The authority set changes now in force (the whole list; replaces the one held). */
  | { type: 'authority-changes'; changes: AuthoritySetChange[] };

export interface VerifierReplies {
  verify: VerifyResult[];
  approvals: Array<{ ok: true; signers: number[] } | { ok: false; check: string; message: string }>;
  bls: { name: BlsBackendName; active: BlsBackendName; verified: Partial<Record<BlsBackendName, number>> };
  /** How many changes are in force now. */
  'authority-changes': number;
}

export interface VerifierArgs {
  spec: ChainSpec;
  bls: BlsBackendName | 'auto';
  /** The authority set changes in force when the actor (re)starts (live: the FederationActor keeps it current). */
  changes?: AuthoritySetChange[];
}

function blsStatus(backend: BlsBackend): VerifierReplies['bls'] {
  const auto = backend.name === 'auto' ? (backend as AutoBlsBackend) : undefined;
  return { name: backend.name, active: auto?.active ?? backend.name, verified: { ...auto?.verified } };
}

type Work = Exclude<VerifierMsg, { type: 'bls' } | { type: 'authority-changes' }>;

function answer(msg: Work, c: VerifierContext): VerifierReplies[Work['type']] {
  if (msg.type === 'verify') return msg.items.map((item) => verifyResponse(item, c, msg.approvals));
  return msg.items.map((item) => {
    try {
      return { ok: true as const, signers: verifyStoredApprovals(item.hash, item.block, c) };
    } catch (e) {
      const check = e instanceof VerificationError ? e.check : 'block.decode';
      return {
        ok: false as const,
        check,
        message: e instanceof VerificationError ? e.shortMessage : (e as Error).message.split('\n')[0]!,
      };
    }
  });
}

export const VerifierActor = defineActor<VerifierMsg, VerifierReplies, VerifierArgs>({
  name: 'verifier',
  mailbox: { capacity: 256, overflow: 'block' },
  create(args) {
    let ctx: VerifierContext | undefined;
    let upgraded = false;
    return {
      async preStart() {
        ctx = createVerifierContext(args.spec, await createBlsBackend(args.bls), args.changes ?? []);
      },
      handle(msg) {
        const c = ctx!;
        if (msg.type === 'bls') return blsStatus(c.backend);
        if (msg.type === 'authority-changes') {
          ctx = createVerifierContext(args.spec, c.backend, msg.changes);
          return msg.changes.length;
        }
        if (upgraded) return answer(msg, c);
        // a batch is bulk work: an `auto` backend switches to the wasm first (loaded once; noble if it fails)
        return upgradeBlsBackend(c.backend).then(() => {
          upgraded = true;
          return answer(msg, c);
        });
      },
    };
  },
});
