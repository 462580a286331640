/** libp2p transports in Node: TCP and WebSockets (WebRTC-direct joins with the relay work). */
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';

export function nodeTransports() {
  return [tcp(), webSockets()];
}

/** Loopback listen addresses on free ports: TCP and WebSockets. */
export const LOOPBACK_LISTEN = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'];
