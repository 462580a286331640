/**
 * The devnet's consensus chain: signed blocks by hash and height, the head, the last PoW block and
 * the finalized block (spec 4.7), plus what production needs about each block (its EL receipts for
 * the next block's peg-out proposal, fee accumulation of spec 5.3, the spent outputs of its
 * proposal for signing). One canonical chain: the devnet's federation is honest and never forks.
 */
import { lastFinalizedOf } from '../../protocol/auxpow/finality.js';
import type { Hex, SignedConsensusBlock, TxOut } from '../../protocol/types.js';
import type { EngineReceipt } from '../types.js';

export interface StoredBlock {
  signed: SignedConsensusBlock;
  /** Signing root. */
  hash: Hex;
  /** Execution block number (= consensus height). */
  number: number;
  /** EL receipts of this block's payload. */
  receipts: EngineReceipt[];
  /** Spec 5.3: fees(block) = sum(effective tip * gas used). */
  priorityFeesWei: bigint;
  /** Spec 5.3: acc(block) = fees(block) if it carries an AuxPowHeader, else acc(parent) + fees(block). */
  accumulatedFeesWei: bigint;
  /** The outputs spent by this block's peg-out proposal, in input order (needed to sign it). */
  proposalPrevouts?: TxOut[];
}

export class ChainStore {
  private readonly byHash = new Map<Hex, StoredBlock>();
  private readonly byNumber: StoredBlock[] = [];
  private lastPowBlock: StoredBlock;
  private readonly listeners = new Set<(block: StoredBlock) => void>();

  constructor(genesis: StoredBlock) {
    if (genesis.number !== 0) throw new Error('the chain starts at block 0');
    this.byHash.set(genesis.hash, genesis);
    this.byNumber.push(genesis);
    this.lastPowBlock = genesis; // genesis counts as the first PoW block (spec 2.5)
  }

  get head(): StoredBlock {
    return this.byNumber[this.byNumber.length - 1]!;
  }

  get genesis(): StoredBlock {
    return this.byNumber[0]!;
  }

  get height(): number {
    return this.byNumber.length - 1;
  }

  get(hash: Hex): StoredBlock | undefined {
    return this.byHash.get(hash);
  }

  at(number: number): StoredBlock | undefined {
    return this.byNumber[number];
  }

  /** The most recent block carrying an AuxPowHeader (genesis at first). */
  get lastPow(): StoredBlock {
    return this.lastPowBlock;
  }

  /** Spec 4.5 step 1: genesis while it is the last PoW block, else the last PoW block's range_end. */
  get lastFinalized(): StoredBlock {
    const header = this.lastPowBlock.signed.message.auxpowHeader!;
    return this.byHash.get(lastFinalizedOf({ hash: this.lastPowBlock.hash, header }))!;
  }

  /** Blocks `from`..`to` (inclusive, by number), oldest first. */
  range(from: number, to: number): StoredBlock[] {
    return this.byNumber.slice(from, to + 1);
  }

  append(block: StoredBlock): void {
    if (block.number !== this.height + 1 || block.signed.message.parentHash !== this.head.hash)
      throw new Error(`block ${block.number} does not extend the head ${this.height}`);
    this.byHash.set(block.hash, block);
    this.byNumber.push(block);
    if (block.signed.message.auxpowHeader) this.lastPowBlock = block;
    for (const fn of this.listeners) fn(block);
  }

  /** Call `fn` after every appended block; returns the unsubscribe function. */
  onAppend(fn: (block: StoredBlock) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
