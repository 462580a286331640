/** What can go wrong with a peer: the fault kinds the NetworkActor charges, and the typed error of a failed request. */
import { AlysLightError } from '../../errors.js';

export type P2pFaultKind = 'decode' | 'oversize' | 'timeout' | 'remote-error' | 'dial' | 'gossip';

/**
 * A peer failed a request or sent something unusable; code `p2p.<kind>`. `rate-limited`: the peer
 * answered RateLimited (139), which honest servers do; it is not a fault.
 */
export class P2pError extends AlysLightError {
  override name = 'P2pError';
  declare readonly code: `p2p.${P2pFaultKind | 'rate-limited'}`;
  constructor(
    readonly kind: P2pFaultKind | 'rate-limited',
    readonly peer: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`p2p.${kind}`, `peer ${peer}: ${message}`, options);
  }
}

/** Where every fault a peer caused is reported: the peer (or the address dialled), what kind, why. */
export type PeerFaultReporter = (peer: string, kind: P2pFaultKind, reason: string) => void;
