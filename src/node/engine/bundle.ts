/**
 * Proof bundles from the light node (docs/proof-bundle.md): `alys_getProofBundle`, a provider method
 * that packs a verified read with the signed consensus block it was verified against, so a client
 * holding only the chain spec can check it offline (`verifyBundle`, or the edge Worker's
 * `POST /verify/bundle`).
 *
 *   alys_getProofBundle('account', address, storageKeys, block?)   eth_getProof's params; block
 *                                                                  'finalized'/'safe' adds finality
 *   alys_getProofBundle('receipt', transactionHash)
 *
 * Only verified data goes in: the account proof is the verified reads' (checked against the payload's
 * stateRoot), the receipt proof is built from the block's verified receipts, and the consensus blocks
 * come from the node's verified chain (the one whose payload the read used: its EL hash must match).
 */
import { nextWalkStep, type WalkBlock } from '../../protocol/anchor.js';
import { signingRoot } from '../../protocol/block.js';
import { BUNDLE_LIMITS, encodeProofBundle } from '../../protocol/bundle/format.js';
import { toHex, type Hex } from '../../protocol/bytes.js';
import { decodeRpcBlockReceipts, receiptProof } from '../../protocol/execution/receipts.js';
import { specFingerprint } from '../../protocol/spec-fingerprint.js';
import type { ChainSpec, SignedConsensusBlock } from '../../protocol/types.js';
import { BlockNotVerifiedError, ProviderErrorCode, ProviderRpcError } from './errors.js';
import type { VerifiedReads } from './reads.js';
import type { BlockRef } from './types.js';

/** The node's verified consensus chain, as the producer needs it. */
export interface SignedBlockSource {
  /** The authenticated head's height. */
  headNumber(): Promise<number>;
  /** The verified signed block at `number` (undefined above the head or below the stored history). */
  block(number: number): Promise<SignedConsensusBlock | undefined>;
}

export interface ProofBundleOptions {
  reads: VerifiedReads;
  spec: ChainSpec;
  blocks: SignedBlockSource;
}

function invalid(message: string): ProviderRpcError {
  return new ProviderRpcError(ProviderErrorCode.invalidParams, `invalid params: ${message}`);
}

/** The verified block at `number` whose payload is the EL block `elHash` the read used. */
async function blockOf(blocks: SignedBlockSource, number: number, elHash: Hex): Promise<SignedConsensusBlock> {
  const b = await blocks.block(number);
  if (b === undefined || b.message.executionPayload.blockHash.toLowerCase() !== elHash.toLowerCase())
    throw new BlockNotVerifiedError(elHash);
  return b;
}

/**
 * The blocks of the head-first finality walk (newest first) from the verified head down to the range
 * start of the latest PoW block and at least to `target`: what `finality.blocks` carries.
 */
export async function finalityChain(
  blocks: SignedBlockSource,
  spec: ChainSpec,
  target: number,
): Promise<SignedConsensusBlock[]> {
  const chain: WalkBlock[] = [];
  for (let n = await blocks.headNumber(); n >= 0 && chain.length < BUNDLE_LIMITS.maxFinalityBlocks; n--) {
    const b = await blocks.block(n);
    if (b === undefined) break;
    chain.push({ block: b, root: toHex(signingRoot(b.message)) });
    if (n > target) continue;
    const step = nextWalkStep(chain, spec);
    if (step.kind === 'complete') return chain.map((w) => w.block);
    if (step.kind === 'genesis') break;
  }
  throw new ProviderRpcError(
    ProviderErrorCode.resourceNotFound,
    `block ${target} is not finalized by a PoW block the node holds within ${BUNDLE_LIMITS.maxFinalityBlocks} blocks of its head`,
  );
}

async function accountBundle(o: ProofBundleOptions, params: readonly unknown[]): Promise<unknown> {
  const [address, keys, block] = params;
  if (typeof address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(address))
    throw invalid('address must be a 20-byte 0x address');
  if (keys !== undefined && !Array.isArray(keys)) throw invalid('storage keys must be a list');
  const slots = ((keys as unknown[] | undefined) ?? []).map((k, i) => {
    if (typeof k !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(k))
      throw invalid(`storageKeys[${i}] must be 0x hex of at most 32 bytes`);
    return k.toLowerCase() as Hex;
  });
  let ref: BlockRef = 'latest';
  if (block === 'latest' || block === 'safe' || block === 'finalized') ref = block;
  else if (typeof block === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(block)) ref = BigInt(block);
  else if (typeof block === 'string' && /^0x[0-9a-fA-F]{64}$/.test(block)) ref = block.toLowerCase() as Hex;
  else if (block !== undefined && block !== null)
    throw invalid('block must be latest, safe, finalized, a hex block number or a block hash');
  const account = await o.reads.getProof(address.toLowerCase() as Hex, slots, ref);
  const number = Number(account.blockNumber);
  const signed = await blockOf(o.blocks, number, account.blockHash);
  const finality = ref === 'safe' || ref === 'finalized' ? await finalityChain(o.blocks, o.spec, number) : undefined;
  return encodeProofBundle({
    chain: { chainId: o.spec.chainId, spec: specFingerprint(o.spec) },
    block: signed,
    ...(finality ? { finality } : {}),
    account: account.proof,
  });
}

async function receiptBundle(o: ProofBundleOptions, params: readonly unknown[]): Promise<unknown> {
  const [hash] = params;
  if (typeof hash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(hash))
    throw invalid('transactionHash must be a 32-byte 0x hash');
  const receipt = await o.reads.getTransactionReceipt(hash.toLowerCase() as Hex);
  if (receipt === null)
    throw new ProviderRpcError(ProviderErrorCode.resourceNotFound, `no verified block holds transaction ${hash}`);
  const number = BigInt(receipt.blockNumber);
  // by number: a block hash resolves only among the payloads the node keeps in memory
  const all = await o.reads.getBlockReceipts(number);
  if (all === null || all[0]?.blockHash.toLowerCase() !== receipt.blockHash.toLowerCase())
    throw new BlockNotVerifiedError(receipt.blockHash);
  const index = Number(BigInt(receipt.transactionIndex));
  const signed = await blockOf(o.blocks, Number(number), receipt.blockHash);
  return encodeProofBundle({
    chain: { chainId: o.spec.chainId, spec: specFingerprint(o.spec) },
    block: signed,
    receipt: { index, proof: receiptProof(decodeRpcBlockReceipts(all), index) },
  });
}

/** The provider methods for bundles (merged into the provider's verified methods). */
export function proofBundleMethods(o: ProofBundleOptions): Record<string, (params: unknown) => Promise<unknown>> {
  return {
    alys_getProofBundle: async (params) => {
      if (!Array.isArray(params) || params.length === 0) throw invalid("expected ['account' | 'receipt', ...]");
      const [kind, ...rest] = params;
      if (kind === 'account' && rest.length >= 1 && rest.length <= 3) return accountBundle(o, rest);
      if (kind === 'receipt' && rest.length === 1) return receiptBundle(o, rest);
      throw invalid("expected ['account', address, storageKeys, block?] or ['receipt', transactionHash] (kind first)");
    },
  };
}
