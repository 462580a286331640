/**
 * Deterministic choices for the fault server: every choice is a function of
 * sha256("alys-devnet/fault/<seed>/<fault>/<height>/<purpose>"), so the same seed on the same chain
 * gives byte-identical answers.
 */
import { sha256 } from '@noble/hashes/sha2.js';

export class Seeded {
  constructor(
    private readonly seed: string,
    private readonly fault: string,
  ) {}

  /** 32 deterministic bytes for (height, purpose). */
  bytes(height: number, purpose: string): Uint8Array {
    return sha256(new TextEncoder().encode(`alys-devnet/fault/${this.seed}/${this.fault}/${height}/${purpose}`));
  }

  /** A u32 for (height, purpose). */
  u32(height: number, purpose: string): number {
    const b = this.bytes(height, purpose);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  /** An integer in [0, n). */
  int(height: number, purpose: string, n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Seeded.int: n must be a positive integer, got ${n}`);
    return this.u32(height, purpose) % n;
  }

  /** A uniform number in [0, 1). */
  unit(height: number, purpose: string): number {
    return this.u32(height, purpose) / 2 ** 32;
  }

  pick<T>(height: number, purpose: string, items: readonly T[]): T {
    return items[this.int(height, purpose, items.length)]!;
  }
}
