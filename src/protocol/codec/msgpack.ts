/**
 * MessagePack (rmp-serde 1.1.2, DefaultConfig) forms of the Alys data model: what is hashed for the
 * block hash, gossiped, returned by BlocksByRange and stored by the Rust node (alys-protocol.md 1.1–1.8,
 * 1.11, 2.1).
 *
 * Every struct is an array of its fields in Rust declaration order; Lighthouse/ethereum-types values are
 * strings (`"0x…"` hex, quoted decimal integers); rust-bitcoin hashes, scripts and schnorr signatures are
 * bin; witness elements and secp256k1 public keys are arrays of u8 integers.
 *
 * Encoding is canonical and validates the model (ranges, hex, lengths, list bounds) as it writes, so a
 * value that Rust could not hold is never hashed. Decoding takes untrusted bytes and returns typed values.
 * It accepts what rmp-serde's decoder would accept where that is cheap (any integer marker for an integer
 * field, e.g. non-minimal `cd 00 05`; a Lighthouse quoted integer written as a msgpack integer). Where we are
 * stricter than Alys it is said next to the check; the general cases are:
 * - structs must be arrays of exactly the field count (rmp-serde also accepts maps keyed by field name);
 * - enum variants must be tagged by name (serde also accepts the variant index);
 * - a str is never accepted for bin or the reverse;
 * - decimal strings must be canonical (Rust's `u64::from_str` also takes leading zeros and a `+`);
 * - hex strings need the `0x` prefix (impl-serde also takes unprefixed hex);
 * - the aggregation bitlist must be the 2-byte, 15-bit form honest nodes always produce;
 * - trailing bytes after the top-level value are refused (`rmp_serde::from_slice` ignores them).
 * Re-encoding a decoded value is always canonical, so hashing a decoded block gives the root Rust computes.
 *
 * Error paths use the Rust field names, like the JSON paths of the RPC form, plus the byte offset:
 * `$.message.execution_payload.withdrawals[3].amount@812`.
 */
import { U64_MAX, U256_MAX } from '../bytes.js';
import { MsgpackReader, MsgpackWriter, encodeError, type MsgpackReaderOptions } from './msgpack-wire.js';
import type { Hex } from '../bytes.js';
import type {
  AggregateApproval,
  ApproveBlock,
  AuxPow,
  AuxPowHeader,
  BitcoinHeader,
  ConsensusBlock,
  ExecutionPayloadCapella,
  IndividualApproval,
  MerkleBranch,
  PegInRef,
  SignedConsensusBlock,
  Transaction,
  TxIn,
  TxOut,
  Withdrawal,
} from '../types.js';

// ------------------------------------------------------------------------------------------ limits

/** MainnetEthSpec `MaxWithdrawalsPerPayload`. */
export const MAX_WITHDRAWALS = 16;
/** MainnetEthSpec `MaxExtraDataBytes`. */
export const MAX_EXTRA_DATA_BYTES = 32;
/** MainnetEthSpec `BytesPerLogsBloom`. */
export const LOGS_BLOOM_BYTES = 256;
/** MainnetEthSpec `MaxTransactionsPerPayload`. */
export const MAX_TRANSACTIONS_PER_PAYLOAD = 1_048_576;
/** MainnetEthSpec `MaxBytesPerTransaction`. */
export const MAX_BYTES_PER_TRANSACTION = 1_073_741_824;
export const BLS_PUBLIC_KEY_BYTES = 48;
export const BLS_SIGNATURE_BYTES = 96;
/** `BitList<U15>` in SSZ form: 15 bits plus the length delimiter = 2 bytes. */
export const AGGREGATION_BITS_BYTES = 2;
export const SECP256K1_PUBLIC_KEY_BYTES = 33;
export const SCHNORR_SIGNATURE_BYTES = 64;

const U32_MAX = 0xffff_ffff;
const I32_MIN = -0x8000_0000;
const I32_MAX = 0x7fff_ffff;

// ------------------------------------------------------------------------------------------ shared field rules

/**
 * Parse a canonical unsigned decimal string (no sign, no leading zeros, no spaces) not above `max`.
 * Returns the value, or a problem description. Used by the msgpack and JSON decoders for Lighthouse quoted
 * integers. Stricter than Rust's `FromStr` (which accepts `+` and leading zeros); honest nodes never write them.
 */
export function parseCanonicalDecimal(s: string, max: bigint): bigint | string {
  const maxDigits = max.toString().length;
  if (s.length === 0) return 'empty decimal string';
  if (s.length > maxDigits) return `decimal string of ${s.length} digits exceeds ${max}`;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return `not a canonical unsigned decimal string (character ${JSON.stringify(s[i])})`;
  }
  if (s.length > 1 && s.charCodeAt(0) === 0x30) return 'decimal string has a leading zero';
  const v = BigInt(s);
  if (v > max) return `decimal ${s} exceeds ${max}`;
  return v;
}

