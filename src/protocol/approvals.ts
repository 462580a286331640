/**
 * Block approvals: the aggregation bitlist, the 2/3 threshold and BLS aggregate verification
 * (alys-protocol.md sections 1.8, 3.1 and 3.3).
 *
 * A block's `signature` is an {@link AggregateApproval}: an SSZ `BitList<15>` naming the
 * authorities that signed, and the BLS aggregate of their signatures over the block's signing
 * root (the 32-byte root itself is the message: no domain, no fork version). Alys imports a
 * block when at least `floor((2n + 2) / 3)` of its `n` authorities signed and
 * `fast_aggregate_verify` over their keys succeeds.
 *
 * Hot path: `verifyAggregateApproval` runs once per synced block. Prepare the chain's
 * authorities once ({@link prepareAuthorities}) so that their G1 points are decoded and
 * subgroup-checked once, not per block.
 */
import type { AggregateApproval, IndividualApproval } from './types.js';
import { parseHex, toHex, type Hex } from './bytes.js';
import { describeJson } from './json-fields.js';
import { DecodeError, ProtocolError, VerificationError } from './errors.js';
import { BLS_SIGNATURE_LENGTH, type BlsBackend, type BlsBackendName, type PreparedPublicKey } from './bls/backend.js';

/** Capacity of the aggregation bitlist (`MaxValidators = U15`): at most 15 authorities can approve. */
export const MAX_AUTHORITIES = 15;
/** The length delimiter of a length-15 SSZ bitlist: bit 15, i.e. 0x80 in the second byte. */
const DELIMITER = 0x80;
const ALL_AUTHORITIES_MASK = (1 << MAX_AUTHORITIES) - 1;

/** The "empty" aggregate signature: 96 zero bytes (genesis and blocks nobody signed yet). */
export const EMPTY_AGGREGATE_SIGNATURE: Hex = `0x${'00'.repeat(BLS_SIGNATURE_LENGTH)}`;
/** The empty approval carried by genesis: no bits (`0x0080`) and the zero signature. */
export const EMPTY_AGGREGATE_APPROVAL: Readonly<AggregateApproval> = Object.freeze({
  aggregationBits: '0x0080',
  aggregateSignature: EMPTY_AGGREGATE_SIGNATURE,
});

// ---------------------------------------------------------------- aggregation bits

/**
 * Parse the SSZ `BitList<15>` hex into a 15-bit mask (bit i = authority i).
 *
 * Alys always creates the list with length 15, so its SSZ form is exactly 2 bytes: bit i is
 * bit `i % 8` of byte `i / 8` (LSB first) and bit 15 is the length delimiter. Stricter than Alys:
 * a shorter list (e.g. `0x0501`, length 8), which ssz_types would also accept, is refused here;
 * honest nodes never produce one.
 */
export function parseAggregationBits(value: unknown, path = '$.aggregation_bits'): number {
  const bytes = parseHex(value, path, { prefix: 'required', length: 2 });
  if ((bytes[1]! & DELIMITER) === 0)
    throw new DecodeError(
      path,
      `not an SSZ BitList<15> of length 15: the length delimiter (bit 15, 0x80 in the second byte) is not set in ${String(value)}`,
    );
  return bytes[0]! | ((bytes[1]! & 0x7f) << 8);
}

/** Encode signer indices (or a 15-bit mask) as the 2-byte SSZ `BitList<15>` hex, e.g. [0, 1, 2] -> `0x0780`. */
export function encodeAggregationBits(signers: number | Iterable<number>): Hex {
  let mask: number;
  if (typeof signers === 'number') {
    if (!Number.isInteger(signers) || signers < 0 || signers > ALL_AUTHORITIES_MASK)
      throw new DecodeError('aggregationBits', `expected a 15-bit mask, got ${signers}`);
    mask = signers;
  } else {
    mask = 0;
    for (const index of signers) mask |= 1 << checkAuthorityIndex(index, 'aggregationBits');
  }
  const low = mask & 0xff;
  const high = (mask >> 8) | DELIMITER;
  return `0x${hexByte(low)}${hexByte(high)}`;
}

/** Indices of the set bits, ascending. */
export function signerIndices(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < MAX_AUTHORITIES; i++) if (mask & (1 << i)) out.push(i);
  return out;
}

