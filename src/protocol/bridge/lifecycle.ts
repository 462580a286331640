/**
 * The peg workflow as a pure state machine (alys-protocol.md 6.5, the seeds' `PegOperationState`
 * mapped to what an outside observer can verify). No I/O: a peg's state is a fold over a SET of
 * evidence items, each a plain JSON-serializable object recording one thing that was verified
 * (src/node/bridge/evidence.ts builds them from verified inputs only). Because the fold reads the
 * set, never the arrival order, any permutation of the same evidence gives the same state, and
 * superseded observations (confirmation counts that change with the Bitcoin tip, Alys blocks rolled
 * back) are resolved by their `seq` (the observer's monotonic observation counter), not by order.
 *
 * A state is reached only through its evidence chain: peg-in `finalized` needs `minted` evidence,
 * `eligible` needs an inclusion with enough confirmations; peg-out `proposed` needs the request
 * it pays, `finalized-on-alys` the proposal whose txid it carries, and `broadcast`/`confirmed` on
 * Bitcoin the finalized txid. Evidence that does not chain (a proposal for another script, a
 * finalized tx for another txid) is ignored, never a shortcut. Reorg evidence moves a peg back: a
 * Bitcoin inclusion last seen with 0 confirmations no longer counts, an Alys block named by an
 * `alys-orphaned` item no longer counts.
 *
 * Spec 6.5 (and 5.3, 6.2, 6.4 it rests on) is tagged [R] (read in the Alys source, not run against a
 * Rust build): the observable steps are as the spec reads them. Alys's own `PegOperationState` has
 * steps an observer cannot see (the validators' peg-in queue, p2p signature gossip); `eligible` is
 * "enough confirmations", not "queued", and there is no `signing` state.
 */
import { DecodeError } from '../errors.js';

/** Decimal string of a non-negative integer (amounts; bigint does not survive JSON). */
export type DecimalString = string;

/** The tx's bytes hashed to `txid` and its outputs parse as a peg-in (spec 6.2). Seen: an endpoint's word that it exists. */
export interface BtcPegInTxEvidence {
  kind: 'btc-pegin-tx';
  txid: string;
  evmAddress: string;
  amountSats: DecimalString;
}

/** The tx's bytes hashed to `txid` and it is NOT a peg-in: terminal. */
export interface BtcNotPegInEvidence {
  kind: 'btc-not-pegin';
  txid: string;
  reason: PegInInvalidReason;
}

/** A Bitcoin tx (peg-in or peg-out payment) seen by an endpoint, its bytes hashing to `txid` (inclusion unverified). */
export interface BtcSeenEvidence {
  kind: 'btc-seen';
  txid: string;
}

/**
 * An SPV observation: `txid` is in the verified Bitcoin block `blockHash` at `height` (merkle branch
 * checked) and that block had `confirmations` on the verified chain at observation `seq` (0: a reorg
 * took it out).
 */
export interface BtcInclusionEvidence {
  kind: 'btc-inclusion';
  txid: string;
  blockHash: string;
  height: number;
  confirmations: number;
  seq: number;
}

/** A verified Alys block lists the peg-in in `pegins` and its verified payload credits the address >= sats x 10 Gwei. */
export interface AlysMintedEvidence {
  kind: 'alys-minted';
  txid: string;
  btcBlockHash: string;
  alysBlock: number;
  alysHash: string;
  evmAddress: string;
  amountSats: DecimalString;
  creditedGwei: DecimalString;
}

/** The node's AuxPoW-finalized height (spec 4.7); it only grows, so the highest one counts. */
export interface AlysFinalityEvidence {
  kind: 'alys-finality';
  number: number;
}

/**
 * The verified Alys block `hash` at `number` (its payload `payloadHash`) is no longer on the canonical
 * chain: the node rolled it back to follow a fork with a verified PoW (spec 4.7: only unfinalized blocks).
 */
export interface AlysOrphanedEvidence {
  kind: 'alys-orphaned';
  number: number;
  hash: string;
  payloadHash: string;
}

