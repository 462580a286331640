/**
 * The edge Worker's router: a table of routes, one module per route (routes/*.ts), matched by method
 * and path. A path pattern is literal segments and `:name` segments; a literal segment wins over a
 * `:name` one, so `POST /verify/bundle` can sit next to `POST /verify/:kind`. Errors become JSON:
 * EdgeRequestError its 4xx, EdgeConfigError 500 naming the var, anything else 500 without details.
 */
import { type EdgeConfig, type EdgeEnv, edgeConfig } from './config.js';
import { EdgeConfigError, EdgeRequestError } from './errors.js';
import { jsonResponse } from './http.js';

export interface RouteContext {
  env: EdgeEnv;
  /** The Worker's configuration (once per isolate); throws EdgeConfigError when the vars are unusable. */
  config: () => EdgeConfig;
}

export interface EdgeRoute {
  method: 'GET' | 'POST';
  path: string;
  handle(request: Request, ctx: RouteContext, params: Record<string, string>): Promise<Response>;
}

/** The params of `pathname` under `pattern`, or undefined if it does not match. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) {
      if (g === '') return undefined;
      params[w.slice(1)] = g;
    } else if (w !== g) return undefined;
  }
  return params;
}

/** Literal segments before `:name` ones, position by position: the more specific route first. */
function specificity(pattern: string): string {
  return pattern
    .split('/')
    .map((s) => (s.startsWith(':') ? '1' : '0'))
    .join('');
}

export function createRouter(routes: readonly EdgeRoute[]) {
  const ordered = [...routes].sort((a, b) => specificity(a.path).localeCompare(specificity(b.path)));
  return async function route(request: Request, env: EdgeEnv): Promise<Response> {
    const { pathname } = new URL(request.url);
    const ctx: RouteContext = { env, config: () => edgeConfig(env) };
    const matching = ordered.flatMap((r) => {
      const params = matchPath(r.path, pathname);
      return params ? [{ route: r, params }] : [];
    });
    try {
      if (matching.length === 0) throw new EdgeRequestError('edge.not-found', 404, `no route for ${pathname}`);
      const hit = matching.find((m) => m.route.method === request.method);
      if (!hit)
        throw new EdgeRequestError('edge.method-not-allowed', 405, `${request.method} is not allowed on ${pathname}`, {
          hint: `use ${[...new Set(matching.map((m) => m.route.method))].join(', ')}`,
        });
      return await hit.route.handle(request, ctx, hit.params);
    } catch (e) {
      return errorResponse(e);
    }
  };
}

function errorResponse(e: unknown): Response {
  if (e instanceof EdgeRequestError)
    return jsonResponse(e.status, { error: e.code, reason: e.shortMessage, ...(e.hint ? { hint: e.hint } : {}) });
  if (e instanceof EdgeConfigError)
    return jsonResponse(500, {
      error: e.code,
      key: e.key,
      reason: e.shortMessage,
      ...(e.hint ? { hint: e.hint } : {}),
    });
  return jsonResponse(500, { error: 'edge.internal', reason: 'internal error' });
}
