/**
 * The Alys block hash (alys-protocol.md section 2):
 *
 *   signing_root(block) = tree_hash::merkle_root(rmp_serde::to_vec(&ConsensusBlock), 0)
 *
 * i.e. the canonical msgpack bytes of the unsigned block, cut into 32-byte chunks and merkleised with plain
 * SHA-256 (tree_hash 0.5.2, no length mix-in). The same 32 bytes are the BLS message, the parent link, the
 * AuxPoW range ends and the DB key. The `signature` of a SignedConsensusBlock is not covered.
 *
 * The known answers in the spec (2.4) were computed by the spec author's own encoder, not by Rust: they
 * are tagged [U] there and in the tests. One `getblockbyheight` from a live node (child.parent_hash ==
 * blockHash(parent)) would confirm every rule here end to end.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Hex } from './bytes.js';
import { VerificationError } from './errors.js';
import { MsgpackWriter } from './codec/msgpack-wire.js';
import { ConsensusBlockCodec } from './codec/msgpack.js';
import type {
  AggregateApproval,
  ChainSpec,
  ConsensusBlock,
  ExecutionPayloadCapella,
  SignedConsensusBlock,
} from './types.js';

const CHUNK = 32;

/** zeroHashes[k] = root of a subtree of 2^k all-zero chunks (computed on first use, cached). */
const zeroHashes: Uint8Array[] = [new Uint8Array(CHUNK)];

function zeroHash(level: number): Uint8Array {
  while (zeroHashes.length <= level) {
    const prev = zeroHashes[zeroHashes.length - 1]!;
    const pair = new Uint8Array(2 * CHUNK);
    pair.set(prev, 0);
    pair.set(prev, CHUNK);
    zeroHashes.push(sha256(pair));
  }
  return zeroHashes[level]!;
}

type Sha256 = ReturnType<typeof sha256.create>;
/** A never-updated hasher (the SHA-256 initial state) and a reusable worker reset from it. */
let initial: Sha256 | undefined;
let worker: Sha256 | undefined;

/**
 * SHA-256 of the 64 bytes `pair` written into `out` (32 bytes). A block hash needs one of these per
 * 32-byte chunk (~4 400 for a 217-transaction block); `sha256(x)` builds a new hasher per call, which
 * dominated the cost, so one worker is reset from the initial state with `_cloneInto` (part of noble's
 * `Hash` interface) and reused.
 */
function hashPairInto(pair: Uint8Array, out: Uint8Array): void {
  initial ??= sha256.create();
  worker = initial._cloneInto(worker);
  worker.update(pair);
  worker.digestInto(out);
}

/**
 * tree_hash 0.5.2 `merkle_root(bytes, 0)`:
 * - 0 chunks → 32 zero bytes; 1 chunk → the bytes right-padded to 32 (no hashing);
 * - 2 chunks → SHA-256 of the bytes right-padded to 64;
 * - more → pad the chunk count to the next power of two with zero chunks and hash pairwise upwards.
 * Missing right-hand subtrees use precomputed zero-subtree roots, so work is proportional to the input.
 */
export function merkleRoot(bytes: Uint8Array): Uint8Array {
  const leaves = Math.ceil(bytes.length / CHUNK);
  if (leaves === 0) return new Uint8Array(CHUNK);
  if (leaves === 1) {
    const out = new Uint8Array(CHUNK);
    out.set(bytes);
    return out;
  }
  if (leaves === 2) {
    const padded = new Uint8Array(2 * CHUNK);
    padded.set(bytes);
    return sha256(padded);
  }
  // One working buffer holding the current level's nodes; level k+1 is written over level k in place
  // (node i of the next level lands at [32i, 32i+32), which was already consumed by pair i' ≤ i).
  // An odd node at the end is paired with the zero-subtree root of its level.
  const nodes = new Uint8Array(leaves * CHUNK + CHUNK);
  nodes.set(bytes);
  let count = leaves;
  let level = 0;
  while (count > 1) {
    const pairs = count >> 1;
    for (let i = 0; i < pairs; i++) {
      // The input is fully absorbed by update() before digestInto() writes the output.
      hashPairInto(
        nodes.subarray(2 * i * CHUNK, 2 * i * CHUNK + 2 * CHUNK),
        nodes.subarray(i * CHUNK, i * CHUNK + CHUNK),
      );
    }
    if (count & 1) {
      const last = 2 * pairs * CHUNK;
      nodes.set(zeroHash(level), last + CHUNK); // room for this: the buffer has one spare chunk
      hashPairInto(nodes.subarray(last, last + 2 * CHUNK), nodes.subarray(pairs * CHUNK, pairs * CHUNK + CHUNK));
    }
    count = pairs + (count & 1);
    level++;
  }
  // The loop ends after k = ceil(log2 leaves) levels (ceil(L/2^k) = 1 exactly when 2^k ≥ L), which is the
  // depth of the tree padded to the next power of two, so this is that tree's root.
  return nodes.slice(0, CHUNK);
}

