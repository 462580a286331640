import { describe, expect, it } from 'vitest';
import { keccak256, numberToHex, toRlp } from 'viem';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';
import { toHex } from '../../../src/protocol/bytes.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import type { ExecutionPayloadCapella, Hex } from '../../../src/protocol/types.js';
import {
  computePayloadBlockHash,
  decodeEnginePayloadV2,
  encodeWithdrawal,
  transactionsRoot,
  verifyPayloadBlockHash,
  withdrawalsRoot,
} from '../../../src/protocol/execution/payload.js';
import { EMPTY_OMMERS_HASH } from '../../../src/protocol/execution/header.js';
import { indexKey, MerklePatriciaTrie, orderedTrieRoot } from '../../../src/protocol/execution/trie.js';
import { beaconPayload, clone, expectCheck, expectDecodeError, flipHexDigit } from './helpers.js';

describe('constants', () => {
  it('ommersHash constant of alys-protocol.md 5.2 is keccak(rlp([]))', () => {
    expect(toHex(EMPTY_OMMERS_HASH)).toBe('0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347');
  });
});

describeVectors('ExecutionPayloadCapella block hash (eth-capella-blocks.json)', () => {
  const v = loadVectors('eth-capella-blocks.json');
  const withPayload = (v.blocks as any[]).filter((b) => b.beacon_execution_payload);

  it('the vector file has the expected payload blocks', () => {
    expect(withPayload.map((b) => b.name)).toEqual(expect.arrayContaining(['mainnet_17463226', 'sepolia_3287882']));
  });

  for (const b of withPayload) {
    describe(b.name, () => {
      const payload = beaconPayload(b.beacon_execution_payload);

      it('computePayloadBlockHash reproduces the block hash, and verifyPayloadBlockHash accepts it', () => {
        expect(computePayloadBlockHash(payload)).toBe(b.expected.block_hash);
        expect(payload.blockHash).toBe(b.expected.block_hash);
        expect(() => verifyPayloadBlockHash(payload)).not.toThrow();
      });

      it('transactionsRoot and withdrawalsRoot match the header (both trie builders)', () => {
        const header = b.header ?? b.eth_getBlockByNumber_result;
        expect(toHex(transactionsRoot(payload.transactions))).toBe(header.transactionsRoot);
        expect(toHex(withdrawalsRoot(payload.withdrawals))).toBe(header.withdrawalsRoot);
        // the insertion-based trie, as an independent construction
        const t = new MerklePatriciaTrie();
        for (const [i, tx] of payload.transactions.entries())
          t.put(indexKey(i), Uint8Array.from(Buffer.from(tx.slice(2), 'hex')));
        expect(toHex(t.root())).toBe(header.transactionsRoot);
        const w = new MerklePatriciaTrie();
        for (const [i, wd] of payload.withdrawals.entries()) w.put(indexKey(i), encodeWithdrawal(wd));
        expect(toHex(w.root())).toBe(header.withdrawalsRoot);
        expect(payload.transactions.length).toBe(b.expected.tx_count);
      });

      if (b.expected.tx_hashes_are_keccak_of_raw) {
        it('keccak(raw) of every transaction is its listed hash', () => {
          const hashes: string[] = b.eth_getBlockByNumber_extra.transaction_hashes;
          expect(payload.transactions.map((t) => keccak256(t))).toEqual(hashes);
        });
      }

      it('every header-field mutation is rejected with payload.block-hash', () => {
        const hexFields = [
          'parentHash',
          'feeRecipient',
          'stateRoot',
          'receiptsRoot',
          'logsBloom',
          'prevRandao',
        ] as const;
        for (const f of hexFields) {
          for (const digit of [0, (payload[f].length - 2) >> 1, payload[f].length - 3]) {
            const p = { ...payload, [f]: flipHexDigit(payload[f], digit) };
            expectCheck(() => verifyPayloadBlockHash(p), 'payload.block-hash');
          }
        }
        const intFields = ['blockNumber', 'gasLimit', 'gasUsed', 'timestamp', 'baseFeePerGas'] as const;
        for (const f of intFields) {
          expectCheck(() => verifyPayloadBlockHash({ ...payload, [f]: payload[f] + 1n }), 'payload.block-hash');
          expectCheck(() => verifyPayloadBlockHash({ ...payload, [f]: payload[f] - 1n }), 'payload.block-hash');
        }
        expectCheck(
          () => verifyPayloadBlockHash({ ...payload, extraData: (payload.extraData + '00') as Hex }),
          'payload.block-hash',
        );
        expectCheck(() => verifyPayloadBlockHash({ ...payload, extraData: '0x' }), 'payload.block-hash');
        expectCheck(
          () => verifyPayloadBlockHash({ ...payload, blockHash: flipHexDigit(payload.blockHash, 63) }),
          'payload.block-hash',
        );
      });

      it('any transaction change (byte flip, drop, reorder, duplicate) is rejected', () => {
        const txs = payload.transactions;
        for (const i of [0, Math.floor(txs.length / 2), txs.length - 1]) {
          const tx = txs[i]!;
          for (const digit of [0, Math.floor((tx.length - 2) / 2), tx.length - 3]) {
            const mutated = txs.slice();
            mutated[i] = flipHexDigit(tx, digit);
            expectCheck(() => verifyPayloadBlockHash({ ...payload, transactions: mutated }), 'payload.block-hash');
          }
        }
        expectCheck(() => verifyPayloadBlockHash({ ...payload, transactions: txs.slice(1) }), 'payload.block-hash');
        expectCheck(
          () => verifyPayloadBlockHash({ ...payload, transactions: [txs[1]!, txs[0]!, ...txs.slice(2)] }),
          'payload.block-hash',
        );
        expectCheck(
          () => verifyPayloadBlockHash({ ...payload, transactions: [...txs, txs[0]!] }),
          'payload.block-hash',
        );
      });

      it('any withdrawal change is rejected', () => {
        const ws = payload.withdrawals;
        const w0 = ws[0]!;
        const variants = [
          { ...w0, index: w0.index + 1n },
          { ...w0, validatorIndex: w0.validatorIndex + 1n },
          { ...w0, amount: w0.amount + 1n },
          { ...w0, address: flipHexDigit(w0.address, 39) },
        ];
        for (const w of variants)
          expectCheck(
            () => verifyPayloadBlockHash({ ...payload, withdrawals: [w, ...ws.slice(1)] }),
            'payload.block-hash',
          );
        expectCheck(() => verifyPayloadBlockHash({ ...payload, withdrawals: ws.slice(0, -1) }), 'payload.block-hash');
        expectCheck(() => verifyPayloadBlockHash({ ...payload, withdrawals: [] }), 'payload.block-hash');
      });
    });
  }

  it('engine_api_examples: the ExecutionPayloadV2 decodes and hashes to the block hash', () => {
    expect(v.engine_api_examples.length).toBeGreaterThan(0);
    for (const ex of v.engine_api_examples) {
      const payload = decodeEnginePayloadV2(ex.payload);
      expect(computePayloadBlockHash(payload)).toBe(ex.payload.blockHash);
      expect(() => verifyPayloadBlockHash(payload)).not.toThrow();
      expect(payload.transactions.length).toBe(ex.expected.tx_count);
      // same block as the beacon form
      const beacon = beaconPayload(
        withPayload.find((b) => b.beacon_execution_payload.block_hash === ex.payload.blockHash)
          .beacon_execution_payload,
      );
      expect(payload).toEqual(beacon);
    }
  });

  it('decodeEnginePayloadV2 is strict and names the JSON path', () => {
    const ex = v.engine_api_examples[0].payload;
    const bad = (mutate: (o: any) => void, path: string) => {
      const o = clone(ex);
      mutate(o);
      expectDecodeError(() => decodeEnginePayloadV2(o), path);
    };
    bad((o) => delete o.withdrawals, '$.withdrawals');
    bad((o) => (o.blockNumber = '0x0' + o.blockNumber.slice(2)), '$.blockNumber');
    bad((o) => (o.gasLimit = 30000000), '$.gasLimit');
    bad((o) => (o.parentHash = o.parentHash.slice(0, -2)), '$.parentHash');
    bad((o) => (o.extraData = '0x' + '00'.repeat(33)), '$.extraData');
    bad((o) => (o.transactions[3] = '0x'), '$.transactions[3]');
    bad((o) => (o.transactions[4] = 'zz'), '$.transactions[4]');
    bad((o) => (o.withdrawals[2].amount = '0x'), '$.withdrawals[2].amount');
    bad((o) => (o.withdrawals[1].address = '0x1234'), '$.withdrawals[1].address');
    bad((o) => (o.logsBloom = '0x00'), '$.logsBloom');
  });
});

