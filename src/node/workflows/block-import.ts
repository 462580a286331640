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
 *
 * Memory stays linear in the unfinalized tail (testnet allows 50,000 blocks without PoW): the state
 * after each block of our chain is kept as its window entry, its finality state and where its window
 * starts (`ChainNode`, constant size), and a full verifier snapshot is built only when one is needed
 * (a persist batch, a rollback), from the nodes of the blocks in its window.
 */
import type { FinalityState } from '../../protocol/auxpow/finality.js';
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
  authenticated: boolean;
  source: string;
}

type WindowEntry = ChainVerifierSnapshot['window'][number];

/**
 * One block of our chain and what rebuilds the verifier's state after it: that state's window is
 * the entries of blocks `windowFrom`..this one (each held once, by its own node). Never mutated
 * (replaced), so a saved copy of the map is a saved state.
 */
interface ChainNode {
  /** Its window entry (signers filled in once its approvals are verified). */
  entry: WindowEntry;
  /** The finality state after it; null when unknown (below a PoW block of the snapshot we started from). */
  finality: FinalityState | null;
  /** The number of the first block of the window after it. */
  windowFrom: number;
  /** Who served it ('' when it came with the start state); penalised if a fork with a verified PoW replaces it. */
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

/** Fork blocks kept (a fork must reach a verified PoW block within this many blocks to win). */
export const MAX_FORK_BLOCKS = 1024;

export class BlockImport {
  private readonly verifier: ChainVerifier;
  /** Imported blocks not persisted yet, by number (contiguous above `persistedHead`). */
  private entries = new Map<number, Entry>();
  private persistedHead: number;
  /**
   * Our chain by number, contiguous up to the head, from the first window block of the state after
   * the last finalized block: every state a rollback may return to (the last finalized block or an
   * unfinalized one) can be rebuilt from it ({@link stateAt}).
   */
  private chain = new Map<number, ChainNode>();
  /** A rollback below the persisted head that storage has not applied yet. */
  private truncate: PersistBatch['truncate'];
  private readonly forks = new Map<Hex, ImportItem>();

  /** `start`: block 0 (a genesis replay) or the verifier's state to resume from (a warm or head-first start). */
  constructor(opts: ChainVerifierOptions, start: SignedConsensusBlock | ChainVerifierSnapshot) {
    this.verifier = new ChainVerifier(opts, start);
    this.persistedHead = this.verifier.head.number;
    this.seedChain(this.verifier.snapshot());
  }

  /**
   * The nodes of the start state's window. The state after a window block is known when no PoW block
   * follows it (a plain block changes only the head): how a node restarted at a fork block still rolls
   * back to a fork point below its stored head.
   */
  private seedChain(s: ChainVerifierSnapshot): void {
    const windowFrom = s.head.number + 1 - s.window.length;
    const known = (n: number): FinalityState | null =>
      n >= s.finality.lastPow.blockNumber ? { ...s.finality, head: n } : null;
    for (const entry of s.window)
      this.chain.set(entry.block.number, { entry, finality: known(entry.block.number), windowFrom, source: '' });
    if (!s.window.length)
      this.chain.set(s.head.number, {
        entry: { block: s.head, hasProposal: false },
        finality: s.finality,
        windowFrom,
        source: '',
      });
  }

  /** The verifier's state after block `number` of our chain, or undefined when it is not known. */
  private stateAt(number: number): ChainVerifierSnapshot | undefined {
    const node = this.chain.get(number);
    if (!node?.finality) return undefined;
    const window: WindowEntry[] = [];
    for (let n = node.windowFrom; n <= number; n++) {
      const e = this.chain.get(n);
      if (!e) return undefined;
      window.push(e.entry);
    }
    return structuredClone({ finality: node.finality, head: node.entry.block, window });
  }

  /** `hash` is our head or one of our unfinalized blocks, at height `number`. */
  private isOurs(hash: Hex, number: number): boolean {
    if (hash === this.verifier.head.hash) return true;
    return number > this.verifier.state.lastFinalized.blockNumber && this.chain.get(number)?.entry.block.hash === hash;
  }

  /** Record a block the verifier has just imported as its head (and the blocks it authenticated). */
  private recordImport(item: ImportItem, authenticated: readonly VerifiedChainBlock[]): void {
    const s = item.summary;
    for (const a of authenticated) {
      const e = this.entries.get(a.number);
      if (e && e.hash === a.hash) e.authenticated = true;
    }
    this.entries.set(s.number, {
      hash: s.hash,
      number: s.number,
      block: item.block,
      summary: s,
      authenticated: s.signers !== null,
      source: item.source,
    });
    const finality = this.verifier.state;
    const windowFrom = s.auxpowHeader
      ? finality.lastFinalized.blockNumber + 1
      : (this.chain.get(s.number - 1)?.windowFrom ?? finality.lastFinalized.blockNumber + 1);
    this.chain.set(s.number, {
      entry: { block: this.verifier.head, hasProposal: s.hasProposal },
      finality,
      windowFrom,
      source: item.source,
    });
    this.forks.delete(s.hash);
  }

