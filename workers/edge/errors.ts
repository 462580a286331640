/**
 * Errors of the edge Worker (workers/edge/): requests it cannot use and configuration it cannot run
 * with. Both are AlysLightErrors with stable codes; the router turns an `EdgeRequestError` into an
 * HTTP 4xx with a JSON body, and an `EdgeConfigError` into a 500 naming the var to fix.
 */
import { AlysLightError, type AlysLightErrorOptions } from '../../src/errors.js';

export type EdgeRequestErrorCode =
  | 'edge.body-too-large'
  | 'edge.bad-json'
  | 'edge.unknown-kind'
  | 'edge.not-found'
  | 'edge.method-not-allowed';

/** A request the Worker cannot use (HTTP 4xx: 400 for an unusable input, as the contract says, 404/405 for a wrong route). */
export class EdgeRequestError extends AlysLightError {
  override name = 'EdgeRequestError';
  constructor(
    code: EdgeRequestErrorCode,
    readonly status: 400 | 404 | 405,
    shortMessage: string,
    options: AlysLightErrorOptions = {},
  ) {
    super(code, shortMessage, options);
  }
}

/** The Worker's vars (wrangler.toml `[vars]`, or secrets) do not give a usable chain spec. */
export class EdgeConfigError extends AlysLightError {
  override name = 'EdgeConfigError';
  constructor(
    readonly key: string,
    shortMessage: string,
    options: AlysLightErrorOptions = {},
  ) {
    super('edge.config', shortMessage, options);
  }
}
