/**
 * The one error base of the library (modelled on viem's `BaseError`). Every error alys-light throws
 * on purpose is an {@link AlysLightError}, so an embedder can catch them all with one `instanceof`
 * and tell them apart with one `switch (err.code)`:
 *
 *   try { await node.start(); } catch (err) {
 *     if (!(err instanceof AlysLightError)) throw err;
 *     switch (err.code) { case 'config.invalid-value': ...; case 'not-synced': ...; }
 *   }
 *
 * Per-area bases sit in between (`ActorError`, `ProtocolError`, `ConfigBaseError`, `LightNodeError`),
 * so `instanceof ProtocolError` and friends keep working.
 *
 * A leaf module: it imports nothing, so every layer (protocol, actors, config, node) may use it.
 */

export interface AlysLightErrorOptions {
  /** More about what happened (values, the failing input); shown under `Details:`. */
  details?: string | undefined;
  /** What to do about it; shown under `Hint:`. */
  hint?: string | undefined;
  /** The error that led to this one (standard `ErrorOptions.cause`). */
  cause?: unknown;
}

export class AlysLightError extends Error {
  override name = 'AlysLightError';
  /**
   * Stable machine-readable code, kebab-case and dotted by area: `ask-timeout`, `decode.hex`,
   * `config.invalid-value`, `not-synced`, `storage.corrupt`. A string for every error of the library
   * except `ProviderRpcError`, whose code is the EIP-1193 / EIP-1474 number wallets expect.
   */
  readonly code: string | number;
  /** The message without details and hint (one line, as a rule). */
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly hint: string | undefined;

  constructor(code: string | number, shortMessage: string, options: AlysLightErrorOptions = {}) {
    super(
      formatErrorMessage(shortMessage, options),
      options.cause !== undefined ? { cause: options.cause } : undefined,
    );
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.hint = options.hint;
  }

  /** `Name [code]: message`, e.g. `ConfigError [config.invalid-value]: Invalid config: ...`. */
  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

/**
 * The full message: the short message, then `Details:` and `Hint:` paragraphs when given
 * (multi-line details start on their own line).
 */
export function formatErrorMessage(shortMessage: string, options: Pick<AlysLightErrorOptions, 'details' | 'hint'>) {
  const parts = [shortMessage];
  const { details, hint } = options;
  if (details) parts.push(details.includes('\n') ? `Details:\n${details}` : `Details: ${details}`);
  if (hint) parts.push(`Hint: ${hint}`);
  return parts.join('\n\n');
}
