/**
 * The governance stream's transport in Node: gRPC over HTTP/2 (connect-node), which the real governance
 * server (tonic) speaks and which carries the bidirectional `Stream` call. Handed to the node's
 * GovernanceActor as a {@link GovernanceTransport}; src/node never imports `node:http2` itself.
 */
import { createGrpcTransport } from '@connectrpc/connect-node';
import { GOVERNANCE_MAX_MESSAGE_BYTES, type GovernanceTransport } from '../../node/governance/transport.js';

export interface NodeGovernanceTransportOptions {
  /** Cap on one received message (default 64 KiB). */
  readMaxBytes?: number;
  /** Extra request headers, e.g. `authorization: Bearer ...` or `x-api-key` (Alys authenticates per connection). */
  headers?: Record<string, string>;
}

export function createNodeGovernanceTransport(
  url: string,
  opts: NodeGovernanceTransportOptions = {},
): GovernanceTransport {
  const headers = opts.headers ?? {};
  const transport = createGrpcTransport({
    baseUrl: url,
    readMaxBytes: opts.readMaxBytes ?? GOVERNANCE_MAX_MESSAGE_BYTES,
    interceptors: [
      (next) => (req) => {
        for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
        return next(req);
      },
    ],
  });
  return { transport, duplex: true, url };
}
