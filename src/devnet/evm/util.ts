/** Small byte/hex helpers for the engine (Node only: Buffer's hex codec is the fastest here). */
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

/** Serialises async work: each call runs after the previous one settled. */
export function createSerialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}
