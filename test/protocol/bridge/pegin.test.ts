/**
 * Peg-in detection (alys-protocol.md 6.2): the real regtest peg-in from Alys's own test
 * (`test_pegin_info`, via alys-real.json), the rust-bitcoin ASM last-token rule against an
 * independent ASM renderer, and the UTF-8 edge cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, fromHex, reverse } from '../../../src/protocol/bytes.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import type { Transaction } from '../../../src/protocol/types.js';
import { decodeTransaction } from '../../../src/protocol/bitcoin/tx.js';
import {
  extractEvmAddress,
  isValidUtf8,
  lastAsmPushData,
  parsePegIn,
  parsePegInRaw,
} from '../../../src/protocol/bridge/pegin.js';
import { createFederation, p2trScriptPubkey } from '../../../src/protocol/bridge/taproot.js';
import { parseBitcoinAddress } from '../../../src/protocol/bridge/btcaddress.js';
import { satsToWei } from '../../../src/protocol/bridge/units.js';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';
import { pubkeyOf } from './helpers.js';

// ---------------------------------------------------------------- reference ASM (test-only)

/**
 * A literal transcription of rust-bitcoin 0.30 `bytes_to_asm_fmt`, written independently of the
 * code under test. Opcode names are placeholders of the same shape ("OP_" + something): the real
 * names never decode as hex, which is all the last-token rule depends on.
 */
function referenceAsm(script: Uint8Array): string {
  let out = '';
  let atLeastOne = false;
  let i = 0;
  for (;;) {
    if (i >= script.length) break;
    const op = script[i++]!;
    let dataLen = 0;
    if (op <= 0x4b) dataLen = op;
    else if (op === 0x4c || op === 0x4d || op === 0x4e) {
      const width = op === 0x4c ? 1 : op === 0x4d ? 2 : 4;
      if (script.length - i < width) {
        out += '<unexpected end>';
        break;
      }
      dataLen = 0;
      for (let k = 0; k < width; k++) dataLen += script[i + k]! * 2 ** (8 * k);
      i += width;
    }
    if (atLeastOne) out += ' ';
    else atLeastOne = true;
    out += op === 0 ? 'OP_0' : op <= 0x4b ? `OP_PUSHBYTES_${op}` : `OP_X${op}`;
    if (dataLen > 0) {
      out += ' ';
      if (dataLen <= script.length - i) {
        out += bytesToHex(script.subarray(i, i + dataLen));
        i += dataLen;
      } else {
        out += '<push past end>';
        break;
      }
    }
  }
  return out;
}

/** Alys: `split(' ').last()` then `Vec::from_hex`. */
function referenceLastToken(script: Uint8Array): Uint8Array | null {
  const parts = referenceAsm(script).split(' ');
  const token = parts[parts.length - 1]!;
  if (token.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(token)) return null;
  return fromHex(token);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function referenceUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- helpers

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const script = (...parts: (number | Uint8Array)[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...p])));
/** 20 bytes that are not valid UTF-8 (0xff never occurs in UTF-8). */
const RAW_ADDR = Uint8Array.from({ length: 20 }, (_, i) => (i === 0 ? 0xff : i * 11));
const RAW_ADDR_HEX = `0x${bytesToHex(RAW_ADDR)}`;

function txWith(outputs: { value?: bigint; script: Uint8Array }[]): Transaction {
  return {
    version: 2,
    lockTime: 0,
    inputs: [
      { prevTxid: new Uint8Array(32), prevVout: 0, scriptSig: new Uint8Array(0), sequence: 0xfffffffd, witness: [] },
    ],
    outputs: outputs.map((o) => ({ value: o.value ?? 0n, scriptPubkey: o.script })),
  };
}

// ---------------------------------------------------------------- the real peg-in

