/**
 * JSON forms of the Alys data model as the consensus RPC serves them (alys-protocol.md 1.10, 1.11):
 * serde_json with `is_human_readable() == true`.
 *
 * - Lighthouse / ethereum-types values: `"0x…"` lowercase hex strings; quoted integers are decimal strings.
 * - rust-bitcoin: hashes (txid, block hash, merkle node) are 64 hex digits in *display* order (reversed, no
 *   `0x`); OutPoint is `"<txid>:<vout>"`; scripts are plain hex; a witness is a list of hex strings; integers
 *   are JSON numbers.
 * - `createauxblock` result (AuxBlock): `hash`/`previousblockhash` are hex of the raw (un-reversed) bytes,
 *   `bits` is `format!("{:x}")` of the compact u32, `_target` the 64-digit big-endian target.
 *
 * Decoders take an already parsed JSON value (`unknown`) and are strict: every object must have exactly the
 * expected keys (serde derive would ignore unknown keys and treat a missing Option as null; an unknown
 * field here would also mean we cannot recompute the block hash, so it is refused), every string must have
 * the right form and length, decimal strings must be canonical (no sign, no leading zero, ≤ the type's max;
 * Lighthouse's quoted ints would also take a bare number, and Rust's `u64::from_str` a `+` or leading
 * zeros), and JSON numbers must be safe integers within the field's range. A u64 JSON number above 2^53-1
 * cannot be read exactly after `JSON.parse`, so it is refused (stricter than Alys; no real value is that
 * large). Every error is a {@link DecodeError} whose path is the JSON path, e.g.
 * `$.message.execution_payload.withdrawals[3].amount`. One thing cannot be seen after `JSON.parse`: a
 * number written `1.0` or `1e0` reads as 1 (serde_json would refuse it for an integer field). Objects,
 * arrays and JSON numbers are read with the shared readers of `../json-fields.ts`; the hex, quoted-integer
 * and OutPoint forms are read here.
 *
 * Encoders produce the JSON value serde_json emits, so that `JSON.stringify(encodeX(x))` is byte-identical
 * to the Rust node's response body for `x`. Object keys are in **sorted** order, not struct order: the
 * RPC handlers build the result with `json!(value)` into a `serde_json::Value`, whose map is a `BTreeMap`
 * because serde_json is built without the `preserve_order` feature (no `indexmap` dependency of serde_json
 * in Alys' Cargo.lock) [R: read, not run against a live node].
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { DecodeError } from '../errors.js';
import { encodeError } from './msgpack-wire.js';
import { U64_MAX, U256_MAX, type Hex } from '../bytes.js';
import { readArray, readExactObject, readInteger, readString } from '../json-fields.js';
import {
  AGGREGATION_BITS_BYTES,
  BLS_SIGNATURE_BYTES,
  LOGS_BLOOM_BYTES,
  MAX_BYTES_PER_TRANSACTION,
  MAX_EXTRA_DATA_BYTES,
  MAX_TRANSACTIONS_PER_PAYLOAD,
  MAX_WITHDRAWALS,
  aggregationBitsProblem,
  parseCanonicalDecimal,
} from './msgpack.js';
import type {
  AggregateApproval,
  AuxPow,
  AuxPowHeader,
  BitcoinHeader,
  ConsensusBlock,
  ExecutionPayloadCapella,
  MerkleBranch,
  PegInRef,
  SignedConsensusBlock,
  Transaction,
  TxIn,
  TxOut,
  Withdrawal,
} from '../types.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

const U32_MAX = 0xffff_ffff;
const I32_MIN = -0x8000_0000;
const I32_MAX = 0x7fff_ffff;

// ------------------------------------------------------------------------------------------ decode helpers

function fail(path: string, problem: string): never {
  throw new DecodeError(path, problem);
}

/** A Lighthouse quoted integer: a canonical decimal string (see the module comment). */
function quotedInt(value: unknown, path: string, max: bigint, type: string): bigint {
  const v = parseCanonicalDecimal(readString(value, path, `a decimal string (${type})`), max);
  if (typeof v === 'string') fail(path, v);
  return v;
}
const quotedU64 = (v: unknown, path: string): bigint => quotedInt(v, path, U64_MAX, 'quoted u64');
const quotedU256 = (v: unknown, path: string): bigint => quotedInt(v, path, U256_MAX, 'quoted u256');

