/**
 * Alys chain specs (alys-protocol.md sections 1.9 and 9; `app/src/spec.rs`,
 * `app/src/auxpow_miner.rs` `BitcoinConsensusParams`, `etc/config/*.json`).
 *
 * Alys reads a ChainSpec only from JSON, with camelCase keys and `#[serde(default)]`: a missing
 * top-level key takes the value of the built-in DEV spec (section 9.1); inside `retargetParams`
 * a missing key takes zero/false (BitcoinConsensusParams's own default). `parseChainSpec`
 * reproduces that and validates every value, naming the bad field as a JSON path, with one
 * exception: a missing `authorities` is an error (stricter: Alys would trust the DEV authority, whose
 * secret key is 1, so a misspelt `authoritys` would let anyone sign blocks):
 *
 * | key | Alys type | accepted here |
 * | --- | --- | --- |
 * | slotDuration | u64 ms | safe integer ≥ 1 (stricter: 0 would divide by zero in Aura) |
 * | authorities | Vec<bls::PublicKey> | required (stricter: no DEV default); 1..15 strings `0x` + 96 hex digits, a valid G1 point that is not infinity (stricter: Alys accepts 0 or > 15 keys but cannot use them) |
 * | federation | Vec<H160> | ≥ 1 strings of 40 hex digits, optional lowercase `0x`, no EIP-55 checksum check (as Alys) (stricter: Alys also takes a byte array, and an empty list makes its fee split divide by zero) |
 * | federationBitcoinPubkeys | Vec<secp256k1::PublicKey> | ≥ 1 strings of 66 hex digits, no `0x`, a compressed point on the curve (stricter: Alys also takes 65-byte uncompressed/hybrid keys, and an empty list) |
 * | bits, chainId, bitcoinStartHeight | u32 | 0..2^32−1 |
 * | maxBlocksWithoutPow | u64 | safe integer (stricter: values above 2^53−1 cannot be held exactly in a JS number) |
 * | isValidator | bool | boolean |
 * | executionTimeoutLength, requiredBtcTxnConfirmations | u16 | 0..65535 |
 * | retargetParams | BitcoinConsensusParams | object: powLimit/powLowerLimit u32, powTargetTimespan/powTargetSpacing u64 (safe integers), powNoRetargeting bool, maxPowAdjustment u8; when retargeting is on, powTargetSpacing ≥ 1 and powTargetTimespan ≥ powTargetSpacing (stricter: Alys would divide by zero at the first retarget) |
 *
 * Normalisation: hex is lowercased; EVM addresses always get a `0x` prefix; BTC keys never have one.
 *
 * Unknown keys: serde ignores them, so we do too (a spec Alys accepts must parse), but we report
 * them as JSON paths in {@link parseChainSpecDetailed}'s `unknownKeys` (e.g. a snake_case
 * `slot_duration` is ignored by Alys, which then silently uses DEV's value: worth a warning), and
 * `rejectUnknownKeys: true` turns them into DecodeErrors. `null` is never "missing": serde
 * rejects it for these fields, and so do we. Duplicate keys cannot be seen after JSON.parse
 * (serde rejects them; JSON.parse keeps the last).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { fromHex } from './bytes.js';
import { DecodeError } from './errors.js';
import {
  hasField,
  readArray,
  readBoolean,
  readInteger,
  readObject,
  readString,
  type JsonRecord,
} from './json-fields.js';
import type { ChainSpec, Hex, RetargetParams } from './types.js';
import { checkCompressedSecp256k1Key } from './bitcoin/secp256k1-point.js';

/** The most authorities an AggregateApproval's `BitList<15>` can express. */
import { MAX_AUTHORITIES } from './approvals.js';

export { MAX_AUTHORITIES };

// ---------------------------------------------------------------- shipped specs (section 9)

/**
 * Built-in DEV spec (`repo:app/src/spec.rs`, spec 9.1): `--dev` / `--chain dev`, and the default
 * for missing JSON keys. The exported spec constants are deep-frozen; {@link getChainSpec} gives
 * a mutable copy.
 */
