/**
 * The federation's Bitcoin deposit address (alys-protocol.md section 6.1, [V]).
 *
 * Alys (`crates/federation/src/bitcoin_signing.rs`, `Federation::new`) locks federation funds in a
 * P2TR output whose only spending path is one tapscript leaf:
 *
 *   <x(pk_0)> OP_CHECKSIG <x(pk_1)> OP_CHECKSIGADD ... <x(pk_{n-1})> OP_CHECKSIGADD <threshold> OP_GREATERTHANOREQUAL
 *
 * with `threshold = floor((2n + 2) / 3)`, leaf version 0xc0, and the BIP-341 "NUMS" point as the
 * internal key (no extra randomisation, so key-path spending is impossible). The merkle root is the
 * TapLeaf hash of that single leaf, the output key is TapTweak(internal, root), and the witness of a
 * script-path spend ends with the script and the 33-byte control block `(0xc0 | parity) || internal`.
 *
 * Everything here is computed with @noble/curves (secp256k1 points, BIP-340 tagged hashes) and
 * @scure/base (bech32m); the tests cross-check against @scure/btc-signer and the spec 6.1 table.
 * Confidence: the DEV address equals the one in Alys's README; the 3-key testnet address comes
 * from the same code path but was never compared with a live `getdepositaddress` (spec
 * Uncertainties #9).
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bech32m } from '@scure/base';
import { bytesToHex, equalBytes, concatBytes, parseHex } from '../bytes.js';
import { DecodeError } from '../errors.js';
import type { ChainSpec } from '../types.js';

/** BIP-341 NUMS x-only key `lift_x(0x50929b74…803ac0)`: nobody knows its discrete log. */
export const NUMS_INTERNAL_KEY: Uint8Array = /* @__PURE__ */ parseHex(
  '50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0',
  'NUMS_INTERNAL_KEY',
  { prefix: 'forbidden', length: 32 },
);

/** Tapscript leaf version (BIP-342). */
export const TAPSCRIPT_LEAF_VERSION = 0xc0;

const OP_0 = 0x00;
const OP_PUSHBYTES_32 = 0x20;
const OP_1 = 0x51;
const OP_1NEGATE = 0x4f;
const OP_CHECKSIG = 0xac;
const OP_CHECKSIGADD = 0xba;
const OP_GREATERTHANOREQUAL = 0xa2;

/** Bitcoin networks an address can be rendered for. Signet shares testnet's `tb` prefix. */
export type BitcoinNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';

/** Segwit human-readable parts, as rust-bitcoin 0.30 uses them. */
export const BECH32_HRP: Readonly<Record<BitcoinNetwork, string>> = Object.freeze({
  mainnet: 'bc',
  testnet: 'tb',
  signet: 'tb',
  regtest: 'bcrt',
});

/** Everything about one federation's taproot output, precomputed once per chain spec. */
export interface Federation {
  /** 33-byte compressed secp256k1 keys, in chain-spec order. */
  readonly pubkeys: readonly Uint8Array[];
  /** 32-byte x-only keys (the pushes in the tapscript), same order. */
  readonly xOnlyPubkeys: readonly Uint8Array[];
  /** Number of signatures a spend needs. */
  readonly threshold: number;
  /** The tapscript (Alys's `redeem_script`). */
  readonly script: Uint8Array;
  /** TapLeaf hash of the script = the taproot merkle root (single leaf). */
  readonly leafHash: Uint8Array;
  /** 32-byte x-only internal key (the NUMS point). */
  readonly internalKey: Uint8Array;
  /** 32-byte x-only tweaked output key Q. */
  readonly outputKey: Uint8Array;
  /** Parity of Q's y coordinate (0 even, 1 odd). */
  readonly outputKeyParity: 0 | 1;
  /** `(0xc0 | parity) || internalKey`, the last witness element of a script-path spend. */
  readonly controlBlock: Uint8Array;
  /** `OP_1 OP_PUSHBYTES_32 <Q>`: the scriptPubKey of the deposit address. */
  readonly scriptPubkey: Uint8Array;
}

/** Alys's signature threshold for n federation keys: floor((2n + 2) / 3). */
export function federationThreshold(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`federation size must be a non-negative integer, got ${n}`);
  return Math.floor((2 * n + 2) / 3);
}