const HEX_0X = /^0x[0-9a-fA-F]*$/;
const HEX_PLAIN = /^[0-9a-fA-F]*$/;
const UPPER_HEX = /[A-F]/;

/** A `0x` hex string (impl-serde / ssz_types form), normalised to lowercase. */
function hex0x(value: unknown, path: string, opts: { bytes?: number; maxBytes?: number } = {}): Hex {
  const text = readString(value, path, 'a 0x-prefixed hex string');
  if (!HEX_0X.test(text)) fail(path, 'expected a 0x-prefixed hex string (lowercase "0x", then hex digits)');
  if ((text.length & 1) !== 0) fail(path, 'hex string has an odd number of digits');
  const n = (text.length - 2) / 2;
  if (opts.bytes !== undefined && n !== opts.bytes) fail(path, `expected ${opts.bytes} bytes, got ${n}`);
  if (opts.maxBytes !== undefined && n > opts.maxBytes) fail(path, `expected at most ${opts.maxBytes} bytes, got ${n}`);
  return (UPPER_HEX.test(text) ? text.toLowerCase() : text) as Hex;
}

/** Plain hex without `0x` (rust-bitcoin scripts and witness elements) to bytes. */
function hexPlain(value: unknown, path: string, bytes?: number): Uint8Array {
  const text = readString(value, path, 'a hex string without 0x');
  if (!HEX_PLAIN.test(text)) fail(path, 'expected hex digits only (no 0x prefix)');
  if ((text.length & 1) !== 0) fail(path, 'hex string has an odd number of digits');
  if (bytes !== undefined && text.length !== 2 * bytes) fail(path, `expected ${bytes} bytes, got ${text.length / 2}`);
  return hexToBytes(text.toLowerCase());
}

/** A rust-bitcoin hash in display order (64 hex digits, no 0x) → 32 bytes in internal order. */
function displayHash(value: unknown, path: string): Uint8Array {
  return hexPlain(value, path, 32).reverse();
}

/** rust-bitcoin `OutPoint` Display/FromStr: `"<txid display hex>:<vout>"`, vout canonical decimal u32. */
function outPoint(value: unknown, path: string): { txid: Uint8Array; vout: number } {
  const text = readString(value, path, '"txid:vout"');
  const colon = text.indexOf(':');
  if (colon < 0 || colon !== text.lastIndexOf(':')) fail(path, 'expected exactly one ":" in "txid:vout"');
  const txid = displayHash(text.slice(0, colon), path);
  const v = parseCanonicalDecimal(text.slice(colon + 1), BigInt(U32_MAX));
  if (typeof v === 'string') fail(path, `bad vout: ${v}`);
  return { txid, vout: Number(v) };
}

// ------------------------------------------------------------------------------------------ encode helpers

function reversedHex(bytes: Uint8Array, path: string): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) throw encodeError(path, 'expected 32 bytes');
  return bytesToHex(bytes.slice().reverse());
}

function checkHex0x(value: Hex, path: string, bytes?: number, maxBytes?: number): Hex {
  if (typeof value !== 'string' || !/^0x[0-9a-f]*$/.test(value) || (value.length & 1) !== 0)
    throw encodeError(path, 'expected a lowercase 0x-prefixed hex string');
  const n = (value.length - 2) / 2;
  if (bytes !== undefined && n !== bytes) throw encodeError(path, `expected ${bytes} bytes, got ${n}`);
  if (maxBytes !== undefined && n > maxBytes) throw encodeError(path, `expected at most ${maxBytes} bytes, got ${n}`);
  return value;
}