export const DEV_CHAIN_SPEC: ChainSpec = deepFreeze({
  slotDuration: 4000,
  authorities: ['0x97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb'],
  federation: ['0x2e80ab37dfb510a64526296fd1f295c42ef19c29'],
  federationBitcoinPubkeys: ['0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'],
  bits: 505794034, // 0x1e25cdf2
  chainId: 121212,
  maxBlocksWithoutPow: 50000,
  bitcoinStartHeight: 95800,
  retargetParams: {
    powNoRetargeting: false,
    powLimit: 553713663, // 0x2100ffff
    powLowerLimit: 439495319, // 0x1a322a97
    powTargetTimespan: 60,
    powTargetSpacing: 5,
    maxPowAdjustment: 20,
  },
  isValidator: true,
  executionTimeoutLength: 3,
  requiredBtcTxnConfirmations: 144,
});

const TESTNET_AUTHORITIES: Hex[] = [
  '0x8dd89bf44ae1b76f5e105dddb56ca27da51ae04120869c794a66dbd755f2102881b0eabac42c3f72e59a78e9feaec64d',
  '0xad1b7a31e6176e48a89336786ae8b9950da04fee6fa901b0bc23ce15136b6afff9f42a513b25fe6ccdec19e5a3fddb66',
  '0x9877f2d934d46d8ab03f37f5a898f0e10434b3e3b033cba3be0205fe7b11a4d874d4610e20c6620b56c8d17345a73b8b',
];
/** Spec 9.2 (`0x8c483d6B…`, `0x11a96B2A…`, `0x910e69Ac…`), lowercased. */
const TESTNET_FEDERATION: Hex[] = [
  '0x8c483d6bf33288318143da93bb533d599de04e72',
  '0x11a96b2a888141953203df5c745c14449477d65d',
  '0x910e69ac27e50a71e0b31283f9f087daf0543cdc',
];
const TESTNET_BTC_PUBKEYS: string[] = [
  '021c0aa327d1f7f6fe9bbb0bb479ffcc8c022b52183b0f813a4107bf0f8f5ec226',
  '02c91be74598eff42512b29c64919b8681690754f7c0ac9c5e991ace761cc962ad',
  '037b169ff8392c0c1c488b5ac3f8fbc8a6387a3ea75904fa2cf9b175128d9890e7',
];

/**
 * `repo:etc/config/chain.json` (testnet validators), spec 9.2. The file has no
 * `executionTimeoutLength`, so DEV's 3 applies. `bitcoinStartHeight` is not in the 9.2 table;
 * the shipped file sets 0 (checked against the vector file in the tests).
 */
export const TESTNET_CHAIN_SPEC: ChainSpec = deepFreeze({
  slotDuration: 5000,
  authorities: TESTNET_AUTHORITIES,
  federation: TESTNET_FEDERATION,
  federationBitcoinPubkeys: TESTNET_BTC_PUBKEYS,
  bits: 486604799, // 0x1d00ffff
  chainId: 727272,
  maxBlocksWithoutPow: 50000,
  bitcoinStartHeight: 0,
  retargetParams: {
    powNoRetargeting: false,
    powLimit: 553713663,
    powLowerLimit: 439495319,
    powTargetTimespan: 60,
    powTargetSpacing: 5,
    maxPowAdjustment: 20,
  },
  isValidator: true,
  executionTimeoutLength: 3,
  requiredBtcTxnConfirmations: 144,
});

/** `repo:etc/config/chain-full.json` (testnet full node), spec 9.2: as chain.json but maxBlocksWithoutPow 5·10^11, powLowerLimit 0x1d00ffff, not a validator. */
export const TESTNET_FULL_CHAIN_SPEC: ChainSpec = deepFreeze({
  slotDuration: 5000,
  authorities: TESTNET_AUTHORITIES,
  federation: TESTNET_FEDERATION,
  federationBitcoinPubkeys: TESTNET_BTC_PUBKEYS,
  bits: 486604799,
  chainId: 727272,
  maxBlocksWithoutPow: 500000000000,
  bitcoinStartHeight: 0,
  retargetParams: {
    powNoRetargeting: false,
    powLimit: 553713663,
    powLowerLimit: 486604799,
    powTargetTimespan: 60,
    powTargetSpacing: 5,
    maxPowAdjustment: 20,
  },
  isValidator: false,
  executionTimeoutLength: 3,
  requiredBtcTxnConfirmations: 144,
});

