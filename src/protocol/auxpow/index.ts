/** Alys merged mining: AuxPow encoding, the AuxPoW check, retargeting and finality (pure, no I/O). */
export * from './codec.js';
export * from './check.js';
export * from './retarget.js';
export * from './finality.js';
