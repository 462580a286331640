/**
 * The consensus JSON-RPC of Alys (spec 8), with its exact shapes: "1.0 style" responses
 * `{"result","error","id"}` (both present, no "jsonrpc"), the parameter forms of each method, the
 * HTTP statuses and error codes, and the cases where Alys aborts the request without a JSON-RPC body
 * (a hyper service error: the connection is closed with no response; spec uncertainty 11).
 */
import type { IncomingMessage } from 'node:http';
import { listenLocal, type LocalHttpServer } from '../../platform/nodejs/http.js';
import { parseSubmitAuxBlockParams } from '../../protocol/auxpow/codec.js';
import { federationAddress, type Federation } from '../../protocol/bridge/taproot.js';
import { encodeAuxBlockJson, encodeAuxPowHeaderJson, encodeSignedBlockJson } from '../../protocol/codec/json.js';
import { DecodeError } from '../../protocol/errors.js';
import type { Hex, SignedConsensusBlock } from '../../protocol/types.js';
import type { MergedMining } from './mining.js';

/** What the RPC reads of a chain (a ChainStore, or a persisted chain served again). */
export interface ConsensusRpcChain {
  readonly head: { signed: SignedConsensusBlock };
  at(number: number): { signed: SignedConsensusBlock } | undefined;
  get(hash: Hex): { signed: SignedConsensusBlock } | undefined;
}

export interface ConsensusRpcDeps {
  chain: ConsensusRpcChain;
  pow: Pick<MergedMining, 'queuedPow' | 'createAuxBlock' | 'submitAuxBlock'>;
  federation: Federation;
  bitcoinNetwork: 'regtest' | 'testnet' | 'mainnet';
}

/** What to send back: a JSON body with a status, or nothing at all (`abort`: close the connection). */
export type RpcReply = { status: number; body: string; contentType: string } | { abort: true; reason: string };

const MAX_BODY = 4 * 1024 * 1024;

function reply(
  status: number,
  id: unknown,
  result: unknown,
  error: { code: number; message: string } | null,
): RpcReply {
  // serde of Alys's JsonRpcResponseV1 struct: result, error, id in this order
  return {
    status,
    contentType: 'application/json',
    body: JSON.stringify({ result: result ?? null, error, id: id ?? null }),
  };
}

const ok = (id: unknown, result: unknown) => reply(200, id, result, null);
const err = (status: number, id: unknown, code: number, message: string) => reply(status, id, null, { code, message });

/** Handle one HTTP request body (already read) for `method` (the HTTP method). Never throws. */
export function handleConsensusRpc(deps: ConsensusRpcDeps, httpMethod: string, body: string): RpcReply {
  if (httpMethod !== 'POST')
    return { status: 405, contentType: 'text/plain', body: 'Used HTTP Method is not allowed. POST is required' };
  let req: unknown;
  try {
    req = JSON.parse(body);
  } catch {
    return { abort: true, reason: 'body is not JSON' };
  }
  if (
    typeof req !== 'object' ||
    req === null ||
    Array.isArray(req) ||
    typeof (req as { method?: unknown }).method !== 'string' ||
    !('id' in req)
  )
    return { abort: true, reason: 'not a JSON-RPC 1.0 request object with method and id' };
  const { method, params, id } = req as { method: string; params?: unknown; id: unknown };
  if (params === undefined) return err(200, id, -32600, 'Invalid Request');
  try {
    switch (method) {
      case 'getheadblock':
        return ok(id, encodeSignedBlockJson(deps.chain.head.signed));
      case 'getblockbyheight': {
        if (typeof params !== 'number' || !Number.isSafeInteger(params) || params < 0)
          return err(
            400,
            id,
            -32605,
            `invalid params: expected a bare block height number, got ${JSON.stringify(params)?.slice(0, 40)}`,
          );
        const b = deps.chain.at(params);
        return ok(id, b ? encodeSignedBlockJson(b.signed) : null);
      }
      case 'getblockbyhash': {
        if (typeof params !== 'string') return err(400, id, -32602, 'Invalid params');
        if (!/^[0-9a-fA-F]*$/.test(params) || params.length % 2 !== 0)
          return { abort: true, reason: 'bad hex (Alys: service error)' };
        if (params.length !== 64) return { abort: true, reason: 'wrong hash length (Alys: the node panics)' };
        const b = deps.chain.get(`0x${params.toLowerCase()}` as Hex);
        return ok(id, b ? encodeSignedBlockJson(b.signed) : null);
      }
      case 'getqueuedpow': {
        const q = deps.pow.queuedPow;
        return ok(id, q ? encodeAuxPowHeaderJson(q) : null);
      }
      case 'getdepositaddress':
        return ok(id, federationAddress(deps.federation, deps.bitcoinNetwork));
      case 'createauxblock': {
        if (
          !Array.isArray(params) ||
          params.length !== 1 ||
          typeof params[0] !== 'string' ||
          !/^0x[0-9a-fA-F]{40}$/.test(params[0])
        )
          return err(400, id, -32602, 'Invalid params');
        try {
          return ok(id, encodeAuxBlockJson(deps.pow.createAuxBlock(params[0].toLowerCase() as Hex)));
        } catch {
          return err(503, id, -32606, 'Chain is syncing');
        }
      }
      case 'submitauxblock': {
        let parsed: ReturnType<typeof parseSubmitAuxBlockParams>;
        try {
          parsed = parseSubmitAuxBlockParams(params);
        } catch (e) {
          return err(400, id, -32605, (e as Error).message.split('\n')[0]!);
        }
        try {
          deps.pow.submitAuxBlock(parsed.auxHash, parsed.auxpow);
        } catch (e) {
          return { abort: true, reason: `submitauxblock rejected: ${(e as Error).message.split('\n')[0]}` };
        }
        return ok(id, null);
      }
      default:
        return err(404, id, -32601, 'Method not found');
    }
  } catch (e) {
    if (e instanceof DecodeError) return err(400, id, -32605, e.message.split('\n')[0]!);
    return { abort: true, reason: `internal error: ${(e as Error).message}` };
  }
}

/** The request body as text (null: over MAX_BODY or the connection failed). */
export function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

const CORS_PREFLIGHT = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '600',
};

/** Serve on 127.0.0.1 (port 0 = any free port). `handle` lets a caller wrap replies (fault injection). */
export async function serveConsensusRpc(
  port: number,
  handle: (httpMethod: string, body: string) => RpcReply | Promise<RpcReply>,
): Promise<LocalHttpServer> {
  return listenLocal(async (req, res) => {
    // CORS, so a light node in a web page (another origin) can use the devnet: answer the preflight
    // of a JSON POST, and allow any origin to read the replies.
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS_PREFLIGHT);
      return void res.end();
    }
    const body = await readBody(req);
    if (body === null) return void res.destroy();
    let r: RpcReply;
    try {
      r = await handle(req.method ?? 'GET', body);
    } catch {
      return void res.destroy();
    }
    if ('abort' in r) return void res.destroy();
    res.writeHead(r.status, {
      'content-type': r.contentType,
      'content-length': Buffer.byteLength(r.body),
      'access-control-allow-origin': '*',
    });
    res.end(r.body);
  }, port);
}
