/**
 * The EVM of verified calls: ethereumjs's (`@ethereumjs/evm`, with `@ethereumjs/common` for the chain
 * rules and `@ethereumjs/util` for its account/address types), at Shanghai (Alys' execution payloads
 * are Capella: Shanghai rules, no blobs), with the caller's chain id.
 *
 * These packages are dependencies of the library but are imported ONLY by the modules of call/ that
 * reads.ts loads with `await import('./call/run.js')` on the first eth_call / eth_estimateGas, so the
 * core bundle does not carry them (a bundler puts them in a lazy chunk).
 *
 * One EVM per execution: its journal and warm sets belong to one transaction, and its state manager
 * (the call's write layers over proven state) to one call. Creating one costs well under a millisecond.
 */
import { createCustomCommon, Hardfork, Mainnet, type Common } from '@ethereumjs/common';
import { createEVM, type EVM } from '@ethereumjs/evm';
import { blockHashes } from './block.js';
import { VerifiedStateManager } from './state-manager.js';
import type { BlockState } from './state.js';
import type { VerifiedPayloadSource } from '../types.js';

const commons = new Map<bigint, Common>();

/** The chain rules: Shanghai with this chain id (one Common per chain id, never mutated). */
export function commonFor(chainId: bigint): Common {
  let c = commons.get(chainId);
  if (c === undefined) {
    c = createCustomCommon({ chainId: Number(chainId), name: `alys-${chainId}` }, Mainnet, {
      hardfork: Hardfork.Shanghai,
    });
    commons.set(chainId, c);
  }
  return c;
}

export interface CallEvm {
  evm: EVM;
  state: VerifiedStateManager;
}

/** A fresh EVM over fresh write layers on `state`, with BLOCKHASH from `source`. */
export async function createCallEvm(
  chainId: bigint,
  state: BlockState,
  source: VerifiedPayloadSource,
): Promise<CallEvm> {
  const stateManager = new VerifiedStateManager(state);
  const evm = await createEVM({
    common: commonFor(chainId),
    stateManager,
    blockchain: blockHashes(source, state.payload),
  });
  return { evm, state: stateManager };
}
