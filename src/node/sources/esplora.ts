/**
 * One Esplora REST endpoint (Blockstream electrs / mempool.space API) as a Bitcoin source for the SPV
 * client (src/node/bridge/spv.ts): tip height and hash, block hash at a height, an 80-byte header, a
 * transaction's raw bytes and status, its merkle proof, and an address's txids. Fetch only (browsers,
 * Workers, Node).
 *
 * Nothing here is believed: the client only checks that each answer has the expected shape and size
 * (every body read under a cap, every JSON validated field by field, hashes 64 hex digits, heights
 * bounded) and hands it on; the SPV client verifies it. A 404 on a lookup is "unknown" (null), not an
 * error; anything else wrong is a {@link SourceError} naming the endpoint and what was wrong.
 */
import { configValueError } from '../../config/errors.js';
import { readBodyCapped } from './bounded-body.js';
import { ResponseTooLargeError, SourceError } from './errors.js';

/** Caps on response bodies, in bytes. */
export interface EsploraCaps {
  /** Small text answers: a height, a hash, a header's 160 hex digits. Default 1 KiB. */
  text: number;
  /** A raw transaction (`/tx/:txid/raw`): consensus allows ~4 MB (the block weight limit). Default 4,000,000. */
  tx: number;
  /** Small JSON answers: a tx status, a merkle proof (at most ~32 hashes). Default 16 KiB. */
  json: number;
  /** An address's transaction list (up to 75 full transactions as JSON). Default 8 MiB. */
  list: number;
}

export const DEFAULT_ESPLORA_CAPS: Readonly<EsploraCaps> = Object.freeze({
  text: 1024,
  tx: 4_000_000,
  json: 16 * 1024,
  list: 8 * 1024 * 1024,
});

/** An endpoint's claim about where a transaction is (unverified). */
export type EsploraTxStatus =
  | { confirmed: false }
  | { confirmed: true; blockHeight: number; blockHash: string; blockTime: number | undefined };

/** Electrum-style merkle proof as Esplora serves it (unverified): sibling hashes in display hex, leaf upward. */
export interface EsploraMerkleProof {
  blockHeight: number;
  merkle: string[];
  pos: number;
}

export interface EsploraClient {
  /** The endpoint's base URL (its identity for scoring). */
  readonly id: string;
  tipHeight(): Promise<number>;
  /** Display hex, lower case. */
  tipHash(): Promise<string>;
  /** Display hex of the block at `height` on the endpoint's chain, null when it has none. */
  blockHashAt(height: number): Promise<string | null>;
  /** The 80 header bytes of block `hash` (display hex), null when unknown. */
  header(hash: string): Promise<Uint8Array | null>;
  /** The transaction's bytes, null when unknown. */
  txRaw(txid: string): Promise<Uint8Array | null>;
  txStatus(txid: string): Promise<EsploraTxStatus>;
  /** Null when unknown or unconfirmed (electrs answers 404 to both). */
  merkleProof(txid: string): Promise<EsploraMerkleProof | null>;
  /** Txids (display hex) the endpoint lists for `address`, newest first, at most `limit`. */
  addressTxids(address: string, limit: number): Promise<string[]>;
}

export interface EsploraClientOptions {
  url: string;
  /** Per-request timeout, ms. Default 10,000. */
  timeoutMs?: number;
  caps?: Partial<EsploraCaps>;
  fetch?: typeof fetch;
}

const HASH = /^[0-9a-f]{64}$/;
const HEADER_HEX = /^[0-9a-f]{160}$/;
/** Bitcoin heights fit far below this (u32 in headers' contexts; 2^31 keeps them safe everywhere). */
export const MAX_BTC_HEIGHT = 0x7fffffff;
/** A merkle branch deeper than this cannot come from a block (4 MWU / 60-byte minimum tx < 2^17). */
export const MAX_MERKLE_DEPTH = 32;
/** A Bitcoin address in a URL path: bech32 (<= 90) or base58 characters only. */
const ADDRESS = /^[a-zA-Z0-9]{14,90}$/;

type Kind = 'text' | 'tx' | 'json' | 'list';

/** The answer to one GET: the body bytes, or null for a 404. */
type Body = Uint8Array | null;

