/**
 * Transaction consensus encoding (rust-bitcoin 0.30.2 quirks, alys-protocol.md 1.5), txid/wtxid.
 * Reference hashes are computed with node:crypto, independent of the @noble code under test.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, bytesToHex, fromHex, reverse } from '../../../src/protocol/bytes.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import {
  decodeTransaction,
  encodeTransaction,
  readTransaction,
  txid,
  usesWitnessSerialization,
  wtxid,
  type Transaction,
} from '../../../src/protocol/bitcoin/tx.js';
import { readHeader } from '../../../src/protocol/bitcoin/header.js';
import { describeVectors, loadVectors, vectorsAvailable } from '../../helpers/vectors.js';

const dsha = (b: Uint8Array): Uint8Array => {
  const once = createHash('sha256').update(b).digest();
  return new Uint8Array(createHash('sha256').update(once).digest());
};
const display = (b: Uint8Array): string => bytesToHex(reverse(b));

/** Independent witness stripper for BIP144 bytes: drop marker/flag and witness section. */
function stripWitness(raw: Uint8Array): Uint8Array {
  if (!(raw[4] === 0 && raw[5] === 1)) return raw;
  // Parse just enough to find where outputs end, then splice.
  let p = 6;
  const varint = (): number => {
    const f = raw[p++]!;
    if (f < 0xfd) return f;
    if (f === 0xfd) {
      const v = raw[p]! | (raw[p + 1]! << 8);
      p += 2;
      return v;
    }
    if (f === 0xfe) {
      const v = new DataView(raw.buffer, raw.byteOffset + p).getUint32(0, true);
      p += 4;
      return v;
    }
    throw new Error('unexpected 0xff varint in test data');
  };
  const nIn = varint();
  // (`p += varint()` would read p before varint() advances it)
  for (let i = 0; i < nIn; i++) {
    p += 36;
    const len = varint();
    p += len + 4;
  }
  const nOut = varint();
  for (let i = 0; i < nOut; i++) {
    p += 8;
    const len = varint();
    p += len;
  }
  const endOutputs = p;
  const out = new Uint8Array(4 + (endOutputs - 6) + 4);
  out.set(raw.subarray(0, 4), 0);
  out.set(raw.subarray(6, endOutputs), 4);
  out.set(raw.subarray(raw.length - 4), 4 + endOutputs - 6);
  return out;
}

describeVectors('bitcoin tx: bitcoin-merkle.json transactions', () => {
  if (!vectorsAvailable) return; // describe.skip still runs this body: do not touch the files
  const v = loadVectors('bitcoin-merkle.json');
  const all: { name: string; tx: any }[] = [
    ...v.block_100000.txs.map((tx: any) => ({ name: `100000#${tx.index}`, tx })),
    ...v.block_830000.txs.map((tx: any) => ({ name: `830000#${tx.index}`, tx })),
  ];

  it('has every transaction of the vector file (4 + 7)', () => {
    expect(all.length).toBe(11);
  });

  for (const { name, tx } of all) {
    it(`${name}: decode/encode round trip, txid and wtxid`, () => {
      const raw = fromHex(tx.hex);
      const decoded = decodeTransaction(raw);
      expect(bytesToHex(encodeTransaction(decoded))).toBe(tx.hex);
      expect(display(txid(decoded))).toBe(tx.txid);
      // independent: txid = dsha of the witness-stripped bytes, wtxid = dsha of the full bytes
      expect(display(txid(decoded))).toBe(display(dsha(stripWitness(raw))));
      expect(bytesToHex(wtxid(decoded))).toBe(bytesToHex(dsha(raw)));
      if (tx.segwit === true) {
        expect(usesWitnessSerialization(decoded)).toBe(true);
        expect(bytesToHex(wtxid(decoded))).not.toBe(bytesToHex(txid(decoded)));
      } else {
        expect(bytesToHex(wtxid(decoded))).toBe(bytesToHex(txid(decoded)));
      }
      expect(bytesToHex(encodeTransaction(decoded, { witness: false }))).toBe(bytesToHex(stripWitness(raw)));
    });
  }

  it('block 100000: the raw block parses into exactly its 4 transactions with the listed txids', () => {
    const block = fromHex(v.block_100000.block_hex);
    const r = new ByteReader(block, 'block');
    readHeader(r);
    const n = r.compactSize();
    expect(n).toBe(v.block_100000.nTx);
    const txids: string[] = [];
    for (let i = 0; i < n; i++) txids.push(display(txid(readTransaction(r))));
    r.end();
    expect(txids).toEqual(v.block_100000.txs.map((t: any) => t.txid));
  });
});

