/** What the p2p services ask of libp2p's open connections: who is connected, directly or through a relay. */
import type { Connection, Libp2p } from '@libp2p/interface';

/** A connection through a circuit relay (its remote address has /p2p-circuit), not a direct one. */
export function isRelayed(connection: Connection): boolean {
  return connection.remoteAddr.toString().includes('/p2p-circuit');
}

/** Whether we hold a connection to `peer`; with `direct`, one that does not go through a relay. */
export function isConnected(libp2p: Libp2p, peer: string, direct: boolean): boolean {
  return libp2p.getConnections().some((c) => c.remotePeer.toString() === peer && (!direct || !isRelayed(c)));
}

/** Connected peers (peer id strings), each once. */
export function connectedPeers(libp2p: Libp2p): string[] {
  return [...new Set(libp2p.getConnections().map((c) => c.remotePeer.toString()))];
}

/** Close every connection to `peer`, one after another; a close that fails is ignored. */
export async function disconnect(libp2p: Libp2p, peer: string): Promise<void> {
  for (const c of libp2p.getConnections()) if (c.remotePeer.toString() === peer) await c.close().catch(() => {});
}