function numberOut(value: number, path: string, min: number, max: number, type: string): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw encodeError(path, `not a ${type}: ${value}`);
  return value;
}

function quotedOut(value: bigint, path: string, max: bigint): string {
  if (typeof value !== 'bigint' || value < 0n || value > max) throw encodeError(path, `out of range: ${String(value)}`);
  return value.toString();
}

// ------------------------------------------------------------------------------------------ bitcoin

const TX_FIELDS = ['version', 'lock_time', 'input', 'output'] as const;
const TXIN_FIELDS = ['previous_output', 'script_sig', 'sequence', 'witness'] as const;
const TXOUT_FIELDS = ['value', 'script_pubkey'] as const;
const HEADER_FIELDS = ['version', 'prev_blockhash', 'merkle_root', 'time', 'bits', 'nonce'] as const;

function decodeTxIn(value: unknown, path: string): TxIn {
  const o = readExactObject(value, path, TXIN_FIELDS);
  const prev = outPoint(o.previous_output, `${path}.previous_output`);
  const scriptSig = hexPlain(o.script_sig, `${path}.script_sig`);
  const sequence = readInteger(o.sequence, `${path}.sequence`, 'u32');
  const witness = readArray(o.witness, `${path}.witness`).map((e, i) => hexPlain(e, `${path}.witness[${i}]`));
  return { prevTxid: prev.txid, prevVout: prev.vout, scriptSig, sequence, witness };
}

function decodeTxOut(value: unknown, path: string): TxOut {
  const o = readExactObject(value, path, TXOUT_FIELDS);
  return {
    value: BigInt(readInteger(o.value, `${path}.value`, 'u64')),
    scriptPubkey: hexPlain(o.script_pubkey, `${path}.script_pubkey`),
  };
}

/** rust-bitcoin 0.30 `Transaction` JSON: `{version, lock_time, input, output}`. */
export function decodeTransactionJson(value: unknown, path = '$'): Transaction {
  const o = readExactObject(value, path, TX_FIELDS);
  return {
    version: readInteger(o.version, `${path}.version`, 'i32'),
    lockTime: readInteger(o.lock_time, `${path}.lock_time`, 'u32'),
    inputs: readArray(o.input, `${path}.input`).map((v, i) => decodeTxIn(v, `${path}.input[${i}]`)),
    outputs: readArray(o.output, `${path}.output`).map((v, i) => decodeTxOut(v, `${path}.output[${i}]`)),
  };
}

/** The serde_json value of a transaction (keys sorted, see the module comment). */
export function encodeTransactionJson(tx: Transaction, path = '$'): JsonObject {
  return {
    input: tx.inputs.map((txin, i) => {
      const p = `${path}.input[${i}]`;
      return {
        previous_output: `${reversedHex(txin.prevTxid, `${p}.previous_output`)}:${numberOut(txin.prevVout, `${p}.previous_output`, 0, U32_MAX, 'u32')}`,
        script_sig: bytesToHex(txin.scriptSig),
        sequence: numberOut(txin.sequence, `${p}.sequence`, 0, U32_MAX, 'u32'),
        witness: txin.witness.map((e) => bytesToHex(e)),
      };
    }),
    lock_time: numberOut(tx.lockTime, `${path}.lock_time`, 0, U32_MAX, 'u32'),
    output: tx.outputs.map((out, i) => {
      if (typeof out.value !== 'bigint' || out.value < 0n || out.value > BigInt(Number.MAX_SAFE_INTEGER))
        throw encodeError(
          `${path}.output[${i}].value`,
          `not a u64 representable as a JSON number here: ${String(out.value)}`,
        );
      return { script_pubkey: bytesToHex(out.scriptPubkey), value: Number(out.value) };
    }),
    version: numberOut(tx.version, `${path}.version`, I32_MIN, I32_MAX, 'i32'),
  };
}

