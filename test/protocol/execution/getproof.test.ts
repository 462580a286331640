import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';
import { toHex } from '../../../src/protocol/bytes.js';
import { VerificationError } from '../../../src/protocol/errors.js';
import { computeRpcBlockHash, decodeRpcBlockHeader } from '../../../src/protocol/execution/header.js';
import {
  decodeGetProofResponse,
  EMPTY_CODE_HASH,
  storageSlotBytes,
  verifyAccountProof,
  verifyGetProofResponse,
  verifyStorageProof,
  type GetProofResponse,
} from '../../../src/protocol/execution/proof.js';
import { encodeBytes, encodeList, encodeUint, uintToBytes } from '../../../src/protocol/execution/rlp.js';
import { EMPTY_TRIE_ROOT, MerklePatriciaTrie } from '../../../src/protocol/execution/trie.js';
import { clone, expectCheck, expectDecodeError, flipHexDigit, toQuantity } from './helpers.js';

function expectRejected(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VerificationError);
    expect((e as VerificationError).check).toMatch(/^getproof\./);
    return (e as VerificationError).check;
  }
  throw new Error('expected a VerificationError, nothing was thrown');
}

describeVectors('eth_getProof (eth-getproof.json)', () => {
  const v = loadVectors('eth-getproof.json');
  const cases = v.cases as any[];

  it('covers every case', () => {
    expect(cases.length).toBe(7);
    expect(v.negative_cases.length).toBe(1);
  });

  /** The state root to verify against: from the verified header when the case has one. */
  function trustedStateRoot(c: any): string {
    if (c.block_header) {
      const header = decodeRpcBlockHeader(c.block_header);
      expect(computeRpcBlockHash(header)).toBe(c.block_header.hash);
      expect(toHex(header.stateRoot)).toBe(c.state_root);
    }
    return c.state_root;
  }

  function requestOf(c: any): { address?: `0x${string}`; storageKeys?: `0x${string}`[] } {
    if (!c.request) return {};
    const [address, keys] = c.request.params;
    return { address: address.toLowerCase(), storageKeys: keys };
  }

  for (const c of cases) {
    describe(c.name, () => {
      const response = () => decodeGetProofResponse(clone(c.result));

      it('the header (where present) verifies, and the whole response verifies against its state root', () => {
        const root = trustedStateRoot(c);
        const out = verifyGetProofResponse(root as `0x${string}`, response(), requestOf(c));
        expect(out.account.exists).toBe(true);
        expect(out.account.nonce).toBe(BigInt(c.result.nonce));
        expect(out.account.balance).toBe(BigInt(c.result.balance));
        expect(toHex(out.account.storageHash)).toBe(c.result.storageHash);
        expect(toHex(out.account.codeHash)).toBe(c.result.codeHash);
        expect(out.storage.map((s) => s.value)).toEqual(c.result.storageProof.map((s: any) => BigInt(s.value)));
        expect(c.expected.account_proof_ok).toBe(true);
        expect(c.expected.storage_proofs_ok).toEqual(c.result.storageProof.map(() => true));
      });

      it('verifyAccountProof / verifyStorageProof prove the claimed values', () => {
        const r = response();
        const account = verifyAccountProof(c.state_root, r.address, r.accountProof);
        expect(account.balance).toBe(BigInt(c.result.balance));
        for (const s of r.storageProof) expect(verifyStorageProof(account.storageHash, s.key, s.proof)).toBe(s.value);
      });

      it('a lying endpoint is caught: nonce, balance, codeHash, storageHash, storage values', () => {
        const root = c.state_root;
        const lie = (mutate: (r: GetProofResponse) => void, check: string) => {
          const r = response();
          mutate(r);
          expectCheck(() => verifyGetProofResponse(root, r), check);
        };
        lie((r) => (r.nonce += 1n), 'getproof.nonce');
        if (BigInt(c.result.nonce) > 0n) lie((r) => (r.nonce -= 1n), 'getproof.nonce');
        lie((r) => (r.balance += 1n), 'getproof.balance');
        lie((r) => (r.balance = 0n), 'getproof.balance');
        lie((r) => (r.codeHash[31]! ^= 1), 'getproof.code-hash');
        lie((r) => (r.codeHash = new Uint8Array(32)), 'getproof.code-hash');
        lie((r) => (r.storageHash[0]! ^= 0x80), 'getproof.storage-hash');
        for (let i = 0; i < c.result.storageProof.length; i++) {
          lie((r) => (r.storageProof[i]!.value += 1n), 'getproof.storage-value');
          lie((r) => (r.storageProof[i]!.value = 0n), 'getproof.storage-value');
          // a proof for another slot does not prove this one
          lie((r) => (r.storageProof[i]!.key = storageSlotBytes(123456789n)), 'getproof.storage-proof');
        }
        // an EOA-style empty-storage claim for a slot: value 0 with an empty proof is only accepted for empty storage
        lie(
          (r) => r.storageProof.push({ key: storageSlotBytes(7n), value: 5n, proof: [] }),
          toHex(EMPTY_TRIE_ROOT) === c.result.storageHash ? 'getproof.storage-value' : 'getproof.storage-proof',
        );
      });

      it('every byte of the account proof matters (bit flips, dropped, extra and swapped nodes)', () => {
        const r = response();
        // every byte for the first case; a stride elsewhere to bound the run time
        const stride = c === cases[0] ? 1 : 13;
        r.accountProof.forEach((node, i) => {
          for (let j = 0; j < node.length; j += stride) {
            const bad = r.accountProof.map((n) => n.slice());
            bad[i]![j]! ^= 0x01;
            expectCheck(() => verifyAccountProof(c.state_root, r.address, bad), 'getproof.account-proof');
          }
          expectCheck(
            () =>
              verifyAccountProof(
                c.state_root,
                r.address,
                r.accountProof.filter((_, k) => k !== i),
              ),
            'getproof.account-proof',
          );
        });
        expectCheck(
          () => verifyAccountProof(c.state_root, r.address, [...r.accountProof, r.accountProof[0]!]),
          'getproof.account-proof',
        );
        const swapped = r.accountProof.slice();
        [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
        expectCheck(() => verifyAccountProof(c.state_root, r.address, swapped), 'getproof.account-proof');
        expectCheck(() => verifyAccountProof(c.state_root, r.address, []), 'getproof.account-proof');
      });

      if (c.result.storageProof.length > 0) {
        it('every byte of the storage proofs matters', () => {
          const r = response();
          const root = verifyAccountProof(c.state_root, r.address, r.accountProof).storageHash;
          for (const s of r.storageProof) {
            s.proof.forEach((node, i) => {
              for (let j = 0; j < node.length; j++) {
                const bad = s.proof.map((n) => n.slice());
                bad[i]![j]! ^= 0x01;
                expectCheck(() => verifyStorageProof(root, s.key, bad), 'getproof.storage-proof');
              }
            });
            expectCheck(() => verifyStorageProof(root, s.key, s.proof.slice(0, -1)), 'getproof.storage-proof');
            expectCheck(() => verifyStorageProof(root, s.key, [...s.proof, s.proof[0]!]), 'getproof.storage-proof');
          }
        });
      }

      it('a response for another account than requested is rejected', () => {
        const r = response();
        expectCheck(
          () => verifyGetProofResponse(c.state_root, r, { address: ('0x' + '00'.repeat(19) + '01') as `0x${string}` }),
          'getproof.address',
        );
        expectCheck(
          () =>
            verifyGetProofResponse(c.state_root, r, {
              storageKeys: [...r.storageProof.map((s) => s.key), storageSlotBytes(1n)],
            }),
          'getproof.storage-keys',
        );
        // the same proof under another address never verifies as the claimed account
        const other = response();
        other.address = keccak_256(other.address).subarray(0, 20);
        expectRejected(() => verifyGetProofResponse(c.state_root, other));
        // and never against another state root
        expectCheck(() => verifyGetProofResponse(flipHexDigit(c.state_root, 5), response()), 'getproof.account-proof');
      });
    });
  }

  it('the negative case of the vector file is rejected (balance + 1 wei)', () => {
    for (const n of v.negative_cases) {
      const base = cases.find((c) => c.name === n.base);
      expect(n.mutation).toBe('result.balance += 1 wei');
      const json = clone(base.result);
      json.balance = toQuantity(BigInt(json.balance) + 1n);
      expect(n.expected_valid).toBe(false);
      expectCheck(() => verifyGetProofResponse(base.state_root, decodeGetProofResponse(json)), 'getproof.balance');
    }
  });

  it('decodeGetProofResponse is strict and names the JSON path', () => {
    const base = cases[0].result;
    const bad = (mutate: (j: any) => void, path: string) => {
      const j = clone(base);
      mutate(j);
      expectDecodeError(() => decodeGetProofResponse(j), path);
    };
    bad((j) => delete j.accountProof, '$.accountProof');
    bad((j) => (j.balance = '0x0' + j.balance.slice(2)), '$.balance');
    bad((j) => (j.nonce = 1), '$.nonce');
    bad((j) => (j.codeHash = j.codeHash.slice(0, 10)), '$.codeHash');
    bad((j) => (j.accountProof[2] = '0x'), '$.accountProof[2]');
    bad((j) => (j.accountProof[3] = j.accountProof[3].slice(0, -1)), '$.accountProof[3]');
    bad((j) => (j.storageProof[0].key = '0x' + '0'.repeat(65)), '$.storageProof[0].key');
    bad((j) => (j.storageProof[0].value = 'ten'), '$.storageProof[0].value');
    bad((j) => delete j.storageProof[0].proof, '$.storageProof[0].proof');
    bad((j) => (j.address = '0x00'), '$.address');
    // storage keys: QUANTITY and 32-byte DATA forms are the same slot
    const q = clone(base);
    q.storageProof[0].key = '0x1';
    expect(decodeGetProofResponse(q).storageProof[0]!.key).toEqual(decodeGetProofResponse(base).storageProof[0]!.key);
  });

  it('an account without storage proves every slot to be zero with an empty proof', () => {
    const eoa = cases.find((c) => c.name === 'sepolia_3445383_eoa');
    const r = decodeGetProofResponse(clone(eoa.result));
    expect(toHex(r.storageHash)).toBe(toHex(EMPTY_TRIE_ROOT));
    r.storageProof.push({ key: storageSlotBytes(0n), value: 0n, proof: [] });
    expect(verifyGetProofResponse(eoa.state_root, r).storage).toEqual([{ key: storageSlotBytes(0n), value: 0n }]);
    expect(verifyStorageProof(r.storageHash, 0n, [])).toBe(0n);
  });
});

// ---------------------------------------------------------------- synthetic state tries

interface Account {
  nonce: bigint;
  balance: bigint;
  storage: Map<bigint, bigint>;
  code: Uint8Array;
}

function buildState(accounts: Map<string, Account>) {
  const state = new MerklePatriciaTrie();
  const storageTries = new Map<string, MerklePatriciaTrie>();
  for (const [addr, a] of accounts) {
    const st = new MerklePatriciaTrie();
    for (const [slot, value] of a.storage)
      if (value !== 0n) st.put(keccak_256(storageSlotBytes(slot)), encodeBytes(uintToBytes(value)));
    storageTries.set(addr, st);
    const leaf = encodeList([
      encodeUint(a.nonce),
      encodeUint(a.balance),
      encodeBytes(st.root()),
      encodeBytes(keccak_256(a.code)),
    ]);
    state.put(keccak_256(Uint8Array.from(Buffer.from(addr.slice(2), 'hex'))), leaf);
  }
  return { state, storageTries };
}

/** The eth_getProof response an honest node would return (geth conventions for absent accounts). */
function honestResponse(
  accounts: Map<string, Account>,
  built: ReturnType<typeof buildState>,
  addr: string,
  slots: bigint[],
): GetProofResponse {
  const a = accounts.get(addr);
  const addrBytes = Uint8Array.from(Buffer.from(addr.slice(2), 'hex'));
  const st = built.storageTries.get(addr);
  return {
    address: addrBytes,
    accountProof: built.state.prove(keccak_256(addrBytes)),
    balance: a?.balance ?? 0n,
    nonce: a?.nonce ?? 0n,
    codeHash: a ? keccak_256(a.code) : new Uint8Array(32),
    storageHash: st ? st.root() : new Uint8Array(32),
    storageProof: slots.map((slot) => ({
      key: storageSlotBytes(slot),
      value: a?.storage.get(slot) ?? 0n,
      proof: st ? st.prove(keccak_256(storageSlotBytes(slot))) : [],
    })),
  };
}

const accountArb: fc.Arbitrary<Account> = fc.record({
  nonce: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  balance: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 256n - 1n })),
  storage: fc
    .array(fc.tuple(fc.bigInt({ min: 0n, max: 40n }), fc.bigInt({ min: 0n, max: 2n ** 256n - 1n })), { maxLength: 12 })
    .map((e) => new Map(e)),
  code: fc.uint8Array({ maxLength: 8 }),
});
const addressArb = fc.integer({ min: 0, max: 63 }).map((n) => '0x' + n.toString(16).padStart(40, '0'));
const stateArb = fc
  .uniqueArray(fc.tuple(addressArb, accountArb), { selector: ([a]) => a, maxLength: 20 })
  .map((e) => new Map(e));

