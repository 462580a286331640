/**
 * The chain spec's fingerprint: sha256 over a canonical encoding of the spec fields that decide
 * which blocks are valid, so that anything derived from verified blocks (the light node's store)
 * can be bound to the spec it was verified under. Two specs with one fingerprint accept exactly
 * the same chains; two specs that share a chain id (the devnet and the shipped `dev` spec both use
 * 121212) but differ in any of these fields get different fingerprints.
 *
 * Fields, in this order (all integers big-endian; u64 fields are safe integers in a ChainSpec):
 *
 * | field | encoding | why it decides validity |
 * | --- | --- | --- |
 * | domain tag | UTF-8 `alys-light/spec-fingerprint/v1` + 0x00 | versions this encoding |
 * | chainId | u32 | the genesis AuxPowHeader's chain id (spec 2.5), hence the genesis root every chain hangs from |
 * | authorities | u8 count, then each 48-byte key in index order | approvals are checked against them by index (spec 3.1, 3.3) |
 * | bits | u32 | the genesis AuxPowHeader's bits and the first PoW target (spec 2.5, 4.6) |
 * | slotDuration | u64 | the slot rule (spec 3.2, `checkSlot`) |
 * | maxBlocksWithoutPow | u64 | the stall rule for blocks without PoW (spec 4.5, 4.9 step 7) |
 * | retargetParams.powNoRetargeting | u8 (0/1) | the PoW target of every later PoW block (spec 4.6) |
 * | retargetParams.powTargetTimespan, powTargetSpacing | u64, u64 | idem |
 * | retargetParams.maxPowAdjustment | u8 | idem |
 * | executionGenesisHash | u8 0 (absent) or 1 then 32 bytes | the EL genesis block 0 must carry (the genesis trust root, `src/node/sources/genesis.ts`) |
 *
 * Left out, because no block check reads them: `powLimit` and `powLowerLimit` (never used by Alys,
 * spec 1.9, nor here), `federation` (fee recipients are not checked, spec 4.9), and the node-local
 * or read-time settings `federationBitcoinPubkeys`, `bitcoinStartHeight`,
 * `requiredBtcTxnConfirmations` (the bridge derives its answers from the current spec when asked,
 * nothing stored depends on them), `isValidator` and `executionTimeoutLength`.
 *
 * The genesis block itself is also bound by its root in the store's metadata; chain id, bits and,
 * where the spec pins it, the EL genesis hash (the spec's share of it) are here.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, type Hex } from './bytes.js';
import type { ChainSpec } from './types.js';

const DOMAIN = new TextEncoder().encode('alys-light/spec-fingerprint/v1\u0000');

function u8(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff);
}

function u32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v);
  return out;
}

function u64(v: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(v));
  return out;
}

/** The canonical bytes the fingerprint hashes (see the module comment for the fields). */
export function specFingerprintPreimage(spec: ChainSpec): Uint8Array {
  const r = spec.retargetParams;
  return concatBytes(
    DOMAIN,
    u32(spec.chainId),
    u8(spec.authorities.length),
    ...spec.authorities.map((k) => fromHex(k)),
    u32(spec.bits),
    u64(spec.slotDuration),
    u64(spec.maxBlocksWithoutPow),
    u8(r.powNoRetargeting ? 1 : 0),
    u64(r.powTargetTimespan),
    u64(r.powTargetSpacing),
    u8(r.maxPowAdjustment),
    ...(spec.executionGenesisHash === undefined ? [u8(0)] : [u8(1), fromHex(spec.executionGenesisHash)]),
  );
}

/** sha256 of {@link specFingerprintPreimage}, as 0x hex (32 bytes). */
export function specFingerprint(spec: ChainSpec): Hex {
  return toHex(sha256(specFingerprintPreimage(spec)));
}

/** The short form used in store names: the fingerprint's first 8 hex digits (32 bits). */
export function shortSpecFingerprint(fingerprint: Hex): string {
  return fingerprint.slice(2, 10);
}
