/**
 * The light node's routes on the Worker: `POST /rpc`, `GET /status`, `GET /metrics`, `GET /ws` (WebSocket) are forwarded to the
 * chain's Durable Object (`ALYS_NODE`, named by the configured chain spec's fingerprint, so every Worker
 * with the same spec reaches the same object). See node/object.ts.
 */
import { specFingerprint } from '../../../src/protocol/spec-fingerprint.js';
import { EdgeConfigError } from '../errors.js';
import type { EdgeRoute, RouteContext } from '../router.js';

/** The part of a Durable Object namespace binding the Worker uses. */
export interface NodeNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

function forward(request: Request, ctx: RouteContext): Promise<Response> {
  const namespace = (ctx.env as { ALYS_NODE?: NodeNamespace }).ALYS_NODE;
  if (!namespace)
    throw new EdgeConfigError('ALYS_NODE', 'the ALYS_NODE Durable Object binding is missing', {
      hint: 'bind the AlysLightNode class as ALYS_NODE ([[durable_objects.bindings]] in wrangler.toml)',
    });
  const { spec } = ctx.config();
  return namespace.get(namespace.idFromName(specFingerprint(spec))).fetch(request);
}

export const nodeRoutes: EdgeRoute[] = [
  { method: 'POST', path: '/rpc', handle: (request, ctx) => forward(request, ctx) },
  { method: 'GET', path: '/status', handle: (request, ctx) => forward(request, ctx) },
  { method: 'GET', path: '/metrics', handle: (request, ctx) => forward(request, ctx) },
  { method: 'GET', path: '/ws', handle: (request, ctx) => forward(request, ctx) },
];