describeVectors('bitcoin tx: alys-real.json transactions', () => {
  if (!vectorsAvailable) return; // describe.skip still runs this body: do not touch the files
  const v = loadVectors('alys-real.json');
  for (const mm of v.merged_mining_coinbases.vectors) {
    it(`${mm.name}: round trip, txid, outputs`, () => {
      const raw = fromHex(mm.coinbase_tx_hex);
      const tx = decodeTransaction(raw);
      expect(bytesToHex(encodeTransaction(tx))).toBe(mm.coinbase_tx_hex);
      expect(display(txid(tx))).toBe(mm.coinbase_txid);
      expect(usesWitnessSerialization(tx)).toBe(mm.segwit_serialization);
      expect(tx.outputs.map((o) => [Number(o.value), bytesToHex(o.scriptPubkey)])).toEqual(
        mm.outputs.map((o: any) => [o.value_sats, o.script_pubkey_hex]),
      );
    });
  }
  it('regtest peg-in: round trip and txid', () => {
    const tx = decodeTransaction(fromHex(v.pegin.tx_hex));
    expect(bytesToHex(encodeTransaction(tx))).toBe(v.pegin.tx_hex);
    expect(display(txid(tx))).toBe(v.pegin.txid);
    expect(tx.outputs[0]!.value).toBe(BigInt(v.pegin.outputs[0].value_sats));
  });
});

// ---------------------------------------------------------------- rust-bitcoin 0.30.2 quirks

const zero32 = new Uint8Array(32);
function simpleTx(over: Partial<Transaction> = {}): Transaction {
  return {
    version: 2,
    lockTime: 0,
    inputs: [
      { prevTxid: zero32, prevVout: 0xffffffff, scriptSig: Uint8Array.of(1, 2), sequence: 0xffffffff, witness: [] },
    ],
    outputs: [{ value: 5000n, scriptPubkey: Uint8Array.of(0x51) }],
    ...over,
  };
}