/** Number of set bits (what Alys' `num_set_bits` counts). */
export function countSigners(mask: number): number {
  let count = 0;
  for (let m = mask; m !== 0; m &= m - 1) count++;
  return count;
}

/** Approvals needed with `n` authorities: `floor((2n + 2) / 3)` = ceil(2n/3); 1→1, 3→2, 4→3, 15→10. */
export function requiredApprovals(authorityCount: number): number {
  if (!Number.isSafeInteger(authorityCount) || authorityCount < 0)
    throw new ProtocolError(
      'approvals.authority-count',
      `the authority count must be a non-negative integer, got ${authorityCount}`,
    );
  return Math.floor((2 * authorityCount + 2) / 3);
}

// ---------------------------------------------------------------- authorities

/** The chain spec's authority keys, decoded and KeyValidate-d once for one backend. */
export interface PreparedAuthorities {
  readonly backend: BlsBackendName;
  /** `n`, the number of authorities in the chain spec (the threshold uses it). */
  readonly count: number;
  /** Prepared keys, index = authority index. */
  readonly keys: readonly PreparedPublicKey[];
}

/**
 * The authority set in force at each block height: what a verifier needs when the set can change
 * (`authority-schedule.ts`). Alys itself never changes it (spec 10.1: the running chain keeps the
 * spec's `authorities`); the schedule is this light client's extension for signed governance updates.
 */
export interface AuthoritiesByHeight {
  /** The prepared set in force at block `height` (a block number). */
  at(height: number): PreparedAuthorities;
  /** Every prepared set in force at some height >= `height`, the one at `height` first. */
  from(height: number): readonly PreparedAuthorities[];
}

/** One fixed set (the chain spec's) or a schedule of sets by height. */
export type AuthoritySource = PreparedAuthorities | AuthoritiesByHeight;

const isByHeight = (source: AuthoritySource): source is AuthoritiesByHeight =>
  typeof (source as Partial<AuthoritiesByHeight>).at === 'function';

/** The set that approves block `height`: a fixed set is in force at every height. */
export function authoritiesAt(source: AuthoritySource, height: number): PreparedAuthorities {
  return isByHeight(source) ? source.at(height) : source;
}

/**
 * The highest authority index usable (exclusive) at any height >= `height`: an approval of a block
 * whose height is not known yet (an early gossip approval) may come from any of these sets.
 */
export function authorityIndexBound(source: AuthoritySource, height: number): number {
  const sets = isByHeight(source) ? source.from(height) : [source];
  return Math.max(...sets.map((s) => Math.min(s.count, MAX_AUTHORITIES)));
}

/**
 * Decode and validate the authorities' BLS keys once. Like Alys (which rejects them when the
 * chain spec is parsed), an invalid or infinity key is an error. Stricter than Alys: an empty
 * list is refused (no block could ever be approved).
 */
export function prepareAuthorities(
  publicKeys: readonly (Hex | Uint8Array)[],
  backend: BlsBackend,
  path = '$.authorities',
): PreparedAuthorities {
  if (!Array.isArray(publicKeys))
    throw new DecodeError(path, `expected an array of BLS public keys, got ${describeJson(publicKeys)}`);
  if (publicKeys.length === 0)
    throw new DecodeError(path, 'the authority list is empty; a chain needs at least one authority');
  const keys = publicKeys.map((key, i) => {
    const at = `${path}[${i}]`;
    const bytes = key instanceof Uint8Array ? key : parseHex(key, at, { prefix: 'required', length: 48 });
    return backend.preparePublicKey(bytes, at);
  });
  return Object.freeze({ backend: backend.name, count: keys.length, keys: Object.freeze(keys) });
}

// ---------------------------------------------------------------- verification

export interface VerifyAggregateApprovalArgs {
  /** The block's signing root (32 bytes, or its 0x hex). */
  root: Uint8Array | Hex;
  approval: AggregateApproval;
  authorities: PreparedAuthorities;
  backend: BlsBackend;
  /** JSON path of `approval` in error messages. */
  path?: string;
  /**
   * Signers needed (default `requiredApprovals(n)`, the import threshold). A proposer gossips its
   * block carrying only its own signature (spec 3.3), checked with `minSigners: 1` before approvals
   * are added to it.
   */
  minSigners?: number;
}

