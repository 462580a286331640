/** Gossip's typed error, in a module of its own (the page's side of the node worker rebuilds it). */
import { AlysLightError, type AlysLightErrorOptions } from '../../errors.js';

/** A message is over gossip's size limit (code `gossip.too-large`); send it by sync instead. */
export class GossipTooLargeError extends AlysLightError {
  override name = 'GossipTooLargeError';
  declare readonly code: 'gossip.too-large';
  constructor(message: string, options?: AlysLightErrorOptions) {
    super('gossip.too-large', message, options);
  }
}
