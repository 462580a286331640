/**
 * Bitcoin blocks for the regtest chain: the raw block serialization (80-byte header, CompactSize
 * transaction count, transactions in their consensus form), coinbase construction (BIP34 height,
 * BIP141 witness commitment), the subsidy schedule, and header mining at regtest difficulty.
 *
 * Everything format-related is delegated to src/protocol/bitcoin (header and transaction codecs,
 * txid/wtxid, merkle roots, SHA256d, target comparison).
 */
import { ByteReader, concatBytes } from '../../protocol/bytes.js';
import { DecodeError } from '../../protocol/errors.js';
import type { BitcoinHeader, Transaction, TxOut } from '../../protocol/types.js';
import { hashMeetsTarget, sha256d } from '../../protocol/bitcoin/hash.js';
import { encodeHeader, HEADER_SIZE, readHeader } from '../../protocol/bitcoin/header.js';
import { decodeCompact } from '../../protocol/bitcoin/pow.js';
import { encodeTransaction, readTransaction, usesWitnessSerialization, wtxid } from '../../protocol/bitcoin/tx.js';
import { txMerkleRoot } from '../../protocol/bitcoin/merkle.js';
import { BitcoinChainError } from './errors.js';
import { coinbaseScriptSig, witnessCommitmentScript, WITNESS_COMMITMENT_HEADER } from './script.js';

/** Regtest's compact target (Bitcoin Core `chainparams` for regtest: powLimit 7fffff...). */
export const REGTEST_BITS = 0x207fffff;
/** Block version the miner writes (BIP9 top bits, no deployments signalled), as Core's regtest. */
export const BLOCK_VERSION = 0x20000000;
/** 50 BTC. */
export const INITIAL_SUBSIDY = 5_000_000_000n;
/** Bitcoin Core `MAX_BLOCK_WEIGHT`. */
export const MAX_BLOCK_WEIGHT = 4_000_000;
/** 21 million BTC in sats (Core `MAX_MONEY`). */
export const MAX_MONEY = 2_100_000_000_000_000n;
/** Witness reserved value committed to by the coinbase (BIP141: 32 bytes, zeros here). */
export const WITNESS_RESERVED_VALUE = new Uint8Array(32);
const NULL_TXID = new Uint8Array(32);

/** Core's `GetBlockSubsidy`: 50 BTC halved every `halvingInterval` blocks, 0 after 64 halvings. */
export function blockSubsidy(height: number, halvingInterval: number): bigint {
  const halvings = Math.floor(height / halvingInterval);
  if (halvings >= 64) return 0n;
  return INITIAL_SUBSIDY >> BigInt(halvings);
}

/** Size in bytes of the legacy form and of the full form, and the BIP141 weight. */
export function txWeight(tx: Transaction): { baseSize: number; totalSize: number; weight: number; vsize: number } {
  const baseSize = encodeTransaction(tx, { witness: false }).length;
  const totalSize = usesWitnessSerialization(tx) ? encodeTransaction(tx).length : baseSize;
  const weight = baseSize * 3 + totalSize;
  return { baseSize, totalSize, weight, vsize: Math.ceil(weight / 4) };
}

export interface CoinbaseParams {
  height: number;
  /** Subsidy plus fees. */
  value: bigint;
  /** Where the block reward goes. */
  payTo: Uint8Array;
  /** Non-coinbase transactions of the block (for the witness commitment). */
  transactions: readonly Transaction[];
  /** Pushed after the BIP34 height (tag/extra nonce). */
  tag: Uint8Array;
}

/**
 * The coinbase: one null input whose scriptSig starts with the BIP34 height, one output paying
 * `value` to `payTo` and, when some transaction of the block has witness data, the BIP141
 * witness commitment as the last output (the coinbase witness is then the 32-byte reserved value).
 */
