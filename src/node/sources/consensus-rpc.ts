/**
 * A consensus RPC endpoint of Alys as a block source (spec 8): `getheadblock`, `getblockbyheight`
 * (a bare number param), `getblockbyhash` (a bare 64-hex string). Responses come back as *text*:
 * parsing and verifying happen where the node decides (the verifier pool, often a worker), so the
 * thread that downloads never pays for JSON.parse.
 */
import { configValueError } from '../../config/errors.js';
import { AlysLightError } from '../../errors.js';
import type { Hex } from '../../protocol/bytes.js';

/** A consensus RPC source failed to answer; code `source.<kind>`. */
export class SourceError extends AlysLightError {
  override name = 'SourceError';
  declare readonly code: `source.${SourceError['kind']}`;
  constructor(
    readonly source: string,
    /** `unusable`: an answer arrived but says nothing usable (a malformed head claim, junk bytes). */
    readonly kind: 'timeout' | 'network' | 'http' | 'aborted' | 'unusable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`source.${kind}`, `${source}: ${message}`, options);
  }
}

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

export interface ConsensusRpcOptions {
  url: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

let requestId = 0;

export function createConsensusRpcSource(opts: ConsensusRpcOptions): ConsensusRpcSource {
  const url = opts.url;
  if (!/^https?:\/\//.test(url))
    throw configValueError('rpc', 'http(s) URLs', url, 'a consensus RPC URL must be http(s)');
  const timeoutMs = opts.timeoutMs ?? 10_000;
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
      const text = await res.text();
      // Alys answers some errors with HTTP 4xx/5xx *and* a JSON-RPC body; the verifier reads the body.
      if (!res.ok && !text.startsWith('{')) throw new SourceError(url, 'http', `${method}: HTTP ${res.status}`);
      return text;
    } catch (e) {
      if (e instanceof SourceError) throw e;
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