function decodeHeader(value: unknown, path: string): BitcoinHeader {
  const o = readExactObject(value, path, HEADER_FIELDS);
  return {
    version: readInteger(o.version, `${path}.version`, 'i32'),
    prevBlockhash: displayHash(o.prev_blockhash, `${path}.prev_blockhash`),
    merkleRoot: displayHash(o.merkle_root, `${path}.merkle_root`),
    time: readInteger(o.time, `${path}.time`, 'u32'),
    bits: readInteger(o.bits, `${path}.bits`, 'u32'),
    nonce: readInteger(o.nonce, `${path}.nonce`, 'u32'),
  };
}

function encodeHeader(h: BitcoinHeader, path: string): JsonObject {
  return {
    bits: numberOut(h.bits, `${path}.bits`, 0, U32_MAX, 'u32'),
    merkle_root: reversedHex(h.merkleRoot, `${path}.merkle_root`),
    nonce: numberOut(h.nonce, `${path}.nonce`, 0, U32_MAX, 'u32'),
    prev_blockhash: reversedHex(h.prevBlockhash, `${path}.prev_blockhash`),
    time: numberOut(h.time, `${path}.time`, 0, U32_MAX, 'u32'),
    version: numberOut(h.version, `${path}.version`, I32_MIN, I32_MAX, 'i32'),
  };
}

// ------------------------------------------------------------------------------------------ auxpow

const BRANCH_FIELDS = ['branch_hash', 'branch_side_mask'] as const;
const AUXPOW_FIELDS = ['coinbase_txn', 'block_hash', 'coinbase_branch', 'blockchain_branch', 'parent_block'] as const;
const AUXPOW_HEADER_FIELDS = [
  'range_start',
  'range_end',
  'bits',
  'chain_id',
  'height',
  'auxpow',
  'fee_recipient',
] as const;

function decodeBranch(value: unknown, path: string): MerkleBranch {
  const o = readExactObject(value, path, BRANCH_FIELDS);
  return {
    branchHash: readArray(o.branch_hash, `${path}.branch_hash`).map((h, i) =>
      displayHash(h, `${path}.branch_hash[${i}]`),
    ),
    branchSideMask: readInteger(o.branch_side_mask, `${path}.branch_side_mask`, 'u32'),
  };
}

function encodeBranch(b: MerkleBranch, path: string): JsonObject {
  return {
    branch_hash: b.branchHash.map((h, i) => reversedHex(h, `${path}.branch_hash[${i}]`)),
    branch_side_mask: numberOut(b.branchSideMask, `${path}.branch_side_mask`, 0, U32_MAX, 'u32'),
  };
}

/** Alys `AuxPow` JSON: `{coinbase_txn, block_hash, coinbase_branch, blockchain_branch, parent_block}`. */
export function decodeAuxPowJson(value: unknown, path = '$'): AuxPow {
  const o = readExactObject(value, path, AUXPOW_FIELDS);
  return {
    coinbaseTxn: decodeTransactionJson(o.coinbase_txn, `${path}.coinbase_txn`),
    blockHash: displayHash(o.block_hash, `${path}.block_hash`),
    coinbaseBranch: decodeBranch(o.coinbase_branch, `${path}.coinbase_branch`),
    blockchainBranch: decodeBranch(o.blockchain_branch, `${path}.blockchain_branch`),
    parentBlock: decodeHeader(o.parent_block, `${path}.parent_block`),
  };
}

export function encodeAuxPowJson(a: AuxPow, path = '$'): JsonObject {
  return {
    block_hash: reversedHex(a.blockHash, `${path}.block_hash`),
    blockchain_branch: encodeBranch(a.blockchainBranch, `${path}.blockchain_branch`),
    coinbase_branch: encodeBranch(a.coinbaseBranch, `${path}.coinbase_branch`),
    coinbase_txn: encodeTransactionJson(a.coinbaseTxn, `${path}.coinbase_txn`),
    parent_block: encodeHeader(a.parentBlock, `${path}.parent_block`),
  };
}

