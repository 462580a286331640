/**
 * An Esplora-compatible REST subset over the regtest chain, with Blockstream electrs's response
 * formats (field names and order, text vs JSON bodies, status codes and error texts):
 *
 *   GET  /blocks/tip/height            text    GET /tx/:txid                 JSON
 *   GET  /blocks/tip/hash              text    GET /tx/:txid/hex             text
 *   GET  /block-height/:height         text    GET /tx/:txid/raw             bytes
 *   GET  /block/:hash/header           hex     GET /tx/:txid/status          JSON
 *   GET  /block/:hash/txids            JSON    GET /tx/:txid/merkle-proof    JSON
 *   GET  /block/:hash/raw              bytes   GET /address/:addr/txs        JSON (<= 50 mempool, then 25 confirmed)
 *   POST /tx  (hex body -> txid text)          GET /address/:addr/txs/chain[/:last_seen_txid]
 *                                              GET /address/:addr/utxo       JSON
 *
 * Errors are `text/plain`: 400 "Invalid hex string" / "Invalid number" for malformed hashes and
 * heights, 404 "Block not found" / "Transaction not found" / "Transaction not found or is
 * unconfirmed", 404 `endpoint does not exist "<path>"` for unknown routes, and for a refused
 * broadcast 400 `sendrawtransaction RPC error: {"code":-26,"message":"<reason>, <detail>"}` (what
 * electrs relays from bitcoind). Bodies over 1,000,000 bytes get 413. Every response carries
 * `Access-Control-Allow-Origin: *` so a browser light node can use it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from '../../platform/nodejs/http.js';
import { bytesToHex, reverse } from '../../protocol/bytes.js';
import type { Transaction, TxOut } from '../../protocol/types.js';
import { toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { encodeHeader } from '../../protocol/bitcoin/header.js';
import { txid as computeTxid } from '../../protocol/bitcoin/tx.js';
import { parseBitcoinAddress } from '../../protocol/bridge/btcaddress.js';
import type { BitcoinBlockInfo } from '../types.js';
import type { RegtestChain } from './chain.js';
import { isCoinbase, txWeight } from './block.js';
import { TxRejectedError } from './errors.js';
import { esploraScriptType, scriptToAddress, scriptToAsm } from './script.js';

export interface EsploraResponse {
  status: number;
  contentType: string;
  body: string | Uint8Array;
}

const MAX_BODY_SIZE = 1_000_000;
const CHAIN_TXS_PER_PAGE = 25;
const MAX_MEMPOOL_TXS = 50;
const HASH_HEX = /^[0-9a-fA-F]{64}$/;
const RUST_USIZE = /^\+?[0-9]+$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const text = (body: string, status = 200): EsploraResponse => ({ status, contentType: 'text/plain', body });
const json = (value: unknown): EsploraResponse => ({
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify(value),
});
const bytes = (body: Uint8Array): EsploraResponse => ({ status: 200, contentType: 'application/octet-stream', body });

/** A display-hex hash from the path, as rust-bitcoin's `from_str` accepts it. */
function parseHash(s: string): Uint8Array {
  if (!HASH_HEX.test(s)) throw new HttpError(400, 'Invalid hex string');
  return reverse(
    Uint8Array.from(
      s
        .toLowerCase()
        .match(/../g)!
        .map((b) => parseInt(b, 16)),
    ),
  );
}

function parseHeight(s: string): number {
  if (!RUST_USIZE.test(s)) throw new HttpError(400, 'Invalid number');
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new HttpError(400, 'Invalid number');
  return n;
}

function parseAddressScript(s: string): Uint8Array {
  const parsed = parseBitcoinAddress(s);
  if (!parsed) throw new HttpError(400, `Invalid Bitcoin address ${JSON.stringify(s)}`);
  // regtest: bech32 with the `bcrt` prefix, base58 with testnet version bytes
  const ok = parsed.type === 'witness' ? parsed.network === 'regtest' : parsed.network === 'testnet';
  if (!ok) throw new HttpError(400, 'Address on invalid network');
  return parsed.scriptPubkey;
}

function txOutValue(o: TxOut): Record<string, unknown> {
  const value: Record<string, unknown> = {
    scriptpubkey: bytesToHex(o.scriptPubkey),
    scriptpubkey_asm: scriptToAsm(o.scriptPubkey),
    scriptpubkey_type: esploraScriptType(o.scriptPubkey),
  };
  const address = scriptToAddress(o.scriptPubkey);
  if (address !== undefined) value.scriptpubkey_address = address;
  value.value = Number(o.value);
  return value;
}

function statusOf(block: BitcoinBlockInfo | undefined): Record<string, unknown> {
  if (!block) return { confirmed: false };
  return {
    confirmed: true,
    block_height: block.height,
    block_hash: toDisplayHex(block.hash),
    block_time: block.header.time,
  };
}

