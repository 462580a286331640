/**
 * The relay server's limits (src/node/network/relay.ts) with real libp2p over loopback: reservations
 * past the maximum, and past the per-IP maximum, are refused (raw circuit relay v2 HOP RESERVE
 * requests, so the answer is read, not guessed from timing), and a relayed connection is closed once
 * it has carried the data limit.
 */
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import type { P2pHost } from '../../../src/node/network/p2p-host.js';
import { LOOPBACK_LISTEN } from '../../../src/platform/nodejs/p2p.js';
import { Cleanup, waitFor } from '../helpers.js';
import { startHost } from './hosts.js';

const HOP = '/libp2p/circuit/relay/0.2.0/hop';
/** circuit relay v2 Status codes (relay-v2 spec). */
const OK = 100;
const RESERVATION_REFUSED = 200;
const PERMISSION_DENIED = 202;

/** Read a protobuf varint at `i`: [value, next index]. */
function varint(b: Uint8Array, i: number): [number, number] {
  let v = 0;
  for (let shift = 0; ; shift += 7) {
    const x = b[i++]!;
    v += (x & 0x7f) * 2 ** shift;
    if (x < 0x80) return [v, i];
  }
}

/** The `status` field (5) of a HopMessage. */
function hopStatus(b: Uint8Array): number | undefined {
  for (let i = 0; i < b.length; ) {
    const [tag, j] = varint(b, i);
    if ((tag & 7) === 0) {
      const [v, k] = varint(b, j);
      if (tag >> 3 === 5) return v;
      i = k;
    } else if ((tag & 7) === 2) {
      const [len, k] = varint(b, j);
      i = k + len;
    } else throw new Error(`unexpected wire type in ${b}`);
  }
  return undefined;
}

/** Send one HOP RESERVE (HopMessage { type: RESERVE }) from `client` to `relay`; the status answered. */
async function reserve(client: P2pHost, relay: P2pHost): Promise<number | undefined> {
  const stream = await client.libp2p.dialProtocol(multiaddr(relay.multiaddrs()[0]!), HOP);
  const lp = lpStream(stream);
  await lp.write(Uint8Array.of(0x08, 0x00));
  const answer = await lp.read();
  await stream.close().catch(() => {});
  return hopStatus(answer.subarray());
}

describe('relay server limits', () => {
  it('refuses reservations past its maximum, and past its maximum per IP', async () => {
    const c = new Cleanup();
    try {
      const relay = await startHost(c, {
        listen: LOOPBACK_LISTEN,
        relayServer: { maxReservations: 3, maxReservationsPerIp: 16 },
      });
      const clients = await Promise.all([1, 2, 3, 4].map(() => startHost(c)));
      const answers: Array<number | undefined> = [];
      for (const client of clients) answers.push(await reserve(client, relay));
      expect(answers).toEqual([OK, OK, OK, RESERVATION_REFUSED]);
      // a holder renews its reservation even when the relay is full
      expect(await reserve(clients[0]!, relay)).toBe(OK);

      const perIp = await startHost(c, {
        listen: LOOPBACK_LISTEN,
        relayServer: { maxReservations: 100, maxReservationsPerIp: 2 },
      });
      const fromOneIp: Array<number | undefined> = [];
      for (const client of clients.slice(0, 3)) fromOneIp.push(await reserve(client, perIp));
      expect(fromOneIp).toEqual([OK, OK, PERMISSION_DENIED]);
      expect(await reserve(clients[1]!, perIp)).toBe(OK);
    } finally {
      await c.run();
    }
  }, 30_000);

  it('closes a relayed connection once it has carried its data limit', async () => {
    const c = new Cleanup();
    try {
      const LIMIT = 64 * 1024;
      const SENT = 1024 * 1024;
      const relay = await startHost(c, { listen: LOOPBACK_LISTEN, relayServer: { dataLimitBytes: LIMIT } });
      const hidden = await startHost(c, { listen: ['/p2p-circuit'], bootstrap: [relay.multiaddrs()[0]!] });
      let received = 0;
      let ended = false;
      await hidden.libp2p.handle(
        '/test/sink/1',
        async (stream) => {
          try {
            for await (const chunk of stream) received += chunk.byteLength;
          } catch {}
          ended = true;
        },
        { runOnLimitedConnection: true },
      );
      const circuit = await waitFor(
        () => hidden.multiaddrs().find((a) => a.includes('/p2p-circuit')),
        () => `a relayed address: ${hidden.multiaddrs().join(' ')}`,
        10_000,
      );
      const sender = await startHost(c);
      const stream = await sender.libp2p.dialProtocol(multiaddr(circuit), '/test/sink/1', {
        runOnLimitedConnection: true,
      });
      const relayed = () =>
        sender.libp2p
          .getConnections()
          .filter((x) => x.remotePeer.toString() === hidden.peerId && x.remoteAddr.toString().includes('/p2p-circuit'));
      expect(relayed().length).toBe(1);
      const sending = (async () => {
        try {
          for (let i = 0; i < SENT / 4096; i++) if (!stream.send(new Uint8Array(4096))) await stream.onDrain();
          await stream.close();
        } catch {}
      })();
      await waitFor(
        () => ended && relayed().length === 0,
        () => `the relayed connection closed (received ${received} of ${SENT} bytes)`,
        20_000,
      );
      await sending;
      expect(received).toBeLessThan(SENT);
      expect(received).toBeLessThanOrEqual(LIMIT);
    } finally {
      await c.run();
    }
  }, 30_000);
});
