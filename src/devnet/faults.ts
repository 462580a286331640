/**
 * The devnet's adversarial consensus RPC. The implementation lives in faults/;
 * this module is its public entry point (`import { serveFaultyConsensusRpc } from './faults.js'`).
 */
export * from './faults/index.js';