/** Blockstream electrs `TransactionValue`. */
export function transactionValue(
  chain: RegtestChain,
  tx: Transaction,
  block: BitcoinBlockInfo | undefined,
): Record<string, unknown> {
  const coinbase = isCoinbase(tx);
  let fee = 0n;
  const vin = tx.inputs.map((input) => {
    const prevout = coinbase ? undefined : chain.output(input.prevTxid, input.prevVout);
    if (prevout) fee += prevout.value;
    const value: Record<string, unknown> = {
      txid: toDisplayHex(input.prevTxid),
      vout: input.prevVout,
      prevout: prevout ? txOutValue(prevout) : null,
      scriptsig: bytesToHex(input.scriptSig),
      scriptsig_asm: scriptToAsm(input.scriptSig),
    };
    if (input.witness.length > 0) value.witness = input.witness.map((w) => bytesToHex(w));
    value.is_coinbase = coinbase;
    value.sequence = input.sequence;
    return value;
  });
  if (coinbase) fee = 0n;
  else for (const o of tx.outputs) fee -= o.value;
  const { totalSize, weight } = txWeight(tx);
  return {
    txid: toDisplayHex(computeTxidCached(tx)),
    version: tx.version >>> 0,
    locktime: tx.lockTime,
    vin,
    vout: tx.outputs.map(txOutValue),
    size: totalSize,
    weight,
    fee: Number(fee),
    status: statusOf(block),
  };
}

/** Blocks hand out the same decoded transaction objects, so their txids are worth keeping. */
const txidCache = new WeakMap<Transaction, Uint8Array>();
function computeTxidCached(tx: Transaction): Uint8Array {
  let id = txidCache.get(tx);
  if (!id) txidCache.set(tx, (id = computeTxid(tx)));
  return id;
}

function blockByHashOr404(chain: RegtestChain, hashText: string): BitcoinBlockInfo {
  const block = chain.blockByHash(parseHash(hashText));
  if (!block) throw new HttpError(404, 'Block not found');
  return block;
}

function addressTxs(
  chain: RegtestChain,
  script: Uint8Array,
  opts: { mempool: boolean; lastSeen?: string },
): Record<string, unknown>[] {
  const h = chain.history(script);
  const out: Record<string, unknown>[] = [];
  if (opts.mempool)
    for (const id of h.mempool.slice(0, MAX_MEMPOOL_TXS)) {
      const found = chain.transaction(id);
      if (found) out.push(transactionValue(chain, found.tx, undefined));
    }
  let confirmed = h.confirmed;
  if (opts.lastSeen !== undefined) {
    const lastSeenHex = HASH_HEX.test(opts.lastSeen) ? opts.lastSeen.toLowerCase() : undefined;
    const at = lastSeenHex === undefined ? -1 : confirmed.findIndex((c) => toDisplayHex(c.txid) === lastSeenHex);
    // electrs: an unparsable last_seen_txid means "from the start"; an unknown one yields nothing
    confirmed = lastSeenHex === undefined ? confirmed : at < 0 ? [] : confirmed.slice(at + 1);
  }
  for (const c of confirmed.slice(0, CHAIN_TXS_PER_PAGE)) {
    const found = chain.transaction(c.txid);
    if (found) out.push(transactionValue(chain, found.tx, found.block));
  }
  return out;
}

function addressUtxos(chain: RegtestChain, script: Uint8Array): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = chain.utxos(script).map((u) => ({
    txid: toDisplayHex(u.txid),
    vout: u.vout,
    status: statusOf(chain.block(u.height)),
    value: Number(u.output.value),
  }));
  const spentInMempool = new Set<string>();
  for (const e of chain.mempool())
    for (const i of e.tx.inputs) spentInMempool.add(`${bytesToHex(i.prevTxid)}:${i.prevVout}`);
  for (const e of chain.mempool())
    e.tx.outputs.forEach((o, vout) => {
      if (bytesToHex(o.scriptPubkey) === bytesToHex(script) && !spentInMempool.has(`${bytesToHex(e.txid)}:${vout}`))
        out.push({ txid: toDisplayHex(e.txid), vout, status: { confirmed: false }, value: Number(o.value) });
    });
  return out;
}

function broadcastHex(chain: RegtestChain, body: Uint8Array): EsploraResponse {
  let hexText: string;
  try {
    hexText = new TextDecoder('utf-8', { fatal: true }).decode(body).trim();
  } catch {
    throw new HttpError(400, 'invalid utf-8 sequence in the request body');
  }
  try {
    if (!/^([0-9a-fA-F]{2})*$/.test(hexText) || hexText.length === 0)
      throw new TxRejectedError('TX decode failed', 'the body is not a hex-encoded transaction', -22);
    const raw = Uint8Array.from(hexText.match(/../g)!.map((b) => parseInt(b, 16)));
    const id = chain.broadcast(raw);
    return text(toDisplayHex(id));
  } catch (err) {
    if (err instanceof TxRejectedError)
      throw new HttpError(
        400,
        `sendrawtransaction RPC error: ${JSON.stringify({ code: err.rpcCode, message: err.rpcMessage })}`,
      );
    throw err;
  }
}

