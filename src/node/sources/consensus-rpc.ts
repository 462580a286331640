/**
 * A consensus RPC endpoint of Alys as a block source (spec 8): `getheadblock`, `getblockbyheight`
 * (a bare number param), `getblockbyhash` (a bare 64-hex string). Responses come back as *text*:
 * parsing and verifying happen where the node decides (the verifier pool, often a worker), so the
 * thread that downloads never pays for JSON.parse.
 */
import { configValueError } from '../../config/errors.js';
import type { Hex } from '../../protocol/bytes.js';
import { readBodyCapped } from './bounded-body.js';
import { ResponseTooLargeError, SourceError } from './errors.js';

export { SourceError };

/**
 * Default cap on one consensus RPC response body: 16 MiB. One response is one block as JSON, its
 * transactions as hex strings. The largest block the 30M gas limit allows (Alys genesis gasLimit
 * 0x1c9c380) is about 7.5 MB of zero-byte calldata at 4 gas a byte, 15 MB as hex, so an honest block
 * fits; devnet blocks are a few KB. Past that an endpoint is only making the node buffer.
 */
export const DEFAULT_CONSENSUS_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface ConsensusRpcSource {
  /** The endpoint URL (also its identity for scoring). */
  readonly id: string;
  /** The raw JSON-RPC response text of getheadblock. */
  head(): Promise<string>;
  /** The raw JSON-RPC response text of getblockbyheight(height). */
  blockAt(height: number): Promise<string>;
  /** The raw JSON-RPC response text of getblockbyhash(hash). */
  blockByHash(hash: Hex): Promise<string>;
}

/** The score fault a SourceError costs its source: an oversize answer counts as an unusable one, a busy source nothing. */
export function sourceFaultKind(e: SourceError): 'timeout' | 'unusable' | 'network' | 'busy' {
  if (e.kind === 'response-too-large') return 'unusable';
  return e.kind === 'timeout' || e.kind === 'unusable' || e.kind === 'busy' ? e.kind : 'network';
}

export interface ConsensusRpcOptions {
  url: string;
  timeoutMs?: number;
  /** Cap on one response body (default {@link DEFAULT_CONSENSUS_MAX_RESPONSE_BYTES}). */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
}

let requestId = 0;

export function createConsensusRpcSource(opts: ConsensusRpcOptions): ConsensusRpcSource {
  const url = opts.url;
  if (!/^https?:\/\//.test(url))
    throw configValueError('rpc', 'http(s) URLs', url, 'a consensus RPC URL must be http(s)');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_CONSENSUS_MAX_RESPONSE_BYTES;
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);

  async function call(method: string, params: unknown): Promise<string> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method, params, id: ++requestId }),
        signal: controller.signal,
      });
      const text = new TextDecoder().decode(await readBodyCapped(res, url, maxBytes, () => controller.abort()));
      // Alys answers some errors with HTTP 4xx/5xx *and* a JSON-RPC body; the verifier reads the body.
      if (res.status === 429) throw new SourceError(url, 'busy', `${method}: HTTP 429 (rate limited)`);
      if (!res.ok && !text.startsWith('{')) throw new SourceError(url, 'http', `${method}: HTTP ${res.status}`);
      return text;
    } catch (e) {
      if (e instanceof SourceError) throw e;
      if (e instanceof ResponseTooLargeError)
        throw new SourceError(url, 'response-too-large', `${method}: ${e.problem}`, { cause: e });
      if (controller.signal.aborted)
        throw new SourceError(url, 'timeout', `${method}: no answer within ${timeoutMs} ms`);
      throw new SourceError(url, 'network', `${method}: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    id: url,
    head: () => call('getheadblock', []),
    blockAt: (height) => call('getblockbyheight', height),
    blockByHash: (hash) => call('getblockbyhash', hash.slice(2)),
  };
}