export function createEsploraClient(opts: EsploraClientOptions): EsploraClient {
  const base = opts.url.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(base))
    throw configValueError('bitcoin.esplora', 'http(s) URLs', opts.url, 'an Esplora URL must be http(s)');
  const caps: EsploraCaps = { ...DEFAULT_ESPLORA_CAPS, ...opts.caps };
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const io: Io = {
    get: (path, kind) => getCapped({ base, path, maxBytes: caps[kind], timeoutMs, doFetch }),
    bad: (path, problem) => new SourceError(base, 'unusable', `GET ${path}: ${problem}`),
    async need(path, kind) {
      const body = await io.get(path, kind);
      if (body === null) throw new SourceError(base, 'http', `GET ${path}: HTTP 404`);
      return body;
    },
  };
  return { id: base, ...chainMethods(io), ...txMethods(io) };
}

/** One endpoint's GETs: `get` (404 is null), `need` (404 is an error), `bad` (an unusable answer). */
interface Io {
  get(path: string, kind: Kind): Promise<Body>;
  need(path: string, kind: Kind): Promise<Uint8Array>;
  bad(path: string, problem: string): SourceError;
}

function chainMethods(io: Io): Pick<EsploraClient, 'tipHeight' | 'tipHash' | 'blockHashAt' | 'header'> {
  return {
    async tipHeight() {
      const path = '/blocks/tip/height';
      return parseHeight(text(await io.need(path, 'text')), (p) => io.bad(path, p));
    },
    async tipHash() {
      const path = '/blocks/tip/hash';
      return parseHash(text(await io.need(path, 'text')), (p) => io.bad(path, p));
    },
    async blockHashAt(height) {
      checkHeightArg(height);
      const path = `/block-height/${height}`;
      const body = await io.get(path, 'text');
      return body === null ? null : parseHash(text(body), (p) => io.bad(path, p));
    },
    async header(hash) {
      const path = `/block/${checkHashArg(hash)}/header`;
      const body = await io.get(path, 'text');
      return body === null ? null : parseHeaderHex(text(body), (p) => io.bad(path, p));
    },
  };
}

function txMethods(io: Io): Pick<EsploraClient, 'txRaw' | 'txStatus' | 'merkleProof' | 'addressTxids'> {
  return {
    txRaw: async (txid) => io.get(`/tx/${checkHashArg(txid)}/raw`, 'tx'),
    async txStatus(txid) {
      const path = `/tx/${checkHashArg(txid)}/status`;
      const body = await io.get(path, 'json');
      if (body === null) return { confirmed: false };
      return parseStatus(
        parseJson(body, (p) => io.bad(path, p)),
        (p) => io.bad(path, p),
      );
    },
    async merkleProof(txid) {
      const path = `/tx/${checkHashArg(txid)}/merkle-proof`;
      const body = await io.get(path, 'json');
      return body === null
        ? null
        : parseMerkleProof(
            parseJson(body, (p) => io.bad(path, p)),
            (p) => io.bad(path, p),
          );
    },
    async addressTxids(address, limit) {
      if (!ADDRESS.test(address)) throw new RangeError(`not a Bitcoin address: ${JSON.stringify(address)}`);
      const path = `/address/${address}/txs`;
      const body = await io.get(path, 'list');
      if (body === null) return [];
      return parseTxList(
        parseJson(body, (p) => io.bad(path, p)),
        limit,
        (p) => io.bad(path, p),
      );
    },
  };
}

// ------------------------------------------------------------------ transport

interface GetArgs {
  base: string;
  path: string;
  maxBytes: number;
  timeoutMs: number;
  doFetch: typeof fetch;
}

