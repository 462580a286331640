/**
 * Alys's gossip message id: SipHash checked against the SipHash paper's reference vectors (2-4, key
 * 00..0f, message 00..n-1), and the message id against Rust's DefaultHasher over a Vec<u8> (answers
 * printed by rustc 1.95: `let mut s = DefaultHasher::new(); data.hash(&mut s); s.finish()`).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gossipMessageId, siphash } from '../../../src/protocol/p2p/msgid.js';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => i);
const seq = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

describe('SipHash', () => {
  it('SipHash-2-4 reference vectors', () => {
    const expected: Array<[number, bigint]> = [
      [0, 0x726fdb47dd0e0e31n],
      [1, 0x74f839c593dc67fdn],
      [2, 0x0d6c8009d9a94f5an],
      [3, 0x85676696d7fb7e2dn],
      [4, 0xcf2794e0277187b7n],
      [5, 0x18765564cd99a68dn],
      [6, 0xcbc9466e58fee3cen],
      [7, 0xab0200f58b01d137n],
      [8, 0x93f5f5799a932462n],
      [9, 0x9e0082df0ba9e4b0n],
      [15, 0xa129ca6149be45e5n],
    ];
    for (const [n, h] of expected) expect(siphash(KEY, seq(n)), `length ${n}`).toBe(h);
  });

  it('refuses a key that is not 16 bytes', () => {
    expect(() => siphash(new Uint8Array(15), seq(1))).toThrow(RangeError);
  });
});

describe('gossip message id (Rust DefaultHasher over Vec<u8>)', () => {
  it('matches rustc', () => {
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array(0), '13646096770106105413'],
      [Uint8Array.of(0), '15877719499815107262'],
      [seq(15), '11862843203135704167'],
      [seq(8), '1337205973107557892'],
      [Uint8Array.from({ length: 100 }, (_, i) => (i * 7 + 3) & 0xff), '1519412029259421885'],
      [Uint8Array.from({ length: 1000 }, (_, i) => (i * 31 + 11) & 0xff), '4674865430389277594'],
      [new TextEncoder().encode('consensus_block'), '3770577208433407204'],
    ];
    for (const [data, id] of cases) expect(gossipMessageId(data), `${data.length} bytes`).toBe(id);
  });

  it('property: a decimal u64, and any change of the data changes it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), (data, i) => {
        const id = gossipMessageId(data);
        expect(id).toMatch(/^(0|[1-9]\d*)$/);
        expect(BigInt(id) < 1n << 64n).toBe(true);
        const changed = data.slice();
        changed[i % data.length]! ^= 1;
        expect(gossipMessageId(changed)).not.toBe(id);
      }),
    );
  });
});
