/**
 * The EVM JSON-RPC endpoints behind the verified reads: one viem client (http transport) per
 * endpoint, tried in order until one gives an answer that passes verification.
 *
 * Why not viem's `fallback` transport for verified reads: it fails over on transport errors only, and
 * does not say which endpoint answered. A lie arrives as a well-formed answer; only the caller's
 * verification exposes it, and the fault must be pinned on the endpoint that served it. So each
 * attempt runs the request(s) *and* the verification against one endpoint; a lie or failure is
 * reported (`onFault`) and the next endpoint is tried. `forward` (unverified pass-through, where
 * there is nothing to verify) does use `fallback`.
 *
 * Batches: `batch` sends several requests as ONE JSON-RPC batch (one HTTP request, under the same
 * response cap and timeout); its reply is checked by batch.ts (a bad pairing of replies to requests is
 * the endpoint's `rpc.batch-reply` fault). An endpoint that refuses a batch (one error object instead of
 * an array) is sent separate requests from then on.
 *
 * Order: endpoints in configuration order, except that an endpoint with a fault in the last
 * `faultCooldownMs` goes behind the healthy ones (least recent fault first), so a liar is not asked
 * first again on every read.
 */
import { createClient, fallback, http, type Client, type Transport } from 'viem';
import { DecodeError, VerificationError } from '../../protocol/errors.js';
import { cappedFetch, ResponseTooLargeError } from '../sources/bounded-body.js';
import { type BatchCall, BatchReplyProblem, batchBody, batchReplies } from './batch.js';
import {
  AllEndpointsFailedError,
  EndpointRequestError,
  EndpointVerificationError,
  type EndpointFault,
  type EndpointRequestFailure,
} from './errors.js';
import type { EndpointStats } from './types.js';

/** One endpoint, as an attempt sees it. */
export interface EndpointHandle {
  readonly url: string;
  /** A raw JSON-RPC request (the `result`); transport and JSON-RPC errors become EndpointRequestError. */
  request(method: string, params: readonly unknown[]): Promise<unknown>;
  /**
   * Several raw requests as one JSON-RPC batch (chunks of {@link MAX_BATCH_CALLS}); the results in the order
   * of `calls`. A JSON-RPC error of one call is its EndpointRequestError; a reply that does not pair one
   * answer with each call is EndpointVerificationError `rpc.batch-reply`. Separate parallel requests when
   * there is one call or the endpoint refuses batches.
   */
  batch(calls: readonly BatchCall[]): Promise<unknown[]>;
  /** The error to throw for a lie detected by the engine itself (not by a protocol check). */
  lie(check: string, problem: string, method?: string): EndpointVerificationError;
  /** The error to throw when the endpoint lacks data that exists (a null block for a verified hash). */
  missing(method: string, problem: string): EndpointRequestError;
  /** Run a decode/verify step, pinning protocol errors on `method` (for parallel requests). */
  check<T>(method: string, fn: () => T): T;
}

/** Returned by an attempt when the endpoint says "not found" for something that may truly not exist. */
export const ABSENT: unique symbol = Symbol('absent');
export type Absent = typeof ABSENT;

/**
 * Default cap on one EVM JSON-RPC response body: 32 MiB. The largest honest answers are a block's:
 * under the 30M gas limit, eth_getBlockReceipts of a block of minimal logs (~381 gas and ~340 bytes of
 * JSON each) is about 27 MB, a full block of zero-byte calldata about 15 MB of hex. Devnet answers
 * are a few KB. Bodies are read under the cap and aborted past it (sources/bounded-body.ts).
 */
