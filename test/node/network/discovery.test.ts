/**
 * Peer discovery through the relay (src/node/network/discovery.ts): the announcement format and its
 * checks, and over real libp2p: two hosts that know only the relay find each other by announcements
 * and connect directly over WebRTC; a peer announcing someone else's addresses is rejected and the
 * lie goes no further.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeAnnouncement,
  dialOrder,
  DISCOVERY_TOPIC,
  encodeAnnouncement,
  MAX_ANNOUNCEMENT_BYTES,
} from '../../../src/node/network/discovery.js';
import type { P2pFaultKind, P2pHost } from '../../../src/node/network/p2p-host.js';
import { LOOPBACK_LISTEN } from '../../../src/platform/nodejs/p2p.js';
import { startHost } from './hosts.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import { waitFor, withCleanup } from '../helpers.js';

const A = '12D3KooWRDi1VUGWDobqFaJY9wPAK91Xq8GHT58TVCqSwcjGaP31';
const B = '12D3KooW9x9RVMzv8YohpPW33YPcnsU7NGqt2CMUqFrUJTz7XDaG';
const RELAY = '12D3KooWJDj5VzohFB8XMVLDaMAYoynnW6cuadAThRM5yo8tk9Xr';
const circuit = (self: string) => `/ip4/127.0.0.1/tcp/4001/ws/p2p/${RELAY}/p2p-circuit/p2p/${self}`;
const webrtc = (self: string) => `/ip4/127.0.0.1/tcp/4001/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${self}`;
const bytes = (s: string) => new TextEncoder().encode(s);

describe('announcements', () => {
  it('round-trip the publisher own addresses; leave out others', () => {
    const data = encodeAnnouncement(A, [circuit(A), webrtc(A), circuit(B), '/ip4/1.2.3.4/tcp/1']);
    expect(JSON.parse(new TextDecoder().decode(data))).toEqual({ addrs: [circuit(A), webrtc(A)] });
    expect(decodeAnnouncement(data, A).map(String)).toEqual([circuit(A), webrtc(A)]);
  });

  it('refuse an address of another peer, junk, extra keys, too many or too big', () => {
    const bad = [
      bytes(JSON.stringify({ addrs: [circuit(B)] })), // B's address, published by A
      bytes(JSON.stringify({ addrs: [circuit(A), '/ip4/1.2.3.4/tcp/1'] })), // no /p2p/A
      bytes(JSON.stringify({ addrs: [] })),
      bytes(JSON.stringify({ addrs: Array(9).fill(circuit(A)) })),
      bytes(JSON.stringify({ addrs: [circuit(A)], extra: 1 })),
      bytes(JSON.stringify({ addrs: ['not a multiaddr'] })),
      bytes(JSON.stringify({ addrs: [`${'/ip4/1.2.3.4'.repeat(30)}/p2p/${A}`] })),
      bytes(JSON.stringify([circuit(A)])),
      bytes('{"addrs":'),
      Uint8Array.of(0xff, 0xfe),
      new Uint8Array(MAX_ANNOUNCEMENT_BYTES + 1).fill(0x20),
    ];
    for (const data of bad) expect(() => decodeAnnouncement(data, A)).toThrow(DecodeError);
  });

  it('property: any bytes decode to addresses of the publisher or a DecodeError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.json().map(bytes),
          fc
            .array(fc.oneof(fc.constant(circuit(A)), fc.constant(circuit(B)), fc.string()), { maxLength: 10 })
            .map((addrs) => bytes(JSON.stringify({ addrs }))),
        ),
        (data) => {
          try {
            const addrs = decodeAnnouncement(data, A);
            expect(addrs.every((m) => m.toString().endsWith(`/p2p/${A}`))).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('dial a /webrtc address first, then the relayed one', () => {
    const addrs = decodeAnnouncement(
      encodeAnnouncement(A, [`/ip4/127.0.0.1/tcp/9/p2p/${A}`, circuit(A), webrtc(A)]),
      A,
    );
    expect(dialOrder(addrs).map(String)).toEqual([webrtc(A), circuit(A), `/ip4/127.0.0.1/tcp/9/p2p/${A}`]);
  });
});

describe('discovery through a relay (real libp2p, WebRTC via node-datachannel)', () => {
  it('two hosts that know only the relay find each other and connect directly over WebRTC', async () => {
    await withCleanup(async (c) => {
      const relay = await startHost(c, {
        listen: LOOPBACK_LISTEN,
        relayServer: true,
        server: true,
        discovery: { dial: 0, announce: false },
      });
      const behindNat = () =>
        startHost(c, {
          listen: ['/p2p-circuit', '/webrtc'],
          bootstrap: [relay.multiaddrs()[0]!],
          discovery: { dial: 4, announce: true, intervalMs: 600_000 },
        });
      const a = await behindNat();
      const b = await behindNat();
      const direct = (x: P2pHost, y: P2pHost) =>
        x.libp2p
          .getConnections()
          .some(
            (k) =>
              k.remotePeer.toString() === y.peerId &&
              k.remoteAddr.toString().includes('/webrtc') &&
              k.limits === undefined,
          );
      await waitFor(
        () => direct(a, b) || direct(b, a),
        () =>
          `a direct WebRTC connection between a and b: a ${JSON.stringify(a.libp2p.getConnections().map((k) => k.remoteAddr.toString()))}`,
        30_000,
      );
      await waitFor(
        () => a.discovered().includes(b.peerId) || b.discovered().includes(a.peerId),
        () => `found by discovery: a ${a.discovered()}, b ${b.discovered()}`,
      );
      // the relay forwards announcements but dials nobody itself
      expect(relay.discovered()).toEqual([]);
    });
  }, 60_000);

  it('an announcement of somebody else is rejected by the relay and reaches nobody', async () => {
    await withCleanup(async (c) => {
      const faults: Array<{ peer: string; kind: P2pFaultKind }> = [];
      const relay = await startHost(c, {
        listen: LOOPBACK_LISTEN,
        relayServer: true,
        server: true,
        discovery: { dial: 0, announce: false },
        onPeerFault: (peer, kind) => faults.push({ peer, kind }),
      });
      const heard: string[] = [];
      const listener = await startHost(c, {
        bootstrap: [relay.multiaddrs()[0]!],
        discovery: { dial: 0, announce: false },
      });
      listener.libp2p.services.pubsub.addEventListener('message', (e) => {
        if (e.detail.topic === DISCOVERY_TOPIC) heard.push(new TextDecoder().decode(e.detail.data));
      });
      const liar = await startHost(c, { bootstrap: [relay.multiaddrs()[0]!] });
      liar.libp2p.services.pubsub.subscribe(DISCOVERY_TOPIC);
      await waitFor(
        () =>
          relay.topicPeers(DISCOVERY_TOPIC).includes(listener.peerId) &&
          liar.topicPeers(DISCOVERY_TOPIC).includes(relay.peerId),
        () => 'the discovery mesh',
      );
      await liar.libp2p.services.pubsub.publish(
        DISCOVERY_TOPIC,
        bytes(JSON.stringify({ addrs: [`/ip4/198.51.100.1/tcp/1/p2p/${listener.peerId}`] })),
      );
      await waitFor(
        () => faults.some((f) => f.peer === liar.peerId && f.kind === 'gossip'),
        () => `the relay rejected the lie: ${JSON.stringify(faults)}`,
      );
      await waitFor(
        () => relay.gossipScore(liar.peerId) < 0,
        () => `the liar's gossipsub score falls: ${relay.gossipScore(liar.peerId)}`,
      );
      // and an honest announcement does cross the relay
      await liar.libp2p.services.pubsub.publish(
        DISCOVERY_TOPIC,
        encodeAnnouncement(liar.peerId, [`/ip4/198.51.100.1/tcp/1/p2p/${liar.peerId}`]),
      );
      await waitFor(
        () => heard.some((h) => h.includes(liar.peerId)),
        () => `the honest announcement crossed the relay: ${JSON.stringify(heard)}`,
      );
      expect(heard.filter((h) => h.includes(listener.peerId))).toEqual([]);
    });
  }, 60_000);
});
