/**
 * Block production by the devnet federation (spec 3.2, 3.3, 4.5, 5.1, 5.3, 6.2-6.4): the slot's
 * author builds the payload with peg-in and fee withdrawals, adds the peg-out proposal for the
 * parent's requests and, on a PoW block, the signed peg-outs of the range; every member approves
 * and the block carries the aggregate. Every block is checked with src/protocol before it is stored,
 * exactly as an Alys node would check it on import.
 */
import { aggregateApprovals, signApproval } from '../../protocol/approvals-sign.js';
import { validatePowBlock } from '../../protocol/auxpow/finality.js';
import { signingRoot } from '../../protocol/block.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import type { Federation } from '../../protocol/bridge/taproot.js';
import { expectedWithdrawals } from '../../protocol/bridge/withdrawals.js';
import { bytesToHex, toHex } from '../../protocol/bytes.js';
import type {
  AggregateApproval,
  AuxPowHeader,
  ChainSpec,
  ConsensusBlock,
  Hex,
  Transaction,
} from '../../protocol/types.js';
import { verifyBlockSelf, verifyParentLink } from '../../protocol/verify.js';
import type { BitcoinChain, ExecutionEngine } from '../types.js';
import type { DevnetAuthoritySets } from './authority-sets.js';
import type { ChainStore, StoredBlock } from './chain.js';
import type { FederationMember } from './keys.js';
import type { MergedMining } from './mining.js';
import { buildPegoutProposal, signPegoutProposal, type PegInScanner, type PegoutProposal } from './pegs.js';

export const FEE_RECIPIENT: Hex = '0x000000000000000000000000000000000000dead';
const ZERO32: Hex = `0x${'00'.repeat(32)}`;

export interface ProducerDeps {
  spec: ChainSpec;
  members: readonly FederationMember[];
  federation: Federation;
  engine: ExecutionEngine;
  bitcoin: BitcoinChain;
  chain: ChainStore;
  bls: BlsBackend;
  pegins: PegInScanner;
  pow: MergedMining;
  /** Seeds the deterministic parts (Schnorr aux randomness). */
  seed: string;
  /** The signer sets over time: blocks are approved by, and checked against, the set at their height. */
  sets: DevnetAuthoritySets;
  log?: (line: string) => void;
}

export type ProduceResult = { block: StoredBlock } | { stalled: string };

export class BlockProducer {
  /** Outpoints spent by proposals that are not finalized yet ("txid:vout"). */
  private readonly reserved = new Set<string>();
  /**
   * Check every new block as an importing node would (verifyBlockSelf) before it becomes the head.
   * The fast generator turns it off (its chains are verified independently, block by block).
   */
  selfCheck = true;
  /**
   * The federation's aggregate approval of a block root: by default every member of the set in force
   * at the block's height (`members`) signs here and the signatures are aggregated. The fast generator replaces it to sign on a worker thread while the
   * next block is built (it returns the aggregate object and fills in its signature later).
   */
  approve: (root: Uint8Array, members: readonly FederationMember[]) => AggregateApproval = (root, members) =>
    aggregateApprovals(
      members.map((m) => signApproval(m.blsSecretKey, root, m.index, this.d.bls)),
      { backend: this.d.bls },
    );

  constructor(private readonly d: ProducerDeps) {}

  /** Author of a slot (spec 3.2): authorities[slot mod n]. */
  authorOf(slot: number): number {
    return slot % this.d.spec.authorities.length;
  }

