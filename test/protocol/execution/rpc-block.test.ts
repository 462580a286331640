import { describe, expect, it } from 'vitest';
import { keccak256 } from 'viem';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';
import { fromHex, toHex } from '../../../src/protocol/bytes.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import { verifyRpcBlock } from '../../../src/protocol/execution/block.js';
import {
  computeRpcBlockHash,
  decodeRpcBlockHeader,
  encodeExecutionHeader,
} from '../../../src/protocol/execution/header.js';
import { decodeRlp, encodeRlp, type RlpValue } from '../../../src/protocol/execution/rlp.js';
import { decodeRpcTransaction, encodeRpcTransaction } from '../../../src/protocol/execution/transactions.js';
import {
  beaconPayload,
  clone,
  expectCheck,
  expectDecodeError,
  flipHexDigit,
  rpcTxFromRaw,
  toQuantity,
} from './helpers.js';

const HEADER_HEX_FIELDS = [
  'parentHash',
  'sha3Uncles',
  'miner',
  'stateRoot',
  'transactionsRoot',
  'receiptsRoot',
  'logsBloom',
  'extraData',
  'mixHash',
  'nonce',
  'withdrawalsRoot',
  'parentBeaconBlockRoot',
  'requestsHash',
];
const HEADER_QUANTITY_FIELDS = [
  'difficulty',
  'number',
  'gasLimit',
  'gasUsed',
  'timestamp',
  'baseFeePerGas',
  'blobGasUsed',
  'excessBlobGas',
];

/** Every header-field mutation of an RPC block JSON (one per field, plus hash), as [label, json]. */
function headerMutations(block: any): [string, any][] {
  const out: [string, any][] = [];
  for (const f of HEADER_HEX_FIELDS) {
    if (block[f] === undefined) continue;
    const m = clone(block);
    m[f] = f === 'extraData' && m[f] === '0x' ? '0x00' : flipHexDigit(m[f], m[f].length - 3);
    out.push([f, m]);
  }
  for (const f of HEADER_QUANTITY_FIELDS) {
    if (block[f] === undefined) continue;
    const m = clone(block);
    m[f] = toQuantity(BigInt(m[f]) + 1n);
    out.push([f, m]);
  }
  const h = clone(block);
  h.hash = flipHexDigit(h.hash, 10);
  out.push(['hash', h]);
  return out;
}

