/** The part of `cloudflare:test` (@cloudflare/vitest-pool-workers) these suites use, typed without workers-types. */
declare module 'cloudflare:test' {
  /** The Worker of wrangler.toml's `main`, running in the tests' isolate. */
  export const SELF: { fetch(input: string | Request | URL, init?: RequestInit): Promise<Response> };
}