/**
 * Parse a 33-byte compressed secp256k1 public key (Uint8Array or hex without 0x) and check that
 * it is a point on the curve. Alys also accepts 65-byte uncompressed keys in chain specs; we do not.
 */
export function parseCompressedPubkey(value: Uint8Array | string, path: string): Uint8Array {
  const bytes = typeof value === 'string' ? parseHex(value, path, { prefix: 'forbidden', length: 33 }) : value;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 33)
    throw new DecodeError(path, `expected a 33-byte compressed secp256k1 public key, got ${describeLength(bytes)}`);
  if (bytes[0] !== 0x02 && bytes[0] !== 0x03)
    throw new DecodeError(
      path,
      `compressed public key must start with 02 or 03, got ${bytes[0]!.toString(16).padStart(2, '0')}`,
    );
  try {
    secp256k1.Point.fromBytes(bytes).assertValidity();
  } catch (cause) {
    throw new DecodeError(path, 'not a valid secp256k1 point (x is not on the curve)', { cause });
  }
  return bytes;
}

/**
 * rust-bitcoin `Builder::push_int` (0.30): OP_1NEGATE / OP_1..OP_16 for -1 and 1..16, OP_0 for 0,
 * otherwise a minimal little-endian sign-magnitude script number push.
 */
export function scriptPushInt(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new RangeError(`push_int needs a safe integer, got ${value}`);
  if (value === -1) return Uint8Array.of(OP_1NEGATE);
  if (value >= 1 && value <= 16) return Uint8Array.of(OP_1 + value - 1);
  if (value === 0) return Uint8Array.of(OP_0);
  const bytes: number[] = [];
  let abs = Math.abs(value);
  while (abs > 0) {
    bytes.push(abs & 0xff);
    abs = Math.floor(abs / 256);
  }
  // If the top bit is set, add a byte for the sign; otherwise fold the sign into the top byte.
  if (bytes[bytes.length - 1]! & 0x80) bytes.push(value < 0 ? 0x80 : 0x00);
  else if (value < 0) bytes[bytes.length - 1]! |= 0x80;
  return Uint8Array.of(bytes.length, ...bytes);
}

/** The federation tapscript for the given x-only keys and threshold (Alys `redeem_script`). */
export function federationTapscript(xOnlyPubkeys: readonly Uint8Array[], threshold: number): Uint8Array {
  const parts: Uint8Array[] = [];
  xOnlyPubkeys.forEach((key, i) => {
    if (key.length !== 32) throw new DecodeError(`xOnlyPubkeys[${i}]`, `expected 32 bytes, got ${key.length}`);
    parts.push(Uint8Array.of(OP_PUSHBYTES_32), key, Uint8Array.of(i === 0 ? OP_CHECKSIG : OP_CHECKSIGADD));
  });
  parts.push(scriptPushInt(threshold), Uint8Array.of(OP_GREATERTHANOREQUAL));
  return concatBytes(...parts);
}

/** BIP-341 TapLeaf hash: tagged("TapLeaf", leafVersion || compactSize(len) || script). */
export function tapLeafHash(script: Uint8Array, leafVersion = TAPSCRIPT_LEAF_VERSION): Uint8Array {
  return schnorr.utils.taggedHash('TapLeaf', Uint8Array.of(leafVersion), compactSizeBytes(script.length), script);
}

/** BIP-341 key tweak: Q = P + int(tagged("TapTweak", P || root))·G. Returns x(Q) and its y parity. */
export function taprootTweak(
  internalKey: Uint8Array,
  merkleRoot: Uint8Array,
): { outputKey: Uint8Array; parity: 0 | 1 } {
  if (internalKey.length !== 32) throw new DecodeError('internalKey', `expected 32 bytes, got ${internalKey.length}`);
  const { Point } = secp256k1;
  const P = schnorr.utils.lift_x(bytesToNumber(internalKey));
  const t = bytesToNumber(schnorr.utils.taggedHash('TapTweak', internalKey, merkleRoot));
  if (t >= Point.Fn.ORDER) throw new DecodeError('merkleRoot', 'taproot tweak is not below the curve order');
  const Q = P.add(Point.BASE.multiply(t));
  if (Q.is0()) throw new DecodeError('merkleRoot', 'tweaked key is the point at infinity');
  const compressed = Q.toBytes(true);
  return { outputKey: compressed.slice(1), parity: compressed[0] === 0x03 ? 1 : 0 };
}

