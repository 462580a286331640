/**
 * Signed federation updates: the message a governance `FederationUpdate` must carry a signature over
 * before a light node applies it (docs/federation-updates.md has the same layout in prose).
 *
 * Alys itself checks nothing per message (spec 10.1: `update_signature` is never read, the proto does not
 * say who signs, and the running chain never changes its authorities). This convention is ours, not
 * Alys': an update is applied only when at least `requiredApprovals(n)` = ceil(2n/3) of the n authorities
 * *currently in force* signed it, with the same BLS scheme as block approvals (POP DST, fast aggregate
 * verify over one 32-byte message, spec 3.1).
 *
 * Member convention (ours): `public_key` is the member's 48-byte BLS authority key, `member_id` its
 * federation EVM address (0x + 40 hex), and its Bitcoin key (33-byte compressed, hex without 0x) is
 * `config.parameters["bitcoin_pubkey:<member_id>"]`. The members, in order, are the whole new set
 * (index = authority index from the effective height on); every member is active with weight 1
 * (Alys approvals are one key, one bit).
 *
 * Digest (all integers big-endian; `str(x)` = u32 byte length || UTF-8 bytes; `bytes(x)` = u32 length || x):
 *
 *   sha256(
 *     str("alys-light/federation-update/v1")
 *     u64 chain_id
 *     u32 update_type                          the governance.v1 enum value
 *     u64 effective_height
 *     u32 member count
 *     per member, in order: str(member_id) bytes(public_key) u32 weight u8 active(0|1)
 *     u8 has_config (0|1)
 *     if has_config: u32 signature_threshold u32 member_count u32 parameter count
 *                    then per parameter, sorted by the UTF-8 bytes of the key: str(key) str(value)
 *   )
 *
 * `update_signature` (98 bytes) = the 2-byte SSZ BitList<15> of the signers' indices in the CURRENT
 * authority order (as a block's aggregation bits) || the 96-byte BLS aggregate signature of the digest.
 *
 * This module is pure: it takes a plain {@link FederationUpdateInput} (src/node/governance converts the
 * generated protobuf message into it) and imports nothing of ours but the protocol library.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  MAX_AUTHORITIES,
  countSigners,
  encodeAggregationBits,
  parseAggregationBits,
  prepareAuthorities,
  requiredApprovals,
  signerIndices,
  type PreparedAuthorities,
} from './approvals.js';
import { isCompressedSecp256k1Point } from './bitcoin/secp256k1-point.js';
import { BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH, type BlsBackend } from './bls/backend.js';
import { U64_MAX, bytesToHex, fromHex, toHex, type Hex } from './bytes.js';
import { VerificationError } from './errors.js';

/** The ASCII domain tag that starts every digest. */
export const FEDERATION_UPDATE_DOMAIN = 'alys-light/federation-update/v1';
/** `update_signature` length: 2 bytes of signer bits + a 96-byte aggregate. */
export const FEDERATION_UPDATE_SIGNATURE_LENGTH = 2 + BLS_SIGNATURE_LENGTH;
/** The parameter key prefix of a member's Bitcoin key: `bitcoin_pubkey:<member_id>`. */
export const BITCOIN_PUBKEY_PARAMETER = 'bitcoin_pubkey:';
/** Bounds on what an update may carry (a hostile server must not make us hash megabytes). */
export const MAX_UPDATE_PARAMETERS = 64;
export const MAX_UPDATE_STRING_BYTES = 256;

/** governance.v1 `FederationUpdateType` values (0 is UNSPECIFIED). */
export const FederationUpdateType = {
  memberAdd: 1,
  memberRemove: 2,
  configChange: 3,
  emergencyHalt: 4,
} as const;
const APPLICABLE_TYPES: ReadonlySet<number> = new Set([1, 2, 3]);

export interface FederationMemberInput {
  memberId: string;
  publicKey: Uint8Array;
  weight: number;
  active: boolean;
}

export interface FederationConfigInput {
  signatureThreshold: number;
  memberCount: number;
  parameters: Readonly<Record<string, string>>;
}

/** A governance `FederationUpdate` as plain data (the generated protobuf message converts to it as is). */
export interface FederationUpdateInput {
  updateType: number;
  members: readonly FederationMemberInput[];
  effectiveHeight: number | bigint;
  /** Ignored by {@link federationUpdateDigest}. */
  updateSignature?: Uint8Array;
  config?: FederationConfigInput | undefined;
}

