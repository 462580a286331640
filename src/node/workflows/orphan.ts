/**
 * Orphan resolution (pure decisions): a block whose parent the chain does not know is an orphan.
 * Before blaming the source that served it, the SyncActor fetches its ancestors from that source,
 * one by one (newest first, each verified in full), and offers them to the ChainActor as fork
 * blocks, until they link to a chain the node knows or `MAX_ANCESTORS` were fetched.
 */
import type { Hex } from '../../protocol/bytes.js';
import type { VerifyResult } from '../verify/verify-response.js';
import type { ImportItem } from './block-import.js';
import type { FaultReport } from './scores.js';
import { faultOfBadBlock } from './sync-outcomes.js';

/** An orphan being resolved: its height, who served it, and the ancestors fetched so far (oldest first). */
export interface Orphan {
  height: number;
  source: string;
  /** The hash to fetch next (the oldest fetched block's parent). */
  want: Hex;
  ancestors: ImportItem[];
}

/** How far back an orphan's ancestors are fetched before its source is blamed. */
export const MAX_ANCESTORS = 64;

/** The height of the ancestor `orphan.want` names. */
export function wantedHeight(orphan: Orphan): number {
  return orphan.height - 1 - orphan.ancestors.length;
}

/**
 * A fetched ancestor came back from the verifier: the orphan with it added (offer the ancestors to
 * the chain next), or, if it failed verification, the fault that ends the resolution.
 */
export function addAncestor(orphan: Orphan, result: VerifyResult): { next: Orphan } | { blame: FaultReport } {
  if (!result.ok) return { blame: faultOfBadBlock(result, `ancestor ${orphan.want} of orphan block ${orphan.height}`) };
  return {
    next: {
      ...orphan,
      want: result.summary.parentHash,
      ancestors: [{ summary: result.summary, block: result.block, source: result.source }, ...orphan.ancestors],
    },
  };
}

/**
 * The chain answered the offered ancestors: resume the sync at the orphan (blaming its source if
 * `blame` is set), or fetch the next ancestor.
 */
export function afterLinking(
  orphan: Orphan,
  outcome: 'linked' | 'unknown-parent' | 'error',
): { resume: true; blame?: FaultReport } | { resume: false } {
  // linked: the orphan is on a fork we now know, import it again; error: our own actor failed, retry and blame nobody
  if (outcome === 'linked' || outcome === 'error') return { resume: true };
  if (orphan.ancestors.length >= MAX_ANCESTORS)
    return {
      resume: true,
      blame: {
        kind: 'invalid',
        reason: `orphan block ${orphan.height}: no ancestor within ${MAX_ANCESTORS} blocks links to our chain`,
      },
    };
  return { resume: false };
}
