/**
 * Typed msgpack codecs of the Alys model: round trips, a differential check against an oracle built from
 * the spec table and encoded by @msgpack/msgpack, spec layout facts, and single-field mutations that must
 * each be rejected with a DecodeError at the right field path.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { encode as referenceEncode } from '@msgpack/msgpack';
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { DecodeError, ProtocolError } from '../../../src/protocol/errors.js';
import { MsgpackWriter } from '../../../src/protocol/codec/msgpack-wire.js';
import {
  ApproveBlockCodec,
  AuxPowCodec,
  AuxPowHeaderCodec,
  BitcoinHeaderCodec,
  ConsensusBlockCodec,
  IndividualApprovalCodec,
  MerkleBranchCodec,
  PubsubMessageCodec,
  SignedConsensusBlockCodec,
  TransactionCodec,
  TxInCodec,
  TxOutCodec,
  decodeMsgpack,
  decodePubsubMessage,
  decodeSignedBlockMsgpack,
  encodeMsgpack,
  encodePubsubMessage,
  encodeSignedBlockMsgpack,
  type MsgpackCodec,
  type PubsubMessage,
} from '../../../src/protocol/codec/msgpack.js';
import * as M from './model.js';
import type { ONode } from './model.js';
import type { SignedConsensusBlock } from '../../../src/protocol/types.js';

const ascii = (s: string) => new TextEncoder().encode(s);

function roundTrip<T>(codec: MsgpackCodec<T>, arb: fc.Arbitrary<T>, runs = 100): void {
  fc.assert(
    fc.property(arb, (value) => {
      const bytes = encodeMsgpack(codec, value);
      const decoded = decodeMsgpack(codec, bytes);
      expect(decoded).toEqual(value);
      expect(bytesToHex(encodeMsgpack(codec, decoded))).toBe(bytesToHex(bytes));
    }),
    { numRuns: runs },
  );
}

describe('round trips: decode(encode(x)) == x and re-encoding is identical', () => {
  test('TxIn', () => roundTrip(TxInCodec, M.txIn));
  test('TxOut (full u64 range)', () => roundTrip(TxOutCodec, M.txOut()));
  test('Transaction', () => roundTrip(TransactionCodec, M.transaction()));
  test('BitcoinHeader', () => roundTrip(BitcoinHeaderCodec, M.bitcoinHeader));
  test('MerkleBranch', () => roundTrip(MerkleBranchCodec, M.merkleBranch));
  test('AuxPow', () => roundTrip(AuxPowCodec, M.auxPow()));
  test('AuxPowHeader', () => roundTrip(AuxPowHeaderCodec, M.auxPowHeader()));
  test('ConsensusBlock', () => roundTrip(ConsensusBlockCodec, M.consensusBlock(), 60));
  test('SignedConsensusBlock', () => roundTrip(SignedConsensusBlockCodec, M.signedBlock(), 60));
  test('IndividualApproval', () => roundTrip(IndividualApprovalCodec, M.individualApproval));
  test('ApproveBlock', () => roundTrip(ApproveBlockCodec, M.approveBlock));
  test('PubsubMessage (all four variants)', () => roundTrip(PubsubMessageCodec, M.pubsubMessage(), 120));
});

describe('differential: our bytes == @msgpack/msgpack encoding of the spec-shaped oracle tree', () => {
  const same = (ours: Uint8Array, oracle: ONode) => expect(bytesToHex(ours)).toBe(bytesToHex(M.oracleEncode(oracle)));

  test('SignedConsensusBlock', () => {
    fc.assert(
      fc.property(M.signedBlock({ safeValues: true }), (b) => {
        same(encodeSignedBlockMsgpack(b), M.oSigned(b, '$'));
      }),
      { numRuns: 80 },
    );
  });
  test('PubsubMessage', () => {
    fc.assert(
      fc.property(M.pubsubMessage({ safeValues: true }), (m) => {
        same(encodePubsubMessage(m), M.oPubsub(m, '$'));
      }),
      { numRuns: 120 },
    );
  });
  test('a large transaction list (str16/str32 hex strings, array16 header)', () => {
    const b = M.defaultBlock();
    b.executionPayload.transactions = Array.from({ length: 40 }, (_, i) => M.hex(new Uint8Array(i * 900).fill(i)));
    b.executionPayload.transactions.push(M.hex(new Uint8Array(40_000).fill(7))); // 80 002 chars → str32
    same(encodeMsgpack(ConsensusBlockCodec, b), M.oBlock(b, '$'));
    expect(decodeMsgpack(ConsensusBlockCodec, encodeMsgpack(ConsensusBlockCodec, b))).toEqual(b);
  });
});

describe('layout facts stated in alys-protocol.md', () => {
  test('1.1/2.1: a ConsensusBlock starts 97, then parent_hash as str8 of 66 chars (d9 42 "0x…")', () => {
    const bytes = encodeMsgpack(ConsensusBlockCodec, M.defaultBlock());
    expect(bytesToHex(bytes.subarray(0, 5))).toBe('97d9423078');
  });
  test('1.1: a TxOut value of 2^64-1 is cf ff…ff and a negative tx version uses write_sint', () => {
    const tx = {
      version: -1,
      lockTime: 0,
      inputs: [],
      outputs: [{ value: (1n << 64n) - 1n, scriptPubkey: new Uint8Array() }],
    };
    expect(bytesToHex(encodeMsgpack(TransactionCodec, tx))).toBe('94ff0090' + '9192cfffffffffffffffffc400');
  });
  test('1.1: witness elements are arrays of u8 ints: 01 ff → 92 01 cc ff', () => {
    const txin = {
      prevTxid: new Uint8Array(32),
      prevVout: 0,
      scriptSig: new Uint8Array(),
      sequence: 0,
      witness: [new Uint8Array([1, 0xff])],
    };
    expect(bytesToHex(encodeMsgpack(TxInCodec, txin)).endsWith('9192' + '01ccff')).toBe(true);
  });
  test('1.11: PubsubMessage prefixes 81 ae "ConsensusBlock", 81 ac "ApproveBlock", 81 a8 "QueuePow", 81 b0 "PegoutSignatures"', () => {
    fc.assert(
      fc.property(M.pubsubMessage(), (m) => {
        const bytes = encodePubsubMessage(m);
        const expected = concatBytes(new Uint8Array([0x81, 0xa0 | m.type.length]), ascii(m.type));
        expect(bytesToHex(bytes.subarray(0, expected.length))).toBe(bytesToHex(expected));
      }),
      { numRuns: 40 },
    );
    const lengths = { ConsensusBlock: 0xae, ApproveBlock: 0xac, QueuePow: 0xa8, PegoutSignatures: 0xb0 };
    for (const [name, marker] of Object.entries(lengths)) expect(0xa0 | name.length).toBe(marker);
  });
  test('1.11: the PegoutSignatures body is a map keyed by bin32 txid → [33-int pubkey, [bin64…]]', () => {
    const entry = {
      txid: new Uint8Array(32).fill(0xaa),
      pubkey: new Uint8Array(33).fill(2),
      signatures: [new Uint8Array(64).fill(9)],
    };
    const bytes = encodePubsubMessage({ type: 'PegoutSignatures', entries: [entry] });
    const body = bytesToHex(bytes.subarray(18));
    expect(body).toBe(
      '81' + 'c420' + 'aa'.repeat(32) + '92' + 'dc0021' + '02'.repeat(33) + '91' + 'c440' + '09'.repeat(64),
    );
  });
  test('1.8: the empty aggregate approval is "0x0080" + 96 zero bytes', () => {
    const w = new MsgpackWriter();
    SignedConsensusBlockCodec.write(
      w,
      { message: M.defaultBlock(), signature: { aggregationBits: '0x0080', aggregateSignature: M.zeros(96) } },
      '$',
    );
    const tail = bytesToHex(w.finish()).slice(-2 * (2 + 6 + 2 + 194));
    expect(tail).toBe('92a6' + bytesToHex(ascii('0x0080')) + 'd9c2' + bytesToHex(ascii(M.zeros(96))));
  });
});

describe('decoding is lenient where rmp-serde is, and re-encoding canonical', () => {
  test('non-minimal integers are accepted and re-encoded in the shortest form', () => {
    const canonical = encodeMsgpack(BitcoinHeaderCodec, {
      version: 2,
      prevBlockhash: new Uint8Array(32),
      merkleRoot: new Uint8Array(32),
      time: 5,
      bits: 6,
      nonce: 7,
    });
    // same header with every integer in its widest form
    const wide = hexToBytes(
      '96' +
        'd30000000000000002' +
        'c420' +
        '00'.repeat(32) +
        'c420' +
        '00'.repeat(32) +
        'ce00000005' +
        'cf0000000000000006' +
        'd10007',
    );
    const decoded = decodeMsgpack(BitcoinHeaderCodec, wide);
    expect(bytesToHex(encodeMsgpack(BitcoinHeaderCodec, decoded))).toBe(bytesToHex(canonical));
  });
  test('a Lighthouse quoted u64 written as a msgpack integer is accepted (quoted_u64 does not require quotes)', () => {
    const b = M.defaultBlock();
    b.executionPayload.gasLimit = 30_000_000n;
    const tree = M.oBlock(b, '$');
    const gasLimit = M.leaves(tree).find((l) => l.path === '$.execution_payload.gas_limit')!;
    const bytes = M.oracleEncode(M.replace(tree, gasLimit, { ...gasLimit, value: 30_000_000 }));
    expect(decodeMsgpack(ConsensusBlockCodec, bytes)).toEqual(b);
  });
  test('hex strings in upper case are accepted and normalised', () => {
    const b = M.defaultBlock();
    b.parentHash = `0x${'ab'.repeat(32)}`;
    const tree = M.oBlock(b, '$');
    const leaf = M.leaves(tree).find((l) => l.path === '$.parent_hash')!;
    const bytes = M.oracleEncode(M.replace(tree, leaf, { ...leaf, value: `0x${'AB'.repeat(32)}` }));
    expect(decodeMsgpack(ConsensusBlockCodec, bytes).parentHash).toBe(b.parentHash);
  });
});

// ------------------------------------------------------------------------------------------ mutations

type Leaf = Extract<ONode, { t: 'leaf' }>;
const raw = (hex: string) => new M.RawMsgpack(hexToBytes(hex));

/** Values that must be refused in place of a leaf of each kind. */
function badValues(l: Leaf): unknown[] {
  const s = typeof l.value === 'string' ? l.value : '';
  const common = [null, true];
  switch (l.kind) {
    case 'hash256':
    case 'address':
    case 'hexfixed':
      return [...common, s.slice(0, -2), s + '00', s.slice(0, -1) + 'g', s.slice(2), hexToBytes(s.slice(2)), 0];
    case 'hexvar':
      return [
        ...common,
        s + '0',
        '0X' + s.slice(2),
        'x' + s,
        ...(l.len ? [`0x${'00'.repeat(l.len + 1)}`] : []),
        hexToBytes(s.slice(2)),
        7,
      ];
    case 'bits':
      return [...common, '0x0000', '0x007f', '0x80', '0x008000', '0x0180ff', hexToBytes('0080'), 0x0080];
    case 'quoted':
      return [
        ...common,
        '0' + s,
        '+' + s,
        '-1',
        '',
        ' 1',
        '1.0',
        '18446744073709551616',
        '0x10',
        raw('ff'),
        raw('cb3ff0000000000000'),
        new Uint8Array([0x31]),
      ];
    case 'quoted256':
      return [...common, '0' + s, '+1', '1' + '0'.repeat(78), 5, '-0'];
    case 'u8':
      return [...common, 256, -1, '1', raw('cb0000000000000000')];
    case 'u32':
      return [...common, 0x1_0000_0000, -1, '1', raw('cb0000000000000000'), new Uint8Array([1])];
    case 'i32':
      return [...common, 0x8000_0000, -0x8000_0001, '1'];
    case 'u64':
      return [...common, -1, raw('cf0020000000000000'), raw('cfffffffffffffffff'), '1', raw('cb0000000000000000')];
    case 'u64full':
      return [...common, -1, raw('d3ffffffffffffffff'), '1', raw('cb0000000000000000')];
    case 'bin32':
      return [...common, new Uint8Array(31), new Uint8Array(33), 'a'.repeat(32), Array.from({ length: 32 }, () => 0)];
    case 'bin64':
      return [...common, new Uint8Array(63), new Uint8Array(65), 'a'.repeat(64)];
    case 'bin':
      return [...common, 'ab', 5, [1, 2]];
    case 'u8array': {
      const arr = Array.from(l.value as Uint8Array);
      const out: unknown[] = [
        ...common,
        new M.RawMsgpack(referenceEncode(new Uint8Array(arr))),
        [...arr, 256],
        [...arr, -1],
        [...arr, 'a'],
      ];
      if (l.len) out.push(arr.slice(1), [4, ...arr.slice(1)], [0, ...arr.slice(1)]);
      return out;
    }
    case 'variant':
      return ['Unknown', 'consensusBlock', 0, null, ascii(s)];
  }
}