/** `AuxPowHeader` JSON (also the `getqueuedpow` result). */
export function decodeAuxPowHeaderJson(value: unknown, path = '$'): AuxPowHeader {
  const o = readExactObject(value, path, AUXPOW_HEADER_FIELDS);
  return {
    rangeStart: hex0x(o.range_start, `${path}.range_start`, { bytes: 32 }),
    rangeEnd: hex0x(o.range_end, `${path}.range_end`, { bytes: 32 }),
    bits: readInteger(o.bits, `${path}.bits`, 'u32'),
    chainId: readInteger(o.chain_id, `${path}.chain_id`, 'u32'),
    height: readInteger(o.height, `${path}.height`, 'u64'),
    auxpow: o.auxpow === null ? null : decodeAuxPowJson(o.auxpow, `${path}.auxpow`),
    feeRecipient: hex0x(o.fee_recipient, `${path}.fee_recipient`, { bytes: 20 }),
  };
}

export function encodeAuxPowHeaderJson(h: AuxPowHeader, path = '$'): JsonObject {
  return {
    auxpow: h.auxpow === null ? null : encodeAuxPowJson(h.auxpow, `${path}.auxpow`),
    bits: numberOut(h.bits, `${path}.bits`, 0, U32_MAX, 'u32'),
    chain_id: numberOut(h.chainId, `${path}.chain_id`, 0, U32_MAX, 'u32'),
    fee_recipient: checkHex0x(h.feeRecipient, `${path}.fee_recipient`, 20),
    height: numberOut(h.height, `${path}.height`, 0, Number.MAX_SAFE_INTEGER, 'u64'),
    range_end: checkHex0x(h.rangeEnd, `${path}.range_end`, 32),
    range_start: checkHex0x(h.rangeStart, `${path}.range_start`, 32),
  };
}

// ------------------------------------------------------------------------------------------ execution payload

const WITHDRAWAL_FIELDS = ['index', 'validator_index', 'address', 'amount'] as const;
const PAYLOAD_FIELDS = [
  'parent_hash',
  'fee_recipient',
  'state_root',
  'receipts_root',
  'logs_bloom',
  'prev_randao',
  'block_number',
  'gas_limit',
  'gas_used',
  'timestamp',
  'extra_data',
  'base_fee_per_gas',
  'block_hash',
  'transactions',
  'withdrawals',
] as const;

function decodeWithdrawal(value: unknown, path: string): Withdrawal {
  const o = readExactObject(value, path, WITHDRAWAL_FIELDS);
  return {
    index: quotedU64(o.index, `${path}.index`),
    validatorIndex: quotedU64(o.validator_index, `${path}.validator_index`),
    address: hex0x(o.address, `${path}.address`, { bytes: 20 }),
    amount: quotedU64(o.amount, `${path}.amount`),
  };
}

/** Lighthouse `ExecutionPayloadCapella<MainnetEthSpec>` JSON (the `execution_payload` of a block). */
export function decodeExecutionPayloadJson(value: unknown, path = '$'): ExecutionPayloadCapella {
  const o = readExactObject(value, path, PAYLOAD_FIELDS);
  return {
    parentHash: hex0x(o.parent_hash, `${path}.parent_hash`, { bytes: 32 }),
    feeRecipient: hex0x(o.fee_recipient, `${path}.fee_recipient`, { bytes: 20 }),
    stateRoot: hex0x(o.state_root, `${path}.state_root`, { bytes: 32 }),
    receiptsRoot: hex0x(o.receipts_root, `${path}.receipts_root`, { bytes: 32 }),
    logsBloom: hex0x(o.logs_bloom, `${path}.logs_bloom`, { bytes: LOGS_BLOOM_BYTES }),
    prevRandao: hex0x(o.prev_randao, `${path}.prev_randao`, { bytes: 32 }),
    blockNumber: quotedU64(o.block_number, `${path}.block_number`),
    gasLimit: quotedU64(o.gas_limit, `${path}.gas_limit`),
    gasUsed: quotedU64(o.gas_used, `${path}.gas_used`),
    timestamp: quotedU64(o.timestamp, `${path}.timestamp`),
    extraData: hex0x(o.extra_data, `${path}.extra_data`, { maxBytes: MAX_EXTRA_DATA_BYTES }),
    baseFeePerGas: quotedU256(o.base_fee_per_gas, `${path}.base_fee_per_gas`),
    blockHash: hex0x(o.block_hash, `${path}.block_hash`, { bytes: 32 }),
    transactions: readArray(o.transactions, `${path}.transactions`, MAX_TRANSACTIONS_PER_PAYLOAD).map((t, i) =>
      hex0x(t, `${path}.transactions[${i}]`, { maxBytes: MAX_BYTES_PER_TRANSACTION }),
    ),
    withdrawals: readArray(o.withdrawals, `${path}.withdrawals`, MAX_WITHDRAWALS).map((w, i) =>
      decodeWithdrawal(w, `${path}.withdrawals[${i}]`),
    ),
  };
}

