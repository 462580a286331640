/**
 * Receipts. The shared vectors contain no receipts (only receiptsRoot values without the receipts behind
 * them), so there is no known-answer test against real blocks here: the encoding is cross-checked against
 * viem's independent RLP encoder and the field layout of EIP-2718/Yellow Paper 4.3.1, the bloom against an
 * independent BigInt formulation of the Yellow Paper's M3:2048, and the rest by internal consistency and
 * property tests.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { toRlp, bytesToHex as viemHex, numberToHex, type Hex as ViemHex } from 'viem';
import { toHex } from '../../../src/protocol/bytes.js';
import {
  bloomCoversLogs,
  bloomMayContain,
  decodeReceipt,
  decodeRpcBlockReceipts,
  encodeReceipt,
  logsBloom,
  receiptProof,
  receiptsRoot,
  verifyBlockReceipts,
  verifyReceiptProof,
  type Log,
  type Receipt,
} from '../../../src/protocol/execution/receipts.js';
import { EMPTY_TRIE_ROOT, indexKey, MerklePatriciaTrie, trieRoot } from '../../../src/protocol/execution/trie.js';
import { clone, expectCheck, expectDecodeError, flipHexDigit, toQuantity } from './helpers.js';

const logArb: fc.Arbitrary<Log> = fc.record({
  address: fc.uint8Array({ minLength: 20, maxLength: 20 }),
  topics: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 4 }),
  data: fc.uint8Array({ maxLength: 80 }),
});

/** Receipts of one block: cumulative gas strictly increasing, bloom computed from the logs. */
const receiptsArb: fc.Arbitrary<Receipt[]> = fc
  .array(
    fc.record({
      type: fc.integer({ min: 0, max: 4 }),
      status: fc.constantFrom<0 | 1>(0, 1),
      gas: fc.bigInt({ min: 21000n, max: 3_000_000n }),
      logs: fc.array(logArb, { maxLength: 3 }),
    }),
    { maxLength: 40 },
  )
  .map((items) => {
    let cumulative = 0n;
    return items.map((x) => {
      cumulative += x.gas;
      return {
        type: x.type,
        status: x.status,
        cumulativeGasUsed: cumulative,
        logs: x.logs,
        logsBloom: logsBloom(x.logs),
      };
    });
  });

/** Yellow Paper M3:2048 as one 2048-bit integer (bit b counted from the least significant end). */
function referenceBloom(logs: readonly Log[]): Uint8Array {
  let bloom = 0n;
  const add = (item: Uint8Array) => {
    const h = keccak_256(item);
    for (const i of [0, 2, 4]) bloom |= 1n << BigInt(((h[i]! << 8) | h[i + 1]!) % 2048);
  };
  for (const l of logs) {
    add(l.address);
    l.topics.forEach(add);
  }
  const out = new Uint8Array(256);
  for (let i = 255; i >= 0; i--) {
    out[i] = Number(bloom & 0xffn);
    bloom >>= 8n;
  }
  return out;
}

/** The receipt's consensus encoding built with viem's RLP (independent of encodeReceipt). */
function viemReceipt(r: Receipt): string {
  const body = toRlp([
    r.status === 1 ? '0x01' : '0x',
    r.cumulativeGasUsed === 0n ? '0x' : numberToHex(r.cumulativeGasUsed),
    viemHex(r.logsBloom),
    r.logs.map((l) => [viemHex(l.address), l.topics.map((t) => viemHex(t)), viemHex(l.data)]) as ViemHex[][],
  ] as never);
  return r.type === 0 ? body : `0x0${r.type}${body.slice(2)}`;
}

const BLOCK_HASH = `0x${'ab'.repeat(32)}`;
const BLOCK_NUMBER = 1234n;
const txHash = (i: number) => toHex(keccak_256(Uint8Array.of(i & 0xff, i >> 8)));

/** An eth_getBlockReceipts JSON result for the receipts, as a node would return it. */
function rpcReceiptsJson(receipts: readonly Receipt[]): any[] {
  let logIndex = 0;
  let previous = 0n;
  return receipts.map((r, i) => {
    const json = {
      blockHash: BLOCK_HASH,
      blockNumber: toQuantity(BLOCK_NUMBER),
      contractAddress: null,
      cumulativeGasUsed: toQuantity(r.cumulativeGasUsed),
      effectiveGasPrice: '0x3b9aca00',
      from: '0x' + '22'.repeat(20),
      gasUsed: toQuantity(r.cumulativeGasUsed - previous),
      logs: r.logs.map((l) => ({
        address: toHex(l.address),
        topics: l.topics.map(toHex),
        data: toHex(l.data),
        blockNumber: toQuantity(BLOCK_NUMBER),
        transactionHash: txHash(i),
        transactionIndex: toQuantity(BigInt(i)),
        blockHash: BLOCK_HASH,
        logIndex: toQuantity(BigInt(logIndex++)),
        removed: false,
      })),
      logsBloom: toHex(r.logsBloom),
      status: toQuantity(BigInt(r.status)),
      to: '0x' + '33'.repeat(20),
      transactionHash: txHash(i),
      transactionIndex: toQuantity(BigInt(i)),
      type: toQuantity(BigInt(r.type)),
    };
    previous = r.cumulativeGasUsed;
    return json;
  });
}

