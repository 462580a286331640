/**
 * Block hash: tree_hash 0.5.2 `merkle_root(bytes, 0)` against an independent full-tree implementation,
 * the derived examples of alys-protocol.md 2.4 (marked [U] there: computed by the spec author's encoder,
 * never confirmed against Rust), and the genesis builder of 2.5.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { VerificationError } from '../../../src/protocol/errors.js';
import {
  blockHash,
  emptyAggregateApproval,
  encodeConsensusBlock,
  genesisBlock,
  merkleRoot,
  signingRoot,
} from '../../../src/protocol/block.js';
import { ConsensusBlockCodec, encodeMsgpack } from '../../../src/protocol/codec/msgpack.js';
import {
  decodeExecutionPayloadJson,
  decodeSignedBlockJson,
  encodeSignedBlockJson,
} from '../../../src/protocol/codec/json.js';
import type { ChainSpec } from '../../../src/protocol/types.js';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';
import * as M from './model.js';

/** The textbook definition: zero-pad to a power-of-two number of 32-byte chunks and hash pairs up to the root. */
function fullTreeRoot(bytes: Uint8Array): Uint8Array {
  const chunks = Math.ceil(bytes.length / 32);
  let width = 1;
  while (width < chunks) width *= 2;
  let level: Uint8Array[] = [];
  for (let i = 0; i < width; i++) {
    const c = new Uint8Array(32);
    c.set(bytes.subarray(i * 32, i * 32 + 32));
    level.push(c);
  }
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const pair = new Uint8Array(64);
      pair.set(level[i]!);
      pair.set(level[i + 1]!, 32);
      next.push(sha256(pair));
    }
    level = next;
  }
  return level[0]!;
}

describe('merkleRoot = tree_hash::merkle_root(bytes, 0) (alys-protocol.md 2.2)', () => {
  test('0 bytes: 32 zero bytes', () => {
    expect(bytesToHex(merkleRoot(new Uint8Array()))).toBe('00'.repeat(32));
  });

  test('1..32 bytes: the bytes right-padded to 32, not hashed', () => {
    for (const n of [1, 2, 31, 32]) {
      const b = new Uint8Array(n).fill(0xab);
      expect(bytesToHex(merkleRoot(b)), String(n)).toBe('ab'.repeat(n) + '00'.repeat(32 - n));
    }
  });

  test('33..64 bytes: SHA-256 of the bytes right-padded to 64', () => {
    for (const n of [33, 63, 64]) {
      const b = new Uint8Array(n).fill(7);
      const padded = new Uint8Array(64);
      padded.set(b);
      expect(bytesToHex(merkleRoot(b)), String(n)).toBe(bytesToHex(sha256(padded)));
    }
  });

  test('more than 2 chunks: the padded full tree, at every awkward size', () => {
    for (const n of [65, 95, 96, 97, 128, 129, 160, 255, 256, 257, 991, 1024, 1025, 1183, 4096, 4097, 32 * 33]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 17) & 0xff);
      expect(bytesToHex(merkleRoot(b)), String(n)).toBe(bytesToHex(fullTreeRoot(b)));
    }
  });

  test('random inputs agree with the full tree', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (b) => {
        expect(bytesToHex(merkleRoot(b))).toBe(bytesToHex(fullTreeRoot(b)));
      }),
      { numRuns: 200 },
    );
  });

  test('an all-zero input of 2^k chunks hashes to the zero-subtree root', () => {
    let z = new Uint8Array(32);
    for (let k = 1; k <= 6; k++) {
      const pair = new Uint8Array(64);
      pair.set(z);
      pair.set(z, 32);
      z = sha256(pair);
      if (k >= 2) expect(bytesToHex(merkleRoot(new Uint8Array(32 * 2 ** k)))).toBe(bytesToHex(z));
    }
  });
});