/**
 * Reused across calls: encoding runs on every block import and the buffer keeps its grown size. Created
 * on first use, and dropped after an unusually large block so that one huge block does not pin memory.
 */
let scratch: MsgpackWriter | undefined;
const SCRATCH_KEEP_LIMIT = 4 * 1024 * 1024;

function withScratch<T>(use: (w: MsgpackWriter) => T): T {
  const w = (scratch ??= new MsgpackWriter(64 * 1024)).reset();
  try {
    return use(w);
  } finally {
    if (w.length > SCRATCH_KEEP_LIMIT) scratch = undefined;
    else w.reset();
  }
}

/** The canonical rmp-serde bytes of the unsigned block (what is hashed). Returns a fresh copy. */
export function encodeConsensusBlock(block: ConsensusBlock): Uint8Array {
  return withScratch((w) => {
    ConsensusBlockCodec.write(w, block, '$');
    return w.finish();
  });
}

/** The block's signing root (= its hash), 32 raw bytes. */
export function signingRoot(block: ConsensusBlock): Uint8Array {
  return withScratch((w) => {
    ConsensusBlockCodec.write(w, block, '$');
    return merkleRoot(w.bytesView());
  });
}

/** The block hash as a lowercase `0x` Hash256 string (the form of `parent_hash`, `range_start`, …). */
export function blockHash(block: ConsensusBlock): Hex {
  return `0x${bytesToHex(signingRoot(block))}`;
}

export const ZERO_HASH256: Hex = `0x${'00'.repeat(32)}`;
export const ZERO_ADDRESS: Hex = `0x${'00'.repeat(20)}`;

/** `AggregateApproval::new()`: no bits set (`0x0080`: only the length delimiter), 96 zero signature bytes. */
export function emptyAggregateApproval(): AggregateApproval {
  return { aggregationBits: '0x0080', aggregateSignature: `0x${'00'.repeat(96)}` };
}

/**
 * `SignedConsensusBlock::genesis` (alys-protocol.md 2.5): built locally, never signed. The execution
 * payload is EL block 0 mapped field by field by the caller (miner → fee_recipient, mixHash → prev_randao,
 * hash → block_hash, no transactions, no withdrawals, the EL's reported base fee); it is used as given.
 * Its hash is the parent of block 1, so comparing `blockHash(genesis.message)` with block 1's `parent_hash`
 * checks the chain spec and the EL genesis together.
 */
export function genesisBlock(spec: ChainSpec, elGenesis: ExecutionPayloadCapella): SignedConsensusBlock {
  // Alys panics on the same condition ("Execution payload should start at zero").
  if (elGenesis.blockNumber !== 0n)
    throw new VerificationError(
      'genesis.block-number',
      `the EL genesis payload has block_number ${elGenesis.blockNumber}, expected 0`,
      {
        details: 'Pass the payload of EL block 0 (eth_getBlockByNumber("0x0")).',
      },
    );
  return {
    message: {
      parentHash: ZERO_HASH256,
      slot: 0,
      auxpowHeader: {
        rangeStart: ZERO_HASH256,
        rangeEnd: ZERO_HASH256,
        bits: spec.bits,
        chainId: spec.chainId,
        height: 0,
        auxpow: null,
        feeRecipient: ZERO_ADDRESS,
      },
      executionPayload: elGenesis,
      pegins: [],
      pegoutPaymentProposal: null,
      finalizedPegouts: [],
    },
    signature: emptyAggregateApproval(),
  };
}