/**
 * `repo:etc/config/chain-dev.json`, spec 9.2: the file omits isValidator,
 * requiredBtcTxnConfirmations and executionTimeoutLength, so DEV's true / 144 / 3 apply.
 */
export const CHAIN_DEV_JSON_SPEC: ChainSpec = deepFreeze({
  slotDuration: 5000,
  authorities: ['0x97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb'],
  federation: ['0x7e5f4552091a69125d5dfcb7b8c2659029395bdf'],
  federationBitcoinPubkeys: ['0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'],
  bits: 505794034,
  chainId: 121212,
  maxBlocksWithoutPow: 20,
  bitcoinStartHeight: 0,
  retargetParams: {
    powNoRetargeting: true,
    powLimit: 505794034,
    powLowerLimit: 439495319,
    powTargetTimespan: 12000,
    powTargetSpacing: 1000,
    maxPowAdjustment: 20,
  },
  isValidator: true,
  executionTimeoutLength: 3,
  requiredBtcTxnConfirmations: 144,
});

export type ChainSpecName = 'dev' | 'testnet' | 'testnet-full' | 'chain-dev';

const NAMED: Record<ChainSpecName, ChainSpec> = {
  dev: DEV_CHAIN_SPEC,
  testnet: TESTNET_CHAIN_SPEC,
  'testnet-full': TESTNET_FULL_CHAIN_SPEC,
  'chain-dev': CHAIN_DEV_JSON_SPEC,
};

/** A fresh (mutable) copy of a shipped spec: `dev` (built-in DEV), `testnet` (chain.json), `testnet-full` (chain-full.json), `chain-dev` (chain-dev.json). */
export function getChainSpec(name: ChainSpecName): ChainSpec {
  const spec = Object.hasOwn(NAMED, name) ? NAMED[name] : undefined;
  if (spec === undefined)
    throw new DecodeError(
      'chain',
      `unknown chain spec ${JSON.stringify(name)}; expected one of ${Object.keys(NAMED).join(', ')}`,
    );
  return cloneChainSpec(spec);
}

/**
 * The EL genesis block hash of each shipped spec's chain: keccak(RLP(header)) of block 0 built from
 * Alys's genesis file (`etc/config/genesis.json` for chain id 727272, `etc/config/dev-genesis.json`
 * for 121212; AnduroProject/alys d5c6605): state root of its alloc (the bridge bytecode at
 * 0xbBbB…BbBB, balance 0), the file's timestamp, extraData, gasLimit, difficulty 0x20000, nonce
 * 0x44144, zero mixHash and coinbase, London base fee 1 gwei, Shanghai's empty withdrawals root.
 * NOT CONFIRMED against a running Alys node: no published genesis hash was found to compare with;
 * `test/protocol/chainspec/genesis-hash.test.ts` recomputes both from the files' fields.
 */
export const SHIPPED_EXECUTION_GENESIS: Readonly<Record<ChainSpecName, Hex>> = Object.freeze({
  // genesis.json (timestamp 0x67BCEB6D), state root 0xf3d76ce8…69b8
  testnet: '0x5804dbba242b4af70915894c2cc01a4f747a514dbea53c763d2549d147366569',
  'testnet-full': '0x5804dbba242b4af70915894c2cc01a4f747a514dbea53c763d2549d147366569',
  // dev-genesis.json (timestamp 0x63A1E047), same alloc
  dev: '0xcbd109d064da8f294d778111f26ac6c4e8f4d653ee36facea537847093b96c46',
  'chain-dev': '0xcbd109d064da8f294d778111f26ac6c4e8f4d653ee36facea537847093b96c46',
});

/**
 * A shipped spec as a light node uses it: {@link getChainSpec} plus the expected EL genesis hash
 * ({@link SHIPPED_EXECUTION_GENESIS}), so block 0 is a trust root rather than taken on first use.
 */
