/**
 * The circuit relay v2 server of `alys-light relay`, with explicit limits: a relay lends its
 * bandwidth to strangers, so how many of them it holds a slot for, for how long, and how much one
 * relayed connection may carry are bounded here rather than left to libp2p's defaults (15
 * reservations, 2 min / 128 KiB per connection: too few and too small for browsers that sync
 * through the relay while their WebRTC upgrade is under way, or when it fails).
 *
 * The defaults ({@link RELAY_LIMITS}) size one relay for a few hundred browsers: 256 reservations,
 * at most 16 of them from one remote IP (one host minting peer ids cannot take every slot, while a
 * school or office behind one NAT still fits), a reservation lasts 30 min unless its holder renews
 * it (libp2p clients renew before expiry; a client gone silently frees its slot within that time),
 * and one relayed connection carries at most 64 MiB in both directions together and stays open at
 * most 30 min, after which the relay closes it (the peers dial again, or have upgraded to WebRTC).
 * They change only in code (`P2pHostOptions.relayServer`), not in the node's config.
 */
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import type { Connection, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';

export interface RelayLimits {
  /** Reservations held at once (each keeps one peer reachable through us). Default 256. */
  maxReservations?: number;
  /** Reservations held at once by peers connected from one IP address. Default 16. */
  maxReservationsPerIp?: number;
  /** How long a reservation lasts unless its holder renews it (ms). Default 30 min. */
  reservationTtlMs?: number;
  /** Bytes one relayed connection may carry, both directions together, before the relay closes it. Default 64 MiB. */
  dataLimitBytes?: number;
  /** How long one relayed connection may stay open (ms). Default 30 min. */
  durationLimitMs?: number;
}

export const RELAY_LIMITS: Readonly<Required<RelayLimits>> = Object.freeze({
  maxReservations: 256,
  maxReservationsPerIp: 16,
  reservationTtlMs: 30 * 60_000,
  dataLimitBytes: 64 * 1024 * 1024,
  durationLimitMs: 30 * 60_000,
});

/** The IP address (or DNS name) a multiaddr starts with; undefined when it has none. */
export function remoteHost(ma: Multiaddr): string | undefined {
  return ma.getComponents().find((c) => /^(ip4|ip6|dns|dns4|dns6)$/.test(c.name))?.value;
}

/** The relay server's current reservations: holder peer id to the address it reserved from. */
export type RelayReservations = Iterable<[PeerId, { addr: Multiaddr }]>;

/** What the relay server needs from the running libp2p node to count reservations per IP. */
export interface RelayView {
  getConnections(peer?: PeerId): Connection[];
  reservations(): RelayReservations;
}

/** Whether `peer` must be refused a reservation because its IP already holds `perIp` of them (a renewal is never refused). */
export function reservationRefused(view: RelayView, peer: PeerId, perIp: number): boolean {
  const host = view
    .getConnections(peer)
    .map((c) => remoteHost(c.remoteAddr))
    .find((h) => h !== undefined);
  if (host === undefined) return false;
  let held = 0;
  for (const [holder, r] of view.reservations()) {
    if (holder.equals(peer)) return false;
    if (remoteHost(r.addr) === host) held++;
  }
  return held >= perIp;
}

/** libp2p's relay server service with `limits` (defaults: {@link RELAY_LIMITS}). */
export function relayServerService(limits: RelayLimits = {}) {
  const l = { ...RELAY_LIMITS, ...limits };
  return circuitRelayServer({
    reservations: {
      maxReservations: l.maxReservations,
      reservationTtl: l.reservationTtlMs,
      applyDefaultLimit: true,
      defaultDataLimit: BigInt(l.dataLimitBytes),
      defaultDurationLimit: l.durationLimitMs,
    },
  });
}
