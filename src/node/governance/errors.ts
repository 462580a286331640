/**
 * Typed errors of the governance stream client (src/node/actors/governance.ts), {@link LightNodeError}s
 * with stable `governance.*` codes. A rejected federation update is a protocol VerificationError
 * (`federation-update.*`, src/protocol/federation-update.ts), not one of these.
 */
import type { AlysLightErrorOptions } from '../../errors.js';
import { LightNodeError } from '../errors.js';

export class GovernanceError extends LightNodeError {
  override name = 'GovernanceError';
}

/**
 * The transport cannot carry the bidirectional `Stream` call (code `governance.transport-unsupported`):
 * browsers and Workers have only half-duplex fetch, so only the unary Health/GetCapabilities calls work there.
 */
export class GovernanceTransportUnsupportedError extends GovernanceError {
  override name = 'GovernanceTransportUnsupportedError';
  constructor(transport: string) {
    super(
      'governance.transport-unsupported',
      `the governance transport ${transport} cannot run the bidirectional Stream call (half-duplex fetch)`,
      { hint: 'run the governance stream client in Node (gRPC over HTTP/2); Health and GetCapabilities work here' },
    );
  }
}

/** The stream ended or failed (code `governance.stream-broken`): the actor crashes and is restarted with backoff. */
export class GovernanceStreamBrokenError extends GovernanceError {
  override name = 'GovernanceStreamBrokenError';
  constructor(why: string, options?: AlysLightErrorOptions) {
    super('governance.stream-broken', `the governance stream broke: ${why}`, options);
  }
}

/** The server refused our registration (code `governance.registration-rejected`). */
export class GovernanceRegistrationRejectedError extends GovernanceError {
  override name = 'GovernanceRegistrationRejectedError';
  constructor(detail: string) {
    super('governance.registration-rejected', `the governance server did not accept the registration: ${detail}`);
  }
}

/** A governance server's answer is out of bounds or malformed (code `governance.bad-response`). */
export class GovernanceBadResponseError extends GovernanceError {
  override name = 'GovernanceBadResponseError';
  constructor(detail: string) {
    super('governance.bad-response', `bad governance response: ${detail}`);
  }
}
