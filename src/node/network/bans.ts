/**
 * Connection gating: whom the host refuses to connect to. Banned peers (until a time on the host's
 * clock), private and loopback addresses unless allowed or listed in the config, and browser-to-browser WebRTC dials past an
 * hourly budget. libp2p consults the {@link connectionGater} on every dial and inbound connection.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Clock } from '../../actors/clock.js';
import { listedTargets, refusePrivateDial } from './addresses.js';
import type { PeerFaultReporter } from './errors.js';

/** Peers refused until a given time. */
export interface Bans {
  /** Refuse `peer` until `untilMs` (on the clock's time: epoch ms for the real clock). */
  ban(peer: string, untilMs: number): void;
  isBanned(peer: string): boolean;
}

export function createBans(clock: Clock): Bans {
  const until = new Map<string, number>();
  return {
    ban: (peer, untilMs) => void until.set(peer, untilMs),
    isBanned: (peer) => (until.get(peer) ?? 0) > clock.now(),
  };
}

/** At most `perHour` takes in any sliding hour. */
export function webrtcBudget(perHour: number): { take(now: number): boolean; used(now: number): number } {
  const times: number[] = [];
  const prune = (now: number) => {
    while (times.length > 0 && times[0]! <= now - 3_600_000) times.shift();
  };
  return {
    take(now) {
      prune(now);
      if (times.length >= perHour) return false;
      times.push(now);
      return true;
    },
    used(now) {
      prune(now);
      return times.length;
    },
  };
}

/** A browser-to-browser WebRTC address (/p2p-circuit/webrtc), not webrtc-direct. */
export function isWebRtc(ma: Multiaddr): boolean {
  return ma.getComponents().some((c) => c.name === 'webrtc');
}

export interface ConnectionGaterOptions {
  bans: Bans;
  clock: Clock;
  /** A refused WebRTC dial is reported here (kind `dial`). */
  fault: PeerFaultReporter;
  /** Dial any private or loopback address (default false: only `listed` ones, src/node/network/addresses.ts). */
  allowPrivateAddresses?: boolean;
  /** Addresses the config names (p2p.bootstrap): dialled, and relayed through, even when private. */
  listed?: readonly string[];
  /** Default 100. */
  webrtcDialsPerHour?: number;
  /** A relay server: whether to refuse `peer` a reservation (src/node/network/relay.ts, per-IP limit). */
  denyRelayReservation?: (peer: PeerId) => boolean;
}

/** libp2p's gater: no connection in either direction with a banned peer, no dial to a refused address. */
export function connectionGater(o: ConnectionGaterOptions): ConnectionGater {
  const perHour = o.webrtcDialsPerHour ?? 100;
  const webrtc = webrtcBudget(perHour);
  const listed = listedTargets(o.listed ?? []);
  return {
    denyDialPeer: async (peerId) => o.bans.isBanned(peerId.toString()),
    denyInboundEncryptedConnection: async (peerId) => o.bans.isBanned(peerId.toString()),
    denyOutboundEncryptedConnection: async (peerId) => o.bans.isBanned(peerId.toString()),
    denyInboundRelayReservation: async (peerId) =>
      o.bans.isBanned(peerId.toString()) || (o.denyRelayReservation?.(peerId) ?? false),
    denyDialMultiaddr: async (ma) => {
      if (refusePrivateDial(ma, o.allowPrivateAddresses ?? false, listed)) return true;
      if (isWebRtc(ma) && !webrtc.take(o.clock.now())) {
        o.fault(
          ma.toString(),
          'dial',
          `WebRTC budget of ${perHour} dials an hour used up; staying on relayed connections`,
        );
        return true;
      }
      return false;
    },
  };
}
