/**
 * The adversary's view of the devnet chain: for every height, the block it serves (honest, mutated
 * and re-signed, another height's, a second one at the same height, or none), computed lazily,
 * deterministically from the seed, and cached (the devnet chain never reorganises).
 *
 * Which heights a fault touches: a height h is *affected* when
 *   h >= from (default 1; genesis faults ignore it), h exists on the devnet chain, the block is
 *   eligible for the fault (genesis faults touch only block 0, other content faults never touch it; AuxPoW faults only blocks with an AuxPoW, range-gap only
 *   ranges of >= 2 blocks), and - when density < 1 - the seeded draw
 *   u32(sha256("alys-devnet/fault/<seed>/<fault>/<h>/pick")) / 2^32 is below density.
 * With the default density 1, every eligible block from `from` on is faulted. How each block is
 * mutated (which field, which signer, which variant) is drawn from the same hash with other purposes.
 */
import { signingRoot } from '../../protocol/block.js';
import { toHex, type Hex } from '../../protocol/bytes.js';
import { encodeSignedBlockJson } from '../../protocol/codec/json.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';
import type { StoredBlock } from '../consensus/chain.js';
import type { MergedMining } from '../consensus/mining.js';
import { handleConsensusRpc, type RpcReply } from '../consensus/rpc.js';
import type { Federation } from '../../protocol/bridge/taproot.js';
import { auxpowEligible, mutateAuxPow, powContext } from './auxpow.js';
import {
  badSignature,
  bitsBeyondN,
  equivocate,
  payloadHashMismatch,
  reorderedHeight,
  tooFewApprovals,
  wrongParent,
  type FaultContext,
  type FaultDevnet,
  type Mutation,
} from './block.js';
import { genesisForgedPayload, genesisStateRoot } from './genesis.js';
import { FAULT_INFO, FAULTS, isFaultName, type AuxPowFault, type FaultName, type TransportFault } from './names.js';
import { Seeded } from './seeded.js';
import { applyTransportFault, transportVariant, type WireReply } from './wire.js';

/** The fault server was configured with something it cannot do. */
export class FaultConfigError extends ProtocolError {
  override name = 'FaultConfigError';
  constructor(message: string, details?: string) {
    super('devnet.fault-config', message, details ? { details } : {});
  }
}

export interface FaultSelection {
  fault: FaultName;
  /** Everything the fault decides derives from it. */
  seed: string;
  /** First height the fault may touch (default 1; 0 lets transport faults touch genesis replies). */
  from?: number;
  /** Fraction (0, 1] of the eligible heights >= from that are faulted, chosen by seed. Default 1: all. */
  density?: number;
  /** `slow`: the delay before each affected reply, ms (default 2000). */
  delayMs?: number;
}

/** What the devnet must offer (a `Devnet` from createDevnet has all of it). */
export interface FaultyDevnet extends FaultDevnet {
  readonly pow: MergedMining;
  readonly federation: Federation;
}

/** What the adversary does at one height. */
export interface FaultPlan {
  height: number;
  fault: FaultName;
  /** The seeded variant (e.g. `stateRoot`, `reversed`, `chunked`, `not-json:cut`). */
  variant: string;
  detail: string;
}

interface Served {
  honest: StoredBlock;
  /** What getblockbyheight(h) returns; null = withheld. */
  block: SignedConsensusBlock | null;
  /** Signing root of `block`. */
  hash: Hex | null;
  plan: FaultPlan | null;
}

export interface FaultView {
  readonly fault: FaultName;
  /** Whether the fault touches height `h` (see the module comment for the rule). */
  affects(h: number): boolean;
  /** What the adversary does at `h` (null: the honest block is served as is, or h is beyond the head). */
  plan(h: number): FaultPlan | null;
  /** The block getblockbyheight(h) answers: undefined beyond the head, null when withheld. */
  blockAt(h: number): SignedConsensusBlock | null | undefined;
  /**
   * The block getblockbyhash answers: for an honest root, the block served at its height if that
   * block still has this root (else null: the adversary replaced it; `equivocation` and `reordered`
   * answer the honest block); for any other root, the adversary's block with that root if it has
   * produced it already (served at its height, or computed through blockAt/plan), else null. So a
   * root is only found after it was revealed - no chain-wide scan on unknown hashes.
   */
  blockByHash(hash: Hex): { height: number; block: SignedConsensusBlock } | null;
  /** One consensus RPC request, answered like the honest server but with the fault. Never throws. */
  handle(httpMethod: string, body: string): Promise<WireReply | RpcReply>;
}