describeVectors('real regtest peg-in (alys-real.json, Alys test_pegin_info)', () => {
  const v = loadVectors('alys-real.json').pegin;
  const raw = fromHex(v.tx_hex);
  const federationScript = p2trScriptPubkey(fromHex(v.federation_taproot_output_key));

  it('the vector federation address decodes to 5120 || its output key', () => {
    expect(bytesToHex(parseBitcoinAddress(v.federation_address)!.scriptPubkey)).toBe(bytesToHex(federationScript));
  });

  it(`parsePegInRaw finds amount ${v.expected.pegin_amount_sats} sats for ${v.expected.evm_address}`, () => {
    const info = parsePegInRaw(raw, federationScript);
    expect(info).not.toBeNull();
    expect(info!.amountSats).toBe(BigInt(v.expected.pegin_amount_sats));
    expect(info!.evmAddress).toBe(v.expected.evm_address.toLowerCase());
    expect(bytesToHex(reverse(info!.txid))).toBe(v.txid);
    expect(satsToWei(info!.amountSats)).toBe(BigInt(v.expected.minted_wei));
  });

  it('parsePegIn on the decoded transaction agrees, and every output is as the vector lists it', () => {
    const tx = decodeTransaction(raw);
    v.outputs.forEach((o: { index: number; value_sats: number; script_pubkey_hex: string }) => {
      expect(tx.outputs[o.index]!.value).toBe(BigInt(o.value_sats));
      expect(bytesToHex(tx.outputs[o.index]!.scriptPubkey)).toBe(o.script_pubkey_hex);
    });
    expect(parsePegIn(tx, federationScript)).toEqual({
      amountSats: BigInt(v.expected.pegin_amount_sats),
      evmAddress: v.expected.evm_address.toLowerCase(),
    });
  });

  it('is not a peg-in for another federation (DEV keys)', () => {
    expect(parsePegInRaw(raw, createFederation([pubkeyOf(1)]))).toBeNull();
  });

  it('is no longer a peg-in without its OP_RETURN output, or without the federation output', () => {
    const tx = decodeTransaction(raw);
    const noOpReturn = { ...tx, outputs: tx.outputs.filter((o) => o.scriptPubkey[0] !== 0x6a) };
    expect(parsePegIn(noOpReturn, federationScript)).toBeNull();
    const noFederation = {
      ...tx,
      outputs: tx.outputs.filter((o) => bytesToHex(o.scriptPubkey) !== bytesToHex(federationScript)),
    };
    expect(parsePegIn(noFederation, federationScript)).toBeNull();
  });

  it('raw bytes that are not a transaction give a DecodeError', () => {
    expect(() => parsePegInRaw(raw.subarray(0, raw.length - 1), federationScript)).toThrow(DecodeError);
  });
});

// ---------------------------------------------------------------- amount and output order

describe('parsePegIn output rules', () => {
  const fed = createFederation([pubkeyOf(1), pubkeyOf(2), pubkeyOf(3)]);
  const opret = script(0x6a, 0x14, RAW_ADDR);

  it('amount = value of the FIRST federation output', () => {
    const tx = txWith([
      { value: 5n, script: fed.scriptPubkey },
      { script: opret },
      { value: 7n, script: fed.scriptPubkey },
    ]);
    expect(parsePegIn(tx, fed)!.amountSats).toBe(5n);
  });

  it('no minimum amount (0 sats is still a peg-in)', () => {
    expect(parsePegIn(txWith([{ value: 0n, script: fed.scriptPubkey }, { script: opret }]), fed)!.amountSats).toBe(0n);
  });

  it('the EVM address may come before the federation output', () => {
    expect(parsePegIn(txWith([{ script: opret }, { value: 9n, script: fed.scriptPubkey }]), fed)).toEqual({
      amountSats: 9n,
      evmAddress: RAW_ADDR_HEX,
    });
  });

  it('the address comes from the first OP_RETURN output that yields one', () => {
    const other = Uint8Array.from({ length: 20 }, (_, i) => 0x80 + i);
    const bad = script(0x6a, 0x13, RAW_ADDR.subarray(0, 19));
    const tx = txWith([
      { value: 1n, script: fed.scriptPubkey },
      { script: bad },
      { script: opret },
      { script: script(0x6a, 0x14, other) },
    ]);
    expect(parsePegIn(tx, fed)!.evmAddress).toBe(RAW_ADDR_HEX);
  });

  it('a scriptPubKey that only starts like the federation script does not count', () => {
    const longer = Uint8Array.of(...fed.scriptPubkey, 0x00);
    expect(parsePegIn(txWith([{ value: 1n, script: longer }, { script: opret }]), fed)).toBeNull();
  });

  it('accepts the federation as its scriptPubKey bytes, rejects anything else', () => {
    const tx = txWith([{ value: 3n, script: fed.scriptPubkey }, { script: opret }]);
    expect(parsePegIn(tx, fed.scriptPubkey)).toEqual(parsePegIn(tx, fed));
    expect(() => parsePegIn(tx, {} as never)).toThrow(DecodeError);
  });
});

