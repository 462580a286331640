/**
 * The peg tracker: where a wallet's peg-ins and peg-outs stand, from verified evidence only
 * (spec 6.5). It keeps, per tracked peg, a set of evidence items (src/protocol/bridge/lifecycle.ts)
 * gathered from verified Alys blocks (`onBlock`), the node's finality (`onFinalized`), blocks rolled
 * back (`onRollback`), verified EVM receipts and the Bitcoin SPV client (`BitcoinView`, consumed only
 * through that interface); the state is the pure fold of that set and is recomputed, never stored.
 * Every change is written to the node's KvStore (tracker-record.ts) before it is announced; `load()`
 * resumes after a restart, dropping any record that fails its checks. Bounded: `maxPegs` tracked
 * pegs (beyond: `PegTrackerFullError`), 64 evidence items per peg, 64 tracked addresses.
 */
import { AlysLightError } from '../../errors.js';
import { toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { txid as computeTxid, decodeTransaction } from '../../protocol/bitcoin/tx.js';
import {
  type BtcInclusionEvidence,
  currentInclusion,
  evidenceId,
  type PegEvidence,
  type PegInState,
  type PegOutState,
  pegInState,
  pegOutState,
} from '../../protocol/bridge/lifecycle.js';
import type { PegIn } from '../../protocol/bridge/pegin.js';
import { REQUEST_PEGOUT_TOPIC0 } from '../../protocol/bridge/pegout.js';
import {
  type BitcoinNetwork,
  createFederationFromSpec,
  type Federation,
  federationAddress,
} from '../../protocol/bridge/taproot.js';
import type { ChainSpec, Hex, Transaction, TxOut } from '../../protocol/types.js';
import type { KvStore } from '../storage/kv.js';
import type { BitcoinView } from './bitcoin-view.js';
import * as ev from './evidence.js';
import {
  belongsTo,
  CorruptPegRecordError,
  decodeMeta,
  decodeRecord,
  encodeRecord,
  EVM_ADDRESS_RE,
  EVM_HASH_RE,
  MAX_ADDRESSES,
  MAX_EVIDENCE_PER_PEG,
  MAX_ORPHANS,
  META_KEY,
  PEG_PREFIX,
  type PegKind,
  type PegMeta,
  type PegRecord,
  recordKey,
  TXID_RE,
} from './tracker-record.js';

export type PegView =
  | { kind: 'in'; txid: string; state: PegInState }
  | { kind: 'out'; evmTxHash: string; state: PegOutState };

/** One transition of one peg: its new view and the state it left. */
export interface PegEvent {
  peg: PegView;
  previous: PegInState['state'] | PegOutState['state'];
}

/** Receipts and logs of verified EVM blocks (src/node/engine/reads.ts `VerifiedReads` fits). */
export interface PegReceiptSource {
  getTransactionReceipt(hash: Hex): Promise<ev.PegReceipt | null>;
  /** Logs from verified receipts (for peg-outs by address); optional. */
  getLogs?(filter: {
    topics: readonly (Hex | null)[];
    fromBlock: bigint;
    toBlock: bigint;
  }): Promise<readonly { transactionHash: Hex }[]>;
  blockNumber?(): Promise<bigint>;
}

export interface PegTrackerDeps {
  store: KvStore;
  spec: Pick<ChainSpec, 'federationBitcoinPubkeys' | 'requiredBtcTxnConfirmations'>;
  /** The Bitcoin network of the deposit address (Alys `--bitcoin-network`, default regtest). */
  network: BitcoinNetwork;
  bitcoin: BitcoinView;
  receipts: PegReceiptSource;
  /** The verified canonical block at a height (the chain's or the store's); undefined when none. */
  blockAt(number: number): Promise<ev.VerifiedBlockRef | undefined>;
  /** Most tracked pegs (default 1,000). */
  maxPegs?: number;
  /** Blocks back from the head that tracking peg-outs by address searches (default 2,000). */
  addressScanBlocks?: number;
  /** Deposits listed per address query (default 25). */
  addressTxLimit?: number;
  onPeg?(event: PegEvent): void;
  /** A verified input broke a peg rule, or a Bitcoin/EVM answer could not be used: reported, never fatal. */
  onFault?(error: Error): void;
}

/** A tracking call with a malformed argument (code `peg.bad-argument`). */
export class PegArgumentError extends AlysLightError {
  override name = 'PegArgumentError';
  constructor(what: string, value: unknown) {
    super('peg.bad-argument', `${what}: got ${String(value).slice(0, 80)}`);
  }
}

/** Tracking one more peg would pass `maxPegs` (code `peg.too-many`). */
export class PegTrackerFullError extends AlysLightError {
  override name = 'PegTrackerFullError';
  constructor(max: number) {
    super('peg.too-many', `the tracker already tracks ${max} pegs (maxPegs)`, {
      hint: 'raise maxPegs or track fewer pegs',
    });
  }
}

interface Entry {
  record: PegRecord;
  /** JSON of the last state announced. */
  last: string;
  /** Its evidence changed since it was last written. */
  dirty: boolean;
}

/** How many recent peg-activity blocks the in-memory index remembers (tracking after the fact). */
const INDEX_SIZE = 10_000;

export class PegTracker {
  readonly depositAddress: string;
  private readonly federation: Federation;
  private readonly entries = new Map<string, Entry>();
  private meta: PegMeta = { seq: 0, finalized: -1, orphans: [], addresses: [] };
  /** `in:<txid>` / `fin:<btc txid>` -> the verified block that listed it (this run only). */
  private readonly index = new Map<string, number>();
  /** Pegs whose stored blocks were already searched this run (`lookBackForMint`, `lookForwardForFinalization`). */
  private readonly scanned = new Set<string>();
  private readonly maxPegs: number;

  constructor(private readonly d: PegTrackerDeps) {
    this.federation = createFederationFromSpec(d.spec);
    this.depositAddress = federationAddress(this.federation, d.network);
    this.maxPegs = d.maxPegs ?? 1_000;
  }

  /** Resume from the store: every record checked, a damaged one dropped (deleted). */
  async load(): Promise<{ loaded: number; dropped: string[] }> {
    const dropped: string[] = [];
    const rawMeta = await this.d.store.get(META_KEY);
    if (rawMeta) this.meta = this.tryDecode(META_KEY, () => decodeMeta(rawMeta), dropped) ?? this.meta;
    const keys = (await this.d.store.keys(PEG_PREFIX)).filter((k) => k !== META_KEY);
    const values = await this.d.store.getMany(keys);
    keys.forEach((k, i) => {
      const rec = this.tryDecode(k, () => decodeRecord(k, values[i]!), dropped);
      if (!rec || this.entries.size >= this.maxPegs) return;
      this.meta.seq = Math.max(this.meta.seq, rec.since + 1, ...rec.evidence.map((e) => ('seq' in e ? e.seq + 1 : 0)));
      this.entries.set(k, { record: rec, last: '', dirty: false });
      this.entries.get(k)!.last = JSON.stringify(this.view(rec).state);
    });
    if (dropped.length) await this.d.store.batch(dropped.map((key) => ({ type: 'del' as const, key })));
    return { loaded: this.entries.size, dropped };
  }

  private tryDecode<T>(key: string, decode: () => T, dropped: string[]): T | undefined {
    try {
      return decode();
    } catch (e) {
      if (!(e instanceof CorruptPegRecordError)) throw e;
      dropped.push(key);
      this.d.onFault?.(e);
      return undefined;
    }
  }

  // ---------------------------------------------------------------------------------------- queries

  pegs(): PegView[] {
    return [...this.entries.values()].sort((a, b) => a.record.since - b.record.since).map((e) => this.view(e.record));
  }

  peg(kind: PegKind, key: string): PegView | undefined {
    const e = this.entries.get(recordKey(kind, key.toLowerCase()));
    return e ? this.view(e.record) : undefined;
  }

  /** Tracked addresses. */
  addresses(): string[] {
    return [...this.meta.addresses];
  }

  private view(rec: PegRecord): PegView {
    const all = [...rec.evidence, ...this.meta.orphans, ev.finalityEvidence(this.meta.finalized)];
    return rec.kind === 'in'
      ? {
          kind: 'in',
          txid: rec.key,
          state: pegInState(rec.key, all, { requiredConfirmations: this.d.spec.requiredBtcTxnConfirmations }),
        }
      : { kind: 'out', evmTxHash: rec.key, state: pegOutState(rec.key, all) };
  }

  // ---------------------------------------------------------------------------------------- tracking

  /** Track the peg-in `txid` (display hex): its Bitcoin sighting now, its minting if a block seen this run listed it. */
  async trackPegIn(txid: string): Promise<PegView> {
    const id = typeof txid === 'string' ? txid.toLowerCase() : '';
    if (!TXID_RE.test(id)) throw new PegArgumentError('a Bitcoin txid is 64 hex digits', txid);
    const entry = this.entry('in', id);
    await this.observePegIn(entry);
    const n = this.index.get(`in:${id}`) ?? (await this.lookBackForMint(entry));
    if (n !== undefined) await this.mintFrom(entry, await this.d.blockAt(n));
    await this.commit([entry]);
    return this.view(entry.record);
  }

  /** Track the peg-out requested by the EVM tx `hash`: its verified receipt, then proposal, finalization, payment. */
  async trackPegOut(hash: string): Promise<PegView> {
    const id = typeof hash === 'string' ? hash.toLowerCase() : '';
    if (!EVM_HASH_RE.test(id)) throw new PegArgumentError('an EVM transaction hash is 0x and 64 hex digits', hash);
    const entry = this.entry('out', id);
    await this.advancePegOut(entry);
    await this.commit([entry]);
    return this.view(entry.record);
  }

  /**
   * Track everything of the EVM address `address`: deposits listed for the deposit address whose
   * verified bytes name it, its RequestPegOut logs in verified receipts of the last
   * `addressScanBlocks` blocks, and (from now on) minting credits to it in verified blocks.
   */
  async trackAddress(address: string): Promise<PegView[]> {
    const a = typeof address === 'string' ? address.toLowerCase() : '';
    if (!EVM_ADDRESS_RE.test(a)) throw new PegArgumentError('an EVM address is 0x and 40 hex digits', address);
    if (!this.meta.addresses.includes(a)) {
      if (this.meta.addresses.length >= MAX_ADDRESSES) throw new PegArgumentError('too many tracked addresses', a);
      this.meta.addresses.push(a);
    }
    await this.depositsOf(a);
    await this.pegOutsOf(a);
    await this.commit([]);
    return this.pegsOf(a);
  }

  /** The tracked pegs of `address` (peg-ins minting to it, peg-outs it requested). */
  pegsOf(address: string): PegView[] {
    const a = address.toLowerCase();
    return this.pegs().filter((p) =>
      p.kind === 'in'
        ? 'evmAddress' in p.state && p.state.evmAddress === a
        : 'request' in p.state && p.state.request.evmAddress === a,
    );
  }

  private async depositsOf(address: string): Promise<void> {
    const txids = await this.d.bitcoin.addressTxids(this.depositAddress, this.d.addressTxLimit ?? 25);
    for (const txid of txids.slice(0, this.d.addressTxLimit ?? 25)) {
      if (!TXID_RE.test(txid) || this.entries.has(recordKey('in', txid))) continue;
      const pegin = await this.lookupPegIn(txid);
      if (pegin?.evmAddress === address && this.entries.size < this.maxPegs) await this.trackPegIn(txid);
    }
  }

  private async pegOutsOf(address: string): Promise<void> {
    const { getLogs, blockNumber } = this.d.receipts;
    if (!getLogs || !blockNumber) return;
    const head = await blockNumber.call(this.d.receipts);
    const span = BigInt(this.d.addressScanBlocks ?? 2_000);
    const fromBlock = head >= span ? head - span + 1n : 0n;
    const topic1 = `0x${'0'.repeat(24)}${address.slice(2)}` as Hex;
    const logs = await getLogs.call(this.d.receipts, {
      topics: [REQUEST_PEGOUT_TOPIC0, topic1],
      fromBlock,
      toBlock: head,
    });
    for (const log of logs.slice(0, this.maxPegs))
      if (!this.entries.has(recordKey('out', log.transactionHash.toLowerCase())) && this.entries.size < this.maxPegs)
        await this.trackPegOut(log.transactionHash);
  }

  private entry(kind: PegKind, key: string): Entry {
    const k = recordKey(kind, key);
    const found = this.entries.get(k);
    if (found) return found;
    if (this.entries.size >= this.maxPegs) throw new PegTrackerFullError(this.maxPegs);
    const entry: Entry = { record: { kind, key, since: this.meta.seq++, evidence: [] }, last: '', dirty: true };
    entry.last = JSON.stringify(this.view(entry.record).state);
    this.entries.set(k, entry);
    return entry;
  }

  // ---------------------------------------------------------------------------------------- evidence in

  /** Add evidence to a peg (a set: an item already there is not added twice; superseded counts are pruned). */
  private add(entry: Entry, items: readonly PegEvidence[]): void {
    const rec = entry.record;
    for (const item of items) {
      if (!belongsTo(item, rec.kind, rec.key)) continue;
      if (item.kind === 'btc-inclusion' && sameCount(rec.evidence, item)) continue;
      if (item.kind === 'btc-inclusion')
        rec.evidence = rec.evidence.filter(
          (e) => !(e.kind === 'btc-inclusion' && e.txid === item.txid && e.seq < item.seq),
        );
      const id = evidenceId(item);
      if (rec.evidence.some((e) => evidenceId(e) === id)) continue;
      if (rec.evidence.length >= MAX_EVIDENCE_PER_PEG) {
        this.d.onFault?.(
          new PegArgumentError(`peg ${rec.key} holds ${MAX_EVIDENCE_PER_PEG} evidence items`, item.kind),
        );
        continue;
      }
      rec.evidence.push(item);
      entry.dirty = true;
    }
  }

  /** A Bitcoin sighting of the peg-in (or a re-count of its inclusion). */
  private async observePegIn(entry: Entry): Promise<void> {
    const txid = entry.record.key;
    const inc = currentInclusion(entry.record.evidence, txid);
    if (inc && this.d.bitcoin.confirmations(inc) > 0) {
      this.add(entry, [ev.recountEvidence(inc, this.d.bitcoin, this.meta.seq++)]);
      return;
    }
    const sighting = await this.guard(() => this.d.bitcoin.lookupTx(txid));
    if (!sighting) return;
    if (inc) this.add(entry, [ev.recountEvidence(inc, this.d.bitcoin, this.meta.seq++)]);
    const items = this.guardSync(() =>
      ev.pegInSightingEvidence(sighting, this.federation, this.d.bitcoin, this.meta.seq++),
    );
    if (items) this.add(entry, items);
  }

  /** The peg-in facts of `txid`: from a verified sighting's bytes; null when unknown or not a peg-in. */
  private async lookupPegIn(txid: string): Promise<PegIn | null> {
    const tracked = this.entries.get(recordKey('in', txid))?.record.evidence.find((e) => e.kind === 'btc-pegin-tx');
    if (tracked?.kind === 'btc-pegin-tx')
      return { evmAddress: tracked.evmAddress as Hex, amountSats: BigInt(tracked.amountSats) };
    const sighting = await this.guard(() => this.d.bitcoin.lookupTx(txid));
    if (!sighting || sighting.txid.toLowerCase() !== txid) return null;
    const kind = this.guardSync(() => ev.classifyPegIn(decodeTransaction(sighting.raw), this.federation));
    return kind && !('invalid' in kind) ? kind : null;
  }

  private async mintFrom(entry: Entry, ref: ev.VerifiedBlockRef | undefined): Promise<void> {
    if (!ref) return;
    const pegin = await this.lookupPegIn(entry.record.key);
    if (!pegin) return;
    const minted = this.guardSync(() => ev.mintedEvidence(ref, entry.record.key, pegin));
    if (minted) this.add(entry, [minted]);
  }

  /** Request, proposal, finalization, Bitcoin payment: as far as the evidence goes now. */
  private async advancePegOut(entry: Entry): Promise<void> {
    let state = this.view(entry.record).state as PegOutState;
    if (state.state === 'unknown') {
      const receipt = await this.guard(() => this.d.receipts.getTransactionReceipt(entry.record.key as Hex));
      const request = receipt ? this.guardSync(() => ev.requestEvidence(receipt)) : null;
      // a verified receipt is read from the canonical chain: a block rolled back earlier is canonical again
      if (request?.evmTxHash === entry.record.key) this.unorphan(request.elBlockHash);
      if (request?.evmTxHash === entry.record.key) this.add(entry, [request]);
      state = this.view(entry.record).state as PegOutState;
    }
    if (state.state === 'requested') {
      await this.proposeFrom(entry, await this.d.blockAt(state.request.elBlock + 1));
      state = this.view(entry.record).state as PegOutState;
    }
    if (state.state === 'proposed') {
      const n = this.index.get(`fin:${state.btcTxid}`) ?? (await this.lookForwardForFinalization(state));
      if (n !== undefined) await this.finalizeFrom(entry, await this.d.blockAt(n));
      state = this.view(entry.record).state as PegOutState;
    }
    if (state.state === 'finalized-on-alys' || state.state === 'broadcast' || state.state === 'confirmed')
      await this.observePayment(entry, state.btcTxid);
  }

  private async proposeFrom(entry: Entry, ref: ev.VerifiedBlockRef | undefined): Promise<void> {
    if (!ref) return;
    const state = this.view(entry.record).state;
    if (state.state !== 'requested') return;
    const script = state.request.destinationScript;
    this.add(
      entry,
      ev.proposalEvidence(ref).filter((p) => p.script === script),
    );
  }

  /** The finalized payment of a proposed peg-out in `ref`, signatures checked against the spent outputs. */
  private async finalizeFrom(entry: Entry, ref: ev.VerifiedBlockRef | undefined): Promise<void> {
    const state = this.view(entry.record).state;
    if (!ref || state.state !== 'proposed') return;
    const tx = ref.block.message.finalizedPegouts.find((t) => btcTxid(t) === state.btcTxid);
    if (!tx) return;
    const proposal = (await this.d.blockAt(state.alysBlock))?.block.message.pegoutPaymentProposal;
    if (!proposal) return;
    const prevouts = await this.prevouts(tx);
    if (!prevouts) return;
    const item = this.guardSync(() => ev.finalizedPegoutEvidence(ref, tx, proposal, this.federation, prevouts));
    if (item) this.add(entry, [item]);
  }

  /** The outputs `tx` spends, each from a sighting whose bytes hashed to its txid; null if one is unknown. */
  private async prevouts(tx: Transaction): Promise<TxOut[] | null> {
    const out: TxOut[] = [];
    for (const input of tx.inputs) {
      const id = toDisplayHex(input.prevTxid);
      const sighting = await this.guard(() => this.d.bitcoin.lookupTx(id));
      if (!sighting || sighting.txid.toLowerCase() !== id) return null;
      const prev = this.guardSync(() => decodeTransaction(sighting.raw))?.outputs[input.prevVout];
      if (!prev) return null;
      out.push(prev);
    }
    return out;
  }

  private async observePayment(entry: Entry, btcTxid: string): Promise<void> {
    const inc = currentInclusion(entry.record.evidence, btcTxid);
    if (inc && this.d.bitcoin.confirmations(inc) > 0) {
      this.add(entry, [ev.recountEvidence(inc, this.d.bitcoin, this.meta.seq++)]);
      return;
    }
    if (inc) this.add(entry, [ev.recountEvidence(inc, this.d.bitcoin, this.meta.seq++)]);
    const sighting = await this.guard(() => this.d.bitcoin.lookupTx(btcTxid));
    if (!sighting || sighting.txid.toLowerCase() !== btcTxid) return;
    const items = this.guardSync(() => ev.pegOutSightingEvidence(sighting, this.d.bitcoin, this.meta.seq++));
    if (items) this.add(entry, items);
  }

  // ---------------------------------------------------------------------------------------- chain input

  /** A verified block with peg activity (the ChainActor's `node.bridge` input). */
  async onBlock(ref: ev.VerifiedBlockRef): Promise<void> {
    this.remember(ref);
    this.unorphan(ref.hash);
    const touched = new Set<Entry>();
    await this.mintsIn(ref, touched);
    for (const entry of this.entries.values()) {
      if (entry.record.kind !== 'out') continue;
      const before = entry.record.evidence.length;
      await this.proposeFrom(entry, ref);
      await this.finalizeFrom(entry, ref);
      if (entry.record.evidence.length !== before) {
        await this.observePaymentIfFinal(entry);
        touched.add(entry);
      }
    }
    await this.commit([...touched]);
  }

  private async observePaymentIfFinal(entry: Entry): Promise<void> {
    const s = this.view(entry.record).state;
    if (s.state === 'finalized-on-alys') await this.observePayment(entry, s.btcTxid);
  }

  /** Peg-ins the block mints for tracked txids or tracked addresses. */
  private async mintsIn(ref: ev.VerifiedBlockRef, touched: Set<Entry>): Promise<void> {
    const credited = new Set(ref.block.message.executionPayload.withdrawals.map((w) => w.address.toLowerCase()));
    const watching = this.meta.addresses.some((a) => credited.has(a));
    for (const txid of ev.listedPegIns(ref.block)) {
      let entry = this.entries.get(recordKey('in', txid));
      if (!entry && watching && this.entries.size < this.maxPegs) {
        const pegin = await this.lookupPegIn(txid);
        if (pegin && this.meta.addresses.includes(pegin.evmAddress)) entry = this.entry('in', txid);
        if (entry) await this.observePegIn(entry);
      }
      if (!entry) continue;
      await this.mintFrom(entry, ref);
      touched.add(entry);
    }
  }

  /**
   * A peg-in confirmed on Bitcoin whose minting this run did not see (the node was not running then, or
   * the in-memory index forgot it): the verified blocks back from the head, at most `addressScanBlocks`,
   * once per peg per run. Returns the height of the block that lists it, if any.
   */
  private async lookBackForMint(entry: Entry): Promise<number | undefined> {
    const state = this.view(entry.record).state.state;
    if (!['confirming', 'eligible'].includes(state)) return undefined;
    const head = await this.verifiedHead();
    if (head === undefined) return undefined;
    return this.scanBlocks(`in:${entry.record.key}`, head, Math.max(1, head - this.scanSpan + 1), -1, (ref) =>
      ev.listedPegIns(ref.block).includes(entry.record.key),
    );
  }

  /** The same for a proposed peg-out's finalization: the blocks after its proposal, at most `addressScanBlocks`. */
  private async lookForwardForFinalization(state: Extract<PegOutState, { state: 'proposed' }>) {
    const head = await this.verifiedHead();
    if (head === undefined) return undefined;
    const to = Math.min(head, state.alysBlock + this.scanSpan);
    return this.scanBlocks(`fin:${state.btcTxid}`, state.alysBlock + 1, to, 1, (ref) =>
      ref.block.message.finalizedPegouts.some((t) => btcTxid(t) === state.btcTxid),
    );
  }

  private get scanSpan(): number {
    return this.d.addressScanBlocks ?? 2_000;
  }

  private async verifiedHead(): Promise<number | undefined> {
    const { blockNumber } = this.d.receipts;
    if (!blockNumber) return undefined;
    const head = await this.guard(() => blockNumber.call(this.d.receipts));
    return head === null ? undefined : Number(head);
  }

  /** Walk verified blocks from `from` to `to` (step ±1) for the first that `hit`s; each key once per run. */
  private async scanBlocks(
    key: string,
    from: number,
    to: number,
    step: 1 | -1,
    hit: (ref: ev.VerifiedBlockRef) => boolean,
  ): Promise<number | undefined> {
    if (this.scanned.has(key)) return undefined;
    this.scanned.add(key);
    for (let n = from; step > 0 ? n <= to : n >= to; n += step) {
      const ref = await this.d.blockAt(n);
      if (!ref) continue;
      this.remember(ref);
      if (hit(ref)) return n;
    }
    return undefined;
  }

  private unorphan(hash: string): void {
    this.meta.orphans = this.meta.orphans.filter((o) => !(o.kind === 'alys-orphaned' && o.hash === hash));
  }

  private remember(ref: ev.VerifiedBlockRef): void {
    const put = (k: string) => {
      this.index.delete(k);
      this.index.set(k, ref.number);
      if (this.index.size > INDEX_SIZE) this.index.delete(this.index.keys().next().value!);
    };
    for (const txid of ev.listedPegIns(ref.block)) put(`in:${txid}`);
    for (const tx of ref.block.message.finalizedPegouts) put(`fin:${btcTxid(tx)}`);
  }

  /** The node's AuxPoW-finalized height moved. */
  async onFinalized(number: number): Promise<void> {
    if (!Number.isSafeInteger(number) || number <= this.meta.finalized) return;
    this.meta.finalized = number;
    await this.commit('all');
  }

  /** Verified blocks rolled back from the canonical chain (a fork with a verified PoW won). */
  async onRollback(blocks: readonly { number: number; hash: Hex; payloadHash: Hex }[]): Promise<void> {
    const added = blocks.map((b) => ev.orphanedEvidence(b.number, b.hash, b.payloadHash));
    const keep = this.meta.orphans.filter((o) => !added.some((a) => evidenceId(a) === evidenceId(o)));
    this.meta.orphans = [...keep, ...added].slice(-MAX_ORPHANS);
    await this.commit('all');
  }

  /**
   * Verified blocks `from..to` rolled back when only their range is known (the ChainActor's fork
   * switch): every evidence item this tracker holds from a block in that range is orphaned by the
   * hash it names (Alys evidence by `alysBlock`; a RequestPegOut by its EL block, which the tracker
   * takes to share the consensus block's number, as `advancePegOut` does: [U] true on the devnet).
   */
  async onRollbackRange(from: number, to: number): Promise<void> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) return;
    const inRange = (n: number) => n >= from && n <= to;
    const gone = new Map<string, { number: number; hash: Hex; payloadHash: Hex }>();
    for (const { record } of this.entries.values())
      for (const e of record.evidence) {
        const hit = rolledBackHash(e, inRange);
        if (hit) gone.set(hit.hash, { number: hit.number, hash: hit.hash, payloadHash: hit.hash });
      }
    for (const [k, n] of [...this.index]) if (inRange(n)) this.index.delete(k);
    await this.onRollback([...gone.values()]);
  }

  /** Look at Bitcoin again for every peg that waits on it (the SPV tip moved); re-read unknown peg-outs. */
  async refresh(): Promise<void> {
    const touched: Entry[] = [];
    for (const entry of this.entries.values()) {
      const s = this.view(entry.record).state;
      if (entry.record.kind === 'in' && ['unknown', 'broadcast', 'confirming', 'eligible'].includes(s.state))
        await this.observePegIn(entry);
      else if (entry.record.kind === 'out' && !['ignored', 'requested', 'proposed'].includes(s.state))
        await this.advancePegOut(entry);
      else continue;
      touched.push(entry);
    }
    await this.commit(touched);
  }

  // ---------------------------------------------------------------------------------------- out

  /**
   * Write the records whose evidence changed and the meta in one batch, then announce the transitions
   * of `touched` (of every peg after a change of the global evidence: finality, rollbacks).
   */
  private async commit(touched: readonly Entry[] | 'all'): Promise<void> {
    const all = [...this.entries.values()];
    const dirty = all.filter((e) => e.dirty);
    const ops = dirty.map((e) => ({
      type: 'put' as const,
      key: recordKey(e.record.kind, e.record.key),
      value: encodeRecord(e.record),
    }));
    ops.push({ type: 'put', key: META_KEY, value: encodeRecord(this.meta) });
    await this.d.store.batch(ops);
    for (const e of dirty) e.dirty = false;
    for (const e of touched === 'all' ? all : new Set([...touched, ...dirty])) this.announce(e);
  }

  private announce(e: Entry): void {
    const view = this.view(e.record);
    const json = JSON.stringify(view.state);
    if (json === e.last) return;
    const previous = (JSON.parse(e.last || '{"state":"unknown"}') as { state: PegEvent['previous'] }).state;
    e.last = json;
    this.d.onPeg?.({ peg: view, previous });
  }

  /** An answer from Bitcoin or the EVM side that failed: reported, the peg waits. */
  private async guard<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (e) {
      this.d.onFault?.(e as Error);
      return null;
    }
  }

  private guardSync<T>(fn: () => T): T | null {
    try {
      return fn();
    } catch (e) {
      this.d.onFault?.(e as Error);
      return null;
    }
  }
}

/** The latest inclusion of the same tx in the same block already says as many confirmations (nothing new). */
function sameCount(evidence: readonly PegEvidence[], item: BtcInclusionEvidence): boolean {
  const latest = evidence
    .filter((e): e is BtcInclusionEvidence => e.kind === 'btc-inclusion' && e.txid === item.txid)
    .sort((a, b) => b.seq - a.seq)[0];
  return latest !== undefined && latest.blockHash === item.blockHash && latest.confirmations === item.confirmations;
}

/** The block an Alys or EVM evidence item came from, when it is in the rolled-back range. */
function rolledBackHash(e: PegEvidence, inRange: (n: number) => boolean): { number: number; hash: Hex } | undefined {
  if (e.kind === 'alys-minted' || e.kind === 'alys-proposal' || e.kind === 'alys-finalized-pegout')
    return inRange(e.alysBlock) ? { number: e.alysBlock, hash: e.alysHash as Hex } : undefined;
  if (e.kind === 'evm-request')
    return inRange(e.elBlock) ? { number: e.elBlock, hash: e.elBlockHash as Hex } : undefined;
  return undefined;
}

/** A Bitcoin tx's txid, display hex. */
const btcTxid = (tx: Transaction): string => toDisplayHex(computeTxid(tx));
