/**
 * Which multiaddrs point into a private network, and which of those the node may dial anyway.
 *
 * Peers announce addresses (discovery, identify, relay reservations); a stranger can announce
 * 192.168.1.1 or 127.0.0.1 and make a browser probe the user's LAN or its own machine. So a node
 * that is not told otherwise (`p2p.dialPrivate`, default false in browsers) refuses to dial
 * loopback, RFC 1918, link-local, carrier-grade NAT (100.64/10), unique-local IPv6 (fc00::/7) and
 * the other non-global ranges libp2p lists, and local DNS names (localhost, *.local, ...), except
 * where the config sent it: an address in `p2p.bootstrap`, and a relayed address through one of
 * them (its relay part, before /p2p-circuit, is what is dialled).
 *
 * Pure functions over multiaddrs; no Node globals (runs in browsers).
 */
import { isPrivateIp } from '@libp2p/utils';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';

const LOCAL_NAME = /(^|\.)(localhost|local|internal|home\.arpa)\.?$/i;
const HOST = /^(ip4|ip6|dns|dns4|dns6|dnsaddr)$/;

const asMultiaddr = (ma: Multiaddr | string): Multiaddr => (typeof ma === 'string' ? multiaddr(ma) : ma);

/** Whether an IP address or DNS name is private (non-global IP, or a name that only resolves locally). */
export function isPrivateHost(host: string): boolean {
  const ip = isPrivateIp(host);
  if (ip !== undefined) return ip;
  return LOCAL_NAME.test(host);
}

/**
 * Whether dialling `ma` first reaches a private host: its first IP or DNS component decides (for a
 * relayed address that is the relay's). A unix socket is local too; an address with no host at all
 * (`/p2p/<id>`, `/p2p-circuit/p2p/<id>`) is not (it is resolved into addresses that are checked again).
 */
export function isPrivateAddress(ma: Multiaddr | string): boolean {
  for (const c of asMultiaddr(ma).getComponents()) {
    if (c.name === 'unix') return true;
    if (HOST.test(c.name)) return c.value !== undefined && isPrivateHost(c.value);
    if (c.name === 'p2p-circuit') return false;
  }
  return false;
}

/** What dialling `ma` connects to first: the address before /p2p-circuit, without /p2p/<id> parts. */
export function dialTarget(ma: Multiaddr | string): string {
  const parts: string[] = [];
  for (const c of asMultiaddr(ma).getComponents()) {
    if (c.name === 'p2p-circuit') break;
    if (c.name === 'p2p') continue;
    parts.push(c.value === undefined ? `/${c.name}` : `/${c.name}/${c.value}`);
  }
  return parts.join('');
}

/** The dial targets the config names: each listed address's (for a relayed one, its relay's). Unparsable entries are skipped. */
export function listedTargets(addresses: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const a of addresses) {
    try {
      const t = dialTarget(a);
      if (t !== '') out.add(t);
    } catch {}
  }
  return out;
}

/** Whether the node refuses to dial `ma`: private, not allowed wholesale, and not listed. */
export function refusePrivateDial(ma: Multiaddr | string, allowPrivate: boolean, listed: ReadonlySet<string>): boolean {
  if (allowPrivate || !isPrivateAddress(ma)) return false;
  return !listed.has(dialTarget(ma));
}
