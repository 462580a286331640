/**
 * JSON (consensus RPC) forms: round trips, serde_json key order, agreement with the msgpack form on the
 * block hash, the real createauxblock example and real Lighthouse payloads, and every single-field
 * mutation rejected with a DecodeError at its JSON path.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from '@noble/hashes/utils.js';
import { DecodeError, ProtocolError } from '../../../src/protocol/errors.js';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';
import {
  decodeAuxBlockJson,
  decodeAuxPowHeaderJson,
  decodeAuxPowJson,
  decodeConsensusBlockJson,
  decodeExecutionPayloadJson,
  decodeSignedBlockJson,
  decodeTransactionJson,
  encodeAuxBlockJson,
  encodeAuxPowHeaderJson,
  encodeAuxPowJson,
  encodeConsensusBlockJson,
  encodeExecutionPayloadJson,
  encodeSignedBlockJson,
  encodeTransactionJson,
  type AuxBlock,
  type JsonValue,
} from '../../../src/protocol/codec/json.js';
import { ConsensusBlockCodec, decodeMsgpack, encodeMsgpack } from '../../../src/protocol/codec/msgpack.js';
import { signingRoot } from '../../../src/protocol/block.js';
import * as M from './model.js';

const viaText = (v: JsonValue): unknown => JSON.parse(JSON.stringify(v));

function roundTrip<T>(arb: fc.Arbitrary<T>, enc: (x: T) => JsonValue, dec: (v: unknown) => T, runs = 100): void {
  fc.assert(
    fc.property(arb, (x) => {
      const json = enc(x);
      expect(dec(viaText(json))).toEqual(x);
      expect(JSON.stringify(enc(dec(viaText(json))))).toBe(JSON.stringify(json));
    }),
    { numRuns: runs },
  );
}

const auxBlock = fc.record<AuxBlock>({
  hash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(M.hex),
  chainId: M.u32,
  previousBlockHash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(M.hex),
  coinbaseValue: M.u64Safe,
  bits: M.u32,
  height: M.u64Safe,
  target: M.u256,
});

describe('round trips through JSON text: decode(encode(x)) == x', () => {
  test('Transaction', () =>
    roundTrip(
      M.transaction({ safeValues: true }),
      (x) => encodeTransactionJson(x),
      (v) => decodeTransactionJson(v),
    ));
  test('AuxPow', () =>
    roundTrip(
      M.auxPow({ safeValues: true }),
      (x) => encodeAuxPowJson(x),
      (v) => decodeAuxPowJson(v),
    ));
  test('AuxPowHeader', () =>
    roundTrip(
      M.auxPowHeader({ safeValues: true }),
      (x) => encodeAuxPowHeaderJson(x),
      (v) => decodeAuxPowHeaderJson(v),
    ));
  test('ConsensusBlock', () =>
    roundTrip(
      M.consensusBlock({ safeValues: true }),
      (x) => encodeConsensusBlockJson(x),
      (v) => decodeConsensusBlockJson(v),
      60,
    ));
  test('SignedConsensusBlock', () =>
    roundTrip(
      M.signedBlock({ safeValues: true }),
      (x) => encodeSignedBlockJson(x),
      (v) => decodeSignedBlockJson(v),
      60,
    ));
  test('AuxBlock', () =>
    roundTrip(
      auxBlock,
      (x) => encodeAuxBlockJson(x),
      (v) => decodeAuxBlockJson(v),
    ));
});

describe('serde_json shape', () => {
  function expectSortedKeys(v: unknown, path = '$'): void {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) expectSortedKeys(x, `${path}[${i}]`);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      expect(keys, path).toEqual([...keys].sort());
      for (const k of keys) expectSortedKeys((v as Record<string, unknown>)[k], `${path}.${k}`);
    }
  }

  test('objects have their keys in BTreeMap (sorted) order, as json!(value) emits them', () => {
    fc.assert(
      fc.property(M.signedBlock({ safeValues: true }), auxBlock, (b, a) => {
        expectSortedKeys(encodeSignedBlockJson(b));
        expectSortedKeys(encodeAuxBlockJson(a));
      }),
      { numRuns: 40 },
    );
  });

  test('field names are the Rust names of alys-protocol.md 1.2–1.7, 1.10, 1.11', () => {
    const [b] = fc.sample(
      M.signedBlock({ safeValues: true }).filter(
        (x) =>
          x.message.auxpowHeader?.auxpow != null &&
          x.message.executionPayload.withdrawals.length > 0 &&
          x.message.pegoutPaymentProposal?.inputs.length !== undefined &&
          x.message.pegoutPaymentProposal.inputs.length > 0 &&
          x.message.pegoutPaymentProposal.outputs.length > 0,
      ),
      { numRuns: 1, seed: 1 },
    );
    const j = encodeSignedBlockJson(b!) as any;
    const keys = (o: object) => Object.keys(o).sort();
    expect(keys(j)).toEqual(['message', 'signature']);
    expect(keys(j.message)).toEqual([
      'auxpow_header',
      'execution_payload',
      'finalized_pegouts',
      'parent_hash',
      'pegins',
      'pegout_payment_proposal',
      'slot',
    ]);
    expect(keys(j.message.auxpow_header)).toEqual([
      'auxpow',
      'bits',
      'chain_id',
      'fee_recipient',
      'height',
      'range_end',
      'range_start',
    ]);
    expect(keys(j.message.auxpow_header.auxpow)).toEqual([
      'block_hash',
      'blockchain_branch',
      'coinbase_branch',
      'coinbase_txn',
      'parent_block',
    ]);
    expect(keys(j.message.auxpow_header.auxpow.parent_block)).toEqual([
      'bits',
      'merkle_root',
      'nonce',
      'prev_blockhash',
      'time',
      'version',
    ]);
    expect(keys(j.message.auxpow_header.auxpow.coinbase_branch)).toEqual(['branch_hash', 'branch_side_mask']);
    expect(keys(j.message.execution_payload)).toEqual([
      'base_fee_per_gas',
      'block_hash',
      'block_number',
      'extra_data',
      'fee_recipient',
      'gas_limit',
      'gas_used',
      'logs_bloom',
      'parent_hash',
      'prev_randao',
      'receipts_root',
      'state_root',
      'timestamp',
      'transactions',
      'withdrawals',
    ]);
    expect(keys(j.message.execution_payload.withdrawals[0])).toEqual(['address', 'amount', 'index', 'validator_index']);
    expect(keys(j.message.pegout_payment_proposal)).toEqual(['input', 'lock_time', 'output', 'version']);
    expect(keys(j.message.pegout_payment_proposal.input[0])).toEqual([
      'previous_output',
      'script_sig',
      'sequence',
      'witness',
    ]);
    expect(keys(j.message.pegout_payment_proposal.output[0])).toEqual(['script_pubkey', 'value']);
    expect(keys(j.signature)).toEqual(['aggregate_signature', 'aggregation_bits']);
  });

  test('1.10: bitcoin hashes are display order (reversed), OutPoint is "txid:vout", scripts/witness plain hex, numbers are numbers', () => {
    const internal = new Uint8Array(32);
    internal[0] = 0xab; // internal first byte is the last display byte
    const tx = {
      version: 2,
      lockTime: 0,
      inputs: [
        {
          prevTxid: internal,
          prevVout: 7,
          scriptSig: new Uint8Array([0xde, 0xad]),
          sequence: 4294967293,
          witness: [new Uint8Array([1, 0xff]), new Uint8Array()],
        },
      ],
      outputs: [{ value: 1_000_000n, scriptPubkey: new Uint8Array([0x51, 0x20]) }],
    };
    expect(encodeTransactionJson(tx)).toEqual({
      input: [
        { previous_output: `${'00'.repeat(31)}ab:7`, script_sig: 'dead', sequence: 4294967293, witness: ['01ff', ''] },
      ],
      lock_time: 0,
      output: [{ script_pubkey: '5120', value: 1000000 }],
      version: 2,
    });
    expect(JSON.stringify(encodeTransactionJson(tx))).toBe(
      `{"input":[{"previous_output":"${'00'.repeat(31)}ab:7","script_sig":"dead","sequence":4294967293,"witness":["01ff",""]}],"lock_time":0,"output":[{"script_pubkey":"5120","value":1000000}],"version":2}`,
    );
  });

  test('JSON and msgpack forms of the same block have the same signing root', () => {
    fc.assert(
      fc.property(M.consensusBlock({ safeValues: true }), (b) => {
        const fromJson = decodeConsensusBlockJson(viaText(encodeConsensusBlockJson(b)));
        const fromMsgpack = decodeMsgpack(ConsensusBlockCodec, encodeMsgpack(ConsensusBlockCodec, b));
        const root = bytesToHex(signingRoot(b));
        expect(bytesToHex(signingRoot(fromJson))).toBe(root);
        expect(bytesToHex(signingRoot(fromMsgpack))).toBe(root);
      }),
      { numRuns: 60 },
    );
  });

  test('upper-case hex is accepted on input and normalised (Rust hex decoders accept it)', () => {
    const b = M.defaultBlock();
    const j = viaText(encodeConsensusBlockJson(b)) as any;
    j.parent_hash = `0x${'AB'.repeat(32)}`;
    j.execution_payload.transactions = ['0xDEADbeef'];
    const d = decodeConsensusBlockJson(j);
    expect(d.parentHash).toBe(`0x${'ab'.repeat(32)}`);
    expect(d.executionPayload.transactions).toEqual(['0xdeadbeef']);
  });

  test('encoders refuse values serde_json could not have produced from a valid Rust value', () => {
    const b = M.defaultBlock();
    expect(() => encodeConsensusBlockJson({ ...b, parentHash: '0xAB' })).toThrow(ProtocolError);
    expect(() => encodeConsensusBlockJson({ ...b, slot: -1 })).toThrow(ProtocolError);
    expect(() =>
      encodeConsensusBlockJson({
        ...b,
        executionPayload: { ...b.executionPayload, extraData: `0x${'00'.repeat(33)}` },
      }),
    ).toThrow(ProtocolError);
    const tx = { version: 1, lockTime: 0, inputs: [], outputs: [{ value: 1n << 60n, scriptPubkey: new Uint8Array() }] };
    expect(() => encodeTransactionJson(tx)).toThrow(/not a u64 representable/);
    expect(() =>
      encodeSignedBlockJson({ message: b, signature: { aggregationBits: '0x0000', aggregateSignature: M.zeros(96) } }),
    ).toThrow(/delimiter/);
  });
});

// ------------------------------------------------------------------------------------------ mutations

type Kind =
  | 'hash256'
  | 'address'
  | 'bloom'
  | 'bls96'
  | 'extra'
  | 'rawtx'
  | 'bits'
  | 'quoted'
  | 'quoted256'
  | 'display32'
  | 'outpoint'
  | 'plainhex'
  | 'u32'
  | 'i32'
  | 'u64';

/** The kind of a JSON leaf, from its path (fails loudly on a path this table does not know). */
function kindOf(path: string): Kind {
  const rules: [RegExp, Kind][] = [
    [/\.execution_payload\.logs_bloom$/, 'bloom'],
    [/\.execution_payload\.extra_data$/, 'extra'],
    [/\.execution_payload\.transactions\[\d+\]$/, 'rawtx'],
    [/\.execution_payload\.(fee_recipient)$|\.withdrawals\[\d+\]\.address$|\.fee_recipient$/, 'address'],
    [/\.execution_payload\.(parent_hash|state_root|receipts_root|prev_randao|block_hash)$/, 'hash256'],
    [
      /\.execution_payload\.(block_number|gas_limit|gas_used|timestamp)$|\.withdrawals\[\d+\]\.(index|validator_index|amount)$/,
      'quoted',
    ],
    [/\.execution_payload\.base_fee_per_gas$/, 'quoted256'],
    [/\.(range_start|range_end)$|^\$\.message\.parent_hash$|^\$\.parent_hash$/, 'hash256'],
    [/\.aggregation_bits$/, 'bits'],
    [/\.aggregate_signature$/, 'bls96'],
    [
      /\.auxpow\.block_hash$|\.prev_blockhash$|\.merkle_root$|\.branch_hash\[\d+\]$|\.pegins\[\d+\]\[[01]\]$/,
      'display32',
    ],
    [/\.previous_output$/, 'outpoint'],
    [/\.script_sig$|\.script_pubkey$|\.witness\[\d+\]$/, 'plainhex'],
    [/\.(version)$/, 'i32'],
    [/\.(lock_time|sequence|time|bits|nonce|branch_side_mask|chain_id)$/, 'u32'],
    [/\.(slot|height|value)$/, 'u64'],
  ];
  for (const [re, kind] of rules) if (re.test(path)) return kind;
  throw new Error(`test table does not know ${path}`);
}