/** Route one request. Pure apart from `POST /tx` (which broadcasts); never throws. */
export function handleEsploraRequest(
  chain: RegtestChain,
  method: string,
  url: string,
  body: Uint8Array = new Uint8Array(0),
): EsploraResponse {
  const pathname = url.split('?')[0]!.split('#')[0]!;
  try {
    return route(chain, method, pathname, body);
  } catch (err) {
    if (err instanceof HttpError) return text(err.message, err.status);
    return text('Internal server error', 500);
  }
}

function route(chain: RegtestChain, method: string, pathname: string, body: Uint8Array): EsploraResponse {
  const p = pathname.split('/').slice(1);
  const [a, b, c, d, e] = p;
  const len = p.length;
  const notFound = (): never => {
    throw new HttpError(404, `endpoint does not exist ${JSON.stringify(pathname)}`);
  };
  if (method === 'POST') {
    if (a === 'tx' && len === 1) return broadcastHex(chain, body);
    return notFound();
  }
  if (method !== 'GET') return notFound();

  if (a === 'blocks' && b === 'tip' && len === 3) {
    const tip = chain.tip();
    if (c === 'height') return text(String(tip.height));
    if (c === 'hash') return text(toDisplayHex(tip.hash));
  }
  if (a === 'block-height' && len === 2) {
    const block = chain.block(parseHeight(b!));
    if (!block) throw new HttpError(404, 'Block not found');
    return text(toDisplayHex(block.hash));
  }
  if (a === 'block' && len === 3) {
    if (c === 'header') return text(bytesToHex(encodeHeader(blockByHashOr404(chain, b!).header)));
    if (c === 'txids')
      return json(blockByHashOr404(chain, b!).transactions.map((tx) => toDisplayHex(computeTxidCached(tx))));
    if (c === 'raw') {
      const raw = chain.rawBlock(parseHash(b!));
      if (!raw) throw new HttpError(404, 'Block not found');
      return bytes(raw);
    }
  }
  if (a === 'tx' && b !== undefined) {
    if (len === 2) {
      const found = chain.transaction(parseHash(b));
      if (!found) throw new HttpError(404, 'Transaction not found');
      return json(transactionValue(chain, found.tx, found.block));
    }
    if (len === 3 && (c === 'hex' || c === 'raw')) {
      const raw = chain.rawTransaction(parseHash(b));
      if (!raw) throw new HttpError(404, 'Transaction not found');
      return c === 'hex' ? text(bytesToHex(raw)) : bytes(raw);
    }
    if (len === 3 && c === 'status') {
      // electrs answers {"confirmed":false} for unknown transactions too
      return json(statusOf(chain.transaction(parseHash(b))?.block));
    }
    if (len === 3 && c === 'merkle-proof') {
      const proof = chain.merkleProof(parseHash(b));
      if (!proof) throw new HttpError(404, 'Transaction not found or is unconfirmed');
      return json({ block_height: proof.height, merkle: proof.branch.map(toDisplayHex), pos: proof.index });
    }
  }
  if (a === 'address' && b !== undefined && c !== undefined) {
    if (len === 3 && c === 'txs') return json(addressTxs(chain, parseAddressScript(b), { mempool: true }));
    if (c === 'txs' && d === 'chain' && (len === 4 || len === 5))
      return json(addressTxs(chain, parseAddressScript(b), { mempool: false, lastSeen: len === 5 ? e : undefined }));
    if (len === 3 && c === 'utxo') return json(addressUtxos(chain, parseAddressScript(b)));
  }
  return notFound();
}

function readBody(req: IncomingMessage): Promise<Uint8Array | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > MAX_BODY_SIZE) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return resolve('too-large');
      const out = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      resolve(out);
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: EsploraResponse): void {
  const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
  res.writeHead(r.status, {
    'Content-Type': r.contentType,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'Access-Control-Allow-Origin': '*',
  });
  res.end(body);
}

/** Serve the REST subset on 127.0.0.1 (`port` 0 = any free port). */
export async function serveEsplora(
  chain: RegtestChain,
  opts: { port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const port = opts.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0..65535, got ${port}`);
  const { url, server, close } = await listenLocal((req, res) => {
    readBody(req)
      .then((body) => {
        if (body === 'too-large') return send(res, text('Request body too large', 413));
        if (req.method === 'OPTIONS') {
          res.writeHead(204, {
            'Access-Control-Allow-Origin': '*',
            'Access-Control-Allow-Methods': 'GET, POST',
            'Access-Control-Allow-Headers': 'Content-Type',
          });
          return res.end();
        }
        send(res, handleEsploraRequest(chain, req.method ?? 'GET', req.url ?? '/', body));
      })
      .catch(() => {
        if (!res.headersSent) send(res, text('Bad request', 400));
        else res.destroy();
      });
  }, port);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return { url, close };
}
