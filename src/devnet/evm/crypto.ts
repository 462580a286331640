/**
 * The devnet EVM's Common (chain parameters) and native crypto (Node only).
 *
 * Two of the three ethereumjs speed-ups live here (measured on this 2-core machine; see engine.ts for
 * the per-block numbers):
 *
 * - {@link DevnetCommon}: every ethereumjs transaction, block header and EVM constructor calls
 *   `common.copy()` and then `updateParams(params)`, which rebuilds the whole parameter cache
 *   (~1.6 ms per transaction). The devnet has one fork (Shanghai) for its whole life, so the copy is
 *   the instance itself and each params dictionary is merged once. Consequence: nobody may change the
 *   hardfork of this Common (the engine never does; ethereumjs only calls setHardfork with the
 *   current fork, which is a no-op).
 * - `customCrypto`: native libsecp256k1 (package `secp256k1`) for transaction signing and sender
 *   recovery (noble's pure-JS recovery costs ~1 ms per transaction), and native Keccak (package
 *   `keccak`, its KeccakState binding called directly: 2.4 µs vs 12 µs for noble on 32 bytes) for
 *   every keccak256 in the trie, EVM and transactions.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Common, Hardfork, Mainnet, type ChainConfig, type CustomCrypto, type ParamsDict } from '@ethereumjs/common';
import { createTxFromRLP } from '@ethereumjs/tx';

const require = createRequire(import.meta.url);

interface NativeKeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  squeeze(length: number): Buffer;
}

interface NativeSecp256k1 {
  ecdsaSign(msg32: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
}

function loadKeccakState(): new () => NativeKeccakState {
  const dir = dirname(require.resolve('keccak/package.json'));
  // The package's own wrapper is a stream Transform (2.7x slower per call); use the binding directly.
  const binding = createRequire(join(dir, 'index.js'))('node-gyp-build')(dir) as unknown;
  if (typeof binding !== 'function')
    throw new Error('the native keccak binding did not load (package keccak 3.0.4, prebuilt for linux-x64)');
  return binding as new () => NativeKeccakState;
}

function loadSecp256k1(): NativeSecp256k1 {
  const dir = dirname(require.resolve('secp256k1/package.json'));
  // `secp256k1/bindings` is the native addon only (the package's index falls back to elliptic.js).
  return createRequire(join(dir, 'index.js'))('./bindings.js') as NativeSecp256k1;
}

const keccakState = new (loadKeccakState())();
const secp = loadSecp256k1();

/** keccak256 via the native binding (synchronous, so one reusable state is safe). */
export function keccak256(data: Uint8Array): Uint8Array {
  keccakState.initialize(1088, 512);
  keccakState.absorb(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const out = keccakState.squeeze(32);
  // A digest of its own (offset 0): some ethereumjs code reads `hash.buffer` from offset 0 (Bloom.add).
  return out.byteOffset === 0 && out.buffer.byteLength === 32 ? new Uint8Array(out.buffer) : Uint8Array.from(out);
}

/**
 * ethereumjs `ecrecover` contract: the 64-byte uncompressed public key (no 0x04 prefix). The recovery
 * id comes from v: typed transactions carry yParity (0/1), EIP-155 legacy ones chainId*2+35+recid,
 * pre-EIP-155 legacy ones (and the ECRECOVER precompile) 27+recid. Throws on anything invalid
 * (r or s zero or >= n, bad v), as ethereumjs's own implementation does.
 */
export function ecrecover(msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array {
  const recid = v === 0n || v === 1n ? v : chainId === undefined ? v - 27n : v - (chainId * 2n + 35n);
  if (recid !== 0n && recid !== 1n) throw new Error(`invalid signature v value ${v}`);
  if (r.length > 32 || s.length > 32) throw new Error('invalid signature: r or s longer than 32 bytes');
  const sig = new Uint8Array(64);
  sig.set(r, 32 - r.length);
  sig.set(s, 64 - s.length);
  return secp.ecdsaRecover(sig, Number(recid), msgHash, false).subarray(1);
}

/**
 * ethereumjs `ecsign` contract (noble's `format: 'recovered'`): 65 bytes, recovery id first, then
 * r || s. libsecp256k1 signs deterministically (RFC 6979) with low s, like noble.
 */
export function ecsign(msgHash: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const { signature, recid } = secp.ecdsaSign(msgHash, privateKey);
  const out = new Uint8Array(65);
  out[0] = recid;
  out.set(signature, 1);
  return out;
}

export const nativeCrypto: CustomCrypto = {
  keccak256,
  ecrecover,
  ecsign: ecsign as unknown as NonNullable<CustomCrypto['ecsign']>,
};

/** A Common whose copies are itself and which merges each params dictionary once (see file header). */
export class DevnetCommon extends Common {
  private readonly appliedParams = new WeakSet<object>();

  override copy(): this {
    return this;
  }

  override updateParams(params: ParamsDict): void {
    if (this.appliedParams.has(params)) return;
    this.appliedParams.add(params);
    super.updateParams(params);
  }

  override setHardfork(hardfork: string | Hardfork): void {
    if (this.appliedParams !== undefined && hardfork !== this.hardfork())
      throw new Error(`the devnet Common is shared and fixed at ${this.hardfork()}; refusing to switch to ${hardfork}`);
    super.setHardfork(hardfork);
  }
}

/** The devnet's chain: mainnet's fork rules with our chain id, Shanghai from genesis, no Cancun. */
export function createDevnetCommon(chainId: bigint): DevnetCommon {
  const chain: ChainConfig = {
    ...Mainnet,
    name: 'alys-devnet',
    // a decimal string keeps u64 chain ids exact (Common reads it with BigInt)
    chainId: chainId.toString(),
    // Geth's genesis for Alys sets every fork through Shanghai at 0 and nothing after it.
    hardforks: [
      'chainstart',
      'homestead',
      'dao',
      'tangerineWhistle',
      'spuriousDragon',
      'byzantium',
      'constantinople',
      'petersburg',
      'istanbul',
      'muirGlacier',
      'berlin',
      'london',
      'arrowGlacier',
      'grayGlacier',
      'paris',
      'mergeNetsplitBlock',
      'shanghai',
    ].map((name) => ({
      name,
      block: name === 'shanghai' ? null : 0,
      ...(name === 'shanghai' ? { timestamp: 0 } : {}),
    })) as ChainConfig['hardforks'],
    bootstrapNodes: [],
    dnsNetworks: [],
  };
  return new DevnetCommon({ chain, hardfork: Hardfork.Shanghai, customCrypto: nativeCrypto });
}

/**
 * The sender of a raw signed transaction, recovered exactly as the engine does (ethereumjs decoding,
 * native libsecp256k1), for a thread that prepares PayloadAttributes.senders. Throws if the bytes do
 * not decode to a signed transaction of `common`'s chain.
 */
export function recoverRawSender(common: DevnetCommon, raw: Uint8Array): Uint8Array {
  const tx = createTxFromRLP(raw, { common });
  if (!tx.isSigned()) throw new Error('the transaction is not signed');
  return keccak256(tx.getSenderPublicKey()).slice(12);
}