function badValues(kind: Kind, v: unknown): unknown[] {
  const s = typeof v === 'string' ? v : '';
  const nonString = [1, null, [], {}, true];
  switch (kind) {
    case 'hash256':
    case 'address':
    case 'bloom':
    case 'bls96':
      return [...nonString, s.slice(0, -2), s + '00', s.slice(0, -1) + 'g', s.slice(2), '0X' + s.slice(2), s + '0'];
    case 'extra':
      return [...nonString, `0x${'00'.repeat(33)}`, s + '0', s.slice(2) + '00', '0xgg'];
    case 'rawtx':
      return [...nonString, s + '0', 'ab', '0x0g'];
    case 'bits':
      return [...nonString, '0x0000', '0x007f', '0x80', '0x008000', '0080'];
    case 'quoted':
      return [1, null, [], '0' + s, '+' + s, '-1', '', ' 1', '1.0', '1e3', '18446744073709551616', '0x10'];
    case 'quoted256':
      return [1, null, '0' + s, '+1', (1n << 256n).toString(), '-0'];
    case 'display32':
      return [...nonString, s.slice(0, -2), s + '00', s.slice(0, -1) + 'g', '0x' + s.slice(2)];
    case 'outpoint': {
      const [txid, vout] = s.split(':');
      return [
        ...nonString,
        txid!,
        `${txid}:0${vout}`,
        `${txid}:+${vout}`,
        `${txid}:4294967296`,
        `${txid}:1:2`,
        `:${vout}`,
        `${txid!.slice(2)}:${vout}`,
        `${txid}:`,
        `${txid}:-1`,
        `${txid}: 1`,
      ];
    }
    case 'plainhex':
      return [...nonString, s + '0', '0x' + s, 'zz'];
    case 'u32':
      return ['1', null, -1, 0x1_0000_0000, 1.5, Number.NaN, [], true];
    case 'i32':
      return ['1', null, 0x8000_0000, -0x8000_0001, 1.5];
    case 'u64':
      return ['1', null, -1, 2 ** 53, 1.5, 1e300];
  }
}

