/**
 * `POST /verify/bundle`: a proof bundle (docs/proof-bundle.md) verified in one request against the
 * Worker's chain spec, nothing stored. HTTP 200 `{"kind":"bundle","valid":true,...facts}` (the block,
 * finalized or not, the account/storage values, the receipt), 422 invalid (`check` names the failed
 * rule), 400 unusable (not JSON, over the body cap, unknown version, over a count cap, wrong shape:
 * `code` and `path` say what and where).
 *
 * `createBundleRoute(verify)` takes the verification as a parameter: the deployed Worker uses
 * `verifyBundle` with the spec's authority keys prepared once per isolate (config.ts); the edge benchmark
 * (bench/edge.ts) builds a baseline route whose verify only decodes.
 */
import { unusableLine } from '../../../src/protocol/verify-json.js';
import {
  DecodeError,
  decodeProofBundle,
  VerificationError,
  verifyBundle,
  type BlsBackend,
  type ChainSpec,
  type PreparedAuthorities,
} from '../../../src/protocol/index.js';
import { readBodyCapped } from '../body.js';
import { EdgeRequestError } from '../errors.js';
import { jsonResponse } from '../http.js';
import type { EdgeRoute } from '../router.js';

export type BundleVerifier = (
  text: string,
  ctx: { spec: ChainSpec; backend: BlsBackend; authorities: PreparedAuthorities },
) => object;

/** The baseline of the benchmark: the same request, body and decoding, no verification. */
export const decodeOnly: BundleVerifier = (text) => (decodeProofBundle(text), {});

export function createBundleRoute(verify: BundleVerifier = verifyBundle): EdgeRoute {
  return {
    method: 'POST',
    path: '/verify/bundle',
    async handle(request, ctx) {
      const config = ctx.config();
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(await readBodyCapped(request));
      } catch (e) {
        if (e instanceof EdgeRequestError) return jsonResponse(400, unusableLine('bundle', e));
        if (e instanceof TypeError) return jsonResponse(400, { ...unusableLine('bundle', e), code: 'edge.bad-json' });
        throw e;
      }
      try {
        const facts = verify(text, {
          spec: config.spec,
          backend: await config.bls(),
          authorities: await config.authorities(),
        });
        return jsonResponse(200, { kind: 'bundle', valid: true, reason: null, ...facts });
      } catch (e) {
        if (e instanceof VerificationError)
          return jsonResponse(422, { kind: 'bundle', valid: false, reason: e.shortMessage, check: e.check });
        if (e instanceof DecodeError) return jsonResponse(400, unusableLine('bundle', e));
        throw e;
      }
    },
  };
}

export const bundleRoute = createBundleRoute();
