/**
 * Peg-out requests on the EVM side (alys-protocol.md section 6.3, [V]; Alys
 * `Bridge::filter_pegouts` in `crates/federation/src/lib.rs`, `contracts/src/Bridge.sol`).
 *
 * The bridge predeploy's `requestPegOut(bytes bitcoinAddress) payable` (selector 0x9911dc74)
 * burns `msg.value` and emits `RequestPegOut(address indexed _evmAddress, bytes _bitcoinAddress,
 * uint256 _value)` (topic0 0xaa1c6070…d5b0). Block N's peg-out proposal must pay what the
 * receipts of block N−1 request:
 *
 * - a receipt whose `to` is set and is not the bridge is skipped; receipts with `to = null`
 *   (contract creations) are NOT skipped, and the emitting contract of a log is never checked;
 * - every log that decodes as RequestPegOut counts; the value becomes `floor(wei / 10^10)` sats
 *   and is kept only if `sats ≥ 1_000_000` and `_bitcoinAddress` is UTF-8 text that parses as a
 *   Bitcoin address of any network (see btcaddress.ts); the result is `(scriptPubKey, sats)` in
 *   receipt/log order.
 *
 * Log decoding follows ethers-rs 2 `EthEvent::decode_log` over ethabi 18's lenient `decode`, not
 * viem's strict decoder, because the two differ on malformed logs (which a contract-creation
 * transaction can emit with this topic0): exactly two topics are required; the indexed address
 * is the low 20 bytes of topic 1 (high bytes ignored); the `bytes` offset and length words must
 * have 28 zero high bytes and the bytes must lie inside the data; padding and trailing data are
 * ignored; the `uint256` is the word at offset 32. For well-formed logs the result equals viem's
 * `decodeEventLog` (tested).
 */
import { bytesToHex, parseHex } from '../bytes.js';
import { DecodeError, ProtocolError } from '../errors.js';
import type { Hex, TxOut } from '../types.js';
import { parseBitcoinAddress } from './btcaddress.js';
import { isValidUtf8 } from './pegin.js';
import { U64_MAX, WEI_PER_SAT } from './units.js';

/** The bridge predeploy (genesis `alloc`), lowercase. */
export const BRIDGE_ADDRESS: Hex = '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
/** Where the bridge sends burned value (and where block fees go before being re-minted). */
export const BURN_ADDRESS: Hex = '0x000000000000000000000000000000000000dead';
/** Canonical signature of the event (no parameter names). */
export const REQUEST_PEGOUT_EVENT_SIGNATURE = 'RequestPegOut(address,bytes,uint256)';
/** keccak256 of {@link REQUEST_PEGOUT_EVENT_SIGNATURE} (spec 6.3). */
export const REQUEST_PEGOUT_TOPIC0: Hex = '0xaa1c6070bc915de33c0fbc36ecf77b1e4fc1ebce832b2da62b6fe25f5a7dd5b0';
/** Selector of `requestPegOut(bytes)` (spec 6.3). */
export const REQUEST_PEGOUT_SELECTOR: Hex = '0x9911dc74';
/** Requests below this many sats are ignored by Alys. */
export const MIN_PEGOUT_SATS = 1_000_000n;

/** The subset of an EVM log this module reads (viem's `Log` fits). */
export interface EvmLog {
  topics: readonly Hex[];
  data: Hex;
}

/** The subset of a transaction receipt this module reads (viem's `TransactionReceipt` fits). */
export interface EvmReceipt {
  /** `null` (or absent) for contract creations. */
  to?: Hex | null;
  logs: readonly EvmLog[];
}

export interface RequestPegOutEvent {
  /** Indexed `_evmAddress`, lowercase. */
  evmAddress: Hex;
  /** `_bitcoinAddress` bytes, as emitted (not necessarily text). */
  bitcoinAddress: Uint8Array;
  /** `_value`, wei. */
  valueWei: bigint;
}

const TOPIC_RE = /^0x[0-9a-fA-F]{64}$/;

function readWord(data: Uint8Array, offset: number): Uint8Array | null {
  return offset + 32 <= data.length ? data.subarray(offset, offset + 32) : null;
}

/** ethabi `as_usize`: the 28 high bytes must be zero; the value fits in 32 bits. */
function wordToOffset(word: Uint8Array): number | null {
  for (let i = 0; i < 28; i++) if (word[i] !== 0) return null;
  return ((word[28]! << 24) >>> 0) + (word[29]! << 16) + (word[30]! << 8) + word[31]!;
}

function wordToBigInt(word: Uint8Array): bigint {
  return BigInt('0x' + bytesToHex(word));
}