describeVectors('JSON-RPC blocks (eth-capella-blocks.json)', () => {
  const v = loadVectors('eth-capella-blocks.json');
  const blocks = v.blocks as any[];

  /** The RPC JSON of each block: the full result where the vector has one, else header + listed parts. */
  function rpcJson(b: any): any {
    if (b.eth_getBlockByNumber_result) return clone(b.eth_getBlockByNumber_result);
    return {
      ...clone(b.header),
      transactions: clone(b.eth_getBlockByNumber_extra?.transaction_hashes ?? b.transaction_hashes),
      withdrawals: clone(b.withdrawals),
      uncles: clone(b.eth_getBlockByNumber_extra?.uncles ?? []),
    };
  }
  /** Raw transactions of a block, if the vector has them. */
  function rawTxs(b: any): string[] | undefined {
    return b.raw_transactions ?? b.beacon_execution_payload?.transactions;
  }

  it('covers every block of the vector file', () => {
    expect(blocks.length).toBe(6);
  });

  for (const b of blocks) {
    describe(b.name, () => {
      it('the header decodes and hashes to the expected block hash', () => {
        const json = rpcJson(b);
        const header = decodeRpcBlockHeader(json);
        expect(computeRpcBlockHash(header)).toBe(b.expected.block_hash);
        expect(toHex(header.hash)).toBe(b.expected.block_hash);
      });

      it('verifyRpcBlock checks hash, withdrawals and (when raw bytes are known) the transactions root', () => {
        const raw = rawTxs(b);
        const json = rpcJson(b);
        const out = verifyRpcBlock(
          json,
          raw && typeof json.transactions[0] === 'string' ? { rawTransactions: raw as `0x${string}`[] } : {},
        );
        expect(out.hash).toBe(b.expected.block_hash);
        expect(out.checked.withdrawalsRoot).toBe(true);
        expect(out.checked.ommersHash).toBe(true);
        expect(out.checked.transactionsRoot).toBe(raw !== undefined || typeof json.transactions[0] === 'object');
        expect(out.transactionHashes.length).toBe(json.transactions.length);
        if (b.expected.tx_count !== undefined) expect(out.transactionHashes.length).toBe(b.expected.tx_count);
      });

      it('every header-field mutation is rejected with rpc-block.hash', () => {
        for (const [field, json] of headerMutations(rpcJson(b))) {
          try {
            expectCheck(() => verifyRpcBlock(json), 'rpc-block.hash');
          } catch (e) {
            throw new Error(`mutating ${field} was not rejected as expected: ${String(e)}`);
          }
        }
      });

      it('any withdrawal change is rejected with rpc-block.withdrawals-root', () => {
        const json = rpcJson(b);
        if (json.withdrawals.length === 0) {
          json.withdrawals.push({
            index: '0x0',
            validatorIndex: '0x0',
            address: '0x' + '00'.repeat(20),
            amount: '0x1',
          });
          expectCheck(() => verifyRpcBlock(json), 'rpc-block.withdrawals-root');
          return;
        }
        for (const f of ['index', 'validatorIndex', 'amount']) {
          const m = clone(json);
          m.withdrawals[0][f] = toQuantity(BigInt(m.withdrawals[0][f]) + 1n);
          expectCheck(() => verifyRpcBlock(m), 'rpc-block.withdrawals-root');
        }
        const a = clone(json);
        a.withdrawals[0].address = flipHexDigit(a.withdrawals[0].address, 5);
        expectCheck(() => verifyRpcBlock(a), 'rpc-block.withdrawals-root');
        const d = clone(json);
        d.withdrawals.pop();
        expectCheck(() => verifyRpcBlock(d), 'rpc-block.withdrawals-root');
      });

      const raw = rawTxs(b);
      if (raw) {
        it("every raw transaction re-serialises exactly from its JSON-RPC object (built with viem's parser)", () => {
          const header = decodeRpcBlockHeader(rpcJson(b));
          raw.forEach((r, i) => {
            const obj = rpcTxFromRaw(r as `0x${string}`, {
              blockHash: b.expected.block_hash,
              blockNumber: header.number,
              index: i,
              baseFee: header.baseFeePerGas,
            });
            const tx = decodeRpcTransaction(obj, `$.transactions[${i}]`);
            expect(toHex(encodeRpcTransaction(tx))).toBe(r);
          });
        });

        it('the block verifies from full transaction objects alone (no raw bytes given)', () => {
          const json = rpcJson(b);
          const header = decodeRpcBlockHeader(json);
          json.transactions = raw.map((r, i) =>
            rpcTxFromRaw(r as `0x${string}`, {
              blockHash: b.expected.block_hash,
              blockNumber: header.number,
              index: i,
              baseFee: header.baseFeePerGas,
            }),
          );
          const out = verifyRpcBlock(json);
          expect(out.checked.transactionsRoot).toBe(true);
          expect(out.transactions!.map((t) => t.type)).toEqual(
            raw.map((r) => (r.startsWith('0x0') ? Number(r.slice(0, 4)) : 0)),
          );
        });

        it('raw-transaction mismatches are rejected (byte flip, missing, reordered)', () => {
          const json = rpcJson(b);
          if (typeof json.transactions[0] !== 'string') json.transactions = json.transactions.map((t: any) => t.hash);
          const flipped = raw.slice();
          flipped[0] = flipHexDigit(flipped[0]!, 40);
          expectCheck(() => verifyRpcBlock(json, { rawTransactions: flipped as `0x${string}`[] }), 'rpc-block.tx-hash');
          expectCheck(
            () => verifyRpcBlock(json, { rawTransactions: raw.slice(1) as `0x${string}`[] }),
            'rpc-block.tx-count',
          );
          if (raw.length >= 2) {
            const swapped = [raw[1]!, raw[0]!, ...raw.slice(2)] as `0x${string}`[];
            expectCheck(() => verifyRpcBlock(json, { rawTransactions: swapped }), 'rpc-block.tx-hash');
            // the listed hashes reordered the same way: every keccak matches, the root does not
            const reordered = clone(json);
            [reordered.transactions[0], reordered.transactions[1]] = [
              reordered.transactions[1],
              reordered.transactions[0],
            ];
            expectCheck(() => verifyRpcBlock(reordered, { rawTransactions: swapped }), 'rpc-block.transactions-root');
          }
        });
      }

      if (b.raw_block_rlp) {
        it('the header RLP is byte-identical to the header inside the raw block RLP, and the body txs are the raw txs', () => {
          const block = decodeRlp(fromHex(b.raw_block_rlp)) as RlpValue[];
          expect(block.length).toBe(4); // header, transactions, ommers, withdrawals
          const header = decodeRpcBlockHeader(b.eth_getBlockByNumber_result);
          expect(toHex(encodeExecutionHeader(header))).toBe(toHex(encodeRlp(block[0]!)));
          const bodyTxs = (block[1] as RlpValue[]).map((t) =>
            t instanceof Uint8Array ? toHex(t) : toHex(encodeRlp(t)),
          );
          expect(bodyTxs).toEqual(b.raw_transactions);
          expect(block[2]).toEqual([]);
        });
      }
    });
  }

  describe('full transaction objects (sepolia_3287882, as returned by a node)', () => {
    const b = blocks.find((x) => x.name === 'sepolia_3287882');
    const json = () => clone(b.eth_getBlockByNumber_result);
    const txs = b.eth_getBlockByNumber_result.transactions as any[];
    const legacyIndex = txs.findIndex((t) => t.type === '0x0');
    const dynamicIndex = txs.findIndex((t) => t.type === '0x2');

    it("keccak(re-serialised tx) equals every tx hash, and they match the payload's raw txs", () => {
      const out = verifyRpcBlock(json());
      expect(out.transactions!.length).toBe(49);
      expect(out.transactions!.map((t) => toHex(encodeRpcTransaction(t)))).toEqual(
        b.beacon_execution_payload.transactions,
      );
      // the same block through the payload path
      expect(
        verifyRpcBlock(json(), { rawTransactions: beaconPayload(b.beacon_execution_payload).transactions }).checked
          .transactionsRoot,
      ).toBe(true);
    });

    it('every signed-field mutation of a legacy and of an EIP-1559 transaction is rejected with rpc-block.tx-hash', () => {
      const mutations: [number, string, (t: any) => void][] = [];
      for (const i of [legacyIndex, dynamicIndex]) {
        mutations.push(
          [i, 'nonce', (t) => (t.nonce = toQuantity(BigInt(t.nonce) + 1n))],
          [i, 'gas', (t) => (t.gas = toQuantity(BigInt(t.gas) + 1n))],
          [i, 'value', (t) => (t.value = toQuantity(BigInt(t.value) + 1n))],
          [i, 'to', (t) => (t.to = flipHexDigit(t.to, 39))],
          [i, 'to-null', (t) => (t.to = null)],
          [i, 'input', (t) => (t.input = t.input === '0x' ? '0x00' : flipHexDigit(t.input, t.input.length - 3))],
          [i, 'r', (t) => (t.r = flipHexDigit(t.r, t.r.length - 3))],
          [i, 's', (t) => (t.s = flipHexDigit(t.s, t.s.length - 3))],
        );
      }
      mutations.push(
        [legacyIndex, 'gasPrice', (t) => (t.gasPrice = toQuantity(BigInt(t.gasPrice) + 1n))],
        [
          legacyIndex,
          'v (other chain)',
          (t) => ((t.v = toQuantity(BigInt(t.v) + 2n)), (t.chainId = toQuantity(BigInt(t.chainId) + 1n))),
        ],
        [dynamicIndex, 'maxFeePerGas', (t) => (t.maxFeePerGas = toQuantity(BigInt(t.maxFeePerGas) + 1n))],
        [
          dynamicIndex,
          'maxPriorityFeePerGas',
          (t) => (t.maxPriorityFeePerGas = toQuantity(BigInt(t.maxPriorityFeePerGas) - 1n)),
        ],
        [dynamicIndex, 'chainId', (t) => (t.chainId = toQuantity(BigInt(t.chainId) + 1n))],
        [dynamicIndex, 'yParity', (t) => (t.v = toQuantity(1n - BigInt(t.v)))],
        [dynamicIndex, 'accessList', (t) => t.accessList.push({ address: t.to, storageKeys: [] })],
        [dynamicIndex, 'hash', (t) => (t.hash = flipHexDigit(t.hash, 0))],
        [legacyIndex, 'hash', (t) => (t.hash = flipHexDigit(t.hash, 63))],
      );
      for (const [i, label, mutate] of mutations) {
        const j = json();
        mutate(j.transactions[i]);
        // maxPriorityFee/maxFee changes alter the effective price; keep the reported gasPrice consistent
        // so that the hash check (not the gas-price check) is what must fire.
        if (label.startsWith('max')) delete j.transactions[i].gasPrice;
        try {
          expectCheck(() => verifyRpcBlock(j), 'rpc-block.tx-hash');
        } catch (e) {
          throw new Error(`tx ${i} mutation ${label}: ${String(e)}`);
        }
      }
    });

    it('position fields and the effective gas price are checked', () => {
      const pos = (f: string, value: unknown) => {
        const j = json();
        j.transactions[3][f] = value;
        expectCheck(() => verifyRpcBlock(j), 'rpc-block.tx-position');
      };
      pos('blockHash', flipHexDigit(b.expected.block_hash, 3));
      pos('blockHash', null);
      pos('blockNumber', toQuantity(BigInt(txs[3].blockNumber) + 1n));
      pos('transactionIndex', '0x4');
      const swapped = json();
      [swapped.transactions[0], swapped.transactions[1]] = [swapped.transactions[1], swapped.transactions[0]];
      expectCheck(() => verifyRpcBlock(swapped), 'rpc-block.tx-position');
      const swappedWithIndices = clone(swapped);
      [swappedWithIndices.transactions[0].transactionIndex, swappedWithIndices.transactions[1].transactionIndex] = [
        '0x0',
        '0x1',
      ];
      expectCheck(() => verifyRpcBlock(swappedWithIndices), 'rpc-block.transactions-root');
      const price = json();
      price.transactions[dynamicIndex].gasPrice = toQuantity(BigInt(price.transactions[dynamicIndex].gasPrice) + 1n);
      expectCheck(() => verifyRpcBlock(price), 'rpc-block.tx-gas-price');
    });

    it('a dropped transaction is rejected', () => {
      const j = json();
      j.transactions.pop();
      expectCheck(() => verifyRpcBlock(j), 'rpc-block.transactions-root');
    });

    it('strict decoding names the JSON path', () => {
      const bad = (mutate: (j: any) => void, path: string) => {
        const j = json();
        mutate(j);
        expectDecodeError(() => verifyRpcBlock(j), path);
      };
      bad((j) => delete j.transactions[2].r, '$.transactions[2].r');
      bad((j) => (j.transactions[2].nonce = '0x0' + j.transactions[2].nonce.slice(2)), '$.transactions[2].nonce');
      bad((j) => (j.transactions[dynamicIndex].v = '0x1b'), `$.transactions[${dynamicIndex}].v`);
      bad(
        (j) => (j.transactions[dynamicIndex].yParity = j.transactions[dynamicIndex].v === '0x0' ? '0x1' : '0x0'),
        `$.transactions[${dynamicIndex}].v`,
      );
      bad((j) => (j.transactions[legacyIndex].chainId = '0x1'), `$.transactions[${legacyIndex}].chainId`);
      bad((j) => (j.transactions[legacyIndex].v = '0x1d'), `$.transactions[${legacyIndex}].v`);
      bad((j) => (j.transactions[5].type = '0x7e'), '$.transactions[5].type');
      bad((j) => (j.transactions[6] = j.transactions[6].hash), '$.transactions[6]');
      bad((j) => (j.transactions[dynamicIndex].accessList = {}), `$.transactions[${dynamicIndex}].accessList`);
      bad((j) => (j.transactions[1].to = '0x1234'), '$.transactions[1].to');
    });
  });

  describe('blob transactions (execution_apis_get-block-cancun-fork)', () => {
    const b = blocks.find((x) => x.name === 'execution_apis_get-block-cancun-fork');
    const full = () => {
      const json = clone(b.eth_getBlockByNumber_result);
      const header = decodeRpcBlockHeader(json);
      json.transactions = b.raw_transactions.map((r: string, i: number) =>
        rpcTxFromRaw(r as `0x${string}`, {
          blockHash: b.expected.block_hash,
          blockNumber: header.number,
          index: i,
          baseFee: header.baseFeePerGas,
        }),
      );
      return json;
    };
    it("blobGasUsed must match the blob count of the block's transactions", () => {
      expect(verifyRpcBlock(full()).checked.transactionsRoot).toBe(true);
      const j = full();
      const blobTx = j.transactions.find((t: any) => t.type === '0x3');
      blobTx.blobVersionedHashes.push(blobTx.blobVersionedHashes[0]);
      expectCheck(() => verifyRpcBlock(j), 'rpc-block.blob-gas-used');
    });
    it('a blob transaction without `to` is a decode error', () => {
      const j = full();
      const i = j.transactions.findIndex((t: any) => t.type === '0x3');
      j.transactions[i].to = null;
      expectDecodeError(() => verifyRpcBlock(j), `$.transactions[${i}].to`);
    });
  });

  describe('header decoding is strict', () => {
    const cancun = () =>
      clone(blocks.find((x) => x.name === 'execution_apis_get-block-prague-fork').eth_getBlockByNumber_result);
    const bad = (mutate: (j: any) => void, path: string) => {
      const j = cancun();
      mutate(j);
      expectDecodeError(() => decodeRpcBlockHeader(j), path);
    };
    it('names the JSON path of each problem', () => {
      bad((j) => delete j.stateRoot, '$.stateRoot');
      bad((j) => (j.hash = null), '$.hash');
      bad((j) => (j.number = '0x02d'), '$.number');
      bad((j) => (j.number = '0x'), '$.number');
      bad((j) => (j.number = 45), '$.number');
      bad((j) => (j.gasLimit = '0x1' + '0'.repeat(16)), '$.gasLimit');
      bad((j) => (j.logsBloom = '0x00'), '$.logsBloom');
      bad((j) => (j.nonce = '0x0'), '$.nonce');
      bad((j) => (j.miner = j.miner + '00'), '$.miner');
      bad((j) => delete j.excessBlobGas, '$.excessBlobGas');
      bad((j) => delete j.parentBeaconBlockRoot, '$.parentBeaconBlockRoot');
      bad((j) => delete j.withdrawalsRoot, '$.withdrawalsRoot');
      bad((j) => delete j.baseFeePerGas, '$.baseFeePerGas');
      bad((j) => (delete j.blobGasUsed, delete j.excessBlobGas, delete j.parentBeaconBlockRoot), '$.blobGasUsed');
      expect(() => decodeRpcBlockHeader([])).toThrow(DecodeError);
    });

    it('dropping a trailing fork field changes the hash (field presence drives the encoding)', () => {
      const j = cancun();
      delete j.requestsHash;
      expectCheck(() => verifyRpcBlock(j), 'rpc-block.hash');
    });

    it('uncles: a non-empty uncle list under the empty ommers hash is rejected', () => {
      const j = cancun();
      j.uncles = [j.parentHash];
      expectCheck(() => verifyRpcBlock(j), 'rpc-block.ommers-hash');
    });

    it('a missing transactions field is a decode error', () => {
      const k = cancun();
      delete k.transactions;
      expectDecodeError(() => verifyRpcBlock(k), '$.transactions');
    });

    it('an empty transaction list is checked against the empty-trie root without raw bytes', () => {
      const j = cancun();
      const hashes = j.transactions;
      j.transactions = [];
      expectCheck(() => verifyRpcBlock(j), 'rpc-block.transactions-root');
      expect(hashes.length).toBeGreaterThan(0);
      expect(keccak256('0x80')).toBe('0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421');
    });
  });
});
