/**
 * Terminal rendering of the node's progress (pure: state in, one line out), used by `alys-light run`
 * and `npm start`. On a TTY the line is redrawn in place; elsewhere (CI, pipes) a line is printed
 * every few seconds.
 */
import type { NodeEvents } from '../node/events.js';

export interface ProgressState {
  sync?: NodeEvents['sync'];
  head?: NodeEvents['head'];
  finalized?: NodeEvents['finalized'];
  /** Sources currently banned or penalised: id -> score. */
  penalised: Map<string, number>;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** `[#########-----------] 45% 9000/20000 blocks  812 blk/s  ETA 13s  head 9000 (0xab12..)  final 8990` */
export function renderProgress(s: ProgressState, width = 24): string {
  const sync = s.sync;
  const current = sync?.current ?? s.head?.number ?? 0;
  const target = Math.max(sync?.target ?? current, current);
  const ratio = target > 0 ? current / target : 1;
  const filled = Math.round(ratio * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const parts = [
    sync?.phase === 'following' ? 'following' : sync?.phase === 'stalled' ? 'STALLED' : 'syncing',
    bar,
    `${Math.floor(ratio * 100)}%`,
    `${current}/${target}`,
  ];
  if (sync && sync.rate > 0 && sync.phase !== 'following') parts.push(`${Math.round(sync.rate)} blk/s`);
  if (sync && sync.etaSeconds !== null && sync.etaSeconds > 0 && sync.phase !== 'following')
    parts.push(`ETA ${duration(sync.etaSeconds)}`);
  if (s.head) parts.push(`head ${s.head.number} (${s.head.hash.slice(0, 10)}..)`);
  if (s.finalized) parts.push(`final ${s.finalized.number}`);
  if (s.penalised.size)
    parts.push(`penalised sources: ${[...s.penalised].map(([id, score]) => `${id}=${score}`).join(' ')}`);
  if (sync?.phase === 'stalled' && sync.detail) parts.push(`(${sync.detail})`);
  return parts.join('  ');
}

/** `verified head 1234 (0xab12cd34..)`: the head a cold start verified, before the start finishes. */
export function renderHead(h: NodeEvents['head']): string {
  return `verified head ${h.number} (${h.hash.slice(0, 10)}..)`;
}

/** `finalized: block 1230 (0xab12cd34..)`: the latest block covered by a verified PoW block. */
export function renderFinalized(f: NodeEvents['finalized']): string {
  return `finalized: block ${f.number} (${f.hash.slice(0, 10)}..)`;
}

/**
 * `history: blocks 1200..head verified, backfilling to 0 at 850 blocks/s`, or once the backfill
 * reached its target, `history: complete from block 0`.
 */
export function renderBackfill(b: NodeEvents['backfill']): string {
  if (b.done) return `history: complete from block ${b.from}`;
  const rate = b.rate > 0 ? ` at ${Math.round(b.rate)} blocks/s` : '';
  return `history: blocks ${b.from}..head verified, backfilling to ${b.target}${rate}`;
}
