/**
 * The worker entry that runs the light node off the page's main thread (src/platform/browser/node-worker/).
 * As a SharedWorker every tab of the origin connects a port (`connect` events); as a dedicated worker
 * the leader tab hands it one port per tab (`{ t: 'connect' }` messages with the port). Either way one
 * node per database serves them all. Nested verifier workers where this scope can start workers;
 * verifiers in this thread otherwise (still off the main thread).
 */
import { loadBrowserConfig } from '../src/config/load.js';
import { createLightNode } from '../src/index.js';
import { createNodeHost, type NodeConnection } from '../src/platform/browser/node-worker/host.js';
import { createBrowserPlatform } from '../src/platform/browser/platform.js';

const host = createNodeHost((init, p2p) => {
  const options = { ...init.config, ...(typeof Worker === 'undefined' ? { verifierWorkers: 0 } : {}) };
  // the browser platform, with libp2p on the page that attaches to the bridge (p2p.listen / p2p.bootstrap)
  const platform = {
    ...createBrowserPlatform(loadBrowserConfig({ options }).config, { databaseName: init.databaseName }),
    p2pHost: p2p.host,
  };
  return createLightNode({
    ...options,
    // JSON text when the page had it: this node checks its keys (the page did not)
    chainSpec: init.specJson ?? init.spec,
    platform,
    ...(init.engines !== undefined ? { engines: init.engines } : {}),
    ...(init.subscriptionMaxLag !== undefined ? { subscriptionMaxLag: init.subscriptionMaxLag } : {}),
    placement: 'page',
  });
});

function portConnection(port: MessagePort): NodeConnection {
  return {
    post: (msg) => port.postMessage(msg),
    onMessage: (cb) => {
      port.addEventListener('message', (e) => cb(e.data, e.ports));
      port.start();
    },
    onClose: (cb) => port.addEventListener('close', cb),
  };
}

const scope = globalThis as unknown as {
  addEventListener(type: string, cb: (e: MessageEvent & ErrorEvent) => void): void;
};
if ('onconnect' in globalThis) {
  scope.addEventListener('connect', (e) => {
    const port = e.ports[0];
    if (port) host.connect(portConnection(port));
  });
  // a SharedWorker's uncaught error reaches no page (unlike a dedicated worker's): its nodes are retired
  // and every page is told, whose supervisors reconnect at once (see createNodeHost)
  scope.addEventListener('error', (e) => host.crashed(e.message || 'uncaught error in the node worker'));
} else {
  scope.addEventListener('message', (e) => {
    const port = e.ports[0];
    if ((e.data as { t?: string })?.t === 'connect' && port) host.connect(portConnection(port));
  });
}