/**
 * Build the federation from its compressed public keys (chain-spec `federationBitcoinPubkeys`,
 * in spec order). `threshold` defaults to Alys's floor((2n + 2) / 3).
 */
export function createFederation(pubkeys: readonly (Uint8Array | string)[], threshold?: number): Federation {
  if (pubkeys.length === 0)
    throw new DecodeError('federationBitcoinPubkeys', 'the federation needs at least one public key');
  const parsed = pubkeys.map((key, i) => parseCompressedPubkey(key, `federationBitcoinPubkeys[${i}]`).slice());
  const t = threshold ?? federationThreshold(parsed.length);
  if (!Number.isSafeInteger(t) || t < 1 || t > parsed.length)
    throw new DecodeError('threshold', `threshold must be between 1 and ${parsed.length}, got ${t}`);
  const xOnlyPubkeys = parsed.map((key) => key.slice(1));
  const script = federationTapscript(xOnlyPubkeys, t);
  const leafHash = tapLeafHash(script);
  const internalKey = NUMS_INTERNAL_KEY.slice();
  const { outputKey, parity } = taprootTweak(internalKey, leafHash);
  return Object.freeze({
    pubkeys: Object.freeze(parsed),
    xOnlyPubkeys: Object.freeze(xOnlyPubkeys),
    threshold: t,
    script,
    leafHash,
    internalKey,
    outputKey,
    outputKeyParity: parity,
    controlBlock: concatBytes(Uint8Array.of(TAPSCRIPT_LEAF_VERSION | parity), internalKey),
    scriptPubkey: p2trScriptPubkey(outputKey),
  });
}

/** The federation of a chain spec (`federationBitcoinPubkeys`, Alys's threshold). */
export function createFederationFromSpec(spec: Pick<ChainSpec, 'federationBitcoinPubkeys'>): Federation {
  return createFederation(spec.federationBitcoinPubkeys);
}

/** `OP_1 OP_PUSHBYTES_32 <outputKey>`. */
export function p2trScriptPubkey(outputKey: Uint8Array): Uint8Array {
  if (outputKey.length !== 32) throw new DecodeError('outputKey', `expected 32 bytes, got ${outputKey.length}`);
  return concatBytes(Uint8Array.of(OP_1, OP_PUSHBYTES_32), outputKey);
}

/** The bech32m P2TR address of a 32-byte output key on `network`. */
export function p2trAddress(outputKey: Uint8Array, network: BitcoinNetwork): string {
  if (outputKey.length !== 32) throw new DecodeError('outputKey', `expected 32 bytes, got ${outputKey.length}`);
  const hrp = BECH32_HRP[network];
  if (hrp === undefined) throw new DecodeError('network', `unknown Bitcoin network ${JSON.stringify(network)}`);
  return bech32m.encode(hrp, [1, ...bech32m.toWords(outputKey)]);
}

/** The federation's deposit address (what `getdepositaddress` / the Alys README print). */
export function federationAddress(federation: Federation, network: BitcoinNetwork): string {
  return p2trAddress(federation.outputKey, network);
}

/** True if `script` pays the federation (byte equality with its P2TR scriptPubKey, as rust-bitcoin's `matches_script_pubkey`). */
export function paysFederation(script: Uint8Array, federation: Federation): boolean {
  return equalBytes(script, federation.scriptPubkey);
}

/** Hex of the 33-byte keys, lowercase (the chain-spec form). */
export function federationPubkeysHex(federation: Federation): string[] {
  return federation.pubkeys.map((k) => bytesToHex(k));
}

// ---------------------------------------------------------------- helpers

export function compactSizeBytes(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >>> 8);
  if (n <= 0xffffffff) return Uint8Array.of(0xfe, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
  throw new RangeError(`compact size ${n} too large`);
}

function bytesToNumber(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

function describeLength(value: unknown): string {
  return value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
}