/** A `RequestPegOut` log (spec 6.3) in the verified receipt of `evmTxHash` (EL block `elBlock`). */
export interface EvmPegOutRequestEvidence {
  kind: 'evm-request';
  evmTxHash: string;
  elBlock: number;
  elBlockHash: string;
  evmAddress: string;
  /** The `_bitcoinAddress` bytes, hex. */
  bitcoinAddress: string;
  /** scriptPubKey hex of the address, or null when Alys cannot parse it (the request is then ignored). */
  destinationScript: string | null;
  valueWei: DecimalString;
  sats: DecimalString;
}

/** The verified Alys block at EL height `elBlock` carries a proposal whose output `outputIndex` pays `script` `value` sats. */
export interface AlysProposalEvidence {
  kind: 'alys-proposal';
  alysBlock: number;
  alysHash: string;
  elBlock: number;
  btcTxid: string;
  outputIndex: number;
  script: string;
  value: DecimalString;
}

/** A verified Alys block lists `btcTxid` in `finalized_pegouts`, its signatures checked (spec 6.4). */
export interface AlysFinalizedPegoutEvidence {
  kind: 'alys-finalized-pegout';
  alysBlock: number;
  alysHash: string;
  btcTxid: string;
}

export type PegEvidence =
  | BtcPegInTxEvidence
  | BtcNotPegInEvidence
  | BtcSeenEvidence
  | BtcInclusionEvidence
  | AlysMintedEvidence
  | AlysFinalityEvidence
  | AlysOrphanedEvidence
  | EvmPegOutRequestEvidence
  | AlysProposalEvidence
  | AlysFinalizedPegoutEvidence;

export type PegEvidenceKind = PegEvidence['kind'];

/** Why a Bitcoin tx is not a peg-in (spec 6.2). */
export type PegInInvalidReason = 'no-federation-output' | 'no-evm-address';

/** Why a peg-out request is never paid (spec 6.3): burned on Alys, nothing on Bitcoin. */
export type PegOutIgnoredReason = 'below-minimum' | 'unparseable-address';

/** An SPV-verified inclusion: `k` confirmations on the verified Bitcoin chain of the `n` Alys requires. */
export interface PegInConfirmations {
  k: number;
  n: number;
  btcBlockHash: string;
  btcHeight: number;
  evmAddress: string;
  amountSats: DecimalString;
}

export type PegInState =
  | { state: 'unknown' }
  /** Seen by an endpoint, not in a verified Bitcoin block: UNVERIFIED that it was broadcast or will confirm. */
  | { state: 'broadcast'; verified: false; evmAddress: string; amountSats: DecimalString }
  | ({ state: 'confirming' } & PegInConfirmations)
  | ({ state: 'eligible' } & PegInConfirmations)
  | {
      state: 'minted';
      alysBlock: number;
      alysHash: string;
      evmAddress: string;
      amountSats: DecimalString;
      creditedGwei: DecimalString;
    }
  | {
      state: 'finalized';
      alysBlock: number;
      alysHash: string;
      evmAddress: string;
      amountSats: DecimalString;
      creditedGwei: DecimalString;
    }
  | { state: 'invalid'; reason: PegInInvalidReason };

export type PegOutState =
  | { state: 'unknown' }
  | { state: 'requested'; request: PegOutRequestFacts }
  /** Burned on Alys and never paid on Bitcoin: the value is lost. */
  | { state: 'ignored'; reason: PegOutIgnoredReason; request: PegOutRequestFacts }
  | { state: 'proposed'; request: PegOutRequestFacts; btcTxid: string; alysBlock: number; value: DecimalString }
  | {
      state: 'finalized-on-alys';
      request: PegOutRequestFacts;
      btcTxid: string;
      alysBlock: number;
      value: DecimalString;
    }
  /** Seen by an endpoint, not in a verified Bitcoin block yet. */
  | { state: 'broadcast'; request: PegOutRequestFacts; btcTxid: string; alysBlock: number; value: DecimalString }
  | {
      state: 'confirmed';
      request: PegOutRequestFacts;
      btcTxid: string;
      alysBlock: number;
      value: DecimalString;
      k: number;
    };

export interface PegOutRequestFacts {
  evmTxHash: string;
  elBlock: number;
  evmAddress: string;
  destinationScript: string | null;
  sats: DecimalString;
}