export function encodeExecutionPayloadJson(p: ExecutionPayloadCapella, path = '$'): JsonObject {
  if (p.withdrawals.length > MAX_WITHDRAWALS)
    throw encodeError(`${path}.withdrawals`, `more than ${MAX_WITHDRAWALS} withdrawals`);
  if (p.transactions.length > MAX_TRANSACTIONS_PER_PAYLOAD)
    throw encodeError(`${path}.transactions`, `more than ${MAX_TRANSACTIONS_PER_PAYLOAD} transactions`);
  return {
    base_fee_per_gas: quotedOut(p.baseFeePerGas, `${path}.base_fee_per_gas`, U256_MAX),
    block_hash: checkHex0x(p.blockHash, `${path}.block_hash`, 32),
    block_number: quotedOut(p.blockNumber, `${path}.block_number`, U64_MAX),
    extra_data: checkHex0x(p.extraData, `${path}.extra_data`, undefined, MAX_EXTRA_DATA_BYTES),
    fee_recipient: checkHex0x(p.feeRecipient, `${path}.fee_recipient`, 20),
    gas_limit: quotedOut(p.gasLimit, `${path}.gas_limit`, U64_MAX),
    gas_used: quotedOut(p.gasUsed, `${path}.gas_used`, U64_MAX),
    logs_bloom: checkHex0x(p.logsBloom, `${path}.logs_bloom`, LOGS_BLOOM_BYTES),
    parent_hash: checkHex0x(p.parentHash, `${path}.parent_hash`, 32),
    prev_randao: checkHex0x(p.prevRandao, `${path}.prev_randao`, 32),
    receipts_root: checkHex0x(p.receiptsRoot, `${path}.receipts_root`, 32),
    state_root: checkHex0x(p.stateRoot, `${path}.state_root`, 32),
    timestamp: quotedOut(p.timestamp, `${path}.timestamp`, U64_MAX),
    transactions: p.transactions.map((t, i) =>
      checkHex0x(t, `${path}.transactions[${i}]`, undefined, MAX_BYTES_PER_TRANSACTION),
    ),
    withdrawals: p.withdrawals.map((w, i) => ({
      address: checkHex0x(w.address, `${path}.withdrawals[${i}].address`, 20),
      amount: quotedOut(w.amount, `${path}.withdrawals[${i}].amount`, U64_MAX),
      index: quotedOut(w.index, `${path}.withdrawals[${i}].index`, U64_MAX),
      validator_index: quotedOut(w.validatorIndex, `${path}.withdrawals[${i}].validator_index`, U64_MAX),
    })),
  };
}

// ------------------------------------------------------------------------------------------ blocks

const BLOCK_FIELDS = [
  'parent_hash',
  'slot',
  'auxpow_header',
  'execution_payload',
  'pegins',
  'pegout_payment_proposal',
  'finalized_pegouts',
] as const;
const APPROVAL_FIELDS = ['aggregation_bits', 'aggregate_signature'] as const;
const SIGNED_FIELDS = ['message', 'signature'] as const;

