/**
 * Alys bridge rules: the federation's taproot deposit address (6.1), peg-in detection (6.2),
 * withdrawals = minting (5.3), peg-out requests (6.3) and peg-out transactions (6.4).
 * Section numbers refer to alys-protocol.md.
 */
export * from './taproot.js';
export * from './pegin.js';
export * from './units.js';
export * from './withdrawals.js';
export * from './btcaddress.js';
export * from './pegout.js';
export * from './sighash.js';
export * from './pegout-tx.js';
export * from './lifecycle.js';
