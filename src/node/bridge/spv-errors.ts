/**
 * The Bitcoin SPV client's typed errors (code `spv.<check>`): each names the check an endpoint's answer
 * failed, the endpoint, and (as `cause`) the protocol error underneath when there is one, e.g. a
 * VerificationError `bitcoin.header.pow` or `merkle.branch-root`.
 */
import { LightNodeError } from '../errors.js';

/**
 * - `checkpoint-disagreement`: endpoints name different blocks at the checkpoint height (refused);
 * - `checkpoint-header`: a header on the way down to the checkpoint does not hash to what it must;
 * - `header-hash`: an endpoint served a header that does not hash to the block hash asked for;
 * - `header`: a header broke a chain rule (linkage, difficulty bits, PoW, time, version): see `cause`;
 * - `no-common-ancestor`: an endpoint's chain does not meet the verified window (a fork below it);
 * - `stale-branch`: an endpoint serves a verified branch with less work than the best one (a hidden reorg);
 * - `tip-height`: the tip height an endpoint states is not the height of the tip hash it serves;
 * - `tx-mismatch`: the raw bytes do not hash to the txid asked for (or do not decode as a transaction);
 * - `merkle-proof`: a merkle proof does not fold to the merkle root of the verified header at its height;
 * - `tx-status`: an endpoint's confirmed status contradicts the verified chain;
 * - `no-endpoint`: no endpoint could answer (all failed);
 * - `not-started`: a query before the checkpoint was established;
 * - `bad-request`: the caller's argument is malformed (a txid, an address).
 */
export type SpvCheck =
  | 'checkpoint-disagreement'
  | 'checkpoint-header'
  | 'header-hash'
  | 'header'
  | 'no-common-ancestor'
  | 'stale-branch'
  | 'tip-height'
  | 'tx-mismatch'
  | 'merkle-proof'
  | 'tx-status'
  | 'no-endpoint'
  | 'not-started'
  | 'bad-request';

export class SpvError extends LightNodeError {
  override name = 'SpvError';
  declare readonly code: `spv.${SpvCheck}`;
  constructor(
    readonly check: SpvCheck,
    /** The endpoint at fault (its URL), or null when none is (e.g. `no-endpoint`). */
    readonly endpoint: string | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`spv.${check}`, endpoint ? `${endpoint}: ${message}` : message, options);
  }
}
