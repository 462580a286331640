/**
 * Properties of the SPV client's verified header window and its confirmation count, on real regtest
 * headers (mined here, verified by `verifyNextHeader`): whatever sequence of competing branches
 * arrives, the window's best chain is the one with most work, `confirmations()` of any block ever
 * seen is `tip - height + 1` exactly when that block is on the best chain and 0 otherwise (so it never
 * exceeds tip + 1 and never counts a block off the best chain), and memory stays within the bound.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderWindow } from '../../../src/node/bridge/header-window.js';
import { confirmationsOn } from '../../../src/node/bridge/spv.js';
import {
  BITCOIN_REGTEST,
  type HeaderChainTip,
  tipFromCheckpoint,
  verifyNextHeader,
} from '../../../src/protocol/bitcoin/chain.js';
import { hashMeetsTarget, toDisplayHex } from '../../../src/protocol/bitcoin/hash.js';
import { encodeHeader, headerHash } from '../../../src/protocol/bitcoin/header.js';
import { decodeCompact } from '../../../src/protocol/bitcoin/pow.js';
import type { BitcoinHeader } from '../../../src/protocol/types.js';

const BITS = 0x207fffff;
const TARGET = decodeCompact(BITS).target;

/** A regtest header on `parent` (nonce searched until the PoW holds); `salt` tells branches apart. */
function mineOn(parent: HeaderChainTip, salt: number): Uint8Array {
  const header: BitcoinHeader = {
    version: 0x20000000,
    prevBlockhash: parent.hash,
    merkleRoot: new Uint8Array(32).fill(salt & 0xff).map((b, i) => (i < 4 ? (salt >>> (8 * i)) & 0xff : b)),
    time: parent.header.time + 600,
    bits: BITS,
    nonce: 0,
  };
  while (!hashMeetsTarget(headerHash(header), TARGET)) header.nonce++;
  return encodeHeader(header);
}

function genesis(): HeaderChainTip {
  const tip0 = { hash: new Uint8Array(32), header: { time: 1_600_000_000 } } as HeaderChainTip;
  const bytes = mineOn(tip0, 0xffff);
  return tipFromCheckpoint({ height: 0, header: bytes, lastNormalBits: BITS }, BITCOIN_REGTEST);
}

const MAX_HEADERS = 12;
const ops = fc.array(fc.record({ depth: fc.nat({ max: MAX_HEADERS - 3 }), length: fc.integer({ min: 1, max: 6 }) }), {
  minLength: 1,
  maxLength: 14,
});

describe('HeaderWindow + confirmations (property)', () => {
  it('confirmations count only blocks on the heaviest verified chain, never more than tip + 1', () => {
    fc.assert(
      fc.property(ops, (steps) => {
        const g = genesis();
        const window = new HeaderWindow([g], { maxHeaders: MAX_HEADERS });
        window.retain(0);
        const model: string[] = [toDisplayHex(g.hash)]; // best chain hashes by height
        const seen: { height: number; blockHash: string }[] = [{ height: 0, blockHash: model[0]! }];
        steps.forEach(({ depth, length }, n) => {
          const tip = window.tip().height;
          const fork = Math.max(window.base(), tip - depth);
          const branch: HeaderChainTip[] = [];
          let t = window.at(fork)!;
          for (let i = 0; i < length; i++) {
            t = verifyNextHeader(t, mineOn(t, n * 16 + i), BITCOIN_REGTEST);
            branch.push(t);
            seen.push({ height: t.height, blockHash: toDisplayHex(t.hash) });
            window.retain(t.height);
          }
          if (t.chainWork > window.tip().chainWork) {
            window.adopt(branch);
            model.splice(fork + 1, model.length, ...branch.map((b) => toDisplayHex(b.hash)));
          }
          const best = window.tip().height;
          expect(best).toBe(model.length - 1);
          expect(toDisplayHex(window.tip().hash)).toBe(model[best]);
          for (const inc of seen) {
            const c = confirmationsOn(window, inc);
            expect(c).toBeLessThanOrEqual(best + 1);
            expect(c).toBe(model[inc.height] === inc.blockHash ? best - inc.height + 1 : 0);
            const inWindow = inc.height >= window.base() && model[inc.height] === inc.blockHash;
            expect(window.heightOf(inc.blockHash)).toBe(inWindow ? inc.height : undefined);
          }
          expect(best - window.base() + 1).toBeLessThanOrEqual(MAX_HEADERS);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('below the window only retained heights keep their hash', () => {
    const g = genesis();
    const window = new HeaderWindow([g], { maxHeaders: 4, maxRetained: 1 });
    let t = g;
    const chain: HeaderChainTip[] = [g];
    for (let i = 1; i <= 10; i++) {
      t = verifyNextHeader(t, mineOn(t, i), BITCOIN_REGTEST);
      chain.push(t);
      if (i === 2 || i === 3) window.retain(i);
      window.adopt([t]);
    }
    expect(window.base()).toBe(7);
    const inc = (h: number) => ({ height: h, blockHash: toDisplayHex(chain[h]!.hash) });
    expect(confirmationsOn(window, inc(3))).toBe(8); // retained (the newest of maxRetained = 1)
    expect(confirmationsOn(window, inc(2))).toBe(0); // dropped: unknown, so not counted
    expect(confirmationsOn(window, inc(1))).toBe(0);
    expect(confirmationsOn(window, inc(7))).toBe(4);
    expect(() => window.adopt([verifyNextHeader(chain[5]!, mineOn(chain[5]!, 99), BITCOIN_REGTEST)])).toThrow(
      RangeError,
    );
  });
});