function commitment(receipts: readonly Receipt[]) {
  const combined = new Uint8Array(256);
  for (const r of receipts) for (const [i, b] of r.logsBloom.entries()) combined[i]! |= b;
  return {
    receiptsRoot: receiptsRoot(receipts),
    hash: Uint8Array.from(Buffer.from(BLOCK_HASH.slice(2), 'hex')),
    number: BLOCK_NUMBER,
    gasUsed: receipts.length ? receipts[receipts.length - 1]!.cumulativeGasUsed : 0n,
    logsBloom: combined,
  };
}
const hashesOf = (n: number) =>
  Array.from({ length: n }, (_, i) => Uint8Array.from(Buffer.from(txHash(i).slice(2), 'hex')));

describe('receipt encoding', () => {
  it("matches viem's RLP of [status, cumulativeGasUsed, logsBloom, logs] with the type prefix", () => {
    fc.assert(
      fc.property(receiptsArb, (receipts) => {
        for (const r of receipts) expect(toHex(encodeReceipt(r))).toBe(viemReceipt(r));
      }),
      { numRuns: 100 },
    );
  });

  it('decodeReceipt(encodeReceipt(r)) == r', () => {
    fc.assert(
      fc.property(receiptsArb, (receipts) => {
        for (const r of receipts) expect(decodeReceipt(encodeReceipt(r))).toEqual(r);
      }),
      { numRuns: 100 },
    );
  });

  it('decodeReceipt is strict', () => {
    const r: Receipt = { type: 2, status: 1, cumulativeGasUsed: 21000n, logsBloom: new Uint8Array(256), logs: [] };
    const enc = encodeReceipt(r);
    expect(() => decodeReceipt(new Uint8Array(0))).toThrow();
    expect(() => decodeReceipt(Uint8Array.of(0x05, ...enc.subarray(1)))).toThrow(/type/);
    expect(() => decodeReceipt(Uint8Array.of(0x7e, ...enc.subarray(1)))).toThrow(/type/);
    expect(() => decodeReceipt(enc.subarray(0, enc.length - 1))).toThrow();
    const badStatus = toRlp(['0x02', '0x5208', viemHex(new Uint8Array(256)), []] as never);
    expect(() => decodeReceipt(Uint8Array.from(Buffer.from(badStatus.slice(2), 'hex')))).toThrow(/status/);
    const preByzantium = toRlp([`0x${'11'.repeat(32)}`, '0x5208', viemHex(new Uint8Array(256)), []] as never);
    expect(() => decodeReceipt(Uint8Array.from(Buffer.from(preByzantium.slice(2), 'hex')))).toThrow(/pre-Byzantium/);
    expect(() => encodeReceipt({ ...r, type: 5 })).toThrow(RangeError);
  });
});

describe('logs bloom', () => {
  it('equals the Yellow Paper M3:2048 computed independently', () => {
    fc.assert(
      fc.property(fc.array(logArb, { maxLength: 6 }), (logs) => {
        expect(logsBloom(logs)).toEqual(referenceBloom(logs));
      }),
      { numRuns: 200 },
    );
  });

  it('bloomMayContain is true for every address and topic of the logs; false on the empty bloom', () => {
    fc.assert(
      fc.property(fc.array(logArb, { minLength: 1, maxLength: 6 }), (logs) => {
        const bloom = logsBloom(logs);
        for (const l of logs) {
          expect(bloomMayContain(bloom, l.address)).toBe(true);
          for (const t of l.topics) expect(bloomMayContain(bloom, t)).toBe(true);
        }
        expect(bloomCoversLogs(bloom, logs)).toBe(true);
        expect(bloomMayContain(new Uint8Array(256), logs[0]!.address)).toBe(false);
        expect(bloomCoversLogs(new Uint8Array(256), logs)).toBe(false);
      }),
      { numRuns: 100 },
    );
    expect(() => bloomMayContain(new Uint8Array(255), Uint8Array.of(1))).toThrow();
  });
});

