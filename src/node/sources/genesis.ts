/**
 * Block 0 for a cold start. It is never signed (spec 2.5): take it from a source and require that it
 * is exactly the genesis this chain spec derives from its own payload; block 1's federation-signed
 * parent hash then pins it.
 */
import { EMPTY_AGGREGATE_APPROVAL } from '../../protocol/approvals.js';
import { blockHash, genesisBlock } from '../../protocol/block.js';
import { decodeSignedBlockJson } from '../../protocol/codec/json.js';
import type { ChainSpec, SignedConsensusBlock } from '../../protocol/types.js';
import { NoSourceError } from '../errors.js';
import type { P2pHost } from '../network/p2p-host.js';
import { createConsensusRpcSource } from './consensus-rpc.js';

/** A named way to get block 0 (a consensus RPC URL or a peer id). */
type GenesisGetter = [source: string, get: () => Promise<SignedConsensusBlock>];

function fromRpc(url: string, fetchImpl: typeof fetch | undefined): GenesisGetter {
  return [
    url,
    async () => {
      const source = createConsensusRpcSource({ url, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
      return decodeSignedBlockJson((JSON.parse(await source.blockAt(0)) as { result: unknown }).result);
    },
  ];
}

function fromPeer(p2p: P2pHost, peer: string): GenesisGetter {
  return [
    peer,
    async () => {
      const [b] = await p2p.requestBlocksByRange(peer, 0n, 1, { timeoutMs: 10_000 });
      if (!b) throw new Error('the peer sent no block 0');
      return b;
    },
  ];
}

/** The genesis `spec` derives from the payload of `block`, when `block` is exactly that genesis; throws otherwise. */
export function checkGenesis(spec: ChainSpec, block: SignedConsensusBlock): SignedConsensusBlock {
  const derived = genesisBlock(spec, block.message.executionPayload);
  if (blockHash(derived.message) !== blockHash(block.message))
    throw new Error('block 0 is not the genesis of this chain spec');
  if (
    block.signature.aggregationBits !== EMPTY_AGGREGATE_APPROVAL.aggregationBits ||
    block.signature.aggregateSignature !== EMPTY_AGGREGATE_APPROVAL.aggregateSignature
  )
    throw new Error('block 0 carries approvals (genesis is never signed)');
  return derived;
}

/**
 * Block 0 from the first source that serves the genesis of `spec`: the consensus RPC endpoints in
 * order, then the connected peers. NoSourceError (listing each source's problem) when none does.
 */
export async function fetchGenesis(
  spec: ChainSpec,
  rpc: readonly string[],
  fetchImpl?: typeof fetch,
  p2p?: P2pHost,
): Promise<SignedConsensusBlock> {
  const problems: string[] = [];
  const getters: GenesisGetter[] = [
    ...rpc.map((url) => fromRpc(url, fetchImpl)),
    ...(p2p ? p2p.peers().map((peer) => fromPeer(p2p, peer)) : []),
  ];
  for (const [source, get] of getters) {
    try {
      return checkGenesis(spec, await get());
    } catch (e) {
      problems.push(`${source}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new NoSourceError(
    'the genesis block',
    problems.join('; ') || 'no consensus RPC configured and no peer connected',
  );
}
