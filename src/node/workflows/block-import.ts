/**
 * The block-import workflow: the ChainActor's business logic as a plain state machine (no I/O).
 *
 * Input: batches of block summaries in height order (their independent checks already done by the
 * verifier pool). It imports them with the ChainVerifier, tracks which blocks are authenticated
 * (approvals verified, or covered by a verified PoW range in pow-checkpoint mode) and hands back the
 * contiguous authenticated prefix to persist, with the verifier snapshot at its last block.
 *
 * Fork choice, consistent with Alys (spec 3.3, 4.7): the first block seen at a height extends the
 * head and is never replaced by a competing block on its own. A competing, individually valid
 * block whose parent is an unfinalized block of ours (or a fork block) is kept in a bounded fork
 * set, and the import goes on with the next block. If a verified PoW block later extends such a
 * fork (its parent is a fork block), the node rolls the unfinalized tail back to the fork point and
 * follows the fork: only a verified AuxPoW range decides, and nothing finalized is ever rolled back.
 *
 * A block whose parent is unknown (neither our head nor a fork block) is an orphan: either its
 * source lies, or we hold a block the federation did not build on. The ChainActor resolves this
 * (docs/architecture.md, "Disputes"): first by verifying the approvals of our pending
 * (unauthenticated) tail and dropping it from the first bad block (`dropFrom`), then by fetching the
 * orphan's ancestors and offering them as fork blocks (`addForkBlocks`).
 */
import {
  ChainVerifier,
  type BlockSummary,
  type ChainVerifierOptions,
  type ChainVerifierSnapshot,
  type VerifiedChainBlock,
} from '../../protocol/chain-verifier.js';
import { VerificationError } from '../../protocol/errors.js';
import type { Hex, SignedConsensusBlock } from '../../protocol/types.js';

export interface ImportItem {
  summary: BlockSummary;
  /** msgpack SignedConsensusBlock (what storage keeps) */
  block: Uint8Array;
  source: string;
}

export interface PersistBatch {
  blocks: { number: number; hash: Hex; block: Uint8Array; summary: BlockSummary }[];
  snapshot: ChainVerifierSnapshot;
  /** Persisted blocks above `to` must be dropped first (a rollback to a fork); `snapshot` is the state at `to`. */
  truncate?: { to: number; snapshot: ChainVerifierSnapshot };
}

export interface ImportFailure {
  index: number;
  source: string;
  check: string;
  message: string;
  /** The block's parent is unknown (not our head, not a fork block): resolve before blaming anyone. */
  orphan?: { number: number; parentHash: Hex };
  /** Import again from this height (a dispute dropped blocks); `source` served the bad one. */
  rewindTo?: number;
  /** The batch does not start where the chain is: resume the sync here (nobody's fault). */
  resumeAt?: number;
}

export interface ForkObservation {
  number: number;
  hash: Hex;
  source: string;
}

export interface BatchResult {
  imported: number;
  failure?: ImportFailure;
  persist: PersistBatch | null;
  /** Highest authenticated block (what the node reports as its head). */
  head: VerifiedChainBlock;
  finalizedThrough: number;
  newlyFinalized: { from: number; to: number } | null;
  /** Valid blocks on another branch, kept in the fork set. */
  forks?: ForkObservation[];
  /** Unfinalized blocks dropped to follow a fork, and the sources that had served them. */
  rolledBack?: { from: number; to: number; sources: string[] };
}

interface Entry {
  hash: Hex;
  number: number;
  block: Uint8Array;
  summary: BlockSummary;
  snapshot: ChainVerifierSnapshot;
  authenticated: boolean;
  source: string;
}

/** Two fork switches in one batch: report the union (lowest from, highest to, every dropped source). */
function mergeRollbacks(
  a: BatchResult['rolledBack'],
  b: NonNullable<BatchResult['rolledBack']>,
): NonNullable<BatchResult['rolledBack']> {
  if (!a) return b;
  return {
    from: Math.min(a.from, b.from),
    to: Math.max(a.to, b.to),
    sources: [...new Set([...a.sources, ...b.sources])],
  };
}

