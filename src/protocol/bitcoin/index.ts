/** Bitcoin consensus formats and SPV verification used by Alys Light (pure, no I/O). */
export * from './hash.js';
export * from './tx.js';
export * from './header.js';
export * from './pow.js';
export * from './merkle.js';
export * from './chain.js';
