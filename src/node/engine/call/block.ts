/**
 * The block context of a verified call, from verified payloads only: number, timestamp, base fee, gas
 * limit, coinbase (the payload's feeRecipient) and prevrandao (its prevRandao, the header's mixHash) of
 * the block the call runs at (geth's eth_call semantics: the state and the context of that block).
 *
 * BLOCKHASH(n) for the 256 blocks before it: walked back from the call's payload through parent
 * hashes, each step a verified payload looked up by hash, so every hash is linked to the call's
 * block (the hash of block n is payload n+1's parentHash: the oldest block the node holds still gives
 * its parent's hash). A hash the walk cannot reach (below what the node holds, or a gap) is never
 * answered with zero: the call fails with BlockNotVerifiedError (-32001).
 */
import { Address } from '@ethereumjs/util';
import { fromHex, type Hex } from '../../../protocol/bytes.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import { BlockNotVerifiedError } from '../errors.js';
import { lower } from '../reads/context.js';
import type { VerifiedPayloadSource } from '../types.js';

/** ethereumjs EVM's `Block` (its `header` part). */
export interface EvmBlock {
  header: {
    number: bigint;
    coinbase: Address;
    timestamp: bigint;
    difficulty: bigint;
    prevRandao: Uint8Array;
    gasLimit: bigint;
    baseFeePerGas?: bigint;
    getBlobGasPrice(): bigint | undefined;
  };
}

export function evmBlock(payload: ExecutionPayloadCapella): EvmBlock {
  return {
    header: {
      number: payload.blockNumber,
      coinbase: new Address(fromHex(payload.feeRecipient)),
      timestamp: payload.timestamp,
      difficulty: 0n,
      prevRandao: fromHex(payload.prevRandao),
      gasLimit: payload.gasLimit,
      baseFeePerGas: payload.baseFeePerGas,
      getBlobGasPrice: () => undefined,
    },
  };
}

/** ethereumjs EVM's `blockchain` for BLOCKHASH: `getBlock(n).hash()` (the EVM asks only within the 256-block window). */
export function blockHashes(source: VerifiedPayloadSource, payload: ExecutionPayloadCapella) {
  // hashes[k] = hash of block (payload.blockNumber - 1 - k); `oldest` = the payload whose parent is the last known
  const hashes: Hex[] = [];
  let oldest = payload;
  async function hashOf(n: bigint): Promise<Hex> {
    const k = Number(payload.blockNumber - 1n - n);
    if (k < 0 || k >= 256) throw new RangeError(`BLOCKHASH(${n}) outside the window of block ${payload.blockNumber}`);
    while (hashes.length <= k) {
      if (hashes.length > 0) {
        const parent = await source.payload(hashes[hashes.length - 1]!);
        if (parent === undefined || lower(parent.blockHash) !== hashes[hashes.length - 1])
          throw new BlockNotVerifiedError(
            n,
            `BLOCKHASH(${n}) in a call at block ${payload.blockNumber}: the node holds no verified block ${oldest.blockNumber - 1n} to link it (below its history); the call is refused rather than answered with a zero hash`,
          );
        oldest = parent;
      }
      hashes.push(lower(oldest.parentHash));
    }
    return hashes[k]!;
  }
  const chain = {
    getBlock: async (n: number) => {
      const h = fromHex(await hashOf(BigInt(n)));
      return { hash: () => h };
    },
    putBlock: async () => {},
    shallowCopy: () => chain,
  };
  return chain;
}