/**
 * The verifier's state after block `hash` of `snap`'s unfinalized window, derived from the later
 * state `snap` when no PoW block follows it (a plain block changes only the head). How a node that
 * restarted at a fork block (the states after the blocks below its stored head are gone) still rolls
 * back to a fork point below it. Undefined when the block is not in the window or a PoW block follows it.
 */
export function stateAfter(snap: ChainVerifierSnapshot, hash: Hex): ChainVerifierSnapshot | undefined {
  const at = snap.window.findIndex((w) => w.block.hash === hash);
  const block = snap.window[at]?.block;
  if (!block || snap.finality.lastPow.blockNumber > block.number) return undefined;
  return structuredClone({
    finality: { ...snap.finality, head: block.number },
    head: block,
    window: snap.window.slice(0, at + 1),
  });
}

/** Fork blocks kept (a fork must reach a verified PoW block within this many blocks to win). */
export const MAX_FORK_BLOCKS = 1024;

export class BlockImport {
  private readonly verifier: ChainVerifier;
  /** Imported blocks not persisted yet, by number (contiguous above `persistedHead`). */
  private entries = new Map<number, Entry>();
  private persistedHead: number;
  /** The snapshot after the persisted head. */
  private persistedSnapshot: ChainVerifierSnapshot;
  /** The snapshot after each unfinalized persisted block (for rollbacks to a fork point). */
  private readonly snapshotsByHash = new Map<Hex, ChainVerifierSnapshot>();
  /** A rollback below the persisted head that storage has not applied yet. */
  private truncate: PersistBatch['truncate'];
  /** Who served each unfinalized block (penalised if a fork with a verified PoW replaces it). */
  private readonly sourceByHash = new Map<Hex, string>();
  private readonly forks = new Map<Hex, ImportItem>();

  /** `start`: block 0 (a genesis replay) or the verifier's state to resume from (a warm or head-first start). */
  constructor(opts: ChainVerifierOptions, start: SignedConsensusBlock | ChainVerifierSnapshot) {
    this.verifier = new ChainVerifier(opts, start);
    this.persistedHead = this.verifier.head.number;
    this.persistedSnapshot = this.verifier.snapshot();
    this.snapshotsByHash.set(this.verifier.head.hash, this.persistedSnapshot);
  }

  get chainHead(): VerifiedChainBlock {
    return this.verifier.head;
  }

  /** The verifier's state now (what storage records with the head). */
  snapshot(): ChainVerifierSnapshot {
    return this.verifier.snapshot();
  }

  get finalizedThrough(): number {
    return this.verifier.finalizedThrough;
  }

  get forkCount(): number {
    return this.forks.size;
  }

  /** Highest block such that it and all below are authenticated. */
  authenticatedHead(): VerifiedChainBlock {
    let best = this.verifier.unfinalized.length ? undefined : this.verifier.head;
    for (const b of this.verifier.unfinalized) {
      if (b.signers === null) break;
      best = b;
    }
    if (best) return best;
    // the window starts with a pending block: the last finalized block is the authenticated head
    const snap = this.snapshotsByHash.get(this.verifier.state.lastFinalized.hash);
    return (
      snap?.head ?? {
        ...this.verifier.head,
        number: this.verifier.state.lastFinalized.blockNumber,
        hash: this.verifier.state.lastFinalized.hash,
      }
    );
  }

  /** The pending tail (deferred approvals, no PoW yet): blocks to verify individually. */
  pendingTail(): { hash: Hex; number: number; block: Uint8Array; source: string }[] {
    return this.verifier.pending.flatMap((b) => {
      const e = this.entries.get(b.number);
      return e && e.hash === b.hash ? [{ hash: b.hash, number: b.number, block: e.block, source: e.source }] : [];
    });
  }