/** Every leaf and container of a JSON tree with a setter into a deep copy. */
function* nodes(root: unknown): Generator<{
  path: string;
  value: unknown;
  container: boolean;
  withValue: (v: unknown) => unknown;
  without?: () => unknown;
}> {
  function* rec(v: unknown, path: string, rebuild: (x: unknown) => unknown): Generator<any> {
    const container = v !== null && typeof v === 'object';
    yield { path, value: v, container, withValue: rebuild };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++)
        yield* rec(v[i], `${path}[${i}]`, (x) => rebuild(v.map((y, j) => (j === i ? x : y))));
    } else if (container) {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        yield* rec(o[k], `${path}.${k}`, (x) => rebuild({ ...o, [k]: x }));
        yield {
          path: `${path}.${k}`,
          value: undefined,
          container: false,
          withValue: rebuild,
          without: () => {
            const copy = { ...o };
            delete copy[k];
            return rebuild(copy);
          },
        };
      }
    }
  }
  yield* rec(root, '$', (x) => x);
}

function expectRejectedAt(decode: (v: unknown) => unknown, input: unknown, path: string, what: string): void {
  try {
    decode(input);
  } catch (e) {
    expect(e, what).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).path, what).toBe(path);
    return;
  }
  expect.unreachable(`${what}: accepted`);
}