/**
 * Check the SSZ `BitList<U15>` bytes of an aggregate approval: exactly 2 bytes with the length delimiter
 * (bit 15, `0x80` of byte 1) set. Returns a problem description or null.
 * Stricter than ssz_types, which also decodes shorter bitlists (e.g. `0x01` = an empty list of length 0);
 * Alys always creates the list with length 15, so its SSZ form is always 2 bytes with bit 15 set.
 */
export function aggregationBitsProblem(hex: string): string | null {
  if (hex.length !== 2 + 2 * AGGREGATION_BITS_BYTES) return `expected ${AGGREGATION_BITS_BYTES} bytes of bitlist`;
  const high = parseInt(hex.slice(4, 6), 16);
  if ((high & 0x80) === 0) return 'bitlist length delimiter (bit 15) is not set: not a BitList<15> of length 15';
  return null;
}

/** Sanity bounds used by the writers. */
function checkU32(v: number, path: string): void {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw encodeError(path, `not a u32: ${v}`);
}
function checkI32(v: number, path: string): void {
  if (!Number.isInteger(v) || v < I32_MIN || v > I32_MAX) throw encodeError(path, `not an i32: ${v}`);
}
function checkSafeU64(v: number, path: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw encodeError(path, `not a u64 that fits a safe integer: ${v}`);
}
function checkBytes(v: Uint8Array, length: number, path: string): void {
  if (!(v instanceof Uint8Array) || v.length !== length)
    throw encodeError(path, `expected ${length} bytes, got ${v instanceof Uint8Array ? v.length : typeof v}`);
}

// ------------------------------------------------------------------------------------------ leaf helpers

function writeQuotedU64(w: MsgpackWriter, v: bigint, path: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw encodeError(path, `not a u64: ${String(v)}`);
  w.str(v.toString());
}

function writeQuotedU256(w: MsgpackWriter, v: bigint, path: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > U256_MAX) throw encodeError(path, `not a u256: ${String(v)}`);
  w.str(v.toString());
}

/** True if the next marker is a msgpack string. */
function nextIsStr(r: MsgpackReader, path: string): boolean {
  const m = r.peek(path);
  return (m >= 0xa0 && m <= 0xbf) || (m >= 0xd9 && m <= 0xdb);
}

/**
 * Lighthouse `quoted_u64`: a decimal string. Its deserializer also accepts a plain integer
 * (`require_quotes: false`), so a msgpack integer is accepted here too; re-encoding writes the string.
 */
function readQuotedU64(r: MsgpackReader, path: string): bigint {
  if (!nextIsStr(r, path)) return r.uint64(path);
  const at = r.offset;
  const v = parseCanonicalDecimal(r.str(path, 32), U64_MAX);
  if (typeof v === 'string') r.fail(path, v, at);
  return v;
}

/** Lighthouse `quoted_u256` (base_fee_per_gas): a decimal string only. */
function readQuotedU256(r: MsgpackReader, path: string): bigint {
  const at = r.offset;
  const v = parseCanonicalDecimal(r.str(path, 80), U256_MAX);
  if (typeof v === 'string') r.fail(path, v, at);
  return v;
}

const readU32 = (r: MsgpackReader, path: string): number => r.uint(path, U32_MAX);
const readI32 = (r: MsgpackReader, path: string): number => r.int(path, I32_MIN, I32_MAX);
const readHash32 = (r: MsgpackReader, path: string): Uint8Array => r.bin(path, { length: 32 });
const readHash256 = (r: MsgpackReader, path: string): Hex => r.hexStr(path, { bytes: 32 });
const readAddress = (r: MsgpackReader, path: string): Hex => r.hexStr(path, { bytes: 20 });

function writeHash32(w: MsgpackWriter, v: Uint8Array, path: string): void {
  checkBytes(v, 32, path);
  w.bin(v);
}

function writeU32(w: MsgpackWriter, v: number, path: string): void {
  checkU32(v, path);
  w.uint(v);
}

// ------------------------------------------------------------------------------------------ codec interface

/** A typed msgpack form: `write` appends canonical bytes, `read` decodes from an untrusted reader. */
export interface MsgpackCodec<T> {
  readonly name: string;
  write(w: MsgpackWriter, value: T, path: string): void;
  read(r: MsgpackReader, path: string): T;
}