describe('eth_getProof over random state tries', () => {
  it('honest responses verify for present and absent accounts and slots', () => {
    fc.assert(
      fc.property(
        stateArb,
        addressArb,
        fc.array(fc.bigInt({ min: 0n, max: 45n }), { maxLength: 5 }),
        (accounts, addr, slots) => {
          const built = buildState(accounts);
          const out = verifyGetProofResponse(built.state.root(), honestResponse(accounts, built, addr, slots));
          const a = accounts.get(addr);
          expect(out.account.exists).toBe(a !== undefined);
          if (!a) {
            expect(out.account).toEqual({
              exists: false,
              nonce: 0n,
              balance: 0n,
              storageHash: EMPTY_TRIE_ROOT,
              codeHash: EMPTY_CODE_HASH,
            });
          }
          expect(out.storage.map((s) => s.value)).toEqual(slots.map((s) => a?.storage.get(s) ?? 0n));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('absent accounts: empty-value hashes (reth style) are accepted as well as zero hashes (geth style), nothing else', () => {
    const accounts = new Map<string, Account>([
      ['0x' + '00'.repeat(19) + '01', { nonce: 1n, balance: 5n, storage: new Map(), code: new Uint8Array(0) }],
    ]);
    const built = buildState(accounts);
    const absent = '0x' + '00'.repeat(19) + '02';
    const r = honestResponse(accounts, built, absent, [3n]);
    expect(verifyGetProofResponse(built.state.root(), r).account.exists).toBe(false);
    expect(
      verifyGetProofResponse(built.state.root(), { ...r, storageHash: EMPTY_TRIE_ROOT, codeHash: EMPTY_CODE_HASH })
        .account.exists,
    ).toBe(false);
    expectCheck(() => verifyGetProofResponse(built.state.root(), { ...r, balance: 1n }), 'getproof.balance');
    expectCheck(() => verifyGetProofResponse(built.state.root(), { ...r, nonce: 1n }), 'getproof.nonce');
    expectCheck(
      () => verifyGetProofResponse(built.state.root(), { ...r, codeHash: keccak_256(Uint8Array.of(1)) }),
      'getproof.code-hash',
    );
    expectCheck(
      () =>
        verifyGetProofResponse(built.state.root(), {
          ...r,
          storageProof: [{ key: storageSlotBytes(3n), value: 1n, proof: [] }],
        }),
      'getproof.storage-value',
    );
  });

  it('any single lie in a response is caught', () => {
    type Lie =
      | 'nonce'
      | 'balance'
      | 'codeHash'
      | 'storageHash'
      | 'value'
      | 'proofByte'
      | 'storageProofByte'
      | 'dropNode';
    fc.assert(
      fc.property(
        stateArb,
        addressArb,
        fc.array(fc.bigInt({ min: 0n, max: 45n }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom<Lie>(
          'nonce',
          'balance',
          'codeHash',
          'storageHash',
          'value',
          'proofByte',
          'storageProofByte',
          'dropNode',
        ),
        fc.nat(),
        (accounts, addr, slots, lie, pick) => {
          const built = buildState(accounts);
          const r = honestResponse(accounts, built, addr, slots);
          switch (lie) {
            case 'nonce':
              r.nonce += 1n;
              break;
            case 'balance':
              r.balance = r.balance === 0n ? 1n : r.balance - 1n;
              break;
            case 'codeHash':
              r.codeHash = keccak_256(r.codeHash);
              break;
            case 'storageHash':
              r.storageHash = keccak_256(r.storageHash);
              break;
            case 'value': {
              const s = r.storageProof[pick % r.storageProof.length]!;
              s.value = s.value === 0n ? 1n : 0n;
              break;
            }
            case 'proofByte': {
              fc.pre(r.accountProof.length > 0);
              const node = r.accountProof[pick % r.accountProof.length]!;
              node[(pick >> 3) % node.length]! ^= 1 << (pick & 7);
              break;
            }
            case 'storageProofByte': {
              const s = r.storageProof[pick % r.storageProof.length]!;
              fc.pre(s.proof.length > 0);
              const node = s.proof[(pick >> 4) % s.proof.length]!;
              node[(pick >> 6) % node.length]! ^= 1 << (pick & 7);
              break;
            }
            case 'dropNode':
              fc.pre(r.accountProof.length > 0);
              r.accountProof.splice(pick % r.accountProof.length, 1);
              break;
          }
          expectRejected(() => verifyGetProofResponse(built.state.root(), r));
        },
      ),
      { numRuns: 400 },
    );
  });
});