function expectRejectedAt(codec: MsgpackCodec<unknown>, bytes: Uint8Array, path: string, what: string): void {
  try {
    decodeMsgpack(codec, bytes);
  } catch (e) {
    expect(e, what).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).path.startsWith(`${path}@`), `${what}: got path ${(e as DecodeError).path}`).toBe(true);
    return;
  }
  expect.unreachable(`${what}: accepted`);
}

/** A block with every optional part present, so every field kind appears. */
const fullSigned = M.signedBlock({ safeValues: true }).filter(
  (b) =>
    b.message.auxpowHeader !== null &&
    b.message.auxpowHeader.auxpow !== null &&
    b.message.auxpowHeader.auxpow.coinbaseTxn.inputs.some((i) => i.witness.some((e) => e.length > 0)) &&
    b.message.auxpowHeader.auxpow.coinbaseTxn.outputs.length > 0 &&
    b.message.pegoutPaymentProposal !== null &&
    b.message.executionPayload.withdrawals.length > 0 &&
    b.message.executionPayload.transactions.length > 0 &&
    b.message.pegins.length > 0,
);

function mutateAll(codec: MsgpackCodec<unknown>, tree: ONode): number {
  let checked = 0;
  for (const l of M.leaves(tree)) {
    for (const bad of badValues(l)) {
      const bytes = M.oracleEncode(M.replace(tree, l, { ...l, value: bad }));
      expectRejectedAt(
        codec,
        bytes,
        l.path,
        `${l.path} := ${bad instanceof M.RawMsgpack ? bytesToHex(bad.bytes) : JSON.stringify(bad, (_k, v) => (v instanceof Uint8Array ? `bytes(${v.length})` : v))}`,
      );
      checked++;
    }
  }
  for (const s of M.structs(tree)) {
    if (s.items.length === 0) continue;
    const shorter = M.oracleEncode(M.replace(tree, s, { ...s, items: s.items.slice(0, -1) }));
    expectRejectedAt(codec, shorter, s.path, `${s.path} missing its last field`);
    const longer = M.oracleEncode(M.replace(tree, s, { ...s, items: [...s.items, { t: 'nil', path: '' }] }));
    expectRejectedAt(codec, longer, s.path, `${s.path} with an extra field`);
    checked += 2;
  }
  return checked;
}