function codec<T>(
  name: string,
  write: (w: MsgpackWriter, value: T, path: string) => void,
  read: (r: MsgpackReader, path: string) => T,
): MsgpackCodec<T> {
  return Object.freeze({ name, write, read });
}

/** Canonical bytes of `value`. Throws a ProtocolError (`encode.invalid-value`) naming the field if it cannot be encoded. */
export function encodeMsgpack<T>(c: MsgpackCodec<T>, value: T, w: MsgpackWriter = new MsgpackWriter()): Uint8Array {
  c.write(w, value, '$');
  return w.finish();
}

/** Decode exactly one value (trailing bytes are refused). Throws DecodeError naming the field and byte offset. */
export function decodeMsgpack<T>(c: MsgpackCodec<T>, bytes: Uint8Array, options: MsgpackReaderOptions = {}): T {
  const r = new MsgpackReader(bytes, options);
  const value = c.read(r, '$');
  r.end('$');
  return value;
}

// ------------------------------------------------------------------------------------------ bitcoin (rust-bitcoin 0.30.2)

/** TxIn: `[[txid bin32, vout], script_sig bin, sequence, witness [[u8…]…]]`. */
export const TxInCodec = codec<TxIn>(
  'TxIn',
  (w, v, path) => {
    w.arrayHeader(4);
    w.arrayHeader(2);
    writeHash32(w, v.prevTxid, `${path}.previous_output.txid`);
    writeU32(w, v.prevVout, `${path}.previous_output.vout`);
    w.bin(v.scriptSig);
    writeU32(w, v.sequence, `${path}.sequence`);
    w.arrayHeader(v.witness.length);
    for (const element of v.witness) w.byteArray(element);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 4 });
    r.arrayHeader(`${path}.previous_output`, { length: 2 });
    const prevTxid = readHash32(r, `${path}.previous_output.txid`);
    const prevVout = readU32(r, `${path}.previous_output.vout`);
    const scriptSig = r.bin(`${path}.script_sig`);
    const sequence = readU32(r, `${path}.sequence`);
    const n = r.arrayHeader(`${path}.witness`);
    const witness: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const ep = `${path}.witness[${i}]`;
      const len = r.arrayHeader(ep);
      const element = new Uint8Array(len);
      for (let j = 0; j < len; j++) element[j] = r.uint(ep, 0xff);
      witness.push(element);
    }
    return { prevTxid, prevVout, scriptSig, sequence, witness };
  },
);

/** TxOut: `[value u64, script_pubkey bin]`. */
export const TxOutCodec = codec<TxOut>(
  'TxOut',
  (w, v, path) => {
    w.arrayHeader(2);
    if (typeof v.value !== 'bigint' || v.value < 0n || v.value > U64_MAX)
      throw encodeError(`${path}.value`, `not a u64: ${String(v.value)}`);
    w.uint64(v.value);
    w.bin(v.scriptPubkey);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 2 });
    const value = r.uint64(`${path}.value`);
    const scriptPubkey = r.bin(`${path}.script_pubkey`);
    return { value, scriptPubkey };
  },
);

/** Transaction: `[version i32, lock_time u32, input [TxIn…], output [TxOut…]]`. */
export const TransactionCodec = codec<Transaction>(
  'Transaction',
  (w, v, path) => {
    w.arrayHeader(4);
    checkI32(v.version, `${path}.version`);
    w.sint(v.version);
    writeU32(w, v.lockTime, `${path}.lock_time`);
    w.arrayHeader(v.inputs.length);
    for (let i = 0; i < v.inputs.length; i++) TxInCodec.write(w, v.inputs[i]!, `${path}.input[${i}]`);
    w.arrayHeader(v.outputs.length);
    for (let i = 0; i < v.outputs.length; i++) TxOutCodec.write(w, v.outputs[i]!, `${path}.output[${i}]`);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 4 });
    const version = readI32(r, `${path}.version`);
    const lockTime = readU32(r, `${path}.lock_time`);
    const nIn = r.arrayHeader(`${path}.input`);
    const inputs: TxIn[] = [];
    for (let i = 0; i < nIn; i++) inputs.push(TxInCodec.read(r, `${path}.input[${i}]`));
    const nOut = r.arrayHeader(`${path}.output`);
    const outputs: TxOut[] = [];
    for (let i = 0; i < nOut; i++) outputs.push(TxOutCodec.read(r, `${path}.output[${i}]`));
    return { version, lockTime, inputs, outputs };
  },
);