  /**
   * Drop the unpersisted blocks from `number` up (a dispute found one of them bad): the verifier
   * goes back to its state after `number - 1`. Persisted (authenticated) blocks are never dropped.
   */
  dropFrom(number: number): BatchResult {
    if (number <= this.persistedHead)
      throw new RangeError(`block ${number} is persisted (authenticated); only unpersisted blocks can be dropped`);
    const snap = number - 1 === this.persistedHead ? this.persistedSnapshot : this.entries.get(number - 1)?.snapshot;
    if (!snap) throw new RangeError(`no state recorded after block ${number - 1}`);
    this.verifier.restore(snap);
    for (const n of [...this.entries.keys()]) if (n >= number) this.entries.delete(n);
    return this.result(0, undefined, null);
  }

  /**
   * Offer verified blocks from another branch (an orphan's ancestors, oldest first). Each whose
   * parent is ours (unfinalized or last finalized) or already a fork block joins the fork set.
   * 'linked': the last one is in the fork set; 'unknown-parent': the first one's parent is unknown.
   */
  addForkBlocks(items: readonly ImportItem[]): 'linked' | 'unknown-parent' {
    for (const item of items) {
      if (
        item.summary.hash === this.verifier.head.hash ||
        this.verifier.unfinalized.some((b) => b.hash === item.summary.hash)
      )
        continue; // ours already
      if (!this.isForkCandidate(item.summary)) return 'unknown-parent';
      this.rememberFork(item);
    }
    return 'linked';
  }

  /** Apply approvals verified for tail blocks (`signers` by hash). */
  authenticateTail(signers: ReadonlyMap<Hex, number[]>): BatchResult {
    const done = this.verifier.authenticatePending((b) => {
      const s = signers.get(b.hash);
      if (!s) throw new VerificationError('approvals.unverified', `no verified approvals for block ${b.number}`);
      return s;
    });
    // Each entry keeps the state after its own block, now with the signers filled in (a rollback
    // to it must not resurrect later blocks).
    const sig = (b: VerifiedChainBlock): VerifiedChainBlock =>
      b.signers === null && signers.has(b.hash) ? { ...b, signers: signers.get(b.hash)! } : b;
    for (const e of this.entries.values())
      e.snapshot = {
        ...e.snapshot,
        head: sig(e.snapshot.head),
        window: e.snapshot.window.map((w) => ({ ...w, block: sig(w.block) })),
      };
    for (const b of done) {
      const e = this.entries.get(b.number);
      if (e && e.hash === b.hash) e.authenticated = true;
    }
    return this.result(0, undefined, null);
  }