describe('payload decoding errors', () => {
  const base: ExecutionPayloadCapella = {
    parentHash: `0x${'11'.repeat(32)}`,
    feeRecipient: '0x000000000000000000000000000000000000dead',
    stateRoot: `0x${'22'.repeat(32)}`,
    receiptsRoot: `0x${'33'.repeat(32)}`,
    logsBloom: `0x${'00'.repeat(256)}`,
    prevRandao: `0x${'00'.repeat(32)}`,
    blockNumber: 1n,
    gasLimit: 30_000_000n,
    gasUsed: 0n,
    timestamp: 1_700_000_000n,
    extraData: '0x',
    baseFeePerGas: 7n,
    blockHash: `0x${'44'.repeat(32)}`,
    transactions: [],
    withdrawals: [
      { index: 0n, validatorIndex: 0n, address: '0x000000000000000000000000000000000000beef', amount: 10n },
    ],
  };

  it('an empty Alys-like payload (no transactions) hashes with the empty transactions root', () => {
    // Independent route: the 17-field Shanghai header of alys-protocol.md 5.2 written out with viem's RLP.
    const emptyRoot = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421';
    expect(toHex(transactionsRoot([]))).toBe(emptyRoot);
    const w = base.withdrawals[0]!;
    const withdrawalLeaf = toRlp(['0x', '0x', w.address, numberToHex(w.amount)]);
    // single-leaf trie: key rlp(0) = 0x80 -> nibbles 8,0 -> hex-prefix 0x2080
    const wRoot = keccak256(toRlp(['0x2080', withdrawalLeaf]));
    const int = (n: bigint) => (n === 0n ? '0x' : numberToHex(n));
    const header = toRlp([
      base.parentHash,
      '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347',
      base.feeRecipient,
      base.stateRoot,
      emptyRoot,
      base.receiptsRoot,
      base.logsBloom,
      '0x',
      int(base.blockNumber),
      int(base.gasLimit),
      int(base.gasUsed),
      int(base.timestamp),
      base.extraData,
      base.prevRandao,
      '0x0000000000000000',
      int(base.baseFeePerGas),
      wRoot,
    ]);
    expect(toHex(withdrawalsRoot(base.withdrawals))).toBe(wRoot);
    expect(computePayloadBlockHash(base)).toBe(keccak256(header));
    expectCheck(() => verifyPayloadBlockHash(base), 'payload.block-hash');
    expect(() => verifyPayloadBlockHash({ ...base, blockHash: keccak256(header) })).not.toThrow();
  });

  it('refuses malformed hex with the field path', () => {
    expectDecodeError(() => computePayloadBlockHash({ ...base, parentHash: '0x11' }), 'payload.parentHash');
    expectDecodeError(
      () => computePayloadBlockHash({ ...base, extraData: `0x${'00'.repeat(33)}` }),
      'payload.extraData',
    );
    expectDecodeError(() => computePayloadBlockHash({ ...base, logsBloom: '0x00' }), 'payload.logsBloom');
    expectDecodeError(() => computePayloadBlockHash({ ...base, transactions: ['0x'] }), 'payload.transactions[0]');
    expectDecodeError(
      () => computePayloadBlockHash({ ...base, transactions: ['0x02', '0x0g'] }),
      'payload.transactions[1]',
    );
    expectDecodeError(
      () => computePayloadBlockHash({ ...base, transactions: ['0x021'] as Hex[] }),
      'payload.transactions[0]',
    );
    expectDecodeError(
      () => computePayloadBlockHash({ ...base, withdrawals: [{ ...base.withdrawals[0]!, address: '0xdead' }] }),
      'payload.withdrawals[0].address',
    );
    expect(() => verifyPayloadBlockHash({ ...base, blockHash: '0x44' })).toThrow(DecodeError);
    expectDecodeError(() => computePayloadBlockHash({ ...base, gasLimit: 2n ** 64n }), 'payload.gasLimit');
    expectDecodeError(() => computePayloadBlockHash({ ...base, timestamp: -1n }), 'payload.timestamp');
    expectDecodeError(() => computePayloadBlockHash({ ...base, baseFeePerGas: 2n ** 256n }), 'payload.baseFeePerGas');
  });

  it('the withdrawals root is the ordered trie of rlp([index, validatorIndex, address, amount])', () => {
    // the leaf, encoded by hand: list header 0xd8 (24 bytes), 0x80, 0x80, 0x94 + address, 0x0a
    const w = base.withdrawals[0]!;
    expect(toHex(encodeWithdrawal(w))).toBe('0xd88080' + '94' + w.address.slice(2) + '0a');
    expect(withdrawalsRoot(base.withdrawals)).toEqual(orderedTrieRoot([encodeWithdrawal(w)]));
  });
});