/** Header: `[version i32, prev_blockhash bin32, merkle_root bin32, time, bits, nonce]`. */
export const BitcoinHeaderCodec = codec<BitcoinHeader>(
  'BitcoinHeader',
  (w, v, path) => {
    w.arrayHeader(6);
    checkI32(v.version, `${path}.version`);
    w.sint(v.version);
    writeHash32(w, v.prevBlockhash, `${path}.prev_blockhash`);
    writeHash32(w, v.merkleRoot, `${path}.merkle_root`);
    writeU32(w, v.time, `${path}.time`);
    writeU32(w, v.bits, `${path}.bits`);
    writeU32(w, v.nonce, `${path}.nonce`);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 6 });
    return {
      version: readI32(r, `${path}.version`),
      prevBlockhash: readHash32(r, `${path}.prev_blockhash`),
      merkleRoot: readHash32(r, `${path}.merkle_root`),
      time: readU32(r, `${path}.time`),
      bits: readU32(r, `${path}.bits`),
      nonce: readU32(r, `${path}.nonce`),
    };
  },
);

// ------------------------------------------------------------------------------------------ auxpow

/** MerkleBranch: `[branch_hash [bin32…], branch_side_mask u32]`. */
export const MerkleBranchCodec = codec<MerkleBranch>(
  'MerkleBranch',
  (w, v, path) => {
    w.arrayHeader(2);
    w.arrayHeader(v.branchHash.length);
    for (let i = 0; i < v.branchHash.length; i++) writeHash32(w, v.branchHash[i]!, `${path}.branch_hash[${i}]`);
    writeU32(w, v.branchSideMask, `${path}.branch_side_mask`);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 2 });
    const n = r.arrayHeader(`${path}.branch_hash`);
    const branchHash: Uint8Array[] = [];
    for (let i = 0; i < n; i++) branchHash.push(readHash32(r, `${path}.branch_hash[${i}]`));
    return { branchHash, branchSideMask: readU32(r, `${path}.branch_side_mask`) };
  },
);

/** AuxPow: `[coinbase_txn, block_hash bin32, coinbase_branch, blockchain_branch, parent_block]`. */
export const AuxPowCodec = codec<AuxPow>(
  'AuxPow',
  (w, v, path) => {
    w.arrayHeader(5);
    TransactionCodec.write(w, v.coinbaseTxn, `${path}.coinbase_txn`);
    writeHash32(w, v.blockHash, `${path}.block_hash`);
    MerkleBranchCodec.write(w, v.coinbaseBranch, `${path}.coinbase_branch`);
    MerkleBranchCodec.write(w, v.blockchainBranch, `${path}.blockchain_branch`);
    BitcoinHeaderCodec.write(w, v.parentBlock, `${path}.parent_block`);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 5 });
    return {
      coinbaseTxn: TransactionCodec.read(r, `${path}.coinbase_txn`),
      blockHash: readHash32(r, `${path}.block_hash`),
      coinbaseBranch: MerkleBranchCodec.read(r, `${path}.coinbase_branch`),
      blockchainBranch: MerkleBranchCodec.read(r, `${path}.blockchain_branch`),
      parentBlock: BitcoinHeaderCodec.read(r, `${path}.parent_block`),
    };
  },
);

/** AuxPowHeader: `[range_start, range_end, bits, chain_id, height, auxpow|nil, fee_recipient]`. */
export const AuxPowHeaderCodec = codec<AuxPowHeader>(
  'AuxPowHeader',
  (w, v, path) => {
    w.arrayHeader(7);
    w.hexStr(v.rangeStart, `${path}.range_start`, 32);
    w.hexStr(v.rangeEnd, `${path}.range_end`, 32);
    writeU32(w, v.bits, `${path}.bits`);
    writeU32(w, v.chainId, `${path}.chain_id`);
    checkSafeU64(v.height, `${path}.height`);
    w.uint(v.height);
    if (v.auxpow === null) w.nil();
    else AuxPowCodec.write(w, v.auxpow, `${path}.auxpow`);
    w.hexStr(v.feeRecipient, `${path}.fee_recipient`, 20);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 7 });
    const rangeStart = readHash256(r, `${path}.range_start`);
    const rangeEnd = readHash256(r, `${path}.range_end`);
    const bits = readU32(r, `${path}.bits`);
    const chainId = readU32(r, `${path}.chain_id`);
    const height = r.uint(`${path}.height`);
    const auxpow = r.isNil() ? r.nil() : AuxPowCodec.read(r, `${path}.auxpow`);
    const feeRecipient = readAddress(r, `${path}.fee_recipient`);
    return { rangeStart, rangeEnd, bits, chainId, height, auxpow, feeRecipient };
  },
);

// ------------------------------------------------------------------------------------------ execution payload