  importBatch(items: readonly ImportItem[]): BatchResult {
    let newlyFinalized = null as BatchResult['newlyFinalized'];
    let rolledBack: BatchResult['rolledBack'];
    const forks: ForkObservation[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const s = item.summary;
      let undo: (() => BatchResult['rolledBack']) | undefined;
      // a block of our own chain sent again (a retried range): nothing to do, and never a fork block
      if (s.hash === this.verifier.head.hash || this.verifier.unfinalized.some((b) => b.hash === s.hash)) continue;
      try {
        if (s.number !== this.verifier.head.number + 1 && !this.isForkCandidate(s)) {
          // Above our head and not on a fork we know. Just above a fork block: an orphan of that
          // branch (fetch its ancestors). Otherwise the sync and the chain disagree on where we are
          // (one of them restarted): resume at our head, nobody's fault.
          const onFork = [...this.forks.values()].some((f) => f.summary.number === s.number - 1);
          const failure: ImportFailure = onFork
            ? {
                index: i,
                source: item.source,
                check: 'block.parent-hash',
                message: `the parent ${s.parentHash} of block ${s.number} is unknown`,
                orphan: { number: s.number, parentHash: s.parentHash },
              }
            : {
                index: i,
                source: item.source,
                check: 'import.gap',
                message: `block ${s.number} does not follow our head ${this.verifier.head.number}`,
                resumeAt: this.verifier.head.number + 1,
              };
          return { ...this.result(i, failure, newlyFinalized, rolledBack), ...(forks.length ? { forks } : {}) };
        }
        if (
          s.parentHash !== this.verifier.head.hash &&
          this.forks.get(s.parentHash)?.summary.number === s.number - 1 &&
          s.auxpowHeader &&
          s.signers !== null
        ) {
          // A PoW block extends a fork: roll back the unfinalized tail and follow the fork, but only
          // if the PoW block then imports (its AuxPoW verified over the fork's range); else undo.
          undo = this.saveState(rolledBack);
          rolledBack = mergeRollbacks(rolledBack, this.switchToFork(s.parentHash));
        }
        const out = this.verifier.importSummary(s);
        if (out.finalized) newlyFinalized = { from: newlyFinalized?.from ?? out.finalized.from, to: out.finalized.to };
        for (const a of out.authenticated) {
          const e = this.entries.get(a.number);
          if (e && e.hash === a.hash) e.authenticated = true;
        }
        this.entries.set(s.number, {
          hash: s.hash,
          number: s.number,
          block: item.block,
          summary: s,
          snapshot: this.verifier.snapshot(),
          authenticated: s.signers !== null,
          source: item.source,
        });
        this.sourceByHash.set(s.hash, item.source);
        this.forks.delete(s.hash);
      } catch (e) {
        if (undo) rolledBack = undo(); // the fork did not win: back to where we were
        if (!(e instanceof VerificationError)) throw e;
        if (e.check === 'block.parent-hash' && this.isForkCandidate(s)) {
          // valid on its own, on another branch: keep it, go on (a PoW block may extend it later)
          this.rememberFork(item);
          forks.push({ number: s.number, hash: s.hash, source: item.source });
          continue;
        }
        const orphan = e.check === 'block.parent-hash' && s.number === this.verifier.head.number + 1;
        const failure: ImportFailure = {
          index: i,
          source: item.source,
          check: e.check,
          message: e.shortMessage,
          ...(orphan ? { orphan: { number: s.number, parentHash: s.parentHash } } : {}),
        };
        return { ...this.result(i, failure, newlyFinalized, rolledBack), ...(forks.length ? { forks } : {}) };
      }
    }
    return { ...this.result(items.length, undefined, newlyFinalized, rolledBack), ...(forks.length ? { forks } : {}) };
  }

  private result(
    imported: number,
    failure: ImportFailure | undefined,
    newlyFinalized: BatchResult['newlyFinalized'],
    rolledBack?: BatchResult['rolledBack'],
  ): BatchResult {
    return {
      imported,
      ...(failure ? { failure } : {}),
      persist: this.takePersistable(),
      head: this.authenticatedHead(),
      finalizedThrough: this.verifier.finalizedThrough,
      newlyFinalized,
      ...(rolledBack ? { rolledBack } : {}),
    };
  }

  /** The contiguous authenticated prefix above the persisted head, removed from `entries`. */
  private takePersistable(): PersistBatch | null {
    const blocks: PersistBatch['blocks'] = [];
    let snapshot: ChainVerifierSnapshot | undefined;
    for (let n = this.persistedHead + 1; ; n++) {
      const e = this.entries.get(n);
      if (!e?.authenticated) break;
      blocks.push({ number: n, hash: e.hash, block: e.block, summary: e.summary });
      snapshot = e.snapshot;
      this.snapshotsByHash.set(e.hash, e.snapshot);
      this.entries.delete(n);
    }
    const truncate = this.truncate;
    this.truncate = undefined;
    if (!snapshot) return truncate ? { blocks: [], snapshot: truncate.snapshot, truncate } : null;
    this.persistedHead = blocks[blocks.length - 1]!.number;
    this.persistedSnapshot = snapshot;
    this.pruneSnapshots();
    return { blocks, snapshot, ...(truncate ? { truncate } : {}) };
  }

  /** Keep snapshots only for unfinalized blocks (rollback targets). */
  private pruneSnapshots(): void {
    const keep = new Set([this.verifier.state.lastFinalized.hash, ...this.verifier.unfinalized.map((b) => b.hash)]);
    for (const h of this.snapshotsByHash.keys()) if (!keep.has(h)) this.snapshotsByHash.delete(h);
    for (const e of this.entries.values()) keep.add(e.hash);
    for (const h of this.sourceByHash.keys()) if (!keep.has(h)) this.sourceByHash.delete(h);
  }

