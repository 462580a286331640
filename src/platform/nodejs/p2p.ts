/**
 * libp2p transports in Node: TCP and WebSockets (what Alys full nodes and browsers dial), circuit
 * relay v2 (to reach browsers behind a relay), WebRTC (node-datachannel) for the direct upgrade, and
 * WebRTC-direct (listen on /ip4/<ip>/udp/<port>/webrtc-direct: browsers dial it without a relay).
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { tcp } from '@libp2p/tcp';
import { webRTC, webRTCDirect } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';

export function nodeTransports() {
  return [tcp(), webSockets(), circuitRelayTransport(), webRTC(), webRTCDirect()];
}

/** Loopback listen addresses on free ports: TCP and WebSockets. */
export const LOOPBACK_LISTEN = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'];
