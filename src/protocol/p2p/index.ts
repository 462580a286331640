/** Alys's peer-to-peer wire formats (alys-protocol.md 7): framing, blocks_by_range, gossip. */
export * from './framing.js';
export * from './rpc.js';
export * from './gossip.js';
export * from './msgid.js';
