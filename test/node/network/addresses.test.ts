/**
 * Private-address dialling (src/node/network/addresses.ts): the classification as a pure function
 * over many address forms, and the connection gater in real libp2p over loopback: a host that may
 * not dial private addresses still reaches the addresses its config lists (a bootstrap relay and a
 * peer relayed through it) and refuses any other loopback address.
 */
import { describe, expect, it } from 'vitest';
import { dialTarget, isPrivateAddress, listedTargets, refusePrivateDial } from '../../../src/node/network/addresses.js';
import { LOOPBACK_LISTEN } from '../../../src/platform/nodejs/p2p.js';
import { Cleanup, waitFor } from '../helpers.js';
import { startHost } from './hosts.js';

const ID = '12D3KooWLfhDv7AoZjT8H6sWyrSyLzSDEZQuHLwdkmqZ4rbBb5VZ';
const ID2 = '12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5';

describe('isPrivateAddress', () => {
  it.each([
    // RFC 1918, loopback, link-local, 100.64/10, unspecified
    ['/ip4/10.1.2.3/tcp/1', true],
    ['/ip4/172.16.0.1/tcp/1', true],
    ['/ip4/172.31.255.255/tcp/1', true],
    ['/ip4/172.32.0.1/tcp/1', false],
    ['/ip4/192.168.1.1/tcp/1/ws', true],
    ['/ip4/127.0.0.1/tcp/1', true],
    ['/ip4/127.255.0.9/udp/1/quic-v1', true],
    ['/ip4/169.254.10.10/tcp/1', true],
    ['/ip4/100.64.0.1/tcp/1', true],
    ['/ip4/100.127.255.254/tcp/1', true],
    ['/ip4/100.128.0.1/tcp/1', false],
    ['/ip4/0.0.0.0/tcp/1', true],
    ['/ip4/8.8.8.8/tcp/53', false],
    ['/ip4/1.2.3.4/tcp/443/tls/sni/x.example/ws', false],
    // IPv6: loopback, unspecified, ULA fc00::/7, link-local, IPv4-mapped, global
    ['/ip6/::1/tcp/1', true],
    ['/ip6/::/tcp/1', true],
    ['/ip6/fd12:3456::1/tcp/1', true],
    ['/ip6/fc00::1/tcp/1', true],
    ['/ip6/fe80::1/tcp/1', true],
    ['/ip6zone/eth0/ip6/fe80::1/tcp/1', true],
    ['/ip6/::ffff:192.168.0.1/tcp/1', true],
    ['/ip6/::ffff:8.8.8.8/tcp/1', false],
    ['/ip6/2001:4860:4860::8888/tcp/1', false],
    // DNS: local names are private, others are not (they are checked again once resolved)
    ['/dns4/localhost/tcp/1/ws', true],
    ['/dns/relay.localhost/tcp/1', true],
    ['/dns6/printer.local/tcp/1', true],
    ['/dns/nas.home.arpa/tcp/1', true],
    ['/dns4/relay.example/tcp/443/wss', false],
    ['/dnsaddr/bootstrap.libp2p.io', false],
    // relayed: the relay's address decides; no host at all is not private
    [`/ip4/127.0.0.1/tcp/1/ws/p2p/${ID}/p2p-circuit/p2p/${ID2}`, true],
    [`/ip4/127.0.0.1/tcp/1/ws/p2p/${ID}/p2p-circuit/webrtc/p2p/${ID2}`, true],
    [`/dns4/relay.example/tcp/443/wss/p2p/${ID}/p2p-circuit/p2p/${ID2}`, false],
    [`/p2p/${ID}/p2p-circuit/p2p/${ID2}`, false],
    [`/p2p/${ID}`, false],
    ['/unix/%2Ftmp%2Fp2p.sock', true],
  ])('%s: %s', (ma, expected) => {
    expect(isPrivateAddress(ma)).toBe(expected);
  });
});