export function lightNodeChainSpec(name: ChainSpecName): ChainSpec {
  return { ...getChainSpec(name), executionGenesisHash: SHIPPED_EXECUTION_GENESIS[name] };
}

export function cloneChainSpec(spec: ChainSpec): ChainSpec {
  return {
    ...spec,
    authorities: [...spec.authorities],
    federation: [...spec.federation],
    federationBitcoinPubkeys: [...spec.federationBitcoinPubkeys],
    retargetParams: { ...spec.retargetParams },
  };
}

// ---------------------------------------------------------------- parsing

export interface ChainSpecParseOptions {
  /** Refuse keys Alys would ignore (default false: they are only reported). */
  rejectUnknownKeys?: boolean;
}

export interface ChainSpecParseResult {
  spec: ChainSpec;
  /** JSON paths of keys Alys ignores (unknown or misspelled), e.g. `$.slot_duration`. */
  unknownKeys: string[];
  /** Top-level keys that were absent and took the DEV value (never `authorities`: its absence is an error). */
  defaultedKeys: string[];
}

const TOP_KEYS = [
  'slotDuration',
  'authorities',
  'federation',
  'federationBitcoinPubkeys',
  'bits',
  'chainId',
  'maxBlocksWithoutPow',
  'bitcoinStartHeight',
  'retargetParams',
  'isValidator',
  'executionTimeoutLength',
  'requiredBtcTxnConfirmations',
] as const satisfies readonly (keyof ChainSpec)[];

/** Keys this light client adds to Alys's spec JSON (Alys ignores them). */
const LIGHT_CLIENT_KEYS = ['executionGenesisHash'] as const satisfies readonly (keyof ChainSpec)[];

/** A 32-byte hash: `0x` + 64 hex digits, lowercased. */
function parseHash32(value: unknown, path: string): Hex {
  const text = readString(value, path, 'a 32-byte 0x hex hash');
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw new DecodeError(path, 'expected 0x followed by 64 hex digits');
  return text.toLowerCase() as Hex;
}

const RETARGET_KEYS = [
  'powLimit',
  'powLowerLimit',
  'powTargetTimespan',
  'powTargetSpacing',
  'powNoRetargeting',
  'maxPowAdjustment',
] as const satisfies readonly (keyof RetargetParams)[];

const HEX_BODY = /^[0-9a-fA-F]*$/;

/** A BLS public key's text form: `0x` (lowercase x) + 96 hex digits, lowercased; the point itself is not checked. */
function readBlsPublicKeyText(value: unknown, path: string): Hex {
  const text = readString(value, path, 'a BLS public key string');
  if (!text.startsWith('0x')) throw new DecodeError(path, 'a BLS public key must start with 0x');
  if (!HEX_BODY.test(text.slice(2))) throw new DecodeError(path, 'BLS public key contains a non-hex character');
  const body = text.slice(2).toLowerCase();
  if (body.length !== 96)
    throw new DecodeError(path, `a BLS public key is 48 bytes (96 hex digits), got ${body.length} digits`);
  return `0x${body}`;
}

/** Lighthouse `PublicKey` from JSON: `0x` (lowercase x) + 96 hex digits, a valid non-infinity G1 point. */
export function parseBlsPublicKey(value: unknown, path: string): Hex {
  const hex = readBlsPublicKeyText(value, path);
  let point: ReturnType<typeof bls12_381.G1.Point.fromHex>;
  try {
    point = bls12_381.G1.Point.fromHex(hex.slice(2));
    point.assertValidity();
  } catch (cause) {
    throw new DecodeError(path, BLS_KEY_INVALID, { cause });
  }
  if (point.is0()) throw new DecodeError(path, BLS_KEY_INFINITY);
  return hex;
}

/** The messages of the key checks (chainspec-keys.ts gives the same ones). */
export const BLS_KEY_INVALID =
  'not a valid compressed BLS12-381 G1 point (bad encoding, not on the curve, or not in the subgroup)';
export const BLS_KEY_INFINITY = 'the infinity point is not a valid BLS public key';

