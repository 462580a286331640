/**
 * What the dashboard's Storage card shows, from the node's `storage` events: how this start began
 * (warm-start, cold-start, corrupt, other-spec, checkpoint) stays the headline for the whole run; a
 * damaged block found later (`damaged`, on a read or a load's spot check) is counted beside it rather
 * than replacing it, so the card never claims a start kind the node did not have. Pure; no DOM.
 */
import type { NodeEvents } from '../src/index.js';

type StorageEvent = NodeEvents['storage'];

export interface StorageCard {
  /** The start kind (undefined until the store has been opened). */
  kind: StorageEvent['kind'] | undefined;
  /** The start's detail line. */
  detail: string;
  /** Damaged blocks found since the start (not served; the backfill fetches them again). */
  damaged: number;
  /** The last damage's detail. */
  lastDamage: string | undefined;
}

export const EMPTY_STORAGE_CARD: StorageCard = { kind: undefined, detail: '', damaged: 0, lastDamage: undefined };

/** The card after event `e`. */
export function storageCard(card: StorageCard, e: StorageEvent): StorageCard {
  if (e.kind === 'damaged') return { ...card, damaged: card.damaged + 1, lastDamage: e.detail };
  return { ...card, kind: e.kind, detail: `${e.detail}${e.ms !== undefined ? ` in ${e.ms} ms` : ''}` };
}

/** The card's second line: the start's detail, then the damage count when there is any. */
export function storageCardLine(card: StorageCard): string {
  if (card.damaged === 0) return card.detail;
  const blocks = card.damaged === 1 ? '1 damaged block' : `${card.damaged} damaged blocks`;
  return `${card.detail} · ${blocks} found since (not served, fetched again): ${card.lastDamage}`;
}