function validate(
  devnet: FaultyDevnet,
  sel: FaultSelection,
): Required<Omit<FaultSelection, 'delayMs'>> & { delayMs: number } {
  if (!isFaultName(sel.fault))
    throw new FaultConfigError(`unknown fault ${JSON.stringify(sel.fault)}`, `choose one of: ${FAULTS.join(', ')}`);
  if (typeof sel.seed !== 'string') throw new FaultConfigError('the fault seed must be a string');
  const from = sel.from ?? 1;
  if (!Number.isSafeInteger(from) || from < 0)
    throw new FaultConfigError(`from must be a block height (a non-negative integer), got ${from}`);
  const density = sel.density ?? 1;
  if (typeof density !== 'number' || !(density > 0 && density <= 1))
    throw new FaultConfigError(`density must be in (0, 1], got ${density}`);
  const delayMs = sel.delayMs ?? 2000;
  if (!Number.isSafeInteger(delayMs) || delayMs < 0)
    throw new FaultConfigError(`delayMs must be a non-negative integer, got ${delayMs}`);
  const n = devnet.members.length;
  if (sel.fault === 'bits-beyond-n' && n >= 15)
    throw new FaultConfigError(
      'bits-beyond-n needs fewer than 15 authorities: with 15 every bit of the BitList<15> names an authority',
      'create the devnet with authorities < 15',
    );
  if (sel.fault === 'auxpow-parent-chain-id' && devnet.spec.chainId >= 65536)
    throw new FaultConfigError(
      `auxpow-parent-chain-id needs a chain id below 65536 (a parent version can only carry ids up to 65535), the devnet has ${devnet.spec.chainId}`,
      'create the devnet with e.g. createDevnet({ chainId: 21212 })',
    );
  return { fault: sel.fault, seed: sel.seed, from, density, delayMs };
}

