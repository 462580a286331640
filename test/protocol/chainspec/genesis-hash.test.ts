/**
 * The shipped specs' EL genesis hashes (SHIPPED_EXECUTION_GENESIS), recomputed from the fields of
 * Alys's genesis files (AnduroProject/alys d5c6605, etc/config/genesis.json and dev-genesis.json),
 * written here, through the devnet's ethereumjs genesis builder (state root of the alloc, header
 * with difficulty 0x20000, nonce 0x44144, London base fee 1 gwei, Shanghai withdrawals root).
 * Not confirmed against a running Alys node (no published hash to compare with).
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/devnet/evm/index.js';
import { lightNodeChainSpec, SHIPPED_EXECUTION_GENESIS } from '../../../src/protocol/chainspec.js';
import { alysGenesisPayloadHash, verifyGenesisPayload } from '../../../src/protocol/execution/genesis.js';
import type { Hex } from '../../../src/protocol/types.js';

/** The only alloc entry of both files: the bridge at 0xbBbB…BbBB, balance 0x0. */
const BRIDGE = '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB';
const BRIDGE_CODE: Hex =
  '0x60806040526004361061002a5760003560e01c80639911dc741461007d578063fccc28131461009057005b3661007b5760405162461bcd60e51b815260206004820152601f60248201527f43616e6e6f74206275726e20776974686f757420425443206164647265737300604482015260640160405180910390fd5b005b61007b61008b36600461013a565b6100c2565b34801561009c57600080fd5b506100a661dead81565b6040516001600160a01b03909116815260200160405180910390f35b60405161dead903480156108fc02916000818181858888f193505050501580156100f0573d6000803e3d6000fd5b50336001600160a01b03167faa1c6070bc915de33c0fbc36ecf77b1e4fc1ebce832b2da62b6fe25f5a7dd5b083833460405161012e939291906101ac565b60405180910390a25050565b6000806020838503121561014d57600080fd5b823567ffffffffffffffff8082111561016557600080fd5b818501915085601f83011261017957600080fd5b81358181111561018857600080fd5b86602082850101111561019a57600080fd5b60209290920196919550909350505050565b604081528260408201528284606083013760006060848301015260006060601f19601f860116830101905082602083015294935050505056fea264697066735822122095f74a5748b7259909af2ff229f8029d4d7912d69c416eff519159e13ad4fbfe64736f6c63430008150033';
const EXTRA_DATA: Hex = '0x887b30d1e617484474521f31a37376760299fa7f15eb4214fce4157744b896c2';

async function genesisPayload(chainId: bigint, timestamp: bigint) {
  const engine = await createEngine({
    chainId,
    loadTokenAddress: false,
    genesisTimestamp: timestamp,
    genesisExtraData: EXTRA_DATA,
    gasLimit: 0x1c9c380n,
    alloc: { [BRIDGE]: { balance: 0n, code: BRIDGE_CODE } },
  });
  return engine.genesisPayload();
}

describe('shipped EL genesis hashes', () => {
  it.each([
    { name: 'testnet' as const, chainId: 727272n, timestamp: 0x67bceb6dn },
    { name: 'dev' as const, chainId: 121212n, timestamp: 0x63a1e047n },
  ])('$name: recomputed from the genesis file fields', async ({ name, chainId, timestamp }) => {
    const payload = await genesisPayload(chainId, timestamp);
    expect(payload.baseFeePerGas).toBe(1_000_000_000n);
    expect(payload.blockHash).toBe(SHIPPED_EXECUTION_GENESIS[name]);
    expect(alysGenesisPayloadHash(payload)).toBe(payload.blockHash);
    expect(lightNodeChainSpec(name).executionGenesisHash).toBe(SHIPPED_EXECUTION_GENESIS[name]);
    expect(() => verifyGenesisPayload(payload, SHIPPED_EXECUTION_GENESIS[name])).not.toThrow();
  });

  it("testnet-full and chain-dev share their chain id's genesis", () => {
    expect(SHIPPED_EXECUTION_GENESIS['testnet-full']).toBe(SHIPPED_EXECUTION_GENESIS.testnet);
    expect(SHIPPED_EXECUTION_GENESIS['chain-dev']).toBe(SHIPPED_EXECUTION_GENESIS.dev);
  });
});
