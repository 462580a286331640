/**
 * Transitional re-export, to be deleted: byte equality is `equalBytes` in ../bytes.ts (the one
 * definition) and `decodePrefixedHex` moved there too. Only src/node/engine/reads.ts still imports
 * `bytesEqual` from here; it switches to `equalBytes` from ../bytes.js when that file is next edited.
 */
export { equalBytes as bytesEqual } from '../bytes.js';
