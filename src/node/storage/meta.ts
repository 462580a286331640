/**
 * The BlockStore's metadata record (`meta`), format 4: sha256(json) || json, where json is the
 * `StoredMeta` below. On load the checksum is checked first, then every field against its schema
 * (types and bounds), so a damaged record - flipped bytes, truncated, valid JSON of the wrong shape
 * - is a `CorruptStoreError`, never a TypeError deep in a warm start. A record without a valid
 * checksum that is a plain JSON object of an older format (1, 2 or 3: no checksum) is an
 * `OlderMeta`: the store is set aside like another spec's.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { CorruptStoreError } from './errors.js';
import { concatBytes, equalBytes, type Hex } from '../../protocol/bytes.js';
import type { ChainVerifierSnapshot } from '../../protocol/chain-verifier.js';

export { CorruptStoreError };

export const FORMAT = 4;
/** Formats before this one (1: no spec fingerprint; 2: a digest chain from genesis; 3: a meta without checksum). */
export const OLDER_FORMATS: readonly number[] = [1, 2, 3];
/** The most unfinalized blocks a stored window may span (testnet allows 50,000 without PoW). */
export const MAX_WINDOW = 1 << 20;
/** The most signer indices a window block may list. */
const MAX_SIGNERS = 4096;

export interface StoredMeta {
  format: 4;
  chainId: number;
  /** The fingerprint of the chain spec the blocks were verified under (`specFingerprint`). */
  spec: Hex;
  /** Block 0's hash once stored (a head-first start stores it when the backfill reaches it). */
  genesis: Hex | null;
  mode: string;
  head: { number: number; hash: Hex };
  /** The lowest stored block: blocks from..head are stored, and reads below `from` have no verified data. */
  history: { from: number };
  snapshot: ChainVerifierSnapshot;
}

/** What is known of a store of an older format: enough to name it when it is set aside. */
export interface OlderMeta {
  format: number;
  chainId: number;
  mode: string;
}

/** The record for `meta`: its checksum, then its JSON. */
export function encodeMeta(meta: StoredMeta): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(meta));
  return concatBytes(sha256(json), json);
}

/** Read a `meta` record: a checked format-4 meta, an older format's identity, or a CorruptStoreError. */
export function decodeMeta(raw: Uint8Array): StoredMeta | OlderMeta {
  if (raw.length > 32 && equalBytes(sha256(raw.subarray(32)), raw.subarray(0, 32))) {
    const value = parseJson(raw.subarray(32));
    return checkMeta(value);
  }
  const older = olderMeta(raw);
  if (older) return older;
  throw new CorruptStoreError('its metadata fails its checksum');
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new CorruptStoreError('its metadata is not JSON');
  }
}

/** A record of an older format: a JSON object (no checksum) naming format 1, 2 or 3, a chain id and a mode. */
function olderMeta(raw: Uint8Array): OlderMeta | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    return undefined;
  }
  if (!isObject(value) || !OLDER_FORMATS.includes(value.format as number)) return undefined;
  if (!isCount(value.chainId) || !isShortString(value.mode)) return undefined;
  return { format: value.format as number, chainId: value.chainId, mode: value.mode };
}

// ---- the schema ----

type Obj = Record<string, unknown>;

const HASH = /^0x[0-9a-f]{64}$/;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isHash = (v: unknown): v is Hex => typeof v === 'string' && HASH.test(v);
const isShortString = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 64;
const isUint32 = (v: unknown): v is number => isCount(v) && v <= 0xffff_ffff;

/** Throw a CorruptStoreError naming `path` unless `ok`. */
function need(ok: boolean, path: string, what: string): void {
  if (!ok) throw new CorruptStoreError(`its metadata field ${path} is not ${what}`);
}

function object(v: unknown, path: string): Obj {
  need(isObject(v), path, 'an object');
  return v as Obj;
}

