/**
 * Peer discovery through the relay: light nodes announce where they can be reached on one gossip
 * topic, so a browser that only knows the relay finds other browsers and dials them over WebRTC.
 *
 * Not an Alys protocol (Alys nodes find each other by bootnodes and mDNS and never subscribe to this
 * topic). It plays the part of libp2p's pubsub-peer-discovery with the checks that module leaves out:
 * an announcement is small JSON, names only the publisher's own addresses (every address ends in
 * `/p2p/<publisher>`, and gossipsub's strict signing proves who published), and anything else is
 * rejected, which costs the sender its gossipsub score. A liar can therefore only announce itself.
 *
 * `{"addrs": ["/ip4/203.0.113.7/tcp/55445/ws/p2p/<relay>/p2p-circuit/webrtc/p2p/<self>", ...]}`
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { DecodeError } from '../../protocol/errors.js';

export const DISCOVERY_TOPIC = 'alys-light/peers/1';
export const MAX_ANNOUNCEMENT_BYTES = 2_048;
export const MAX_ANNOUNCED_ADDRS = 8;
const MAX_ADDR_LENGTH = 256;

/** The announcement of `addrs` (at most 8, each ending in our /p2p/<id>); addresses that do not fit are left out. */
export function encodeAnnouncement(self: string, addrs: readonly string[]): Uint8Array {
  const own = addrs
    .filter((a) => a.length <= MAX_ADDR_LENGTH && a.endsWith(`/p2p/${self}`))
    .slice(0, MAX_ANNOUNCED_ADDRS);
  let bytes = new TextEncoder().encode(JSON.stringify({ addrs: own }));
  while (bytes.length > MAX_ANNOUNCEMENT_BYTES) {
    own.pop();
    bytes = new TextEncoder().encode(JSON.stringify({ addrs: own }));
  }
  return bytes;
}

/** The addresses `publisher` announced; DecodeError unless every one is its own, well-formed, and the whole fits the limits. */
export function decodeAnnouncement(data: Uint8Array, publisher: string): Multiaddr[] {
  const label = 'discovery.announcement';
  if (data.length > MAX_ANNOUNCEMENT_BYTES)
    throw new DecodeError(label, `${data.length} bytes exceeds ${MAX_ANNOUNCEMENT_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (e) {
    throw new DecodeError(label, `not UTF-8 JSON: ${(e as Error).message}`);
  }
  const addrs = (value as { addrs?: unknown } | null)?.addrs;
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.keys(value).length !== 1 ||
    !Array.isArray(addrs)
  )
    throw new DecodeError(label, 'expected exactly {"addrs": [...]}');
  if (addrs.length === 0 || addrs.length > MAX_ANNOUNCED_ADDRS)
    throw new DecodeError(label, `expected 1..${MAX_ANNOUNCED_ADDRS} addresses, got ${addrs.length}`);
  return addrs.map((a, i) => {
    if (typeof a !== 'string' || a.length > MAX_ADDR_LENGTH)
      throw new DecodeError(
        `${label}.addrs[${i}]`,
        `expected a multiaddr string of at most ${MAX_ADDR_LENGTH} characters`,
      );
    let ma: Multiaddr;
    try {
      ma = multiaddr(a);
    } catch (e) {
      throw new DecodeError(`${label}.addrs[${i}]`, `not a multiaddr: ${(e as Error).message}`);
    }
    const last = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
    if (last !== publisher)
      throw new DecodeError(
        `${label}.addrs[${i}]`,
        `announces ${last ?? 'no peer id'}, not its publisher ${publisher}`,
      );
    return ma;
  });
}

/**
 * Which announced address to dial: a browser-to-browser /webrtc one first (a direct connection,
 * negotiated through the relay), then a relayed /p2p-circuit one, then anything else.
 */
export function dialOrder(addrs: readonly Multiaddr[]): Multiaddr[] {
  const rank = (ma: Multiaddr) => {
    const names = ma.getComponents().map((c) => c.name);
    return names.includes('webrtc') ? 0 : names.includes('p2p-circuit') ? 1 : 2;
  };
  return [...addrs].sort((a, b) => rank(a) - rank(b));
}
