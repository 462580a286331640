/**
 * The devnet's EL genesis, "Alys-style" (alys-protocol.md 9.3 and 2.5): geth genesis with every fork
 * through Shanghai at 0 and no Cancun; gas limit 0x1c9c380; the implicit London base fee of 1 gwei;
 * a pre-merge-shaped header (difficulty 0x20000, nonce 0x44144, as Alys's genesis files have, so the
 * genesis hash is NOT the post-merge formula of 5.2 and must be taken from the EL); our own bridge
 * predeployed at 0xbBbB…BbBB; plus the devnet's prefunded accounts and (by default) the load token.
 */
import { BRIDGE_ADDRESS } from '../../protocol/bridge/pegout.js';
import type { Hex } from '../../protocol/types.js';
import { BRIDGE_ARTIFACT, LOAD_TOKEN_ARTIFACT } from '../contracts/artifacts.js';

export const DEFAULT_CHAIN_ID = 121212n;
/** 30,000,000, as in Alys's genesis files; geth keeps it there (its default target). */
export const DEFAULT_GAS_LIMIT = 0x1c9c380n;
/** The London initial base fee that geth reports for block 0. */
export const GENESIS_BASE_FEE = 1_000_000_000n;
/** Alys's dev genesis timestamp (0x63A1E047); any value works, a fixed one keeps the genesis hash stable. */
export const DEFAULT_GENESIS_TIMESTAMP = 0x63a1e047n;
export const GENESIS_DIFFICULTY = 0x20000n;
export const GENESIS_NONCE: Hex = '0x0000000000044144';
/** Our own 32 bytes of genesis extraData: "alys-light devnet genesis" right-padded with zeros. */
export const DEFAULT_GENESIS_EXTRA_DATA: Hex =
  `0x${Buffer.from('alys-light devnet genesis').toString('hex').padEnd(64, '0')}` as Hex;
/** Where the load token is predeployed unless told otherwise. */
export const LOAD_TOKEN_ADDRESS: Hex = '0x00000000000000000000000000000000000010ad';

/** One genesis account. Storage keys and values are 32-byte (or shorter) hex words. */
export interface GenesisAccount {
  balance?: bigint;
  nonce?: bigint;
  code?: Hex;
  storage?: Record<string, Hex>;
}

/** The full alloc: our bridge, the optional load token, then the caller's accounts (which win on conflict). */
export function genesisAlloc(
  alloc: Record<string, GenesisAccount> = {},
  loadToken: Hex | false = LOAD_TOKEN_ADDRESS,
): Map<Hex, GenesisAccount> {
  const out = new Map<Hex, GenesisAccount>();
  out.set(BRIDGE_ADDRESS, { balance: 0n, code: BRIDGE_ARTIFACT.deployedBytecode as Hex });
  if (loadToken !== false)
    out.set(loadToken.toLowerCase() as Hex, { balance: 0n, code: LOAD_TOKEN_ARTIFACT.deployedBytecode as Hex });
  for (const [address, account] of Object.entries(alloc)) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error(`genesis alloc: ${address} is not a 20-byte 0x address`);
    const key = address.toLowerCase() as Hex;
    out.set(key, { ...out.get(key), ...account });
  }
  return out;
}