function mutateAll(json: unknown, decode: (v: unknown) => unknown): number {
  let checked = 0;
  for (const n of nodes(json)) {
    if (n.without) {
      expectRejectedAt(decode, n.without(), n.path, `${n.path} removed`);
      checked++;
      continue;
    }
    if (n.container) {
      if (!Array.isArray(n.value)) {
        const extra = n.withValue({ ...(n.value as object), surprise: 1 });
        expectRejectedAt(decode, extra, `${n.path}.surprise`, `${n.path} with an unknown field`);
        expectRejectedAt(decode, n.withValue([]), n.path, `${n.path} as an array`);
      } else {
        expectRejectedAt(decode, n.withValue({}), n.path, `${n.path} as an object`);
        if (/\.pegins\[\d+\]$/.test(n.path))
          expectRejectedAt(
            decode,
            n.withValue([...(n.value as unknown[]), (n.value as unknown[])[0]]),
            n.path,
            `${n.path} with 3 elements`,
          );
      }
      expectRejectedAt(decode, n.withValue('x'), n.path, `${n.path} as a string`);
      checked += 3;
      continue;
    }
    if (n.value === null) {
      expectRejectedAt(decode, n.withValue(5), n.path, `${n.path} (null option) as a number`);
      checked++;
      continue;
    }
    const kind = kindOf(n.path);
    for (const bad of badValues(kind, n.value)) {
      expectRejectedAt(decode, n.withValue(bad), n.path, `${n.path} (${kind}) := ${JSON.stringify(bad)}`);
      checked++;
    }
  }
  return checked;
}