describe('mutations: every single-field change of a valid value is a DecodeError at that field', () => {
  test('SignedConsensusBlock with every optional part present', () => {
    const blocks = fc.sample(fullSigned, { numRuns: 3, seed: 42 });
    let checked = 0;
    for (const b of blocks) checked += mutateAll(SignedConsensusBlockCodec as MsgpackCodec<unknown>, M.oSigned(b, '$'));
    expect(checked).toBeGreaterThan(500);
  });

  test('PubsubMessage of each variant', () => {
    const samples = fc.sample(M.pubsubMessage({ safeValues: true }), { numRuns: 40, seed: 7 });
    const byType = new Map<string, PubsubMessage>();
    for (const m of samples)
      if (!byType.has(m.type) && (m.type !== 'PegoutSignatures' || m.entries.some((e) => e.signatures.length > 0)))
        byType.set(m.type, m);
    expect([...byType.keys()].sort()).toEqual(['ApproveBlock', 'ConsensusBlock', 'PegoutSignatures', 'QueuePow']);
    for (const m of byType.values()) mutateAll(PubsubMessageCodec as MsgpackCodec<unknown>, M.oPubsub(m, '$'));
  });

  test('list bound: 17 withdrawals are refused when decoding and when encoding (extra_data/bloom lengths are covered above)', () => {
    const [b] = fc.sample(M.consensusBlock({ safeValues: true }), { numRuns: 1, seed: 3 });
    const w17 = Array.from({ length: 17 }, () => ({ index: 0n, validatorIndex: 0n, address: M.zeros(20), amount: 1n }));
    const tooMany = { ...b!, executionPayload: { ...b!.executionPayload, withdrawals: w17 } };
    expectRejectedAt(
      ConsensusBlockCodec as MsgpackCodec<unknown>,
      M.oracleEncode(M.oBlock(tooMany, '$')),
      '$.execution_payload.withdrawals',
      '17 withdrawals',
    );
    expect(() => encodeMsgpack(ConsensusBlockCodec, tooMany)).toThrow(/withdrawals/);
  });

  test('PegoutSignatures: duplicate txid keys are refused (stricter than a Rust HashMap)', () => {
    const e = { txid: new Uint8Array(32).fill(1), pubkey: new Uint8Array(33).fill(2), signatures: [] };
    const one = encodePubsubMessage({ type: 'PegoutSignatures', entries: [e] });
    const body = one.subarray(19); // after 81 b0 "PegoutSignatures" 81
    const dup = concatBytes(one.subarray(0, 18), new Uint8Array([0x82]), body, body);
    expect(() => decodePubsubMessage(dup)).toThrow(/duplicate txid/);
    expect(() => encodePubsubMessage({ type: 'PegoutSignatures', entries: [e, e] })).toThrow(ProtocolError);
  });

  test('trailing bytes after a message and structs sent as maps are refused', () => {
    const [b] = fc.sample(M.signedBlock(), { numRuns: 1, seed: 11 });
    const bytes = encodeSignedBlockMsgpack(b!);
    expect(() => decodeSignedBlockMsgpack(concatBytes(bytes, new Uint8Array([0])))).toThrow(/trailing/);
    const asMap = concatBytes(new Uint8Array([0x82, 0xa7]), ascii('message'), bytes.subarray(1));
    expect(() => decodeSignedBlockMsgpack(asMap)).toThrow(DecodeError);
  });
});