  /** Forget our blocks from `from` up (the verifier was restored below them). */
  private dropChainFrom(from: number): void {
    for (const n of [...this.entries.keys()]) if (n >= from) this.entries.delete(n);
    for (let n = this.verifier.head.number + 1; this.chain.delete(n); n++);
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
    const lf = this.verifier.state.lastFinalized;
    const node = this.chain.get(lf.blockNumber);
    return node?.entry.block.hash === lf.hash
      ? node.entry.block
      : { ...this.verifier.head, number: lf.blockNumber, hash: lf.hash };
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
    const snap = this.stateAt(number - 1);
    if (!snap) throw new RangeError(`no state recorded after block ${number - 1}`);
    this.verifier.restore(snap);
    this.dropChainFrom(number);
    return this.result(0, undefined, null);
  }

  /**
   * Offer verified blocks from another branch (an orphan's ancestors, oldest first). Each whose
   * parent is ours (unfinalized or last finalized) or already a fork block joins the fork set.
   * 'linked': the last one is in the fork set; 'unknown-parent': the first one's parent is unknown.
   */
  addForkBlocks(items: readonly ImportItem[]): 'linked' | 'unknown-parent' {
    for (const item of items) {
      if (this.isOurs(item.summary.hash, item.summary.number)) continue; // ours already
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
    // every state rebuilt from the chain now has the signers filled in
    for (const b of done) {
      const e = this.entries.get(b.number);
      if (e && e.hash === b.hash) e.authenticated = true;
      const node = this.chain.get(b.number);
      if (node && node.entry.block.hash === b.hash)
        this.chain.set(b.number, { ...node, entry: { ...node.entry, block: b } });
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
      if (this.isOurs(s.hash, s.number)) continue;
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
        this.recordImport(item, out.authenticated);
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
    for (let n = this.persistedHead + 1; ; n++) {
      const e = this.entries.get(n);
      if (!e?.authenticated) break;
      blocks.push({ number: n, hash: e.hash, block: e.block, summary: e.summary });
      this.entries.delete(n);
    }
    const truncate = this.truncate;
    this.truncate = undefined;
    if (!blocks.length) return truncate ? { blocks: [], snapshot: truncate.snapshot, truncate } : null;
    this.persistedHead = blocks[blocks.length - 1]!.number;
    const snapshot = this.stateAt(this.persistedHead);
    if (!snapshot) throw new RangeError(`no state recorded after block ${this.persistedHead}`);
    this.pruneChain();
    return { blocks, snapshot, ...(truncate ? { truncate } : {}) };
  }

  /**
   * Drop the nodes no rollback target needs: below the window of the state after the last finalized
   * block (the unfinalized blocks' windows start there or later).
   */
  private pruneChain(): void {
    const lf = this.verifier.state.lastFinalized.blockNumber;
    const keepFrom = Math.min(lf, this.chain.get(lf)?.windowFrom ?? lf);
    for (let n = keepFrom - 1; this.chain.delete(n); n--);
  }

  /** Everything a fork switch changes; the returned function puts it back (and returns `rolledBack`). */
  private saveState<T>(rolledBack: T): () => T {
    const verifier = this.verifier.snapshot();
    const entries = new Map([...this.entries].map(([n, e]) => [n, { ...e }]));
    const chain = new Map(this.chain);
    const { persistedHead, truncate } = this;
    const forks = new Map(this.forks);
    return () => {
      this.verifier.restore(verifier);
      this.entries = entries;
      this.chain = chain;
      this.persistedHead = persistedHead;
      this.truncate = truncate;
      this.forks.clear();
      for (const [k, v] of forks) this.forks.set(k, v);
      return rolledBack;
    };
  }

  /** A competing block whose parent is one of our unfinalized (or last finalized) blocks, or a fork block, one height below it. */
  private isForkCandidate(s: BlockSummary): boolean {
    const lf = this.verifier.state.lastFinalized;
    if (s.parentHash === lf.hash) return lf.blockNumber === s.number - 1;
    if (this.isOurs(s.parentHash, s.number - 1)) return true;
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
    const at = chain[0]!.summary.number - 1;
    const rollbackTarget =
      at >= this.verifier.state.lastFinalized.blockNumber && this.chain.get(at)?.entry.block.hash === forkParent;
    const snap = rollbackTarget ? this.stateAt(at) : undefined;
    if (!snap)
      throw new VerificationError(
        'fork.unknown-parent',
        `cannot roll back to ${forkParent}: it is finalized or unknown`,
      );
    const oldHead = this.verifier.head.number;
    const from = snap.head.number + 1;
    const dropped = new Set<string>();
    for (let n = from; n <= oldHead; n++) dropped.add(this.chain.get(n)?.source ?? '');
    dropped.delete('');
    this.verifier.restore(snap);
    this.dropChainFrom(from);
    if (this.persistedHead >= from) {
      this.persistedHead = from - 1;
      this.truncate = { to: from - 1, snapshot: snap };
    }
    for (const item of chain) {
      const out = this.verifier.importSummary(item.summary);
      this.recordImport(item, out.authenticated);
    }
    return { from, to: oldHead, sources: [...dropped] };
  }
}
