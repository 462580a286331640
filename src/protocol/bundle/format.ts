/**
 * The proof bundle (docs/proof-bundle.md): one JSON document that proves a read of Alys state to a
 * verifier holding only the chain spec. Version 1:
 *
 *   { "version": 1, "kind": "alys-proof-bundle",
 *     "chain": { "chainId": n, "spec": fingerprint },
 *     "block": signed consensus block (getblockbyheight JSON),
 *     "finality"?: { "blocks": [signed blocks, newest first, from a head down to the PoW range start] },
 *     "account"?: eth_getProof result (balance, nonce, codeHash; storage slots in storageProof),
 *     "receipt"?: { "index": n, "proof": [receipt trie nodes, root first] } }
 *
 * This module decodes (shape, version, caps: typed DecodeErrors with `bundle.*` codes) and encodes;
 * verify.ts checks. Pure, no platform globals.
 */
import { parseHex, toHex, type Hex } from '../bytes.js';
import { decodeSignedBlockJson, encodeSignedBlockJson } from '../codec/json.js';
import { DecodeError } from '../errors.js';
import { decodeGetProofResponse, type GetProofResponse } from '../execution/proof.js';
import { readArray, readField, readObject } from '../json-fields.js';
import type { SignedConsensusBlock } from '../types.js';

export const BUNDLE_KIND = 'alys-proof-bundle';
export const BUNDLE_VERSION = 1;

/** Caps a decoder enforces before any verification work (a bundle over them is unusable, not invalid). */
export const BUNDLE_LIMITS = {
  /** The bundle as JSON text (when decoded from text): 1 MiB, the edge Worker's body cap. */
  maxBytes: 1024 * 1024,
  /** Blocks in `finality.blocks` (twice max_blocks_without_pow of any shipped spec, with room). */
  maxFinalityBlocks: 512,
  /** Storage slots in `account.storageProof`. */
  maxStorageSlots: 64,
  /** Nodes in one trie proof (account, storage or receipt): a 32-byte key needs at most 65. */
  maxProofNodes: 65,
} as const;

export interface ReceiptProofJson {
  /** The transaction's index in the block. */
  index: number;
  /** The receipt trie nodes on the path of rlp(index), root first. */
  proof: Uint8Array[];
}

/** A decoded bundle: every field parsed, nothing verified yet. */
export interface ProofBundle {
  version: typeof BUNDLE_VERSION;
  chain: { chainId: number; spec: Hex };
  block: SignedConsensusBlock;
  finality?: { blocks: SignedConsensusBlock[] };
  account?: GetProofResponse;
  receipt?: ReceiptProofJson;
}

/** What a producer hands in to make a bundle (the parts a node has verified). */
export interface ProofBundleParts {
  chain: { chainId: number; spec: Hex };
  block: SignedConsensusBlock;
  /** Newest first, from a verified head down to (at least) the range start of the latest PoW block. */
  finality?: readonly SignedConsensusBlock[];
  /** An eth_getProof result as JSON (the node's verified `proof`). */
  account?: unknown;
  receipt?: { index: number; proof: readonly Uint8Array[] };
}

function tooMany(path: string, what: string, max: number, got: number): DecodeError {
  return new DecodeError(path, `${got} ${what}, more than the ${max} a bundle may carry`, { code: 'bundle.too-many' });
}

function countProof(nodes: unknown, path: string): void {
  if (Array.isArray(nodes) && nodes.length > BUNDLE_LIMITS.maxProofNodes)
    throw tooMany(path, 'proof nodes', BUNDLE_LIMITS.maxProofNodes, nodes.length);
}

function decodeAccount(v: unknown, path: string): GetProofResponse {
  const o = readObject(v, path);
  countProof(o.accountProof, `${path}.accountProof`);
  const slots = o.storageProof;
  if (Array.isArray(slots)) {
    if (slots.length > BUNDLE_LIMITS.maxStorageSlots)
      throw tooMany(`${path}.storageProof`, 'storage slots', BUNDLE_LIMITS.maxStorageSlots, slots.length);
    slots.forEach((s, i) => {
      if (typeof s === 'object' && s !== null)
        countProof((s as { proof?: unknown }).proof, `${path}.storageProof[${i}]`);
    });
  }
  return decodeGetProofResponse(o, path);
}

