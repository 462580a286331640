/**
 * Small byte helpers for the execution code.
 *
 * `bytesEqual` is local because `equalBytes` re-exported by ../bytes.ts does not exist in
 * @noble/hashes 2.4.0 (it is undefined at run time); reported to the maintainer of bytes.ts.
 * Not constant-time: everything compared here is public data (hashes, roots).
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const NIBBLE = /* @__PURE__ */ (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

/**
 * `0x`-prefixed hex (either case) to bytes in one pass; null if malformed (no prefix, odd length, a
 * non-hex digit). Used for raw transactions on the block-hash hot path, where a regex test plus a
 * lower-case copy of a large string costs more than the decoding itself.
 */
export function decodePrefixedHex(hex: string): Uint8Array | null {
  const n = hex.length;
  if (n < 2 || hex.charCodeAt(0) !== 48 || (hex.charCodeAt(1) | 32) !== 120 || (n & 1) !== 0) return null;
  const out = new Uint8Array((n - 2) >> 1);
  for (let i = 2, o = 0; i < n; i += 2, o++) {
    const a = hex.charCodeAt(i);
    const b = hex.charCodeAt(i + 1);
    const hi = a < 128 ? NIBBLE[a]! : -1;
    const lo = b < 128 ? NIBBLE[b]! : -1;
    if ((hi | lo) < 0) return null;
    out[o] = (hi << 4) | lo;
  }
  return out;
}
