/**
 * Readers for typed fields of untrusted JSON (a value `JSON.parse` made, or any JS value a caller
 * passes instead): the one family the protocol library, the config and the node use. Each reader
 * takes the value and its JSON path (`$.message.slot`, `$.logs[3].topics`) and either returns the
 * value typed or throws a {@link DecodeError} whose path names the field.
 *
 * Format rules live with their format and are built on these: QUANTITY and DATA in
 * `execution/json.ts`, Lighthouse quoted integers and rust-bitcoin hex in `codec/json.ts`, chain-spec
 * keys in `chainspec.ts`.
 *
 * Objects: the readers accept any object that is not null and not an array (they do not look at its
 * prototype); {@link isPlainObject} is the stricter test for an object literal or a `JSON.parse`
 * result.
 */
import { DecodeError } from './errors.js';

/** A JSON object as the readers see it: string keys, values not yet checked. */
export type JsonRecord = Record<string, unknown>;

/** A short description of a value for "got …" in messages: `null`, `an array`, `a string ("0x12")`, `a number (1.5)`. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing (undefined)';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `a string (${JSON.stringify(value.length > 24 ? `${value.slice(0, 24)}…` : value)})`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value} (${String(value).slice(0, 24)})`;
}

/**
 * An object literal, a `JSON.parse` object or an `Object.create(null)` map: not null, not an array,
 * and no prototype but `Object.prototype` (so not a class instance, `Map`, `Date` or `URL`).
 */
export function isPlainObject(value: unknown): value is JsonRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The problem of a required field that is absent. */
const MISSING = 'missing required field';

/** An object (not null, not an array). `what` names it in the message: `expected ${what}, got …`. */
export function readObject(value: unknown, path: string, what = 'an object'): JsonRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DecodeError(path, `expected ${what}, got ${describeJson(value)}`);
  return value as JsonRecord;
}

/** An object with exactly `fields` as own keys: an unknown key and a missing key are both errors, at `${path}.${key}`. */
export function readExactObject(value: unknown, path: string, fields: readonly string[]): JsonRecord {
  const obj = readObject(value, path);
  for (const key of Object.keys(obj))
    if (!fields.includes(key)) throw new DecodeError(`${path}.${key}`, 'unknown field');
  for (const key of fields) if (!hasField(obj, key)) throw new DecodeError(`${path}.${key}`, MISSING);
  return obj;
}

/** Whether `obj` has `key` as an own property (an inherited `toString` does not count). */
export function hasField(obj: JsonRecord, key: string): boolean {
  return Object.hasOwn(obj, key);
}

/** `obj[key]`, which must be present (not undefined); the error is at `${path}.${key}`. */
export function readField(obj: JsonRecord, key: string, path: string): unknown {
  const value = obj[key];
  if (value === undefined) throw new DecodeError(`${path}.${key}`, MISSING);
  return value;
}

/**
 * An array of at most `max` elements, as a dense copy: `JSON.parse` never makes holes, but a JS
 * caller can, and `map` skips holes (leaving `undefined` for later code to trip on). Holes become
 * `undefined` elements here, which the element readers then refuse with a DecodeError.
 */
export function readArray(value: unknown, path: string, max?: number): unknown[] {
  if (!Array.isArray(value)) throw new DecodeError(path, `expected an array, got ${describeJson(value)}`);
  if (max !== undefined && value.length > max)
    throw new DecodeError(path, `expected at most ${max} elements, got ${value.length}`);
  return Array.from(value);
}

/** `true` or `false`. */
export function readBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new DecodeError(path, `expected true or false, got ${describeJson(value)}`);
  return value;
}

/** A string; `what` names the expected form in the message (`a 0x-prefixed hex string`). Its content is the caller's to check. */
export function readString(value: unknown, path: string, what = 'a string'): string {
  if (typeof value !== 'string') throw new DecodeError(path, `expected ${what}, got ${describeJson(value)}`);
  return value;
}

/** The integer types a JSON number may carry here. `u64` is limited to 2^53−1, the largest integer a JS number holds exactly. */
export type IntegerType = 'u8' | 'u16' | 'u32' | 'i32' | 'u64';

const INTEGER_RANGES: Readonly<Record<IntegerType, readonly [min: number, max: number]>> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffff_ffff],
  i32: [-0x8000_0000, 0x7fff_ffff],
  u64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * A JSON number that is an integer in the range of `type`. A number written `1.0` or `1e0` reads as
 * 1 after `JSON.parse`, so it passes (serde_json would refuse it for an integer field).
 */
export function readInteger(value: unknown, path: string, type: IntegerType): number {
  if (typeof value !== 'number')
    throw new DecodeError(path, `expected a JSON number (${type}), got ${describeJson(value)}`);
  if (!Number.isInteger(value)) throw new DecodeError(path, `expected an integer (${type}), got ${value}`);
  const [min, max] = INTEGER_RANGES[type];
  if (value > Number.MAX_SAFE_INTEGER && max === Number.MAX_SAFE_INTEGER)
    throw new DecodeError(path, `${value} is above 2^53−1, which a JS number cannot hold exactly`);
  if (value < min || value > max) throw new DecodeError(path, `${value} does not fit a ${type} (${min}..${max})`);
  return value;
}
