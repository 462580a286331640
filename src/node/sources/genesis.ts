/**
 * Block 0 for a cold start: a trust root, not trust on first use. Block 0 is never signed (spec 2.5);
 * a source's block 0 is accepted only when it is exactly the genesis the chain spec derives from its
 * EL payload and that payload is pinned by something the source cannot forge:
 * - the spec's `executionGenesisHash` (the shipped specs and the devnet's carry it): the payload's
 *   `block_hash` must be it and the payload's fields must hash to it;
 * - otherwise (a custom spec), block 1 from the same source: its federation approvals must verify
 *   against the spec's authorities and it must link to block 0 (parent_hash = block 0's signing root,
 *   EL parent hash and number). Until such a block 1 exists, no block 0 is accepted.
 * A source whose answer fails a check is charged (`onFault`); one that merely cannot answer is not.
 */
import { EMPTY_AGGREGATE_APPROVAL, prepareAuthorities, verifyAggregateApproval } from '../../protocol/approvals.js';
import { blockHash, genesisBlock, signingRoot } from '../../protocol/block.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import { decodeSignedBlockJson } from '../../protocol/codec/json.js';
import { ProtocolError, VerificationError } from '../../protocol/errors.js';
import { verifyGenesisPayload } from '../../protocol/execution/genesis.js';
import type { ChainSpec, SignedConsensusBlock } from '../../protocol/types.js';
import { verifyParentLink } from '../../protocol/verify.js';
import { NoSourceError } from '../errors.js';
import type { P2pHostApi } from '../network/p2p-host.js';
import { createConsensusRpcSource } from './consensus-rpc.js';

/** A named way to get the block at a height (a consensus RPC URL or a peer id); undefined: none yet. */
type BlockGetter = [source: string, get: (height: number) => Promise<SignedConsensusBlock | undefined>];

export interface GenesisOptions {
  /** Verifies block 1's approvals when the spec has no `executionGenesisHash`. */
  bls?: BlsBackend;
  /** A source served a block 0 (or block 1) that failed a check: charge it. */
  onFault?: (source: string, reason: string) => void;
}

function fromRpc(url: string, fetchImpl: typeof fetch | undefined): BlockGetter {
  const source = createConsensusRpcSource({ url, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  return [
    url,
    async (height) => {
      const { result } = JSON.parse(await source.blockAt(height)) as { result: unknown };
      return result === null ? undefined : decodeSignedBlockJson(result);
    },
  ];
}

function fromPeer(p2p: P2pHostApi, peer: string): BlockGetter {
  return [
    peer,
    async (height) => {
      const [b] = await p2p.requestBlocksByRange(peer, BigInt(height), 1, { timeoutMs: 10_000 });
      return b;
    },
  ];
}

/** The genesis `spec` derives from the payload of `block`, when `block` is exactly that genesis; throws otherwise. */
export function checkGenesis(spec: ChainSpec, block: SignedConsensusBlock): SignedConsensusBlock {
  const derived = genesisBlock(spec, block.message.executionPayload);
  if (blockHash(derived.message) !== blockHash(block.message))
    throw new VerificationError('genesis.derived', 'block 0 is not the genesis of this chain spec');
  if (
    block.signature.aggregationBits !== EMPTY_AGGREGATE_APPROVAL.aggregationBits ||
    block.signature.aggregateSignature !== EMPTY_AGGREGATE_APPROVAL.aggregateSignature
  )
    throw new VerificationError('genesis.signed', 'block 0 carries approvals (genesis is never signed)');
  return derived;
}

/** Block 1 pins `genesis`: its approvals verify against the spec's authorities and it links to it. Throws otherwise. */
export function checkGenesisChild(
  spec: ChainSpec,
  genesis: SignedConsensusBlock,
  child: SignedConsensusBlock,
  bls: BlsBackend,
): void {
  const payload = genesis.message.executionPayload;
  verifyParentLink(child.message, {
    hash: blockHash(genesis.message),
    payloadBlockHash: payload.blockHash,
    number: payload.blockNumber,
  });
  verifyAggregateApproval({
    root: signingRoot(child.message),
    approval: child.signature,
    authorities: prepareAuthorities(spec.authorities, bls),
    backend: bls,
  });
}

/** `source`'s genesis, checked; undefined when it cannot be pinned yet (no block 0, or no block 1 without a spec hash). */
async function genesisFrom(
  spec: ChainSpec,
  get: BlockGetter[1],
  bls: BlsBackend | undefined,
): Promise<SignedConsensusBlock | undefined> {
  const served = await get(0);
  if (!served) return undefined;
  const genesis = checkGenesis(spec, served);
  if (spec.executionGenesisHash !== undefined) {
    verifyGenesisPayload(genesis.message.executionPayload, spec.executionGenesisHash);
    return genesis;
  }
  const child = await get(1);
  if (!child) return undefined;
  if (!bls) throw new NoSourceError('the genesis block', 'no BLS backend to verify block 1 with');
  checkGenesisChild(spec, genesis, child, bls);
  return genesis;
}

/**
 * Block 0 from the first source whose genesis is pinned (see the module comment): the consensus RPC
 * endpoints in order, then the connected peers. NoSourceError (listing each source's problem) when
 * none is. Nothing is returned, and so nothing stored, before the check passed.
 */
export async function fetchGenesis(
  spec: ChainSpec,
  rpc: readonly string[],
  fetchImpl?: typeof fetch,
  p2p?: P2pHostApi,
  opts: GenesisOptions = {},
): Promise<SignedConsensusBlock> {
  const problems: string[] = [];
  const getters: BlockGetter[] = [
    ...rpc.map((url) => fromRpc(url, fetchImpl)),
    ...(p2p ? p2p.peers().map((peer) => fromPeer(p2p, peer)) : []),
  ];
  for (const [source, get] of getters) {
    try {
      const genesis = await genesisFrom(spec, get, opts.bls);
      if (genesis) return genesis;
      problems.push(
        `${source}: ${spec.executionGenesisHash === undefined ? 'no block 1 yet to pin block 0 (the chain spec has no executionGenesisHash)' : 'no block 0'}`,
      );
    } catch (e) {
      const reason = (e as Error).message.split('\n')[0]!;
      // a block that fails a check is a lie; a source that cannot answer is not charged here
      if (e instanceof ProtocolError) opts.onFault?.(source, reason);
      problems.push(`${source}: ${reason}`);
    }
  }
  throw new NoSourceError(
    'the genesis block',
    problems.join('; ') || 'no consensus RPC configured and no peer connected',
  );
}