/**
 * Decode a log as `RequestPegOut`; `null` if it is not one (wrong topic0 or any decode failure
 * under ethers/ethabi rules). Throws DecodeError only when the log itself is not well-formed
 * JSON-RPC data (topics not 32-byte hex, data not hex).
 */
export function decodeRequestPegOutLog(log: EvmLog, path = 'log'): RequestPegOutEvent | null {
  const topics = log.topics;
  if (!Array.isArray(topics)) throw new DecodeError(`${path}.topics`, 'expected an array of 32-byte hex topics');
  for (let i = 0; i < topics.length; i++)
    if (typeof topics[i] !== 'string' || !TOPIC_RE.test(topics[i]!))
      throw new DecodeError(`${path}.topics[${i}]`, 'expected a 0x-prefixed 32-byte hex topic');
  if (topics.length === 0 || topics[0]!.toLowerCase() !== REQUEST_PEGOUT_TOPIC0) return null;
  const data = parseHex(log.data, `${path}.data`, { prefix: 'required' });
  // One indexed param: ethabi decodes it from the concatenated topics[1..], then ethers
  // requires exactly one token per remaining topic.
  if (topics.length !== 2) return null;
  const evmAddress = `0x${topics[1]!.slice(2 + 24).toLowerCase()}` as Hex;
  // data = abi.encode(bytes, uint256), decoded leniently (ethabi `decode`, validate = false).
  const head0 = readWord(data, 0);
  if (head0 === null) return null;
  const bytesOffset = wordToOffset(head0);
  if (bytesOffset === null) return null;
  const lenWord = readWord(data, bytesOffset);
  if (lenWord === null) return null;
  const len = wordToOffset(lenWord);
  if (len === null) return null;
  const start = bytesOffset + 32;
  if (start + len > data.length) return null;
  const head1 = readWord(data, 32);
  if (head1 === null) return null;
  return { evmAddress, bitcoinAddress: data.slice(start, start + len), valueWei: wordToBigInt(head1) };
}

/** True if the receipt is looked at by `filter_pegouts` (`to` unset, or the bridge). */
export function isBridgeReceipt(receipt: EvmReceipt, path = 'receipt'): boolean {
  if (receipt.to === null || receipt.to === undefined) return true;
  const to = parseHex(receipt.to, `${path}.to`, { prefix: 'required', length: 20 });
  return `0x${bytesToHex(to)}` === BRIDGE_ADDRESS;
}

/** Alys `wei_to_sats` for a request; throws where Alys's `as_u64()` would panic. */
function requestSats(valueWei: bigint): bigint {
  const sats = valueWei / WEI_PER_SAT;
  if (sats > U64_MAX)
    throw new ProtocolError(
      'pegout.value-overflow',
      `a RequestPegOut value of ${valueWei} wei is more than u64 sats; Alys panics on this log`,
    );
  return sats;
}

/**
 * The Bitcoin outputs Alys requires for the peg-out requests in `receipts` (the receipts of the
 * parent EL block, in block order), exactly as `Bridge::filter_pegouts`.
 */
export function filterPegouts(receipts: readonly EvmReceipt[]): TxOut[] {
  const out: TxOut[] = [];
  receipts.forEach((receipt, r) => {
    const path = `receipts[${r}]`;
    if (!isBridgeReceipt(receipt, path)) return;
    if (!Array.isArray(receipt.logs)) throw new DecodeError(`${path}.logs`, 'expected an array of logs');
    receipt.logs.forEach((log, l) => {
      const event = decodeRequestPegOutLog(log, `${path}.logs[${l}]`);
      if (event === null) return;
      const sats = requestSats(event.valueWei);
      if (sats < MIN_PEGOUT_SATS) return;
      const scriptPubkey = bitcoinAddressScript(event.bitcoinAddress);
      if (scriptPubkey === null) return;
      out.push({ value: sats, scriptPubkey });
    });
  });
  return out;
}

/** Alys `parse_bitcoin_address`: UTF-8 text, then a Bitcoin address of any network → scriptPubKey. */
export function bitcoinAddressScript(addressBytes: Uint8Array): Uint8Array | null {
  if (!isValidUtf8(addressBytes)) return null;
  let text = '';
  for (let i = 0; i < addressBytes.length; i++) {
    const c = addressBytes[i]!;
    // Any non-ASCII character makes both bech32 and base58 parsing fail in rust-bitcoin.
    if (c >= 0x80) return null;
    text += String.fromCharCode(c);
  }
  return parseBitcoinAddress(text)?.scriptPubkey ?? null;
}
