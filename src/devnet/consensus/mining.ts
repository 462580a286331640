/**
 * Merged mining on the Alys side (spec 4.1-4.6): `createauxblock` hands miners the aggregate hash
 * of the blocks since the last finalized one; `submitauxblock` checks the returned AuxPoW and queues
 * the AuxPowHeader for the next block.
 */
import { auxpowAggregateHash, checkAuxPow } from '../../protocol/auxpow/check.js';
import { nextWorkRequired } from '../../protocol/auxpow/retarget.js';
import { checkProofOfWork, targetFromCompact } from '../../protocol/bitcoin/pow.js';
import { bytesToHex, fromHex, toHex } from '../../protocol/bytes.js';
import type { AuxBlock } from '../../protocol/codec/json.js';
import { ProtocolError, VerificationError } from '../../protocol/errors.js';
import type { AuxPow, AuxPowHeader, ChainSpec, Hex } from '../../protocol/types.js';
import type { ChainStore } from './chain.js';

/** createauxblock has nothing to offer (Alys answers -32606 "Chain is syncing" for every failure). */
export class NoWorkError extends ProtocolError {
  constructor(reason: string) {
    super('devnet.no-work', reason);
  }
}

/**
 * How often a live miner should try: once every `powTargetSpacing + 1` slots (5 slots without
 * retargeting). The retarget (spec 4.6) turns any ratio below 1 into 0.20, so PoWs even slightly
 * faster than the spacing make the target 5x harder per retarget while slower ones ease it only
 * 1.1-1.2x: a miner at 5 slots with spacing 10 ground the devnet's CPU away within minutes (the
 * soak's devnet fell to 2 blocks a minute). One slot of margin keeps the block distance above the
 * spacing when a slot is late.
 */
export function minerCadenceMs(spec: Pick<ChainSpec, 'slotDuration' | 'retargetParams'>): number {
  const r = spec.retargetParams;
  const blocks = r.powNoRetargeting || r.powTargetSpacing <= 0 ? 5 : r.powTargetSpacing + 1;
  return blocks * spec.slotDuration;
}

interface Pending {
  rangeStart: Hex;
  rangeEnd: Hex;
  lastPow: Hex;
  address: Hex;
}

export class MergedMining {
  private readonly pending = new Map<string, Pending>();
  private queued: AuxPowHeader | null = null;

  constructor(
    private readonly chain: ChainStore,
    private readonly spec: ChainSpec,
  ) {}

  /** The AuxPowHeader waiting for the next block (getqueuedpow). */
  get queuedPow(): AuxPowHeader | null {
    return this.queued;
  }

  /** Hand the queued header to a block (and forget it). */
  takeQueued(): AuxPowHeader | null {
    const q = this.queued;
    this.queued = null;
    return q;
  }

  /** Bits the validator side requires for a PoW in the block after `headNumber` (spec 4.4, 4.6). */
  requiredBits(headNumber: number): number {
    const last = this.chain.lastPow;
    return nextWorkRequired(
      { blockNumber: last.number, bits: last.signed.message.auxpowHeader!.bits },
      headNumber,
      this.spec.retargetParams,
    );
  }

  createAuxBlock(address: Hex): AuxBlock {
    const head = this.chain.head;
    const lastPow = this.chain.lastPow;
    const from = this.chain.lastFinalized.number + 1;
    if (from > head.number) throw new NoWorkError('no block since the last finalized one');
    if (this.queued && this.queued.rangeEnd === head.hash)
      throw new NoWorkError('a PoW for the current head is already queued');
    const range = this.chain.range(from, head.number);
    const hash = auxpowAggregateHash(range.map((b) => fromHex(b.hash)));
    this.pending.set(bytesToHex(hash), {
      rangeStart: range[0]!.hash,
      rangeEnd: head.hash,
      lastPow: lastPow.hash,
      address,
    });
    if (this.pending.size > 64) this.pending.delete(this.pending.keys().next().value!);
    const bits = this.requiredBits(head.number);
    return {
      hash: toHex(hash),
      chainId: lastPow.signed.message.auxpowHeader!.chainId,
      previousBlockHash: lastPow.hash,
      coinbaseValue: 0,
      bits,
      height: lastPow.number + 1,
      target: targetFromCompact(bits),
    };
  }

  /** Check and queue a solved AuxPoW; throws VerificationError (or ProtocolError for unknown work). */
  submitAuxBlock(hash: Uint8Array, auxpow: AuxPow): void {
    const info = this.pending.get(bytesToHex(hash));
    if (!info) throw new ProtocolError('devnet.unknown-work', 'submitted AuxPow for unknown block');
    this.pending.delete(bytesToHex(hash));
    const lastPow = this.chain.get(info.lastPow);
    if (!lastPow || lastPow !== this.chain.lastPow)
      throw new ProtocolError('devnet.stale-work', 'the work is stale: a newer PoW block was imported');
    const bits = this.requiredBits(this.chain.head.number);
    const chainId = lastPow.signed.message.auxpowHeader!.chainId;
    if (!checkProofOfWork(auxpow.parentBlock, targetFromCompact(bits)))
      throw new VerificationError('auxpow.pow', `the parent block does not meet bits 0x${bits.toString(16)}`);
    checkAuxPow(auxpow, hash, chainId, { variant: 'coinbase-output', expectedChainId: this.spec.chainId });
    this.queued = {
      rangeStart: info.rangeStart,
      rangeEnd: info.rangeEnd,
      bits,
      chainId,
      height: lastPow.number + 1,
      auxpow,
      feeRecipient: info.address,
    };
  }
}
