/**
 * Typed errors of the devnet's Bitcoin regtest chain.
 *
 * {@link TxRejectedError} mirrors what Bitcoin Core's `sendrawtransaction` answers: an RPC error
 * code (-22 decode, -25 missing inputs, -26 rejected by policy/consensus, -27 already confirmed)
 * and a reject reason in Core's vocabulary (`bad-txns-in-belowout`, `txn-mempool-conflict`, ...),
 * followed by a detail sentence saying what exactly failed. Esplora passes this through as
 * `sendrawtransaction RPC error: {"code":-26,"message":"<reason>, <detail>"}`.
 */
import { VerificationError } from '../../protocol/errors.js';

/** Core's RPC error codes used by `sendrawtransaction`. */
export const RPC_DESERIALIZATION_ERROR = -22;
export const RPC_VERIFY_ERROR = -25;
export const RPC_VERIFY_REJECTED = -26;
export const RPC_VERIFY_ALREADY_IN_CHAIN = -27;

export class TxRejectedError extends VerificationError {
  override name = 'TxRejectedError';
  /** Bitcoin Core's reject reason, e.g. `bad-txns-inputs-missingorspent`. */
  readonly reason: string;
  /** What exactly failed (input index, amounts, ...). */
  readonly detail: string;
  /** The `sendrawtransaction` RPC error code. */
  readonly rpcCode: number;

  constructor(reason: string, detail: string, rpcCode = RPC_VERIFY_REJECTED) {
    super('bitcoin.tx-rejected', detail ? `${reason}, ${detail}` : reason);
    this.reason = reason;
    this.detail = detail;
    this.rpcCode = rpcCode;
  }

  /** The message bitcoind would put in its JSON-RPC error. */
  get rpcMessage(): string {
    return this.detail ? `${this.reason}, ${this.detail}` : this.reason;
  }
}

/** Misuse of the chain API (bad arguments, corrupt persisted chain). */
export class BitcoinChainError extends Error {
  override name = 'BitcoinChainError';
}