/** ethereum-types `H160` from JSON: 40 hex digits of either case, optional lowercase `0x`. */
export function parseEvmAddress(value: unknown, path: string): Hex {
  const text = readString(value, path, 'an EVM address string');
  const body = text.startsWith('0x') ? text.slice(2) : text;
  if (!HEX_BODY.test(body)) throw new DecodeError(path, 'EVM address contains a non-hex character');
  if (body.length !== 40)
    throw new DecodeError(path, `an EVM address is 20 bytes (40 hex digits), got ${body.length} digits`);
  return `0x${body.toLowerCase()}`;
}

/** A Bitcoin public key's text form: 66 hex digits, no `0x`, lowercased; the point itself is not checked. */
function readBitcoinPubkeyText(value: unknown, path: string): string {
  const text = readString(value, path, 'a secp256k1 public key hex string');
  if (text.startsWith('0x') || text.startsWith('0X'))
    throw new DecodeError(path, 'a Bitcoin public key is plain hex, without 0x');
  if (!HEX_BODY.test(text)) throw new DecodeError(path, 'Bitcoin public key contains a non-hex character');
  if (text.length !== 66)
    throw new DecodeError(path, `expected a 33-byte compressed public key (66 hex digits), got ${text.length} digits`);
  return text.toLowerCase();
}

/** secp256k1 `PublicKey` from JSON, compressed form only: 66 hex digits, no `0x`, on the curve. */
export function parseBitcoinPubkey(value: unknown, path: string): string {
  const text = readBitcoinPubkeyText(value, path);
  checkCompressedSecp256k1Key(fromHex(text), path);
  return text;
}

type Reader<T> = (value: unknown, path: string) => T;

/**
 * Alys' `#[serde(default)]`: `obj[key]` read by `read` when the key is present (null counts as
 * present, and the readers refuse it), else `fallback`.
 */
function fieldOr<T>(obj: JsonRecord, key: string, path: string, read: Reader<T>, fallback: T): T {
  return hasField(obj, key) ? read(obj[key], `${path}.${key}`) : fallback;
}

const u8: Reader<number> = (v, p) => readInteger(v, p, 'u8');
const u16: Reader<number> = (v, p) => readInteger(v, p, 'u16');
const u32: Reader<number> = (v, p) => readInteger(v, p, 'u32');
/** u64 as a JS number: limited to 2^53−1 (see the table in the module comment). */
const u64: Reader<number> = (v, p) => readInteger(v, p, 'u64');

/** Inside `retargetParams` a missing key is zero/false (BitcoinConsensusParams's own default, not DEV's). */
function parseRetargetParams(value: unknown, path: string, unknownKeys: string[], reject: boolean): RetargetParams {
  const o = readObject(value, path);
  noteUnknown(o, RETARGET_KEYS, path, unknownKeys, reject);
  return {
    powLimit: fieldOr(o, 'powLimit', path, u32, 0),
    powLowerLimit: fieldOr(o, 'powLowerLimit', path, u32, 0),
    powTargetTimespan: fieldOr(o, 'powTargetTimespan', path, u64, 0),
    powTargetSpacing: fieldOr(o, 'powTargetSpacing', path, u64, 0),
    powNoRetargeting: fieldOr(o, 'powNoRetargeting', path, readBoolean, false),
    maxPowAdjustment: fieldOr(o, 'maxPowAdjustment', path, u8, 0),
  };
}

function checkRetargeting(params: RetargetParams, path: string): void {
  if (params.powNoRetargeting) return;
  if (params.powTargetSpacing < 1)
    throw new DecodeError(`${path}.powTargetSpacing`, 'must be at least 1 when retargeting is on (Alys divides by it)');
  if (params.powTargetTimespan < params.powTargetSpacing)
    throw new DecodeError(
      `${path}.powTargetTimespan`,
      `must be at least powTargetSpacing (${params.powTargetSpacing}) when retargeting is on: the retarget interval timespan/spacing would be 0`,
    );
}

function noteUnknown(
  obj: JsonRecord,
  known: readonly string[],
  path: string,
  unknownKeys: string[],
  reject: boolean,
): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const p = `${path}.${key}`;
    if (reject) throw new DecodeError(p, `unknown chain-spec key (Alys ignores it; known keys: ${known.join(', ')})`);
    unknownKeys.push(p);
  }
}

