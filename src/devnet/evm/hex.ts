/** Hex and bytes for the devnet EVM (Node only: Buffer's hex codec is the fastest here); JSON-RPC QUANTITY is protocol/execution/json.ts. */
import type { Hex } from '../../protocol/types.js';

export function hex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}` as Hex;
}

/** Bytes of 0x hex known to be well-formed (internal use; RPC input goes through rpc-params.ts). */
export function bytesOf(h: string): Uint8Array {
  const b = Buffer.from(h.startsWith('0x') ? h.slice(2) : h, 'hex');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function bigintFromBytes(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(hex(b));
}
