/**
 * Log filters applied locally to verified receipts (geth's matching rules), and the bloom pre-filter
 * that skips blocks whose verified logsBloom cannot contain a match (so their receipts are never fetched).
 */
import { parseHex, toHex, type Hex } from '../../protocol/bytes.js';
import { DecodeError } from '../../protocol/errors.js';
import { bloomMayContain, type Log } from '../../protocol/execution/index.js';
import type { LogFilter } from './types.js';

/** A filter with its values as bytes and lowercase hex. `topics[i] === null` is a wildcard. */
export interface CompiledLogFilter {
  addresses: Uint8Array[];
  addressSet: Set<Hex>;
  topics: ({ bytes: Uint8Array[]; set: Set<Hex> } | null)[];
}

function hexList(value: Hex | readonly Hex[], path: string, length: number): Uint8Array[] {
  const list: readonly unknown[] = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) && typeof value !== 'string')
    throw new DecodeError(path, 'expected a hex string or a list of them');
  return list.map((v, i) =>
    parseHex(v, typeof value === 'string' ? path : `${path}[${i}]`, { prefix: 'required', length }),
  );
}

/** Validate and compile a filter (never writes to the input). Throws DecodeError naming the bad field. */
export function compileLogFilter(filter: LogFilter): CompiledLogFilter {
  const addresses =
    filter.address === undefined || filter.address === null ? [] : hexList(filter.address, 'filter.address', 20);
  const topicsIn = filter.topics ?? [];
  if (!Array.isArray(topicsIn)) throw new DecodeError('filter.topics', 'expected a list');
  if (topicsIn.length > 4) throw new DecodeError('filter.topics', `at most 4 topic positions, got ${topicsIn.length}`);
  const topics = topicsIn.map((t, i) => {
    if (t === null || t === undefined) return null;
    const bytes = hexList(t, `filter.topics[${i}]`, 32);
    // geth: an empty list at a position is a wildcard.
    if (bytes.length === 0) return null;
    return { bytes, set: new Set(bytes.map(toHex)) };
  });
  return { addresses, addressSet: new Set(addresses.map(toHex)), topics };
}

/** Whether a block with this verified bloom may hold a matching log (false = certainly not). */
export function bloomMayMatch(bloom: Uint8Array, f: CompiledLogFilter): boolean {
  if (f.addresses.length > 0 && !f.addresses.some((a) => bloomMayContain(bloom, a))) return false;
  for (const t of f.topics) if (t !== null && !t.bytes.some((b) => bloomMayContain(bloom, b))) return false;
  return true;
}

export function logMatches(log: Log, f: CompiledLogFilter): boolean {
  if (f.addressSet.size > 0 && !f.addressSet.has(toHex(log.address))) return false;
  if (f.topics.length > log.topics.length) return false;
  for (let i = 0; i < f.topics.length; i++) {
    const t = f.topics[i];
    if (t !== null && t !== undefined && !t.set.has(toHex(log.topics[i]!))) return false;
  }
  return true;
}
