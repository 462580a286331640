/**
 * `alys_pegStatus` (issue 16 item 7): the provider method a wallet asks "where is my peg-in / peg-out"
 * with. Params `[key]`: a Bitcoin txid (64 hex digits), an EVM transaction hash or an EVM address;
 * the answer is the node's `node.bridge.pegStatus(key)` (the tracked pegs it names, states of spec
 * 6.5, from verified evidence only). The key is validated here (a string of at most 66 characters)
 * and again by the tracker; its typed errors become EIP-1474 codes: `peg.bad-argument` -> invalid
 * params, `peg.unavailable` (no Bitcoin source configured) -> resource unavailable, `peg.too-many`
 * -> limit exceeded.
 */
import { AlysLightError } from '../../errors.js';
import { ProviderErrorCode, ProviderRpcError } from './errors.js';

/** What the method needs from the node (`node.bridge`). */
export interface PegStatusSource {
  pegStatus(key: string): Promise<unknown>;
}

const KEY = /^(0x[0-9a-fA-F]{40}|0x[0-9a-fA-F]{64}|[0-9a-fA-F]{64})$/;

const PEG_CODES: Record<string, number> = {
  'peg.bad-argument': ProviderErrorCode.invalidParams,
  'peg.unavailable': ProviderErrorCode.resourceUnavailable,
  'peg.too-many': ProviderErrorCode.limitExceeded,
};

/** The key of `[key]`; anything else is invalid params. */
export function pegStatusKey(params: unknown): string {
  if (!Array.isArray(params) || params.length !== 1 || typeof params[0] !== 'string' || params[0].length > 66)
    throw invalid('expected [txidOrHashOrAddress]');
  if (!KEY.test(params[0]))
    throw invalid('expected a Bitcoin txid (64 hex digits), an EVM transaction hash or an EVM address');
  return params[0];
}

function invalid(message: string): ProviderRpcError {
  return new ProviderRpcError(ProviderErrorCode.invalidParams, `invalid params: ${message}`);
}

/** The `alys_pegStatus` handler for the provider's extra `methods`. */
export function pegStatusMethods(source: PegStatusSource): Record<string, (params: unknown) => Promise<unknown>> {
  return {
    alys_pegStatus: async (params) => {
      const key = pegStatusKey(params);
      try {
        return await source.pegStatus(key);
      } catch (e) {
        const code = e instanceof AlysLightError ? PEG_CODES[e.code] : undefined;
        if (code !== undefined)
          throw new ProviderRpcError(code, (e as Error).message, {
            data: { code: (e as AlysLightError).code },
            cause: e,
          });
        throw e;
      }
    },
  };
}