function checkHeadRef(v: unknown, path: string): void {
  const o = object(v, path);
  need(isCount(o.number), `${path}.number`, 'a block number');
  need(isHash(o.hash), `${path}.hash`, 'a 32-byte hash');
}

function checkChainBlock(v: unknown, path: string): void {
  const o = object(v, path);
  need(isHash(o.hash), `${path}.hash`, 'a 32-byte hash');
  need(isCount(o.number), `${path}.number`, 'a block number');
  need(isHash(o.parentHash), `${path}.parentHash`, 'a 32-byte hash');
  need(isHash(o.payloadBlockHash), `${path}.payloadBlockHash`, 'a 32-byte hash');
  need(typeof o.pow === 'boolean', `${path}.pow`, 'a boolean');
  const signers = o.signers;
  need(
    signers === null ||
      (Array.isArray(signers) && signers.length <= MAX_SIGNERS && signers.every((i) => isCount(i) && i < MAX_SIGNERS)),
    `${path}.signers`,
    'null or a list of signer indices',
  );
}

function checkSnapshot(v: unknown, head: number): void {
  const s = object(v, 'snapshot');
  const f = object(s.finality, 'snapshot.finality');
  const pow = object(f.lastPow, 'snapshot.finality.lastPow');
  need(isCount(pow.blockNumber) && pow.blockNumber <= head, 'snapshot.finality.lastPow.blockNumber', 'a stored block');
  need(isHash(pow.hash), 'snapshot.finality.lastPow.hash', 'a 32-byte hash');
  need(isUint32(pow.bits), 'snapshot.finality.lastPow.bits', 'a 32-bit target');
  need(isUint32(pow.chainId), 'snapshot.finality.lastPow.chainId', 'a 32-bit chain id');
  const fin = object(f.lastFinalized, 'snapshot.finality.lastFinalized');
  need(
    isCount(fin.blockNumber) && fin.blockNumber <= head,
    'snapshot.finality.lastFinalized.blockNumber',
    'at most the head',
  );
  need(isHash(fin.hash), 'snapshot.finality.lastFinalized.hash', 'a 32-byte hash');
  need(isCount(f.finalizedThrough), 'snapshot.finality.finalizedThrough', 'a block number');
  need(f.head === head, 'snapshot.finality.head', `the head ${head}`);
  checkChainBlock(s.head, 'snapshot.head');
  const lowest = fin.blockNumber as number;
  need(head - lowest <= MAX_WINDOW, 'snapshot.finality.lastFinalized', `within ${MAX_WINDOW} blocks of the head`);
  need(Array.isArray(s.window) && s.window.length <= head - lowest + 1, 'snapshot.window', 'a list of window blocks');
  (s.window as unknown[]).forEach((w, i) => {
    const entry = object(w, `snapshot.window[${i}]`);
    checkChainBlock(entry.block, `snapshot.window[${i}].block`);
    need(typeof entry.hasProposal === 'boolean', `snapshot.window[${i}].hasProposal`, 'a boolean');
  });
}

/** A format-4 meta, every field typed and bounded (throws CorruptStoreError naming the first bad field). */
export function checkMeta(v: unknown): StoredMeta {
  const m = object(v, '(record)');
  need(m.format === FORMAT, 'format', `${FORMAT}`);
  need(isCount(m.chainId), 'chainId', 'a chain id');
  need(isHash(m.spec), 'spec', 'a spec fingerprint');
  need(m.genesis === null || isHash(m.genesis), 'genesis', 'null or a 32-byte hash');
  need(isShortString(m.mode), 'mode', 'a mode name');
  checkHeadRef(m.head, 'head');
  const head = (m.head as { number: number }).number;
  const history = object(m.history, 'history');
  need(isCount(history.from) && history.from <= head, 'history.from', 'a block number at most the head');
  checkSnapshot(m.snapshot, head);
  return m as unknown as StoredMeta;
}