export function decodeConsensusBlockJson(value: unknown, path = '$'): ConsensusBlock {
  const o = readExactObject(value, path, BLOCK_FIELDS);
  return {
    parentHash: hex0x(o.parent_hash, `${path}.parent_hash`, { bytes: 32 }),
    slot: readInteger(o.slot, `${path}.slot`, 'u64'),
    auxpowHeader: o.auxpow_header === null ? null : decodeAuxPowHeaderJson(o.auxpow_header, `${path}.auxpow_header`),
    executionPayload: decodeExecutionPayloadJson(o.execution_payload, `${path}.execution_payload`),
    pegins: readArray(o.pegins, `${path}.pegins`).map((entry, i): PegInRef => {
      const p = `${path}.pegins[${i}]`;
      const pair = readArray(entry, p);
      if (pair.length !== 2) fail(p, `expected a [txid, block_hash] pair, got ${pair.length} elements`);
      return [displayHash(pair[0], `${p}[0]`), displayHash(pair[1], `${p}[1]`)];
    }),
    pegoutPaymentProposal:
      o.pegout_payment_proposal === null
        ? null
        : decodeTransactionJson(o.pegout_payment_proposal, `${path}.pegout_payment_proposal`),
    finalizedPegouts: readArray(o.finalized_pegouts, `${path}.finalized_pegouts`).map((t, i) =>
      decodeTransactionJson(t, `${path}.finalized_pegouts[${i}]`),
    ),
  };
}

export function encodeConsensusBlockJson(b: ConsensusBlock, path = '$'): JsonObject {
  return {
    auxpow_header: b.auxpowHeader === null ? null : encodeAuxPowHeaderJson(b.auxpowHeader, `${path}.auxpow_header`),
    execution_payload: encodeExecutionPayloadJson(b.executionPayload, `${path}.execution_payload`),
    finalized_pegouts: b.finalizedPegouts.map((t, i) => encodeTransactionJson(t, `${path}.finalized_pegouts[${i}]`)),
    parent_hash: checkHex0x(b.parentHash, `${path}.parent_hash`, 32),
    pegins: b.pegins.map(([txid, blockHash], i) => [
      reversedHex(txid, `${path}.pegins[${i}][0]`),
      reversedHex(blockHash, `${path}.pegins[${i}][1]`),
    ]),
    pegout_payment_proposal:
      b.pegoutPaymentProposal === null
        ? null
        : encodeTransactionJson(b.pegoutPaymentProposal, `${path}.pegout_payment_proposal`),
    slot: numberOut(b.slot, `${path}.slot`, 0, Number.MAX_SAFE_INTEGER, 'u64'),
  };
}

function decodeAggregateApproval(value: unknown, path: string): AggregateApproval {
  const o = readExactObject(value, path, APPROVAL_FIELDS);
  const aggregationBits = hex0x(o.aggregation_bits, `${path}.aggregation_bits`, { bytes: AGGREGATION_BITS_BYTES });
  const problem = aggregationBitsProblem(aggregationBits);
  if (problem !== null) fail(`${path}.aggregation_bits`, problem);
  return {
    aggregationBits,
    aggregateSignature: hex0x(o.aggregate_signature, `${path}.aggregate_signature`, { bytes: BLS_SIGNATURE_BYTES }),
  };
}

/** `getblockbyheight` / `getblockbyhash` / `getheadblock` result. */
export function decodeSignedBlockJson(value: unknown, path = '$'): SignedConsensusBlock {
  const o = readExactObject(value, path, SIGNED_FIELDS);
  return {
    message: decodeConsensusBlockJson(o.message, `${path}.message`),
    signature: decodeAggregateApproval(o.signature, `${path}.signature`),
  };
}

export function encodeSignedBlockJson(b: SignedConsensusBlock, path = '$'): JsonObject {
  const bitsProblem = aggregationBitsProblem(b.signature.aggregationBits);
  if (bitsProblem !== null) throw encodeError(`${path}.signature.aggregation_bits`, bitsProblem);
  return {
    message: encodeConsensusBlockJson(b.message, `${path}.message`),
    signature: {
      aggregate_signature: checkHex0x(
        b.signature.aggregateSignature,
        `${path}.signature.aggregate_signature`,
        BLS_SIGNATURE_BYTES,
      ),
      aggregation_bits: checkHex0x(
        b.signature.aggregationBits,
        `${path}.signature.aggregation_bits`,
        AGGREGATION_BITS_BYTES,
      ),
    },
  };
}