export type PegInStateName = PegInState['state'];
export type PegOutStateName = PegOutState['state'];

/** Alys ignores peg-out requests below this many sats (spec 6.3, `MIN_PEGOUT_SATS`). */
const MIN_PEGOUT = 1_000_000n;

/** Evidence kinds each state needs in the set (the property tests check every reached state against this). */
export const PEG_IN_REQUIRES: Readonly<Record<PegInStateName, readonly PegEvidenceKind[]>> = {
  unknown: [],
  broadcast: ['btc-pegin-tx'],
  confirming: ['btc-pegin-tx', 'btc-inclusion'],
  eligible: ['btc-pegin-tx', 'btc-inclusion'],
  minted: ['alys-minted'],
  finalized: ['alys-minted', 'alys-finality'],
  invalid: ['btc-not-pegin'],
};

export const PEG_OUT_REQUIRES: Readonly<Record<PegOutStateName, readonly PegEvidenceKind[]>> = {
  unknown: [],
  requested: ['evm-request'],
  ignored: ['evm-request'],
  proposed: ['evm-request', 'alys-proposal'],
  'finalized-on-alys': ['evm-request', 'alys-proposal', 'alys-finalized-pegout'],
  broadcast: ['evm-request', 'alys-proposal', 'alys-finalized-pegout', 'btc-seen'],
  confirmed: ['evm-request', 'alys-proposal', 'alys-finalized-pegout', 'btc-inclusion'],
};

/** A stable identity of an evidence item: the set's key (equal items collapse to one). */
export function evidenceId(e: PegEvidence): string {
  switch (e.kind) {
    case 'btc-pegin-tx':
    case 'btc-not-pegin':
    case 'btc-seen':
      return `${e.kind}:${e.txid}`;
    case 'btc-inclusion':
      return `${e.kind}:${e.txid}:${e.blockHash}:${e.seq}`;
    case 'alys-minted':
      return `${e.kind}:${e.txid}:${e.alysHash}`;
    case 'alys-finality':
      return `${e.kind}:${e.number}`;
    case 'alys-orphaned':
      return `${e.kind}:${e.hash}`;
    case 'evm-request':
      return `${e.kind}:${e.evmTxHash}:${e.elBlockHash}`;
    case 'alys-proposal':
      return `${e.kind}:${e.alysHash}:${e.outputIndex}`;
    case 'alys-finalized-pegout':
      return `${e.kind}:${e.alysHash}:${e.btcTxid}`;
  }
}

// ------------------------------------------------------------------------------------------ shared folds

/** Hashes of Alys blocks (consensus and payload hashes) no longer canonical. */
function orphans(evidence: readonly PegEvidence[]): Set<string> {
  const out = new Set<string>();
  for (const e of evidence) if (e.kind === 'alys-orphaned') out.add(e.hash).add(e.payloadHash);
  return out;
}

function finalizedHeight(evidence: readonly PegEvidence[]): number {
  let max = -1;
  for (const e of evidence) if (e.kind === 'alys-finality' && e.number > max) max = e.number;
  return max;
}