describe('receipts root and single-receipt proofs', () => {
  it('the empty block has the empty-trie root', () => {
    expect(receiptsRoot([])).toEqual(EMPTY_TRIE_ROOT);
  });

  it('receiptsRoot equals the insertion-built trie and the keyed sorted builder', () => {
    fc.assert(
      fc.property(receiptsArb, (receipts) => {
        const t = new MerklePatriciaTrie();
        for (const [i, r] of receipts.entries()) t.put(indexKey(i), encodeReceipt(r));
        const root = receiptsRoot(receipts);
        expect(t.root()).toEqual(root);
        expect(trieRoot(receipts.map((r, i) => [indexKey(i), encodeReceipt(r)] as const))).toEqual(root);
      }),
      { numRuns: 60 },
    );
  });

  it("every receipt's proof verifies and returns the receipt with its logs", () => {
    fc.assert(
      fc.property(receiptsArb, (receipts) => {
        const root = receiptsRoot(receipts);
        for (const [i, r] of receipts.entries())
          expect(verifyReceiptProof(root, i, receiptProof(receipts, i))).toEqual(r);
        if (receipts.length) expect(verifyReceiptProof(toHex(root), 0, receiptProof(receipts, 0))).toEqual(receipts[0]);
      }),
      { numRuns: 40 },
    );
  });

  it('a proof for index i does not prove index j; absent indices are rejected; mutated proofs are rejected', () => {
    fc.assert(
      fc.property(receiptsArb, fc.nat(), fc.nat(), (receipts, a, flip) => {
        fc.pre(receipts.length >= 2);
        const root = receiptsRoot(receipts);
        const i = a % receipts.length;
        const j = (i + 1) % receipts.length;
        const proof = receiptProof(receipts, i);
        // index j with i's proof: either rejected, or (paths sharing all nodes) the true receipt j
        try {
          expect(verifyReceiptProof(root, j, proof)).toEqual(receipts[j]);
        } catch (e) {
          expect((e as { check?: string }).check).toBe('receipts.proof');
        }
        // beyond the last receipt: absent
        const trie = new MerklePatriciaTrie();
        for (const [k, r] of receipts.entries()) trie.put(indexKey(k), encodeReceipt(r));
        expectCheck(
          () => verifyReceiptProof(root, receipts.length, trie.prove(indexKey(receipts.length))),
          'receipts.proof',
        );
        // a flipped bit anywhere
        const bad = proof.map((n) => n.slice());
        const node = bad[flip % bad.length]!;
        node[(flip >> 3) % node.length]! ^= 1 << (flip & 7);
        expectCheck(() => verifyReceiptProof(root, i, bad), 'receipts.proof');
      }),
      { numRuns: 150 },
    );
    expect(() => receiptProof([], 0)).toThrow(RangeError);
  });
});

