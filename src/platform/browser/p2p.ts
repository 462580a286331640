/**
 * libp2p transports in browsers: WebSockets to relays and full nodes, circuit relay v2 to be
 * reachable through a relay, and WebRTC for the direct browser-to-browser upgrade.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';

export function browserTransports() {
  return [webSockets(), circuitRelayTransport(), webRTC()];
}

/** A browser listens through its relay reservation and for WebRTC upgrades over it. */
export const BROWSER_LISTEN = ['/p2p-circuit', '/webrtc'];