describe('mutations: every single change is a DecodeError at its exact JSON path', () => {
  const full = M.signedBlock({ safeValues: true }).filter(
    (b) =>
      b.message.auxpowHeader?.auxpow != null &&
      b.message.auxpowHeader.auxpow.coinbaseTxn.inputs.some((i) => i.witness.length > 0) &&
      b.message.auxpowHeader.auxpow.coinbaseBranch.branchHash.length > 0 &&
      b.message.pegoutPaymentProposal !== null &&
      b.message.executionPayload.withdrawals.length > 0 &&
      b.message.executionPayload.transactions.length > 0 &&
      b.message.pegins.length > 0,
  );

  test('SignedConsensusBlock (getblockbyheight result)', () => {
    const [b] = fc.sample(full, { numRuns: 1, seed: 17 });
    const checked = mutateAll(viaText(encodeSignedBlockJson(b!)), (v) => decodeSignedBlockJson(v));
    expect(checked).toBeGreaterThan(800);
  });

  test('AuxPowHeader (getqueuedpow result) with auxpow: null', () => {
    const [h] = fc.sample(
      M.auxPowHeader({ safeValues: true }).filter((x) => x.auxpow === null),
      { numRuns: 1, seed: 2 },
    );
    mutateAll(viaText(encodeAuxPowHeaderJson(h!)), (v) => decodeAuxPowHeaderJson(v));
  });

  test('AuxBlock (createauxblock result)', () => {
    const a: AuxBlock = {
      hash: `0x${'12'.repeat(32)}`,
      chainId: 7,
      previousBlockHash: `0x${'34'.repeat(32)}`,
      coinbaseValue: 0,
      bits: 0x1d00ffff,
      height: 9,
      target: 0xffffn << 208n,
    };
    const json = viaText(encodeAuxBlockJson(a)) as Record<string, unknown>;
    const cases: [string, unknown[]][] = [
      ['hash', [`0x${'12'.repeat(32)}`, '12'.repeat(31), '12'.repeat(33), 'zz'.repeat(32), 1, null]],
      ['previousblockhash', [`0x${'34'.repeat(32)}`, '34'.repeat(31), null]],
      ['bits', ['0x1d00ffff', '1D00FFFF', '01d00ffff', '', '123456789', '-1', 0x1d00ffff, null]],
      ['_target', ['0x' + (json._target as string), (json._target as string).slice(2), 'zz', 5, null]],
      ['chainid', [-1, 2 ** 32, '7', null]],
      ['coinbasevalue', [-1, 2 ** 53, '0', null]],
      ['height', [-1, 1.5, '9', null]],
    ];
    for (const [key, bads] of cases)
      for (const bad of bads)
        expectRejectedAt(
          (v) => decodeAuxBlockJson(v),
          { ...json, [key]: bad },
          `$.${key}`,
          `${key} := ${JSON.stringify(bad)}`,
        );
    const missing = { ...json };
    delete missing.height;
    expectRejectedAt((v) => decodeAuxBlockJson(v), missing, '$.height', 'height removed');
    expectRejectedAt((v) => decodeAuxBlockJson(v), { ...json, jsonrpc: '2.0' }, '$.jsonrpc', 'unknown key');
  });

  test('list bounds: 17 withdrawals, too many bytes of extra_data', () => {
    const b = viaText(encodeConsensusBlockJson(M.defaultBlock())) as any;
    b.execution_payload.withdrawals = Array.from({ length: 17 }, () => ({
      index: '0',
      validator_index: '0',
      address: M.zeros(20),
      amount: '1',
    }));
    expectRejectedAt((v) => decodeConsensusBlockJson(v), b, '$.execution_payload.withdrawals', '17 withdrawals');
  });
});

