/**
 * Genesis defects. Block 0 is never signed (spec 2.5), so nothing is re-signed: the adversary serves
 * the genesis the chain spec derives from a made-up EL payload, and the honest chain from block 1 on.
 */
import { genesisBlock } from '../../protocol/block.js';
import { toHex } from '../../protocol/bytes.js';
import { alysGenesisPayloadHash } from '../../protocol/execution/genesis.js';
import type { StoredBlock } from '../consensus/chain.js';
import type { FaultContext, Mutation } from './block.js';

/** A made-up EL genesis (seeded extraData), internally consistent: its block_hash is its own header hash. */
export function genesisForgedPayload(ctx: FaultContext, stored: StoredBlock): Mutation {
  const payload = structuredClone(stored.signed.message.executionPayload);
  payload.extraData = toHex(ctx.rng.bytes(0, 'extra-data'));
  payload.blockHash = alysGenesisPayloadHash(payload);
  return {
    block: genesisBlock(ctx.devnet.spec, payload),
    variant: 'extraData',
    detail: `genesis with extraData ${payload.extraData} and its own block_hash ${payload.blockHash}`,
  };
}

/** The honest EL genesis with another (seeded) state root, block_hash kept. */
export function genesisStateRoot(ctx: FaultContext, stored: StoredBlock): Mutation {
  const payload = structuredClone(stored.signed.message.executionPayload);
  payload.stateRoot = toHex(ctx.rng.bytes(0, 'state-root'));
  return {
    block: genesisBlock(ctx.devnet.spec, payload),
    variant: 'stateRoot',
    detail: `genesis state root ${payload.stateRoot}; block_hash ${payload.blockHash} kept`,
  };
}