describe('dialTarget and refusePrivateDial', () => {
  const relay = `/ip4/127.0.0.1/tcp/4001/ws/p2p/${ID}`;
  const listed = listedTargets([relay, 'not a multiaddr', `/ip4/192.168.1.5/tcp/9/p2p/${ID2}/p2p-circuit/p2p/${ID}`]);

  it('is the address before /p2p-circuit without peer ids', () => {
    expect(dialTarget(relay)).toBe('/ip4/127.0.0.1/tcp/4001/ws');
    expect(dialTarget(`${relay}/p2p-circuit/webrtc/p2p/${ID2}`)).toBe('/ip4/127.0.0.1/tcp/4001/ws');
    expect([...listed]).toEqual(['/ip4/127.0.0.1/tcp/4001/ws', '/ip4/192.168.1.5/tcp/9']);
  });

  it('refuses private addresses unless listed (directly or as the relay) or allowed', () => {
    expect(refusePrivateDial(relay, false, listed)).toBe(false);
    expect(refusePrivateDial('/ip4/127.0.0.1/tcp/4001/ws', false, listed)).toBe(false);
    expect(refusePrivateDial(`${relay}/p2p-circuit/webrtc/p2p/${ID2}`, false, listed)).toBe(false);
    expect(refusePrivateDial(`/ip4/192.168.1.5/tcp/9/p2p/${ID2}`, false, listed)).toBe(false);
    // another port, another transport, another host, a relay nobody listed
    expect(refusePrivateDial(`/ip4/127.0.0.1/tcp/4002/ws/p2p/${ID}`, false, listed)).toBe(true);
    expect(refusePrivateDial(`/ip4/127.0.0.1/tcp/4001/p2p/${ID}`, false, listed)).toBe(true);
    expect(refusePrivateDial(`/ip4/10.0.0.1/tcp/4001/ws/p2p/${ID}`, false, listed)).toBe(true);
    expect(refusePrivateDial(`/ip4/192.168.0.2/tcp/1/p2p/${ID2}/p2p-circuit/p2p/${ID}`, false, listed)).toBe(true);
    // public addresses are never refused here; `allowPrivate` allows everything
    expect(refusePrivateDial(`/ip4/8.8.8.8/tcp/1/p2p/${ID}`, false, new Set())).toBe(false);
    expect(refusePrivateDial(`/ip4/10.0.0.1/tcp/4001/p2p/${ID}`, true, new Set())).toBe(false);
  });
});

describe('the connection gater with private dialling off (real libp2p over loopback)', () => {
  it('dials its bootstrap relay and a peer through it, and refuses a loopback address nobody listed', async () => {
    const c = new Cleanup();
    try {
      const relay = await startHost(c, { listen: LOOPBACK_LISTEN, relayServer: true });
      const hidden = await startHost(c, { listen: ['/p2p-circuit'], bootstrap: [relay.multiaddrs()[0]!] });
      const circuit = await waitFor(
        () => hidden.multiaddrs().find((a) => a.includes('/p2p-circuit')),
        () => `a relayed address: ${hidden.multiaddrs().join(' ')}`,
        10_000,
      );
      const stranger = await startHost(c, { listen: LOOPBACK_LISTEN });
      const browserLike = await startHost(c, { allowPrivateAddresses: false, bootstrap: [relay.multiaddrs()[0]!] });
      await waitFor(
        () => browserLike.peers().includes(relay.peerId),
        () => `the bootstrap relay connected: ${browserLike.peers().join(' ')}`,
        10_000,
      );
      expect(await browserLike.dial(circuit)).toBe(hidden.peerId);
      await expect(browserLike.dial(stranger.multiaddrs()[0]!)).rejects.toThrow(/denied/i);
      await expect(browserLike.dial(stranger.multiaddrs()[1]!)).rejects.toThrow(/denied/i);
      expect(browserLike.peers()).not.toContain(stranger.peerId);
      // the same stranger is dialled when private dialling is on
      const allowed = await startHost(c, { allowPrivateAddresses: true });
      expect(await allowed.dial(stranger.multiaddrs()[0]!)).toBe(stranger.peerId);
    } finally {
      await c.run();
    }
  }, 30_000);
});