function decodeReceipt(v: unknown, path: string): ReceiptProofJson {
  const o = readObject(v, path);
  const index = readField(o, 'index', path);
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0)
    throw new DecodeError(`${path}.index`, 'expected a non-negative integer');
  const nodes = readArray(readField(o, 'proof', path), `${path}.proof`);
  countProof(nodes, `${path}.proof`);
  return { index, proof: nodes.map((n, i) => parseHex(n, `${path}.proof[${i}]`, { prefix: 'required' })) };
}

function decodeChain(v: unknown): { chainId: number; spec: Hex } {
  const o = readObject(v, '$.chain');
  const chainId = readField(o, 'chainId', '$.chain');
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 0)
    throw new DecodeError('$.chain.chainId', 'expected a non-negative integer');
  return {
    chainId,
    spec: toHex(parseHex(readField(o, 'spec', '$.chain'), '$.chain.spec', { prefix: 'required', length: 32 })),
  };
}

/**
 * Decode a bundle from its JSON text or the parsed value. Throws DecodeError: `bundle.too-large` (text
 * over {@link BUNDLE_LIMITS}.maxBytes), `bundle.kind`, `bundle.version` (a version this library does not
 * know), `bundle.too-many` (a count cap), `decode` (a field's shape, `path` says which).
 */
export function decodeProofBundle(input: unknown): ProofBundle {
  let value = input;
  if (typeof input === 'string') {
    // UTF-16 length <= UTF-8 bytes, so this refuses before parsing anything over the cap
    if (input.length > BUNDLE_LIMITS.maxBytes || new TextEncoder().encode(input).length > BUNDLE_LIMITS.maxBytes)
      throw new DecodeError('$', `the bundle is larger than ${BUNDLE_LIMITS.maxBytes} bytes`, {
        code: 'bundle.too-large',
      });
    try {
      value = JSON.parse(input);
    } catch (cause) {
      throw new DecodeError('$', `not JSON: ${(cause as Error).message}`, { cause });
    }
  }
  const o = readObject(value, '$');
  if (o.kind !== BUNDLE_KIND)
    throw new DecodeError('$.kind', `expected "${BUNDLE_KIND}", got ${JSON.stringify(o.kind)}`, {
      code: 'bundle.kind',
    });
  if (o.version !== BUNDLE_VERSION)
    throw new DecodeError('$.version', `unknown bundle version ${JSON.stringify(o.version)}; this verifier knows 1`, {
      code: 'bundle.version',
    });
  const out: ProofBundle = {
    version: BUNDLE_VERSION,
    chain: decodeChain(readField(o, 'chain', '$')),
    block: decodeSignedBlockJson(readField(o, 'block', '$'), '$.block'),
  };
  if (o.finality !== undefined) {
    const f = readObject(o.finality, '$.finality');
    const blocks = readArray(readField(f, 'blocks', '$.finality'), '$.finality.blocks');
    if (blocks.length > BUNDLE_LIMITS.maxFinalityBlocks)
      throw tooMany('$.finality.blocks', 'blocks', BUNDLE_LIMITS.maxFinalityBlocks, blocks.length);
    if (blocks.length === 0) throw new DecodeError('$.finality.blocks', 'expected at least one block');
    out.finality = { blocks: blocks.map((b, i) => decodeSignedBlockJson(b, `$.finality.blocks[${i}]`)) };
  }
  if (o.account !== undefined) out.account = decodeAccount(o.account, '$.account');
  if (o.receipt !== undefined) out.receipt = decodeReceipt(o.receipt, '$.receipt');
  return out;
}

/** The bundle's JSON value (JSON.stringify it to send it). */
export function encodeProofBundle(parts: ProofBundleParts): Record<string, unknown> {
  return {
    version: BUNDLE_VERSION,
    kind: BUNDLE_KIND,
    chain: { chainId: parts.chain.chainId, spec: parts.chain.spec },
    block: encodeSignedBlockJson(parts.block),
    ...(parts.finality ? { finality: { blocks: parts.finality.map((b) => encodeSignedBlockJson(b)) } } : {}),
    ...(parts.account !== undefined ? { account: parts.account } : {}),
    ...(parts.receipt ? { receipt: { index: parts.receipt.index, proof: parts.receipt.proof.map(toHex) } } : {}),
  };
}
