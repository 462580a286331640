/**
 * Alys's gossipsub message id (alys-protocol.md 7.2): the decimal string of Rust's `DefaultHasher`
 * over the message data, i.e. SipHash-1-3 with a zero key over `u64_le(len) || data` (how a
 * `Vec<u8>` hashes itself). Nodes agree on ids for IHAVE/IWANT and de-duplication only if they compute
 * them the same way. [U] Rust documents DefaultHasher's algorithm as unspecified; the known answers
 * in the tests come from rustc 1.95's DefaultHasher, and Alys's pinned toolchain is assumed to match.
 *
 * SipHash on 32-bit halves (no BigInt in the loop: gossip messages are up to 64 KiB).
 */

/** A 64-bit word as [hi, lo] (unsigned 32-bit halves). */
type U64 = [number, number];

function add(a: U64, b: U64): void {
  const lo = (a[1] + b[1]) >>> 0;
  a[0] = (a[0] + b[0] + (lo < a[1] ? 1 : 0)) >>> 0;
  a[1] = lo;
}

function rotl(a: U64, n: number): void {
  let [hi, lo] = a;
  if (n >= 32) {
    [hi, lo] = [lo, hi];
    n -= 32;
  }
  if (n > 0) {
    const h = ((hi << n) | (lo >>> (32 - n))) >>> 0;
    lo = ((lo << n) | (hi >>> (32 - n))) >>> 0;
    hi = h;
  }
  a[0] = hi;
  a[1] = lo;
}

function xor(a: U64, b: U64): void {
  a[0] = (a[0] ^ b[0]) >>> 0;
  a[1] = (a[1] ^ b[1]) >>> 0;
}

function round(v0: U64, v1: U64, v2: U64, v3: U64): void {
  add(v0, v1);
  rotl(v1, 13);
  xor(v1, v0);
  rotl(v0, 32);
  add(v2, v3);
  rotl(v3, 16);
  xor(v3, v2);
  add(v0, v3);
  rotl(v3, 21);
  xor(v3, v0);
  add(v2, v1);
  rotl(v1, 17);
  xor(v1, v2);
  rotl(v2, 32);
}

function word(bytes: Uint8Array, at: number): U64 {
  const lo = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
  const hi = (bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16) | (bytes[at + 7]! << 24)) >>> 0;
  return [hi, lo];
}

/** SipHash-c-d of `message` under a 16-byte key, as an unsigned 64-bit bigint. */
export function siphash(key: Uint8Array, message: Uint8Array, c = 2, d = 4): bigint {
  if (key.length !== 16) throw new RangeError(`SipHash takes a 16-byte key, got ${key.length}`);
  const k0 = word(key, 0);
  const k1 = word(key, 8);
  const v0: U64 = [(k0[0] ^ 0x736f6d65) >>> 0, (k0[1] ^ 0x70736575) >>> 0];
  const v1: U64 = [(k1[0] ^ 0x646f7261) >>> 0, (k1[1] ^ 0x6e646f6d) >>> 0];
  const v2: U64 = [(k0[0] ^ 0x6c796765) >>> 0, (k0[1] ^ 0x6e657261) >>> 0];
  const v3: U64 = [(k1[0] ^ 0x74656462) >>> 0, (k1[1] ^ 0x79746573) >>> 0];
  const whole = message.length - (message.length % 8);
  const compress = (m: U64) => {
    xor(v3, m);
    for (let i = 0; i < c; i++) round(v0, v1, v2, v3);
    xor(v0, m);
  };
  for (let at = 0; at < whole; at += 8) compress(word(message, at));
  const last = new Uint8Array(8);
  last.set(message.subarray(whole));
  last[7] = message.length & 0xff;
  compress(word(last, 0));
  v2[1] = (v2[1] ^ 0xff) >>> 0;
  for (let i = 0; i < d; i++) round(v0, v1, v2, v3);
  const hi = (v0[0] ^ v1[0] ^ v2[0] ^ v3[0]) >>> 0;
  const lo = (v0[1] ^ v1[1] ^ v2[1] ^ v3[1]) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

const ZERO_KEY = new Uint8Array(16);

/** Alys's message id of gossip `data`: `DefaultHasher` (SipHash-1-3, zero key) over the Vec<u8>, in decimal. */
export function gossipMessageId(data: Uint8Array): string {
  const framed = new Uint8Array(8 + data.length);
  new DataView(framed.buffer).setBigUint64(0, BigInt(data.length), true);
  framed.set(data, 8);
  return siphash(ZERO_KEY, framed, 1, 3).toString(10);
}
