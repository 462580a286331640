/**
 * A `node:http` server on a local address: listen, learn the bound port, close. Shared by the
 * CLI's status endpoint, the devnet's servers and the tests' stub servers.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalHttpServer {
  /** `http://<host>:<port>`, no trailing slash. */
  readonly url: string;
  /** The bound port (the free port the system picked when asked for 0). */
  readonly port: number;
  /** The underlying server, for callers that add listeners (`clientError`, `upgrade`) or tune it. */
  readonly server: Server;
  /** Stop listening and drop every open connection (keep-alive ones too); resolves once closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serve `handler` on `host` (default 127.0.0.1) and `port` (default 0: any free port). Rejects
 * if the port cannot be bound (EADDRINUSE, EACCES).
 */
export async function listenLocal(handler: RequestListener, port = 0, host = '127.0.0.1'): Promise<LocalHttpServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    server,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
