/**
 * MetricsActor: the node's Prometheus text (runtime metrics of every actor plus the node's own:
 * head, finalized, sync rate, source scores) and a snapshot for `status()`.
 */
import { defineActor } from '../../actors/actor.js';
import type { MetricsRegistry } from '../../actors/metrics.js';
import type { NodeEventMessage } from '../events.js';

export type MetricsMsg = NodeEventMessage | { type: 'render' } | { type: 'snapshot' };

export interface MetricsSnapshot {
  head: number;
  finalized: number;
  syncRate: number;
  syncTarget: number;
  sources: Record<string, { score: number; banned: boolean }>;
}

export const MetricsActor = defineActor<
  MetricsMsg,
  { event: void; render: string; snapshot: MetricsSnapshot },
  { registry: MetricsRegistry }
>({
  name: 'metrics',
  create({ registry }) {
    const snap: MetricsSnapshot = { head: 0, finalized: 0, syncRate: 0, syncTarget: 0, sources: {} };
    const head = registry.gauge('alys_light_head', 'Verified head block number');
    const finalized = registry.gauge('alys_light_finalized', 'Highest block finalized by a verified AuxPoW range');
    const rate = registry.gauge('alys_light_sync_rate', 'Verified blocks per second (moving average)');
    const target = registry.gauge('alys_light_sync_target', 'Height the node is syncing to');
    const score = registry.gauge('alys_light_source_score', 'Score of a block source (0 = banned)', ['source']);
    const faults = registry.counter('alys_light_source_faults_total', 'Faults a block source committed', ['source']);
    return {
      handle(msg) {
        if (msg.type === 'render') return registry.render();
        if (msg.type === 'snapshot') return structuredClone(snap);
        const e = msg;
        switch (e.name) {
          case 'head':
            snap.head = (e.data as { number: number }).number;
            head.set(undefined, snap.head);
            return;
          case 'finalized':
            snap.finalized = (e.data as { number: number }).number;
            finalized.set(undefined, snap.finalized);
            return;
          case 'sync': {
            const d = e.data as { rate: number; target: number };
            snap.syncRate = d.rate;
            snap.syncTarget = d.target;
            rate.set(undefined, d.rate);
            target.set(undefined, d.target);
            return;
          }
          case 'source': {
            const d = e.data as { id: string; score: number; banned: boolean };
            snap.sources[d.id] = { score: d.score, banned: d.banned };
            score.set({ source: d.id }, d.score);
            faults.inc({ source: d.id });
            return;
          }
          default:
            return;
        }
      },
    };
  },
});