describe('hostile bytes', () => {
  test('every truncation of an encoded block is a DecodeError', () => {
    const [b] = fc.sample(fullSigned, { numRuns: 1, seed: 5 });
    const bytes = encodeSignedBlockMsgpack(b as SignedConsensusBlock);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeSignedBlockMsgpack(bytes.subarray(0, cut)), `cut ${cut}`).toThrow(DecodeError);
    }
  });

  test('random bytes and random single-byte corruptions give a value or a DecodeError, nothing else', () => {
    const [b] = fc.sample(M.signedBlock(), { numRuns: 1, seed: 9 });
    const bytes = encodeSignedBlockMsgpack(b!);
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
        const copy = bytes.slice();
        copy[at] = v;
        try {
          decodeSignedBlockMsgpack(copy);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (random) => {
        try {
          decodePubsubMessage(random);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 1500 },
    );
  });

  test('a huge claimed transaction list inside a block is refused without allocating it', () => {
    const b = M.defaultBlock();
    const bytes = encodeMsgpack(ConsensusBlockCodec, b);
    const hex = bytesToHex(bytes);
    // transactions is the empty array 90 right before the empty withdrawals 90 near the end: 90 90 90 c0 90
    const at = hex.lastIndexOf('9090' + '90c090');
    expect(at).toBeGreaterThan(0);
    const hostile = hexToBytes(hex.slice(0, at) + 'ddffffffff' + hex.slice(at + 2));
    expect(() => decodeMsgpack(ConsensusBlockCodec, hostile)).toThrow(/at most 1048576 elements|cannot fit/);
  });
});
