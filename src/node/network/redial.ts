/**
 * Bootstrap peers are kept: one that is not connected (it restarted, the link dropped, the first dial
 * failed) is dialled again, checked every second, with a backoff from 1 s up to `maxMs` per address
 * (Alys: every 5 s, 2^n s). A banned bootstrap peer is left alone until its ban ends.
 */
import type { Libp2p } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Clock } from '../../actors/clock.js';
import { isRelayed } from './connections.js';
import type { PeerFaultReporter } from './errors.js';
import { every } from './timers.js';

export interface BootstrapRedialOptions {
  libp2p: Libp2p;
  clock: Clock;
  /** Multiaddrs with /p2p/<id>. */
  bootstrap: readonly string[];
  /** Longest wait between two dials of one address. Default 30 000. */
  maxMs?: number;
  isBanned(peer: string): boolean;
  /** A failed dial is reported here (kind `dial`, the address as the peer). */
  fault: PeerFaultReporter;
}

export interface BootstrapRedial {
  /** Dial every bootstrap address now, then keep checking every second. */
  start(): Promise<void>;
  stop(): void;
}

/** The wait after the `attempt`th failed dial (1-based): 1 s, 2 s, 4 s, ... up to `maxMs`. */
export function redialDelay(attempt: number, maxMs: number): number {
  return Math.min(maxMs, 1000 * 2 ** (attempt - 1));
}

/** The peer id a bootstrap address ends in (its last /p2p/ component). */
export function bootstrapPeerId(address: string): string | undefined {
  return multiaddr(address)
    .getComponents()
    .findLast((c) => c.name === 'p2p')?.value;
}

export function bootstrapRedial(o: BootstrapRedialOptions): BootstrapRedial {
  const backoff = new Map<string, { attempt: number; next: number }>();
  let stopTicks: (() => void) | undefined;

  /** The bootstrap addresses whose peer we are not connected to, and may dial. */
  function unreached(): string[] {
    const conns = o.libp2p.getConnections();
    const connected = new Set(conns.map((c) => c.remotePeer.toString()));
    // a /webrtc bootstrap address counts as reached only over a direct connection: while only the
    // relayed one is up (the upgrade failed, e.g. ICE timed out), it keeps carrying the sync and the
    // upgrade is retried with the same backoff (and within the WebRTC budget)
    const direct = new Set(conns.filter((c) => !isRelayed(c)).map((c) => c.remotePeer.toString()));
    return o.bootstrap.filter((addr) => {
      const id = bootstrapPeerId(addr);
      if (id === undefined) return true;
      const reached = addr.includes('/webrtc') ? direct.has(id) : connected.has(id);
      return !reached && !o.isBanned(id);
    });
  }

  async function redialOnce(): Promise<void> {
    for (const addr of unreached()) {
      const r = backoff.get(addr) ?? { attempt: 0, next: 0 };
      if (o.clock.now() < r.next) continue;
      r.attempt++;
      r.next = o.clock.now() + redialDelay(r.attempt, o.maxMs ?? 30_000);
      backoff.set(addr, r);
      await o.libp2p.dial(multiaddr(addr)).then(
        () => backoff.delete(addr),
        (e: Error) => o.fault(addr, 'dial', e.message),
      );
    }
  }

  return {
    async start() {
      await redialOnce();
      if (o.bootstrap.length > 0) stopTicks = every(o.clock, 1_000, () => void redialOnce());
    },
    stop() {
      stopTicks?.();
      stopTicks = undefined;
    },
  };
}