/** GET `base + path` under a timeout and a body cap; 404 is null; other failures are SourceErrors. */
async function getCapped(a: GetArgs): Promise<Body> {
  const url = a.base + a.path;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), a.timeoutMs);
  try {
    const res = await a.doFetch(url, { signal: controller.signal, headers: { accept: '*/*' } });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    if (res.status === 429) throw new SourceError(a.base, 'busy', `GET ${a.path}: HTTP 429 (rate limited)`);
    if (!res.ok) throw new SourceError(a.base, 'http', `GET ${a.path}: HTTP ${res.status}`);
    return await readBodyCapped(res, url, a.maxBytes, () => controller.abort());
  } catch (e) {
    if (e instanceof SourceError) throw e;
    if (e instanceof ResponseTooLargeError)
      throw new SourceError(a.base, 'response-too-large', `GET ${a.path}: ${e.problem}`, { cause: e });
    if (controller.signal.aborted)
      throw new SourceError(a.base, 'timeout', `GET ${a.path}: no answer within ${a.timeoutMs} ms`);
    throw new SourceError(a.base, 'network', `GET ${a.path}: ${(e as Error).message}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ shapes

type Bad = (problem: string) => SourceError;

function text(body: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(body).trim();
}

const show = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);

function checkHashArg(hash: string): string {
  if (typeof hash !== 'string' || !HASH.test(hash))
    throw new RangeError(`expected 64 lower-case hex digits, got ${JSON.stringify(hash)}`);
  return hash;
}

function checkHeightArg(height: number): void {
  if (!Number.isSafeInteger(height) || height < 0 || height > MAX_BTC_HEIGHT)
    throw new RangeError(`expected a Bitcoin height, got ${height}`);
}

function parseHeight(s: string, bad: Bad): number {
  if (!/^\d{1,10}$/.test(s) || Number(s) > MAX_BTC_HEIGHT) throw bad(`expected a block height, got ${show(s)}`);
  return Number(s);
}

function parseHash(s: string, bad: Bad): string {
  const h = s.toLowerCase();
  if (!HASH.test(h)) throw bad(`expected a block hash (64 hex digits), got ${show(s)}`);
  return h;
}

function parseHeaderHex(s: string, bad: Bad): Uint8Array {
  const h = s.toLowerCase();
  if (!HEADER_HEX.test(h)) throw bad(`expected an 80-byte header as 160 hex digits, got ${show(s)}`);
  const out = new Uint8Array(80);
  for (let i = 0; i < 80; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function parseJson(body: Uint8Array, bad: Bad): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw bad('the body is not JSON');
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intField(o: Record<string, unknown>, name: string, max: number, bad: Bad): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
    throw bad(`${name}: expected an integer from 0 to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function hashField(v: unknown, name: string, bad: Bad): string {
  if (typeof v !== 'string' || !HASH.test(v.toLowerCase())) throw bad(`${name}: expected 64 hex digits`);
  return v.toLowerCase();
}

function parseStatus(v: unknown, bad: Bad): EsploraTxStatus {
  if (!isRecord(v) || typeof v.confirmed !== 'boolean') throw bad('expected a status object with `confirmed`');
  if (!v.confirmed) return { confirmed: false };
  return {
    confirmed: true,
    blockHeight: intField(v, 'block_height', MAX_BTC_HEIGHT, bad),
    blockHash: hashField(v.block_hash, 'block_hash', bad),
    blockTime: v.block_time === undefined ? undefined : intField(v, 'block_time', 0xffffffff, bad),
  };
}

function parseMerkleProof(v: unknown, bad: Bad): EsploraMerkleProof {
  if (!isRecord(v) || !Array.isArray(v.merkle)) throw bad('expected {block_height, merkle, pos}');
  if (v.merkle.length > MAX_MERKLE_DEPTH) throw bad(`merkle: ${v.merkle.length} hashes, at most ${MAX_MERKLE_DEPTH}`);
  return {
    blockHeight: intField(v, 'block_height', MAX_BTC_HEIGHT, bad),
    merkle: v.merkle.map((h, i) => hashField(h, `merkle[${i}]`, bad)),
    pos: intField(v, 'pos', 0xffffffff, bad),
  };
}

function parseTxList(v: unknown, limit: number, bad: Bad): string[] {
  if (!Array.isArray(v)) throw bad('expected a list of transactions');
  const out: string[] = [];
  for (const [i, tx] of v.entries()) {
    if (out.length >= limit) break;
    if (!isRecord(tx)) throw bad(`[${i}]: expected a transaction object`);
    out.push(hashField(tx.txid, `[${i}].txid`, bad));
  }
  return out;
}