/** What a verified update establishes from its effective height on. */
export interface VerifiedFederationUpdate {
  effectiveHeight: number;
  updateType: number;
  /** 48-byte BLS keys, 0x hex, index = authority index. */
  authorities: Hex[];
  /** Federation EVM addresses, lowercase, same order. */
  federation: Hex[];
  /** Compressed Bitcoin keys (hex without 0x), same order; absent when the update carries none. */
  federationBitcoinPubkeys?: string[];
  /** `config.signature_threshold` when the update has a config. */
  threshold?: number;
  /** The signed digest: names this update (e.g. as the source of an authority set). */
  digest: Hex;
  /** Indices, in the set that signed (the one in force before), of the signers. */
  signers: number[];
}

export interface VerifyFederationUpdateContext {
  /** The authority set in force now (the one that must sign), as keys or prepared once for `backend`. */
  current: readonly (Hex | Uint8Array)[] | PreparedAuthorities;
  chainId: number;
  /** Effective height of the last applied update (0 when only the chain spec's set was ever in force). */
  lastEffectiveHeight: number;
  /** Height of the verified head: an update must take effect above it. */
  headHeight: number;
  backend: BlsBackend;
}

// ---------------------------------------------------------------- digest

class Writer {
  private readonly parts: Uint8Array[] = [];
  private static readonly utf8 = new TextEncoder();

  u8(value: number): void {
    this.parts.push(Uint8Array.of(value));
  }
  u32(value: number): void {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    this.parts.push(out);
  }
  u64(value: bigint): void {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, value);
    this.parts.push(out);
  }
  bytes(value: Uint8Array): void {
    this.u32(value.length);
    this.parts.push(value);
  }
  str(value: string): void {
    this.bytes(Writer.utf8.encode(value));
  }
  digest(): Uint8Array {
    const hash = sha256.create();
    for (const part of this.parts) hash.update(part);
    return hash.digest();
  }
}

const U32_MAX = 0xffff_ffff;

function fail(check: string, problem: string): never {
  throw new VerificationError(`federation-update.${check}`, problem);
}

function u32(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U32_MAX)
    fail('malformed', `${what} must be a u32, got ${String(value)}`);
  return value;
}

function u64(value: unknown, what: string): bigint {
  const big =
    typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : -1n;
  if (big < 0n || big > U64_MAX) fail('malformed', `${what} must be a u64, got ${String(value)}`);
  return big;
}

const utf8 = new TextEncoder();

/** Compare two strings by their UTF-8 bytes (the digest's parameter order). */
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function writeConfig(w: Writer, config: FederationConfigInput | undefined): void {
  w.u8(config === undefined ? 0 : 1);
  if (config === undefined) return;
  w.u32(u32(config.signatureThreshold, 'config.signature_threshold'));
  w.u32(u32(config.memberCount, 'config.member_count'));
  const keys = Object.keys(config.parameters).sort(compareUtf8);
  w.u32(keys.length);
  for (const key of keys) {
    w.str(key);
    w.str(String(config.parameters[key]));
  }
}

/** The 32-byte digest the current authorities sign (layout in the module comment). */
export function federationUpdateDigest(update: FederationUpdateInput, chainId: number): Uint8Array {
  const w = new Writer();
  w.str(FEDERATION_UPDATE_DOMAIN);
  w.u64(u64(chainId, 'chain id'));
  w.u32(u32(update.updateType, 'update_type'));
  w.u64(u64(update.effectiveHeight, 'effective_height'));
  w.u32(update.members.length);
  update.members.forEach((m, i) => {
    w.str(m.memberId);
    w.bytes(m.publicKey);
    w.u32(u32(m.weight, `members[${i}].weight`));
    w.u8(m.active ? 1 : 0);
  });
  writeConfig(w, update.config);
  return w.digest();
}

// ---------------------------------------------------------------- signing (devnet, tests)

export interface FederationUpdateSigner {
  /** Index in the authority set in force (the one that signs). */
  index: number;
  secretKey: Uint8Array;
}

/** The 98-byte `update_signature` of `signers` (indices in the current set) over the update's digest. */
export function signFederationUpdate(
  update: FederationUpdateInput,
  chainId: number,
  signers: readonly FederationUpdateSigner[],
  backend: BlsBackend,
): Uint8Array {
  const digest = federationUpdateDigest(update, chainId);
  const bits = encodeAggregationBits(signers.map((s) => s.index));
  const aggregate = backend.aggregateSignatures(signers.map((s) => backend.sign(s.secretKey, digest)));
  const out = new Uint8Array(FEDERATION_UPDATE_SIGNATURE_LENGTH);
  out.set(fromHex(bits), 0);
  out.set(aggregate, 2);
  return out;
}

