/**
 * The FederationActor's stored record: the authority set changes applied so far, so a restart
 * verifies blocks on both sides of a change without waiting for the governance stream again.
 *
 *   x/federation      sha256(json) || json, json = { v: 1, spec: <spec fingerprint>, changes: [...] }
 *
 * Read back, the record is not trusted: its size is bounded, its checksum, version and spec
 * fingerprint must match, and every change is checked again (form and strictly increasing
 * heights; the FederationActor then prepares the keys). Any failure is a
 * {@link FederationRecordError} and the record is dropped, never partly used.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  checkAuthoritySetChange,
  MAX_AUTHORITY_CHANGES,
  type AuthoritySetChange,
} from '../../protocol/authority-schedule.js';
import { concatBytes, equalBytes, type Hex } from '../../protocol/bytes.js';
import { FederationRecordError } from '../errors.js';
import { OTHER_RECORDS } from './block-store.js';

export const FEDERATION_RECORD_KEY = `${OTHER_RECORDS}federation`;
/** A record larger than this is refused unread (1,024 changes of 15 keys fit well below it). */
export const MAX_FEDERATION_RECORD_BYTES = 4 * 1024 * 1024;
const VERSION = 1;

export { FederationRecordError };

export function encodeFederationRecord(spec: Hex, changes: readonly AuthoritySetChange[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ v: VERSION, spec, changes }));
  return concatBytes(sha256(json), json);
}

function parseBody(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length < 33) throw new FederationRecordError('truncated');
  if (bytes.length > MAX_FEDERATION_RECORD_BYTES)
    throw new FederationRecordError(`${bytes.length} bytes, more than ${MAX_FEDERATION_RECORD_BYTES}`);
  const json = bytes.subarray(32);
  if (!equalBytes(sha256(json), bytes.subarray(0, 32))) throw new FederationRecordError('checksum mismatch');
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    throw new FederationRecordError('not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new FederationRecordError('not an object');
  return body as Record<string, unknown>;
}

/** The changes of a stored record made under spec fingerprint `spec`. Throws FederationRecordError. */
export function decodeFederationRecord(bytes: Uint8Array, spec: Hex): AuthoritySetChange[] {
  const body = parseBody(bytes);
  if (body.v !== VERSION) throw new FederationRecordError(`unknown version ${JSON.stringify(body.v)}`);
  if (body.spec !== spec) throw new FederationRecordError(`made under another chain spec (${String(body.spec)})`);
  const list = body.changes;
  if (!Array.isArray(list) || list.length > MAX_AUTHORITY_CHANGES)
    throw new FederationRecordError(`expected a list of at most ${MAX_AUTHORITY_CHANGES} changes`);
  let after = 0;
  return list.map((c, i) => {
    try {
      const checked = checkAuthoritySetChange(c, after, `changes[${i}]`);
      after = checked.effectiveHeight;
      return checked;
    } catch (e) {
      throw new FederationRecordError((e as Error).message);
    }
  });
}