export function buildCoinbase(p: CoinbaseParams): Transaction {
  const outputs: TxOut[] = [{ value: p.value, scriptPubkey: p.payTo.slice() }];
  const hasWitness = p.transactions.some(usesWitnessSerialization);
  if (hasWitness) {
    // The coinbase's own wtxid counts as 32 zero bytes.
    const witnessRoot = txMerkleRoot([NULL_TXID, ...p.transactions.map(wtxid)]);
    outputs.push({
      value: 0n,
      scriptPubkey: witnessCommitmentScript(sha256d(concatBytes(witnessRoot, WITNESS_RESERVED_VALUE))),
    });
  }
  return {
    version: 2,
    lockTime: 0,
    inputs: [
      {
        prevTxid: NULL_TXID.slice(),
        prevVout: 0xffffffff,
        scriptSig: coinbaseScriptSig(p.height, p.tag),
        sequence: 0xffffffff,
        witness: hasWitness ? [WITNESS_RESERVED_VALUE.slice()] : [],
      },
    ],
    outputs,
  };
}

/** True if `tx` has Bitcoin's coinbase shape (one input spending the null outpoint). */
export function isCoinbase(tx: Transaction): boolean {
  const input = tx.inputs[0];
  return (
    tx.inputs.length === 1 &&
    input !== undefined &&
    input.prevVout === 0xffffffff &&
    input.prevTxid.every((b) => b === 0)
  );
}

/** The witness commitment of a coinbase (the last output with the BIP141 header), if any. */
export function findWitnessCommitment(coinbase: Transaction): Uint8Array | undefined {
  for (let i = coinbase.outputs.length - 1; i >= 0; i--) {
    const s = coinbase.outputs[i]!.scriptPubkey;
    if (s.length >= 38 && WITNESS_COMMITMENT_HEADER.every((b, k) => s[k] === b)) return s.subarray(6, 38);
  }
  return undefined;
}

/**
 * Find a nonce for which the header hash meets its bits. At regtest difficulty about every second
 * nonce works; the nonce is written in place into one 80-byte buffer.
 */
export function mineHeader(header: BitcoinHeader): { header: BitcoinHeader; bytes: Uint8Array; hash: Uint8Array } {
  const { target } = decodeCompact(header.bits);
  const bytes = encodeHeader({ ...header, nonce: 0 });
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
    view.setUint32(76, nonce, true);
    const hash = sha256d(bytes);
    if (hashMeetsTarget(hash, target)) return { header: { ...header, nonce }, bytes, hash };
  }
  throw new BitcoinChainError('no nonce meets the target; change the time or the coinbase and retry');
}

// ---------------------------------------------------------------- raw blocks

export interface EncodedBlock {
  raw: Uint8Array;
  /** `[offset, length]` of each transaction inside `raw`. */
  txRanges: Uint32Array;
}

function compactSizeBytes(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >>> 8);
  return Uint8Array.of(0xfe, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

/** Bitcoin block serialization: header || CompactSize(n) || transactions (witness form where they have witnesses). */
export function encodeBlock(headerBytes: Uint8Array, txs: readonly Transaction[]): EncodedBlock {
  const parts = txs.map((tx) => encodeTransaction(tx));
  const count = compactSizeBytes(txs.length);
  const raw = new Uint8Array(HEADER_SIZE + count.length + parts.reduce((a, p) => a + p.length, 0));
  raw.set(headerBytes, 0);
  raw.set(count, HEADER_SIZE);
  const txRanges = new Uint32Array(txs.length * 2);
  let at = HEADER_SIZE + count.length;
  parts.forEach((p, i) => {
    raw.set(p, at);
    txRanges[2 * i] = at;
    txRanges[2 * i + 1] = p.length;
    at += p.length;
  });
  return { raw, txRanges };
}

export interface DecodedBlock {
  header: BitcoinHeader;
  transactions: Transaction[];
  txRanges: Uint32Array;
}

/** Decode a raw block (exactly; trailing bytes are an error). */
export function decodeBlock(raw: Uint8Array, label = 'block'): DecodedBlock {
  const r = new ByteReader(raw, label);
  const header = readHeader(r);
  const n = r.compactSize('transaction count');
  if (n === 0) throw new DecodeError(label, 'a block has at least one transaction (the coinbase)');
  if (n * 10 > r.remaining)
    throw new DecodeError(label, `truncated: ${n} transactions cannot fit in ${r.remaining} bytes`);
  const transactions: Transaction[] = new Array(n);
  const txRanges = new Uint32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const start = r.offset;
    transactions[i] = readTransaction(r);
    txRanges[2 * i] = start;
    txRanges[2 * i + 1] = r.offset - start;
  }
  r.end();
  return { header, transactions, txRanges };
}