/**
 * A reader for a non-empty list of `item`s, of at most `max.count` when given (`max.why` finishes
 * "at most N …"); `empty` says why an empty list is refused.
 */
function nonEmptyList<T>(item: Reader<T>, empty: string, max?: { count: number; why: string }): Reader<T[]> {
  return (value, path) => {
    const list = readArray(value, path);
    if (list.length === 0) throw new DecodeError(path, empty);
    if (max !== undefined && list.length > max.count)
      throw new DecodeError(path, `at most ${max.count} ${max.why}, got ${list.length}`);
    return list.map((v, i) => item(v, `${path}[${i}]`));
  };
}

// pure: a bundle that only takes the shipped specs (the page's `createLightNode({ network })`) or reads
// specs unchecked (the page's `createLightNode({ chainSpec: jsonText })`) drops the checked readers and
// with them noble's bls12-381 and secp256k1
const federationList = /* @__PURE__ */ nonEmptyList(
  parseEvmAddress,
  'at least one federation address is required (Alys splits fees by the list length)',
);
const AUTHORITY_LIMIT = { count: MAX_AUTHORITIES, why: "authorities fit an approval's BitList<15>" };
const NO_AUTHORITY = 'at least one authority is required';
const NO_BITCOIN_KEY = 'at least one federation Bitcoin key is required';

/** The readers of the two key lists: checked on their curves, or by their text form only. */
interface KeyReaders {
  authorities: Reader<Hex[]>;
  bitcoinKeys: Reader<string[]>;
}
const CHECKED_KEYS: KeyReaders = {
  authorities: /* @__PURE__ */ nonEmptyList(parseBlsPublicKey, NO_AUTHORITY, AUTHORITY_LIMIT),
  bitcoinKeys: /* @__PURE__ */ nonEmptyList(parseBitcoinPubkey, NO_BITCOIN_KEY),
};
const UNCHECKED_KEYS: KeyReaders = {
  authorities: /* @__PURE__ */ nonEmptyList(readBlsPublicKeyText, NO_AUTHORITY, AUTHORITY_LIMIT),
  bitcoinKeys: /* @__PURE__ */ nonEmptyList(readBitcoinPubkeyText, NO_BITCOIN_KEY),
};

/** `; found "x"`, naming keys that look like a misspelling of `key` (same first 6 letters, case-insensitive). */
function misspeltHint(o: JsonRecord, key: string): string {
  const stem = key.slice(0, 6).toLowerCase();
  const near = Object.keys(o).filter((k) => k.toLowerCase().startsWith(stem));
  return near.length === 0 ? '' : `; found ${near.map((k) => JSON.stringify(k)).join(', ')}, not "${key}"`;
}

/** Parse a ChainSpec JSON value (already JSON.parse'd) with Alys semantics; also reports ignored and defaulted keys. */
export function parseChainSpecDetailed(json: unknown, options: ChainSpecParseOptions = {}): ChainSpecParseResult {
  return parseFields(json, options, CHECKED_KEYS);
}

