import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { fromHex, toHex } from '../../../src/protocol/bytes.js';
import { VerificationError } from '../../../src/protocol/errors.js';
import { encodeBytes, encodeList, RLP_EMPTY_STRING } from '../../../src/protocol/execution/rlp.js';
import {
  bytesToNibbles,
  EMPTY_TRIE_ROOT,
  hexPrefixDecode,
  hexPrefixEncode,
  indexKey,
  MerklePatriciaTrie,
  orderedTrieRoot,
  trieRoot,
  verifyMptProof,
} from '../../../src/protocol/execution/trie.js';
import { expectCheck } from './helpers.js';

const hex = (b: Uint8Array) => toHex(b);

// Keys over a tiny alphabet and of small, varying length, so that shared prefixes, keys that are
// prefixes of other keys (branch values), extensions and inline nodes all occur often.
const keyArb = fc.uint8Array({ minLength: 0, maxLength: 4 }).map((k) => k.map((b) => [0x00, 0x01, 0x10, 0xff][b & 3]!));
const valueArb = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 3 }),
  fc.uint8Array({ minLength: 1, maxLength: 60 }),
);
const entriesArb = fc.uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([k]) => hex(k), maxLength: 40 });

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function insertAll(entries: readonly (readonly [Uint8Array, Uint8Array])[]): MerklePatriciaTrie {
  const t = new MerklePatriciaTrie();
  for (const [k, v] of entries) t.put(k, v);
  return t;
}

describe('constants and hex-prefix encoding', () => {
  it('the empty trie root is keccak(rlp("")) = the constant of alys-protocol.md 5.2', () => {
    expect(hex(EMPTY_TRIE_ROOT)).toBe('0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421');
    expect(orderedTrieRoot([])).toEqual(EMPTY_TRIE_ROOT);
    expect(trieRoot([])).toEqual(EMPTY_TRIE_ROOT);
    expect(new MerklePatriciaTrie().root()).toEqual(EMPTY_TRIE_ROOT);
  });

  it('hex-prefix examples of the Yellow Paper appendix C / Patricia-tree spec', () => {
    expect(hex(hexPrefixEncode(Uint8Array.of(1, 2, 3, 4, 5), false))).toBe('0x112345');
    expect(hex(hexPrefixEncode(Uint8Array.of(0, 1, 2, 3, 4, 5), false))).toBe('0x00012345');
    expect(hex(hexPrefixEncode(Uint8Array.of(0, 0xf, 1, 0xc, 0xb, 8), true))).toBe('0x200f1cb8');
    expect(hex(hexPrefixEncode(Uint8Array.of(0xf, 1, 0xc, 0xb, 8), true))).toBe('0x3f1cb8');
    expect(hex(hexPrefixEncode(new Uint8Array(0), true))).toBe('0x20');
  });

  it('hex-prefix round-trips and rejects malformed encodings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.boolean(), (bytes, leaf) => {
        const nibbles = bytesToNibbles(bytes).subarray(bytes.length % 2);
        const decoded = hexPrefixDecode(hexPrefixEncode(nibbles, leaf));
        expect(decoded).toEqual({ nibbles, isLeaf: leaf });
      }),
    );
    expect(hexPrefixDecode(new Uint8Array(0))).toBeNull();
    expect(hexPrefixDecode(Uint8Array.of(0x40))).toBeNull(); // flag 4
    expect(hexPrefixDecode(Uint8Array.of(0x01, 0x23))).toBeNull(); // even path with non-zero padding nibble
    expect(hexPrefixDecode(Uint8Array.of(0x21))).toBeNull();
  });

  it('indexKey is rlp(i)', () => {
    expect(hex(indexKey(0))).toBe('0x80');
    expect(hex(indexKey(1))).toBe('0x01');
    expect(hex(indexKey(127))).toBe('0x7f');
    expect(hex(indexKey(128))).toBe('0x8180');
    expect(hex(indexKey(256))).toBe('0x820100');
  });
});

