/**
 * The block sources' typed errors, in a module of their own: the page's side of the node worker
 * rebuilds them (platform/browser/node-worker/errors-wire.ts) without loading the sources.
 */
import { AlysLightError } from '../../errors.js';
import { LightNodeError } from '../errors.js';

/** The chain does not contain the configured `sync.checkpoint` (code `checkpoint.mismatch` or `checkpoint.unknown`). */
export class CheckpointError extends LightNodeError {
  override name = 'CheckpointError';
  constructor(kind: 'mismatch' | 'unknown', message: string) {
    super(`checkpoint.${kind}`, message, { hint: 'check sync.checkpoint, or remove it to trust the spec alone' });
  }
}

/** A consensus RPC source failed to answer; code `source.<kind>`. */
export class SourceError extends AlysLightError {
  override name = 'SourceError';
  declare readonly code: `source.${SourceError['kind']}`;
  constructor(
    readonly source: string,
    /**
     * `unusable`: an answer arrived but says nothing usable (a malformed head claim, junk bytes);
     * `response-too-large`: the body passed the cap (the request was aborted there; cause ResponseTooLargeError);
     * `busy`: the source is over its limits (HTTP 429, a peer's RateLimited answer): not charged.
     */
    readonly kind: 'timeout' | 'network' | 'http' | 'aborted' | 'unusable' | 'response-too-large' | 'busy',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`source.${kind}`, `${source}: ${message}`, options);
  }
}

/** The body an endpoint sent (or declared) is larger than the configured cap; code `source.response-too-large`. */
export class ResponseTooLargeError extends AlysLightError {
  override name = 'ResponseTooLargeError';
  declare readonly code: 'source.response-too-large';
  /** What happened, without the URL. */
  readonly problem: string;
  constructor(
    readonly url: string,
    readonly maxBytes: number,
    /** The Content-Length the endpoint declared, when that is what was refused (nothing was read then). */
    readonly declared: number | undefined,
  ) {
    const problem =
      declared !== undefined
        ? `the response declares ${declared} bytes, above the ${maxBytes}-byte cap; refused unread`
        : `the response is larger than the ${maxBytes}-byte cap; the request was aborted at the cap`;
    super('source.response-too-large', `${url}: ${problem}`);
    this.problem = problem;
  }
}
