/**
 * Headers, compact targets (rust-bitcoin and Bitcoin Core semantics), proof of work, chain work.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, fromHex, reverse } from '../../../src/protocol/bytes.js';
import { DecodeError } from '../../../src/protocol/errors.js';
import { decodeHeader, encodeHeader, headerHash, headerHashDisplay } from '../../../src/protocol/bitcoin/header.js';
import { fromDisplayHex, hashToBigIntLE, sha256d, toDisplayHex } from '../../../src/protocol/bitcoin/hash.js';
import {
  checkProofOfWork,
  checkProofOfWorkCore,
  decodeCompact,
  encodeCompact,
  targetFromCompact,
  U256_MAX,
  workFromBits,
} from '../../../src/protocol/bitcoin/pow.js';
import { describeVectors, loadVectors, vectorsAvailable } from '../../helpers/vectors.js';

const dsha = (b: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(createHash('sha256').update(b).digest()).digest());

describe('hash helpers', () => {
  it('sha256d matches node:crypto', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(bytesToHex(sha256d(b))).toBe(bytesToHex(dsha(b)));
      }),
    );
  });
  it('display hex is the reversed internal order, and back', () => {
    const internal = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(toDisplayHex(internal)).toBe(bytesToHex(reverse(internal)));
    expect(fromDisplayHex(toDisplayHex(internal))).toEqual(internal);
    expect(() => fromDisplayHex('0x' + '00'.repeat(32), '$.hash')).toThrow(DecodeError);
    expect(() => fromDisplayHex('00'.repeat(31), '$.hash')).toThrow(/\$\.hash: expected 32 bytes/);
  });
  it('hashToBigIntLE reads little-endian', () => {
    expect(hashToBigIntLE(Uint8Array.of(1, 0, 0))).toBe(1n);
    expect(hashToBigIntLE(Uint8Array.of(0, 0, 1))).toBe(65536n);
    expect(hashToBigIntLE(new Uint8Array(0))).toBe(0n);
  });
});

describeVectors('bitcoin headers: bitcoin-headers.json', () => {
  if (!vectorsAvailable) return; // describe.skip still runs this body: do not touch the files
  const v = loadVectors('bitcoin-headers.json');

  it('genesis: fields, hash, PoW, work', () => {
    const raw = fromHex(v.genesis.header_hex);
    const h = decodeHeader(raw);
    expect(h.version).toBe(v.genesis.version);
    expect(toDisplayHex(h.prevBlockhash)).toBe(v.genesis.prev);
    expect(toDisplayHex(h.merkleRoot)).toBe(v.genesis.merkle_root);
    expect(h.time).toBe(v.genesis.time);
    expect(h.bits).toBe(Number(v.genesis.bits));
    expect(h.nonce).toBe(v.genesis.nonce);
    expect(headerHashDisplay(h)).toBe(v.genesis.hash);
    expect(toDisplayHex(headerHash(raw))).toBe(toDisplayHex(dsha(raw)));
    expect(bytesToHex(encodeHeader(h))).toBe(v.genesis.header_hex);
    expect(checkProofOfWork(h, targetFromCompact(h.bits))).toBe(true);
    expect(workFromBits(h.bits)).toBe(BigInt(v.chainwork['0']));
  });

  it('retarget span: every selected header decodes to its listed fields', () => {
    for (const [height, sel] of Object.entries<any>(v.retarget_span.selected)) {
      const h = decodeHeader(fromHex(v.retarget_span.headers[Number(height) - v.retarget_span.start_height]));
      expect(h.version).toBe(sel.version);
      expect(toDisplayHex(h.prevBlockhash)).toBe(sel.prev);
      expect(toDisplayHex(h.merkleRoot)).toBe(sel.merkle_root);
      expect([h.time, h.bits, h.nonce]).toEqual([sel.time, Number(sel.bits), sel.nonce]);
      expect(headerHashDisplay(h)).toBe(sel.hash);
    }
  });

  it('every header in the file round-trips byte-exactly and meets its own target', () => {
    const all: string[] = [
      ...v.retarget_span.headers,
      ...v.retarget_table.flatMap((r: any) => [r.first_prev_header, r.last_prev_header, r.header]),
      ...v.stale_headers.map((s: any) => s.header_hex),
    ];
    expect(all.length).toBe(2017 + 3 * 413 + v.stale_headers.length);
    for (const hex of all) {
      const h = decodeHeader(fromHex(hex));
      expect(bytesToHex(encodeHeader(h))).toBe(hex);
      // both the rust-bitcoin and the Core reading of real mainnet bits agree and are met
      expect(targetFromCompact(h.bits)).toBe(decodeCompact(h.bits).target);
      expect(checkProofOfWork(h, targetFromCompact(h.bits))).toBe(true);
    }
  });

  it('chainwork: genesis work, per-block deltas across every boundary, and 2015 x work inside each period', () => {
    const cw = (h: number): bigint => BigInt(v.chainwork[String(h)]);
    let checked = 0;
    for (const row of v.retarget_table) {
      const H = row.height;
      const header = decodeHeader(fromHex(row.header));
      const last = decodeHeader(fromHex(row.last_prev_header));
      const first = decodeHeader(fromHex(row.first_prev_header));
      if (v.chainwork[String(H)] !== undefined && v.chainwork[String(H - 1)] !== undefined) {
        expect(cw(H) - cw(H - 1)).toBe(workFromBits(header.bits));
        checked++;
      }
      // inside the previous period every block has the same bits on mainnet
      if (v.chainwork[String(H - 1)] !== undefined && v.chainwork[String(H - 2016)] !== undefined) {
        expect(first.bits).toBe(last.bits);
        expect(cw(H - 1) - cw(H - 2016)).toBe(2015n * workFromBits(last.bits));
      }
    }
    expect(checked).toBe(413);
  });

  it('the stale header has valid PoW but is not the best-chain block it competes with', () => {
    for (const s of v.stale_headers) {
      const h = decodeHeader(fromHex(s.header_hex));
      expect(headerHashDisplay(h)).toBe(s.hash);
      expect(toDisplayHex(h.prevBlockhash)).toBe(s.prev);
      expect(h.bits).toBe(Number(s.bits));
      expect(
        checkProofOfWorkCore(
          headerHash(h),
          h.bits,
          0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
        ),
      ).toBe(true);
    }
  });

  it('a header with one flipped nonce bit fails its PoW', () => {
    const h = decodeHeader(fromHex(v.retarget_span.headers[5]));
    expect(checkProofOfWork({ ...h, nonce: (h.nonce ^ 1) >>> 0 }, targetFromCompact(h.bits))).toBe(false);
  });
});

describe('header codec errors', () => {
  it('wrong lengths and field ranges are DecodeErrors', () => {
    expect(() => decodeHeader(new Uint8Array(79))).toThrow(/header: a block header is 80 bytes, got 79/);
    expect(() => headerHash(new Uint8Array(81))).toThrow(DecodeError);
    const h = decodeHeader(new Uint8Array(80));
    expect(() => encodeHeader({ ...h, time: 2 ** 32 })).toThrow(/header\.time/);
    expect(() => encodeHeader({ ...h, merkleRoot: new Uint8Array(31) })).toThrow(/header\.merkleRoot/);
  });
});

// ---------------------------------------------------------------- compact targets

describe('compact targets', () => {
  it('rust-bitcoin Target::from_compact (alys-protocol.md 4.4)', () => {
    // 0x1d00ffff: mantissa 0xffff, exponent 0x1d -> 0xffff << 8*(0x1d-3)
    expect(targetFromCompact(0x1d00ffff)).toBe(0xffffn << 208n);
    // exponent <= 3: the mantissa is shifted right
    expect(targetFromCompact(0x01123456)).toBe(0x12n);
    expect(targetFromCompact(0x02123456)).toBe(0x1234n);
    expect(targetFromCompact(0x03123456)).toBe(0x123456n);
    expect(targetFromCompact(0x00123456)).toBe(0n);
    // mantissa > 0x7fffff -> target 0
    expect(targetFromCompact(0x05800001)).toBe(0n);
    expect(targetFromCompact(0x04ffffff)).toBe(0n);
    // with exponent <= 3 the sign bit is shifted away first: 0x01800000 -> 0x80
    expect(targetFromCompact(0x01800000)).toBe(0x80n);
    // exponent 34: shift 248; exponent 35: shift 256 wraps to 0 (U256 wrapping_shl masks to 8 bits)
    expect(targetFromCompact(0x22000001)).toBe(1n << 248n);
    expect(targetFromCompact(0x23000001)).toBe(1n);
    expect(targetFromCompact(0x24000001)).toBe(1n << 8n);
    // bits pushed beyond 2^256 are dropped
    expect(targetFromCompact(0x2200ffff)).toBe(0xffn << 248n);
    expect(targetFromCompact(0x207fffff)).toBe(0x7fffffn << 232n);
  });

  it('Bitcoin Core SetCompact with negative/overflow flags', () => {
    expect(decodeCompact(0x1d00ffff)).toEqual({ target: 0xffffn << 208n, negative: false, overflow: false });
    expect(decodeCompact(0x05800001)).toEqual({ target: 1n << 16n, negative: true, overflow: false });
    // zero word never counts as negative or overflow
    expect(decodeCompact(0x04800000)).toEqual({ target: 0n, negative: false, overflow: false });
    expect(decodeCompact(0x01800000)).toEqual({ target: 0n, negative: false, overflow: false });
    expect(decodeCompact(0x01fedcba)).toEqual({ target: 0x7en, negative: true, overflow: false });
    expect(decodeCompact(0x22000001).overflow).toBe(false);
    expect(decodeCompact(0x23000001).overflow).toBe(true);
    expect(decodeCompact(0x22000100).overflow).toBe(true);
    expect(decodeCompact(0x21010000).overflow).toBe(true);
    expect(decodeCompact(0x2100ffff).overflow).toBe(false);
  });

  it('Core GetCompact (truncating, sign bit) = Alys compact_lossy', () => {
    expect(encodeCompact(0xffffn << 208n)).toBe(0x1d00ffff);
    expect(encodeCompact(0n)).toBe(0);
    expect(encodeCompact(0x12n)).toBe(0x01120000);
    expect(encodeCompact(0x80n)).toBe(0x02008000);
    expect(encodeCompact(0x123456n)).toBe(0x03123456);
    expect(encodeCompact(0x12345678n)).toBe(0x04123456); // truncates 0x78
    expect(encodeCompact(U256_MAX)).toBe(0x2100ffff);
    expect(encodeCompact(0x12n, true)).toBe(0x01920000);
    expect(encodeCompact(0n, true)).toBe(0); // no sign on zero
    expect(() => encodeCompact(-1n)).toThrow(RangeError);
    expect(() => encodeCompact(1n << 256n)).toThrow(RangeError);
  });

  it('property: encode truncates only below the top mantissa bytes, and decode(encode) is stable', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: U256_MAX }), (t) => {
        const c = encodeCompact(t);
        const back = decodeCompact(c);
        expect(back.negative || back.overflow).toBe(false);
        expect(back.target <= t).toBe(true);
        const size = c >>> 24;
        const unit = size > 3 ? 1n << BigInt(8 * (size - 3)) : 1n;
        expect(t - back.target < unit).toBe(true);
        expect(encodeCompact(back.target)).toBe(c);
        // the rust-bitcoin reading agrees on every canonical encoding
        expect(targetFromCompact(c)).toBe(back.target);
      }),
      { numRuns: 500 },
    );
  });

  it('property: round trip from canonical bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 32 }), fc.integer({ min: 0x8000, max: 0x7fffff }), (size, mantissa) => {
        const bits = ((size << 24) | mantissa) >>> 0;
        expect(encodeCompact(decodeCompact(bits).target)).toBe(bits);
      }),
    );
  });

  it('proof of work: the boundary is inclusive, zero target fails, Core also rejects bits above the limit', () => {
    const hash = new Uint8Array(32);
    hash[0] = 5;
    expect(checkProofOfWork(hash, 5n)).toBe(true);
    expect(checkProofOfWork(hash, 4n)).toBe(false);
    expect(checkProofOfWorkCore(hash, 0x01050000, U256_MAX)).toBe(true);
    expect(checkProofOfWorkCore(hash, 0x01050000, 4n)).toBe(false); // target above pow limit
    expect(checkProofOfWorkCore(hash, 0x05800001, U256_MAX)).toBe(false); // negative
    expect(checkProofOfWorkCore(hash, 0x23000001, U256_MAX)).toBe(false); // overflow
    expect(checkProofOfWorkCore(hash, 0, U256_MAX)).toBe(false); // zero
  });

  it('work: floor(2^256 / (target + 1)), zero for invalid bits', () => {
    expect(workFromBits(0x1d00ffff)).toBe((1n << 256n) / ((0xffffn << 208n) + 1n));
    expect(workFromBits(0x05800001)).toBe(0n);
    expect(workFromBits(0)).toBe(0n);
  });
});
