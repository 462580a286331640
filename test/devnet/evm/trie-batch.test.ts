/**
 * The engine's batch trie update (src/devnet/evm/trie-batch.ts) against ethereumjs's own trie:
 * random batches of puts, updates and deletes (short keys that prefix each other, values short
 * enough to be embedded, hashed 32-byte keys as the state trie has) give the same root after every
 * batch, and ethereumjs reads every key back from the nodes the batch wrote.
 */
import { MerklePatriciaTrie } from '@ethereumjs/mpt';
import { MapDB } from '@ethereumjs/util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keccak256 } from '../../../src/devnet/evm/crypto.js';
import {
  applyTrieBatch,
  EMPTY_TRIE_ROOT_HEX,
  TrieBatchError,
  type TrieOp,
} from '../../../src/devnet/evm/trie-batch.js';
import { bytesToHex } from '../../../src/protocol/bytes.js';

const EMPTY = Uint8Array.from(Buffer.from(EMPTY_TRIE_ROOT_HEX, 'hex'));

function ejsTrie(nodes: Map<string, Uint8Array>, root?: Uint8Array): MerklePatriciaTrie {
  const trie = new MerklePatriciaTrie({ db: new MapDB<string, Uint8Array>(nodes) });
  if (root) trie.root(root);
  return trie;
}

const shortKey = fc.uint8Array({ minLength: 1, maxLength: 3, max: 3 });
const longKey = fc.integer({ min: 0, max: 40 }).map((i) => keccak256(Uint8Array.of(i)));
const value = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.uint8Array({ minLength: 1, maxLength: 80 }));
const op = (key: fc.Arbitrary<Uint8Array>): fc.Arbitrary<TrieOp> =>
  fc.record({ key, value: fc.option(value, { freq: 4, nil: null }) });

async function check(batches: TrieOp[][]): Promise<void> {
  const ejsNodes = new Map<string, Uint8Array>();
  const reference = ejsTrie(ejsNodes);
  const mine = new Map<string, Uint8Array>();
  let root: Uint8Array = EMPTY;
  const expected = new Map<string, Uint8Array>();
  for (const batch of batches) {
    for (const o of batch) {
      if (o.value === null) {
        await reference.del(o.key);
        expected.delete(bytesToHex(o.key));
      } else {
        await reference.put(o.key, o.value);
        expected.set(bytesToHex(o.key), o.value);
      }
    }
    root = applyTrieBatch(mine, root, batch, keccak256);
    expect(bytesToHex(root)).toBe(bytesToHex(reference.root()));
    // ethereumjs reads the batch's nodes: every key present with its value, deleted ones gone
    const reader = ejsTrie(mine, root);
    for (const o of batch) {
      const got = await reader.get(o.key);
      const want = expected.get(bytesToHex(o.key));
      expect(got === null ? null : bytesToHex(got)).toBe(want === undefined ? null : bytesToHex(want));
    }
  }
}

describe('applyTrieBatch', () => {
  it('property: same roots as ethereumjs after every batch (short prefix keys, embedded nodes, deletes)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op(shortKey), { maxLength: 12 }), { minLength: 1, maxLength: 8 }), check),
      { numRuns: 300 },
    );
  });

  it('property: same roots as ethereumjs for 32-byte hashed keys, as in the state tries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op(longKey), { maxLength: 30 }), { minLength: 1, maxLength: 6 }), check),
      { numRuns: 150 },
    );
  });

  it('empties back to the empty root, and keeps old roots readable', async () => {
    const nodes = new Map<string, Uint8Array>();
    const keys = Array.from({ length: 50 }, (_, i) => keccak256(Uint8Array.of(i)));
    const full = applyTrieBatch(
      nodes,
      EMPTY,
      keys.map((key, i) => ({ key, value: Uint8Array.of(i + 1) })),
      keccak256,
    );
    const empty = applyTrieBatch(
      nodes,
      full,
      keys.map((key) => ({ key, value: null })),
      keccak256,
    );
    expect(bytesToHex(empty)).toBe(EMPTY_TRIE_ROOT_HEX);
    expect(await ejsTrie(nodes, full).get(keys[7]!)).toEqual(Uint8Array.of(8));
    // deleting what is not there changes nothing
    expect(
      bytesToHex(applyTrieBatch(nodes, full, [{ key: keccak256(Uint8Array.of(200)), value: null }], keccak256)),
    ).toBe(bytesToHex(full));
  });

  it('a missing or malformed node is a typed error, not a wrong root', () => {
    const nodes = new Map<string, Uint8Array>();
    const root = applyTrieBatch(
      nodes,
      EMPTY,
      [
        { key: keccak256(Uint8Array.of(1)), value: new Uint8Array(40).fill(7) },
        { key: keccak256(Uint8Array.of(2)), value: new Uint8Array(40).fill(8) },
      ],
      keccak256,
    );
    const missing = new Map<string, Uint8Array>();
    expect(() =>
      applyTrieBatch(missing, root, [{ key: keccak256(Uint8Array.of(3)), value: Uint8Array.of(1) }], keccak256),
    ).toThrow(TrieBatchError);
    const junk = new Map([[bytesToHex(root).slice(2), Uint8Array.of(0xc3, 0x01, 0x02, 0x03)]]);
    expect(() =>
      applyTrieBatch(junk, root, [{ key: keccak256(Uint8Array.of(3)), value: Uint8Array.of(1) }], keccak256),
    ).toThrow(TrieBatchError);
  });
});
