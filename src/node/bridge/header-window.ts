/**
 * The SPV client's verified best chain, kept as a bounded window: the verification context
 * (`HeaderChainTip`) of the last `maxHeaders` headers, indexed by height and by hash, so a branch can
 * be verified forward from any header in the window and a reorg inside it adopted. Below the window
 * only the hashes of blocks that verified inclusions point into are kept (`retain`), at most
 * `maxRetained` of them (oldest dropped first), so `confirmations()` of an old tracked transaction
 * still works. Memory: about `maxHeaders` x ~0.5 KB + `maxRetained` x ~100 B. A fork below the window
 * cannot be adopted (it is refused by the caller). Pure: no I/O.
 */
import { toDisplayHex } from '../../protocol/bitcoin/hash.js';
import type { HeaderChainTip } from '../../protocol/bitcoin/chain.js';

export interface HeaderWindowOptions {
  /** Headers kept with their verification context. Default 4032 (four retarget periods, ~4 weeks). */
  maxHeaders?: number;
  /** Hashes kept below the window for retained heights. Default 10,000. */
  maxRetained?: number;
}

export class HeaderWindow {
  private entries: HeaderChainTip[];
  private readonly byHash = new Map<string, number>();
  /** height -> display hash, for retained heights below the window */
  private readonly below = new Map<number, string>();
  /** heights that verified inclusions point into (kept when they fall below the window) */
  private readonly wanted = new Set<number>();
  private readonly maxHeaders: number;
  private readonly maxRetained: number;

  constructor(initial: readonly HeaderChainTip[], opts: HeaderWindowOptions = {}) {
    if (initial.length === 0) throw new RangeError('HeaderWindow: at least the checkpoint header is needed');
    this.maxHeaders = Math.max(2, opts.maxHeaders ?? 4032);
    this.maxRetained = Math.max(1, opts.maxRetained ?? 10_000);
    this.entries = [];
    this.append(initial);
  }

  tip(): HeaderChainTip {
    return this.entries[this.entries.length - 1]!;
  }

  /** Height of the lowest header in the window. */
  base(): number {
    return this.entries[0]!.height;
  }

  /** The verification context at `height`, when inside the window. */
  at(height: number): HeaderChainTip | undefined {
    const i = height - this.base();
    return i >= 0 && i < this.entries.length ? this.entries[i] : undefined;
  }

  /** Height of the window's block with display hash `hash`, if it is on the best chain in the window. */
  heightOf(hash: string): number | undefined {
    return this.byHash.get(hash);
  }

  /** Display hash of the best chain's block at `height`: in the window, or retained below it. */
  hashAt(height: number): string | undefined {
    const t = this.at(height);
    return t ? toDisplayHex(t.hash) : this.below.get(height);
  }

  /** Keep the hash at `height` when it falls below the window (a verified inclusion points there). */
  retain(height: number): void {
    this.wanted.delete(height);
    this.wanted.add(height);
    while (this.wanted.size > this.maxRetained) {
      const oldest = this.wanted.values().next().value as number;
      this.wanted.delete(oldest);
      this.below.delete(oldest);
    }
  }

  /**
   * Replace everything above `branch[0].height - 1` with `branch` (verified by the caller from the
   * window's header at that height). Returns the heights that changed hash (the reorged ones).
   */
  adopt(branch: readonly HeaderChainTip[]): number {
    if (branch.length === 0) return 0;
    const from = branch[0]!.height;
    if (this.at(from - 1) === undefined)
      throw new RangeError(`HeaderWindow.adopt: the branch's parent height ${from - 1} is outside the window`);
    const dropped = this.entries.splice(from - this.base());
    for (const t of dropped) this.byHash.delete(toDisplayHex(t.hash));
    this.append(branch);
    return dropped.length;
  }

  private append(tips: readonly HeaderChainTip[]): void {
    for (const t of tips) {
      this.entries.push(t);
      this.byHash.set(toDisplayHex(t.hash), t.height);
    }
    const excess = this.entries.length - this.maxHeaders;
    if (excess <= 0) return;
    for (const t of this.entries.splice(0, excess)) {
      const hash = toDisplayHex(t.hash);
      this.byHash.delete(hash);
      if (this.wanted.has(t.height)) this.below.set(t.height, hash);
    }
  }
}