/** Withdrawal: `[index "dec", validator_index "dec", address "0x…", amount "dec" (Gwei)]`. */
export const WithdrawalCodec = codec<Withdrawal>(
  'Withdrawal',
  (w, v, path) => {
    w.arrayHeader(4);
    writeQuotedU64(w, v.index, `${path}.index`);
    writeQuotedU64(w, v.validatorIndex, `${path}.validator_index`);
    w.hexStr(v.address, `${path}.address`, 20);
    writeQuotedU64(w, v.amount, `${path}.amount`);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 4 });
    return {
      index: readQuotedU64(r, `${path}.index`),
      validatorIndex: readQuotedU64(r, `${path}.validator_index`),
      address: readAddress(r, `${path}.address`),
      amount: readQuotedU64(r, `${path}.amount`),
    };
  },
);

/** ExecutionPayloadCapella<MainnetEthSpec>: 15 fields (alys-protocol.md 1.6). */
export const ExecutionPayloadCodec = codec<ExecutionPayloadCapella>(
  'ExecutionPayloadCapella',
  (w, v, path) => {
    w.arrayHeader(15);
    w.hexStr(v.parentHash, `${path}.parent_hash`, 32);
    w.hexStr(v.feeRecipient, `${path}.fee_recipient`, 20);
    w.hexStr(v.stateRoot, `${path}.state_root`, 32);
    w.hexStr(v.receiptsRoot, `${path}.receipts_root`, 32);
    w.hexStr(v.logsBloom, `${path}.logs_bloom`, LOGS_BLOOM_BYTES);
    w.hexStr(v.prevRandao, `${path}.prev_randao`, 32);
    writeQuotedU64(w, v.blockNumber, `${path}.block_number`);
    writeQuotedU64(w, v.gasLimit, `${path}.gas_limit`);
    writeQuotedU64(w, v.gasUsed, `${path}.gas_used`);
    writeQuotedU64(w, v.timestamp, `${path}.timestamp`);
    w.hexStr(v.extraData, `${path}.extra_data`, undefined, MAX_EXTRA_DATA_BYTES);
    writeQuotedU256(w, v.baseFeePerGas, `${path}.base_fee_per_gas`);
    w.hexStr(v.blockHash, `${path}.block_hash`, 32);
    const txs = v.transactions;
    if (txs.length > MAX_TRANSACTIONS_PER_PAYLOAD)
      throw encodeError(`${path}.transactions`, `more than ${MAX_TRANSACTIONS_PER_PAYLOAD} transactions`);
    w.arrayHeader(txs.length);
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i]!;
      // Cheap check on the string form; the exact byte bound is (length - 2) / 2.
      if (tx.length > 2 + 2 * MAX_BYTES_PER_TRANSACTION)
        throw encodeError(`${path}.transactions[${i}]`, `longer than ${MAX_BYTES_PER_TRANSACTION} bytes`);
      w.hexStr(tx, `${path}.transactions[${i}]`);
    }
    if (v.withdrawals.length > MAX_WITHDRAWALS)
      throw encodeError(
        `${path}.withdrawals`,
        `${v.withdrawals.length} withdrawals, at most ${MAX_WITHDRAWALS} allowed`,
      );
    w.arrayHeader(v.withdrawals.length);
    for (let i = 0; i < v.withdrawals.length; i++)
      WithdrawalCodec.write(w, v.withdrawals[i]!, `${path}.withdrawals[${i}]`);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 15 });
    const parentHash = readHash256(r, `${path}.parent_hash`);
    const feeRecipient = readAddress(r, `${path}.fee_recipient`);
    const stateRoot = readHash256(r, `${path}.state_root`);
    const receiptsRoot = readHash256(r, `${path}.receipts_root`);
    const logsBloom = r.hexStr(`${path}.logs_bloom`, { bytes: LOGS_BLOOM_BYTES });
    const prevRandao = readHash256(r, `${path}.prev_randao`);
    const blockNumber = readQuotedU64(r, `${path}.block_number`);
    const gasLimit = readQuotedU64(r, `${path}.gas_limit`);
    const gasUsed = readQuotedU64(r, `${path}.gas_used`);
    const timestamp = readQuotedU64(r, `${path}.timestamp`);
    const extraData = r.hexStr(`${path}.extra_data`, { maxBytes: MAX_EXTRA_DATA_BYTES });
    const baseFeePerGas = readQuotedU256(r, `${path}.base_fee_per_gas`);
    const blockHash = readHash256(r, `${path}.block_hash`);
    const nTx = r.arrayHeader(`${path}.transactions`, { max: MAX_TRANSACTIONS_PER_PAYLOAD });
    const transactions: Hex[] = [];
    for (let i = 0; i < nTx; i++)
      transactions.push(r.hexStr(`${path}.transactions[${i}]`, { maxBytes: MAX_BYTES_PER_TRANSACTION }));
    const nW = r.arrayHeader(`${path}.withdrawals`, { max: MAX_WITHDRAWALS });
    const withdrawals: Withdrawal[] = [];
    for (let i = 0; i < nW; i++) withdrawals.push(WithdrawalCodec.read(r, `${path}.withdrawals[${i}]`));
    return {
      parentHash,
      feeRecipient,
      stateRoot,
      receiptsRoot,
      logsBloom,
      prevRandao,
      blockNumber,
      gasLimit,
      gasUsed,
      timestamp,
      extraData,
      baseFeePerGas,
      blockHash,
      transactions,
      withdrawals,
    };
  },
);

