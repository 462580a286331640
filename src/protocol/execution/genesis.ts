/**
 * The EL genesis block's hash from its payload. Alys's genesis files (`etc/config/genesis.json`,
 * `dev-genesis.json`) give block 0 a pre-merge-shaped header: difficulty 0x20000 and nonce 0x44144
 * (the devnet copies them), so its hash is not the post-merge formula of spec 5.2 (difficulty 0,
 * nonce 0). The payload does not carry those two fields; a genesis payload is accepted when its
 * fields hash to its `block_hash` under either shape (both are keccak preimages: no other payload
 * can match the same hash).
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { toHex, type Hex } from '../bytes.js';
import { VerificationError } from '../errors.js';
import type { ExecutionPayloadCapella } from '../types.js';
import { encodeExecutionHeader } from './header.js';
import { payloadToHeader } from './payload.js';

/** `difficulty` of Alys's genesis files. */
export const ALYS_GENESIS_DIFFICULTY = 0x20000n;
/** `nonce` of Alys's genesis files, as the header's 8 bytes. */
export const ALYS_GENESIS_NONCE = Uint8Array.of(0, 0, 0, 0, 0, 0x04, 0x41, 0x44);

/** keccak(RLP(header)) of a genesis payload with Alys's genesis difficulty and nonce. */
export function alysGenesisPayloadHash(payload: ExecutionPayloadCapella): Hex {
  const header = { ...payloadToHeader(payload), difficulty: ALYS_GENESIS_DIFFICULTY, nonce: ALYS_GENESIS_NONCE };
  return toHex(keccak_256(encodeExecutionHeader(header)));
}

/**
 * Check an EL genesis payload against the hash a chain spec expects. Throws VerificationError
 * `genesis.el-hash` when its `block_hash` is another block's, `genesis.payload-hash` when its fields
 * do not hash to its `block_hash` (a field such as the state root was altered).
 */
export function verifyGenesisPayload(payload: ExecutionPayloadCapella, expected: Hex): void {
  if (payload.blockHash.toLowerCase() !== expected.toLowerCase())
    throw new VerificationError(
      'genesis.el-hash',
      `block 0's execution block_hash ${payload.blockHash} is not the chain spec's EL genesis hash ${expected}`,
    );
  const computed = [
    alysGenesisPayloadHash(payload),
    toHex(keccak_256(encodeExecutionHeader(payloadToHeader(payload)))),
  ];
  if (!computed.includes(expected.toLowerCase() as Hex))
    throw new VerificationError(
      'genesis.payload-hash',
      `block 0's execution payload claims block_hash ${payload.blockHash}, but its fields hash to ${computed[0]}`,
      {
        details: 'a genesis field (state root, extra data, timestamp, ...) was altered; the genesis is not this chain',
      },
    );
}
