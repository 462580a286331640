/**
 * Typed errors of the protocol library (viem `BaseError` style: a short message, then details).
 *
 * Two families matter to callers:
 * - {@link DecodeError}: the input is not usable at all (wrong JSON type, bad hex, wrong length,
 *   truncated bytes). The CLI maps it to exit code 2.
 * - {@link VerificationError}: the input decoded fine but a rule of the Alys protocol (or of
 *   Bitcoin/Ethereum) does not hold. The CLI maps it to exit code 1.
 *
 * Both are {@link AlysLightError}s (src/errors.ts): `shortMessage`, `details`, `hint`, `cause`, `code`.
 */
import { AlysLightError, type AlysLightErrorOptions } from '../errors.js';

export class ProtocolError extends AlysLightError {
  override name = 'ProtocolError';
  /** Stable machine-readable code, e.g. `decode.hex` or `auxpow.chain-root-mismatch`. */
  declare readonly code: string;

  constructor(code: string, shortMessage: string, options: AlysLightErrorOptions = {}) {
    super(code, shortMessage, options);
  }
}

/** The input cannot be decoded. `path` names where (a JSON path such as `$.message.slot`, or a byte offset). */
export class DecodeError extends ProtocolError {
  override name = 'DecodeError';
  readonly path: string;

  constructor(path: string, problem: string, options: { code?: string; cause?: unknown } = {}) {
    super(options.code ?? 'decode', `${path}: ${problem}`, { cause: options.cause });
    this.path = path;
  }
}

/** A decoded value fails a protocol rule. `check` names the rule, e.g. `approvals.threshold`. */
export class VerificationError extends ProtocolError {
  override name = 'VerificationError';
  readonly check: string;

  constructor(check: string, problem: string, options: AlysLightErrorOptions = {}) {
    super(check, problem, options);
    this.check = check;
  }
}

/**
 * An authority set change refused by the schedule (`authority-schedule.ts`): code
 * `authority-schedule.height` (not above the last change, or not a height), `.change` (malformed, or
 * a key that is not a valid BLS public key), `.full` (too many changes).
 */
export class AuthorityScheduleError extends ProtocolError {
  override name = 'AuthorityScheduleError';
}