export function createFaultView(devnet: FaultyDevnet, selection: FaultSelection): FaultView {
  const sel = validate(devnet, selection);
  const { fault } = sel;
  const kind = FAULT_INFO[fault].kind;
  const rng = new Seeded(sel.seed, fault);
  const ctx: FaultContext = { devnet, rng };
  const cache = new Map<number, Served>();
  /** Roots the adversary serves that the honest chain does not have -> height. */
  const extraRoots = new Map<Hex, number>();
  const rpcDeps = {
    chain: devnet.chain,
    pow: devnet.pow,
    federation: devnet.federation,
    bitcoinNetwork: 'regtest' as const,
  };

  function eligible(stored: StoredBlock): boolean {
    if (kind === 'transport') return true;
    if (kind === 'genesis') return stored.number === 0;
    if (stored.number === 0) return false;
    if (kind === 'auxpow') return auxpowEligible(fault as AuxPowFault, powContext(ctx, stored));
    return true;
  }

  function affects(h: number): boolean {
    const stored = Number.isSafeInteger(h) && h >= 0 ? devnet.chain.at(h) : undefined;
    if (!stored || (h < sel.from && kind !== 'genesis') || !eligible(stored)) return false;
    return sel.density >= 1 || rng.unit(h, 'pick') < sel.density;
  }

  function mutate(stored: StoredBlock): Mutation {
    switch (fault) {
      case 'bad-signature':
        return badSignature(ctx, stored);
      case 'too-few-approvals':
        return tooFewApprovals(ctx, stored);
      case 'bits-beyond-n':
        return bitsBeyondN(ctx, stored);
      case 'wrong-parent':
        return wrongParent(ctx, stored);
      case 'payload-hash-mismatch':
        return payloadHashMismatch(ctx, stored);
      case 'equivocation':
        return equivocate(ctx, stored);
      case 'genesis-forged-payload':
        return genesisForgedPayload(ctx, stored);
      case 'genesis-state-root':
        return genesisStateRoot(ctx, stored);
      default:
        return mutateAuxPow(ctx, fault as AuxPowFault, powContext(ctx, stored)!);
    }
  }

  function served(h: number): Served | undefined {
    const hit = cache.get(h);
    if (hit) return hit;
    const honest = devnet.chain.at(h);
    if (!honest) return undefined;
    let s: Served = { honest, block: honest.signed, hash: honest.hash, plan: null };
    if (affects(h)) {
      if (fault === 'withheld')
        s = {
          honest,
          block: null,
          hash: null,
          plan: { height: h, fault, variant: 'null', detail: `block ${h} withheld` },
        };
      else if (fault === 'reordered') {
        const other = devnet.chain.at(reorderedHeight(ctx, h))!;
        s = {
          honest,
          block: other.signed,
          hash: other.hash,
          plan: {
            height: h,
            fault,
            variant: `height-${other.number}`,
            detail: `getblockbyheight(${h}) answers block ${other.number}`,
          },
        };
      } else if (kind === 'transport') {
        const variant = transportVariant(fault as TransportFault, rng, h);
        s = {
          honest,
          block: honest.signed,
          hash: honest.hash,
          plan: { height: h, fault, variant, detail: `replies carrying block ${h}: ${fault} (${variant})` },
        };
      } else {
        const m = mutate(honest);
        const hash = toHex(signingRoot(m.block.message));
        s = { honest, block: m.block, hash, plan: { height: h, fault, variant: m.variant, detail: m.detail } };
        if (hash !== honest.hash) extraRoots.set(hash, h);
      }
    }
    cache.set(h, s);
    return s;
  }

  function blockByHash(hash: Hex): { height: number; block: SignedConsensusBlock } | null {
    const honest = devnet.chain.get(hash);
    if (honest) {
      const s = served(honest.number)!;
      if (fault === 'equivocation' || fault === 'reordered') return { height: honest.number, block: honest.signed };
      return s.block && s.hash === hash ? { height: honest.number, block: s.block } : null;
    }
    // a root the honest chain does not have: one of the adversary's blocks it has already produced
    const h = extraRoots.get(hash);
    return h === undefined ? null : { height: h, block: served(h)!.block! };
  }

  const ok = (
    id: unknown,
    block: SignedConsensusBlock | null,
  ): { status: number; contentType: string; body: string } => ({
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ result: block ? encodeSignedBlockJson(block) : null, error: null, id: id ?? null }),
  });

  async function handle(httpMethod: string, body: string): Promise<WireReply | RpcReply> {
    const honest = handleConsensusRpc(rpcDeps, httpMethod, body);
    // every error path (aborts, HTTP errors, JSON-RPC errors with status 200) is the honest one
    if ('abort' in honest || honest.status !== 200 || (JSON.parse(honest.body) as { error: unknown }).error !== null)
      return honest;
    const req = JSON.parse(body) as { method: string; params: unknown; id: unknown };
    let height: number;
    let block: SignedConsensusBlock | null;
    switch (req.method) {
      case 'getheadblock': {
        height = devnet.chain.height;
        const s = served(height)!;
        block = fault === 'withheld' ? s.honest.signed : s.block;
        break;
      }
      case 'getblockbyheight': {
        const s = served(req.params as number);
        if (!s) return honest;
        height = s.honest.number;
        block = s.block;
        break;
      }
      case 'getblockbyhash': {
        const found = blockByHash(`0x${(req.params as string).toLowerCase()}` as Hex);
        if (!found) return ok(req.id, null);
        height = found.height;
        block = found.block;
        break;
      }
      default:
        return honest;
    }
    const reply = ok(req.id, block);
    if (kind === 'transport' && block && affects(height))
      return applyTransportFault(fault as TransportFault, reply, rng, height, sel.delayMs);
    return reply;
  }

  return {
    fault,
    affects,
    plan: (h) => served(h)?.plan ?? null,
    blockAt: (h) => {
      const s = served(h);
      return s === undefined ? undefined : s.block;
    },
    blockByHash,
    async handle(httpMethod, body) {
      try {
        return await handle(httpMethod, body);
      } catch (e) {
        return { abort: true, reason: `fault server error: ${(e as Error).message}` };
      }
    },
  };
}
