/**
 * Verification of a proof bundle (format.ts, docs/proof-bundle.md) against a chain spec alone, in
 * this order, each step with the existing protocol check (nothing re-implemented here):
 *
 *  1. the chain: `chain.chainId` and `chain.spec` are the verifier's spec (`bundle.chain-spec`);
 *  2. the block, as a head-first start checks a head (anchor.ts `verifyHead`): signing root, slot
 *     rule, the aggregate approval of >= ceil(2n/3) of the spec's authorities, the payload block hash;
 *  3. finality, when given: the head-first finality walk (anchor.ts) over `finality.blocks`, then the
 *     block must be on that chain at or below the block it finalizes (`bundle.not-finalized`);
 *  4. the account proof against the payload's stateRoot (`verifyGetProofResponse`: `getproof.*`);
 *  5. the receipt proof against the payload's receiptsRoot (`verifyReceiptProof`: `receipts.proof`).
 *
 * Throws VerificationError (its `check` names the rule) or DecodeError (unusable input). Returns the
 * verified facts as JSON-ready values (decimal strings for amounts).
 */
import { anchorAt, linkParent, nextWalkStep, verifyHead, type AnchorOptions, type WalkBlock } from '../anchor.js';
import { prepareAuthorities, requiredApprovals, type PreparedAuthorities } from '../approvals.js';
import type { BlsBackend } from '../bls/backend.js';
import { toHex, type Hex } from '../bytes.js';
import { VerificationError } from '../errors.js';
import { verifyGetProofResponse } from '../execution/proof.js';
import { verifyReceiptProof } from '../execution/receipts.js';
import { transactionHash } from '../execution/transactions.js';
import { parseHex } from '../bytes.js';
import { specFingerprint } from '../spec-fingerprint.js';
import type { ChainSpec, SignedConsensusBlock } from '../types.js';
import { decodeProofBundle, type ProofBundle } from './format.js';

export interface VerifiedBundleFacts {
  version: 1;
  chainId: number;
  block: {
    number: string;
    /** The consensus block hash (signing root). */
    hash: Hex;
    /** The execution block hash. */
    payloadHash: Hex;
    slot: number;
    timestamp: string;
    stateRoot: Hex;
    receiptsRoot: Hex;
    signers: number[];
    required: number;
  };
  /** True only when `finality` was given and proved the block final. */
  finalized: boolean;
  finality?: { pow: { number: number; hash: Hex }; finalized: { number: number; hash: Hex } };
  account?: {
    address: Hex;
    exists: boolean;
    balance: string;
    nonce: string;
    codeHash: Hex;
    storageHash: Hex;
    storage: { key: Hex; value: string }[];
  };
  receipt?: {
    index: number;
    transactionHash: Hex;
    type: number;
    status: 0 | 1;
    cumulativeGasUsed: string;
    logs: { address: Hex; topics: Hex[]; data: Hex }[];
  };
}

export interface VerifyBundleContext {
  spec: ChainSpec;
  backend: BlsBackend;
  /**
   * The spec's authority keys prepared with `backend` (`prepareAuthorities(spec.authorities, backend)`),
   * when the caller keeps them between bundles (the edge Worker: once per isolate); absent, they are
   * prepared for each bundle.
   */
  authorities?: PreparedAuthorities;
}

function checkChain(bundle: ProofBundle, spec: ChainSpec): void {
  const want = specFingerprint(spec);
  if (bundle.chain.chainId !== spec.chainId || bundle.chain.spec !== want)
    throw new VerificationError(
      'bundle.chain-spec',
      `the bundle is for chain ${bundle.chain.chainId} spec ${bundle.chain.spec}, this verifier's is chain ${spec.chainId} spec ${want}`,
    );
}

