/**
 * The faults the adversarial consensus RPC can serve, by name, with what each breaks and the check
 * of src/protocol that rejects it (the `check` of the VerificationError a ChainVerifier import
 * throws, or the client-side error for chain-level and transport faults).
 */

export const BLOCK_FAULTS = [
  'bad-signature',
  'too-few-approvals',
  'bits-beyond-n',
  'wrong-parent',
  'payload-hash-mismatch',
] as const;

export const AUXPOW_FAULTS = [
  'auxpow-parent-chain-id',
  'auxpow-chain-branch-too-long',
  'auxpow-chain-root',
  'auxpow-coinbase-branch',
  'auxpow-commitment-missing',
  'auxpow-merkle-size',
  'auxpow-side-mask',
  'auxpow-pow',
  'auxpow-range-gap',
  'auxpow-aggregate',
] as const;

export const CHAIN_FAULTS = ['equivocation', 'withheld', 'reordered'] as const;

export const TRANSPORT_FAULTS = ['slow', 'truncated', 'malformed-json'] as const;

/** Block 0 only (it is never signed): the genesis trust root must catch these. */
export const GENESIS_FAULTS = ['genesis-forged-payload', 'genesis-state-root'] as const;

/** Every fault, selectable by name. */
export const FAULTS = [
  ...BLOCK_FAULTS,
  ...AUXPOW_FAULTS,
  ...CHAIN_FAULTS,
  ...TRANSPORT_FAULTS,
  ...GENESIS_FAULTS,
] as const;

export type BlockFault = (typeof BLOCK_FAULTS)[number];
export type AuxPowFault = (typeof AUXPOW_FAULTS)[number];
export type ChainFault = (typeof CHAIN_FAULTS)[number];
export type TransportFault = (typeof TRANSPORT_FAULTS)[number];
export type GenesisFault = (typeof GENESIS_FAULTS)[number];
export type FaultName = (typeof FAULTS)[number];

export type FaultKind = 'block' | 'auxpow' | 'chain' | 'transport' | 'genesis';

export interface FaultInfo {
  kind: FaultKind;
  /** The one defect the fault introduces. */
  defect: string;
  /** Which blocks it can touch. */
  eligible: string;
  /** What a light client sees: the VerificationError check, or the client-level symptom. */
  trips: string;
}

const ANY = 'every block but genesis';
const POW = 'blocks carrying an AuxPowHeader (not genesis)';