/** The first by a total order of strings: makes a choice among equals independent of arrival order. */
function byId<T extends PegEvidence>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => cmp(evidenceId(a), evidenceId(b)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The inclusion of `txid` that counts: the latest observation (highest `seq`, ties by block hash)
 * among all inclusion evidence for it; null when there is none or when it says 0 confirmations
 * (reorged out, the tx is back to merely seen).
 */
export function currentInclusion(evidence: readonly PegEvidence[], txid: string): BtcInclusionEvidence | null {
  let best: BtcInclusionEvidence | null = null;
  for (const e of evidence) {
    if (e.kind !== 'btc-inclusion' || e.txid !== txid) continue;
    if (best === null || e.seq > best.seq || (e.seq === best.seq && cmp(e.blockHash, best.blockHash) < 0)) best = e;
  }
  return best !== null && best.confirmations > 0 ? best : null;
}

// ------------------------------------------------------------------------------------------ peg-in

export interface PegInOptions {
  /** `requiredBtcTxnConfirmations` of the chain spec (N). */
  requiredConfirmations: number;
}

/** The peg-in state of the Bitcoin tx `txid` from its evidence (items about other txs are ignored). */
export function pegInState(txid: string, evidence: readonly PegEvidence[], opts: PegInOptions): PegInState {
  const invalid = byId(evidence.filter((e): e is BtcNotPegInEvidence => e.kind === 'btc-not-pegin' && e.txid === txid));
  if (invalid.length > 0) return { state: 'invalid', reason: invalid[0]!.reason };
  const minted = mintedOf(evidence, txid);
  if (minted) {
    const { alysBlock, alysHash, evmAddress, amountSats, creditedGwei } = minted;
    const facts = { alysBlock, alysHash, evmAddress, amountSats, creditedGwei };
    return finalizedHeight(evidence) >= alysBlock ? { state: 'finalized', ...facts } : { state: 'minted', ...facts };
  }
  const tx = byId(evidence.filter((e): e is BtcPegInTxEvidence => e.kind === 'btc-pegin-tx' && e.txid === txid))[0];
  if (!tx) return { state: 'unknown' };
  const facts = { evmAddress: tx.evmAddress, amountSats: tx.amountSats };
  const inc = currentInclusion(evidence, txid);
  if (!inc) return { state: 'broadcast', verified: false, ...facts };
  const k = inc.confirmations;
  const n = opts.requiredConfirmations;
  const where = { k, n, btcBlockHash: inc.blockHash, btcHeight: inc.height, ...facts };
  return k < n ? { state: 'confirming', ...where } : { state: 'eligible', ...where };
}

/** The canonical minting of `txid` (not in an orphaned block), lowest block first. */
function mintedOf(evidence: readonly PegEvidence[], txid: string): AlysMintedEvidence | undefined {
  const gone = orphans(evidence);
  const minted = evidence.filter(
    (e): e is AlysMintedEvidence => e.kind === 'alys-minted' && e.txid === txid && !gone.has(e.alysHash),
  );
  return byId(minted).sort((a, b) => a.alysBlock - b.alysBlock)[0];
}

// ------------------------------------------------------------------------------------------ peg-out

/** The peg-out state of the EVM tx `evmTxHash` from its evidence. */
export function pegOutState(evmTxHash: string, evidence: readonly PegEvidence[]): PegOutState {
  const request = requestOf(evidence, evmTxHash);
  if (!request) return { state: 'unknown' };
  const facts: PegOutRequestFacts = {
    evmTxHash: request.evmTxHash,
    elBlock: request.elBlock,
    evmAddress: request.evmAddress,
    destinationScript: request.destinationScript,
    sats: request.sats,
  };
  if (BigInt(request.sats) < MIN_PEGOUT) return { state: 'ignored', reason: 'below-minimum', request: facts };
  if (request.destinationScript === null) return { state: 'ignored', reason: 'unparseable-address', request: facts };
  const proposal = proposalFor(evidence, request);
  if (!proposal) return { state: 'requested', request: facts };
  const paid = { request: facts, btcTxid: proposal.btcTxid, alysBlock: proposal.alysBlock, value: proposal.value };
  const gone = orphans(evidence);
  const finalized = evidence.some(
    (e) => e.kind === 'alys-finalized-pegout' && e.btcTxid === proposal.btcTxid && !gone.has(e.alysHash),
  );
  if (!finalized) return { state: 'proposed', ...paid };
  const inc = currentInclusion(evidence, proposal.btcTxid);
  if (inc) return { state: 'confirmed', ...paid, k: inc.confirmations };
  const seen = evidence.some((e) => e.kind === 'btc-seen' && e.txid === proposal.btcTxid);
  return seen ? { state: 'broadcast', ...paid } : { state: 'finalized-on-alys', ...paid };
}

/** The request of `evmTxHash` in a canonical EL block (EL and consensus blocks share their fate: `elBlockHash` is the payload's). */
function requestOf(evidence: readonly PegEvidence[], evmTxHash: string): EvmPegOutRequestEvidence | undefined {
  const gone = orphans(evidence);
  return byId(
    evidence.filter(
      (e): e is EvmPegOutRequestEvidence =>
        e.kind === 'evm-request' && e.evmTxHash === evmTxHash && !gone.has(e.elBlockHash),
    ),
  )[0];
}

/**
 * The proposal that pays `request` (spec 6.5 step 2): in a canonical block at EL height N+1, an
 * output with the requested script and a value <= the requested sats. The lowest output index first.
 */
function proposalFor(
  evidence: readonly PegEvidence[],
  request: EvmPegOutRequestEvidence,
): AlysProposalEvidence | undefined {
  const gone = orphans(evidence);
  const sats = BigInt(request.sats);
  const fits = evidence.filter(
    (e): e is AlysProposalEvidence =>
      e.kind === 'alys-proposal' &&
      e.elBlock === request.elBlock + 1 &&
      !gone.has(e.alysHash) &&
      e.script === request.destinationScript &&
      BigInt(e.value) <= sats,
  );
  return byId(fits).sort((a, b) => a.outputIndex - b.outputIndex)[0];
}

// ------------------------------------------------------------------------------------------ checking stored items

const HEX_RE = /^(0x)?[0-9a-f]*$/;
const DEC_RE = /^(0|[1-9][0-9]{0,79})$/;
/** Longest hex string an evidence field may hold (a Bitcoin address's bytes or a script: small). */
const MAX_HEX = 256;

/** Check that `value` is a well-formed evidence item (a record read back from storage, say); DecodeError naming the field. */
export function checkPegEvidence(value: unknown, path = 'evidence'): PegEvidence {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DecodeError(path, 'expected an evidence object', { code: 'peg.evidence' });
  const v = value as Record<string, unknown>;
  const shape = SHAPES[v.kind as PegEvidenceKind];
  if (!shape)
    throw new DecodeError(`${path}.kind`, `unknown evidence kind ${String(v.kind).slice(0, 40)}`, {
      code: 'peg.evidence',
    });
  const keys = Object.keys(v);
  if (keys.length !== Object.keys(shape).length + 1)
    throw new DecodeError(path, `expected exactly the fields of ${String(v.kind)}`, { code: 'peg.evidence' });
  for (const [field, check] of Object.entries(shape))
    if (!check(v[field])) throw new DecodeError(`${path}.${field}`, 'missing or malformed', { code: 'peg.evidence' });
  return v as unknown as PegEvidence;
}

type FieldCheck = (x: unknown) => boolean;
const hex =
  (len?: number): FieldCheck =>
  (x) =>
    typeof x === 'string' && x.length <= MAX_HEX && HEX_RE.test(x) && (len === undefined || x.length === len);
const h32 = hex(64);
const h32x = hex(66);
const addr = hex(42);
const count: FieldCheck = (x) => Number.isSafeInteger(x) && (x as number) >= 0;
const dec: FieldCheck = (x) => typeof x === 'string' && DEC_RE.test(x);
const reasonIn =
  (...ok: string[]): FieldCheck =>
  (x) =>
    typeof x === 'string' && ok.includes(x);

const SHAPES: Record<PegEvidenceKind, Record<string, FieldCheck>> = {
  'btc-pegin-tx': { txid: h32, evmAddress: addr, amountSats: dec },
  'btc-not-pegin': { txid: h32, reason: reasonIn('no-federation-output', 'no-evm-address') },
  'btc-seen': { txid: h32 },
  'btc-inclusion': { txid: h32, blockHash: h32, height: count, confirmations: count, seq: count },
  'alys-minted': {
    txid: h32,
    btcBlockHash: h32,
    alysBlock: count,
    alysHash: h32x,
    evmAddress: addr,
    amountSats: dec,
    creditedGwei: dec,
  },
  'alys-finality': { number: count },
  'alys-orphaned': { number: count, hash: h32x, payloadHash: h32x },
  'evm-request': {
    evmTxHash: h32x,
    elBlock: count,
    elBlockHash: h32x,
    evmAddress: addr,
    bitcoinAddress: hex(),
    destinationScript: (x) => x === null || hex()(x),
    valueWei: dec,
    sats: dec,
  },
  'alys-proposal': {
    alysBlock: count,
    alysHash: h32x,
    elBlock: count,
    btcTxid: h32,
    outputIndex: count,
    script: hex(),
    value: dec,
  },
  'alys-finalized-pegout': { alysBlock: count, alysHash: h32x, btcTxid: h32 },
};
