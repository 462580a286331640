/**
 * The edge Worker (Cloudflare Workers, `wrangler deploy` of workers/edge): stateless verification at
 * the edge. Routes are in routes/, one module each; the table is here. See docs/edge.md.
 */
import type { EdgeEnv } from './config.js';
import { createRouter } from './router.js';
import { bundleRoute } from './routes/bundle.js';
import { nodeRoutes } from './routes/node.js';
import { verifyRoute } from './routes/verify.js';

export { AlysLightNode } from './node/object.js';

const route = createRouter([verifyRoute, bundleRoute, ...nodeRoutes]);

export default {
  fetch(request: Request, env: EdgeEnv): Promise<Response> {
    return route(request, env);
  },
};