export const FAULT_INFO: Readonly<Record<FaultName, FaultInfo>> = Object.freeze({
  'bad-signature': {
    kind: 'block',
    defect:
      'the aggregate signature (all n bits) is over another 32-byte message (the parent root, the root with a bit flipped, or a seeded hash)',
    eligible: ANY,
    trips: 'approvals.signature',
  },
  'too-few-approvals': {
    kind: 'block',
    defect: 'ceil(2n/3) - 1 signers (a seeded subset) with a valid aggregate over the real root',
    eligible: ANY,
    trips: 'approvals.threshold',
  },
  'bits-beyond-n': {
    kind: 'block',
    defect: 'all n authorities signed validly, plus a set bit at a seeded index in n..14 (needs n < 15)',
    eligible: ANY,
    trips: 'approvals.bits-beyond-authorities',
  },
  'wrong-parent': {
    kind: 'block',
    defect:
      'parent_hash is the root of another block (a seeded earlier ancestor; at height 1 the next block, or a seeded hash), re-signed',
    eligible: ANY,
    trips: 'block.parent-hash',
  },
  'payload-hash-mismatch': {
    kind: 'block',
    defect:
      'one execution payload field (seeded: state root, receipts root, logs bloom, extra data, fee recipient, prev randao, gas used, gas limit, base fee, timestamp) changed, re-signed',
    eligible: ANY,
    trips: 'payload.block-hash',
  },
  'auxpow-parent-chain-id': {
    kind: 'auxpow',
    defect:
      "the parent header's version carries our chain id (version >> 16 == chain id), re-mined (needs a chain id below 65536)",
    eligible: POW,
    trips: 'auxpow.parent-chain-id',
  },
  'auxpow-chain-branch-too-long': {
    kind: 'auxpow',
    defect:
      'a consistent 31-hash blockchain branch (merkle size 2^31, expected index, commitment to its root), re-mined',
    eligible: POW,
    trips: 'auxpow.chain-branch-too-long',
  },
  'auxpow-chain-root': {
    kind: 'auxpow',
    defect:
      'a well-formed commitment to a root that is not the chain merkle root of the aggregate (seeded: byte-reversed root, the unfolded aggregate under a 1..3-hash branch, a seeded hash); coinbase gets a 4th output, re-mined',
    eligible: POW,
    trips: 'auxpow.commitment-missing (message "output 2: it commits to ...")',
  },
  'auxpow-coinbase-branch': {
    kind: 'auxpow',
    defect:
      'the coinbase does not fold to the parent merkle root (seeded: a branch hash altered, the branch side mask flipped, the coinbase edited); the parent header is untouched',
    eligible: POW,
    trips: 'auxpow.coinbase-merkle-root',
  },
  'auxpow-commitment-missing': {
    kind: 'auxpow',
    defect:
      'the commitment output is not a 44-byte fabe6d6d script (seeded: wrapped in OP_RETURN, wrong magic, 43 bytes) and no other output 2/3 has one; coinbase gets a 4th output, re-mined',
    eligible: POW,
    trips: 'auxpow.commitment-missing (message "its scriptPubKey is N bytes" / "does not start with fabe6d6d")',
  },
  'auxpow-merkle-size': {
    kind: 'auxpow',
    defect:
      'the commitment says a merkle size other than 2^len(chain branch) (seeded: a bigger power of two, or 0), re-mined',
    eligible: POW,
    trips: 'auxpow.merkle-size',
  },
  'auxpow-side-mask': {
    kind: 'auxpow',
    defect:
      'the blockchain branch side mask is not the expected index (seeded: a 1..3-hash branch in the wrong slot with a consistent root, or only the mask changed)',
    eligible: POW,
    trips: 'auxpow.chain-index',
  },
  'auxpow-pow': {
    kind: 'auxpow',
    defect: "the parent header's nonce is changed so its hash is above the required (retargeted) target",
    eligible: POW,
    trips: 'pow.parent-pow',
  },
  'auxpow-range-gap': {
    kind: 'auxpow',
    defect:
      'range_start skips 1..len-1 (seeded) blocks after the last finalized one; the AuxPoW commits to the shorter range and the finalized peg-outs of the skipped blocks are dropped, re-mined',
    eligible: `${POW} whose range has at least 2 blocks`,
    trips: 'pow.range-continuity',
  },
  'auxpow-aggregate': {
    kind: 'auxpow',
    defect:
      "a valid AuxPoW for a different range than the header's (seeded: the range without its last 1..len-1 blocks, or with the last finalized block prepended); coinbase gets a 4th output, re-mined",
    eligible: POW,
    trips: 'auxpow.commitment-missing (message "output 2: it commits to ...")',
  },
  equivocation: {
    kind: 'chain',
    defect:
      'a second, validly signed block at the same height (another slot); getblockbyheight/getheadblock serve it, getblockbyhash serves both',
    eligible: ANY,
    trips:
      'the equivocating block imports (it is valid alone); the next block then fails block.parent-hash; both blocks verify at one height',
  },
  withheld: {
    kind: 'chain',
    defect: 'getblockbyheight / getblockbyhash answer null for the block (getheadblock still names the honest head)',
    eligible: ANY,
    trips: 'a null result for a height below the head',
  },
  reordered: {
    kind: 'chain',
    defect:
      'getblockbyheight(h) (and getheadblock) answer the block of height h - k, k seeded in 1..min(3, h); getblockbyhash is honest',
    eligible: ANY,
    trips: 'block.parent-hash',
  },
  slow: {
    kind: 'transport',
    defect: 'the honest reply, after `delayMs`',
    eligible: 'replies carrying a block',
    trips: 'a client timeout (the content is honest)',
  },
  truncated: {
    kind: 'transport',
    defect:
      'the honest reply cut after a seeded byte count, connection closed (seeded framing: full content-length announced, or chunked)',
    eligible: 'replies carrying a block',
    trips: 'an HTTP-level error while reading the body',
  },
  'malformed-json': {
    kind: 'transport',
    defect:
      'seeded: not JSON (cut with a matching content-length, an HTML page, trailing garbage) or wrong shapes (slot as a string, no signature, unquoted block number, hex without 0x, result as an array)',
    eligible: 'replies carrying a block',
    trips: 'SyntaxError from JSON.parse, or DecodeError from decodeSignedBlockJson',
  },
  'genesis-forged-payload': {
    kind: 'genesis',
    defect:
      'block 0 is the genesis the chain spec derives from a made-up EL payload (seeded extraData) whose block_hash is its own header hash; blocks from 1 on are honest',
    eligible: 'genesis only',
    trips:
      'genesis.el-hash (spec with executionGenesisHash), else block.parent-hash of block 1 against it (custom spec)',
  },
  'genesis-state-root': {
    kind: 'genesis',
    defect:
      "block 0's EL payload has a seeded state root, block_hash kept (derived again from the chain spec); blocks from 1 on are honest",
    eligible: 'genesis only',
    trips:
      'genesis.payload-hash (spec with executionGenesisHash), else block.parent-hash of block 1 against it (custom spec)',
  },
});

export function isFaultName(value: unknown): value is FaultName {
  return typeof value === 'string' && (FAULTS as readonly string[]).includes(value);
}
