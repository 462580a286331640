/**
 * libp2p transports in Node: TCP and WebSockets (what Alys full nodes and browsers dial), circuit
 * relay v2 (to reach browsers behind a relay) and WebRTC (node-datachannel) for the direct upgrade.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { tcp } from '@libp2p/tcp';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';

export function nodeTransports() {
  return [tcp(), webSockets(), circuitRelayTransport(), webRTC()];
}

/** Loopback listen addresses on free ports: TCP and WebSockets. */
export const LOOPBACK_LISTEN = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'];
