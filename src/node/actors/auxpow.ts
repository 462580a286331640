/**
 * AuxPowActor: tracks the PoW blocks the node verified - their ranges, the bits they carry, the
 * retarget that the next PoW must meet - and the finalized range. It listens to the ChainActor's
 * `node.pow` notifications.
 */
import { defineActor } from '../../actors/actor.js';
import { nextWorkRequired } from '../../protocol/auxpow/retarget.js';
import type { ChainSpec, Hex } from '../../protocol/types.js';

export interface PowRecord {
  number: number;
  hash: Hex;
  bits: number;
  rangeStart: Hex;
  rangeEnd: Hex;
  finalizedThrough: number;
}

export type AuxPowMsg = { type: 'pow'; record: PowRecord } | { type: 'status'; headNumber: number };

export interface AuxPowReplies {
  pow: void;
  status: { last: PowRecord | null; count: number; nextBits: number; finalizedThrough: number; history: PowRecord[] };
}

export const POW_TOPIC = 'node.pow';

export const AuxPowActor = defineActor<AuxPowMsg, AuxPowReplies, { spec: ChainSpec; history?: number }>({
  name: 'auxpow',
  create({ spec, history = 256 }) {
    const records: PowRecord[] = [];
    let count = 0;
    return {
      handle(msg) {
        if (msg.type === 'pow') {
          if (records.length && records[records.length - 1]!.number >= msg.record.number) return; // replayed after a restart
          records.push(msg.record);
          count++;
          if (records.length > history) records.shift();
          return;
        }
        const last = records[records.length - 1] ?? null;
        const nextBits = nextWorkRequired(
          { blockNumber: last?.number ?? 0, bits: last?.bits ?? spec.bits },
          Math.max(msg.headNumber, last?.number ?? 0),
          spec.retargetParams,
        );
        return { last, count, nextBits, finalizedThrough: last?.finalizedThrough ?? 0, history: records.slice(-16) };
      },
    };
  },
});
