/**
 * The peg tracker's stored records (KvStore keys under `peg/`): one per tracked peg (`peg/in/<txid>`,
 * `peg/out/<evm tx hash>`) holding its evidence set, and `peg/meta` (the observation counter, the
 * finalized height, rolled-back blocks, tracked addresses). Each is sha256(json) || json. A record
 * read back is checked in full (checksum, JSON, shape, every evidence item with `checkPegEvidence`,
 * that the record's key matches its content, bounds); a record that fails is a
 * `CorruptPegRecordError` and the tracker drops it. States are never stored: they are folded again
 * from the evidence on load, so a stored state cannot be believed by mistake.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { AlysLightError } from '../../errors.js';
import { checkPegEvidence, type PegEvidence } from '../../protocol/bridge/lifecycle.js';
import { concatBytes, equalBytes } from '../../protocol/bytes.js';

export const PEG_PREFIX = 'peg/';
export const META_KEY = 'peg/meta';
export const RECORD_VERSION = 1;
/** Most evidence items one peg may hold (superseded observations are pruned, so real pegs hold < 20). */
export const MAX_EVIDENCE_PER_PEG = 64;
/** Most rolled-back blocks remembered; most addresses tracked. */
export const MAX_ORPHANS = 256;
export const MAX_ADDRESSES = 64;
/** Largest record read back (64 items of bounded size fit well within it). */
export const MAX_RECORD_BYTES = 256 * 1024;

export type PegKind = 'in' | 'out';

export interface PegRecord {
  kind: PegKind;
  /** Bitcoin txid (display hex) of a peg-in, EVM tx hash (0x hex) of a peg-out. */
  key: string;
  /** Observation counter value when tracking started (the order of `pegs()`). */
  since: number;
  evidence: PegEvidence[];
}

export interface PegMeta {
  seq: number;
  finalized: number;
  orphans: PegEvidence[];
  addresses: string[];
}

/** A stored peg record fails a check (code `storage.corrupt-peg`): it is dropped, never trusted. */
export class CorruptPegRecordError extends AlysLightError {
  override name = 'CorruptPegRecordError';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super('storage.corrupt-peg', `the stored peg record ${key} is damaged (${reason}); it is dropped`);
  }
}

export const TXID_RE = /^[0-9a-f]{64}$/;
export const EVM_HASH_RE = /^0x[0-9a-f]{64}$/;
export const EVM_ADDRESS_RE = /^0x[0-9a-f]{40}$/;

export const recordKey = (kind: PegKind, key: string): string => `${PEG_PREFIX}${kind}/${key}`;

export function encodeRecord(value: PegRecord | PegMeta): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ v: RECORD_VERSION, ...value }));
  return concatBytes(sha256(json), json);
}

/** The checked JSON object of a record (checksum, size, JSON object, version). */
function open(storeKey: string, raw: Uint8Array): Record<string, unknown> {
  if (raw.length > MAX_RECORD_BYTES) throw new CorruptPegRecordError(storeKey, `${raw.length} bytes is too large`);
  if (raw.length <= 32 || !equalBytes(sha256(raw.subarray(32)), raw.subarray(0, 32)))
    throw new CorruptPegRecordError(storeKey, 'it fails its checksum');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw.subarray(32)));
  } catch {
    throw new CorruptPegRecordError(storeKey, 'it is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CorruptPegRecordError(storeKey, 'it is not an object');
  const v = value as Record<string, unknown>;
  if (v.v !== RECORD_VERSION) throw new CorruptPegRecordError(storeKey, `unknown version ${String(v.v)}`);
  return v;
}

function evidenceList(storeKey: string, value: unknown, max: number): PegEvidence[] {
  if (!Array.isArray(value) || value.length > max)
    throw new CorruptPegRecordError(storeKey, `evidence must be a list of at most ${max} items`);
  return value.map((e, i) => {
    try {
      return checkPegEvidence(e, `evidence[${i}]`);
    } catch (err) {
      throw new CorruptPegRecordError(storeKey, (err as Error).message);
    }
  });
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** Read back `peg/<kind>/<key>`: the record, or CorruptPegRecordError. */
export function decodeRecord(storeKey: string, raw: Uint8Array): PegRecord {
  const v = open(storeKey, raw);
  const kind = v.kind;
  const key = v.key;
  if (kind !== 'in' && kind !== 'out') throw new CorruptPegRecordError(storeKey, 'bad kind');
  if (typeof key !== 'string' || !(kind === 'in' ? TXID_RE : EVM_HASH_RE).test(key))
    throw new CorruptPegRecordError(storeKey, 'bad key');
  if (recordKey(kind, key) !== storeKey) throw new CorruptPegRecordError(storeKey, `it names ${kind}/${key}`);
  if (!isCount(v.since)) throw new CorruptPegRecordError(storeKey, 'bad since');
  const evidence = evidenceList(storeKey, v.evidence, MAX_EVIDENCE_PER_PEG);
  for (const e of evidence)
    if (!belongsTo(e, kind, key))
      throw new CorruptPegRecordError(storeKey, `it holds ${e.kind} evidence of another peg`);
  return { kind, key, since: v.since, evidence };
}

/** Read back `peg/meta`. */
export function decodeMeta(raw: Uint8Array): PegMeta {
  const v = open(META_KEY, raw);
  if (!isCount(v.seq) || !Number.isSafeInteger(v.finalized) || (v.finalized as number) < -1)
    throw new CorruptPegRecordError(META_KEY, 'bad seq or finalized');
  const orphans = evidenceList(META_KEY, v.orphans, MAX_ORPHANS);
  if (orphans.some((o) => o.kind !== 'alys-orphaned')) throw new CorruptPegRecordError(META_KEY, 'bad orphans');
  const addresses = v.addresses;
  if (
    !Array.isArray(addresses) ||
    addresses.length > MAX_ADDRESSES ||
    !addresses.every((a) => typeof a === 'string' && EVM_ADDRESS_RE.test(a))
  )
    throw new CorruptPegRecordError(META_KEY, 'bad addresses');
  return { seq: v.seq, finalized: v.finalized as number, orphans, addresses: addresses as string[] };
}

/**
 * Whether evidence may belong to the peg `kind`/`key`. Peg-in items name its txid; peg-out items are
 * its request, proposals and finalized payments (txid checked by the fold), Bitcoin items of those.
 */
export function belongsTo(e: PegEvidence, kind: PegKind, key: string): boolean {
  switch (e.kind) {
    case 'btc-pegin-tx':
    case 'btc-not-pegin':
    case 'alys-minted':
      return kind === 'in' && e.txid === key;
    case 'btc-inclusion':
      return kind === 'out' || e.txid === key;
    case 'evm-request':
      return kind === 'out' && e.evmTxHash === key;
    case 'btc-seen':
    case 'alys-proposal':
    case 'alys-finalized-pegout':
      return kind === 'out';
    case 'alys-finality':
    case 'alys-orphaned':
      return false; // global: kept in meta
  }
}
