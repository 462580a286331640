/**
 * Moved: raw transaction decoding and sender recovery are in the protocol library
 * (src/protocol/execution/raw-transaction.ts); `formatTransaction` and `quantity` are in format.ts.
 * This re-export remains only for provider.ts, which imports `quantity` from here; delete this file once
 * provider.ts imports it from './format.js'.
 */
export { quantity } from './format.js';