// ------------------------------------------------------------------------------------------ real data

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

describeVectors('real JSON: alys-real.json createauxblock example, eth-capella-blocks.json Lighthouse payloads', () => {
  test('the createauxblock example (Alys test parse_aux_block_rpc) decodes and re-encodes byte-identically', () => {
    const json = loadVectors<any>('alys-real.json').auxblock_rpc.json;
    const a = decodeAuxBlockJson(json);
    expect(a.hash).toBe(`0x${json.hash}`); // raw byte order: no reversal
    expect(a.previousBlockHash).toBe(`0x${json.previousblockhash}`);
    expect(a.bits).toBe(parseInt(json.bits, 16));
    expect(a.chainId).toBe(json.chainid);
    expect(a.target).toBe(BigInt(`0x${json._target}`));
    expect(encodeAuxBlockJson(a)).toEqual(json);
    expect(JSON.stringify(encodeAuxBlockJson(a))).toBe(JSON.stringify(sortKeys(json)));
  });

  const blocks = loadVectors<any>('eth-capella-blocks.json').blocks.filter((b: any) => b.beacon_execution_payload);
  test('at least the two beacon-API payloads are present', () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  for (const blk of blocks) {
    test(`${blk.name}: the Lighthouse payload JSON decodes, re-encodes identically, and survives msgpack`, () => {
      const json = blk.beacon_execution_payload;
      const p = decodeExecutionPayloadJson(json);
      expect(p.transactions.length).toBe(json.transactions.length);
      expect(p.withdrawals.length).toBe(json.withdrawals.length);
      expect(p.blockNumber).toBe(BigInt(json.block_number));
      expect(JSON.stringify(encodeExecutionPayloadJson(p))).toBe(JSON.stringify(sortKeys(json)));
      const block = { ...M.defaultBlock(), executionPayload: p };
      const again = decodeMsgpack(ConsensusBlockCodec, encodeMsgpack(ConsensusBlockCodec, block));
      expect(again).toEqual(block);
      expect(bytesToHex(encodeMsgpack(ConsensusBlockCodec, block))).toBe(
        bytesToHex(M.oracleEncode(M.oBlock(block, '$'))),
      );
    });
  }
});