/** Step 3: the finality walk over `blocks` (newest first); the block must be at or below the finalized one. */
function checkFinality(
  block: SignedConsensusBlock,
  blockRoot: Hex,
  blocks: readonly SignedConsensusBlock[],
  opts: AnchorOptions,
): NonNullable<VerifiedBundleFacts['finality']> {
  const head = verifyHead(blocks[0]!, opts);
  const chain: WalkBlock[] = [head];
  for (let i = 1; i < blocks.length; i++) chain.push(linkParent(chain[i - 1]!.block, blocks[i]!));
  const step = nextWalkStep(chain, opts.spec);
  if (step.kind !== 'complete')
    throw new VerificationError(
      'bundle.not-finalized',
      step.kind === 'genesis'
        ? 'no PoW block on the finality chain: nothing above genesis is final'
        : `the finality chain stops at block ${blocks.at(-1)!.message.executionPayload.blockNumber}, above the range start of its latest PoW block`,
    );
  const anchor = anchorAt(chain, step, head.signers, opts);
  const number = Number(block.message.executionPayload.blockNumber);
  const on = chain.find((b) => b.root === blockRoot);
  if (on === undefined || number > anchor.finalized.number)
    throw new VerificationError(
      'bundle.not-finalized',
      on === undefined
        ? `block ${number} is not on the finality chain`
        : `block ${number} is above the finalized block ${anchor.finalized.number}`,
    );
  return { pow: anchor.pow, finalized: anchor.finalized };
}

function accountFacts(bundle: ProofBundle, stateRoot: Hex): VerifiedBundleFacts['account'] {
  const response = bundle.account!;
  const { account, storage } = verifyGetProofResponse(stateRoot, response);
  return {
    address: toHex(response.address),
    exists: account.exists,
    balance: String(account.balance),
    nonce: String(account.nonce),
    codeHash: toHex(account.codeHash),
    storageHash: toHex(account.storageHash),
    storage: storage.map((s) => ({ key: toHex(s.key), value: String(s.value) })),
  };
}

function receiptFacts(bundle: ProofBundle, block: SignedConsensusBlock): VerifiedBundleFacts['receipt'] {
  const { index, proof } = bundle.receipt!;
  const payload = block.message.executionPayload;
  const raw = payload.transactions[index];
  if (raw === undefined)
    throw new VerificationError(
      'bundle.receipt-index',
      `receipt index ${index}, but block ${payload.blockNumber} has ${payload.transactions.length} transactions`,
    );
  const r = verifyReceiptProof(payload.receiptsRoot, index, proof);
  return {
    index,
    transactionHash: toHex(transactionHash(parseHex(raw, `$.block.transactions[${index}]`, { prefix: 'required' }))),
    type: r.type,
    status: r.status,
    cumulativeGasUsed: String(r.cumulativeGasUsed),
    logs: r.logs.map((l) => ({ address: toHex(l.address), topics: l.topics.map(toHex), data: toHex(l.data) })),
  };
}

/** Verify a decoded bundle; see the module comment for the order of the checks. */
export function verifyDecodedBundle(bundle: ProofBundle, ctx: VerifyBundleContext): VerifiedBundleFacts {
  const { spec, backend } = ctx;
  checkChain(bundle, spec);
  const opts: AnchorOptions = {
    spec,
    backend,
    authorities: ctx.authorities ?? prepareAuthorities(spec.authorities, backend, '$.spec.authorities'),
  };
  const head = verifyHead(bundle.block, opts);
  const finality = bundle.finality ? checkFinality(bundle.block, head.root, bundle.finality.blocks, opts) : undefined;
  const m = bundle.block.message;
  const payload = m.executionPayload;
  return {
    version: 1,
    chainId: spec.chainId,
    block: {
      number: String(payload.blockNumber),
      hash: head.root,
      payloadHash: payload.blockHash,
      slot: m.slot,
      timestamp: String(payload.timestamp),
      stateRoot: payload.stateRoot,
      receiptsRoot: payload.receiptsRoot,
      signers: head.signers,
      required: requiredApprovals(spec.authorities.length),
    },
    finalized: finality !== undefined,
    ...(finality ? { finality } : {}),
    ...(bundle.account ? { account: accountFacts(bundle, payload.stateRoot) } : {}),
    ...(bundle.receipt ? { receipt: receiptFacts(bundle, bundle.block) } : {}),
  };
}

/** Decode (text or parsed JSON) and verify a bundle against `ctx.spec`. Throws DecodeError / VerificationError. */
export function verifyBundle(input: unknown, ctx: VerifyBundleContext): VerifiedBundleFacts {
  return verifyDecodedBundle(decodeProofBundle(input), ctx);
}