describe('trie construction: two independent builders agree', () => {
  it('trieRoot is independent of entry order and equals the insertion-built trie in any insertion order', () => {
    fc.assert(
      fc.property(entriesArb, fc.integer(), fc.integer(), (entries, seedA, seedB) => {
        const root = trieRoot(shuffled(entries, seedA));
        expect(trieRoot(shuffled(entries, seedB))).toEqual(root);
        expect(insertAll(shuffled(entries, seedB)).root()).toEqual(root);
      }),
      { numRuns: 400 },
    );
  });

  it('orderedTrieRoot equals the keyed trie of {rlp(i) -> item} (also across the 128-item key-length boundary)', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 300 }), fc.integer(), (items, seed) => {
        const root = orderedTrieRoot(items);
        const keyed = items.map((v, i) => [indexKey(i), v] as const);
        expect(trieRoot(keyed)).toEqual(root);
        expect(insertAll(shuffled(keyed, seed)).root()).toEqual(root);
      }),
      { numRuns: 60 },
    );
  });

  it('overwriting a key in the insertion trie equals building with the final value', () => {
    fc.assert(
      fc.property(entriesArb, valueArb, (entries, replacement) => {
        fc.pre(entries.length > 0);
        const t = insertAll(entries);
        t.put(entries[0]![0], replacement);
        const final = entries.map(([k, v], i) => [k, i === 0 ? replacement : v] as const);
        expect(t.root()).toEqual(trieRoot(final));
        expect(t.get(entries[0]![0])).toEqual(replacement);
      }),
    );
  });

  it('refuses duplicate keys and empty values', () => {
    expect(() =>
      trieRoot([
        [Uint8Array.of(1), Uint8Array.of(1)],
        [Uint8Array.of(1), Uint8Array.of(2)],
      ]),
    ).toThrow(RangeError);
    expect(() => trieRoot([[Uint8Array.of(1), new Uint8Array(0)]])).toThrow(RangeError);
    expect(() => orderedTrieRoot([new Uint8Array(0)])).toThrow(RangeError);
    expect(() => new MerklePatriciaTrie().put(Uint8Array.of(1), new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('proofs', () => {
  it('every present key proves its value, in geth style and with inline nodes repeated', () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        const t = insertAll(entries);
        const root = t.root();
        for (const [k, v] of entries) {
          expect(t.get(k)).toEqual(v);
          expect(verifyMptProof(root, k, t.prove(k))).toEqual(v);
          expect(verifyMptProof(root, k, t.prove(k, { includeInlineNodes: true }))).toEqual(v);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('absent keys prove absence (null)', () => {
    fc.assert(
      fc.property(entriesArb, fc.array(keyArb, { maxLength: 10 }), (entries, probes) => {
        const t = insertAll(entries);
        const root = t.root();
        const present = new Set(entries.map(([k]) => hex(k)));
        for (const k of probes) {
          if (present.has(hex(k))) continue;
          expect(t.get(k)).toBeUndefined();
          expect(verifyMptProof(root, k, t.prove(k))).toBeNull();
          expect(verifyMptProof(root, k, t.prove(k, { includeInlineNodes: true }))).toBeNull();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('32-byte hashed keys (account/storage tries): presence and absence', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uint8Array({ minLength: 4, maxLength: 4 }), { selector: hex, maxLength: 60 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        (seeds, probe) => {
          const t = new MerklePatriciaTrie();
          for (const s of seeds) t.put(keccak_256(s), encodeBytes(s));
          const root = t.root();
          for (const s of seeds)
            expect(verifyMptProof(root, keccak_256(s), t.prove(keccak_256(s)))).toEqual(encodeBytes(s));
          if (!seeds.some((s) => hex(s) === hex(probe)))
            expect(verifyMptProof(root, keccak_256(probe), t.prove(keccak_256(probe)))).toBeNull();
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the empty trie: empty proof or the single node rlp("") prove absence; anything else is rejected', () => {
    expect(verifyMptProof(EMPTY_TRIE_ROOT, Uint8Array.of(1), [])).toBeNull();
    expect(verifyMptProof(EMPTY_TRIE_ROOT, Uint8Array.of(1), [RLP_EMPTY_STRING])).toBeNull();
    expectCheck(
      () => verifyMptProof(EMPTY_TRIE_ROOT, Uint8Array.of(1), [RLP_EMPTY_STRING, RLP_EMPTY_STRING]),
      'mpt.proof',
    );
    expectCheck(() => verifyMptProof(keccak_256(Uint8Array.of(1)), Uint8Array.of(1), []), 'mpt.proof');
    // rlp([]) is not a trie node, although it decodes
    expectCheck(
      () => verifyMptProof(keccak_256(Uint8Array.of(0xc0)), Uint8Array.of(1), [Uint8Array.of(0xc0)]),
      'mpt.proof',
    );
    expectCheck(() => verifyMptProof(EMPTY_TRIE_ROOT, Uint8Array.of(1), [Uint8Array.of(0xc0)]), 'mpt.proof');
  });

  type Mutation =
    | { kind: 'flip'; node: number; byte: number; bit: number }
    | { kind: 'drop'; node: number }
    | { kind: 'extra'; node: number }
    | { kind: 'junk'; bytes: Uint8Array }
    | { kind: 'swap'; a: number; b: number }
    | { kind: 'truncate'; node: number };
  const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      node: fc.nat(),
      byte: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({ kind: fc.constant('drop' as const), node: fc.nat() }),
    fc.record({ kind: fc.constant('extra' as const), node: fc.nat() }),
    fc.record({ kind: fc.constant('junk' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
    fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
    fc.record({ kind: fc.constant('truncate' as const), node: fc.nat() }),
  );

  function mutate(proof: Uint8Array[], m: Mutation): Uint8Array[] | null {
    const p = proof.map((n) => n.slice());
    const n = p.length;
    switch (m.kind) {
      case 'flip': {
        if (n === 0) return null;
        const node = p[m.node % n]!;
        node[m.byte % node.length]! ^= 1 << m.bit;
        return p;
      }
      case 'drop':
        if (n === 0) return null;
        p.splice(m.node % n, 1);
        return p;
      case 'extra':
        if (n === 0) return null;
        p.push(p[m.node % n]!);
        return p;
      case 'junk':
        p.push(m.bytes.slice());
        return p;
      case 'swap': {
        if (n < 2 || m.a % n === m.b % n || hex(p[m.a % n]!) === hex(p[m.b % n]!)) return null;
        [p[m.a % n], p[m.b % n]] = [p[m.b % n]!, p[m.a % n]!];
        return p;
      }
      case 'truncate': {
        if (n === 0) return null;
        const i = m.node % n;
        p[i] = p[i]!.subarray(0, p[i]!.length - 1);
        return p;
      }
    }
  }

  it('any single mutation of a (geth-style) proof is rejected, for present and absent keys', () => {
    fc.assert(
      fc.property(entriesArb, keyArb, mutationArb, fc.boolean(), (entries, probe, m, usePresent) => {
        const t = insertAll(entries);
        const key = usePresent && entries.length > 0 ? entries[0]![0] : probe;
        const proof = t.prove(key);
        const bad = mutate(proof, m);
        fc.pre(bad !== null);
        let error: unknown;
        try {
          verifyMptProof(t.root(), key, bad!);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(VerificationError);
        expect((error as VerificationError).check).toBe('mpt.proof');
      }),
      { numRuns: 1500 },
    );
  });

  it('a proof for one key does not prove a different value for another key', () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        fc.pre(entries.length >= 2);
        const t = insertAll(entries);
        const [[k0], [k1, v1]] = entries as [[Uint8Array, Uint8Array], [Uint8Array, Uint8Array]];
        let result: Uint8Array | null | undefined;
        try {
          result = verifyMptProof(t.root(), k1, t.prove(k0));
        } catch (e) {
          expect(e).toBeInstanceOf(VerificationError);
          return;
        }
        // If the walk succeeds (the proofs share every node k1 needs), it can only report k1's true value.
        expect(result === null ? null : hex(result)).toBe(hex(v1));
      }),
      { numRuns: 300 },
    );
  });
});

describe('proof walker strictness (non-canonical tries that hash correctly are refused)', () => {
  const hp = (nibbles: number[], leaf: boolean) => encodeBytes(hexPrefixEncode(Uint8Array.from(nibbles), leaf));
  const leaf = (nibbles: number[], value: Uint8Array) => encodeList([hp(nibbles, true), encodeBytes(value)]);
  const branch = (slots: Record<number, Uint8Array>, value?: Uint8Array) => {
    const items: Uint8Array[] = [];
    for (let i = 0; i < 16; i++) items.push(slots[i] ?? RLP_EMPTY_STRING);
    items.push(value ? encodeBytes(value) : RLP_EMPTY_STRING);
    return encodeList(items);
  };
  const hashRef = (node: Uint8Array) => encodeBytes(keccak_256(node));
  const key = Uint8Array.of(0x12); // nibbles 1, 2

  it('accepts a well-formed small trie (sanity check for the fixtures below)', () => {
    const b = branch({ 1: leaf([2], Uint8Array.of(7)), 3: leaf([2], Uint8Array.of(8)) });
    expect(verifyMptProof(keccak_256(b), key, [b])).toEqual(Uint8Array.of(7));
    expect(verifyMptProof(keccak_256(b), Uint8Array.of(0x22), [b])).toBeNull();
  });

  it('rejects a branch with a single entry', () => {
    const b = branch({ 1: leaf([2], Uint8Array.of(7)) });
    expectCheck(() => verifyMptProof(keccak_256(b), key, [b]), 'mpt.proof');
  });

  it('rejects an extension whose child is not a branch', () => {
    const e = encodeList([hp([1], false), leaf([2], Uint8Array.of(7))]);
    expectCheck(() => verifyMptProof(keccak_256(e), key, [e]), 'mpt.proof');
  });

  it('rejects a child under 32 bytes referenced by hash', () => {
    const small = leaf([2], Uint8Array.of(7));
    const b = branch({ 1: hashRef(small), 3: leaf([2], Uint8Array.of(8)) });
    expectCheck(() => verifyMptProof(keccak_256(b), key, [b, small]), 'mpt.proof');
  });

  it('rejects an inline child of 32 bytes or more', () => {
    const big = leaf([2], new Uint8Array(40).fill(9));
    const b = branch({ 1: big, 3: leaf([2], Uint8Array.of(8)) });
    expectCheck(() => verifyMptProof(keccak_256(b), key, [b]), 'mpt.proof');
  });

  it('rejects a leaf with an empty value, a bad hex-prefix flag, and wrong-length child hashes', () => {
    const emptyLeaf = encodeList([hp([1, 2], true), RLP_EMPTY_STRING]);
    expectCheck(() => verifyMptProof(keccak_256(emptyLeaf), key, [emptyLeaf]), 'mpt.proof');
    const badFlag = encodeList([encodeBytes(Uint8Array.of(0x40, 0x12)), encodeBytes(Uint8Array.of(1))]);
    expectCheck(() => verifyMptProof(keccak_256(badFlag), key, [badFlag]), 'mpt.proof');
    const shortRef = branch({ 1: encodeBytes(new Uint8Array(31)), 3: leaf([2], Uint8Array.of(8)) });
    expectCheck(() => verifyMptProof(keccak_256(shortRef), key, [shortRef]), 'mpt.proof');
  });

  it('rejects nodes that are not lists of 2 or 17 items, and non-RLP nodes', () => {
    const three = encodeList([
      encodeBytes(Uint8Array.of(1)),
      encodeBytes(Uint8Array.of(2)),
      encodeBytes(Uint8Array.of(3)),
    ]);
    expectCheck(() => verifyMptProof(keccak_256(three), key, [three]), 'mpt.proof');
    const garbage = fromHex('c3646f');
    expectCheck(() => verifyMptProof(keccak_256(garbage), key, [garbage]), 'mpt.proof');
  });

  it('accepts an inline node repeated as its own proof element, but not a wrong repeat', () => {
    const inner = branch({ 2: leaf([], Uint8Array.of(5)), 4: leaf([], Uint8Array.of(6)) });
    expect(inner.length).toBeLessThan(32);
    // The leaf under slot 3 is over 32 bytes, so it is referenced by hash.
    const bigLeaf = leaf([2], new Uint8Array(40).fill(1));
    const root2 = branch({ 1: inner, 3: hashRef(bigLeaf) });
    expect(verifyMptProof(keccak_256(root2), key, [root2])).toEqual(Uint8Array.of(5));
    expect(verifyMptProof(keccak_256(root2), key, [root2, inner])).toEqual(Uint8Array.of(5));
    const wrong = inner.slice();
    wrong[wrong.length - 1]! ^= 1;
    expectCheck(() => verifyMptProof(keccak_256(root2), key, [root2, wrong]), 'mpt.proof');
  });

  it('uses the caller-supplied check name', () => {
    expectCheck(
      () => verifyMptProof(EMPTY_TRIE_ROOT, key, [Uint8Array.of(1)], 'getproof.account-proof'),
      'getproof.account-proof',
    );
  });
});
