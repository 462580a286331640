/**
 * Bitcoin address → scriptPubKey with the acceptance rules of rust-bitcoin 0.30
 * `Address<NetworkUnchecked>::from_str` followed by `assume_checked()` (any network), which is
 * what Alys's `parse_bitcoin_address` uses for peg-out requests (alys-protocol.md section 6.3).
 *
 * - If the part before the LAST '1' is exactly `bc`, `tb` or `bcrt` (or `BC`, `TB`, `BCRT`), the
 *   string must be a valid segwit address: bech32/bech32m checksum (variant detected from the
 *   checksum), not mixed case, non-empty payload, witness version 0..16, program of 2..40 bytes
 *   (exactly 20 or 32 for version 0) with canonical padding, bech32 for v0 and bech32m for v1+.
 *   There is no fallback to base58 for such strings.
 * - Otherwise it must be base58check of at most 50 characters decoding to 21 bytes with version
 *   0x00 (P2PKH), 0x05 (P2SH), 0x6f (testnet P2PKH) or 0xc4 (testnet P2SH).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32, bech32m, createBase58check } from '@scure/base';
import { concatBytes } from '../bytes.js';
import type { BitcoinNetwork } from './taproot.js';

const base58check = /* @__PURE__ */ createBase58check(sha256);

export type BitcoinAddressType = 'p2pkh' | 'p2sh' | 'witness';

export interface ParsedBitcoinAddress {
  type: BitcoinAddressType;
  /** The network the address names (`testnet` also stands for signet, and for regtest base58). */
  network: BitcoinNetwork;
  /** The output script paying this address. */
  scriptPubkey: Uint8Array;
  /** Witness version for segwit addresses. */
  witnessVersion?: number;
}

const HRP_NETWORK: Record<string, BitcoinNetwork> = {
  bc: 'mainnet',
  BC: 'mainnet',
  tb: 'testnet',
  TB: 'testnet',
  bcrt: 'regtest',
  BCRT: 'regtest',
};

/** Parse an address string as rust-bitcoin 0.30 does; `null` when it would be rejected. */
export function parseBitcoinAddress(text: string): ParsedBitcoinAddress | null {
  if (typeof text !== 'string') return null;
  const sep = text.lastIndexOf('1');
  const prefix = sep === -1 ? text : text.slice(0, sep);
  const network = Object.hasOwn(HRP_NETWORK, prefix) ? HRP_NETWORK[prefix] : undefined;
  if (network !== undefined) return parseSegwit(text, network);
  return parseBase58(text);
}

function parseSegwit(text: string, network: BitcoinNetwork): ParsedBitcoinAddress | null {
  // The checksum constant tells the variant; a string cannot satisfy both.
  let variant: 'bech32' | 'bech32m';
  let words: number[];
  const asBech32 = bech32.decodeUnsafe(text, false);
  if (asBech32) {
    variant = 'bech32';
    words = Array.from(asBech32.words);
  } else {
    const asBech32m = bech32m.decodeUnsafe(text, false);
    if (!asBech32m) return null;
    variant = 'bech32m';
    words = Array.from(asBech32m.words);
  }
  if (words.length === 0) return null; // EmptyBech32Payload
  const version = words[0]!;
  if (version > 16) return null;
  const program = bech32.fromWordsUnsafe(words.slice(1));
  if (!program) return null; // invalid padding
  if (program.length < 2 || program.length > 40) return null;
  if (version === 0 && program.length !== 20 && program.length !== 32) return null;
  if ((version === 0) !== (variant === 'bech32')) return null; // BIP-350 variant rule
  const scriptPubkey = concatBytes(Uint8Array.of(version === 0 ? 0x00 : 0x50 + version, program.length), program);
  return { type: 'witness', network, scriptPubkey, witnessVersion: version };
}

function parseBase58(text: string): ParsedBitcoinAddress | null {
  if (text.length > 50) return null;
  let data: Uint8Array;
  try {
    data = base58check.decode(text);
  } catch {
    return null;
  }
  if (data.length !== 21) return null;
  const hash = data.subarray(1);
  switch (data[0]) {
    case 0x00:
      return { type: 'p2pkh', network: 'mainnet', scriptPubkey: p2pkhScript(hash) };
    case 0x05:
      return { type: 'p2sh', network: 'mainnet', scriptPubkey: p2shScript(hash) };
    case 0x6f:
      return { type: 'p2pkh', network: 'testnet', scriptPubkey: p2pkhScript(hash) };
    case 0xc4:
      return { type: 'p2sh', network: 'testnet', scriptPubkey: p2shScript(hash) };
    default:
      return null;
  }
}

/** OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG */
function p2pkhScript(hash: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(0x76, 0xa9, 0x14), hash, Uint8Array.of(0x88, 0xac));
}

/** OP_HASH160 <20> OP_EQUAL */
function p2shScript(hash: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(0xa9, 0x14), hash, Uint8Array.of(0x87));
}