// ---------------------------------------------------------------- EVM address extraction

describe('extractEvmAddress (Alys extract_evm_address)', () => {
  const hex40 = bytesToHex(Uint8Array.from({ length: 20 }, (_, i) => i * 13 + 1));
  const cases: [string, Uint8Array, string | null][] = [
    ['OP_RETURN OP_PUSHBYTES_20 <20 non-UTF-8 bytes>', script(0x6a, 0x14, RAW_ADDR), RAW_ADDR_HEX],
    ['OP_PUSHDATA1 20 bytes', script(0x6a, 0x4c, 0x14, RAW_ADDR), RAW_ADDR_HEX],
    ['OP_PUSHDATA2 20 bytes', script(0x6a, 0x4d, 0x14, 0x00, RAW_ADDR), RAW_ADDR_HEX],
    ['OP_PUSHDATA4 20 bytes', script(0x6a, 0x4e, 0x14, 0, 0, 0, RAW_ADDR), RAW_ADDR_HEX],
    ['40 hex digits as text', script(0x6a, 40, ascii(hex40)), `0x${hex40}`],
    ['40 UPPERCASE hex digits as text (normalised)', script(0x6a, 40, ascii(hex40.toUpperCase())), `0x${hex40}`],
    ['0x + 40 hex digits as text', script(0x6a, 42, ascii('0x' + hex40)), `0x${hex40}`],
    ['0X + 40 hex digits (only lowercase 0x is stripped)', script(0x6a, 42, ascii('0X' + hex40)), null],
    ['0x0x + 40 hex digits', script(0x6a, 44, ascii('0x0x' + hex40)), null],
    ['39 hex digits as text', script(0x6a, 39, ascii(hex40.slice(1))), null],
    ['41 hex digits as text', script(0x6a, 41, ascii(hex40 + 'a')), null],
    ['40 hex digits with a trailing space', script(0x6a, 41, ascii(hex40 + ' ')), null],
    [
      'UTF-8 BOM + 40 hex digits (TextDecoder would strip the BOM)',
      script(0x6a, 43, Uint8Array.of(0xef, 0xbb, 0xbf, ...ascii(hex40))),
      null,
    ],
    [
      '20 raw bytes that happen to be valid ASCII (the documented edge case)',
      script(0x6a, 0x14, ascii('ABCDEFGHIJKLMNOPQRST')),
      null,
    ],
    ['20 raw bytes that are valid multi-byte UTF-8 ("é" × 10)', script(0x6a, 0x14, ascii('\xc3\xa9'.repeat(10))), null],
    [
      '20 raw bytes with an overlong UTF-8 sequence (c0 80) count as raw',
      script(0x6a, 0x14, Uint8Array.of(0xc0, 0x80, ...ascii('A'.repeat(18)))),
      `0x${'c080'}${bytesToHex(ascii('A'.repeat(18)))}`,
    ],
    [
      '20 raw bytes with a UTF-8 surrogate (ed a0 80) count as raw',
      script(0x6a, 0x14, Uint8Array.of(0xed, 0xa0, 0x80, ...ascii('B'.repeat(17)))),
      `0xeda080${bytesToHex(ascii('B'.repeat(17)))}`,
    ],
    ['19 raw non-UTF-8 bytes', script(0x6a, 0x13, RAW_ADDR.subarray(0, 19)), null],
    ['21 raw non-UTF-8 bytes', script(0x6a, 0x15, RAW_ADDR, 0xff), null],
    ['last push wins: <1 byte> <address>', script(0x6a, 0x01, 0xff, 0x14, RAW_ADDR), RAW_ADDR_HEX],
    ['last push wins: <address> <1 byte>', script(0x6a, 0x14, RAW_ADDR, 0x01, 0xff), null],
    ['a trailing opcode name is the last token', script(0x6a, 0x14, RAW_ADDR, 0x51), null],
    ['a trailing OP_0 is the last token', script(0x6a, 0x14, RAW_ADDR, 0x00), null],
    ['a trailing zero-length OP_PUSHDATA1', script(0x6a, 0x14, RAW_ADDR, 0x4c, 0x00), null],
    ['truncated OP_PUSHDATA1 length: <unexpected end>', script(0x6a, 0x14, RAW_ADDR, 0x4c), null],
    ['truncated OP_PUSHDATA2 length', script(0x6a, 0x14, RAW_ADDR, 0x4d, 0x01), null],
    ['push past end', script(0x6a, 0x15, RAW_ADDR), null],
    ['OP_PUSHDATA1 past end', script(0x6a, 0x4c, 0x15, RAW_ADDR), null],
    ['bare OP_RETURN', script(0x6a), null],
    ['not OP_RETURN first', script(0x00, 0x6a, 0x14, RAW_ADDR), null],
    ['OP_RETURN not first (P2WPKH-like)', script(0x00, 0x14, RAW_ADDR), null],
    ['empty script', script(), null],
  ];
  for (const [name, s, want] of cases) {
    it(`${name} → ${want ?? 'none'}`, () => {
      expect(extractEvmAddress(s)).toBe(want);
      // and the reference ASM agrees on what the last token decodes to
      const token = referenceLastToken(s);
      const ours = s.length > 0 && s[0] === 0x6a ? lastAsmPushData(s) : null;
      if (s.length > 0 && s[0] === 0x6a)
        expect(ours === null ? null : bytesToHex(ours)).toBe(token === null ? null : bytesToHex(token));
    });
  }

  it('reference ASM renders the normal form as Alys logs it', () => {
    expect(referenceAsm(script(0x6a, 0x14, RAW_ADDR))).toBe(`OP_X106 OP_PUSHBYTES_20 ${bytesToHex(RAW_ADDR)}`);
  });
});