/**
 * Verify a block's aggregate approval; returns the signer indices. Throws DecodeError for
 * malformed bits/signature, and VerificationError with one of these checks:
 * - `approvals.bits-beyond-authorities`: a bit at index ≥ min(n, 15) is set. Stricter than Alys,
 *   which ignores such bits for the signature but counts them toward the threshold (spec 3.3);
 *   honest nodes never set them, so this cannot reject an honest block.
 * - `approvals.threshold`: fewer than `requiredApprovals(n)` bits set.
 * - `approvals.empty-aggregate`: the signature is the all-zero "empty" aggregate.
 * - `approvals.signature`: fast_aggregate_verify over the signers' keys fails.
 */
export function verifyAggregateApproval(args: VerifyAggregateApprovalArgs): number[] {
  const { approval, authorities, backend, path = '$.signature' } = args;
  const root = parseRoot(args.root);
  assertSameBackend(authorities, backend);
  if (typeof approval !== 'object' || approval === null)
    throw new DecodeError(path, `expected an aggregate approval object, got ${describeJson(approval)}`);
  const mask = parseAggregationBits(approval.aggregationBits, `${path}.aggregation_bits`);
  const signature = parseHex(approval.aggregateSignature, `${path}.aggregate_signature`, {
    prefix: 'required',
    length: BLS_SIGNATURE_LENGTH,
  });

  const usable = Math.min(authorities.count, MAX_AUTHORITIES);
  const beyond = mask >> usable;
  if (beyond !== 0)
    throw new VerificationError(
      'approvals.bits-beyond-authorities',
      `aggregation bits ${approval.aggregationBits} mark authority index ${usable + Math.log2(beyond & -beyond)}, but the chain has only ${authorities.count} authorities`,
      {
        details:
          'this light client refuses bits at indices ≥ the authority count (Alys ignores them for the signature but counts them)',
      },
    );
  const signers = signerIndices(mask);
  const required = args.minSigners ?? requiredApprovals(authorities.count);
  if (signers.length < Math.max(1, required))
    throw new VerificationError(
      'approvals.threshold',
      `only ${signers.length} of ${authorities.count} authorities approved (bits ${approval.aggregationBits}); ${required} are required`,
    );
  if (isAllZero(signature))
    throw new VerificationError(
      'approvals.empty-aggregate',
      'the aggregate signature is the empty (all-zero) aggregate',
    );
  const keys = signers.map((i) => authorities.keys[i]!);
  if (!backend.fastAggregateVerifyPrepared(keys, root, signature))
    throw new VerificationError(
      'approvals.signature',
      `the aggregate signature of authorities [${signers.join(', ')}] does not verify over root ${toHex(root)}`,
      { details: `BLS fast_aggregate_verify failed (backend ${backend.name})` },
    );
  return signers;
}

export interface VerifyIndividualApprovalArgs {
  root: Uint8Array | Hex;
  approval: IndividualApproval;
  authorities: PreparedAuthorities;
  backend: BlsBackend;
  path?: string;
}

/**
 * Verify one authority's approval (an `ApproveBlock` gossip body's `signature`). Throws
 * DecodeError for a malformed index/signature, VerificationError `approvals.authority-index`
 * for an index with no authority (or ≥ 15, which cannot enter the bitlist) and
 * `approvals.signature` when the signature does not verify.
 */
export function verifyIndividualApproval(args: VerifyIndividualApprovalArgs): void {
  const { approval, authorities, backend, path = '$.signature' } = args;
  const root = parseRoot(args.root);
  assertSameBackend(authorities, backend);
  if (typeof approval !== 'object' || approval === null)
    throw new DecodeError(path, `expected an individual approval object, got ${describeJson(approval)}`);
  const index = parseU8(approval.authorityIndex, `${path}.authority_index`);
  const signature = parseHex(approval.signature, `${path}.signature`, {
    prefix: 'required',
    length: BLS_SIGNATURE_LENGTH,
  });
  const usable = Math.min(authorities.count, MAX_AUTHORITIES);
  if (index >= usable)
    throw new VerificationError(
      'approvals.authority-index',
      `authority index ${index} has no authority (the chain has ${authorities.count}; at most ${MAX_AUTHORITIES} can approve)`,
    );
  if (!backend.fastAggregateVerifyPrepared([authorities.keys[index]!], root, signature))
    throw new VerificationError(
      'approvals.signature',
      `the approval of authority ${index} does not verify over root ${toHex(root)}`,
      { details: `BLS verify failed (backend ${backend.name})` },
    );
}

