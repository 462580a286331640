/** Proof bundles (docs/proof-bundle.md): the format (format.ts) and its verification (verify.ts). */
export * from './format.js';
export * from './verify.js';