describe('properties', () => {
  /** Scripts biased towards push opcodes and truncation. */
  const scriptArb = fc
    .array(
      fc.oneof(
        fc.integer({ min: 0, max: 0xff }).map((b) => [b]),
        fc.uint8Array({ minLength: 0, maxLength: 30 }).map((d) => [d.length, ...d]),
        fc.uint8Array({ minLength: 0, maxLength: 30 }).map((d) => [0x4c, d.length, ...d]),
        fc.uint8Array({ minLength: 0, maxLength: 30 }).map((d) => [0x4d, d.length, 0, ...d]),
        fc.constantFrom([0x4c], [0x4d, 1], [0x4e, 1, 0], [0x4e, 0xff, 0xff, 0xff, 0xff]),
      ),
      { maxLength: 8 },
    )
    // Extraction only ever looks at scripts that start with OP_RETURN (never empty).
    .map((parts) => Uint8Array.from([0x6a, ...parts.flat()]));

  it('lastAsmPushData equals the last token of an independent rust-bitcoin ASM transcription', () => {
    fc.assert(
      fc.property(scriptArb, (s) => {
        const ours = lastAsmPushData(s);
        const ref = referenceLastToken(s);
        expect(ours === null ? null : bytesToHex(ours)).toBe(ref === null ? null : bytesToHex(ref));
      }),
      { numRuns: 3000 },
    );
  });

  it('isValidUtf8 equals fatal TextDecoder (BOM kept) on random and near-UTF-8 bytes', () => {
    const nearUtf8 = fc.array(
      fc.oneof(
        fc.integer({ min: 0, max: 0xff }).map((b) => [b]),
        fc.string({ unit: 'grapheme' }).map((t) => [...new TextEncoder().encode(t)]),
        fc.constantFrom(
          [0xed, 0xa0, 0x80],
          [0xf4, 0x90, 0x80, 0x80],
          [0xe0, 0x80, 0x80],
          [0xf0, 0x8f, 0xbf, 0xbf],
          [0xc1, 0xbf],
          [0xef, 0xbb, 0xbf],
          [0xf4, 0x8f, 0xbf, 0xbf],
          [0xe2, 0x82],
        ),
      ),
      { maxLength: 10 },
    );
    fc.assert(
      fc.property(
        nearUtf8.map((p) => Uint8Array.from(p.flat())),
        (b) => {
          expect(isValidUtf8(b)).toBe(referenceUtf8(b));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('any 20-byte non-UTF-8 push after OP_RETURN is the address; any text address round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.boolean(), (addr, prefixed) => {
        const asRaw = extractEvmAddress(script(0x6a, 0x14, addr));
        expect(asRaw).toBe(referenceUtf8(addr) ? null : `0x${bytesToHex(addr)}`);
        const text = (prefixed ? '0x' : '') + bytesToHex(addr);
        expect(extractEvmAddress(script(0x6a, text.length, ascii(text)))).toBe(`0x${bytesToHex(addr)}`);
      }),
    );
  });
});