export const DEFAULT_EVM_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** The most calls in one batch request (geth's default limit is 1,000; some providers take far fewer). */
export const MAX_BATCH_CALLS = 100;

export interface EndpointPoolOptions {
  urls: readonly string[];
  timeoutMs: number;
  /** Cap on one response body (bytes). */
  maxResponseBytes: number;
  fetch: typeof fetch | undefined;
  onFault: ((url: string, error: EndpointFault) => void) | undefined;
  faultCooldownMs: number;
  now: () => number;
}

export interface EndpointPool {
  readonly urls: readonly string[];
  /** Run `attempt` against endpoints in order until one succeeds; throws if none does. */
  run<T>(what: string, attempt: (ep: EndpointHandle) => Promise<T>): Promise<T>;
  /**
   * Like run, but an attempt may answer ABSENT ("not found"): the next endpoint is asked (absence cannot be
   * proven, so every endpoint gets a say); undefined only when no endpoint had it and none failed it all.
   */
  runAllowingAbsence<T>(what: string, attempt: (ep: EndpointHandle) => Promise<T | Absent>): Promise<T | undefined>;
  /** Unverified request with transport failover (viem `fallback`). */
  forward(method: string, params: unknown): Promise<unknown>;
  stats(): EndpointStats[];
}

interface Endpoint {
  url: string;
  client: Client;
  stats: EndpointStats;
  /** False once the endpoint refused a batch: separate requests from then on. */
  batches: boolean;
}

type RawRequest = (args: { method: string; params?: unknown }) => Promise<unknown>;

function rpcCodeOf(error: unknown): number | undefined {
  // viem wraps the JSON-RPC error (RpcRequestError, code) in a typed RpcError (same code).
  for (
    let e: unknown = error, depth = 0;
    e !== null && typeof e === 'object' && depth < 8;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** The ResponseTooLargeError in `error`'s cause chain (viem wraps what fetch threw), if any. */
function tooLargeOf(error: unknown): ResponseTooLargeError | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    if (e instanceof ResponseTooLargeError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function shortOf(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const short =
      (error as { shortMessage?: unknown; details?: unknown }).details ??
      (error as { shortMessage?: unknown }).shortMessage;
    if (typeof short === 'string' && short.length > 0) return short;
  }
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** The EndpointRequestError for what a request to `url` threw (viem's errors, fetch's, the body cap's). */
function requestFailure(url: string, method: string, e: unknown): EndpointRequestError {
  const tooLarge = tooLargeOf(e);
  if (tooLarge)
    return new EndpointRequestError('response-too-large', tooLarge.problem, { endpoint: url, method, cause: tooLarge });
  const code = rpcCodeOf(e);
  const reason: EndpointRequestFailure = code === undefined ? 'transport' : 'rpc-error';
  return new EndpointRequestError(reason, shortOf(e), {
    endpoint: url,
    method,
    ...(code === undefined ? {} : { rpcCode: code }),
    cause: e,
  });
}

/** How a batch is named in errors: `batch(eth_getProof x3, eth_getCode)`. */
function batchLabel(calls: readonly BatchCall[]): string {
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(c.method, (counts.get(c.method) ?? 0) + 1);
  return `batch(${[...counts].map(([m, n]) => (n === 1 ? m : `${m} x${n}`)).join(', ')})`;
}

export function createEndpointPool(options: EndpointPoolOptions): EndpointPool {
  const fetchCapped = cappedFetch(
    options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    options.maxResponseBytes,
  );
  let nextBatchId = 1;
  const httpTransport = (url: string): Transport =>
    http(url, {
      retryCount: 0,
      timeout: options.timeoutMs,
      fetchFn: fetchCapped,
    });
  const endpoints: Endpoint[] = options.urls.map((url) => ({
    url,
    client: createClient({ transport: httpTransport(url) }),
    stats: { url, verified: 0, lies: 0, failures: 0, lastFaultAt: undefined },
    batches: true,
  }));
  const forwarder = createClient({
    transport:
      endpoints.length === 1
        ? httpTransport(endpoints[0]!.url)
        : fallback(
            endpoints.map((e) => httpTransport(e.url)),
            { retryCount: 0 },
          ),
  });

  function ordered(): Endpoint[] {
    const t = options.now();
    const recent = (e: Endpoint) =>
      e.stats.lastFaultAt !== undefined && t - e.stats.lastFaultAt < options.faultCooldownMs;
    const healthy = endpoints.filter((e) => !recent(e));
    const faulty = endpoints.filter(recent).sort((a, b) => a.stats.lastFaultAt! - b.stats.lastFaultAt!);
    return [...healthy, ...faulty];
  }

  function handle(ep: Endpoint): EndpointHandle & { lastMethod: string } {
    const h = {
      url: ep.url,
      lastMethod: '(none)',
      async request(method: string, params: readonly unknown[]): Promise<unknown> {
        h.lastMethod = method;
        try {
          return await (ep.client.request as unknown as RawRequest)({ method, params });
        } catch (e) {
          throw requestFailure(ep.url, method, e);
        }
      },
      async batch(calls: readonly BatchCall[]): Promise<unknown[]> {
        const chunks: BatchCall[][] = [];
        for (let i = 0; i < calls.length; i += MAX_BATCH_CALLS) chunks.push(calls.slice(i, i + MAX_BATCH_CALLS));
        const separate = (chunk: readonly BatchCall[]) => Promise.all(chunk.map((c) => h.request(c.method, c.params)));
        const answers = await Promise.all(
          chunks.map(async (chunk) => {
            if (chunk.length === 1 || !ep.batches) return separate(chunk);
            h.lastMethod = batchLabel(chunk);
            return (await postBatch(ep, chunk)) ?? separate(chunk);
          }),
        );
        return answers.flat();
      },
      lie(check: string, problem: string, method?: string) {
        return new EndpointVerificationError(check, problem, { endpoint: ep.url, method: method ?? h.lastMethod });
      },
      missing(method: string, problem: string) {
        return new EndpointRequestError('missing', problem, { endpoint: ep.url, method });
      },
      check<T>(method: string, fn: () => T): T {
        try {
          return fn();
        } catch (e) {
          throw faultOf(e, ep.url, method) ?? e;
        }
      },
    };
    return h;
  }

  /**
   * `calls` as one batch request to `ep`: the results in order, or undefined when the endpoint refuses batches
   * (then `ep.batches` is false). Faults as EndpointHandle.batch says.
   */
  async function postBatch(ep: Endpoint, calls: readonly BatchCall[]): Promise<unknown[] | undefined> {
    const method = batchLabel(calls);
    const firstId = nextBatchId;
    nextBatchId += calls.length;
    let status: number;
    let text: string;
    try {
      const res = await fetchCapped(ep.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: batchBody(calls, firstId),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (e) {
      throw requestFailure(ep.url, method, e);
    }
    // Rate limits and server errors are failures whatever the body says (not a refusal of batches).
    const httpFailure = () => new EndpointRequestError('transport', `HTTP ${status}`, { endpoint: ep.url, method });
    if (status === 429 || status >= 500) throw httpFailure();
    const bad = (problem: string) =>
      new EndpointVerificationError('rpc.batch-reply', problem, {
        endpoint: ep.url,
        method,
        details: 'the reply to a JSON-RPC batch does not pair one answer with each request; it was skipped',
      });
    let replies: ReturnType<typeof batchReplies>;
    try {
      replies = batchReplies(JSON.parse(text), firstId, calls.length);
    } catch (e) {
      if (status < 200 || status >= 300) throw httpFailure();
      if (e instanceof SyntaxError) throw bad('the reply to a batch is not JSON');
      if (e instanceof BatchReplyProblem) throw bad(e.message);
      throw e;
    }
    if ('refused' in replies) {
      ep.batches = false;
      return undefined;
    }
    if (status < 200 || status >= 300) throw httpFailure();
    return replies.map((r, i) => {
      if (r.ok) return r.result;
      const call = calls[i]!.method;
      throw new EndpointRequestError('rpc-error', r.message, {
        endpoint: ep.url,
        method: call,
        ...(r.code === undefined ? {} : { rpcCode: r.code }),
      });
    });
  }

  /** The endpoint's fault for an error an attempt threw, or null when it is not the endpoint's doing. */
  function faultOf(e: unknown, url: string, method: string): EndpointFault | null {
    if (e instanceof EndpointVerificationError || e instanceof EndpointRequestError) return e;
    if (e instanceof VerificationError)
      return new EndpointVerificationError(e.check, e.shortMessage, { endpoint: url, method, cause: e });
    if (e instanceof DecodeError)
      return new EndpointVerificationError('rpc.malformed-response', e.shortMessage, {
        endpoint: url,
        method,
        details: 'the endpoint answered with data that does not decode as the JSON-RPC result; it was skipped',
        cause: e,
      });
    return null;
  }

  function report(ep: Endpoint, fault: EndpointFault): void {
    if (fault instanceof EndpointVerificationError) ep.stats.lies++;
    else ep.stats.failures++;
    ep.stats.lastFaultAt = options.now();
    if (options.onFault === undefined) return;
    try {
      options.onFault(ep.url, fault);
    } catch {
      // A throwing callback must not turn a recoverable fault into a failed read.
    }
  }

  async function runInner<T>(
    what: string,
    attempt: (ep: EndpointHandle) => Promise<T | Absent>,
    allowAbsent: boolean,
  ): Promise<T | undefined> {
    const faults: EndpointFault[] = [];
    let absent = 0;
    for (const ep of ordered()) {
      const h = handle(ep);
      let result: T | Absent;
      try {
        result = await attempt(h);
      } catch (e) {
        const fault = faultOf(e, ep.url, h.lastMethod);
        if (fault === null) throw e;
        report(ep, fault);
        faults.push(fault);
        continue;
      }
      if (result === ABSENT) {
        if (!allowAbsent) throw new Error(`internal: attempt for ${what} answered ABSENT`);
        absent++;
        continue;
      }
      ep.stats.verified++;
      return result;
    }
    if (absent > 0 || faults.length === 0) return undefined;
    if (faults.length === 1) throw faults[0]!;
    throw new AllEndpointsFailedError(what, faults);
  }

  return {
    urls: endpoints.map((e) => e.url),
    async run<T>(what: string, attempt: (ep: EndpointHandle) => Promise<T>): Promise<T> {
      return (await runInner<T>(what, attempt, false)) as T;
    },
    runAllowingAbsence<T>(what: string, attempt: (ep: EndpointHandle) => Promise<T | Absent>): Promise<T | undefined> {
      return runInner(what, attempt, true);
    },
    forward(method: string, params: unknown): Promise<unknown> {
      return (forwarder.request as unknown as RawRequest)(params === undefined ? { method } : { method, params });
    },
    stats: () => endpoints.map((e) => ({ ...e.stats })),
  };
}
