/**
 * Bitcoin address parsing with rust-bitcoin 0.30 `Address::from_str` rules (used by Alys's
 * `parse_bitcoin_address` for peg-out requests, alys-protocol.md 6.3). Valid and invalid
 * encodings are generated with @scure/base's encoders (independent of the decoder under test).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32, bech32m, createBase58check } from '@scure/base';
import { bytesToHex } from '../../../src/protocol/bytes.js';
import { parseBitcoinAddress } from '../../../src/protocol/bridge/btcaddress.js';

const b58c = createBase58check(sha256);
const segwit = (hrp: string, version: number, program: Uint8Array, variant?: 'bech32' | 'bech32m') => {
  const v = variant ?? (version === 0 ? 'bech32' : 'bech32m');
  return (v === 'bech32' ? bech32 : bech32m).encode(hrp, [version, ...bech32.toWords(program)], false);
};
const versionOp = (v: number) => (v === 0 ? '00' : (0x50 + v).toString(16));
const bytes = (n: number, fill = 0x11) => new Uint8Array(n).fill(fill);
/** Uppercase one letter of the data part. */
const mixCase = (a: string) => {
  const i = a.slice(a.lastIndexOf('1') + 1).search(/[a-z]/) + a.lastIndexOf('1') + 1;
  return a.slice(0, i) + a[i]!.toUpperCase() + a.slice(i + 1);
};

describe('segwit addresses', () => {
  it('BIP-173 example P2WPKH (uppercase)', () => {
    expect(bytesToHex(parseBitcoinAddress('BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4')!.scriptPubkey)).toBe(
      '0014751e76e8199196d454941c45d1b3a323f1433bd6',
    );
  });

  it('spec 6.1 federation addresses decode to 5120 || output key on every network', () => {
    const key = '8c06c75814b105f303f0ac4c5f62ea60701ac95e3cec794b82c2167b55eb58cb';
    for (const [a, network] of [
      ['bcrt1p3srvwkq5kyzlxqls43x97ch2vpcp4j278nk8jjuzcgt8k40ttr9s4vj934', 'regtest'],
      ['tb1p3srvwkq5kyzlxqls43x97ch2vpcp4j278nk8jjuzcgt8k40ttr9sc4cry0', 'testnet'],
      ['bc1p3srvwkq5kyzlxqls43x97ch2vpcp4j278nk8jjuzcgt8k40ttr9s0awv7q', 'mainnet'],
    ] as const) {
      const parsed = parseBitcoinAddress(a)!;
      expect(parsed.network).toBe(network);
      expect(parsed.witnessVersion).toBe(1);
      expect(bytesToHex(parsed.scriptPubkey)).toBe('5120' + key);
      expect(parseBitcoinAddress(a.toUpperCase())).toEqual(parsed);
    }
  });

  it('property: every valid (version, program) on bc/tb/bcrt round-trips to OP_n <program>', () => {
    const arb = fc
      .tuple(
        fc.integer({ min: 0, max: 16 }),
        fc.integer({ min: 2, max: 40 }),
        fc.constantFrom('bc', 'tb', 'bcrt'),
        fc.boolean(),
      )
      .filter(([v, len]) => v !== 0 || len === 20 || len === 32)
      .chain(([v, len, hrp, upper]) =>
        fc.tuple(
          fc.constant(v),
          fc.uint8Array({ minLength: len, maxLength: len }),
          fc.constant(hrp),
          fc.constant(upper),
        ),
      );
    fc.assert(
      fc.property(arb, ([v, program, hrp, upper]) => {
        let a: string = segwit(hrp, v, program);
        if (upper) a = a.toUpperCase();
        const parsed = parseBitcoinAddress(a);
        expect(parsed).not.toBeNull();
        expect(bytesToHex(parsed!.scriptPubkey)).toBe(
          versionOp(v) + program.length.toString(16).padStart(2, '0') + bytesToHex(program),
        );
      }),
    );
  });

  const p32 = bytes(32);
  const invalid: [string, string][] = [
    ['v1 with the bech32 checksum (BIP-350 variant rule)', segwit('bc', 1, p32, 'bech32')],
    ['v0 with the bech32m checksum', segwit('bc', 0, bytes(20), 'bech32m')],
    ['witness version 17', bech32m.encode('bc', [17, ...bech32.toWords(p32)], false)],
    ['program of 1 byte', segwit('bc', 1, bytes(1))],
    ['program of 41 bytes', segwit('bc', 1, bytes(41))],
    ['v0 program of 16 bytes', segwit('bc', 0, bytes(16))],
    ['v0 program of 33 bytes', segwit('bc', 0, bytes(33))],
    ['empty payload', bech32.encode('bc', [], false)],
    ['non-zero padding bits', bech32m.encode('bc', [1, ...bech32.toWords(p32).slice(0, -1), 1], false)],
    [
      'excess padding (a whole extra 5-bit group after a 20-byte program)',
      bech32m.encode('bc', [1, ...bech32.toWords(bytes(20)), 0], false),
    ],
    ['mixed case', mixCase(segwit('tb', 1, p32))],
    ['bad checksum', segwit('bc', 1, p32).slice(0, -1) + 'q'],
    ['unknown hrp ltc (then not base58 either)', segwit('ltc', 1, p32)],
    ['mixed-case hrp Bc (not a segwit prefix, not base58)', 'Bc' + segwit('bc', 1, p32).slice(2)],
    ['invalid character b', segwit('bc', 1, p32).slice(0, 10) + 'b' + segwit('bc', 1, p32).slice(11)],
  ];
  for (const [name, a] of invalid) {
    it(`rejects ${name}`, () => {
      expect(parseBitcoinAddress(a)).toBeNull();
    });
  }
});

