/**
 * The governance client's transport seam and unary calls.
 *
 * The node takes a Connect `Transport` from its platform, never builds one (Node's gRPC transport needs
 * `node:http2`, which src/node must not import): src/platform/nodejs/governance.ts makes a gRPC over HTTP/2
 * transport (the real governance server is tonic gRPC), src/platform/browser/governance.ts a gRPC-web one
 * over fetch. Fetch is half-duplex, so a {@link GovernanceTransport} says whether it can run the
 * bidirectional `Stream` call; the stream client refuses a half-duplex one with
 * {@link GovernanceTransportUnsupportedError} instead of hanging. Health and GetCapabilities are unary and
 * work on both.
 */
import { createClient, type Client, type Transport } from '@connectrpc/connect';
import { GovernanceStream } from './gen/governance/v1/governance_pb.js';
import { GovernanceBadResponseError, GovernanceTransportUnsupportedError } from './errors.js';

export interface GovernanceTransport {
  readonly transport: Transport;
  /** True when the transport can run a bidirectional stream (HTTP/2 in Node); false over fetch. */
  readonly duplex: boolean;
  /** Where it goes, for messages and fault accounting (the server URL). */
  readonly url: string;
}

/** Default cap on one received message (connect's `readMaxBytes`); a FederationUpdate of 15 members is ~3 KiB. */
export const GOVERNANCE_MAX_MESSAGE_BYTES = 64 * 1024;

export type GovernanceClient = Client<typeof GovernanceStream>;

export function governanceClient(t: GovernanceTransport): GovernanceClient {
  return createClient(GovernanceStream, t.transport);
}

/** The client for the `Stream` call; throws `governance.transport-unsupported` on a half-duplex transport. */
export function streamingGovernanceClient(t: GovernanceTransport): GovernanceClient {
  if (!t.duplex) throw new GovernanceTransportUnsupportedError(t.url);
  return governanceClient(t);
}

export interface GovernanceServerHealth {
  status: number;
  version: string;
  uptimeSeconds: number;
  info: Record<string, string>;
}

const MAX_TEXT = 256;
const MAX_ENTRIES = 64;

function boundedMap<V>(map: { [key: string]: V }, what: string): Record<string, V> {
  const entries = Object.entries(map);
  if (entries.length > MAX_ENTRIES) throw new GovernanceBadResponseError(`${what} has ${entries.length} entries`);
  for (const [k, v] of entries)
    if (k.length > MAX_TEXT || (typeof v === 'string' && v.length > MAX_TEXT))
      throw new GovernanceBadResponseError(`${what} entry ${k.slice(0, 32)} is too long`);
  return Object.fromEntries(entries);
}

function boundedList(list: string[], what: string): string[] {
  if (list.length > MAX_ENTRIES || list.some((s) => s.length > MAX_TEXT))
    throw new GovernanceBadResponseError(`${what} is too long`);
  return [...list];
}

/** The server's Health answer (unary: works over any transport). */
export async function governanceHealth(t: GovernanceTransport, signal?: AbortSignal): Promise<GovernanceServerHealth> {
  const r = await governanceClient(t).health({}, { ...(signal ? { signal } : {}) });
  if (r.version.length > MAX_TEXT) throw new GovernanceBadResponseError('version is too long');
  if (r.uptime < 0n || r.uptime > BigInt(Number.MAX_SAFE_INTEGER))
    throw new GovernanceBadResponseError(`uptime ${r.uptime} is out of range`);
  return { status: r.status, version: r.version, uptimeSeconds: Number(r.uptime), info: boundedMap(r.info, 'info') };
}

export interface GovernanceServerCapabilities {
  protocolVersions: string[];
  features: string[];
  limits: Record<string, number>;
}

/** The server's GetCapabilities answer (unary: works over any transport). */
export async function governanceCapabilities(
  t: GovernanceTransport,
  nodeId: string,
  signal?: AbortSignal,
): Promise<GovernanceServerCapabilities> {
  const r = await governanceClient(t).getCapabilities({ nodeId }, { ...(signal ? { signal } : {}) });
  return {
    protocolVersions: boundedList(r.protocolVersions, 'protocol_versions'),
    features: boundedList(r.features, 'features'),
    limits: boundedMap(r.limits, 'limits'),
  };
}

/** An async iterable of outgoing stream messages fed by `push` (the request side of a bidi call). */
export class RequestQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