describe('eth_getBlockReceipts decoding and verification', () => {
  it('honest receipts decode and verify against the block', () => {
    fc.assert(
      fc.property(receiptsArb, (receipts) => {
        const decoded = decodeRpcBlockReceipts(rpcReceiptsJson(receipts));
        expect(
          decoded.map((r) => ({
            type: r.type,
            status: r.status,
            cumulativeGasUsed: r.cumulativeGasUsed,
            logsBloom: r.logsBloom,
            logs: r.logs.map((l) => ({ address: l.address, topics: l.topics, data: l.data })),
          })),
        ).toEqual(receipts);
        verifyBlockReceipts(commitment(receipts), decoded, hashesOf(receipts.length));
        verifyBlockReceipts({ receiptsRoot: receiptsRoot(receipts) }, decoded);
      }),
      { numRuns: 60 },
    );
  });

  // A fixed block with logs in several receipts, for exhaustive mutations.
  const fixed: Receipt[] = fc.sample(
    receiptsArb.filter((rs) => rs.length >= 4 && rs.filter((r) => r.logs.some((l) => l.topics.length > 0)).length >= 2),
    { numRuns: 1, seed: 42 },
  )[0]!;
  const firstWithLog = fixed.findIndex((r) => r.logs.some((l) => l.topics.length > 0));
  const verify = (json: any[], hashes = hashesOf(fixed.length)) =>
    verifyBlockReceipts(commitment(fixed), decodeRpcBlockReceipts(json), hashes);

  it('the fixed block verifies', () => {
    expect(() => verify(rpcReceiptsJson(fixed))).not.toThrow();
  });

  it('every consensus-field change is rejected with the right check', () => {
    const mutate = (f: (json: any[]) => void, check: string) => {
      const json = clone(rpcReceiptsJson(fixed));
      f(json);
      expectCheck(() => verify(json), check);
    };
    mutate((j) => (j[1].status = j[1].status === '0x1' ? '0x0' : '0x1'), 'receipts.root');
    mutate((j) => (j[1].type = j[1].type === '0x2' ? '0x1' : '0x2'), 'receipts.root');
    mutate((j) => (j[0].cumulativeGasUsed = toQuantity(BigInt(j[0].cumulativeGasUsed) + 1n)), 'receipts.gas-used');
    mutate((j) => (j[0].gasUsed = toQuantity(BigInt(j[0].gasUsed) + 1n)), 'receipts.gas-used');
    // moving gas between receipts keeps the totals: only the root catches it
    mutate((j) => {
      j[0].cumulativeGasUsed = toQuantity(BigInt(j[0].cumulativeGasUsed) + 1n);
      j[0].gasUsed = toQuantity(BigInt(j[0].gasUsed) + 1n);
      j[1].gasUsed = toQuantity(BigInt(j[1].gasUsed) - 1n);
    }, 'receipts.root');
    mutate((j) => {
      const last = j[j.length - 1];
      last.cumulativeGasUsed = toQuantity(BigInt(last.cumulativeGasUsed) + 1n);
      last.gasUsed = toQuantity(BigInt(last.gasUsed) + 1n);
    }, 'receipts.gas-used');
    const log = (j: any[]) => j[firstWithLog].logs.find((l: any) => l.topics.length > 0);
    mutate((j) => (log(j).data = log(j).data + '00'), 'receipts.root');
    mutate((j) => (log(j).address = flipHexDigit(log(j).address, 0)), 'receipts.logs-bloom');
    mutate((j) => (log(j).topics[0] = flipHexDigit(log(j).topics[0], 7)), 'receipts.logs-bloom');
    mutate((j) => log(j).topics.pop(), 'receipts.logs-bloom');
    mutate((j) => (j[firstWithLog].logsBloom = flipHexDigit(j[firstWithLog].logsBloom, 100)), 'receipts.logs-bloom');
    mutate((j) => (j[2].transactionIndex = '0x7'), 'receipts.position');
    mutate((j) => (j[2].blockHash = flipHexDigit(j[2].blockHash, 3)), 'receipts.position');
    mutate((j) => (j[2].blockNumber = '0x1'), 'receipts.position');
    mutate((j) => (j[2].transactionHash = flipHexDigit(j[2].transactionHash, 3)), 'receipts.tx-hash');
    mutate((j) => (log(j).logIndex = toQuantity(BigInt(log(j).logIndex) + 1n)), 'receipts.log-position');
    mutate(
      (j) =>
        (log(j).transactionHash =
          j[0].transactionHash === log(j).transactionHash ? j[1].transactionHash : j[0].transactionHash),
      'receipts.log-position',
    );
    mutate((j) => (log(j).removed = true), 'receipts.log-position');
    mutate((j) => j.pop(), 'receipts.tx-hash');
    mutate((j) => ([j[0], j[1]] = [j[1], j[0]]), 'receipts.position');
  });

  it('without transaction hashes, a dropped last receipt is caught by the gas total and the root', () => {
    const json = rpcReceiptsJson(fixed);
    json.pop();
    expectCheck(() => verifyBlockReceipts(commitment(fixed), decodeRpcBlockReceipts(json)), 'receipts.gas-used');
    expectCheck(
      () => verifyBlockReceipts({ receiptsRoot: receiptsRoot(fixed) }, decodeRpcBlockReceipts(json)),
      'receipts.root',
    );
  });

  it('the block bloom must be the OR of the receipt blooms', () => {
    const c = commitment(fixed);
    c.logsBloom = c.logsBloom.slice();
    c.logsBloom[0]! ^= 0x80;
    expectCheck(() => verifyBlockReceipts(c, decodeRpcBlockReceipts(rpcReceiptsJson(fixed))), 'receipts.block-bloom');
  });

  it('decoding is strict and names the JSON path', () => {
    const bad = (f: (json: any[]) => void, path: string) => {
      const json = clone(rpcReceiptsJson(fixed));
      f(json);
      expectDecodeError(() => decodeRpcBlockReceipts(json), path);
    };
    bad((j) => delete j[1].type, '$[1].type');
    bad((j) => (j[1].type = '0x7e'), '$[1].type');
    bad((j) => (j[1].status = '0x2'), '$[1].status');
    bad((j) => (delete j[1].status, (j[1].root = `0x${'00'.repeat(32)}`)), '$[1].root');
    bad((j) => (j[1].logsBloom = '0x00'), '$[1].logsBloom');
    bad((j) => (j[1].cumulativeGasUsed = '0x0' + j[1].cumulativeGasUsed.slice(2)), '$[1].cumulativeGasUsed');
    bad(
      (j) => (log0(j).topics = [...log0(j).topics, ...Array(5).fill(`0x${'00'.repeat(32)}`)]),
      `$[${firstWithLog}].logs[0].topics`,
    );
    bad((j) => (log0(j).removed = 'no'), `$[${firstWithLog}].logs[0].removed`);
    bad((j) => (j[0].to = '0x12'), '$[0].to');
    expectDecodeError(() => decodeRpcBlockReceipts({}), '$');
    function log0(j: any[]) {
      return j[firstWithLog].logs[0];
    }
  });
});