// ---------------------------------------------------------------- signing and aggregation

/** Sign a block root as authority `authorityIndex` with `backend` (approvals-sign.ts: noble by default). */
export function signApprovalWith(
  secretKey: Uint8Array,
  root: Uint8Array | Hex,
  authorityIndex: number,
  backend: BlsBackend,
): IndividualApproval {
  const index = checkAuthorityIndex(authorityIndex, 'authorityIndex');
  return { signature: toHex(backend.sign(secretKey, parseRoot(root))), authorityIndex: index };
}

export interface AggregateApprovalsOptions {
  backend?: BlsBackend;
  /** An aggregate to add to (e.g. the proposer's one-bit aggregate carried by a gossiped block). */
  base?: AggregateApproval;
}

/**
 * Aggregate individual approvals (deduplicated by authority index: the first one wins, and an
 * index already set in `base` is skipped, as Alys does when it adds approvals to a candidate).
 * Does not verify the signatures: verify each with {@link verifyIndividualApproval} first.
 * Throws DecodeError for an index outside 0..14 or a signature that is not a valid G2 point.
 * With nothing to aggregate it returns `base` or {@link EMPTY_AGGREGATE_APPROVAL}.
 * `aggregateApprovals` (approvals-sign.ts) is the same with noble as the default backend.
 */
export function aggregateApprovalsWith(
  approvals: readonly IndividualApproval[],
  options: AggregateApprovalsOptions & { backend: BlsBackend },
): AggregateApproval {
  const backend = options.backend;
  if (!Array.isArray(approvals))
    throw new DecodeError('approvals', `expected an array of approvals, got ${describeJson(approvals)}`);
  let mask = 0;
  const signatures: Uint8Array[] = [];
  if (options.base) {
    mask = parseAggregationBits(options.base.aggregationBits, 'base.aggregation_bits');
    const baseSignature = parseHex(options.base.aggregateSignature, 'base.aggregate_signature', {
      prefix: 'required',
      length: BLS_SIGNATURE_LENGTH,
    });
    if (!isAllZero(baseSignature)) signatures.push(baseSignature);
    else if (mask !== 0)
      throw new DecodeError(
        'base.aggregate_signature',
        'the base aggregate has signer bits but the empty (all-zero) signature',
      );
  }
  approvals.forEach((approval, i) => {
    const index = checkAuthorityIndex(approval?.authorityIndex, `approvals[${i}].authority_index`);
    if (mask & (1 << index)) return;
    mask |= 1 << index;
    signatures.push(
      parseHex(approval.signature, `approvals[${i}].signature`, { prefix: 'required', length: BLS_SIGNATURE_LENGTH }),
    );
  });
  if (signatures.length === 0) return options.base ? { ...options.base } : { ...EMPTY_AGGREGATE_APPROVAL };
  return {
    aggregationBits: encodeAggregationBits(mask),
    aggregateSignature: toHex(backend.aggregateSignatures(signatures)),
  };
}

// ---------------------------------------------------------------- helpers

function parseRoot(root: Uint8Array | Hex): Uint8Array {
  if (root instanceof Uint8Array) {
    if (root.length !== 32) throw new DecodeError('root', `expected a 32-byte signing root, got ${root.length} bytes`);
    return root;
  }
  return parseHex(root, 'root', { prefix: 'required', length: 32 });
}

function parseU8(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 255)
    throw new DecodeError(path, `expected a u8 authority index, got ${describeJson(value)}`);
  return value;
}

function checkAuthorityIndex(value: unknown, path: string): number {
  const index = parseU8(value, path);
  if (index >= MAX_AUTHORITIES)
    throw new DecodeError(path, `authority index ${index} does not fit the ${MAX_AUTHORITIES}-bit aggregation bitlist`);
  return index;
}

function assertSameBackend(authorities: PreparedAuthorities, backend: BlsBackend): void {
  if (authorities.backend !== backend.name)
    throw new ProtocolError(
      'bls.prepared-key-backend',
      `the authorities were prepared with backend "${authorities.backend}" but backend "${backend.name}" was given`,
      { details: 'call prepareAuthorities(keys, backend) with the backend that verifies' },
    );
}

function isAllZero(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

function hexByte(value: number): string {
  return value.toString(16).padStart(2, '0');
}
