/** snappyjs 0.7.0 (pure-JS raw Snappy blocks; no bundled types). */
declare module 'snappyjs' {
  export function compress(input: Uint8Array): Uint8Array;
  /** Throws if the data is not valid Snappy or would decompress to more than `maxLength` bytes. */
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
  const snappy: { compress: typeof compress; uncompress: typeof uncompress };
  export default snappy;
}
