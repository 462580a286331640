/**
 * The chain spec's key checks, apart from its reading: the checks `parseChainSpec` makes of the
 * authorities' BLS keys (Ethereum KeyValidate: a compressed G1 point, not infinity, in the subgroup)
 * and of the federation's Bitcoin keys (a compressed secp256k1 point: x on the curve), over a spec
 * read by `parseChainSpecJsonUnchecked`, with the same DecodeErrors (path and message).
 *
 * Without noble: the BLS keys are checked by the BLS backend the node loads anyway (the wasm one in a
 * browser), the Bitcoin keys by `isCompressedSecp256k1Point` (bitcoin/secp256k1-point.ts). So the
 * node worker checks a spec passed as JSON before its first head without loading noble's curves.
 */
import { isInfinityEncoding, type BlsBackend } from './bls/backend.js';
import { fromHex } from './bytes.js';
import { BLS_KEY_INFINITY, BLS_KEY_INVALID } from './chainspec.js';
import { checkCompressedSecp256k1Key } from './bitcoin/secp256k1-point.js';
import { DecodeError } from './errors.js';
import type { ChainSpec } from './types.js';

/**
 * Check the keys of a spec read without their curve checks; throws DecodeError as `parseChainSpec`
 * does (`$.authorities[i]`, `$.federationBitcoinPubkeys[i]`). `bls`: any backend (KeyValidate is
 * the same in all of them).
 */
export function checkChainSpecKeys(spec: ChainSpec, bls: BlsBackend): void {
  spec.authorities.forEach((key, i) => {
    const path = `$.authorities[${i}]`;
    const bytes = fromHex(key);
    if (isInfinityEncoding(bytes)) throw new DecodeError(path, BLS_KEY_INFINITY);
    if (!bls.keyValidate(bytes)) throw new DecodeError(path, BLS_KEY_INVALID);
  });
  spec.federationBitcoinPubkeys.forEach((key, i) => {
    const path = `$.federationBitcoinPubkeys[${i}]`;
    checkCompressedSecp256k1Key(fromHex(key), path);
  });
}

export { isCompressedSecp256k1Point } from './bitcoin/secp256k1-point.js';