// ------------------------------------------------------------------------------------------ consensus block

/** ConsensusBlock: 7 fields (alys-protocol.md 1.3); this is exactly what the block hash is computed over. */
export const ConsensusBlockCodec = codec<ConsensusBlock>(
  'ConsensusBlock',
  (w, v, path) => {
    w.arrayHeader(7);
    w.hexStr(v.parentHash, `${path}.parent_hash`, 32);
    checkSafeU64(v.slot, `${path}.slot`);
    w.uint(v.slot);
    if (v.auxpowHeader === null) w.nil();
    else AuxPowHeaderCodec.write(w, v.auxpowHeader, `${path}.auxpow_header`);
    ExecutionPayloadCodec.write(w, v.executionPayload, `${path}.execution_payload`);
    w.arrayHeader(v.pegins.length);
    for (let i = 0; i < v.pegins.length; i++) {
      const [txid, blockHash] = v.pegins[i]!;
      w.arrayHeader(2);
      writeHash32(w, txid, `${path}.pegins[${i}][0]`);
      writeHash32(w, blockHash, `${path}.pegins[${i}][1]`);
    }
    if (v.pegoutPaymentProposal === null) w.nil();
    else TransactionCodec.write(w, v.pegoutPaymentProposal, `${path}.pegout_payment_proposal`);
    w.arrayHeader(v.finalizedPegouts.length);
    for (let i = 0; i < v.finalizedPegouts.length; i++)
      TransactionCodec.write(w, v.finalizedPegouts[i]!, `${path}.finalized_pegouts[${i}]`);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 7 });
    const parentHash = readHash256(r, `${path}.parent_hash`);
    const slot = r.uint(`${path}.slot`);
    const auxpowHeader = r.isNil() ? r.nil() : AuxPowHeaderCodec.read(r, `${path}.auxpow_header`);
    const executionPayload = ExecutionPayloadCodec.read(r, `${path}.execution_payload`);
    const nPegins = r.arrayHeader(`${path}.pegins`);
    const pegins: PegInRef[] = [];
    for (let i = 0; i < nPegins; i++) {
      r.arrayHeader(`${path}.pegins[${i}]`, { length: 2 });
      pegins.push([readHash32(r, `${path}.pegins[${i}][0]`), readHash32(r, `${path}.pegins[${i}][1]`)]);
    }
    const pegoutPaymentProposal = r.isNil() ? r.nil() : TransactionCodec.read(r, `${path}.pegout_payment_proposal`);
    const nFinal = r.arrayHeader(`${path}.finalized_pegouts`);
    const finalizedPegouts: Transaction[] = [];
    for (let i = 0; i < nFinal; i++) finalizedPegouts.push(TransactionCodec.read(r, `${path}.finalized_pegouts[${i}]`));
    return { parentHash, slot, auxpowHeader, executionPayload, pegins, pegoutPaymentProposal, finalizedPegouts };
  },
);

/** AggregateApproval: `[aggregation_bits "0x…" (2 bytes), aggregate_signature "0x…" (96 bytes)]`. */
export const AggregateApprovalCodec = codec<AggregateApproval>(
  'AggregateApproval',
  (w, v, path) => {
    w.arrayHeader(2);
    const problem = aggregationBitsProblem(v.aggregationBits);
    if (problem !== null) throw encodeError(`${path}.aggregation_bits`, problem);
    w.hexStr(v.aggregationBits, `${path}.aggregation_bits`, AGGREGATION_BITS_BYTES);
    w.hexStr(v.aggregateSignature, `${path}.aggregate_signature`, BLS_SIGNATURE_BYTES);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 2 });
    const at = r.offset;
    const aggregationBits = r.hexStr(`${path}.aggregation_bits`, { bytes: AGGREGATION_BITS_BYTES });
    const problem = aggregationBitsProblem(aggregationBits);
    if (problem !== null) r.fail(`${path}.aggregation_bits`, problem, at);
    // Point validity (on-curve, subgroup) is checked by the BLS verifier, not here.
    const aggregateSignature = r.hexStr(`${path}.aggregate_signature`, { bytes: BLS_SIGNATURE_BYTES });
    return { aggregationBits, aggregateSignature };
  },
);