describe('base58 addresses', () => {
  const hash = Uint8Array.from({ length: 20 }, (_, i) => i * 7 + 3);
  const h = bytesToHex(hash);
  const enc = (version: number, body = hash) => b58c.encode(Uint8Array.of(version, ...body));
  it('P2PKH / P2SH, mainnet and testnet', () => {
    expect(parseBitcoinAddress(enc(0x00))).toEqual({
      type: 'p2pkh',
      network: 'mainnet',
      scriptPubkey: Uint8Array.from(Buffer.from(`76a914${h}88ac`, 'hex')),
    });
    expect(parseBitcoinAddress(enc(0x05))).toEqual({
      type: 'p2sh',
      network: 'mainnet',
      scriptPubkey: Uint8Array.from(Buffer.from(`a914${h}87`, 'hex')),
    });
    expect(parseBitcoinAddress(enc(0x6f))!.network).toBe('testnet');
    expect(bytesToHex(parseBitcoinAddress(enc(0xc4))!.scriptPubkey)).toBe(`a914${h}87`);
  });
  it('rejects unknown versions, wrong lengths, bad checksums, over-long strings', () => {
    expect(parseBitcoinAddress(enc(0x01))).toBeNull();
    expect(parseBitcoinAddress(enc(0x00, Uint8Array.of(...hash, 0)))).toBeNull();
    expect(parseBitcoinAddress(enc(0x00, hash.subarray(1)))).toBeNull();
    const good = enc(0x00);
    const last = good[good.length - 1] === '2' ? '3' : '2';
    expect(parseBitcoinAddress(good.slice(0, -1) + last)).toBeNull();
    expect(parseBitcoinAddress('1'.repeat(51))).toBeNull();
    expect(parseBitcoinAddress('')).toBeNull();
    expect(parseBitcoinAddress(good + '0')).toBeNull(); // '0' is not base58
  });
  it('property: every 21-byte payload with a known version parses, others do not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 20, maxLength: 20 }), (v, body) => {
        const parsed = parseBitcoinAddress(enc(v, body));
        expect(parsed !== null).toBe([0x00, 0x05, 0x6f, 0xc4].includes(v));
      }),
    );
  });
});