  /** Everything a fork switch changes; the returned function puts it back (and returns `rolledBack`). */
  private saveState<T>(rolledBack: T): () => T {
    const verifier = this.verifier.snapshot();
    const entries = new Map([...this.entries].map(([n, e]) => [n, { ...e }]));
    const { persistedHead, persistedSnapshot, truncate } = this;
    const forks = new Map(this.forks);
    const sources = new Map(this.sourceByHash);
    return () => {
      this.verifier.restore(verifier);
      this.entries = entries;
      this.persistedHead = persistedHead;
      this.persistedSnapshot = persistedSnapshot;
      this.truncate = truncate;
      this.forks.clear();
      for (const [k, v] of forks) this.forks.set(k, v);
      this.sourceByHash.clear();
      for (const [k, v] of sources) this.sourceByHash.set(k, v);
      return rolledBack;
    };
  }

  /** A competing block whose parent is one of our unfinalized (or last finalized) blocks, or a fork block, one height below it. */
  private isForkCandidate(s: BlockSummary): boolean {
    const lf = this.verifier.state.lastFinalized;
    if (s.parentHash === lf.hash) return lf.blockNumber === s.number - 1;
    if (this.verifier.unfinalized.some((b) => b.hash === s.parentHash && b.number === s.number - 1)) return true;
    return this.forks.get(s.parentHash)?.summary.number === s.number - 1;
  }

  private rememberFork(item: ImportItem): void {
    if (this.forks.size >= MAX_FORK_BLOCKS) this.forks.delete(this.forks.keys().next().value!);
    this.forks.set(item.summary.hash, item);
  }

  /**
   * Follow the fork ending at `tipHash`: restore the verifier at the fork point and import the fork's
   * blocks. Only unfinalized blocks are rolled back.
   */
  private switchToFork(tipHash: Hex): { from: number; to: number; sources: string[] } {
    const chain: ImportItem[] = [];
    let cursor: ImportItem | undefined = this.forks.get(tipHash);
    while (cursor) {
      chain.unshift(cursor);
      cursor = this.forks.get(cursor.summary.parentHash);
    }
    const forkParent = chain[0]!.summary.parentHash;
    const snap =
      this.snapshotsByHash.get(forkParent) ??
      [...this.entries.values()].find((e) => e.hash === forkParent)?.snapshot ??
      stateAfter(this.verifier.snapshot(), forkParent);
    if (!snap)
      throw new VerificationError(
        'fork.unknown-parent',
        `cannot roll back to ${forkParent}: it is finalized or unknown`,
      );
    const oldHead = this.verifier.head.number;
    const from = snap.head.number + 1;
    const dropped = new Set<string>();
    for (const b of this.verifier.unfinalized) if (b.number >= from) dropped.add(this.sourceByHash.get(b.hash) ?? '');
    dropped.delete('');
    this.verifier.restore(snap);
    for (const n of [...this.entries.keys()]) if (n >= from) this.entries.delete(n);
    if (this.persistedHead >= from) {
      this.persistedHead = from - 1;
      this.persistedSnapshot = snap;
      this.truncate = { to: from - 1, snapshot: snap };
    }
    for (const item of chain) {
      const out = this.verifier.importSummary(item.summary);
      for (const a of out.authenticated) {
        const e = this.entries.get(a.number);
        if (e && e.hash === a.hash) e.authenticated = true;
      }
      this.entries.set(item.summary.number, {
        hash: item.summary.hash,
        number: item.summary.number,
        block: item.block,
        summary: item.summary,
        snapshot: this.verifier.snapshot(),
        authenticated: item.summary.signers !== null,
        source: item.source,
      });
      this.sourceByHash.set(item.summary.hash, item.source);
      this.forks.delete(item.summary.hash);
    }
    return { from, to: oldHead, sources: [...dropped] };
  }
}
