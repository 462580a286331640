/**
 * BridgeActor: where peg-ins and peg-outs stand, from the verified blocks: which block minted a
 * Bitcoin deposit (spec 5.3, 6.2), which block proposed a peg-out payment and which PoW block
 * finalized it (spec 6.4). It reads the verified blocks with peg activity that the ChainActor
 * announces on `node.bridge`.
 */
import { defineActor } from '../../actors/actor.js';
import { toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { txid } from '../../protocol/bitcoin/tx.js';
import { decodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';

export const BRIDGE_TOPIC = 'node.bridge';

export type BridgeMsg =
  | { type: 'block'; number: number; block: Uint8Array }
  | { type: 'pegin'; txid: string }
  | { type: 'pegout'; txid: string }
  | { type: 'summary' };

export interface BridgeReplies {
  block: void;
  pegin: { status: 'unknown' | 'minted'; block?: number };
  pegout: { status: 'unknown' | 'proposed' | 'finalized'; proposedIn?: number; finalizedIn?: number };
  summary: { pegins: number; proposals: number; finalized: number };
}

export const BridgeActor = defineActor<BridgeMsg, BridgeReplies, { maxEntries?: number }>({
  name: 'bridge',
  create({ maxEntries = 100_000 }) {
    const pegins = new Map<string, number>();
    const proposed = new Map<string, number>();
    const finalized = new Map<string, number>();
    const bound = (m: Map<string, number>) => {
      if (m.size > maxEntries) m.delete(m.keys().next().value!);
    };
    return {
      handle(msg) {
        switch (msg.type) {
          case 'block': {
            const b = decodeSignedBlockMsgpack(msg.block).message;
            for (const [id] of b.pegins) pegins.set(toDisplayHex(id), msg.number), bound(pegins);
            if (b.pegoutPaymentProposal)
              proposed.set(toDisplayHex(txid(b.pegoutPaymentProposal)), msg.number), bound(proposed);
            for (const tx of b.finalizedPegouts) finalized.set(toDisplayHex(txid(tx)), msg.number), bound(finalized);
            return;
          }
          case 'pegin': {
            const n = pegins.get(msg.txid.toLowerCase());
            return n === undefined ? { status: 'unknown' } : { status: 'minted', block: n };
          }
          case 'pegout': {
            const id = msg.txid.toLowerCase();
            const p = proposed.get(id);
            const f = finalized.get(id);
            if (f !== undefined)
              return { status: 'finalized', ...(p !== undefined ? { proposedIn: p } : {}), finalizedIn: f };
            return p === undefined ? { status: 'unknown' } : { status: 'proposed', proposedIn: p };
          }
          case 'summary':
            return { pegins: pegins.size, proposals: proposed.size, finalized: finalized.size };
        }
      },
    };
  },
});
