/**
 * `POST /verify/<kind>`: one input of an `alys-light verify` kind (src/protocol/verify-json.ts), the same
 * JSON in and out as the CLI. HTTP 200 valid, 422 invalid (`check` names the rule), 400 unusable input
 * (unknown kind, not JSON, over the body cap, wrong shape: `path` or `code` says where or what).
 */
import { isVerifyKind, unknownKindLine, unusableLine, verifyJson } from '../../../src/protocol/verify-json.js';
import { readJsonBody } from '../body.js';
import { EdgeRequestError } from '../errors.js';
import { jsonResponse } from '../http.js';
import type { EdgeRoute } from '../router.js';

const STATUS = { valid: 200, invalid: 422, unusable: 400 } as const;

export const verifyRoute: EdgeRoute = {
  method: 'POST',
  path: '/verify/:kind',
  async handle(request, ctx, params) {
    const kind = params.kind ?? '';
    if (!isVerifyKind(kind)) return jsonResponse(400, { ...unknownKindLine(kind), code: 'edge.unknown-kind' });
    const config = ctx.config();
    let input: unknown;
    try {
      input = await readJsonBody(request);
    } catch (e) {
      if (e instanceof EdgeRequestError) return jsonResponse(400, unusableLine(kind, e));
      throw e;
    }
    const { outcome, line } = await verifyJson(kind, input, {
      spec: config.spec,
      chainGiven: true,
      bls: config.bls,
      authorities: config.authorities,
    });
    return jsonResponse(STATUS[outcome], line);
  },
};