// ---------------------------------------------------------------- verification

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function checkType(updateType: number): void {
  if (!APPLICABLE_TYPES.has(updateType))
    fail(
      'type',
      `update type ${updateType} carries no federation to apply (MEMBER_ADD, MEMBER_REMOVE and CONFIG_CHANGE do)`,
    );
}

function checkMembers(update: FederationUpdateInput, backend: BlsBackend): { keys: Hex[]; ids: Hex[] } {
  const members = update.members;
  if (!Array.isArray(members) || members.length === 0) fail('members', 'the update has no members');
  if (members.length > MAX_AUTHORITIES)
    fail('members', `${members.length} members; at most ${MAX_AUTHORITIES} authorities fit the approval bitlist`);
  const keys = new Set<string>();
  const ids = new Set<string>();
  members.forEach((m, i) => {
    if (typeof m.memberId !== 'string' || !EVM_ADDRESS.test(m.memberId))
      fail(
        'members',
        `members[${i}].member_id is not an EVM address (0x + 40 hex): ${String(m.memberId).slice(0, 64)}`,
      );
    if (m.active !== true || m.weight !== 1)
      fail('members', `members[${i}] must be active with weight 1 (got active=${m.active}, weight=${m.weight})`);
    if (!(m.publicKey instanceof Uint8Array) || m.publicKey.length !== BLS_PUBLIC_KEY_LENGTH)
      fail('member-key', `members[${i}].public_key is not a 48-byte BLS key`);
    if (!backend.keyValidate(m.publicKey))
      fail('member-key', `members[${i}].public_key fails KeyValidate (not a G1 subgroup point, or infinity)`);
    const key = bytesToHex(m.publicKey);
    const id = m.memberId.toLowerCase();
    if (keys.has(key)) fail('members', `members[${i}] repeats the BLS key of an earlier member`);
    if (ids.has(id)) fail('members', `members[${i}] repeats the member id ${id}`);
    keys.add(key);
    ids.add(id);
  });
  return { keys: members.map((m) => toHex(m.publicKey)), ids: members.map((m) => m.memberId.toLowerCase() as Hex) };
}

function checkConfigBounds(config: FederationConfigInput, n: number): void {
  const keys = Object.keys(config.parameters ?? {});
  if (keys.length > MAX_UPDATE_PARAMETERS)
    fail('config', `${keys.length} parameters; at most ${MAX_UPDATE_PARAMETERS}`);
  for (const key of keys) {
    const value = config.parameters[key];
    if (typeof value !== 'string') fail('config', `parameter ${key.slice(0, 64)} is not a string`);
    if (utf8.encode(key).length > MAX_UPDATE_STRING_BYTES || utf8.encode(value).length > MAX_UPDATE_STRING_BYTES)
      fail('config', `parameter ${key.slice(0, 64)} is longer than ${MAX_UPDATE_STRING_BYTES} bytes`);
  }
  if (config.memberCount !== n)
    fail('config', `config.member_count is ${config.memberCount} but ${n} members are listed`);
  const t = config.signatureThreshold;
  if (!Number.isInteger(t) || t < requiredApprovals(n) || t > n)
    fail('config', `config.signature_threshold ${t} is outside ${requiredApprovals(n)}..${n} for ${n} members`);
}

/** The members' Bitcoin keys from the parameters: all members or none, each a valid compressed point. */
function bitcoinKeys(update: FederationUpdateInput): string[] | undefined {
  const parameters = update.config?.parameters ?? {};
  const present = Object.keys(parameters).filter((k) => k.startsWith(BITCOIN_PUBKEY_PARAMETER));
  if (present.length === 0) return undefined;
  if (present.length !== update.members.length)
    fail('bitcoin-key', `${present.length} bitcoin_pubkey parameters for ${update.members.length} members`);
  return update.members.map((m, i) => {
    const value = parameters[`${BITCOIN_PUBKEY_PARAMETER}${m.memberId}`];
    if (value === undefined) fail('bitcoin-key', `members[${i}] (${m.memberId}) has no bitcoin_pubkey parameter`);
    if (!/^[0-9a-fA-F]{66}$/.test(value) || !isCompressedSecp256k1Point(fromHex(value)))
      fail('bitcoin-key', `members[${i}]'s Bitcoin key is not a compressed secp256k1 point: ${value.slice(0, 80)}`);
    return value.toLowerCase();
  });
}

