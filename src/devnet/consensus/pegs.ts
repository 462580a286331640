/**
 * The federation's Bitcoin side: scanning confirmed Bitcoin blocks for peg-ins (spec 6.2) and
 * building and signing peg-out payments (spec 6.3, 6.4).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { finalizePegout, signPegout } from '../../protocol/bridge/pegout-tx.js';
import { filterPegouts } from '../../protocol/bridge/pegout.js';
import { parsePegIn } from '../../protocol/bridge/pegin.js';
import type { Federation } from '../../protocol/bridge/taproot.js';
import { txid } from '../../protocol/bitcoin/tx.js';
import { bytesToHex } from '../../protocol/bytes.js';
import type { Hex, Transaction, TxOut } from '../../protocol/types.js';
import type { BitcoinChain, EngineReceipt, Utxo } from '../types.js';
import type { FederationMember } from './keys.js';

export interface QueuedPegIn {
  /** internal order */
  txid: Uint8Array;
  /** internal order */
  blockHash: Uint8Array;
  evmAddress: Hex;
  amountSats: bigint;
}

/** Byte order of Alys's BTreeMap<Txid, _>: ascending by the txid's internal bytes. */
export function compareTxids(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * Peg-ins found in Bitcoin blocks with at least `confirmations` confirmations, each block scanned
 * once, from `startHeight`; `included` are txids (hex, internal order) already minted.
 */
export class PegInScanner {
  private nextHeight: number;
  private readonly queue = new Map<string, QueuedPegIn>();
  readonly included = new Set<string>();

  constructor(
    private readonly bitcoin: BitcoinChain,
    private readonly federation: Federation,
    private readonly confirmations: number,
    startHeight: number,
  ) {
    this.nextHeight = startHeight;
  }

  /** Scan newly confirmed blocks; returns the queue in Alys order (ascending txid). */
  scan(): QueuedPegIn[] {
    const lastConfirmed = this.bitcoin.tipHeight() - Math.max(1, this.confirmations) + 1;
    for (; this.nextHeight <= lastConfirmed; this.nextHeight++) {
      const block = this.bitcoin.block(this.nextHeight);
      if (!block) break;
      for (const tx of block.transactions) {
        const pegin = parsePegIn(tx, this.federation);
        if (!pegin) continue;
        const id = txid(tx);
        const key = bytesToHex(id);
        if (this.included.has(key) || this.queue.has(key)) continue;
        this.queue.set(key, {
          txid: id,
          blockHash: block.hash,
          evmAddress: pegin.evmAddress,
          amountSats: pegin.amountSats,
        });
      }
    }
    return [...this.queue.values()].sort((a, b) => compareTxids(a.txid, b.txid));
  }

  markIncluded(pegins: readonly QueuedPegIn[]): void {
    for (const p of pegins) {
      const key = bytesToHex(p.txid);
      this.queue.delete(key);
      this.included.add(key);
    }
  }
}

export interface PegoutProposal {
  tx: Transaction;
  prevouts: TxOut[];
}

/** Fee rate of the proposals (Alys: estimatesmartfee 1, default 2 sat/vB). */
const FEE_RATE = 2n;

/** Virtual size of a peg-out: taproot script-path inputs carrying the federation's witness. */
function estimateVsize(inputs: number, outputs: TxOut[], federation: Federation): bigint {
  const n = federation.pubkeys.length;
  const witness = 1 + federation.threshold * 65 + (n - federation.threshold) + (federation.script.length + 3) + 34;
  const base = 4 + 1 + 1 + inputs * 41 + outputs.reduce((s, o) => s + 9 + o.scriptPubkey.length, 0) + 4;
  return BigInt(Math.ceil(base + (2 + inputs * witness) / 4));
}

/**
 * Spec 6.4: pay the peg-outs requested in the parent's receipts from federation UTXOs (largest
 * first), version 2, locktime 0, sequence 0xFFFFFFFD, empty script_sig and witness; required outputs
 * in order, then change to the federation; the fee split as ceil(fee / #pegouts) off each peg-out.
 * Returns null when nothing is requested; throws when the federation cannot pay.
 */
export function buildPegoutProposal(
  parentReceipts: readonly EngineReceipt[],
  spendable: readonly Utxo[],
  federation: Federation,
): PegoutProposal | null {
  const required = filterPegouts(parentReceipts);
  if (required.length === 0) return null;
  const total = required.reduce((s, o) => s + o.value, 0n);
  const coins = [...spendable].sort((a, b) =>
    b.output.value > a.output.value ? 1 : b.output.value < a.output.value ? -1 : 0,
  );
  const chosen: Utxo[] = [];
  let inputValue = 0n;
  for (const c of coins) {
    if (inputValue >= total) break;
    chosen.push(c);
    inputValue += c.output.value;
  }
  if (inputValue < total)
    throw new Error(`the federation holds ${inputValue} sats in spendable UTXOs, the peg-outs need ${total}`);
  const withChange = [...required, { value: 0n, scriptPubkey: federation.scriptPubkey }];
  const fee = estimateVsize(chosen.length, withChange, federation) * FEE_RATE;
  const share = (fee + BigInt(required.length) - 1n) / BigInt(required.length);
  const outputs: TxOut[] = required.map((o) => ({ value: o.value - share, scriptPubkey: o.scriptPubkey }));
  const change = inputValue - total;
  if (change > 0n) outputs.push({ value: change, scriptPubkey: federation.scriptPubkey });
  return {
    tx: {
      version: 2,
      lockTime: 0,
      inputs: chosen.map((c) => ({
        prevTxid: c.txid,
        prevVout: c.vout,
        scriptSig: new Uint8Array(0),
        sequence: 0xfffffffd,
        witness: [],
      })),
      outputs,
    },
    prevouts: chosen.map((c) => c.output),
  };
}

/**
 * Spec 6.4 finalisation: the first `threshold` members sign every input (BIP-340, script path,
 * SIGHASH_DEFAULT); `auxRand` is derived from `seed` so a devnet run replays exactly.
 */
export function signPegoutProposal(
  proposal: PegoutProposal,
  federation: Federation,
  members: readonly FederationMember[],
  seed: string,
): Transaction {
  const signers = members.slice(0, federation.threshold);
  const tag = bytesToHex(
    sha256(
      new TextEncoder().encode(JSON.stringify(proposal.tx.inputs.map((i) => [bytesToHex(i.prevTxid), i.prevVout]))),
    ),
  );
  const sigs = signers.map((m) =>
    signPegout(proposal.tx, proposal.prevouts, federation, m.btcSecretKey, (i) =>
      sha256(new TextEncoder().encode(`${seed}/${tag}/${m.index}/${i}`)),
    ),
  );
  return finalizePegout(proposal.tx, federation, sigs);
}
