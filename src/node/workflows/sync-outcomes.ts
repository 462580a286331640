/**
 * What the answers the SyncActor gets mean for the sync (pure decisions): which source serves a
 * range, whether gossip already brought it, which fault a bad block costs its source, and how the
 * sync goes on after the ChainActor's answer to an import.
 */
import type { VerifyResult } from '../verify/verify-response.js';
import type { ImportFailure, ImportItem } from './block-import.js';
import type { Orphan } from './orphan.js';
import type { FaultReport } from './scores.js';
import type { Request } from './sync-plan.js';

/** The source id of blocks aggregated from gossip (not a NetworkActor source: it is never scored or banned). */
export const GOSSIP_SOURCE = 'gossip';

type BadBlock = Extract<VerifyResult, { ok: false }>;
type GoodBlock = Extract<VerifyResult, { ok: true }>;

/** The fault a block that failed verification costs its source (`what` names the block in the reason). */
export function faultOfBadBlock(bad: BadBlock, what: string): FaultReport {
  return {
    kind: bad.kind === 'missing' ? 'withheld' : bad.kind,
    reason: `${what}: ${bad.check ? `${bad.check}: ` : ''}${bad.message}`,
  };
}

/**
 * The range's blocks if gossip brought every one of them (then no source is asked), else undefined.
 * A range that already failed with gossiped blocks (`avoid` holds GOSSIP_SOURCE) goes to the sources.
 */
export function gossipedRange(
  req: Request,
  gossiped: ReadonlyMap<number, Uint8Array>,
): Array<{ msgpack: Uint8Array }> | undefined {
  if (req.avoid.includes(GOSSIP_SOURCE)) return undefined;
  const heights = Array.from({ length: req.count }, (_, i) => req.start + i);
  if (!heights.every((h) => gossiped.has(h))) return undefined;
  return heights.map((h) => ({ msgpack: gossiped.get(h)! }));
}

/**
 * The source to ask for a range, taking turns (`turn` counts up with every request): among the
 * usable sources that did not fail it and claim a head at or above its end; any usable one if none does.
 */
export function pickSource(
  req: Request,
  usable: readonly string[],
  claimed: ReadonlyMap<string, number>,
  turn: number,
): string {
  const end = req.start + req.count - 1;
  const candidates = usable.filter((id) => !req.avoid.includes(id) && (claimed.get(id) ?? -1) >= end);
  const pool = candidates.length ? candidates : usable;
  return pool[turn % pool.length]!;
}

/**
 * A verified range: every block good, or the height of the first bad one and the fault it costs its
 * source. No fault for gossip (not a scored source), nor for a block missing beyond the head the
 * source claimed (it never said it had it).
 */
export function judgeRange(
  start: number,
  source: string,
  results: readonly VerifyResult[],
  claimed: ReadonlyMap<string, number>,
): { ok: true; blocks: GoodBlock[] } | { ok: false; height: number; fault?: FaultReport } {
  const index = results.findIndex((r) => !r.ok);
  if (index < 0) return { ok: true, blocks: results as GoodBlock[] };
  const bad = results[index] as BadBlock;
  const height = start + index;
  const beyondItsHead = bad.kind === 'missing' && height > (claimed.get(source) ?? -1);
  if (source === GOSSIP_SOURCE || beyondItsHead) return { ok: false, height };
  return { ok: false, height, fault: faultOfBadBlock(bad, `block ${height}`) };
}

/** How the sync goes on after the ChainActor answered an import (`imported`: blocks of the batch it took). */
export type ImportStep =
  /** Request again from height `at`; `blame` served a bad block there (report it, and avoid it for that range). */
  | { kind: 'rewind'; imported: number; at: number; blame?: { source: string; fault: FaultReport } }
  /** The block after the imported ones is an orphan: resolve it before blaming anyone. */
  | { kind: 'orphan'; imported: number; orphan: Orphan }
  /** The whole batch is in; `sources` served it (each earns a success). */
  | { kind: 'done'; imported: number; sources: string[] };

/**
 * The step after an import of `items` from height `start`: `reply` is the ChainActor's answer,
 * undefined if the ask itself failed (our own actor: retry, blame nobody).
 */
export function importStep(
  start: number,
  items: readonly ImportItem[],
  reply: { failure?: ImportFailure } | undefined,
): ImportStep {
  if (!reply) return { kind: 'rewind', imported: 0, at: start };
  const f = reply.failure;
  if (!f) {
    const sources = [...new Set(items.map((i) => i.source))].filter((s) => s !== GOSSIP_SOURCE);
    return { kind: 'done', imported: items.length, sources };
  }
  // the chain is elsewhere (it restarted from storage, or we did): follow it
  if (f.resumeAt !== undefined) return { kind: 'rewind', imported: 0, at: f.resumeAt };
  // a dispute: one of our pending blocks was bad (its source lied); it was dropped
  if (f.rewindTo !== undefined)
    return {
      kind: 'rewind',
      imported: 0,
      at: f.rewindTo,
      blame: { source: f.source, fault: { kind: 'invalid', reason: `block ${f.rewindTo}: ${f.check}: ${f.message}` } },
    };
  // the parent is unknown: fetch its ancestors from the same source before blaming it
  if (f.orphan)
    return {
      kind: 'orphan',
      imported: f.index,
      orphan: { height: f.orphan.number, source: f.source, want: f.orphan.parentHash, ancestors: [] },
    };
  const at = start + f.index;
  return {
    kind: 'rewind',
    imported: f.index,
    at,
    blame: { source: f.source, fault: { kind: 'invalid', reason: `block ${at}: ${f.check}: ${f.message}` } },
  };
}