// ------------------------------------------------------------------------------------------ createauxblock

/** The `createauxblock` result (Alys `AuxBlock`, alys-protocol.md 1.11). */
export interface AuxBlock {
  /** Aggregate hash to commit to, raw byte order (as hashed, not reversed), as `0x` hex. */
  hash: Hex;
  chainId: number;
  /** Signing root of the last finalized block, raw byte order, as `0x` hex. */
  previousBlockHash: Hex;
  /** Always 0 from Alys. u64 JSON number. */
  coinbaseValue: number;
  /** Compact target (u32). */
  bits: number;
  /** Execution block number of the last finalized block + 1. */
  height: number;
  /** `Target` (U256) — Alys sets it to the expansion of `bits`. */
  target: bigint;
}

const AUXBLOCK_FIELDS = ['hash', 'chainid', 'previousblockhash', 'coinbasevalue', 'bits', 'height', '_target'] as const;
const COMPACT_HEX = /^(0|[1-9a-f][0-9a-f]{0,7})$/;

/**
 * Decode an AuxBlock. `hash`/`previousblockhash` must be exactly 64 hex digits (Rust's consensus decoder
 * would ignore extra trailing bytes); `bits` must be canonical lowercase hex without padding, as Alys
 * writes it (Rust's `from_str_radix` would also take upper case and leading zeros); `_target` must be 64 hex
 * digits (big-endian). The target is not compared with `bits` here (that is a verification step).
 */
export function decodeAuxBlockJson(value: unknown, path = '$'): AuxBlock {
  const o = readExactObject(value, path, AUXBLOCK_FIELDS);
  const rawHash = (v: unknown, p: string): Hex => `0x${bytesToHex(hexPlain(v, p, 32))}`;
  const bits = readString(o.bits, `${path}.bits`, 'a hex string');
  if (!COMPACT_HEX.test(bits))
    fail(`${path}.bits`, 'expected lowercase hex of a u32 without 0x and without leading zeros');
  return {
    hash: rawHash(o.hash, `${path}.hash`),
    chainId: readInteger(o.chainid, `${path}.chainid`, 'u32'),
    previousBlockHash: rawHash(o.previousblockhash, `${path}.previousblockhash`),
    coinbaseValue: readInteger(o.coinbasevalue, `${path}.coinbasevalue`, 'u64'),
    bits: parseInt(bits, 16),
    height: readInteger(o.height, `${path}.height`, 'u64'),
    target: BigInt(`0x${bytesToHex(hexPlain(o._target, `${path}._target`, 32))}`),
  };
}

export function encodeAuxBlockJson(a: AuxBlock, path = '$'): JsonObject {
  const raw = (h: Hex, p: string): string => checkHex0x(h, p, 32).slice(2);
  if (typeof a.target !== 'bigint' || a.target < 0n || a.target > U256_MAX)
    throw encodeError(`${path}._target`, 'not a u256');
  return {
    _target: a.target.toString(16).padStart(64, '0'),
    bits: numberOut(a.bits, `${path}.bits`, 0, U32_MAX, 'u32').toString(16),
    chainid: numberOut(a.chainId, `${path}.chainid`, 0, U32_MAX, 'u32'),
    coinbasevalue: numberOut(a.coinbaseValue, `${path}.coinbasevalue`, 0, Number.MAX_SAFE_INTEGER, 'u64'),
    hash: raw(a.hash, `${path}.hash`),
    height: numberOut(a.height, `${path}.height`, 0, Number.MAX_SAFE_INTEGER, 'u64'),
    previousblockhash: raw(a.previousBlockHash, `${path}.previousblockhash`),
  };
}
