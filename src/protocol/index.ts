/**
 * The Alys protocol library: byte-exact formats and every verification a light node needs
 * (spec/alys-protocol.md). Pure functions over bytes and plain values; no I/O, no platform globals.
 */
export * from './errors.js';
export { AlysLightError, type AlysLightErrorOptions } from '../errors.js';
export * from './types.js';
export {
  parseHex,
  toHex,
  fromHex,
  reverse,
  equalBytes,
  bytesToHex,
  concatBytes,
  ByteReader,
  ByteWriter,
} from './bytes.js';
export * from './block.js';
export * from './verify.js';
export * from './approvals.js';
export * from './approvals-sign.js';
export * from './federation-update.js';
export * from './authority-schedule.js';
export * from './bls/index.js';
export { createNobleBackend, nobleBackend } from './bls/noble.js';
export * from './codec/json.js';
export * from './codec/msgpack.js';
export { MsgpackWriter, MsgpackReader } from './codec/msgpack-wire.js';
export * from './bitcoin/index.js';
export * from './auxpow/index.js';
export * from './execution/index.js';
export * from './bridge/index.js';
export * from './chainspec.js';
export * from './chainspec-keys.js';
export * from './chain-verifier.js';
export * from './candidates.js';
export * from './spec-fingerprint.js';
export * from './bundle/index.js';