function parseFields(json: unknown, options: ChainSpecParseOptions, keys: KeyReaders): ChainSpecParseResult {
  const o = readObject(json, '$', 'a chain spec (a JSON object)');
  const reject = options.rejectUnknownKeys === true;
  const unknownKeys: string[] = [];
  noteUnknown(o, [...TOP_KEYS, ...LIGHT_CLIENT_KEYS], '$', unknownKeys, reject);
  const dev = DEV_CHAIN_SPEC;

  const slotDuration = fieldOr(o, 'slotDuration', '$', u64, dev.slotDuration);
  if (slotDuration < 1) throw new DecodeError('$.slotDuration', 'must be at least 1 ms (Aura divides by it)');
  if (!hasField(o, 'authorities'))
    throw new DecodeError(
      '$.authorities',
      `missing: a chain spec must list its authorities (Alys would fall back to the DEV authority, whose key is public)${misspeltHint(o, 'authorities')}`,
    );
  const authorities = keys.authorities(o.authorities, '$.authorities');
  const federation = fieldOr(o, 'federation', '$', federationList, [...dev.federation]);
  const federationBitcoinPubkeys = fieldOr(o, 'federationBitcoinPubkeys', '$', keys.bitcoinKeys, [
    ...dev.federationBitcoinPubkeys,
  ]);
  const retargetParams = hasField(o, 'retargetParams')
    ? parseRetargetParams(o.retargetParams, '$.retargetParams', unknownKeys, reject)
    : { ...dev.retargetParams };
  checkRetargeting(retargetParams, '$.retargetParams');

  const spec: ChainSpec = {
    slotDuration,
    authorities,
    federation,
    federationBitcoinPubkeys,
    bits: fieldOr(o, 'bits', '$', u32, dev.bits),
    chainId: fieldOr(o, 'chainId', '$', u32, dev.chainId),
    maxBlocksWithoutPow: fieldOr(o, 'maxBlocksWithoutPow', '$', u64, dev.maxBlocksWithoutPow),
    bitcoinStartHeight: fieldOr(o, 'bitcoinStartHeight', '$', u32, dev.bitcoinStartHeight),
    retargetParams,
    isValidator: fieldOr(o, 'isValidator', '$', readBoolean, dev.isValidator),
    executionTimeoutLength: fieldOr(o, 'executionTimeoutLength', '$', u16, dev.executionTimeoutLength),
    requiredBtcTxnConfirmations: fieldOr(o, 'requiredBtcTxnConfirmations', '$', u16, dev.requiredBtcTxnConfirmations),
  };
  // a light-client key, never taken from DEV: a spec without it has no genesis trust root
  if (hasField(o, 'executionGenesisHash'))
    spec.executionGenesisHash = parseHash32(o.executionGenesisHash, '$.executionGenesisHash');
  const defaultedKeys = TOP_KEYS.filter((k) => !hasField(o, k));
  return { spec, unknownKeys, defaultedKeys };
}

/** Parse a ChainSpec JSON value with Alys semantics (see the module comment); unknown keys are ignored unless `rejectUnknownKeys`. */
export function parseChainSpec(json: unknown, options: ChainSpecParseOptions = {}): ChainSpec {
  return parseChainSpecDetailed(json, options).spec;
}

/** {@link parseChainSpec} over JSON text (a chain.json file's contents). */
export function parseChainSpecJson(text: string, options: ChainSpecParseOptions = {}): ChainSpec {
  return parseChainSpec(parseJsonText(text), options);
}

/**
 * {@link parseChainSpecJson} without the checks of the keys on their curves: the authorities' BLS keys
 * and the federation's Bitcoin keys are checked by their text form only (every other rule, error and
 * normalisation is the same). `checkChainSpecKeys` (chainspec-keys.ts) does the rest; the page's
 * `createLightNode({ chainSpec: jsonText })` reads the spec this way and the node checks its keys
 * where it runs, so the page does not carry noble's curves.
 */
export function parseChainSpecJsonUnchecked(text: string, options: ChainSpecParseOptions = {}): ChainSpec {
  return parseFields(parseJsonText(text), options, UNCHECKED_KEYS).spec;
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DecodeError('$', `not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** The chain spec as Alys JSON (camelCase keys, every key present; `executionGenesisHash` when set). Parsing it gives the same spec back. */
export function chainSpecToJson(spec: ChainSpec): Record<string, unknown> {
  return {
    slotDuration: spec.slotDuration,
    authorities: [...spec.authorities],
    federation: [...spec.federation],
    federationBitcoinPubkeys: [...spec.federationBitcoinPubkeys],
    bits: spec.bits,
    chainId: spec.chainId,
    maxBlocksWithoutPow: spec.maxBlocksWithoutPow,
    bitcoinStartHeight: spec.bitcoinStartHeight,
    retargetParams: { ...spec.retargetParams },
    isValidator: spec.isValidator,
    executionTimeoutLength: spec.executionTimeoutLength,
    requiredBtcTxnConfirmations: spec.requiredBtcTxnConfirmations,
    ...(spec.executionGenesisHash === undefined ? {} : { executionGenesisHash: spec.executionGenesisHash }),
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