describe('bitcoin tx: rust-bitcoin 0.30.2 quirks', () => {
  it('a zero-input transaction is written in BIP144 form with 00 01 and no witness data', () => {
    const tx = simpleTx({ inputs: [] });
    const bytes = encodeTransaction(tx);
    // version | 00 01 | 00 inputs | 01 output (value, script) | locktime
    expect(bytesToHex(bytes)).toBe('02000000' + '0001' + '00' + '01' + '8813000000000000' + '0151' + '00000000');
    expect(decodeTransaction(bytes)).toEqual(tx);
    // txid hashes the legacy form: version | 00 | outputs | locktime
    const legacy = fromHex('02000000' + '00' + '01' + '8813000000000000' + '0151' + '00000000');
    expect(bytesToHex(encodeTransaction(tx, { witness: false }))).toBe(bytesToHex(legacy));
    expect(bytesToHex(txid(tx))).toBe(bytesToHex(dsha(legacy)));
    expect(bytesToHex(wtxid(tx))).toBe(bytesToHex(dsha(bytes)));
  });

  it('the Alys dev-miner coinbase shape (0 inputs, 3 outputs, version 0) round-trips', () => {
    const commitment = new Uint8Array(44);
    commitment.set([0xfa, 0xbe, 0x6d, 0x6d]);
    const tx: Transaction = {
      version: 0,
      lockTime: 0,
      inputs: [],
      outputs: [
        { value: 0n, scriptPubkey: new Uint8Array(0) },
        { value: 0n, scriptPubkey: new Uint8Array(0) },
        { value: 0n, scriptPubkey: commitment },
      ],
    };
    const bytes = encodeTransaction(tx);
    expect(bytes[4]).toBe(0);
    expect(bytes[5]).toBe(1);
    expect(decodeTransaction(bytes)).toEqual(tx);
  });

  it('a legacy-form zero-input transaction cannot be read back (its output count is read as the flag)', () => {
    const legacyTwoOutputs = encodeTransaction(
      simpleTx({ inputs: [], outputs: [simpleTx().outputs[0]!, simpleTx().outputs[0]!] }),
      {
        witness: false,
      },
    );
    expect(() => decodeTransaction(legacyTwoOutputs)).toThrow(/unsupported segwit flag 2/);
  });

  it('inputs with all-empty witnesses are written in legacy form', () => {
    const tx = simpleTx();
    const bytes = encodeTransaction(tx);
    expect(bytes[4]).toBe(1); // input count, no marker
    expect(usesWitnessSerialization(tx)).toBe(false);
    expect(bytesToHex(wtxid(tx))).toBe(bytesToHex(txid(tx)));
  });

  it('one non-empty witness switches to BIP144, empty witnesses of other inputs are written as 00', () => {
    const base = simpleTx();
    const tx = simpleTx({
      inputs: [
        { ...base.inputs[0]!, witness: [Uint8Array.of(0xab)] },
        { ...base.inputs[0]!, prevVout: 1 },
      ],
    });
    const bytes = encodeTransaction(tx);
    expect(bytes[4]).toBe(0);
    expect(bytes[5]).toBe(1);
    expect(bytesToHex(bytes.subarray(bytes.length - 4 - 4))).toBe('01' + '01ab' + '00' + '00000000');
    expect(decodeTransaction(bytes)).toEqual(tx);
  });

  it('BIP144 form with inputs but no witness data is refused', () => {
    const tx = simpleTx();
    const legacy = encodeTransaction(tx);
    // insert 00 01 after the version and an empty witness (00) before the lock time
    const forged = new Uint8Array(legacy.length + 3);
    forged.set(legacy.subarray(0, 4), 0);
    forged.set([0, 1], 4);
    forged.set(legacy.subarray(4, legacy.length - 4), 6);
    forged[legacy.length + 2 - 4] = 0;
    forged.set(legacy.subarray(legacy.length - 4), legacy.length - 1);
    expect(() => decodeTransaction(forged)).toThrow(/witness flag set but no witnesses present/);
  });

  it('a segwit flag other than 1 is refused', () => {
    const bytes = encodeTransaction(simpleTx({ inputs: [] }));
    bytes[5] = 2;
    expect(() => decodeTransaction(bytes)).toThrow(/unsupported segwit flag 2/);
  });

  it('trailing bytes, truncation and non-canonical CompactSize are DecodeErrors naming the offset', () => {
    const bytes = encodeTransaction(simpleTx());
    const trailing = new Uint8Array([...bytes, 0]);
    expect(() => decodeTransaction(trailing)).toThrow(DecodeError);
    expect(() => decodeTransaction(trailing)).toThrow(/tx@\d+: 1 unexpected trailing bytes/);
    expect(() => decodeTransaction(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    // script length 2 written as fd 02 00 (non-canonical)
    const nonCanonical = new Uint8Array([...bytes.subarray(0, 41), 0xfd, 0x02, 0x00, ...bytes.subarray(42)]);
    expect(() => decodeTransaction(nonCanonical)).toThrow(/non-canonical compact size/);
  });

  it('an absurd input count fails fast as truncated', () => {
    const bytes = fromHex('02000000' + 'fe00e1f505');
    expect(() => decodeTransaction(bytes)).toThrow(/truncated: input count 100000000/);
  });

  it('a script longer than MAX_VEC_SIZE is refused', () => {
    // version, 1 input: prev 32+4, script length 4_000_001 (fe 01 09 3d 00)
    const head = fromHex('02000000' + '01' + '00'.repeat(36) + 'fe01093d00');
    const bytes = new Uint8Array(head.length + 4_000_001 + 4 + 10);
    bytes.set(head);
    expect(() => decodeTransaction(bytes)).toThrow(/more than the 4000000-byte limit/);
  });

  it('encoding refuses out-of-range fields', () => {
    expect(() => encodeTransaction(simpleTx({ version: 2 ** 31 }))).toThrow(DecodeError);
    expect(() => encodeTransaction(simpleTx({ lockTime: -1 }))).toThrow(DecodeError);
    expect(() =>
      encodeTransaction(simpleTx({ outputs: [{ value: 1n << 64n, scriptPubkey: new Uint8Array() }] })),
    ).toThrow(DecodeError);
  });
});

// ---------------------------------------------------------------- properties

const bytesArb = (max: number) => fc.uint8Array({ maxLength: max });
const txInArb = (withWitness: boolean) =>
  fc.record({
    prevTxid: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    prevVout: fc.nat({ max: 0xffffffff }),
    scriptSig: bytesArb(80),
    sequence: fc.nat({ max: 0xffffffff }),
    witness: withWitness ? fc.array(bytesArb(80), { maxLength: 4 }) : fc.constant([] as Uint8Array[]),
  });
const txArb = fc.boolean().chain((withWitness) =>
  fc.record({
    version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    lockTime: fc.nat({ max: 0xffffffff }),
    inputs: fc.array(txInArb(withWitness), { maxLength: 4 }),
    outputs: fc.array(fc.record({ value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), scriptPubkey: bytesArb(80) }), {
      maxLength: 4,
    }),
  }),
);

describe('bitcoin tx: properties', () => {
  it('encode -> decode is the identity, and txid/wtxid match an independent hash', () => {
    fc.assert(
      fc.property(txArb, (tx) => {
        // always decodable: all-empty witnesses encode legacy, zero inputs encode BIP144
        const bytes = encodeTransaction(tx);
        expect(decodeTransaction(bytes)).toEqual(tx);
        expect(bytesToHex(wtxid(tx))).toBe(bytesToHex(dsha(bytes)));
        expect(bytesToHex(txid(tx))).toBe(bytesToHex(dsha(stripWitness(bytes))));
      }),
      { numRuns: 300 },
    );
  });

  it('decode -> encode is the identity on arbitrary bytes that decode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 10, maxLength: 200 }), (bytes) => {
        let tx: Transaction;
        try {
          tx = decodeTransaction(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          return;
        }
        expect(bytesToHex(encodeTransaction(tx))).toBe(bytesToHex(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});
