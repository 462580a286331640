/**
 * The governance transport in browsers and Workers: gRPC-web over fetch (connect-web). Fetch is
 * half-duplex, so this transport is marked `duplex: false`: the unary Health and GetCapabilities calls work
 * (against a server that speaks gRPC-web, e.g. tonic with tonic-web, or a proxy), and the bidirectional
 * `Stream` call is refused up front with `governance.transport-unsupported` (docs/federation-updates.md).
 */
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import { GovernanceBadResponseError } from '../../node/governance/errors.js';
import { GOVERNANCE_MAX_MESSAGE_BYTES, type GovernanceTransport } from '../../node/governance/transport.js';

export interface WebGovernanceTransportOptions {
  /** Cap on one response body (default 64 KiB; connect-web has no `readMaxBytes`, so the fetch enforces it). */
  readMaxBytes?: number;
  /** A fetch to use instead of the global one (Workers service bindings, tests). */
  fetch?: typeof globalThis.fetch;
}

export function createWebGovernanceTransport(
  url: string,
  opts: WebGovernanceTransportOptions = {},
): GovernanceTransport {
  const inner = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const transport = createGrpcWebTransport({
    baseUrl: url,
    fetch: cappedFetch(inner, opts.readMaxBytes ?? GOVERNANCE_MAX_MESSAGE_BYTES),
  });
  return { transport, duplex: false, url };
}

/** A fetch whose response bodies fail past `maxBytes`. */
function cappedFetch(inner: typeof globalThis.fetch, maxBytes: number): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (!response.body) return response;
    let seen = 0;
    const cap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes)
          controller.error(new GovernanceBadResponseError(`a response is larger than ${maxBytes} bytes`));
        else controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(cap), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