function checkHeight(update: FederationUpdateInput, ctx: VerifyFederationUpdateContext): number {
  const h = update.effectiveHeight;
  const height = typeof h === 'bigint' && h <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(h) : h;
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0)
    fail('height', `effective height ${String(h)} is not a block height`);
  if (height <= ctx.lastEffectiveHeight)
    fail(
      'replayed',
      `effective height ${height} is not after the last applied update's (${ctx.lastEffectiveHeight}): a replay or a stale update`,
    );
  if (height <= ctx.headHeight)
    fail(
      'height',
      `effective height ${height} is at or below the verified head (${ctx.headHeight}): too late to apply`,
    );
  return height;
}

function currentSet(ctx: VerifyFederationUpdateContext): PreparedAuthorities {
  const c = ctx.current;
  return Array.isArray(c)
    ? prepareAuthorities(c as readonly (Hex | Uint8Array)[], ctx.backend, 'current')
    : (c as PreparedAuthorities);
}

/** Check `update_signature` against the current set; returns the signer indices. */
function checkSignature(
  update: FederationUpdateInput,
  digest: Uint8Array,
  ctx: VerifyFederationUpdateContext,
): number[] {
  const sig = update.updateSignature;
  if (!(sig instanceof Uint8Array) || sig.length !== FEDERATION_UPDATE_SIGNATURE_LENGTH)
    fail(
      'signature-encoding',
      `update_signature must be ${FEDERATION_UPDATE_SIGNATURE_LENGTH} bytes (2 of signer bits + 96)`,
    );
  const current = currentSet(ctx);
  let mask: number;
  try {
    mask = parseAggregationBits(toHex(sig.subarray(0, 2)), 'update_signature[0..2]');
  } catch {
    fail('signature-encoding', 'the signer bits are not an SSZ BitList<15> of length 15');
  }
  if (mask >> Math.min(current.count, MAX_AUTHORITIES) !== 0)
    fail('signature-encoding', `the signer bits name an index beyond the ${current.count} current authorities`);
  const required = requiredApprovals(current.count);
  if (countSigners(mask) < required)
    fail(
      'under-threshold',
      `${countSigners(mask)} of ${current.count} current authorities signed; ${required} are required`,
    );
  const signers = signerIndices(mask);
  const keys = signers.map((i) => current.keys[i]!);
  if (!ctx.backend.fastAggregateVerifyPrepared(keys, digest, sig.subarray(2)))
    fail(
      'signature',
      `the aggregate signature of current authorities [${signers.join(', ')}] does not verify over ${toHex(digest)}`,
    );
  return signers;
}

/**
 * Verify a federation update against the set in force. Returns the new set, or throws
 * {@link VerificationError} with one of these checks (all `federation-update.*`):
 * `type` (not MEMBER_ADD/MEMBER_REMOVE/CONFIG_CHANGE), `members` (empty, over 15, duplicate, bad id,
 * inactive or weight ≠ 1), `member-key` (not a valid 48-byte BLS key), `config` (member_count ≠ members,
 * threshold outside ceil(2n/3)..n, oversized parameters), `bitcoin-key`, `replayed` (effective height ≤ the
 * last applied one), `height` (at or below the verified head), `signature-encoding`, `under-threshold`
 * (fewer than ceil(2n/3) of the current n), `signature` (the aggregate does not verify: forged).
 */
export function verifyFederationUpdate(
  update: FederationUpdateInput,
  ctx: VerifyFederationUpdateContext,
): VerifiedFederationUpdate {
  u32(update.updateType, 'update_type');
  checkType(update.updateType);
  const { keys, ids } = checkMembers(update, ctx.backend);
  if (update.config !== undefined) checkConfigBounds(update.config, keys.length);
  const btc = bitcoinKeys(update);
  const effectiveHeight = checkHeight(update, ctx);
  const digest = federationUpdateDigest(update, ctx.chainId);
  const signers = checkSignature(update, digest, ctx);
  return {
    effectiveHeight,
    updateType: update.updateType,
    authorities: keys,
    federation: ids,
    ...(btc ? { federationBitcoinPubkeys: btc } : {}),
    ...(update.config ? { threshold: update.config.signatureThreshold } : {}),
    digest: toHex(digest),
    signers,
  };
}