/** SignedConsensusBlock: `[message, signature]`. */
export const SignedConsensusBlockCodec = codec<SignedConsensusBlock>(
  'SignedConsensusBlock',
  (w, v, path) => {
    w.arrayHeader(2);
    ConsensusBlockCodec.write(w, v.message, `${path}.message`);
    AggregateApprovalCodec.write(w, v.signature, `${path}.signature`);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 2 });
    const message = ConsensusBlockCodec.read(r, `${path}.message`);
    const signature = AggregateApprovalCodec.read(r, `${path}.signature`);
    return { message, signature };
  },
);

/** IndividualApproval: `[signature "0x…" (96 bytes), authority_index u8]`. */
export const IndividualApprovalCodec = codec<IndividualApproval>(
  'IndividualApproval',
  (w, v, path) => {
    w.arrayHeader(2);
    w.hexStr(v.signature, `${path}.signature`, BLS_SIGNATURE_BYTES);
    if (!Number.isInteger(v.authorityIndex) || v.authorityIndex < 0 || v.authorityIndex > 0xff)
      throw encodeError(`${path}.authority_index`, `not a u8: ${v.authorityIndex}`);
    w.uint(v.authorityIndex);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 2 });
    const signature = r.hexStr(`${path}.signature`, { bytes: BLS_SIGNATURE_BYTES });
    const authorityIndex = r.uint(`${path}.authority_index`, 0xff);
    return { signature, authorityIndex };
  },
);

/** ApproveBlock (gossip body): `[block_hash "0x…", IndividualApproval]`. */
export const ApproveBlockCodec = codec<ApproveBlock>(
  'ApproveBlock',
  (w, v, path) => {
    w.arrayHeader(2);
    w.hexStr(v.blockHash, `${path}.block_hash`, 32);
    IndividualApprovalCodec.write(w, v.signature, `${path}.signature`);
  },
  (r, path) => {
    r.arrayHeader(path, { length: 2 });
    const blockHash = readHash256(r, `${path}.block_hash`);
    const signature = IndividualApprovalCodec.read(r, `${path}.signature`);
    return { blockHash, signature };
  },
);

// ------------------------------------------------------------------------------------------ gossip

/**
 * One member's signatures over one peg-out transaction: an entry of the
 * `HashMap<Txid, SingleMemberTransactionSignatures(PublicKey, Vec<schnorr::Signature>)>` gossip body.
 */
export interface PegoutSignatureEntry {
  /** txid, internal byte order */
  txid: Uint8Array;
  /** 33-byte compressed secp256k1 public key of the federation member */
  pubkey: Uint8Array;
  /** one 64-byte BIP-340 signature per input */
  signatures: Uint8Array[];
}

/** The gossip message (alys-protocol.md 1.11), externally tagged by variant name. */
export type PubsubMessage =
  | { readonly type: 'ConsensusBlock'; readonly block: SignedConsensusBlock }
  | { readonly type: 'ApproveBlock'; readonly approval: ApproveBlock }
  | { readonly type: 'QueuePow'; readonly header: AuxPowHeader }
  | { readonly type: 'PegoutSignatures'; readonly entries: PegoutSignatureEntry[] };

export const PUBSUB_VARIANTS = ['ConsensusBlock', 'ApproveBlock', 'QueuePow', 'PegoutSignatures'] as const;

function writePegoutSignatures(w: MsgpackWriter, entries: PegoutSignatureEntry[], path: string): void {
  w.mapHeader(entries.length);
  const seen = new Set<string>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const ep = `${path}[${i}]`;
    writeHash32(w, e.txid, `${ep}.txid`);
    const key = binaryKey(e.txid);
    if (seen.has(key)) throw encodeError(`${ep}.txid`, 'duplicate txid (the Rust body is a HashMap)');
    seen.add(key);
    w.arrayHeader(2);
    checkBytes(e.pubkey, SECP256K1_PUBLIC_KEY_BYTES, `${ep}.pubkey`);
    w.byteArray(e.pubkey);
    w.arrayHeader(e.signatures.length);
    for (let k = 0; k < e.signatures.length; k++) {
      checkBytes(e.signatures[k]!, SCHNORR_SIGNATURE_BYTES, `${ep}.signatures[${k}]`);
      w.bin(e.signatures[k]!);
    }
  }
}

