/**
 * Strict readers for Ethereum JSON-RPC values (execution-apis encoding rules), each failing with a
 * DecodeError that names the JSON path.
 *
 * - QUANTITY: `0x` + the shortest hex digits ("0x0" for zero; "0x", "0x00", "0x01" are refused):
 *   {@link parseQuantity} reads one (hex -> bigint), {@link toQuantity} writes one (bigint -> hex).
 * - DATA: `0x` + an even number of hex digits, with a fixed byte length where the field has one.
 * Hex digits may be upper or lower case (EIP-55 addresses are mixed case; checksums are not checked).
 *
 * Objects, fields, arrays and booleans are read with the shared readers of `../json-fields.ts`
 * (`readObject`, `readField`, `readArray`, `readBoolean`). Unknown extra object keys are ignored:
 * clients add their own fields (`size`, `totalDifficulty`, …).
 */
import { parseHex, toHex, type Hex } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { readString } from '../json-fields.js';

const QUANTITY = /^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/;

/** Parse a QUANTITY (hex -> bigint) of at most `maxBytes` bytes, refusing non-canonical forms. */
export function parseQuantity(value: unknown, path: string, maxBytes = 32): bigint {
  const text = readString(value, path, 'a hex QUANTITY string');
  if (!QUANTITY.test(text))
    throw new DecodeError(
      path,
      `not a canonical QUANTITY (0x followed by hex digits without leading zeros): ${JSON.stringify(text.slice(0, 24))}`,
    );
  if (text.length - 2 > maxBytes * 2) throw new DecodeError(path, `QUANTITY larger than ${maxBytes} bytes`);
  return BigInt(text);
}

/** Parse a QUANTITY that must fit a safe JS integer (indices). */
export function parseQuantityNumber(value: unknown, path: string): number {
  const n = parseQuantity(value, path, 8);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(path, 'value exceeds 2^53 - 1');
  return Number(n);
}

/** Format a non-negative integer as a QUANTITY (bigint|number -> hex): shortest digits, "0x0" for zero. */
export function toQuantity(n: bigint | number): Hex {
  return `0x${n.toString(16)}`;
}

/**
 * An unsigned 256-bit integer written as hex that may carry leading zeros (signature `r`/`s`,
 * storage values in some clients). Accepts 1..64 hex digits after `0x`.
 */
export function paddedUint(value: unknown, path: string, maxBytes = 32): bigint {
  const text = readString(value, path, 'a hex string');
  if (!/^0x[0-9a-fA-F]+$/.test(text)) throw new DecodeError(path, 'expected 0x followed by hex digits');
  if (text.length - 2 > maxBytes * 2) throw new DecodeError(path, `integer larger than ${maxBytes} bytes`);
  return BigInt(text);
}

/** DATA of exactly `length` bytes (or any length when omitted). */
export function data(value: unknown, path: string, length?: number): Uint8Array {
  return parseHex(value, path, length === undefined ? { prefix: 'required' } : { prefix: 'required', length });
}

/** DATA of exactly `length` bytes, as lowercase Hex. */
export function dataHex(value: unknown, path: string, length?: number): Hex {
  return toHex(data(value, path, length));
}

/** A 20-byte address (case-insensitive; no EIP-55 checksum check). */
export function address(value: unknown, path: string): Uint8Array {
  return data(value, path, 20);
}