  async produce(
    slot: number,
    timestamp: bigint,
    transactions?: Uint8Array[],
    senders?: Uint8Array[],
  ): Promise<ProduceResult> {
    const { chain, spec, engine } = this.d;
    const parent = chain.head;
    const n = parent.number + 1;
    const queue = this.d.pegins.scan();

    let header = this.d.pow.takeQueued();
    if (header && !this.powStillValid(header, n)) header = null;
    if (!header && n - chain.lastFinalized.number > spec.maxBlocksWithoutPow)
      return {
        stalled: `block ${n} would be ${n - chain.lastFinalized.number} blocks past the last finalized one (maxBlocksWithoutPow ${spec.maxBlocksWithoutPow}): waiting for a PoW`,
      };

    const { withdrawals, includedPegins } = expectedWithdrawals({
      feesWei: header ? parent.accumulatedFeesWei : null,
      feeRecipient: header?.feeRecipient ?? null,
      federation: spec.federation,
      pegins: queue.map((p) => ({ evmAddress: p.evmAddress, amountSats: p.amountSats })),
    });
    const included = includedPegins.map((i) => queue[i]!);

    const built = await engine.buildPayload({
      parentHash: parent.signed.message.executionPayload.blockHash,
      timestamp,
      suggestedFeeRecipient: FEE_RECIPIENT,
      prevRandao: ZERO32,
      withdrawals,
      ...(transactions ? { transactions } : {}),
      ...(senders ? { senders } : {}),
    });

    const proposal = this.proposal(parent);
    const finalizedPegouts = header ? this.finalize(header) : [];

    const message: ConsensusBlock = {
      parentHash: parent.hash,
      slot,
      auxpowHeader: header,
      executionPayload: built.payload,
      pegins: included.map((p) => [p.txid, p.blockHash] as const),
      pegoutPaymentProposal: proposal?.tx ?? null,
      finalizedPegouts,
    };
    const root = signingRoot(message);
    const signed = { message, signature: this.approve(root, this.d.sets.membersAt(n)) };

    // check the block as an importing node would (spec 4.9) before it becomes the head
    verifyParentLink(message, {
      hash: parent.hash,
      payloadBlockHash: parent.signed.message.executionPayload.blockHash,
      number: BigInt(parent.number),
    });
    if (this.selfCheck) verifyBlockSelf(signed, { spec, authorities: this.d.sets.schedule, backend: this.d.bls, root });

    const fees = built.priorityFeesWei;
    const block: StoredBlock = {
      signed,
      hash: toHex(root),
      number: n,
      receipts: built.receipts,
      priorityFeesWei: fees,
      accumulatedFeesWei: header ? fees : parent.accumulatedFeesWei + fees,
      ...(proposal ? { proposalPrevouts: proposal.prevouts } : {}),
    };
    chain.append(block);
    this.d.pegins.markIncluded(included);
    if (proposal) for (const i of proposal.tx.inputs) this.reserved.add(`${bytesToHex(i.prevTxid)}:${i.prevVout}`);
    if (header) {
      engine.setFinalized(chain.lastFinalized.signed.message.executionPayload.blockHash);
      for (const tx of finalizedPegouts) this.broadcastPegout(tx);
    }
    return { block };
  }

  /** Re-run the importing node's PoW checks (spec 4.5) for a header queued a while ago. */
  private powStillValid(header: AuxPowHeader, n: number): boolean {
    const { chain } = this.d;
    const start = chain.get(header.rangeStart);
    const end = chain.get(header.rangeEnd);
    try {
      if (!start || !end) throw new Error('its range is not on the chain');
      validatePowBlock({
        blockNumber: n,
        header,
        lastPow: { blockNumber: chain.lastPow.number, bits: chain.lastPow.signed.message.auxpowHeader!.bits },
        lastFinalizedHash: chain.lastFinalized.hash,
        rangeStart: { number: start.number, parentHash: start.signed.message.parentHash },
        rangeRoots: chain.range(start.number, end.number).map((b) => b.hash),
        rangeEndNumber: end.number,
        chainSpec: this.d.spec,
        historicalExemptions: false,
      });
      return true;
    } catch (e) {
      this.d.log?.(`dropping the queued PoW for block ${n}: ${(e as Error).message}`);
      return false;
    }
  }

  private proposal(parent: StoredBlock): PegoutProposal | null {
    const spendable = this.d.bitcoin
      .utxos(this.d.federation.scriptPubkey)
      .filter((u) => !this.reserved.has(`${bytesToHex(u.txid)}:${u.vout}`));
    try {
      return buildPegoutProposal(parent.receipts, spendable, this.d.federation);
    } catch (e) {
      // Alys would fail to build the block; the devnet keeps going and says why
      this.d.log?.(`no peg-out proposal after block ${parent.number}: ${(e as Error).message}`);
      return null;
    }
  }

  /** Spec 6.4: the signed peg-outs of the proposals in [range_start, range_end], in order. */
  private finalize(header: AuxPowHeader): Transaction[] {
    const { chain } = this.d;
    const start = chain.get(header.rangeStart)!;
    const end = chain.get(header.rangeEnd)!;
    const out: Transaction[] = [];
    for (const b of chain.range(start.number, end.number)) {
      const tx = b.signed.message.pegoutPaymentProposal;
      if (!tx) continue;
      out.push(
        signPegoutProposal({ tx, prevouts: b.proposalPrevouts! }, this.d.federation, this.d.members, this.d.seed),
      );
    }
    return out;
  }

  private broadcastPegout(tx: Transaction): void {
    try {
      this.d.bitcoin.broadcast(tx);
      for (const i of tx.inputs) this.reserved.delete(`${bytesToHex(i.prevTxid)}:${i.prevVout}`);
    } catch (e) {
      this.d.log?.(`the Bitcoin network refused a finalized peg-out: ${(e as Error).message}`);
    }
  }
}