describe('block hash known answers (alys-protocol.md 2.4, derived — [U] until confirmed in Rust)', () => {
  test('[U] ConsensusBlock::default(): 991 bytes starting 97 d9 42 30 78 30 30, root 3eff0bb6…', () => {
    const bytes = encodeConsensusBlock(M.defaultBlock());
    expect(bytes.length).toBe(991);
    expect(bytesToHex(bytes.subarray(0, 7))).toBe('97d94230783030');
    expect(blockHash(M.defaultBlock())).toBe('0x3eff0bb62dae8aa18f33a886b9923560bfcdc95f3b24d69a970a79338da07d94');
  });

  test('[U] default block with auxpow_header {0, 0, bits 486604799, chain_id 727272, height 0, None, 0x0}: 1183 bytes, root 02a83f5d…', () => {
    const b = M.defaultBlock();
    b.auxpowHeader = {
      rangeStart: M.zeros(32),
      rangeEnd: M.zeros(32),
      bits: 486604799,
      chainId: 727272,
      height: 0,
      auxpow: null,
      feeRecipient: M.zeros(20),
    };
    expect(encodeConsensusBlock(b).length).toBe(1183);
    expect(blockHash(b)).toBe('0x02a83f5da3972d2a7d4dfb70d6c62711e22e66132427d618e0a5d1cbf0ca8b66');
  });

  test('blockHash is 0x + hex(signingRoot) and signingRoot is merkleRoot(encodeConsensusBlock)', () => {
    fc.assert(
      fc.property(M.consensusBlock(), (b) => {
        const bytes = encodeConsensusBlock(b);
        expect(bytesToHex(bytes)).toBe(bytesToHex(encodeMsgpack(ConsensusBlockCodec, b)));
        expect(bytesToHex(signingRoot(b))).toBe(bytesToHex(fullTreeRoot(bytes)));
        expect(blockHash(b)).toBe(`0x${bytesToHex(signingRoot(b))}`);
      }),
      { numRuns: 60 },
    );
  });

  test('the signature is not covered; every field of the message is', () => {
    const [s] = fc.sample(M.signedBlock(), { numRuns: 1, seed: 4 });
    const root = blockHash(s!.message);
    expect(blockHash({ ...s!.message })).toBe(root);
    expect(blockHash({ ...s!.message, slot: s!.message.slot + 1 })).not.toBe(root);
    const tx = s!.message.executionPayload.transactions;
    expect(
      blockHash({ ...s!.message, executionPayload: { ...s!.message.executionPayload, transactions: [...tx, '0x00'] } }),
    ).not.toBe(root);
  });

  test('encoding returns independent copies (the scratch buffer is reused internally)', () => {
    const a = encodeConsensusBlock(M.defaultBlock());
    const b2 = M.defaultBlock();
    b2.slot = 5;
    const b = encodeConsensusBlock(b2);
    expect(a.length).toBe(991);
    expect(bytesToHex(a)).toBe(bytesToHex(encodeMsgpack(ConsensusBlockCodec, M.defaultBlock())));
    expect(bytesToHex(b)).not.toBe(bytesToHex(a));
  });

  test('an invalid model value is refused before hashing, and the next call still works', () => {
    expect(() => signingRoot({ ...M.defaultBlock(), parentHash: '0x12' })).toThrow(/parent_hash/);
    expect(blockHash(M.defaultBlock())).toBe('0x3eff0bb62dae8aa18f33a886b9923560bfcdc95f3b24d69a970a79338da07d94');
  });
});

/** Built-in DEV spec (alys-protocol.md 9.1). */
const DEV: ChainSpec = {
  slotDuration: 4000,
  authorities: ['0x97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb'],
  federation: ['0x2e80ab37dfb510a64526296fd1f295c42ef19c29'],
  federationBitcoinPubkeys: ['0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'],
  bits: 505794034,
  chainId: 121212,
  maxBlocksWithoutPow: 50000,
  bitcoinStartHeight: 95800,
  retargetParams: {
    powNoRetargeting: false,
    powLimit: 553713663,
    powLowerLimit: 439495319,
    maxPowAdjustment: 20,
    powTargetTimespan: 60,
    powTargetSpacing: 5,
  },
  isValidator: true,
  executionTimeoutLength: 3,
  requiredBtcTxnConfirmations: 144,
};

describe('genesisBlock (alys-protocol.md 2.5)', () => {
  test('fields: zero parent, slot 0, auxpow header from the spec with height 0 and no auxpow, empty aggregate', () => {
    const payload = { ...M.defaultPayload(), baseFeePerGas: 1_000_000_000n, gasLimit: 30_000_000n };
    const g = genesisBlock(DEV, payload);
    expect(g.message.parentHash).toBe(M.zeros(32));
    expect(g.message.slot).toBe(0);
    expect(g.message.auxpowHeader).toEqual({
      rangeStart: M.zeros(32),
      rangeEnd: M.zeros(32),
      bits: 505794034,
      chainId: 121212,
      height: 0,
      auxpow: null,
      feeRecipient: M.zeros(20),
    });
    expect(g.message.executionPayload).toBe(payload);
    expect(g.message.pegins).toEqual([]);
    expect(g.message.pegoutPaymentProposal).toBeNull();
    expect(g.message.finalizedPegouts).toEqual([]);
    expect(g.signature).toEqual({ aggregationBits: '0x0080', aggregateSignature: M.zeros(96) });
    expect(emptyAggregateApproval()).toEqual(g.signature);
  });

  test('[U] with the testnet bits/chain id and a default payload it is the second derived example of 2.4 (root 02a83f5d…)', () => {
    const g = genesisBlock({ ...DEV, bits: 486604799, chainId: 727272 }, M.defaultPayload());
    expect(blockHash(g.message)).toBe('0x02a83f5da3972d2a7d4dfb70d6c62711e22e66132427d618e0a5d1cbf0ca8b66');
  });

  test('the genesis block survives the RPC JSON form with the same hash', () => {
    const g = genesisBlock(DEV, M.defaultPayload());
    const back = decodeSignedBlockJson(JSON.parse(JSON.stringify(encodeSignedBlockJson(g))));
    expect(back).toEqual(g);
    expect(blockHash(back.message)).toBe(blockHash(g.message));
  });

  test('an EL payload that is not block 0 is refused (Alys panics on it)', () => {
    expect(() => genesisBlock(DEV, { ...M.defaultPayload(), blockNumber: 1n })).toThrow(VerificationError);
  });
});

describeVectors(
  'block hash over a real 217-transaction Capella payload (eth-capella-blocks.json mainnet 17463226)',
  () => {
    test('the root equals the full-tree root of the independently encoded (oracle) bytes', () => {
      const blk = loadVectors<any>('eth-capella-blocks.json').blocks.find((b: any) => b.name === 'mainnet_17463226');
      const payload = decodeExecutionPayloadJson(blk.beacon_execution_payload);
      const block = { ...M.defaultBlock(), slot: 345678901, executionPayload: payload };
      const oracleBytes = M.oracleEncode(M.oBlock(block, '$'));
      expect(bytesToHex(signingRoot(block))).toBe(bytesToHex(fullTreeRoot(oracleBytes)));
    });
  },
);