/** A string key for a byte string (one char per byte), for duplicate detection in a Set. */
function binaryKey(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function readPegoutSignatures(r: MsgpackReader, path: string): PegoutSignatureEntry[] {
  const n = r.mapHeader(path);
  const entries: PegoutSignatureEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const ep = `${path}[${i}]`;
    const at = r.offset;
    const txid = readHash32(r, `${ep}.txid`);
    // Stricter than Rust (a HashMap keeps the last duplicate): duplicates are refused.
    const key = binaryKey(txid);
    if (seen.has(key)) r.fail(`${ep}.txid`, 'duplicate txid key', at);
    seen.add(key);
    r.arrayHeader(ep, { length: 2 });
    const pkAt = r.offset;
    r.arrayHeader(`${ep}.pubkey`, { length: SECP256K1_PUBLIC_KEY_BYTES });
    const pubkey = new Uint8Array(SECP256K1_PUBLIC_KEY_BYTES);
    for (let j = 0; j < SECP256K1_PUBLIC_KEY_BYTES; j++) pubkey[j] = r.uint(`${ep}.pubkey`, 0xff);
    // Only the prefix is checked here; the point itself is validated when the signature is verified.
    if (pubkey[0] !== 0x02 && pubkey[0] !== 0x03)
      r.fail(`${ep}.pubkey`, 'not a compressed secp256k1 public key (prefix is not 02/03)', pkAt);
    const nSig = r.arrayHeader(`${ep}.signatures`);
    const signatures: Uint8Array[] = [];
    for (let k = 0; k < nSig; k++)
      signatures.push(r.bin(`${ep}.signatures[${k}]`, { length: SCHNORR_SIGNATURE_BYTES }));
    entries.push({ txid, pubkey, signatures });
  }
  return entries;
}

export const PubsubMessageCodec = codec<PubsubMessage>(
  'PubsubMessage',
  (w, v, path) => {
    w.mapHeader(1);
    w.str(v.type);
    switch (v.type) {
      case 'ConsensusBlock':
        return SignedConsensusBlockCodec.write(w, v.block, `${path}.ConsensusBlock`);
      case 'ApproveBlock':
        return ApproveBlockCodec.write(w, v.approval, `${path}.ApproveBlock`);
      case 'QueuePow':
        return AuxPowHeaderCodec.write(w, v.header, `${path}.QueuePow`);
      case 'PegoutSignatures':
        return writePegoutSignatures(w, v.entries, `${path}.PegoutSignatures`);
      default:
        throw encodeError(path, `unknown PubsubMessage variant ${String((v as { type: unknown }).type)}`);
    }
  },
  (r, path) => {
    r.mapHeader(path, { length: 1 });
    const at = r.offset;
    const name = r.str(`${path}.<variant>`, 32);
    switch (name) {
      case 'ConsensusBlock':
        return { type: name, block: SignedConsensusBlockCodec.read(r, `${path}.ConsensusBlock`) };
      case 'ApproveBlock':
        return { type: name, approval: ApproveBlockCodec.read(r, `${path}.ApproveBlock`) };
      case 'QueuePow':
        return { type: name, header: AuxPowHeaderCodec.read(r, `${path}.QueuePow`) };
      case 'PegoutSignatures':
        return { type: name, entries: readPegoutSignatures(r, `${path}.PegoutSignatures`) };
      default:
        return r.fail(`${path}.<variant>`, `unknown PubsubMessage variant ${JSON.stringify(name)}`, at);
    }
  },
);

// ------------------------------------------------------------------------------------------ convenience

/** Canonical msgpack of a ConsensusBlock, the input of the block hash (see ../block.ts). */
export function encodeConsensusBlockMsgpack(block: ConsensusBlock, w?: MsgpackWriter): Uint8Array {
  return encodeMsgpack(ConsensusBlockCodec, block, w);
}
export function decodeConsensusBlockMsgpack(bytes: Uint8Array): ConsensusBlock {
  return decodeMsgpack(ConsensusBlockCodec, bytes);
}
export function encodeSignedBlockMsgpack(block: SignedConsensusBlock): Uint8Array {
  return encodeMsgpack(SignedConsensusBlockCodec, block);
}
export function decodeSignedBlockMsgpack(bytes: Uint8Array): SignedConsensusBlock {
  return decodeMsgpack(SignedConsensusBlockCodec, bytes);
}
/** Gossip payload bytes (before snappy) of a message. */
export function encodePubsubMessage(message: PubsubMessage): Uint8Array {
  return encodeMsgpack(PubsubMessageCodec, message);
}
/** Decode a gossip payload (after snappy decompression). */
export function decodePubsubMessage(bytes: Uint8Array): PubsubMessage {
  return decodeMsgpack(PubsubMessageCodec, bytes);
}
