/** Actors of the runtime demo (`npm start` until the light node exists). Used in-thread and in a worker. */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { defineActor } from '../../actors/index.js';

export type HasherMsg = { type: 'hash'; data: string } | { type: 'crash' } | { type: 'count' };

/** Hashes strings (stands in for verification work that belongs off the main thread). */
export const Hasher = defineActor<HasherMsg, { hash: string; crash: never; count: number }>({
  name: 'hasher',
  create() {
    let count = 0;
    return {
      handle(msg, ctx) {
        switch (msg.type) {
          case 'hash': {
            count++;
            const digest = bytesToHex(sha256(new TextEncoder().encode(msg.data)));
            ctx.publish('hashed', { type: 'hashed', digest });
            return digest;
          }
          case 'count':
            return count;
          case 'crash':
            throw new Error('injected fault');
        }
      },
    };
  },
});

export type CollectorMsg = { type: 'hashed'; digest: string } | { type: 'seen' };

/** Subscribes to `hashed` events on the bus. */
export const Collector = defineActor<CollectorMsg, { hashed: void; seen: number }>({
  name: 'collector',
  create() {
    let seen = 0;
    return {
      handle(msg) {
        if (msg.type === 'hashed') seen++;
        else return seen;
      },
    };
  },
});
