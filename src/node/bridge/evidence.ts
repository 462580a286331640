/**
 * Peg evidence (src/protocol/bridge/lifecycle.ts) from verified inputs only:
 * - a verified SignedConsensusBlock: its `pegins` entries with the payload withdrawal that mints them
 *   (spec 5.3), its peg-out proposal's outputs, its `finalized_pegouts` with their federation
 *   signatures checked (spec 6.4);
 * - a verified EVM receipt (a receipt of a verified block's verified receipts): its `RequestPegOut`
 *   log read under the rules of spec 6.3;
 * - a `BitcoinView` sighting (bytes that hash to the txid; an inclusion checked by merkle branch
 *   against the verified header chain): parsed as a peg-in against the federation, or the reason it
 *   is not one; its confirmations on the verified chain;
 * - the node's AuxPoW-finalized height.
 * Each function is pure over its inputs; a verified input that contradicts a rule (a block listing a
 * peg-in it does not credit, a finalized peg-out with bad signatures) is a `PegEvidenceError` naming
 * the check, and produces no evidence.
 */
import { AlysLightError } from '../../errors.js';
import { toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { decodeTransaction, txid as computeTxid } from '../../protocol/bitcoin/tx.js';
import type {
  AlysFinalityEvidence,
  AlysFinalizedPegoutEvidence,
  AlysMintedEvidence,
  AlysOrphanedEvidence,
  AlysProposalEvidence,
  BtcInclusionEvidence,
  EvmPegOutRequestEvidence,
  PegEvidence,
  PegInInvalidReason,
} from '../../protocol/bridge/lifecycle.js';
import { type PegIn, parsePegIn } from '../../protocol/bridge/pegin.js';
import { bitcoinAddressScript, decodeRequestPegOutLog, isBridgeReceipt } from '../../protocol/bridge/pegout.js';
import { checkFinalizedPegout } from '../../protocol/bridge/pegout-tx.js';
import type { Federation } from '../../protocol/bridge/taproot.js';
import { satsToGwei, WEI_PER_SAT } from '../../protocol/bridge/units.js';
import { bytesToHex, equalBytes } from '../../protocol/bytes.js';
import type { Hex, SignedConsensusBlock, Transaction, TxOut } from '../../protocol/types.js';
import type { BitcoinView, BtcTxSighting } from './bitcoin-view.js';

/** A verified input breaks a peg rule (code `peg.<check>`); no evidence comes from it. */
export class PegEvidenceError extends AlysLightError {
  override name = 'PegEvidenceError';
  constructor(
    readonly check: string,
    message: string,
  ) {
    super(`peg.${check}`, message);
  }
}

/** Where a verified Alys block is: its height and hashes (consensus signing root, payload block hash). */
export interface VerifiedBlockRef {
  number: number;
  hash: Hex;
  block: SignedConsensusBlock;
}

/** The most bytes of `_bitcoinAddress` kept in evidence (no address is longer; longer ones are not addresses). */
export const MAX_BTC_ADDRESS_BYTES = 100;

// ------------------------------------------------------------------------------------------ Bitcoin

/** What a Bitcoin tx is to the bridge: a peg-in, or why not (spec 6.2). */
export function classifyPegIn(tx: Transaction, federation: Federation): PegIn | { invalid: PegInInvalidReason } {
  const pegin = parsePegIn(tx, federation);
  if (pegin) return pegin;
  // parsePegIn is null: either no output pays the federation, or none yields an EVM address
  const pays = tx.outputs.some((o) => equalBytes(o.scriptPubkey, federation.scriptPubkey));
  return { invalid: pays ? 'no-evm-address' : 'no-federation-output' };
}

/**
 * Evidence from a sighting of a would-be peg-in: the parsed peg-in (or why it is not one), and its
 * inclusion with the confirmations the view counts now (observation `seq`).
 */
export function pegInSightingEvidence(
  sighting: BtcTxSighting,
  federation: Federation,
  view: Pick<BitcoinView, 'confirmations'>,
  seq: number,
): PegEvidence[] {
  const tx = sightingTx(sighting);
  const txid = sighting.txid;
  const kind = classifyPegIn(tx, federation);
  if ('invalid' in kind) return [{ kind: 'btc-not-pegin', txid, reason: kind.invalid }];
  const out: PegEvidence[] = [
    { kind: 'btc-pegin-tx', txid, evmAddress: kind.evmAddress, amountSats: kind.amountSats.toString() },
  ];
  const inc = inclusionEvidence(sighting, view, seq);
  if (inc) out.push(inc);
  return out;
}

/** Evidence from a sighting of a peg-out payment: seen, and its inclusion if any. */
export function pegOutSightingEvidence(
  sighting: BtcTxSighting,
  view: Pick<BitcoinView, 'confirmations'>,
  seq: number,
): PegEvidence[] {
  sightingTx(sighting);
  const inc = inclusionEvidence(sighting, view, seq);
  return inc ? [{ kind: 'btc-seen', txid: sighting.txid }, inc] : [{ kind: 'btc-seen', txid: sighting.txid }];
}

/** The sighting's transaction; its bytes must hash to its txid (the view promises it: checked again, it is cheap). */
function sightingTx(sighting: BtcTxSighting): Transaction {
  const tx = decodeTransaction(sighting.raw, 'sighting.raw');
  if (toDisplayHex(computeTxid(tx)) !== sighting.txid.toLowerCase())
    throw new PegEvidenceError('txid', `the bytes of ${sighting.txid} hash to ${toDisplayHex(computeTxid(tx))}`);
  return tx;
}

export function inclusionEvidence(
  sighting: BtcTxSighting,
  view: Pick<BitcoinView, 'confirmations'>,
  seq: number,
): BtcInclusionEvidence | null {
  if (!sighting.inclusion) return null;
  const { blockHash, height } = sighting.inclusion;
  return {
    kind: 'btc-inclusion',
    txid: sighting.txid.toLowerCase(),
    blockHash: blockHash.toLowerCase(),
    height,
    confirmations: view.confirmations(sighting.inclusion),
    seq,
  };
}

/** A re-count of an inclusion already known (the tip moved, or a reorg took the block out). */
export function recountEvidence(
  inc: BtcInclusionEvidence,
  view: Pick<BitcoinView, 'confirmations'>,
  seq: number,
): BtcInclusionEvidence {
  return { ...inc, confirmations: view.confirmations({ blockHash: inc.blockHash, height: inc.height }), seq };
}

// ------------------------------------------------------------------------------------------ Alys blocks

/**
 * The minting of the peg-in `txid` in a verified block (spec 6.5 step 4): listed in `pegins`, and a
 * payload withdrawal to its EVM address of at least sats x 10 Gwei. Null when the block does not
 * list it; PegEvidenceError `peg.mint-withdrawal` when it lists it without the credit.
 */
export function mintedEvidence(ref: VerifiedBlockRef, txid: string, pegin: PegIn): AlysMintedEvidence | null {
  const entry = ref.block.message.pegins.find(([id]) => toDisplayHex(id) === txid);
  if (!entry) return null;
  const need = satsToGwei(pegin.amountSats);
  const credit = ref.block.message.executionPayload.withdrawals
    .filter((w) => w.address.toLowerCase() === pegin.evmAddress)
    .reduce((max, w) => (w.amount > max ? w.amount : max), -1n);
  if (credit < need)
    throw new PegEvidenceError(
      'mint-withdrawal',
      `block ${ref.number} lists peg-in ${txid} but credits ${pegin.evmAddress} ${credit < 0n ? 'nothing' : `${credit} Gwei`}, less than ${need} Gwei`,
    );
  return {
    kind: 'alys-minted',
    txid,
    btcBlockHash: toDisplayHex(entry[1]),
    alysBlock: ref.number,
    alysHash: ref.hash,
    evmAddress: pegin.evmAddress,
    amountSats: pegin.amountSats.toString(),
    creditedGwei: credit.toString(),
  };
}

/** The peg-in txids (display hex) a verified block lists. */
export function listedPegIns(block: SignedConsensusBlock): string[] {
  return block.message.pegins.map(([id]) => toDisplayHex(id));
}

/** One evidence item per output of the block's peg-out proposal (spec 6.4); none without a proposal. */
export function proposalEvidence(ref: VerifiedBlockRef): AlysProposalEvidence[] {
  const tx = ref.block.message.pegoutPaymentProposal;
  if (!tx) return [];
  const btcTxid = toDisplayHex(computeTxid(tx));
  const elBlock = Number(ref.block.message.executionPayload.blockNumber);
  return tx.outputs.map((o, outputIndex) => ({
    kind: 'alys-proposal',
    alysBlock: ref.number,
    alysHash: ref.hash,
    elBlock,
    btcTxid,
    outputIndex,
    script: bytesToHex(o.scriptPubkey),
    value: o.value.toString(),
  }));
}

/**
 * A finalized peg-out of a verified block, checked as spec 6.4 with `checkFinalizedPegout`: its txid
 * is the proposal's (from the verified block that proposed it) and its witnesses carry `threshold`
 * valid federation signatures over the spent outputs `prevouts` (one per input, each from a Bitcoin
 * tx whose bytes hashed to its txid). Throws PegEvidenceError `peg.finalized-pegout` naming the
 * failed protocol check.
 */
export function finalizedPegoutEvidence(
  ref: VerifiedBlockRef,
  tx: Transaction,
  proposal: Transaction,
  federation: Federation,
  prevouts: readonly TxOut[],
): AlysFinalizedPegoutEvidence {
  const btcTxid = toDisplayHex(computeTxid(tx));
  try {
    checkFinalizedPegout(tx, proposal, federation, [...prevouts]);
  } catch (e) {
    const check = (e as { check?: string }).check ?? 'signature';
    throw new PegEvidenceError(
      'finalized-pegout',
      `block ${ref.number}: ${btcTxid} fails ${check}: ${(e as Error).message}`,
    );
  }
  return { kind: 'alys-finalized-pegout', alysBlock: ref.number, alysHash: ref.hash, btcTxid };
}

/** The Alys finalized height as evidence. */
export function finalityEvidence(number: number): AlysFinalityEvidence {
  return { kind: 'alys-finality', number };
}

/** A verified block rolled back from the canonical chain. */
export function orphanedEvidence(number: number, hash: Hex, payloadHash: Hex): AlysOrphanedEvidence {
  return { kind: 'alys-orphaned', number, hash: hash.toLowerCase(), payloadHash: payloadHash.toLowerCase() };
}

// ------------------------------------------------------------------------------------------ EVM receipts

/** The fields of a verified receipt this module reads (src/node/engine/types.ts `RpcReceiptJson` fits). */
export interface PegReceipt {
  transactionHash: Hex;
  blockHash: Hex;
  blockNumber: Hex;
  status: '0x0' | '0x1';
  to: Hex | null;
  logs: readonly { topics: readonly Hex[]; data: Hex }[];
}

/**
 * The peg-out request in a verified receipt (spec 6.3): the first `RequestPegOut` log of a successful
 * receipt that Alys's filter reads (`to` is the bridge or unset). Null when there is none. A request
 * below 0.01 BTC or to an address Alys cannot parse is still evidence: the peg ends `ignored`.
 */
export function requestEvidence(receipt: PegReceipt): EvmPegOutRequestEvidence | null {
  if (receipt.status !== '0x1' || !isBridgeReceipt(receipt)) return null;
  for (const [i, log] of receipt.logs.entries()) {
    const event = decodeRequestPegOutLog(log, `receipt.logs[${i}]`);
    if (!event) continue;
    const bytes = event.bitcoinAddress.subarray(0, MAX_BTC_ADDRESS_BYTES);
    const script = event.bitcoinAddress.length <= MAX_BTC_ADDRESS_BYTES ? bitcoinAddressScript(bytes) : null;
    return {
      kind: 'evm-request',
      evmTxHash: receipt.transactionHash.toLowerCase(),
      elBlock: Number(BigInt(receipt.blockNumber)),
      elBlockHash: receipt.blockHash.toLowerCase(),
      evmAddress: event.evmAddress,
      bitcoinAddress: bytesToHex(bytes),
      destinationScript: script ? bytesToHex(script) : null,
      valueWei: event.valueWei.toString(),
      sats: (event.valueWei / WEI_PER_SAT).toString(),
    };
  }
  return null;
}
